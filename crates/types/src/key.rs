//! Stream keys: the values that may name an event stream.
//!
//! A stream id (`<category>-<key>`) travels wherever its events do: the CloudEvents `ce-subject`
//! header on the bus, log lines, span fields. Its key must therefore never carry personal data
//! or free text somebody typed — a name, a note, a clerk's reference — since any of those may
//! hold a citizen id number. [`StreamKey`] is implemented only by values that cannot: ids a
//! service issues, region codes, pseudonyms (keyed hashes). The event-sourcing repository takes
//! nothing else as a key, so a string from a request cannot become one by accident: making a
//! type a key is a visible decision, taken (and reviewed) where its `impl` is.

use crate::RegionCode;

/// A value that may key a stream; see the module docs for what may implement it.
pub trait StreamKey {
    /// The key as stored: 1–64 printable ASCII characters without `.`, `*` or `>`.
    fn stream_key(&self) -> String;
}

impl<T: StreamKey + ?Sized> StreamKey for &T {
    fn stream_key(&self) -> String {
        (**self).stream_key()
    }
}

/// A division's code keys its streams: public, issued by the statistics bureau.
impl StreamKey for RegionCode {
    fn stream_key(&self) -> String {
        self.to_string()
    }
}

/// Makes id types (declared with [`id_type!`](crate::id_type), or any type with `as_str`)
/// stream keys. Only for ids a service issues or derives from issued ids and pseudonyms, never
/// for text a person chooses freely.
#[macro_export]
macro_rules! stream_key {
    ($($name:ty),+ $(,)?) => {
        $(
            impl $crate::key::StreamKey for $name {
                fn stream_key(&self) -> String {
                    self.as_str().to_owned()
                }
            }
        )+
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::id_type!(
        /// An issued id for the test.
        IssuedId
    );
    crate::stream_key!(IssuedId);

    #[test]
    fn codes_and_issued_ids_key_streams_as_written() {
        let code = RegionCode::parse("210502000000").expect("valid");
        assert_eq!(code.stream_key(), "210502000000");
        let id = IssuedId::parse("A-1").expect("valid");
        assert_eq!(id.stream_key(), "A-1");
    }
}
