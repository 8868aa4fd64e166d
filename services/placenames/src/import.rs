//! The division import (区划代码导入): a CSV file of statistical division codes
//! (`code,name,level,parent_code`, the shape of `data/benxi-divisions.csv`) checked as a whole
//! before anything is recorded.
//!
//! [`parse`] checks each row on its own and the file as a whole (duplicate codes, parents that
//! are neither in the file nor already recorded, sibling names), reporting every problem as a
//! field violation `csv.line[N].<column>` (N counts the header as line 1). [`plan`] then compares
//! the rows with what is recorded: new divisions, rows that match, and rows that contradict a
//! recorded division (another name, a superseded code), which no import may change — only an
//! adjustment does.
//!
//! Nothing here assumes one city: any province's or city's file of the same shape loads, in any
//! row order (parents are recorded first).

use std::collections::{HashMap, HashSet};

use minzheng_types::{BoundedText, RegionCode, RegionLevel, Violations};
use time::Date;

use crate::{NAME_MAX_CHARS, directory::Directory, division};

/// The header the file must start with.
pub const HEADER: [&str; 4] = ["code", "name", "level", "parent_code"];
/// The largest file accepted, in bytes (a whole province is about 1 MiB).
pub const MAX_BYTES: usize = 16 << 20;
/// Violations reported at most; a wrong file would otherwise produce one per row.
const MAX_VIOLATIONS: usize = 100;

/// One data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Line number in the file (the header is line 1).
    pub line: usize,
    pub code: RegionCode,
    pub name: BoundedText,
    pub parent: Option<RegionCode>,
}

impl Row {
    pub fn level(&self) -> RegionLevel {
        self.code.level()
    }
}

/// Parses and checks a whole file. Rows come back sorted from the top level down, so that
/// parents are recorded before their children.
pub fn parse(csv: &[u8], directory: &Directory) -> Result<Vec<Row>, Violations> {
    let mut violations = Violations::new();
    if csv.len() > MAX_BYTES {
        violations.push("csv", format!("must be at most {MAX_BYTES} bytes"));
        return Err(violations);
    }
    let text = match std::str::from_utf8(csv) {
        Ok(text) => text.strip_prefix('\u{feff}').unwrap_or(text),
        Err(e) => {
            violations.push(
                "csv",
                format!("must be UTF-8 (invalid byte at offset {})", e.valid_up_to()),
            );
            return Err(violations);
        }
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, header)) if split(header).iter().map(|h| h.trim()).eq(HEADER) => {}
        _ => {
            violations.push("csv.header", format!("must be `{}`", HEADER.join(",")));
            return Err(violations);
        }
    }

    let mut rows = Vec::new();
    for (line, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        if let Some(row) = parse_row(line, text, &mut violations) {
            rows.push(row);
        }
        if violations.len() >= MAX_VIOLATIONS {
            return Err(violations);
        }
    }
    if rows.is_empty() && violations.is_empty() {
        violations.push("csv", "has no data rows");
    }
    check_file(&rows, directory, &mut violations);
    if violations.is_empty() {
        rows.sort_by_key(|r| (r.level(), r.code));
        Ok(rows)
    } else {
        Err(violations)
    }
}

fn field(line: usize, column: &str) -> String {
    format!("csv.line[{line}].{column}")
}

