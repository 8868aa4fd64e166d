//! The files exchanged with the paying bank (代发银行), as documented for the bank and for
//! operators in `docs/bank-file.md`: the payment file a cycle exports ([`export`]) and the
//! result file the bank sends back ([`parse_results`]).
//!
//! Both are CSV (RFC 4180, through the `csv` crate), UTF-8 without a byte-order mark, CRLF line
//! ends, a header row. The payment file is a pure function of the cycle's lines: exporting the
//! same cycle again gives the same bytes, so its SHA-256 ([`Sha256Digest`]) identifies it, and a
//! bank re-downloading a file gets byte-identical content. Amounts are yuan with exactly two
//! decimals, written from whole fen ([`minzheng_types::Fen::to_yuan_string`]) and read back
//! digit by digit ([`minzheng_types::Fen::parse_yuan_non_negative`]): no floating point.
//!
//! Both files are PERSONAL DATA (names and accounts in one, case ids and amounts in the
//! other). A bad result file is refused whole, naming every bad row by number and column and
//! what is wrong, never quoting a value.

use std::{collections::HashMap, fmt};

use minzheng_types::{BoundedText, Fen};
use sha2::{Digest, Sha256};

use crate::{
    ids::{CaseId, CycleId},
    payments::{LineResult, Outcome, PaymentLine, RESULT_REASON_MAX_CHARS, Totals},
};

/// The payment file's columns.
pub const PAYMENT_FILE_HEADER: [&str; 6] = [
    "record_type",
    "line_no",
    "case_id",
    "payee_name",
    "account",
    "amount_yuan",
];

/// The record type of a payment row.
pub const LINE_RECORD: &str = "LINE";
/// The record type of the last row: `line_no` holds the number of `LINE` rows, `case_id` the
/// cycle id and `amount_yuan` their sum.
pub const TOTAL_RECORD: &str = "TOTAL";

/// The result file's columns.
pub const RESULT_FILE_HEADER: [&str; 5] = ["line_no", "case_id", "amount_yuan", "status", "reason"];

/// The SHA-256 digest of a file, shown as 64 lowercase hexadecimal digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest([u8; 32]);

/// Why a text is not a SHA-256 digest.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be 64 lowercase hexadecimal digits")]
pub struct DigestError;

impl Sha256Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&Sha256::digest(bytes));
        Self(digest)
    }

    /// From its 64 lowercase hexadecimal digits.
    pub fn parse(hex: &str) -> Result<Self, DigestError> {
        let digit = |b: u8| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        };
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return Err(DigestError);
        }
        let mut digest = [0u8; 32];
        for (out, pair) in digest.iter_mut().zip(bytes.chunks_exact(2)) {
            *out = digit(pair[0]).ok_or(DigestError)? << 4 | digit(pair[1]).ok_or(DigestError)?;
        }
        Ok(Self(digest))
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({self})")
    }
}

/// An exported payment file.
#[derive(Clone, PartialEq, Eq)]
pub struct BankFile {
    pub bytes: Vec<u8>,
    pub sha256: Sha256Digest,
    pub totals: Totals,
}

impl fmt::Debug for BankFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The bytes are personal data.
        f.debug_struct("BankFile")
            .field("bytes", &self.bytes.len())
            .field("sha256", &self.sha256)
            .field("totals", &self.totals)
            .finish()
    }
}

/// Why a payment file could not be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("the lines' total overflows")]
    TotalOverflows,
}

/// The payment file of `cycle` with `lines` in the order given (the cycle's order): a `LINE`
/// row per line, then the `TOTAL` row. See `docs/bank-file.md`.
pub fn export<'a>(
    cycle: CycleId,
    lines: impl IntoIterator<Item = &'a PaymentLine>,
) -> Result<BankFile, ExportError> {
    let lines = lines.into_iter();
    let mut out = CsvOut::with_capacity(lines.size_hint().0.saturating_add(2) * ROW_BYTES_HINT);
    for field in PAYMENT_FILE_HEADER {
        out.text(field);
    }
    out.end_row();
    let mut totals = Totals::default();
    for line in lines {
        totals = totals
            .with_line(line.amount)
            .ok_or(ExportError::TotalOverflows)?;
        out.text(LINE_RECORD);
        out.plain(line.line_no);
        out.plain(line.case);
        out.text(line.payee.name.as_str());
        out.text(line.payee.account.expose());
        out.plain(line.amount.yuan());
        out.end_row();
    }
    out.text(TOTAL_RECORD);
    out.plain(totals.count);
    out.plain(cycle);
    out.text("");
    out.text("");
    out.plain(totals.amount.yuan());
    out.end_row();
    let bytes = out.bytes;
    Ok(BankFile {
        sha256: Sha256Digest::of(&bytes),
        bytes,
        totals,
    })
}

