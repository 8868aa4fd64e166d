//! The payment cycle's events ([`cycle::Event`]) to their messages in
//! `proto/minzheng/assistance/v1/payments.proto` and back: [`cycle::Generated`] ↔
//! `PaymentCycleGenerated`, [`cycle::LinesAdded`] ↔ `PaymentLinesAdded`, [`cycle::Approved`] ↔
//! `PaymentCycleApproved`, [`cycle::Exported`] ↔ `PaymentCycleExported`,
//! [`cycle::ResultsImported`] ↔ `PaymentResultsImported`, [`cycle::Settled`] ↔
//! `PaymentCycleSettled`.
//!
//! Decoding checks shape: ids, codes, dates, digests and accounts parse, enums are known, line
//! numbers count from 1, a month is a first of month, a failed result has a reason. What the
//! cycle decided (amounts, totals, which lines a chunk holds, how results match lines) is read
//! as recorded.

use std::sync::Arc;

use minzheng_host::{
    codec::{FromMessage, ToMessage},
    decode::Decoder,
};
use minzheng_kit::aggregate::CodecError;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common};
use time::Date;

use crate::{
    bank_file::Sha256Digest,
    cycle,
    ids::{CaseId, CycleId},
    payments::{
        BankAccount, DecisionRef, LineKind, LineResult, Outcome, Payee, PaymentLine, Period, Totals,
    },
};

/// The schema version the payment cycle's events are written in.
pub const SCHEMA_VERSION: u32 = 1;

minzheng_host::event_codec! {
    cycle::Event, schema_version = SCHEMA_VERSION;
    Generated(cycle::Generated) <=> pb::PaymentCycleGenerated,
    LinesAdded(cycle::LinesAdded) <=> pb::PaymentLinesAdded,
    Approved(cycle::Approved) <=> pb::PaymentCycleApproved,
    Exported(cycle::Exported) <=> pb::PaymentCycleExported,
    ResultsImported(cycle::ResultsImported) <=> pb::PaymentResultsImported,
    Settled(cycle::Settled) <=> pb::PaymentCycleSettled,
}

impl ToMessage for cycle::Generated {
    type Message = pb::PaymentCycleGenerated;

    fn to_message(&self) -> pb::PaymentCycleGenerated {
        pb::PaymentCycleGenerated {
            cycle_id: self.cycle.to_string(),
            county: Some(self.cycle.county().into()),
            month: Some(self.cycle.month().into()),
            line_count: self.totals.count,
            total: Some(self.totals.amount.into()),
            generated_on: Some(self.generated_on.into()),
        }
    }
}

impl FromMessage<pb::PaymentCycleGenerated> for cycle::Generated {
    fn from_message(m: pb::PaymentCycleGenerated, d: &Decoder<'_>) -> Result<Self, CodecError> {
        // The county and month repeat the id for readers; they must be there and parse.
        d.code("county", &m.county)?;
        d.date("month", &m.month)?;
        Ok(Self {
            cycle: cycle_id(d, &m.cycle_id)?,
            totals: Totals {
                count: m.line_count,
                amount: d.money("total", &m.total)?,
            },
            generated_on: d.date("generated_on", &m.generated_on)?,
        })
    }
}

impl ToMessage for cycle::LinesAdded {
    type Message = pb::PaymentLinesAdded;

    fn to_message(&self) -> pb::PaymentLinesAdded {
        pb::PaymentLinesAdded {
            cycle_id: self.cycle.to_string(),
            lines: self.lines.iter().map(line_to_pb).collect(),
        }
    }

    /// A cycle's 100,000 lines are megabytes: written straight into the buffer, without a
    /// `pb::PaymentLine` and its strings per line — the bytes prost writes for
    /// [`Self::to_message`] (held equal by a test).
    fn encode_message(&self) -> Vec<u8> {
        lines_wire::encode(self)
    }
}

impl FromMessage<pb::PaymentLinesAdded> for cycle::LinesAdded {
    fn from_message(m: pb::PaymentLinesAdded, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            cycle: cycle_id(d, &m.cycle_id)?,
            lines: m
                .lines
                .into_iter()
                .map(|line| line_from_pb(d, line))
                .collect::<Result<_, _>>()?,
        })
    }
}

