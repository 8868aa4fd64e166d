//! Identifiers chosen by people or issued by services and used as stream keys: 1–64 ASCII
//! letters, digits, `-` or `_`, so that they are valid stream keys and safe in NATS subjects.
//! [`id_type!`](crate::id_type) declares a newtype for one kind of id. Such an id is a stream key
//! only once declared one with [`stream_key!`](crate::stream_key): an id a person types (an
//! archive reference) has the same characters as one a service issues, but not the same
//! privacy.

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
pub fn check(input: &str) -> Result<(), IdError> {
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

#[macro_export]
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses an id; surrounding whitespace is not trimmed.
            pub fn parse(input: &str) -> Result<Self, $crate::id::IdError> {
                $crate::id::check(input).map(|()| Self(input.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::id_type!(
        /// An id for the tests.
        TestId
    );

    #[test]
    fn accepts_stream_safe_ids_and_refuses_others() {
        assert_eq!(
            TestId::parse("BX-2025_007").map(|id| id.to_string()),
            Ok("BX-2025_007".to_owned())
        );
        assert_eq!(TestId::parse(""), Err(IdError::Empty));
        assert_eq!(
            TestId::parse("a.b"),
            Err(IdError::Character { position: 2 })
        );
        assert_eq!(
            TestId::parse("地名1"),
            Err(IdError::Character { position: 1 })
        );
        assert_eq!(
            TestId::parse(&"a".repeat(ID_MAX_LEN + 1)),
            Err(IdError::TooLong)
        );
        assert!(TestId::parse(&"a".repeat(ID_MAX_LEN)).is_ok());
        assert_eq!(
            TestId::parse("BX DM 1"),
            Err(IdError::Character { position: 3 })
        );
        assert_eq!(
            format!("{:?}", TestId::parse("x-1").expect("valid")),
            "TestId(x-1)"
        );
        assert_eq!(TestId::parse("x-1").map(|id| id.as_str().len()), Ok(3));
    }
}
