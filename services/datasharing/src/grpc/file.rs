//! The load file an agency sends (`minzheng datasharing load FILE`), CSV or JSON Lines, read row
//! by row into `LoadAgencyRecords` messages. A row whose values cannot even be carried (an
//! amount that is not a number, a date that is not one) is reported here with its line and
//! column; the service checks every other rule and reports by the same line numbers.
//!
//! Columns (CSV header, or JSON keys): `reference`, `kind` (`WAGES`, `PENSION`, `TAXED_INCOME`,
//! `REAL_ESTATE`, `VEHICLE`, `BUSINESS`, `HOUSING_FUND`, `DEPOSITS`, `SECURITIES`,
//! `DISABILITY`, `HOUSEHOLD_REGISTRATION`), `citizen_id`, `as_of` (`YYYY-MM-DD`), `amount_yuan`
//! (e.g. `1800.50`; empty is 0), and, optional, `ended` (`true`/`false`, `1`/`0`), `area_m2`,
//! `disability_grade`, `division`, `household_number`, `relation_to_head`. Lines are counted
//! from 1 (a CSV header is line 1).

use std::io::BufRead;

use minzheng_proto::{common::v1 as common, datasharing::v1 as pb};
use minzheng_types::{Fen, parse_date};

use crate::{codec::records::kind_to_pb, records::RecordKind};

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    /// By the file name's extension: `.jsonl`/`.ndjson` are JSON Lines, anything else CSV.
    pub fn of_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl" | "ndjson") => Format::JsonLines,
            _ => Format::Csv,
        }
    }
}

/// A row that could not be read: its line, the column, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub field: String,
    pub rule: String,
}

/// The columns of a row, as text.
#[derive(Debug, Default)]
struct Columns {
    reference: String,
    kind: String,
    citizen_id: String,
    as_of: String,
    amount_yuan: String,
    ended: String,
    area_m2: String,
    disability_grade: String,
    division: String,
    household_number: String,
    relation_to_head: String,
}

const COLUMNS: [&str; 11] = [
    "reference",
    "kind",
    "citizen_id",
    "as_of",
    "amount_yuan",
    "ended",
    "area_m2",
    "disability_grade",
    "division",
    "household_number",
    "relation_to_head",
];

impl Columns {
    fn set(&mut self, column: &str, value: String) {
        match column {
            "reference" => self.reference = value,
            "kind" => self.kind = value,
            "citizen_id" => self.citizen_id = value,
            "as_of" => self.as_of = value,
            "amount_yuan" => self.amount_yuan = value,
            "ended" => self.ended = value,
            "area_m2" => self.area_m2 = value,
            "disability_grade" => self.disability_grade = value,
            "division" => self.division = value,
            "household_number" => self.household_number = value,
            "relation_to_head" => self.relation_to_head = value,
            _ => {}
        }
    }

    /// The row as a message, or the first value it cannot carry.
    fn into_record(self, line: u64) -> Result<pb::LoadedRecord, RowError> {
        let error = |field: &str, rule: &str| RowError {
            line,
            field: field.to_owned(),
            rule: rule.to_owned(),
        };
        let kind = match self.kind.trim() {
            "" => 0,
            code => kind_to_pb(
                RecordKind::from_code(code)
                    .ok_or_else(|| error("kind", "must be a record kind, e.g. WAGES"))?,
            ),
        };
        let as_of = match self.as_of.trim() {
            "" => None,
            text => Some(common::Date::from(
                parse_date(text).map_err(|_| error("as_of", "must be a date, YYYY-MM-DD"))?,
            )),
        };
        let amount = match self.amount_yuan.trim() {
            "" => Fen::ZERO,
            text => Fen::parse_yuan(text)
                .map_err(|_| error("amount_yuan", "must be an amount in yuan, e.g. 1800.50"))?,
        };
        let ended = match self.ended.trim() {
            "" | "false" | "0" => false,
            "true" | "1" => true,
            _ => return Err(error("ended", "must be true or false")),
        };
        let number = |field: &str, text: &str| -> Result<u32, RowError> {
            match text.trim() {
                "" => Ok(0),
                text => text
                    .parse()
                    .map_err(|_| error(field, "must be a whole number")),
            }
        };
        Ok(pb::LoadedRecord {
            line,
            record: Some(pb::AgencyRecord {
                reference: self.reference.trim().to_owned(),
                kind,
                citizen: Some(common::CitizenRef {
                    citizen_id: self.citizen_id.trim().to_owned(),
                }),
                as_of,
                amount: Some(amount.into()),
                ended,
                area_m2: number("area_m2", &self.area_m2)?,
                disability_grade: number("disability_grade", &self.disability_grade)?,
                division: match self.division.trim() {
                    "" => None,
                    code => Some(common::RegionCode {
                        code: code.to_owned(),
                    }),
                },
                household_number: self.household_number.trim().to_owned(),
                relation_to_head: self.relation_to_head.trim().to_owned(),
            }),
        })
    }
}