impl ToMessage for cycle::Approved {
    type Message = pb::PaymentCycleApproved;

    fn to_message(&self) -> pb::PaymentCycleApproved {
        pb::PaymentCycleApproved {
            cycle_id: self.cycle.to_string(),
            approved_on: Some(self.approved_on.into()),
        }
    }
}

impl FromMessage<pb::PaymentCycleApproved> for cycle::Approved {
    fn from_message(m: pb::PaymentCycleApproved, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            cycle: cycle_id(d, &m.cycle_id)?,
            approved_on: d.date("approved_on", &m.approved_on)?,
        })
    }
}

impl ToMessage for cycle::Exported {
    type Message = pb::PaymentCycleExported;

    fn to_message(&self) -> pb::PaymentCycleExported {
        pb::PaymentCycleExported {
            cycle_id: self.cycle.to_string(),
            file_sha256: self.file_sha256.to_string(),
            line_count: self.totals.count,
            total: Some(self.totals.amount.into()),
            exported_on: Some(self.exported_on.into()),
        }
    }
}

impl FromMessage<pb::PaymentCycleExported> for cycle::Exported {
    fn from_message(m: pb::PaymentCycleExported, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            cycle: cycle_id(d, &m.cycle_id)?,
            file_sha256: digest(d, &m.file_sha256)?,
            totals: Totals {
                count: m.line_count,
                amount: d.money("total", &m.total)?,
            },
            exported_on: d.date("exported_on", &m.exported_on)?,
        })
    }
}

impl ToMessage for cycle::ResultsImported {
    type Message = pb::PaymentResultsImported;

    fn to_message(&self) -> pb::PaymentResultsImported {
        pb::PaymentResultsImported {
            cycle_id: self.cycle.to_string(),
            file_sha256: self.file_sha256.to_string(),
            imported_on: Some(self.imported_on.into()),
            results: self.results.iter().map(result_to_pb).collect(),
        }
    }
}

impl FromMessage<pb::PaymentResultsImported> for cycle::ResultsImported {
    fn from_message(m: pb::PaymentResultsImported, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            cycle: cycle_id(d, &m.cycle_id)?,
            file_sha256: digest(d, &m.file_sha256)?,
            imported_on: d.date("imported_on", &m.imported_on)?,
            results: m
                .results
                .into_iter()
                .map(|r| result_from_pb(d, r))
                .collect::<Result<_, _>>()?,
        })
    }
}

impl ToMessage for cycle::Settled {
    type Message = pb::PaymentCycleSettled;

    fn to_message(&self) -> pb::PaymentCycleSettled {
        pb::PaymentCycleSettled {
            cycle_id: self.cycle.to_string(),
            paid_count: self.paid.count,
            paid_total: Some(self.paid.amount.into()),
            failed_count: self.failed.count,
            failed_total: Some(self.failed.amount.into()),
            settled_on: Some(self.settled_on.into()),
        }
    }
}

impl FromMessage<pb::PaymentCycleSettled> for cycle::Settled {
    fn from_message(m: pb::PaymentCycleSettled, d: &Decoder<'_>) -> Result<Self, CodecError> {
        Ok(Self {
            cycle: cycle_id(d, &m.cycle_id)?,
            paid: Totals {
                count: m.paid_count,
                amount: d.money("paid_total", &m.paid_total)?,
            },
            failed: Totals {
                count: m.failed_count,
                amount: d.money("failed_total", &m.failed_total)?,
            },
            settled_on: d.date("settled_on", &m.settled_on)?,
        })
    }
}

/// The protobuf encoding of `PaymentLinesAdded` written by hand, field for field as prost writes
/// it: fields in tag order, a scalar or string at its default (zero, empty) left out, a
/// message present even when empty. Keep in step with [`line_to_pb`] and `payments.proto`.
mod lines_wire {
    use std::fmt::Write as _;

