//! Identifiers given in commands and used as stream keys: the adjustment id and the place-name
//! id, chosen by whoever files the application (for example its filing number), the boundary id
//! (for example the two county codes, `210502-210503`) and the sign id (the sign's inventory
//! number). Their form is [`minzheng_types::id`]'s.

use minzheng_types::id_type;

id_type!(
    /// An adjustment's id and stream key.
    AdjustmentId
);

id_type!(
    /// A place name's id and stream key.
    PlaceNameId
);

id_type!(
    /// A boundary line's id and stream key, e.g. `210502-210503`.
    BoundaryId
);

id_type!(
    /// A place-name sign's id and stream key.
    SignId
);
