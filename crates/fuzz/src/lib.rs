//! Fuzz targets: every place where bytes from outside become a value, written once as plain
//! functions over `&[u8]` so that two runners share them.
//!
//! - `make test` (stable Rust) replays the committed corpus (`fuzz/corpus/<target>/`) through
//!   every target and runs each for a fixed number of proptest cases (`tests/`), so a crash once
//!   found stays fixed and the bounded run costs seconds.
//! - `make fuzz` (nightly, cargo-fuzz) runs the same functions under libFuzzer for a while per
//!   target (`fuzz/fuzz_targets/`, one line each) and grows the corpus.
//!
//! A target never panics on any input: bad input is an error value. It panics only when a
//! property it checks on what was accepted fails (a parsed value that does not round-trip, a
//! token accepted that should not be), which is a bug too. The targets are:
//!
//! - [`citizen_id`] and [`region_code`]: the value types' parsers;
//! - [`stored_event`]: every event codec and contract of every service, decoding a payload
//!   stored under any event type;
//! - [`envelope`]: the bus's CloudEvents envelope, as a consumer reads a NATS message;
//! - [`division_import`]: the place-names CSV import's parser;
//! - [`bearer_token`]: token verification, from the `authorization` metadata on.

pub mod bearer_token;
pub mod citizen_id;
pub mod division_import;
pub mod envelope;
pub mod region_code;
pub mod seeds;
pub mod stored_event;

/// A fuzz target: its name (the cargo-fuzz target and the corpus directory) and its function.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, by name.
pub const TARGETS: &[Target] = &[
    Target {
        name: "citizen_id",
        run: citizen_id::run,
    },
    Target {
        name: "region_code",
        run: region_code::run,
    },
    Target {
        name: "stored_event",
        run: stored_event::run,
    },
    Target {
        name: "envelope",
        run: envelope::run,
    },
    Target {
        name: "division_import",
        run: division_import::run,
    },
    Target {
        name: "bearer_token",
        run: bearer_token::run,
    },
];
