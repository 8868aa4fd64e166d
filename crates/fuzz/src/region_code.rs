//! `RegionCode` parsing over arbitrary text: an error or a code whose hierarchy is consistent.

use minzheng_types::RegionCode;

/// Parses `data` (as text, invalid UTF-8 replaced) as a 12-digit code and as a 6-digit GB/T 2260
/// code. An accepted code prints as it was written, and its parent (when it has one) is a
/// shallower division that contains it, whose digits are the code's with its lowest segment
/// zeroed: a prefix of it followed by zeros.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(code) = RegionCode::parse(&text) {
        assert_eq!(code.to_string(), text, "a parsed code prints as written");
        check_hierarchy(code);
    }
    if let Ok(code) = RegionCode::from_gb2260(&text) {
        assert_eq!(code.gb2260(), text, "a GB/T 2260 code prints as written");
        check_hierarchy(code);
    }
}

fn check_hierarchy(code: RegionCode) {
    let Some(parent) = code.parent() else {
        assert_eq!(code, code.province(), "only a province has no parent");
        return;
    };
    assert!(parent.level() < code.level(), "a parent is shallower");
    assert!(parent.contains(code), "a parent contains its child");
    assert!(
        !code.contains(parent),
        "a child does not contain its parent"
    );
    let (child, parent) = (code.to_string(), parent.to_string());
    let kept = parent.trim_end_matches('0');
    assert!(
        child.starts_with(kept) && parent[kept.len()..].bytes().all(|b| b == b'0'),
        "the parent {parent} is a prefix of {child} followed by zeros"
    );
}
