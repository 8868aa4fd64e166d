//! The event codec: each domain event to its message in `proto/minzheng/assistance/v1/` and
//! back; the only module that knows protobuf.

pub mod cycle;
