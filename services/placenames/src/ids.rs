//! Identifiers given in commands and used as stream keys: the adjustment id and the place-name
//! id, chosen by whoever files the application (for example its filing number), the boundary id
//! (for example the two county codes, `210502-210503`) and the sign id (the sign's inventory
//! number).

use std::fmt;

/// Longest accepted id, in characters.
pub const ID_MAX_LEN: usize = 64;

/// Why a text is not an id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {ID_MAX_LEN} characters long")]
    TooLong,
    #[error("character {position} must be an ASCII letter, a digit, '-' or '_'")]
    Character {
        /// 1-based position of the first offending character.
        position: usize,
    },
}

/// Checks that `input` is 1–64 ASCII letters, digits, `-` or `_`: a valid stream key that is
/// also safe in a NATS subject.
fn check(input: &str) -> Result<(), IdError> {
    if input.is_empty() {
        return Err(IdError::Empty);
    }
    if let Some(position) = input
        .chars()
        .position(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        return Err(IdError::Character {
            position: position + 1,
        });
    }
    if input.len() > ID_MAX_LEN {
        return Err(IdError::TooLong);
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses an id; surrounding whitespace is not trimmed.
            pub fn parse(input: &str) -> Result<Self, IdError> {
                check(input).map(|()| Self(input.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_stream_safe_ids_and_refuses_others() {
        assert_eq!(
            AdjustmentId::parse("BX-2025_007").map(|id| id.to_string()),
            Ok("BX-2025_007".to_owned())
        );
        assert_eq!(PlaceNameId::parse(""), Err(IdError::Empty));
        assert_eq!(
            AdjustmentId::parse("a.b"),
            Err(IdError::Character { position: 2 })
        );
        assert_eq!(
            PlaceNameId::parse("地名1"),
            Err(IdError::Character { position: 1 })
        );
        assert_eq!(
            AdjustmentId::parse(&"a".repeat(ID_MAX_LEN + 1)),
            Err(IdError::TooLong)
        );
        assert!(AdjustmentId::parse(&"a".repeat(ID_MAX_LEN)).is_ok());
        assert_eq!(
            BoundaryId::parse("210502-210503").map(|id| id.to_string()),
            Ok("210502-210503".to_owned())
        );
        assert_eq!(
            SignId::parse("BX DM 1"),
            Err(IdError::Character { position: 3 })
        );
    }
}
