//! `CitizenId::parse` over arbitrary text: an error or a number that survives its own checks.

use minzheng_types::CitizenId;

/// Parses `data` (as text, invalid UTF-8 replaced) as a citizen identity number. On success the
/// number round-trips through its exposed form and rebuilds from its parts (region prefix,
/// birth date, sequence), so the check character it was accepted with is the computed one.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(id) = CitizenId::parse(&text) else {
        return;
    };
    assert_eq!(
        CitizenId::parse(id.expose()).as_ref(),
        Ok(&id),
        "a parsed number parses again to itself"
    );
    assert!(
        text.eq_ignore_ascii_case(id.expose()),
        "only the check character's case is normalised"
    );
    let sequence: u16 = id.expose()[14..17]
        .parse()
        .expect("characters 15 to 17 of a parsed number are digits");
    assert_eq!(
        CitizenId::from_parts(id.region_prefix(), id.birth_date(), sequence).as_ref(),
        Ok(&id),
        "a parsed number rebuilds from its parts"
    );
}