fn parse_row(line: usize, text: &str, violations: &mut Violations) -> Option<Row> {
    let cells = split(text);
    if cells.len() != HEADER.len() {
        violations.push(
            format!("csv.line[{line}]"),
            format!("must have {} columns, has {}", HEADER.len(), cells.len()),
        );
        return None;
    }
    let code = violations.check(&field(line, "code"), RegionCode::parse(cells[0].trim()));
    let name = violations.check(
        &field(line, "name"),
        BoundedText::parse(cells[1].trim(), NAME_MAX_CHARS),
    );
    let level = match cells[2].trim() {
        "province" => Some(RegionLevel::Province),
        "city" => Some(RegionLevel::City),
        "county" => Some(RegionLevel::County),
        "township" => Some(RegionLevel::Township),
        "village" => Some(RegionLevel::Village),
        _ => {
            violations.push(
                field(line, "level"),
                "must be one of province, city, county, township, village",
            );
            None
        }
    };
    let parent_text = cells[3].trim();
    let parent = if parent_text.is_empty() {
        Some(None)
    } else {
        violations
            .check(&field(line, "parent_code"), RegionCode::parse(parent_text))
            .map(Some)
    };
    let (code, name, level, parent) = (code?, name?, level?, parent?);
    if level != code.level() {
        violations.push(
            field(line, "level"),
            format!("is {level}, but code {code} is at {} level", code.level()),
        );
        return None;
    }
    if !division::encloses(parent, code) {
        violations.push(
            field(line, "parent_code"),
            if code.level() == RegionLevel::Province {
                "must be empty for a province".to_owned()
            } else {
                format!(
                    "must be a division above {code} whose code is a prefix of it (usually {})",
                    code.parent().map_or_else(String::new, |p| p.to_string())
                )
            },
        );
        return None;
    }
    Some(Row {
        line,
        code,
        name,
        parent,
    })
}

/// The rules that need the whole file: unique codes, known parents, unique sibling names.
fn check_file(rows: &[Row], directory: &Directory, violations: &mut Violations) {
    let mut lines_by_code: HashMap<RegionCode, usize> = HashMap::new();
    for row in rows {
        if let Some(first) = lines_by_code.insert(row.code, row.line) {
            violations.push(
                field(row.line, "code"),
                format!("{} appears again (first on line {first})", row.code),
            );
            lines_by_code.insert(row.code, first);
        }
    }
    let mut sibling_names: HashSet<(Option<RegionCode>, &str)> = HashSet::new();
    for row in rows {
        if violations.len() >= MAX_VIOLATIONS {
            return;
        }
        if lines_by_code.get(&row.code) != Some(&row.line) {
            // A repeated code, reported above.
            continue;
        }
        if let Some(parent) = row.parent
            && !lines_by_code.contains_key(&parent)
            && directory.division(parent).is_none()
        {
            violations.push(
                field(row.line, "parent_code"),
                format!("{parent} is neither in the file nor recorded"),
            );
        }
        if !sibling_names.insert((row.parent, row.name.as_str())) {
            violations.push(
                field(row.line, "name"),
                format!(
                    "{:?} is already the name of another division under the same parent",
                    row.name.as_str()
                ),
            );
        }
    }
}

/// What an import will do, row by row.
#[derive(Debug, Default)]
pub struct Plan {
    /// Rows to record, parents first.
    pub new: Vec<Row>,
    /// Rows matching a recorded division.
    pub unchanged: usize,
    /// Rows no import may apply, with why.
    pub conflicts: Vec<(usize, String)>,
}

/// Compares checked rows with the recorded divisions as of `valid_from`.
pub fn plan(rows: Vec<Row>, directory: &Directory, valid_from: Date) -> Plan {
    let mut plan = Plan::default();
    let in_file: HashSet<RegionCode> = rows.iter().map(|r| r.code).collect();
    for row in rows {
        match directory.division(row.code) {
            Some(recorded) if recorded.is_retired() => plan.conflicts.push((
                row.line,
                format!(
                    "{} was superseded; an import cannot bring it back",
                    row.code
                ),
            )),
            Some(recorded) if recorded.name() != &row.name => plan.conflicts.push((
                row.line,
                format!(
                    "{} is recorded as {:?}; a new name needs a rename adjustment",
                    row.code,
                    recorded.name().as_str()
                ),
            )),
            Some(recorded) if recorded.parent != row.parent => plan.conflicts.push((
                row.line,
                format!("{} is recorded under another parent", row.code),
            )),
            Some(recorded) if recorded.valid_from != valid_from => plan.conflicts.push((
                row.line,
                format!(
                    "{} is recorded as valid from {}; import with that date",
                    row.code, recorded.valid_from
                ),
            )),
            Some(_) => plan.unchanged += 1,
            None => {
                // A recorded sibling of another code with this name (one in the file was
                // checked already).
                if let Some(other) =
                    directory.sibling_named(row.parent, row.name.as_str(), valid_from, &[row.code])
                    && !in_file.contains(&other.code)
                {
                    plan.conflicts.push((
                        row.line,
                        format!(
                            "{:?} is the name of recorded division {} under the same parent",
                            row.name.as_str(),
                            other.code
                        ),
                    ));
                } else {
                    plan.new.push(row);
                }
            }
        }
    }
    plan
}