    use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint};

    use super::{LineKind, PaymentLine, cycle, period_fields};

    pub(super) fn encode(event: &cycle::LinesAdded) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + event.lines.len() * 160);
        let mut text = String::new();
        write!(text, "{}", event.cycle).expect("writing to a string");
        put_str(&mut out, 1, &text);
        let mut line_body = Vec::with_capacity(256);
        for line in event.lines.iter() {
            line_body.clear();
            put_line(&mut line_body, &mut text, line);
            message(&mut out, 2, &line_body);
        }
        out
    }

    fn put_line(out: &mut Vec<u8>, text: &mut String, line: &PaymentLine) {
        let (month, decision_version, back_pay_listed_in) = period_fields(line);
        put_varint(out, 1, u64::from(line.line_no));
        text.clear();
        write!(text, "{}", line.case).expect("writing to a string");
        put_str(out, 2, text);
        put_int(
            out,
            3,
            i64::from(super::super::case::category_to_pb(line.category)),
        );
        put_money(out, 4, line.amount.fen());
        put_varint(out, 5, decision_version);
        put_date(out, 6, line.decision.decided_on);
        if let Some(standard) = line.standard {
            text.clear();
            write!(text, "{}", standard.county).expect("writing to a string");
            let county = str_len(text);
            let body = (1 + len_delimited(county)) + varint_len(u64::from(standard.number));
            head(out, 7, body);
            head(out, 1, county);
            put_str(out, 1, text);
            put_varint(out, 2, u64::from(standard.number));
        }
        let citizen = line.payee.citizen.expose();
        head(out, 8, str_len(citizen));
        put_str(out, 1, citizen);
        put_str(out, 9, line.payee.name.as_str());
        put_str(out, 10, line.payee.account.expose());
        if let Some(month) = month {
            put_date(out, 11, month);
        }
        if let LineKind::Reissue { cycle, line_no } = line.kind {
            text.clear();
            write!(text, "{cycle}").expect("writing to a string");
            head(out, 12, str_len(text) + varint_len(u64::from(line_no)));
            put_str(out, 1, text);
            put_varint(out, 2, u64::from(line_no));
        }
        if let Some(listed_in) = back_pay_listed_in {
            put_date(out, 13, listed_in);
        }
    }

    /// A length-delimited field: its key, `body`'s length, then `body`.
    fn message(out: &mut Vec<u8>, tag: u32, body: &[u8]) {
        head(out, tag, body.len());
        out.extend_from_slice(body);
    }

    /// The key and length of a length-delimited field of `len` bytes.
    fn head(out: &mut Vec<u8>, tag: u32, len: usize) {
        encode_key(tag, WireType::LengthDelimited, out);
        encode_varint(len as u64, out);
    }

    /// The bytes of a length-delimited field's length prefix and body, key excluded.
    fn len_delimited(len: usize) -> usize {
        encoded_len_varint(len as u64) + len
    }

    fn put_str(out: &mut Vec<u8>, tag: u32, text: &str) {
        if !text.is_empty() {
            head(out, tag, text.len());
            out.extend_from_slice(text.as_bytes());
        }
    }

    /// The bytes `put_str` writes (one-byte keys: every tag here is below 16).
    fn str_len(text: &str) -> usize {
        if text.is_empty() {
            0
        } else {
            1 + len_delimited(text.len())
        }
    }

    fn put_varint(out: &mut Vec<u8>, tag: u32, value: u64) {
        if value != 0 {
            encode_key(tag, WireType::Varint, out);
            encode_varint(value, out);
        }
    }

    /// An `int32`/`int64`/enum field: negative values as ten-byte varints, as protobuf has it.
    fn put_int(out: &mut Vec<u8>, tag: u32, value: i64) {
        put_varint(out, tag, value as u64);
    }

    /// The bytes `put_varint` writes (one-byte keys, as for `str_len`).
    fn varint_len(value: u64) -> usize {
        if value == 0 {
            0
        } else {
            1 + encoded_len_varint(value)
        }
    }

    /// A `common.v1.Money`, present.
    fn put_money(out: &mut Vec<u8>, tag: u32, fen: i64) {
        head(out, tag, varint_len(fen as u64));
        put_int(out, 1, fen);
    }

    /// A `common.v1.Date`, present.
    fn put_date(out: &mut Vec<u8>, tag: u32, day: time::Date) {
        let (year, month, day) = (
            i64::from(day.year()),
            i64::from(u8::from(day.month())),
            i64::from(day.day()),
        );
        let body = varint_len(year as u64) + varint_len(month as u64) + varint_len(day as u64);
        head(out, tag, body);
        put_int(out, 1, year);
        put_int(out, 2, month);
        put_int(out, 3, day);
    }
}

