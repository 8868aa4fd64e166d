//! The event codec: each domain event to its message in `proto/minzheng/assistance/v1/` and
//! back; the only module that knows protobuf. Decoding checks shape only (values parse into their
//! types), never the rules: a stored event is history, so a changed law never stops the service
//! from reading what it stored.

pub mod calendar;
pub mod fund;
