//! A payment cycle end to end (资金发放), embedded with both stand-ins: three households of
//! 平山区 approved with different amounts; the cycle of the first month they are paid generated
//! to the fen of the benefits in force, approved, exported as the bank file
//! (`docs/bank-file.md`, the same bytes every time), the bank's result file with one failed line
//! imported (once: a repeat changes nothing), and the failed line re-issued once by the next
//! month's cycle. A malformed result file and an export before approval are refused; temporary
//! assistance paid at once from a reserve fund is never in a cycle; a terminated case stops
//! being paid from the month after; a standard back-dated over a listed month pays the
//! difference in the next cycle (补发).

use minzheng_host::testing::with_token;
use minzheng_proto::{assistance::v1 as pb, common::v1 as common};
use sha2::{Digest as _, Sha256};
use sqlx::{Connection as _, PgConnection};
use time::macros::date;

use crate::support::{
    self, Client, DONGMING_STREET, OLD_MAN, OLD_WOMAN, PINGSHAN, PINGSHAN_STREET, XIHU_MAN,
    XIHU_WOMAN, approve_in, approver, bad_fields, caseworker, in_notice, metadata, refusal_rule,
    submit, violations_of, yuan,
};

/// The day the households' notices (posted on [`support::FIRST_DAY`]) are over and the county
/// decides: after the National Day holiday. The benefits are paid from November 2025.
const DECIDED_ON: time::Date = date!(2025 - 10 - 09);
const NOVEMBER: time::Date = date!(2025 - 11 - 01);
const DECEMBER: time::Date = date!(2025 - 12 - 01);
const JANUARY: time::Date = date!(2026 - 01 - 01);
const FEBRUARY: time::Date = date!(2026 - 02 - 01);
const HEADER: &str = "record_type,line_no,case_id,payee_name,account,amount_yuan";
const RESULT_HEADER: &str = "line_no,case_id,amount_yuan,status,reason";

/// Approves, in 平山区, the households of `requests` (each at its own township's window,
/// verified with the incomes the caller configured), posted for notice on the first day and
/// decided on [`DECIDED_ON`]; returns their case ids in order.
async fn approved(
    hosted: &support::Hosted,
    client: &mut Client,
    requests: Vec<pb::SubmitApplicationRequest>,
) -> Vec<String> {
    let mut ids = Vec::new();
    for request in requests {
        ids.push(in_notice(client, &hosted.host, request).await);
    }
    hosted.clock.set(DECIDED_ON);
    let mut last = None;
    for id in &ids {
        last = Some(approve_in(client, id, PINGSHAN).await);
    }
    hosted.host.settle().await;
    // The service's read model has applied the approvals (the last one, so every one): the
    // amounts the tests read back (`ExplainBenefit`) are the approved ones.
    if let (Some(id), Some(last)) = (ids.last(), last) {
        client
            .explain_benefit(with_token(
                pb::ExplainBenefitRequest {
                    case_id: id.clone(),
                    month: support::day(DECIDED_ON),
                    read: support::after(&last.result),
                },
                &approver(PINGSHAN),
            ))
            .await
            .expect("the approvals applied");
    }
    ids
}

/// The family of three (630.00 元 a month), an old couple (500.00 元) and a couple of 东明街道
/// (333.33 元): three different amounts.
fn three_households(answers: &support::Verifications) -> Vec<pb::SubmitApplicationRequest> {
    support::family_earns_630(answers);
    answers.income(OLD_MAN, 50_000);
    answers.income(XIHU_MAN, 33_333);
    vec![
        support::family_of_three(),
        support::dibao(PINGSHAN_STREET, PINGSHAN_STREET, &[OLD_MAN, OLD_WOMAN], &[]),
        support::dibao(
            DONGMING_STREET,
            DONGMING_STREET,
            &[XIHU_MAN, XIHU_WOMAN],
            &[],
        ),
    ]
}

