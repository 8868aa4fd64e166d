//! Generated protobuf code (placeholder, being written).