/// About how many bytes a payment file's row takes (the buffer is sized once from it).
const ROW_BYTES_HINT: usize = 72;

/// Writes CSV as RFC 4180 has it and the `csv` crate writes it with `QuoteStyle::Necessary`
/// and CRLF (the tests hold the bytes equal): fields separated by commas, rows ended by CRLF,
/// and a field quoted only when it holds a comma, a quote, CR or LF, its quotes doubled. A
/// payment file is written once per cycle and digested, so it is written straight into one
/// buffer, without a string per field.
struct CsvOut {
    bytes: Vec<u8>,
    row_started: bool,
}

impl CsvOut {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(capacity),
            row_started: false,
        }
    }

    fn separate(&mut self) {
        if self.row_started {
            self.bytes.push(b',');
        }
        self.row_started = true;
    }

    /// A text field, quoted when it must be.
    fn text(&mut self, field: &str) {
        self.separate();
        if !field
            .bytes()
            .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
        {
            self.bytes.extend_from_slice(field.as_bytes());
            return;
        }
        self.bytes.push(b'"');
        for b in field.bytes() {
            if b == b'"' {
                self.bytes.push(b'"');
            }
            self.bytes.push(b);
        }
        self.bytes.push(b'"');
    }

    /// A field whose text never needs quoting: a number, an identifier we issue, an amount.
    fn plain(&mut self, field: impl fmt::Display) {
        self.separate();
        std::io::Write::write_fmt(&mut self.bytes, format_args!("{field}"))
            .expect("writing to memory cannot fail");
    }

    fn end_row(&mut self) {
        self.bytes.extend_from_slice(b"\r\n");
        self.row_started = false;
    }
}

/// A parsed result file: every row's result, in file order, and the file's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultFile {
    pub results: Vec<LineResult>,
    pub sha256: Sha256Digest,
}

/// One thing wrong with a result file: the row (the header is row 1), the column when one is
/// to blame, and what is wrong. Never quotes the file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub row: u64,
    pub column: Option<&'static str>,
    pub problem: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "row {}, column {column}: {}", self.row, self.problem),
            None => write!(f, "row {}: {}", self.row, self.problem),
        }
    }
}

/// A result file refused whole, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ResultFileError {
    pub problems: Vec<RowProblem>,
}

/// Problems shown by `Display`; the rest are counted.
const PROBLEMS_SHOWN: usize = 20;

impl fmt::Display for ResultFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the result file has {} problems: ", self.problems.len())?;
        for (index, problem) in self.problems.iter().take(PROBLEMS_SHOWN).enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        if self.problems.len() > PROBLEMS_SHOWN {
            write!(f, "; and {} more", self.problems.len() - PROBLEMS_SHOWN)?;
        }
        Ok(())
    }
}