/// Case `id`'s benefit for `month`, as 平山区's approver reads it.
async fn explain(client: &mut Client, id: &str, month: time::Date) -> pb::ExplainBenefitResponse {
    client
        .explain_benefit(with_token(
            pb::ExplainBenefitRequest {
                case_id: id.to_owned(),
                month: support::day(month),
                read: None,
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect("explained")
        .into_inner()
}

/// The fen case `id` is due for `month`.
async fn due(client: &mut Client, id: &str, month: time::Date) -> i64 {
    explain(client, id, month).await.amount.map_or(0, |m| m.fen)
}

async fn generate(client: &mut Client, month: time::Date) -> pb::GeneratePaymentCycleResponse {
    client
        .generate_payment_cycle(with_token(
            pb::GeneratePaymentCycleRequest {
                metadata: metadata(),
                county: support::region(PINGSHAN),
                month: support::day(month),
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect("generated")
        .into_inner()
}

async fn approve_cycle(client: &mut Client, cycle_id: &str) {
    client
        .approve_payment_cycle(with_token(
            pb::ApprovePaymentCycleRequest {
                metadata: metadata(),
                cycle_id: cycle_id.to_owned(),
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect("approved");
}

async fn export(
    client: &mut Client,
    cycle_id: &str,
) -> Result<pb::ExportPaymentCycleResponse, tonic::Status> {
    client
        .export_payment_cycle(with_token(
            pb::ExportPaymentCycleRequest {
                metadata: metadata(),
                cycle_id: cycle_id.to_owned(),
            },
            &approver(PINGSHAN),
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn import(
    client: &mut Client,
    cycle_id: &str,
    file: &str,
) -> Result<pb::ImportPaymentResultsResponse, tonic::Status> {
    client
        .import_payment_results(with_token(
            pb::ImportPaymentResultsRequest {
                metadata: metadata(),
                cycle_id: cycle_id.to_owned(),
                file: file.as_bytes().to_vec(),
            },
            &approver(PINGSHAN),
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn cycle(client: &mut Client, cycle_id: &str) -> pb::GetPaymentCycleResponse {
    client
        .get_payment_cycle(with_token(
            pb::GetPaymentCycleRequest {
                cycle_id: cycle_id.to_owned(),
                read: None,
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect("read")
        .into_inner()
}

/// Generates, approves and exports the cycle of `month`.
async fn exported(
    client: &mut Client,
    month: time::Date,
) -> (String, pb::ExportPaymentCycleResponse) {
    let generated = generate(client, month).await;
    approve_cycle(client, &generated.cycle_id).await;
    let file = export(client, &generated.cycle_id)
        .await
        .expect("exported once approved");
    (generated.cycle_id, file)
}

/// The bank's result file for a cycle of three lines (`cases` paid `amounts`): line 2 failed.
fn second_line_failed(cases: &[String], amounts: &[i64]) -> String {
    format!(
        "{RESULT_HEADER}\r\n1,{},{},PAID,\r\n2,{},{},FAILED,账户已销户\r\n3,{},{},PAID,\r\n",
        cases[0],
        yuan_text(amounts[0]),
        cases[1],
        yuan_text(amounts[1]),
        cases[2],
        yuan_text(amounts[2])
    )
}

/// `fen` as the bank file writes yuan: two decimals, no separators.
fn yuan_text(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// A payment file's rows between the header and the TOTAL row, each as its fields; checks the
/// header, the CRLF endings and the TOTAL row (the line count, the cycle id, `total` fen).
fn payment_rows(file: &[u8], cycle_id: &str, total: i64) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(file).expect("UTF-8");
    assert!(!text.starts_with('\u{feff}'), "no byte-order mark");
    assert!(text.ends_with("\r\n"), "the last row ends with CRLF");
    let rows: Vec<&str> = text.trim_end_matches("\r\n").split("\r\n").collect();
    assert_eq!(rows.first(), Some(&HEADER));
    let lines: Vec<Vec<String>> = rows[1..rows.len() - 1]
        .iter()
        .map(|row| row.split(',').map(str::to_owned).collect())
        .collect();
    assert_eq!(
        rows.last().copied(),
        Some(format!("TOTAL,{},{cycle_id},,,{}", lines.len(), yuan_text(total)).as_str())
    );
    for (n, line) in lines.iter().enumerate() {
        assert_eq!(line.len(), 6, "{line:?}");
        assert_eq!(line[0], "LINE");
        assert_eq!(line[1], (n + 1).to_string());
        assert_eq!(line[3], "成员", "the applicant's name");
        assert_eq!(line[4], "6222020000000000012");
    }
    lines
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn money(fen: i64) -> Option<common::Money> {
    Some(common::Money { fen })
}

/// The cycle's totals.
fn totals(totals: Option<pb::CycleTotals>) -> pb::CycleTotals {
    totals.expect("totals")
}

/// The "Must show": generate a month, export, import a result file with one failed
/// line, re-issue it next month; the totals match the active benefits to the fen.
#[tokio::test]
async fn a_payment_cycle_pays_the_benefits_in_force_and_reissues_a_failed_line_next_month() {
    let hosted = support::embedded_verified().await;
    let mut client = hosted.client.clone();
    let cases = approved(&hosted, &mut client, three_households(&hosted.answers)).await;
    hosted.clock.set(date!(2025 - 10 - 27));
    let mut november = Vec::new();
    for id in &cases {
        november.push(due(&mut client, id, NOVEMBER).await);
    }
    assert!(november.iter().all(|fen| *fen > 0), "{november:?}");
    assert_ne!(november[0], november[1]);
    assert_ne!(november[1], november[2]);
    let november_total: i64 = november.iter().sum();

    // Generated to the fen of the benefits in force; not exportable before the approval.
    let generated = generate(&mut client, NOVEMBER).await;
    assert_eq!(generated.cycle_id, "210502-202511");
    let cycle_id = generated.cycle_id.clone();
    let totals_generated = totals(generated.totals);
    assert_eq!(totals_generated.generated_count, 3);
    assert_eq!(totals_generated.generated_total, money(november_total));
    assert_eq!(totals_generated.pending_total, money(november_total));
    let early = export(&mut client, &cycle_id)
        .await
        .expect_err("not approved yet");
    assert_eq!(refusal_rule(&early), "cycle_not_approved");

    // The bank file: a row per case in case-id order, the TOTAL row; the same bytes again.
    approve_cycle(&mut client, &cycle_id).await;
    let first = export(&mut client, &cycle_id).await.expect("exported");
    assert_eq!(first.sha256, sha256_hex(&first.file));
    assert_eq!(totals(first.totals).generated_total, money(november_total));
    let lines = payment_rows(&first.file, &cycle_id, november_total);
    let listed: Vec<(&str, String)> = lines
        .iter()
        .map(|l| (l[2].as_str(), l[5].clone()))
        .collect();
    let expected: Vec<(&str, String)> = cases
        .iter()
        .map(String::as_str)
        .zip(november.iter().map(|fen| yuan_text(*fen)))
        .collect();
    assert_eq!(listed, expected);
    let again = export(&mut client, &cycle_id)
        .await
        .expect("exported again");
    assert_eq!(again.file, first.file, "byte-identical");
    assert_eq!(again.sha256, first.sha256);

    // A malformed result file: refused whole, naming the row, nothing applied.
    let bad = format!(
        "{RESULT_HEADER}\r\n1,{},{},PAID,\r\n2,{},{},FAILED,\r\n",
        cases[0],
        yuan_text(november[0]),
        cases[1],
        yuan_text(november[1])
    );
    let refused = import(&mut client, &cycle_id, &bad)
        .await
        .expect_err("a FAILED row without its reason");
    let problems = violations_of(&refused, "file");
    assert!(problems.iter().any(|p| p.contains("row 3")), "{problems:?}");
    let untouched = cycle(&mut client, &cycle_id).await;
    assert_eq!(
        pb::CycleStatus::try_from(untouched.status),
        Ok(pb::CycleStatus::Exported)
    );
    assert_eq!(totals(untouched.totals).pending_count, 3);

    // The bank's results: line 2 failed.
    let results = second_line_failed(&cases, &november);
    let imported = import(&mut client, &cycle_id, &results)
        .await
        .expect("imported");
    let settled = totals(imported.totals);
    assert_eq!(settled.paid_count, 2);
    assert_eq!(settled.paid_total, money(november[0] + november[2]));
    assert_eq!(settled.failed_count, 1);
    assert_eq!(settled.failed_total, money(november[1]));
    assert_eq!(settled.pending_count, 0);
    assert_eq!(settled.pending_total, money(0));
    assert_eq!(settled.generated_total, money(november_total));
    let position = imported.result.as_ref().map_or(0, |r| r.position);
    assert!(position > 0);

    // The same file again: nothing changes, nothing is recorded.
    let repeat = import(&mut client, &cycle_id, &results)
        .await
        .expect("a repeat is accepted");
    assert_eq!(repeat.totals, Some(settled));
    let repeat_position = repeat.result.as_ref().map_or(0, |r| r.position);
    assert!(
        repeat_position == 0 || repeat_position == position,
        "{repeat:?} after {position}"
    );
    let read = cycle(&mut client, &cycle_id).await;
    assert_eq!(
        pb::CycleStatus::try_from(read.status),
        Ok(pb::CycleStatus::Settled)
    );
    assert_eq!(read.totals, Some(settled));
    assert_eq!(
        read.failed,
        [pb::PaymentLineRef {
            cycle_id: cycle_id.clone(),
            line_no: 2
        }]
    );

    // December: every case's December, and the failed November line once more.
    hosted.clock.set(date!(2025 - 11 - 24));
    let mut december = Vec::new();
    for id in &cases {
        december.push(due(&mut client, id, DECEMBER).await);
    }
    let december_total: i64 = december.iter().sum::<i64>() + november[1];
    let (december_id, file) = exported(&mut client, DECEMBER).await;
    assert_eq!(december_id, "210502-202512");
    let december_totals = totals(file.totals);
    assert_eq!(december_totals.generated_count, 4);
    assert_eq!(december_totals.generated_total, money(december_total));
    let lines = payment_rows(&file.file, &december_id, december_total);
    let mut paid: Vec<(String, String)> =
        lines.iter().map(|l| (l[2].clone(), l[5].clone())).collect();
    paid.sort();
    let mut expected: Vec<(String, String)> = cases
        .iter()
        .cloned()
        .zip(december.iter().map(|fen| yuan_text(*fen)))
        .chain([(cases[1].clone(), yuan_text(november[1]))])
        .collect();
    expected.sort();
    assert_eq!(paid, expected);

    // January re-issues nothing more: the failed line was paid again once.
    hosted.clock.set(date!(2025 - 12 - 22));
    let january = generate(&mut client, JANUARY).await;
    let mut january_total = 0;
    for id in &cases {
        january_total += due(&mut client, id, JANUARY).await;
    }
    let january_totals = totals(january.totals);
    assert_eq!(january_totals.generated_count, 3);
    assert_eq!(january_totals.generated_total, money(january_total));
    hosted.host.shutdown().await;
}

/// 《社会救助暂行办法》第四十八条 (情况紧急的，可以按照规定简化审批手续) and 民发〔2018〕23号 (先行救助):
/// temporary assistance a township paid at once from its reserve fund is paid already, never
/// listed by a cycle; a case the county stopped (停发, 《社会救助暂行办法》第十三条) is paid for the
/// month it was stopped in, not after.
#[tokio::test]
async fn aid_paid_at_once_is_never_in_a_cycle_and_a_terminated_case_stops_the_month_after() {
    let hosted = support::embedded_verified().await;
    let mut client = hosted.client.clone();
    support::family_earns_630(&hosted.answers);
    hosted.answers.income(OLD_MAN, 50_000);
    let cases = approved(
        &hosted,
        &mut client,
        vec![
            support::family_of_three(),
            support::dibao(PINGSHAN_STREET, PINGSHAN_STREET, &[OLD_MAN, OLD_WOMAN], &[]),
        ],
    )
    .await;

    // Temporary assistance of 300.00 元 paid at once from 平山街道's reserve fund.
    client
        .replenish_reserve_fund(with_token(
            pb::ReplenishReserveFundRequest {
                metadata: metadata(),
                township: support::region(PINGSHAN_STREET),
                amount: yuan(100_000),
                reference: "平财社〔2025〕12号".to_owned(),
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect("replenished");
    client
        .record_standard(with_token(
            pb::RecordStandardRequest {
                metadata: metadata(),
                county: support::region(PINGSHAN),
                standard: Some(pb::record_standard_request::Standard::TemporaryAidLimit(
                    pb::TemporaryAidLimit {
                        township: None,
                        amount: yuan(50_000),
                    },
                )),
                effective_from: support::day(DECIDED_ON),
                decided_by: "平政发〔2025〕3号".to_owned(),
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect("the limit recorded");
    let temporary = submit(&mut client, support::temporary(PINGSHAN_STREET, 30_000)).await;
    hosted.host.settle().await;
    client
        .pay_temporary_aid_at_once(with_token(
            pb::PayTemporaryAidAtOnceRequest {
                metadata: metadata(),
                case_id: temporary.case_id.clone(),
                amount: yuan(30_000),
            },
            &caseworker(PINGSHAN_STREET),
        ))
        .await
        .expect("paid at once");

    // Ended in November: paid for November, not for December.
    hosted.clock.set(date!(2025 - 11 - 10));
    client
        .terminate_case(with_token(
            pb::TerminateCaseRequest {
                metadata: metadata(),
                case_id: cases[1].clone(),
                reason: "家庭收入超过低保标准".to_owned(),
            },
            &approver(PINGSHAN),
        ))
        .await
        .expect("terminated");
    hosted.host.settle().await;
    let novembers = [
        due(&mut client, &cases[0], NOVEMBER).await,
        due(&mut client, &cases[1], NOVEMBER).await,
    ];
    assert!(novembers.iter().all(|fen| *fen > 0), "{novembers:?}");
    let ended = explain(&mut client, &cases[1], DECEMBER).await;
    assert_eq!(ended.amount, money(0));

    let (november_id, file) = exported(&mut client, NOVEMBER).await;
    let lines = payment_rows(&file.file, &november_id, novembers.iter().sum());
    let paid: Vec<&str> = lines.iter().map(|l| l[2].as_str()).collect();
    assert_eq!(paid, [cases[0].as_str(), cases[1].as_str()]);
    let text = String::from_utf8(file.file).expect("UTF-8");
    assert!(!text.contains(&temporary.case_id), "paid at once already");

    let (december_id, file) = exported(&mut client, DECEMBER).await;
    let december = due(&mut client, &cases[0], DECEMBER).await;
    let lines = payment_rows(&file.file, &december_id, december);
    let paid: Vec<&str> = lines.iter().map(|l| l[2].as_str()).collect();
    assert_eq!(paid, [cases[0].as_str()], "the ended case is not paid");
    hosted.host.shutdown().await;
}

/// Back pay (补发): a raise decided in December with effect from November, whose list went out
/// at the old standard, re-computes November and December; December's cycle pays December at
/// the new amount and, beside it, each household's November difference; January's owes nothing
/// more for November. A back-dated standard lower than the one it replaces is refused and
/// changes nothing.
#[tokio::test]
async fn a_standard_back_dated_over_a_listed_month_pays_the_difference_in_the_next_cycle() {
    let hosted = support::embedded_verified().await;
    let mut client = hosted.client.clone();
    let cases = approved(&hosted, &mut client, three_households(&hosted.answers)).await;
    hosted.clock.set(date!(2025 - 10 - 27));
    let mut listed = Vec::new();
    for id in &cases {
        listed.push(due(&mut client, id, NOVEMBER).await);
    }
    let (november_cycle, _) = exported(&mut client, NOVEMBER).await;
    assert_eq!(november_cycle, "210502-202511");

    let mut lower = support::urban_700(NOVEMBER);
    if let Some(pb::record_standard_request::Standard::Dibao(d)) = &mut lower.standard {
        d.amount = yuan(60_000);
    }
    // Mid-November, from the 1st: not back-dated, but November is listed; only a raise may
    // reach a listed month (a lower standard would leave it overpaid, unrecorded).
    hosted.clock.set(date!(2025 - 11 - 15));
    let refused = client
        .record_standard(with_token(lower.clone(), &approver(PINGSHAN)))
        .await
        .expect_err("November is listed");
    assert_eq!(refusal_rule(&refused), "month_already_paid");

    hosted.clock.set(date!(2025 - 12 - 10));
    let refused = client
        .record_standard(with_token(lower, &approver(PINGSHAN)))
        .await
        .expect_err("lower than 665.00 on its day");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert_eq!(refusal_rule(&refused), "back_dated_decrease");
    hosted.host.settle().await;
    assert_eq!(due(&mut client, &cases[0], NOVEMBER).await, listed[0]);

    let recorded = client
        .record_standard(with_token(
            support::urban_700(NOVEMBER),
            &approver(PINGSHAN),
        ))
        .await
        .expect("a raise may be back-dated")
        .into_inner();
    assert_eq!(recorded.recalculated_cases, 3, "{recorded:?}");
    hosted.host.settle().await;
    let mut owed = Vec::new();
    let mut december = Vec::new();
    for (id, before) in cases.iter().zip(&listed) {
        let november = due(&mut client, id, NOVEMBER).await;
        assert!(november > *before, "{id}: {before} → {november}");
        owed.push(november - before);
        december.push(due(&mut client, id, DECEMBER).await);
    }
    let explained = explain(&mut client, &cases[0], NOVEMBER).await;
    let formula = explained.calculation.map(|c| c.formula).unwrap_or_default();
    assert!(formula.contains("700.00"), "{formula}");

    // December: each case's month, then its November back pay (by case id, then period).
    let (december_cycle, file) = exported(&mut client, DECEMBER).await;
    let total = december.iter().sum::<i64>() + owed.iter().sum::<i64>();
    let rows = payment_rows(&file.file, &december_cycle, total);
    let paid: Vec<(&str, String)> = rows.iter().map(|l| (l[2].as_str(), l[5].clone())).collect();
    let expected: Vec<(&str, String)> = cases
        .iter()
        .zip(december.iter().zip(&owed))
        .flat_map(|(id, (month, back_pay))| {
            [
                (id.as_str(), yuan_text(*month)),
                (id.as_str(), yuan_text(*back_pay)),
            ]
        })
        .collect();
    assert_eq!(paid, expected);

    // January: November is paid in full; only January's amounts.
    let (january_cycle, file) = exported(&mut client, JANUARY).await;
    let mut january = Vec::new();
    for id in &cases {
        january.push(due(&mut client, id, JANUARY).await);
    }
    let rows = payment_rows(&file.file, &january_cycle, january.iter().sum());
    assert_eq!(rows.len(), cases.len(), "{rows:?}");
    hosted.host.shutdown().await;
}

/// Generates `month`'s cycle under idempotency key `key`.
async fn generate_keyed(
    client: &mut Client,
    month: time::Date,
    key: &str,
) -> Result<pb::GeneratePaymentCycleResponse, tonic::Status> {
    client
        .generate_payment_cycle(with_token(
            pb::GeneratePaymentCycleRequest {
                metadata: Some(common::CommandMetadata {
                    idempotency_key: key.to_owned(),
                    ..metadata().unwrap_or_default()
                }),
                county: support::region(PINGSHAN),
                month: support::day(month),
            },
            &approver(PINGSHAN),
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// Two months' cycles of one county generated at the same moment (two operators, two
/// replicas): each plan depends on the other cycles, so generation is serialised through the
/// county's payment ledger and the failed November line is re-issued by exactly one of them.
/// A retried generation answers its first outcome; another command for a generated month is
/// refused.
#[tokio::test]
async fn cycles_generated_at_the_same_moment_reissue_a_failed_line_once() {
    let hosted = support::embedded_verified().await;
    let mut client = hosted.client.clone();
    november_with_a_failed_line(&hosted, &mut client).await;
    hosted.clock.set(date!(2025 - 12 - 22));
    let mut other = hosted.client.clone();
    let (december, january) = tokio::join!(
        generate_keyed(&mut client, DECEMBER, "generate-december"),
        generate_keyed(&mut other, JANUARY, "generate-january"),
    );
    let (december, january) = (
        december.expect("December generated"),
        january.expect("January generated"),
    );
    let counts = [
        totals(december.totals).generated_count,
        totals(january.totals).generated_count,
    ];
    assert_eq!(
        counts.iter().sum::<u32>(),
        3 + 3 + 1,
        "each case in each month, and the failed November line once: {counts:?}"
    );
    assert!(counts.contains(&4), "{counts:?}");

    // The retry of either answers what it generated; another command is refused.
    let retried = generate_keyed(&mut client, JANUARY, "generate-january")
        .await
        .expect("a retry answers");
    assert_eq!(retried.cycle_id, january.cycle_id);
    assert_eq!(retried.totals, january.totals);
    let first = january.result.expect("a result");
    let again = retried.result.expect("a result");
    assert_eq!(again, first, "where the first attempt recorded it");
    let refused = generate_keyed(&mut client, JANUARY, "another-command")
        .await
        .expect_err("generated already");
    assert_eq!(refusal_rule(&refused), "cycle_already_generated");

    // January's key reused for another month generates nothing: the month is then generated
    // under a key of its own.
    let reused = generate_keyed(&mut client, FEBRUARY, "generate-january")
        .await
        .expect_err("the key served January");
    assert_eq!(bad_fields(&reused), ["idempotency_key"], "{reused:?}");
    let february = generate_keyed(&mut client, FEBRUARY, "generate-february")
        .await
        .expect("February generated under its own key");
    assert_ne!(february.cycle_id, january.cycle_id);
    assert_eq!(totals(february.totals).generated_count, 3);
    hosted.host.shutdown().await;
}

/// On PostgreSQL the read model stops short of any transaction still open in the database (an
/// other county's cycle being copied in, say): a cycle generated meanwhile still plans from the
/// county's last cycle, which its ledger names, and re-issues the failed line once.
#[tokio::test]
async fn a_cycle_generated_behind_a_long_transaction_sees_the_county_s_last_cycle() {
    let hosted = support::distributed().await;
    let mut client = hosted.client.clone();
    november_with_a_failed_line(&hosted, &mut client).await;
    hosted.clock.set(date!(2025 - 12 - 22));
    let mut held = PgConnection::connect(hosted.host.database_url("assistance"))
        .await
        .expect("connect");
    sqlx::query("BEGIN")
        .execute(&mut held)
        .await
        .expect("begin");
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut held)
        .await
        .expect("a transaction id, older than what follows");
    let december = generate(&mut client, DECEMBER).await;
    assert_eq!(
        totals(december.totals).generated_count,
        4,
        "re-issued in December"
    );
    let january = generate(&mut client, JANUARY).await;
    assert_eq!(
        totals(january.totals).generated_count,
        3,
        "not again in January"
    );
    sqlx::query("ROLLBACK")
        .execute(&mut held)
        .await
        .expect("rollback");
    hosted.host.shutdown().await;
}

/// The three households' November cycle exported and its results imported: line 2 failed.
async fn november_with_a_failed_line(hosted: &support::Hosted, client: &mut Client) {
    let cases = approved(hosted, client, three_households(&hosted.answers)).await;
    hosted.clock.set(date!(2025 - 10 - 27));
    let mut november = Vec::new();
    for id in &cases {
        november.push(due(client, id, NOVEMBER).await);
    }
    let (november_id, _) = exported(client, NOVEMBER).await;
    let results = second_line_failed(&cases, &november);
    import(client, &november_id, &results)
        .await
        .expect("imported");
}