/// A line's period as its message's fields: the month, the decision version and the month
/// its back pay was first listed in.
fn period_fields(line: &PaymentLine) -> (Option<Date>, u64, Option<Date>) {
    match line.period {
        Period::Month(month) => (Some(month), line.decision.version, None),
        Period::OneOff { decision_version } => (None, decision_version, None),
        Period::BackPay { month, listed_in } => {
            (Some(month), line.decision.version, Some(listed_in))
        }
    }
}

fn line_to_pb(line: &PaymentLine) -> pb::PaymentLine {
    let (month, decision_version, back_pay_listed_in) = period_fields(line);
    pb::PaymentLine {
        line_no: line.line_no,
        case_id: line.case.to_string(),
        category: super::case::category_to_pb(line.category),
        amount: Some(line.amount.into()),
        decision_version,
        decided_on: Some(line.decision.decided_on.into()),
        standard: line.standard.map(super::policy::version_to_pb),
        payee: Some((&line.payee.citizen).into()),
        payee_name: line.payee.name.as_str().to_owned(),
        account: line.payee.account.expose().to_owned(),
        month: month.map(Into::into),
        back_pay_listed_in: back_pay_listed_in.map(Into::into),
        reissue_of: match line.kind {
            LineKind::Regular => None,
            LineKind::Reissue { cycle, line_no } => Some(pb::PaymentLineRef {
                cycle_id: cycle.to_string(),
                line_no,
            }),
        },
    }
}

fn line_from_pb(d: &Decoder<'_>, m: pb::PaymentLine) -> Result<PaymentLine, CodecError> {
    let decision = DecisionRef {
        version: m.decision_version,
        decided_on: d.date("lines.decided_on", &m.decided_on)?,
    };
    let period = match (&m.month, &m.back_pay_listed_in) {
        (None, None) => Period::OneOff {
            decision_version: m.decision_version,
        },
        (Some(_), None) => Period::Month(month(d, "lines.month", &m.month)?),
        (_, Some(_)) => Period::BackPay {
            month: month(d, "lines.month", &m.month)?,
            listed_in: month(d, "lines.back_pay_listed_in", &m.back_pay_listed_in)?,
        },
    };
    Ok(PaymentLine {
        line_no: line_no(d, "lines.line_no", m.line_no)?,
        case: case_id(d, "lines.case_id", &m.case_id)?,
        category: super::case::category_from_pb(d, "lines.category", m.category)?,
        period,
        amount: d.money("lines.amount", &m.amount)?,
        decision,
        standard: m
            .standard
            .as_ref()
            .map(|s| super::policy::version_from_pb(d, s))
            .transpose()?,
        payee: Arc::new(Payee {
            citizen: d.citizen("lines.payee", &m.payee)?,
            name: d.text("lines.payee_name", &m.payee_name)?,
            account: d.parse("lines.account", BankAccount::parse(&m.account))?,
        }),
        kind: match m.reissue_of {
            None => LineKind::Regular,
            Some(r) => LineKind::Reissue {
                cycle: cycle_id(d, &r.cycle_id)?,
                line_no: line_no(d, "lines.reissue_of.line_no", r.line_no)?,
            },
        },
    })
}

fn result_to_pb(result: &LineResult) -> pb::PaymentLineResult {
    let (outcome, reason) = match &result.outcome {
        Outcome::Paid => (pb::PaymentOutcome::Paid, String::new()),
        Outcome::Failed { reason } => (pb::PaymentOutcome::Failed, reason.as_str().to_owned()),
    };
    pb::PaymentLineResult {
        line_no: result.line_no,
        case_id: result.case.to_string(),
        amount: Some(result.amount.into()),
        outcome: outcome.into(),
        reason,
    }
}

