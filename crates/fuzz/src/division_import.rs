//! The place-names division import's parser over arbitrary files: what an operator uploads
//! through `minzheng placenames import FILE`.

use std::collections::HashSet;

use minzheng_placenames::{directory::Directory, import};
use time::macros::date;

/// Parses `data` as a division CSV against an empty register. Accepted rows have distinct
/// codes, come parents first, and each names a parent that encloses it and is in the file; the
/// plan against the empty register records every row.
pub fn run(data: &[u8]) {
    let directory = Directory::default();
    let Ok(rows) = import::parse(data, &directory) else {
        return;
    };
    let codes: HashSet<_> = rows.iter().map(|row| row.code).collect();
    assert_eq!(codes.len(), rows.len(), "accepted codes are distinct");
    assert!(
        rows.is_sorted_by_key(|row| row.level()),
        "rows come parents first"
    );
    for row in &rows {
        if let Some(parent) = row.parent {
            assert!(
                parent.contains(row.code) && parent != row.code,
                "line {}: the parent encloses the code",
                row.line
            );
            assert!(
                codes.contains(&parent),
                "line {}: the parent is in the file",
                row.line
            );
        }
    }
    let count = rows.len();
    let plan = import::plan(rows, &directory, date!(2025 - 01 - 01));
    assert_eq!(
        (plan.new.len(), plan.unchanged, plan.conflicts.len()),
        (count, 0, 0),
        "an empty register records every accepted row"
    );
}
