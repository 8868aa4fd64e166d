//! The bounded fuzz run of `make test`, on stable Rust: the committed corpus replayed through
//! every target, each target run for a fixed number of generated inputs, and one named test per
//! crash a fuzz run found.

mod bounded;
mod corpus;
mod messages;
mod regressions;