fn result_from_pb(d: &Decoder<'_>, m: pb::PaymentLineResult) -> Result<LineResult, CodecError> {
    let outcome = match pb::PaymentOutcome::try_from(m.outcome) {
        Ok(pb::PaymentOutcome::Paid) => Outcome::Paid,
        Ok(pb::PaymentOutcome::Failed) => Outcome::Failed {
            reason: d.text("results.reason", &m.reason)?,
        },
        Ok(pb::PaymentOutcome::Unspecified) | Err(_) => {
            return Err(d.invalid("results.outcome is not a known outcome"));
        }
    };
    Ok(LineResult {
        line_no: line_no(d, "results.line_no", m.line_no)?,
        case: case_id(d, "results.case_id", &m.case_id)?,
        amount: d.money("results.amount", &m.amount)?,
        outcome,
    })
}

fn cycle_id(d: &Decoder<'_>, id: &str) -> Result<CycleId, CodecError> {
    d.parse("cycle_id", CycleId::parse(id))
}

fn case_id(d: &Decoder<'_>, field: &str, id: &str) -> Result<CaseId, CodecError> {
    d.parse(field, CaseId::parse(id))
}

fn digest(d: &Decoder<'_>, hex: &str) -> Result<Sha256Digest, CodecError> {
    d.parse("file_sha256", Sha256Digest::parse(hex))
}

/// A line number counts from 1.
fn line_no(d: &Decoder<'_>, field: &str, line_no: u32) -> Result<u32, CodecError> {
    if line_no == 0 {
        return Err(d.invalid(format!("{field}: line numbers count from 1")));
    }
    Ok(line_no)
}