/// The rows of a file, one by one: a record, or why its line could not be read. A file whose
/// CSV header lacks a required column yields one error for line 1 and nothing else.
pub fn rows(
    reader: impl BufRead + Send + 'static,
    format: Format,
) -> Box<dyn Iterator<Item = Result<pb::LoadedRecord, RowError>> + Send> {
    match format {
        Format::Csv => csv_rows(reader),
        Format::JsonLines => Box::new(json_rows(reader)),
    }
}

fn csv_rows(
    reader: impl BufRead + Send + 'static,
) -> Box<dyn Iterator<Item = Result<pb::LoadedRecord, RowError>> + Send> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::None)
        .from_reader(reader);
    let header: Vec<String> = match csv.headers() {
        Ok(header) => header.iter().map(|h| h.trim().to_owned()).collect(),
        Err(e) => {
            return Box::new(std::iter::once(Err(RowError {
                line: 1,
                field: "header".into(),
                rule: format!("is not CSV: {e}"),
            })));
        }
    };
    if let Some(missing) = ["reference", "kind", "citizen_id", "as_of"]
        .into_iter()
        .find(|c| !header.iter().any(|h| h == c))
    {
        return Box::new(std::iter::once(Err(RowError {
            line: 1,
            field: "header".into(),
            rule: format!(
                "must have the column {missing} (columns: {})",
                COLUMNS.join(",")
            ),
        })));
    }
    Box::new(csv.into_records().map(move |row| {
        let row = row.map_err(|e| RowError {
            line: e.position().map_or(0, |p| p.line()),
            field: "row".into(),
            rule: format!("is not a CSV row of the header's columns: {e}"),
        })?;
        let line = row.position().map_or(0, |p| p.line());
        let mut columns = Columns::default();
        for (name, value) in header.iter().zip(row.iter()) {
            columns.set(name, value.to_owned());
        }
        columns.into_record(line)
    }))
}

fn json_rows(
    reader: impl BufRead + Send + 'static,
) -> impl Iterator<Item = Result<pb::LoadedRecord, RowError>> + Send {
    reader.lines().enumerate().filter_map(|(index, line)| {
        let number = index as u64 + 1;
        let text = match line {
            Ok(text) => text,
            Err(e) => {
                return Some(Err(RowError {
                    line: number,
                    field: "row".into(),
                    rule: format!("could not be read: {e}"),
                }));
            }
        };
        if text.trim().is_empty() {
            return None;
        }
        Some(json_row(number, &text))
    })
}

fn json_row(line: u64, text: &str) -> Result<pb::LoadedRecord, RowError> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|_| RowError {
            line,
            field: "row".into(),
            rule: "must be one JSON object".into(),
        })?;
    let mut columns = Columns::default();
    for (key, value) in object {
        let text = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        columns.set(&key, text);
    }
    columns.into_record(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, format: Format) -> Vec<Result<pb::LoadedRecord, RowError>> {
        rows(std::io::Cursor::new(text.as_bytes().to_vec()), format).collect()
    }

    #[test]
    fn csv_rows_become_records_with_their_lines() {
        let rows = read(
            "reference,kind,citizen_id,as_of,amount_yuan\n\
             W-1,WAGES,210502195803120025,2026-03-31,1800.50\n\
             W-2,WAGE,210502195803120025,2026-03-31,1\n\
             W-3,WAGES,210502195803120025,2026-02-30,1\n",
            Format::Csv,
        );
        let first = rows[0].as_ref().expect("a record");
        assert_eq!(first.line, 2);
        let record = first.record.as_ref().expect("set");
        assert_eq!(record.amount.as_ref().map(|m| m.fen), Some(180_050));
        assert_eq!(record.kind, kind_to_pb(RecordKind::Wages));
        let bad_kind = rows[1].as_ref().expect_err("not a kind");
        assert_eq!((bad_kind.line, bad_kind.field.as_str()), (3, "kind"));
        let bad_date = rows[2].as_ref().expect_err("not a date");
        assert_eq!((bad_date.line, bad_date.field.as_str()), (4, "as_of"));
    }

    #[test]
    fn a_header_without_a_required_column_is_one_error() {
        let rows = read("reference,kind,as_of\nW-1,WAGES,2026-03-31\n", Format::Csv);
        assert_eq!(rows.len(), 1);
        let error = rows[0].as_ref().expect_err("no citizen_id column");
        assert!(error.rule.contains("citizen_id"), "{error:?}");
    }

    #[test]
    fn json_lines_become_records_and_blank_lines_are_skipped() {
        let rows = read(
            "{\"reference\":\"D-1\",\"kind\":\"DEPOSITS\",\"citizen_id\":\"210502195803120025\",\
             \"as_of\":\"2026-03-31\",\"amount_yuan\":52000}\n\
             \n\
             not json\n",
            Format::JsonLines,
        );
        assert_eq!(rows.len(), 2);
        let record = rows[0].as_ref().expect("a record");
        assert_eq!(record.line, 1);
        assert_eq!(
            record
                .record
                .as_ref()
                .and_then(|r| r.amount.as_ref())
                .map(|m| m.fen),
            Some(5_200_000)
        );
        assert_eq!(rows[1].as_ref().expect_err("not JSON").line, 3);
    }
}