/// Reads the bank's result file whole (see `docs/bank-file.md`): every row is checked before
/// anything is returned, and a file with any bad row is refused with all its problems. A
/// leading UTF-8 byte-order mark is allowed; fields are trimmed; status is `PAID` or `FAILED`;
/// a `FAILED` row needs a reason (at most [`RESULT_REASON_MAX_CHARS`] characters), a `PAID`
/// row's reason is ignored; a line number appears once.
pub fn parse_results(bytes: &[u8]) -> Result<ResultFile, ResultFileError> {
    let sha256 = Sha256Digest::of(bytes);
    let content = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(content);
    let mut problems = Vec::new();
    let mut results = Vec::new();
    let mut rows_of_lines: HashMap<u32, u64> = HashMap::new();
    let mut header_seen = false;
    for (index, record) in reader.byte_records().enumerate() {
        let row = index as u64 + 1;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                problems.push(unreadable(row, &error));
                continue;
            }
        };
        if !header_seen {
            header_seen = true;
            if record
                .iter()
                .ne(RESULT_FILE_HEADER.iter().map(|c| c.as_bytes()))
            {
                problems.push(RowProblem {
                    row,
                    column: None,
                    problem: format!("the header must be {}", RESULT_FILE_HEADER.join(",")),
                });
            }
            continue;
        }
        match result_row(row, &record) {
            Ok(result) => {
                if let Some(first) = rows_of_lines.insert(result.line_no, row) {
                    problems.push(RowProblem {
                        row,
                        column: Some("line_no"),
                        problem: format!("the line number is already on row {first}"),
                    });
                }
                results.push(result);
            }
            Err(row_problems) => problems.extend(row_problems),
        }
    }
    if !header_seen {
        problems.push(RowProblem {
            row: 1,
            column: None,
            problem: "the file is empty: it needs the header row".to_owned(),
        });
    }
    if problems.is_empty() {
        Ok(ResultFile { results, sha256 })
    } else {
        Err(ResultFileError { problems })
    }
}

/// A row the CSV reader could not read (a quote left open, bytes that are not UTF-8 are
/// reported per field, not here).
fn unreadable(row: u64, error: &csv::Error) -> RowProblem {
    let problem = match error.kind() {
        csv::ErrorKind::Io(_) => "cannot be read".to_owned(),
        _ => "is not a well-formed CSV row".to_owned(),
    };
    RowProblem {
        row,
        column: None,
        problem,
    }
}