/// A month is given by its first day.
fn month(d: &Decoder<'_>, field: &str, month: &Option<common::Date>) -> Result<Date, CodecError> {
    let day = d.date(field, month)?;
    if day.day() != 1 {
        return Err(d.invalid(format!("{field}: a month is given by its first day")));
    }
    Ok(day)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};

    use minzheng_kit::{aggregate::EventCodec, testing::assert_codec_round_trips};
    use minzheng_types::{BoundedText, Fen};
    use prost::Message;
    use time::macros::date;

    use super::*;
    use crate::{
        cycle::tests::{approved_event, generated_events, june, june_lines},
        payments::{
            BackPay, FailedLine, plan, plan_with_back_pay,
            tests::{county, monthly, one_off_from},
        },
    };

    /// Lines of every shape: monthly with a standard, a one-off without, a re-issue, back pay.
    fn varied_lines() -> Vec<PaymentLine> {
        let may = CycleId::new(county(), date!(2026 - 05 - 01)).expect("county");
        let failed = FailedLine {
            cycle: may,
            line: PaymentLine {
                line_no: 7,
                period: Period::Month(date!(2026 - 05 - 01)),
                ..june_lines()[0].clone()
            },
        };
        let mut single = monthly(5, 30_000);
        single.category = crate::category::Category::SinglePerson;
        let back_pay = BackPay {
            month: date!(2026 - 05 - 01),
            entitlement: monthly(2, 47_000),
            listed: Fen::new(45_050),
        };
        plan_with_back_pay(
            date!(2026 - 06 - 01),
            county(),
            [
                monthly(2, 45_050),
                one_off_from(3, 120_000, date!(2026 - 06 - 01)),
                single,
            ],
            [back_pay],
            &HashSet::new(),
            [failed],
        )
    }

    #[test]
    fn lines_are_written_as_prost_writes_them() {
        let mut long_name = june_lines();
        Arc::make_mut(&mut long_name[0].payee).name =
            minzheng_types::BoundedText::parse(&"买买提·艾力".repeat(15), 100).expect("valid");
        for lines in [varied_lines(), june_lines(), long_name, Vec::new()] {
            let event = cycle::LinesAdded {
                cycle: june(),
                lines,
            };
            assert_eq!(event.encode_message(), event.to_message().encode_to_vec());
        }
    }

    fn events() -> Vec<cycle::Event> {
        let mut events = generated_events(varied_lines());
        events.push(approved_event());
        events.push(cycle::Event::Exported(cycle::Exported {
            cycle: june(),
            file_sha256: Sha256Digest::of(b"file"),
            totals: Totals {
                count: 4,
                amount: Fen::new(261_550),
            },
            exported_on: date!(2026 - 06 - 06),
        }));
        let lines = varied_lines();
        events.push(cycle::Event::ResultsImported(cycle::ResultsImported {
            cycle: june(),
            file_sha256: Sha256Digest::of(b"results"),
            imported_on: date!(2026 - 06 - 12),
            results: vec![
                LineResult {
                    line_no: 1,
                    case: lines[0].case,
                    amount: lines[0].amount,
                    outcome: Outcome::Paid,
                },
                LineResult {
                    line_no: 2,
                    case: lines[1].case,
                    amount: lines[1].amount,
                    outcome: Outcome::Failed {
                        reason: BoundedText::parse("账户已销户", 200).expect("valid"),
                    },
                },
            ],
        }));
        events.push(cycle::Event::Settled(cycle::Settled {
            cycle: june(),
            paid: Totals {
                count: 3,
                amount: Fen::new(200_000),
            },
            failed: Totals {
                count: 1,
                amount: Fen::new(61_550),
            },
            settled_on: date!(2026 - 06 - 12),
        }));
        events
    }

    #[test]
    fn every_event_round_trips() {
        let lines = varied_lines();
        assert!(
            lines
                .iter()
                .any(|l| matches!(l.kind, LineKind::Reissue { .. }))
        );
        assert!(
            lines
                .iter()
                .any(|l| matches!(l.period, Period::OneOff { .. }))
        );
        assert!(lines.iter().any(|l| l.standard.is_none()));
        assert_codec_round_trips(events());
    }

    #[test]
    fn event_types_are_the_full_names_of_their_messages() {
        let names: BTreeSet<_> = events().iter().map(|e| e.event_type().to_owned()).collect();
        let expected: BTreeSet<_> = [
            "PaymentCycleGenerated",
            "PaymentLinesAdded",
            "PaymentCycleApproved",
            "PaymentCycleExported",
            "PaymentResultsImported",
            "PaymentCycleSettled",
        ]
        .map(|name| format!("minzheng.assistance.v1.{name}"))
        .into_iter()
        .collect();
        assert_eq!(names, expected);
        assert_eq!(cycle::Event::EVENT_TYPES.len(), 6);
    }

    /// 1,000 lines with long names and accounts fit a NATS message (1 MB) with room to spare.
    #[test]
    fn a_full_chunk_of_lines_stays_under_a_megabyte() {
        let long_name = "买".repeat(crate::payments::PAYEE_NAME_MAX_CHARS);
        let entitlements = (1..=1_000).map(|n| {
            let mut e = monthly(n, 99_999_999);
            let payee = Arc::make_mut(&mut e.payee);
            payee.name = BoundedText::parse(&long_name, 1_000).expect("valid");
            payee.account = BankAccount::parse(&"9".repeat(32)).expect("valid");
            e
        });
        let lines = plan(
            date!(2026 - 06 - 01),
            county(),
            entitlements,
            &HashSet::new(),
            [],
        );
        let event = cycle::Event::LinesAdded(cycle::LinesAdded {
            cycle: june(),
            lines,
        });
        let size = event.encode().len();
        assert!(size < 600_000, "{size} bytes");
    }

    fn invalid(event_type: &str, message: &impl Message) {
        let decoded = cycle::Event::decode(event_type, SCHEMA_VERSION, &message.encode_to_vec());
        assert!(
            matches!(decoded, Err(CodecError::Invalid { .. })),
            "{event_type} decoded to {decoded:?}"
        );
    }

    fn encoded<M: Message + Default>(event: &cycle::Event) -> M {
        M::decode(event.encode()).expect("encoded")
    }

    #[test]
    fn stored_lines_that_are_malformed_are_invalid() {
        const LINES_ADDED: &str = minzheng_host::message_name!(pb::PaymentLinesAdded);
        let m: pb::PaymentLinesAdded = encoded(&generated_events(varied_lines())[1]);
        let line = m.lines[0].clone();
        let variants = [
            pb::PaymentLine {
                line_no: 0,
                ..line.clone()
            },
            pb::PaymentLine {
                case_id: "210502-XX-2026-000001".into(),
                ..line.clone()
            },
            pb::PaymentLine {
                category: pb::AssistanceCategory::Unspecified.into(),
                ..line.clone()
            },
            pb::PaymentLine {
                amount: None,
                ..line.clone()
            },
            pb::PaymentLine {
                amount: Some(common::Money { fen: -1 }),
                ..line.clone()
            },
            pb::PaymentLine {
                payee: None,
                ..line.clone()
            },
            pb::PaymentLine {
                payee_name: String::new(),
                ..line.clone()
            },
            pb::PaymentLine {
                account: "6222-0202".into(),
                ..line.clone()
            },
            pb::PaymentLine {
                month: Some(date!(2026 - 06 - 02).into()),
                ..line.clone()
            },
            pb::PaymentLine {
                decided_on: None,
                ..line.clone()
            },
            pb::PaymentLine {
                reissue_of: Some(pb::PaymentLineRef {
                    cycle_id: "210502-2026".into(),
                    line_no: 1,
                }),
                ..line.clone()
            },
        ];
        for variant in variants {
            invalid(
                LINES_ADDED,
                &pb::PaymentLinesAdded {
                    lines: vec![variant],
                    ..m.clone()
                },
            );
        }
        invalid(
            LINES_ADDED,
            &pb::PaymentLinesAdded {
                cycle_id: "210502-202613".into(),
                ..m.clone()
            },
        );
        assert!(cycle::Event::decode(LINES_ADDED, SCHEMA_VERSION, &m.encode_to_vec()).is_ok());
    }

    #[test]
    fn stored_cycle_events_that_are_malformed_are_invalid() {
        let all = events();
        let g: pb::PaymentCycleGenerated = encoded(&all[0]);
        let generated = minzheng_host::message_name!(pb::PaymentCycleGenerated);
        for variant in [
            pb::PaymentCycleGenerated {
                county: None,
                ..g.clone()
            },
            pb::PaymentCycleGenerated {
                month: None,
                ..g.clone()
            },
            pb::PaymentCycleGenerated {
                total: None,
                ..g.clone()
            },
            pb::PaymentCycleGenerated {
                generated_on: None,
                ..g.clone()
            },
        ] {
            invalid(generated, &variant);
        }
        let e: pb::PaymentCycleExported = encoded(&all[3]);
        let exported = minzheng_host::message_name!(pb::PaymentCycleExported);
        invalid(
            exported,
            &pb::PaymentCycleExported {
                file_sha256: "AB".repeat(32),
                ..e.clone()
            },
        );
        invalid(
            exported,
            &pb::PaymentCycleExported {
                exported_on: None,
                ..e
            },
        );
        let r: pb::PaymentResultsImported = encoded(&all[4]);
        let imported = minzheng_host::message_name!(pb::PaymentResultsImported);
        let failed = r.results[1].clone();
        for variant in [
            pb::PaymentLineResult {
                reason: String::new(),
                ..failed.clone()
            },
            pb::PaymentLineResult {
                outcome: pb::PaymentOutcome::Unspecified.into(),
                ..failed.clone()
            },
            pb::PaymentLineResult {
                line_no: 0,
                ..failed.clone()
            },
        ] {
            invalid(
                imported,
                &pb::PaymentResultsImported {
                    results: vec![variant],
                    ..r.clone()
                },
            );
        }
        let s: pb::PaymentCycleSettled = encoded(&all[5]);
        invalid(
            minzheng_host::message_name!(pb::PaymentCycleSettled),
            &pb::PaymentCycleSettled {
                settled_on: None,
                ..s
            },
        );
        invalid(
            minzheng_host::message_name!(pb::PaymentCycleApproved),
            &pb::PaymentCycleApproved {
                cycle_id: "210500-202606".into(),
                approved_on: Some(date!(2026 - 06 - 05).into()),
            },
        );
        assert!(matches!(
            cycle::Event::decode(generated, SCHEMA_VERSION + 1, &[]),
            Err(CodecError::UnsupportedVersion { .. })
        ));
    }

    /// A stored total that the lines do not add up to (a rule, not a shape) is read as recorded.
    #[test]
    fn stored_totals_are_read_as_recorded() {
        let g: pb::PaymentCycleGenerated = encoded(&generated_events(varied_lines())[0]);
        let decoded = cycle::Event::decode(
            minzheng_host::message_name!(pb::PaymentCycleGenerated),
            SCHEMA_VERSION,
            &pb::PaymentCycleGenerated {
                line_count: 99,
                ..g
            }
            .encode_to_vec(),
        );
        assert!(matches!(decoded, Ok(cycle::Event::Generated(g)) if g.totals.count == 99));
    }
}
