//! One named test per crash found, with the input inline; the same input is in the corpus as
//! `fuzz/corpus/<target>/crash-<name>`, which `corpus` checks.

use std::{fs, path::Path};

use minzheng_fuzz::envelope;

/// The corpus file `crash-<name>` of `target` holds exactly `input`.
fn assert_kept_in_corpus(target: &str, name: &str, input: &[u8]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
        .join(format!("crash-{name}"));
    assert_eq!(
        fs::read(&path).ok().as_deref(),
        Some(input),
        "{} holds the crashing input",
        path.display()
    );
}

/// The headers of a published division event, with `time` as its `ce-time`.
fn published_at(time: &str) -> Vec<u8> {
    envelope::input(
        &[
            ("Nats-Msg-Id", "01906a4e-2c1b-7cc3-9d2e-5f6a7b8c9d0e"),
            ("ce-specversion", "1.0"),
            ("ce-id", "01906a4e-2c1b-7cc3-9d2e-5f6a7b8c9d0e"),
            ("ce-source", "/minzheng/placenames"),
            ("ce-type", "minzheng.placenames.v1.DivisionRenamed"),
            ("ce-time", time),
            ("ce-subject", "division-210502000000"),
            ("ce-schemaversion", "1"),
            ("ce-streamversion", "3"),
            ("ce-position", "42"),
        ],
        b"\x0a\x0e\x0a\x0c210502000000",
    )
}

/// RFC 3339 allows an offset that moves the UTC date past year 9999: `envelope::decode` took
/// the message, and `envelope::encode` then panicked in `OffsetDateTime::to_offset` ("local
/// datetime out of valid range") when publishing it again.
#[test]
fn envelope_time_beyond_the_utc_years() {
    let input = published_at("9999-12-31T23:30:00-01:00");
    envelope::run(&input);
    assert_kept_in_corpus("envelope", "time-beyond-utc-years", &input);
}

/// The same at the other end: a UTC date before year 0 decoded, but encoded without its time,
/// so the event no longer decoded.
#[test]
fn envelope_time_before_the_utc_years() {
    let input = published_at("0000-01-01T00:30:00+01:00");
    envelope::run(&input);
    assert_kept_in_corpus("envelope", "time-before-utc-years", &input);
}