/// Splits one CSV line into cells: commas separate, a cell in double quotes may contain commas
/// and doubled quotes.
fn split(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cell.is_empty() => quoted = true,
            (',', false) => cells.push(std::mem::take(&mut cell)),
            (c, _) => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const BENXI: &str = include_str!("../data/benxi-divisions.csv");

    fn fields(violations: &Violations) -> Vec<String> {
        violations.iter().map(|v| v.field.clone()).collect()
    }

    #[test]
    fn the_benxi_file_parses_parents_first_with_the_right_counts() {
        let rows = parse(BENXI.as_bytes(), &Directory::default()).unwrap();
        assert_eq!(rows.len(), 565);
        let count = |level| rows.iter().filter(|r| r.level() == level).count();
        assert_eq!(
            RegionLevel::ALL.map(count),
            [1, 1, 6, 49, 508],
            "province, city, county, township, village"
        );
        assert_eq!(rows[0].code, RegionCode::parse("210000000000").unwrap());
        let plan = plan(rows, &Directory::default(), date!(2023 - 06 - 30));
        assert_eq!(
            (plan.new.len(), plan.unchanged, plan.conflicts.len()),
            (565, 0, 0)
        );
    }

    #[test]
    fn every_bad_row_is_named_by_line_and_column() {
        let csv = "code,name,level,parent_code\n\
                   210000000000,辽宁省,province,\n\
                   2105000000,本溪市,city,210000000000\n\
                   210500000000,本溪市,county,210000000000\n\
                   210502000000,平山区,county,220000000000\n\
                   210000000000,辽宁省,province,\n\
                   210503000000,,county,210000000000\n";
        let violations = parse(csv.as_bytes(), &Directory::default()).unwrap_err();
        assert_eq!(
            fields(&violations),
            [
                "csv.line[3].code",
                "csv.line[4].level",
                "csv.line[5].parent_code",
                "csv.line[7].name",
                "csv.line[6].code",
            ]
        );
    }

    #[test]
    fn a_parent_missing_from_file_and_directory_is_refused() {
        let csv = "code,name,level,parent_code\n210502000000,平山区,county,210500000000\n";
        let violations = parse(csv.as_bytes(), &Directory::default()).unwrap_err();
        assert_eq!(fields(&violations), ["csv.line[2].parent_code"]);
    }

    #[test]
    fn two_siblings_with_one_name_are_refused() {
        let csv = "code,name,level,parent_code\n\
                   210000000000,辽宁省,province,\n\
                   210500000000,本溪市,city,210000000000\n\
                   210600000000,本溪市,city,210000000000\n";
        let violations = parse(csv.as_bytes(), &Directory::default()).unwrap_err();
        assert_eq!(fields(&violations), ["csv.line[4].name"]);
    }

    #[test]
    fn a_wrong_header_or_encoding_is_refused_whole() {
        let violations = parse(b"id,name\n1,x\n", &Directory::default()).unwrap_err();
        assert_eq!(fields(&violations), ["csv.header"]);
        let violations = parse(b"code,name\xff", &Directory::default()).unwrap_err();
        assert_eq!(fields(&violations), ["csv"]);
    }

    #[test]
    fn quoted_cells_and_a_byte_order_mark_are_read() {
        let csv =
            "\u{feff}code,name,level,parent_code\r\n\"210000000000\",\"辽宁省\",province,\r\n";
        let rows = parse(csv.as_bytes(), &Directory::default()).unwrap();
        assert_eq!(rows[0].name.as_str(), "辽宁省");
        assert_eq!(split(r#"a,"b,""c""",d"#), ["a", r#"b,"c""#, "d"]);
    }

    #[test]
    fn a_province_administered_county_loads_under_its_province() {
        let csv = "code,name,level,parent_code\n\
                   420000000000,湖北省,province,\n\
                   429004000000,仙桃市,county,420000000000\n";
        let rows = parse(csv.as_bytes(), &Directory::default()).unwrap();
        assert_eq!(rows.len(), 2);
    }
}
