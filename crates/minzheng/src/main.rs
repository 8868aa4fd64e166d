//! The minzheng command (placeholder, being written).
fn main() {}