/// One data row, or everything wrong with it.
fn result_row(row: u64, record: &csv::ByteRecord) -> Result<LineResult, Vec<RowProblem>> {
    if record.len() != RESULT_FILE_HEADER.len() {
        return Err(vec![RowProblem {
            row,
            column: None,
            problem: format!(
                "has {} columns; expected {}",
                record.len(),
                RESULT_FILE_HEADER.len()
            ),
        }]);
    }
    let mut problems = Vec::new();
    let mut field = |index: usize, check: &dyn Fn(&str) -> Result<(), String>| {
        let column = RESULT_FILE_HEADER[index];
        let problem = match std::str::from_utf8(&record[index]) {
            Ok(text) => check(text).err(),
            Err(_) => Some("is not UTF-8 text".to_owned()),
        };
        if let Some(problem) = problem {
            problems.push(RowProblem {
                row,
                column: Some(column),
                problem,
            });
        }
    };
    // Each column is checked once for its problem; the values are parsed again below only
    // when every column passed.
    field(0, &|t| line_no(t).map(|_| ()));
    field(1, &|t| {
        CaseId::parse(t)
            .map(|_| ())
            .map_err(|e| format!("is not a case id: {e}"))
    });
    field(2, &|t| {
        Fen::parse_yuan_non_negative(t)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    let status = std::str::from_utf8(&record[3]).ok();
    field(3, &|t| match t {
        "PAID" | "FAILED" => Ok(()),
        _ => Err("must be PAID or FAILED".to_owned()),
    });
    field(4, &|t| match status {
        Some("FAILED") => reason(t).map(|_| ()),
        _ => Ok(()),
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    let text = |index: usize| std::str::from_utf8(&record[index]).expect("checked");
    Ok(LineResult {
        line_no: line_no(text(0)).expect("checked"),
        case: CaseId::parse(text(1)).expect("checked"),
        amount: Fen::parse_yuan_non_negative(text(2)).expect("checked"),
        outcome: match text(3) {
            "PAID" => Outcome::Paid,
            _ => Outcome::Failed {
                reason: reason(text(4)).expect("checked"),
            },
        },
    })
}

fn line_no(text: &str) -> Result<u32, String> {
    text.parse::<u32>()
        .ok()
        .filter(|n| *n >= 1 && text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| "must be a line number: a whole number from 1".to_owned())
}

fn reason(text: &str) -> Result<BoundedText, String> {
    BoundedText::parse(text, RESULT_REASON_MAX_CHARS).map_err(|e| match e {
        minzheng_types::TextError::Empty => "a FAILED row needs the bank's reason".to_owned(),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::{
        FailedLine, LineKind, plan,
        tests::{county, monthly},
    };
    use std::collections::HashSet;
    use time::macros::date;

    fn cycle() -> CycleId {
        CycleId::new(county(), date!(2026 - 06 - 01)).expect("county")
    }

    fn lines() -> Vec<PaymentLine> {
        let mut comma = monthly(3, 1);
        std::sync::Arc::make_mut(&mut comma.payee).name =
            BoundedText::parse("李,\"小\"明", 100).expect("valid");
        plan(
            date!(2026 - 06 - 01),
            county(),
            [monthly(1, 66_500), monthly(2, 45_050), comma],
            &HashSet::new(),
            [],
        )
    }

    const GOLDEN_PAYMENT_FILE: &str = "record_type,line_no,case_id,payee_name,account,amount_yuan\r\n\
        LINE,1,210502-DB-2026-000001,张1,6222020200000001,665.00\r\n\
        LINE,2,210502-DB-2026-000002,张2,6222020200000002,450.50\r\n\
        LINE,3,210502-DB-2026-000003,\"李,\"\"小\"\"明\",6222020200000003,0.01\r\n\
        TOTAL,3,210502-202606,,,1115.51\r\n";

    proptest::proptest! {
        /// The payment file's writer writes the bytes the `csv` crate writes (RFC 4180,
        /// quoting only where needed, CRLF), whatever a payee's name holds.
        #[test]
        fn the_csv_writer_writes_what_the_csv_crate_writes(
            rows in proptest::collection::vec(
                proptest::collection::vec("[a-z张,\"\r\n ]{0,6}", 2..5),
                1..4,
            )
        ) {
            let mut ours = CsvOut::with_capacity(0);
            let mut theirs = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .quote_style(csv::QuoteStyle::Necessary)
                .flexible(true)
                .from_writer(Vec::new());
            for row in &rows {
                for field in row {
                    ours.text(field);
                }
                ours.end_row();
                theirs.write_record(row).expect("in memory");
            }
            proptest::prop_assert_eq!(ours.bytes, theirs.into_inner().expect("in memory"));
        }
    }

    #[test]
    fn the_payment_file_is_the_documented_csv_with_its_totals() {
        let file = export(cycle(), &lines()).expect("exported");
        assert_eq!(
            String::from_utf8(file.bytes.clone()).expect("utf-8"),
            GOLDEN_PAYMENT_FILE
        );
        assert_eq!(
            file.totals,
            Totals {
                count: 3,
                amount: Fen::new(111_551)
            }
        );
        assert_eq!(
            file.sha256,
            Sha256Digest::of(GOLDEN_PAYMENT_FILE.as_bytes())
        );
        // Byte-identical when exported again.
        assert_eq!(export(cycle(), &lines()).expect("exported"), file);
        assert!(!format!("{file:?}").contains("6222"));
    }

    #[test]
    fn the_docs_show_the_golden_files() {
        let docs = include_str!("../../../docs/bank-file.md");
        for golden in [GOLDEN_PAYMENT_FILE, GOLDEN_RESULT_FILE] {
            let text = golden.replace("\r\n", "\n");
            assert!(docs.contains(&text), "docs/bank-file.md lacks:\n{text}");
        }
    }

    #[test]
    fn an_empty_cycle_exports_the_header_and_a_zero_total() {
        let file = export(cycle(), &[]).expect("exported");
        assert_eq!(
            String::from_utf8(file.bytes).expect("utf-8"),
            "record_type,line_no,case_id,payee_name,account,amount_yuan\r\n\
             TOTAL,0,210502-202606,,,0.00\r\n"
        );
    }

    #[test]
    fn a_reissued_line_is_exported_like_any_other() {
        let june = lines();
        let failed = FailedLine {
            cycle: cycle(),
            line: june[0].clone(),
        };
        let july = plan(
            date!(2026 - 07 - 01),
            county(),
            [],
            &HashSet::new(),
            [failed],
        );
        assert!(matches!(july[0].kind, LineKind::Reissue { .. }));
        let file = export(
            CycleId::new(county(), date!(2026 - 07 - 01)).expect("county"),
            &july,
        )
        .expect("exported");
        let text = String::from_utf8(file.bytes).expect("utf-8");
        assert!(text.contains("LINE,1,210502-DB-2026-000001,张1,6222020200000001,665.00\r\n"));
    }

    #[test]
    fn digests_print_and_parse_as_lowercase_hex() {
        let digest = Sha256Digest::of(b"abc");
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(digest.to_string(), hex);
        assert_eq!(Sha256Digest::parse(hex), Ok(digest));
        assert_eq!(Sha256Digest::parse(&hex.to_uppercase()), Err(DigestError));
        assert_eq!(Sha256Digest::parse(&hex[1..]), Err(DigestError));
    }

    const GOLDEN_RESULT_FILE: &str = "line_no,case_id,amount_yuan,status,reason\r\n\
        1,210502-DB-2026-000001,665.00,PAID,\r\n\
        2,210502-DB-2026-000002,450.50,FAILED,账户已销户\r\n";

    #[test]
    fn the_result_file_gives_each_lines_outcome() {
        let file = parse_results(GOLDEN_RESULT_FILE.as_bytes()).expect("valid");
        assert_eq!(file.sha256, Sha256Digest::of(GOLDEN_RESULT_FILE.as_bytes()));
        assert_eq!(
            file.results,
            [
                LineResult {
                    line_no: 1,
                    case: monthly(1, 0).case,
                    amount: Fen::new(66_500),
                    outcome: Outcome::Paid,
                },
                LineResult {
                    line_no: 2,
                    case: monthly(2, 0).case,
                    amount: Fen::new(45_050),
                    outcome: Outcome::Failed {
                        reason: BoundedText::parse("账户已销户", 200).expect("valid"),
                    },
                },
            ]
        );
        // A byte-order mark, LF line ends and padding are accepted.
        let relaxed = "\u{feff}line_no,case_id,amount_yuan,status,reason\n 1 ,210502-DB-2026-000001,665,PAID,成功\n";
        let parsed = parse_results(relaxed.as_bytes()).expect("valid");
        assert_eq!(parsed.results[0].amount, Fen::new(66_500));
        assert_eq!(parsed.results[0].outcome, Outcome::Paid);
    }

    #[test]
    fn a_malformed_result_file_is_refused_naming_every_bad_row_and_column() {
        let bad = "line_no,case_id,amount_yuan,status,reason\r\n\
            1,210502-DB-2026-000001,665.00,PAID,\r\n\
            0,210502-DB-2026-000002,450.5x,DONE,\r\n\
            3,210502199001010014,1.00,FAILED,\r\n\
            1,210502-DB-2026-000001,665.00,PAID,\r\n\
            4,210502-DB-2026-000004,1.00\r\n\
            5,210502-DB-2026-000005,-1.00,PAID,\r\n";
        let error = parse_results(bad.as_bytes()).expect_err("refused");
        let found: Vec<(u64, Option<&str>)> =
            error.problems.iter().map(|p| (p.row, p.column)).collect();
        assert_eq!(
            found,
            [
                (3, Some("line_no")),
                (3, Some("amount_yuan")),
                (3, Some("status")),
                (4, Some("case_id")),
                (4, Some("reason")),
                (5, Some("line_no")),
                (6, None),
                (7, Some("amount_yuan")),
            ]
        );
        let message = error.to_string();
        assert!(message.contains("row 4, column reason: a FAILED row needs the bank's reason"));
        assert!(message.contains("row 5, column line_no: the line number is already on row 2"));
        assert!(!message.contains("210502199001010014"), "{message}");
        assert!(!message.contains("450.5x"), "{message}");
    }

    #[test]
    fn a_result_file_needs_its_header_and_utf8() {
        let error = parse_results(b"").expect_err("empty");
        assert_eq!(error.problems[0].row, 1);
        let error = parse_results(b"line,case,amount,status,reason\r\n").expect_err("header");
        assert_eq!((error.problems[0].row, error.problems[0].column), (1, None));
        let gbk = b"line_no,case_id,amount_yuan,status,reason\r\n2,210502-DB-2026-000002,1.00,FAILED,\xd5\xcb\xbb\xa7\r\n";
        let error = parse_results(gbk).expect_err("not UTF-8");
        assert_eq!(
            (error.problems[0].row, error.problems[0].column),
            (2, Some("reason"))
        );
    }
}
