//! Identifiers given in commands and used as stream keys: the adjustment id and the place-name
//! id, chosen by whoever files the application (for example its filing number), the boundary id
//! (for example the two county codes, `210502-210503`) and the sign id (the sign's inventory
//! number). Their form is [`minzheng_types::id`]'s.
//!
//! They are stream keys although the service does not issue them: they are the numbers of the
//! bureau's own files and inventories, which the clerk copies, not free text. A request whose
//! id contains a citizen id number is refused at the edge all the same (`grpc`), since a key
//! shows in CloudEvents headers, logs and traces.

use minzheng_types::{IdError, contains_citizen_id, id_type};

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

minzheng_types::stream_key!(AdjustmentId, PlaceNameId, BoundaryId, SignId);

/// Why an id given in a command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GivenIdError {
    #[error(transparent)]
    Form(#[from] IdError),
    #[error("must not contain a citizen id number (ids show in event headers and logs)")]
    CitizenId,
}

/// The parser, for an id given in a request, that refuses one containing a citizen id number
/// before `parse` checks its form. Stored ids are read with `parse` alone: stored history.
pub fn given<T>(
    parse: fn(&str) -> Result<T, IdError>,
) -> impl FnOnce(&str) -> Result<T, GivenIdError> {
    move |input| {
        if contains_citizen_id(input) {
            return Err(GivenIdError::CitizenId);
        }
        Ok(parse(input)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_id_holding_a_citizen_id_number_is_refused() {
        assert_eq!(
            given(AdjustmentId::parse)("HR-11010519491231002X"),
            Err(GivenIdError::CitizenId)
        );
        assert_eq!(
            given(SignId::parse)("BX DM"),
            Err(GivenIdError::Form(IdError::Character { position: 3 }))
        );
        assert!(given(PlaceNameId::parse)("PS-road-1").is_ok());
    }
}
