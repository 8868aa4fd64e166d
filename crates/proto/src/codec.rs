//! The server-side protobuf codec: tonic's prost codec, except that a request that cannot be
//! decoded is INVALID_ARGUMENT rather than INTERNAL.
//!
//! tonic maps every protobuf decode error to INTERNAL, which tells the client the server broke;
//! but bytes that are not a valid message of the expected type (invalid UTF-8 in a `string`
//! field, a truncated field, a wrong wire type) are the client's fault and must not page anyone.
//! The status message keeps prost's description, which names the message and field
//! (`CheckValuesRequest.remark: invalid string value: data is not UTF-8 encoded`). Encoding is
//! tonic's own.
//!
//! Generated servers use this codec (`build.rs` sets it as their `codec_path`); generated clients
//! keep tonic's codec, because a response that cannot be decoded is the server's fault. This
//! module knows nothing about any particular message.

use std::marker::PhantomData;

use prost::Message;
use tonic::{
    Status,
    codec::{BufferSettings, Codec, DecodeBuf, Decoder},
};

/// A [`Codec`] for prost messages that encodes like [`tonic_prost::ProstCodec`] and reports
/// undecodable messages as INVALID_ARGUMENT. `T` is the message encoded (a server's response),
/// `U` the message decoded (a server's request).
#[derive(Debug, Clone)]
pub struct ProstCodec<T, U> {
    _messages: PhantomData<(T, U)>,
}

impl<T, U> Default for ProstCodec<T, U> {
    fn default() -> Self {
        Self {
            _messages: PhantomData,
        }
    }
}

impl<T, U> Codec for ProstCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = tonic_prost::ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        tonic_prost::ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstDecoder {
            _message: PhantomData,
        }
    }
}

/// Decodes a `U`, reporting malformed bytes as INVALID_ARGUMENT.
#[derive(Debug, Clone)]
pub struct ProstDecoder<U> {
    _message: PhantomData<U>,
}

impl<U: Message + Default> Decoder for ProstDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf).map(Some).map_err(invalid_message)
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

/// The status for a message that could not be decoded. prost's text names the message and field
/// but never includes field values, so it is safe to return and to log.
pub fn invalid_message(error: prost::DecodeError) -> Status {
    Status::invalid_argument(format!("malformed request message: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::v1::CheckValuesRequest;

    #[test]
    fn invalid_utf8_in_a_string_field_is_invalid_argument_naming_the_field() {
        // Field 4 (`remark`), wire type 2 (length-delimited): tag byte (4 << 3) | 2 = 0x22, then
        // a length of 2 and two bytes that are not UTF-8.
        let bytes = [0x22, 0x02, 0xff, 0xfe];
        let error = CheckValuesRequest::decode(&bytes[..]).expect_err("not UTF-8");
        let status = invalid_message(error);
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(
            status.message().contains("CheckValuesRequest.remark"),
            "{}",
            status.message()
        );
    }
}
