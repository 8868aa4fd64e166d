//! Given/when/then rule tests for the case aggregate ([`super::Case`]), one rule a test, each
//! with the regulation's wording beside it:
//!
//! - 《最低生活保障审核确认办法》(民发〔2021〕57号), cited as 57号: the path of an application
//!   for dibao (and, by reference, low income and single-person coverage);
//! - 《社会救助暂行办法》(国务院令第649号): temporary assistance and changes of a household;
//! - 《特困人员认定办法》(民发〔2021〕43号): extreme-poverty support.
//!
//! Article numbers that could not be checked against a published text are given as the case
//! module gives them; the wording quoted is the regulation's.
//!
//! The calendar of the standard scenario (2026): submitted Monday 2 March, verified 5 March,
//! reviewed by the township 9 March, notice posted 10 March (over on 17 March), decided
//! 18 March, benefit from 1 April.

use std::collections::BTreeSet;

use minzheng_kit::testing::{assert_codec_round_trips, given};
use time::macros::date;

use super::*;
use crate::household::{
    Authorization, DataClass, Income, IncomeKind, Member, Relation, SelfCare, WorkCapacity,
};

/// The only place a calculation is built: the benefit module replaces the placeholder
/// [`Calculation`], and this helper is adapted with it.
fn calc(amount_fen: i64) -> Calculation {
    Calculation {
        method: crate::benefit::Method::Difference,
        versions: Vec::new(),
        inputs: crate::benefit::Inputs {
            size: 1,
            total_monthly_income: Fen::ZERO,
            per_capita_monthly_income: Fen::ZERO,
            member_monthly_income: None,
            self_care: Vec::new(),
        },
        formula: format!("{amount_fen} fen"),
        monthly_amount: Fen::new(amount_fen),
    }
}

// ---- the calendar of the standard scenario ----

const SUBMITTED: Date = date!(2026 - 03 - 02);
const VERIFIED: Date = date!(2026 - 03 - 05);
const REVIEWED: Date = date!(2026 - 03 - 09);
const POSTED: Date = date!(2026 - 03 - 10);
/// The first day after the seven days of notice.
const NOTICE_OVER: Date = date!(2026 - 03 - 17);
const DECIDED: Date = date!(2026 - 03 - 18);
const STARTS: Date = date!(2026 - 04 - 01);

/// The monthly amount the standard scenario approves: 1 230 元.
const AMOUNT: i64 = 123_000;

// ---- who and where ----

fn code(digits: &str) -> RegionCode {
    RegionCode::parse(digits).expect("valid region code")
}

/// 本溪市平山区, the county deciding.
fn county() -> RegionCode {
    code("210502000000")
}

/// 平山区 平山街道, the registered township and the window.
fn township() -> RegionCode {
    code("210502001000")
}

fn citizen(number: &str) -> CitizenId {
    CitizenId::parse(number).expect("valid citizen id")
}

/// The applicant, born 1958.
fn applicant() -> CitizenId {
    citizen("210502195803120025")
}

/// The applicant's husband, born 1960, severely disabled.
fn spouse() -> CitizenId {
    citizen("21050219600825001X")
}

/// Their grandchild, born 2012: a minor, who signs no authorization.
fn grandchild() -> CitizenId {
    citizen("210502201205060040")
}

/// Someone outside the household.
fn stranger() -> CitizenId {
    citizen("210502198501010035")
}

fn everyone() -> Vec<CitizenId> {
    vec![applicant(), spouse(), grandchild()]
}

fn text(value: &str) -> BoundedText {
    BoundedText::parse(value, 500).expect("valid text")
}

fn id(category: Category) -> CaseId {
    CaseId::new(county(), category, 2026, 1).expect("valid case id")
}

fn member(citizen: CitizenId, name: &str, relation: Relation) -> Member {
    Member {
        citizen,
        name: text(name),
        relation,
        seriously_ill: false,
        severely_disabled: false,
        work_capacity: Some(WorkCapacity::Partial),
        self_care: Some(SelfCare::Able),
    }
}

fn authorization(signed_by: CitizenId) -> Authorization {
    Authorization {
        signed_by,
        signed_on: SUBMITTED,
        data_classes: DataClass::ALL.into_iter().collect::<BTreeSet<_>>(),
        expires_on: date!(2027 - 03 - 01),
    }
}

fn household() -> Household {
    let mut husband = member(spouse(), "李建国", Relation::Spouse);
    husband.severely_disabled = true;
    husband.work_capacity = Some(WorkCapacity::None);
    husband.self_care = Some(SelfCare::PartiallyUnable);
    Household {
        applicant: applicant(),
        members: vec![
            member(applicant(), "王秀英", Relation::Applicant),
            husband,
            member(grandchild(), "李小雨", Relation::Grandchild),
        ],
        incomes: vec![Income {
            member: applicant(),
            kind: IncomeKind::Pension,
            monthly: Fen::new(90_000),
        }],
        assets: vec![crate::household::Asset {
            owner: applicant(),
            kind: crate::household::AssetKind::Deposits,
            value: Fen::new(500_000),
        }],
        authorizations: vec![authorization(applicant()), authorization(spouse())],
    }
}

fn particulars(category: Category) -> Particulars {
    match category {
        Category::Dibao | Category::LowIncome => Particulars::None,
        Category::SinglePerson => Particulars::SinglePerson { covered: spouse() },
        Category::Tekun => Particulars::Tekun {
            care: CareArrangement::AtHome,
            has_able_supporter: false,
            care_at_home_reason: Some(text("本人意愿居家，亲属就近照料")),
        },
        Category::Temporary => Particulars::Temporary {
            hardship: Hardship::Illness,
            requested: Fen::new(300_000),
        },
        Category::Heating => Particulars::Heating {
            winter: 2025,
            related_case: id(Category::Dibao),
        },
    }
}

fn application(category: Category) -> Application {
    Application {
        case_id: id(category),
        category,
        county: county(),
        registered_division: township(),
        resolved_division: township(),
        window: township(),
        area: Area::Urban,
        household: household(),
        payment_account: crate::payments::BankAccount::parse("6217000123456789")
            .expect("valid account"),
        submitted_on: SUBMITTED,
        particulars: particulars(category),
    }
}

// ---- events ----

fn submitted(category: Category) -> Event {
    Event::Submitted(Box::new(application(category)))
}

fn requested(category: Category, request: u32, purpose: Purpose, on: Date) -> Event {
    let members = match purpose {
        Purpose::Application => everyone(),
        Purpose::Review => application(category).covered_members(),
    };
    Event::VerificationRequested(VerificationRequested {
        case_id: id(category),
        request,
        purpose,
        members,
        authorizations: household().authorizations,
        requested_on: on,
        county: county(),
        area: Some(application(category).area),
    })
}

fn verification(request: u32, on: Date) -> Verification {
    Verification {
        request,
        total_monthly_income: Fen::new(90_000),
        incomes: vec![(applicant(), Fen::new(90_000))],
        total_assets: Fen::new(500_000),
        flags: vec!["PENSION_SOURCE_SOCIAL_SECURITY".to_owned()],
        verified_on: on,
    }
}

fn received(category: Category, request: u32, on: Date) -> Event {
    Event::VerificationReceived(VerificationReceived {
        case_id: id(category),
        verification: verification(request, on),
        received_on: on,
    })
}

fn reviewed(category: Category) -> Event {
    Event::TownshipReviewed(TownshipReviewed {
        case_id: id(category),
        recommends_approval: true,
        opinion: text("经入户调查，家庭人均收入低于当地低保标准，建议纳入"),
        visited_on: date!(2026 - 03 - 06),
        reviewed_on: REVIEWED,
    })
}

fn posted(category: Category) -> Event {
    Event::NoticePosted(NoticePosted {
        case_id: id(category),
        posted_on: POSTED,
        ends_on: NOTICE_OVER,
    })
}

fn objection_recorded(category: Category, objection: u32, on: Date) -> Event {
    Event::ObjectionRecorded(ObjectionRecorded {
        case_id: id(category),
        objection,
        summary: text("反映申请人子女有稳定收入"),
        recorded_on: on,
    })
}

fn objection_resolved(category: Category, objection: u32, upheld: bool, on: Date) -> Event {
    Event::ObjectionResolved(ObjectionResolved {
        case_id: id(category),
        objection,
        upheld,
        finding: text("经核实，子女不属于共同生活的家庭成员"),
        resolved_on: on,
    })
}

fn approved(category: Category, amount: i64, on: Date, starts_on: Date) -> Event {
    Event::Approved(Approved {
        case_id: id(category),
        decided_on: on,
        calculation: calc(amount),
        starts_on,
    })
}

fn granted(category: Category, members: Vec<CitizenId>, from: Date) -> Event {
    granted_in(category, county(), members, from)
}

fn granted_in(
    category: Category,
    county: RegionCode,
    members: Vec<CitizenId>,
    from: Date,
) -> Event {
    Event::Granted(Granted {
        case_id: id(category),
        category,
        county,
        members,
        effective_from: from,
    })
}

fn ended(category: Category, on: Date, reason: &str, cause: EndCause) -> Event {
    Event::Ended(Ended {
        case_id: id(category),
        effective_on: on,
        reason: reason.to_owned(),
        cause,
    })
}

fn one_off_ended(category: Category, paid_on: Date) -> Event {
    let next_day = add_days(paid_on, 1).expect("in range");
    ended(
        category,
        next_day,
        "临时救助一次性发放",
        EndCause::OneOffPaid,
    )
}

fn recalculated(
    category: Category,
    on: Date,
    previous: i64,
    amount: i64,
    cause: RecalculationCause,
) -> Event {
    Event::Recalculated(Recalculated {
        case_id: id(category),
        effective_on: on,
        previous_amount: Fen::new(previous),
        calculation: calc(amount),
        cause,
    })
}

fn transferred(on: Date) -> Event {
    Event::Transferred(Transferred {
        case_id: id(Category::Temporary),
        transferred_on: on,
    })
}

fn review_started(category: Category, review: u32, on: Date) -> Event {
    Event::ReviewStarted(ReviewStarted {
        case_id: id(category),
        review,
        cause: ReviewCause::Periodic,
        started_on: on,
    })
}

fn suspended(category: Category, on: Date) -> Event {
    Event::Suspended(Suspended {
        case_id: id(category),
        effective_on: on,
        reason: text("外出务工，收入情况待核实"),
    })
}

// ---- the scenario up to a step ----

/// Submitted, with the application's verification requested.
fn submitted_household(category: Category) -> Vec<Event> {
    vec![
        submitted(category),
        requested(category, 1, Purpose::Application, SUBMITTED),
    ]
}

fn verified(category: Category) -> Vec<Event> {
    let mut events = submitted_household(category);
    events.push(received(category, 1, VERIFIED));
    events
}

fn township_reviewed(category: Category) -> Vec<Event> {
    let mut events = verified(category);
    events.push(reviewed(category));
    events
}

fn in_notice(category: Category) -> Vec<Event> {
    let mut events = township_reviewed(category);
    events.push(posted(category));
    events
}

/// Approved on [`DECIDED`] for [`AMOUNT`], in force from [`STARTS`].
fn active(category: Category) -> Vec<Event> {
    let mut events = in_notice(category);
    events.push(approved(category, AMOUNT, DECIDED, STARTS));
    events.push(granted(
        category,
        application(category).covered_members(),
        STARTS,
    ));
    events
}

fn with(mut events: Vec<Event>, more: impl IntoIterator<Item = Event>) -> Vec<Event> {
    events.extend(more);
    events
}

// ---- commands ----

fn receive(request: u32, on: Date) -> Command {
    Command::ReceiveVerification {
        request,
        verification: verification(request, on),
        on,
    }
}

fn review_at_township(on: Date) -> Command {
    Command::ReviewAtTownship {
        recommends_approval: true,
        opinion: text("经入户调查，家庭人均收入低于当地低保标准，建议纳入"),
        visited_on: date!(2026 - 03 - 06),
        on,
    }
}

fn record_objection(on: Date) -> Command {
    Command::RecordObjection {
        summary: text("反映申请人子女有稳定收入"),
        on,
    }
}

fn resolve(objection: u32, upheld: bool, on: Date) -> Command {
    Command::ResolveObjection {
        objection,
        upheld,
        finding: text("经核实，子女不属于共同生活的家庭成员"),
        on,
    }
}

fn approve(amount: i64, on: Date) -> Command {
    Command::Approve {
        calculation: calc(amount),
        on,
    }
}

fn reject(on: Date) -> Command {
    Command::Reject {
        rule: "income_above_standard".to_owned(),
        reason: text("家庭月人均收入高于当地最低生活保障标准"),
        calculation: Some(calc(0)),
        on,
    }
}

fn pay_at_once(amount: i64, on: Date) -> Command {
    Command::PayAtOnce {
        township: township(),
        calculation: calc(amount),
        report_due_on: date!(2026 - 03 - 16),
        on,
    }
}

fn remove(member: CitizenId, on: Date, amount: Option<i64>) -> Command {
    Command::RemoveMember {
        member,
        on,
        calculation: amount.map(calc),
    }
}

fn recalculate(amount: i64, effective_on: Date) -> Command {
    restate(&[(effective_on, amount)])
}

/// Restates the amounts: each `(day, amount)` from its day.
fn restate(segments: &[(Date, i64)]) -> Command {
    Command::Restate {
        segments: segments
            .iter()
            .map(|(day, amount)| (*day, calc(*amount)))
            .collect(),
    }
}

fn complete_review(amount: Option<i64>, on: Date) -> Command {
    Command::CompleteReview {
        calculation: amount.map(calc),
        reason: "家庭人均收入高于保障标准".to_owned(),
        on,
    }
}

const HOUSEHOLD_CATEGORIES: [Category; 4] = [
    Category::Dibao,
    Category::SinglePerson,
    Category::Tekun,
    Category::LowIncome,
];

// ==== submission (申请和受理) ====

/// 57号 第四条、第九条: the household's members apply together and sign the authorization for the
/// verification of its economic status (家庭经济状况核对); the township requests it.
#[test]
fn a_household_application_is_recorded_and_its_verification_requested() {
    for category in HOUSEHOLD_CATEGORIES {
        let state = given::<Case>([])
            .when(Command::Submit(Box::new(application(category))))
            .then(submitted_household(category));
        assert_eq!(state.stage, Stage::AwaitingVerification, "{category}");
        assert_eq!(state.open_request, Some((1, Purpose::Application)));
        assert_eq!(state.county, Some(county()));
        assert_eq!(state.division, Some(township()));
    }
}

/// 《社会救助暂行办法》第四十八条 (情况紧急的，可以按照规定简化审批手续) and heating assistance,
/// which rests on the household's case already in force: neither waits for a verification.
#[test]
fn temporary_and_heating_applications_request_no_verification() {
    for category in [Category::Temporary, Category::Heating] {
        let state = given::<Case>([])
            .when(Command::Submit(Box::new(application(category))))
            .then([submitted(category)]);
        assert_eq!(state.stage, Stage::AwaitingDecision, "{category}");
        assert_eq!(state.open_request, None);
        assert_eq!(state.requests, 0);
    }
}

#[test]
fn a_case_is_submitted_only_once() {
    given::<Case>([submitted(Category::Temporary)])
        .when(Command::Submit(Box::new(application(Category::Temporary))))
        .then_refused("case_exists");
    given::<Case>(verified(Category::Dibao))
        .when(Command::Submit(Box::new(application(Category::Dibao))))
        .then_refused("case_exists");
}

#[test]
fn nothing_happens_to_a_case_not_submitted() {
    for command in [
        receive(1, VERIFIED),
        review_at_township(REVIEWED),
        Command::PostNotice { on: POSTED },
        approve(AMOUNT, DECIDED),
        reject(DECIDED),
        Command::Transfer { on: SUBMITTED },
    ] {
        let refusal = given::<Case>([])
            .when(command)
            .then_refused("case_not_found");
        assert_eq!(refusal.kind(), RefusalKind::NotFound);
    }
}

// ==== the verification's result (家庭经济状况核对) ====

#[test]
fn the_verification_result_is_accepted_for_the_open_request() {
    let state = given::<Case>(submitted_household(Category::Dibao))
        .when(receive(1, VERIFIED))
        .then([received(Category::Dibao, 1, VERIFIED)]);
    assert_eq!(state.stage, Stage::AwaitingTownshipReview);
    assert_eq!(state.open_request, None);
    assert_eq!(state.verification, Some(verification(1, VERIFIED)));
    assert_eq!(state.verification_received_on, Some(VERIFIED));
}

#[test]
fn a_result_for_a_request_the_case_does_not_await_is_refused() {
    given::<Case>(submitted_household(Category::Dibao))
        .when(receive(2, VERIFIED))
        .then_refused("unknown_verification_request");
    // Temporary assistance requested none.
    given::<Case>([submitted(Category::Temporary)])
        .when(receive(1, VERIFIED))
        .then_refused("unknown_verification_request");
}

/// The data-sharing service may deliver a result twice: the second is already recorded.
#[test]
fn the_same_result_again_changes_nothing() {
    given::<Case>(verified(Category::Dibao))
        .when(receive(1, VERIFIED))
        .then([]);
    // Also while a later request (a review's) is open.
    let review = with(
        active(Category::Dibao),
        [
            review_started(Category::Dibao, 1, date!(2026 - 09 - 01)),
            requested(Category::Dibao, 2, Purpose::Review, date!(2026 - 09 - 01)),
        ],
    );
    given::<Case>(review.clone())
        .when(receive(1, VERIFIED))
        .then([]);
    given::<Case>(review)
        .when(receive(3, VERIFIED))
        .then_refused("unknown_verification_request");
}

// ==== the order of the steps (审核确认程序) ====

/// 57号: the township reviews (审核) on the verification and the home visit (入户调查).
#[test]
fn the_township_reviews_only_after_the_verification() {
    given::<Case>(submitted_household(Category::Dibao))
        .when(review_at_township(REVIEWED))
        .then_refused("wrong_stage");
    let state = given::<Case>(verified(Category::Dibao))
        .when(review_at_township(REVIEWED))
        .then([reviewed(Category::Dibao)]);
    assert_eq!(state.stage, Stage::AwaitingNotice);
    assert_eq!(state.township_recommends, Some(true));
}

#[test]
fn no_step_is_dated_before_the_one_it_follows() {
    given::<Case>(verified(Category::Dibao))
        .when(review_at_township(date!(2026 - 03 - 04)))
        .then_refused("before_last_step");
    given::<Case>(township_reviewed(Category::Dibao))
        .when(Command::PostNotice {
            on: date!(2026 - 03 - 08),
        })
        .then_refused("before_last_step");
}

/// 57号 第二十条: 公示期为7天 — the notice is posted after the township's review and runs
/// seven days.
#[test]
fn the_notice_is_posted_only_after_the_township_review_and_runs_seven_days() {
    given::<Case>(verified(Category::Dibao))
        .when(Command::PostNotice { on: POSTED })
        .then_refused("wrong_stage");
    let state = given::<Case>(township_reviewed(Category::Dibao))
        .when(Command::PostNotice { on: POSTED })
        .then([posted(Category::Dibao)]);
    assert_eq!(state.stage, Stage::InNotice);
    assert_eq!(state.notice, Some((POSTED, NOTICE_OVER)));
    assert_eq!(
        NOTICE_OVER,
        add_days(POSTED, NOTICE_DAYS).expect("in range")
    );
}

/// 57号: 公示期满无异议的 ... 予以确认同意 — the county decides only after the notice.
#[test]
fn approval_waits_for_the_notice_to_be_over() {
    given::<Case>(township_reviewed(Category::Dibao))
        .when(approve(AMOUNT, DECIDED))
        .then_refused("wrong_stage");
    let refusal = given::<Case>(in_notice(Category::Dibao))
        .when(approve(AMOUNT, date!(2026 - 03 - 16)))
        .then_refused("notice_running");
    assert_eq!(refusal, CaseError::NoticeRunning(NOTICE_OVER));
    given::<Case>(in_notice(Category::Dibao))
        .when(approve(AMOUNT, NOTICE_OVER))
        .then([
            approved(Category::Dibao, AMOUNT, NOTICE_OVER, STARTS),
            granted(Category::Dibao, everyone(), STARTS),
        ]);
}

/// 57号: 对公示有异议的，应当重新组织调查核实 — an objection is looked into before a decision.
#[test]
fn an_open_objection_stops_the_approval() {
    let refusal = given::<Case>(with(
        in_notice(Category::Dibao),
        [objection_recorded(
            Category::Dibao,
            1,
            date!(2026 - 03 - 12),
        )],
    ))
    .when(approve(AMOUNT, DECIDED))
    .then_refused("objection_open");
    assert_eq!(refusal, CaseError::ObjectionOpen(1));
}

/// 57号: 对公示有异议的……重新组织调查核实，在15个工作日内提出审核意见，并重新公示 — an upheld
/// objection sends the case back to the township, and only the new notice's objections count.
#[test]
fn an_upheld_objection_sends_the_case_back_to_the_township_for_a_new_notice() {
    let upheld = with(
        in_notice(Category::Dibao),
        [
            objection_recorded(Category::Dibao, 1, date!(2026 - 03 - 12)),
            objection_recorded(Category::Dibao, 2, date!(2026 - 03 - 13)),
            objection_resolved(Category::Dibao, 1, false, date!(2026 - 03 - 14)),
            objection_resolved(Category::Dibao, 2, true, date!(2026 - 03 - 16)),
        ],
    );
    let refusal = given::<Case>(upheld.clone())
        .when(approve(AMOUNT, DECIDED))
        .then_refused("wrong_stage");
    assert_eq!(
        refusal,
        CaseError::WrongStage(Stage::AwaitingTownshipReview)
    );
    let reposted_on = date!(2026 - 03 - 20);
    let again = with(
        upheld,
        [
            Event::TownshipReviewed(TownshipReviewed {
                case_id: id(Category::Dibao),
                recommends_approval: true,
                opinion: text("重新调查核实，符合条件"),
                visited_on: date!(2026 - 03 - 18),
                reviewed_on: date!(2026 - 03 - 19),
            }),
            Event::NoticePosted(NoticePosted {
                case_id: id(Category::Dibao),
                posted_on: reposted_on,
                ends_on: date!(2026 - 03 - 27),
            }),
        ],
    );
    given::<Case>(again)
        .when(approve(AMOUNT, date!(2026 - 03 - 27)))
        .then([
            approved(Category::Dibao, AMOUNT, date!(2026 - 03 - 27), STARTS),
            granted(Category::Dibao, everyone(), STARTS),
        ]);
}

/// Only an application the township proposes to approve (拟确认) is posted.
#[test]
fn an_application_the_township_would_refuse_is_not_posted() {
    let mut events = verified(Category::Dibao);
    events.push(Event::TownshipReviewed(TownshipReviewed {
        case_id: id(Category::Dibao),
        recommends_approval: false,
        opinion: text("家庭收入超过标准"),
        visited_on: VERIFIED,
        reviewed_on: REVIEWED,
    }));
    given::<Case>(events)
        .when(Command::PostNotice { on: POSTED })
        .then_refused("not_recommended");
}

#[test]
fn an_objection_found_unfounded_lets_the_approval_go_on() {
    given::<Case>(with(
        in_notice(Category::Dibao),
        [
            objection_recorded(Category::Dibao, 1, date!(2026 - 03 - 12)),
            objection_resolved(Category::Dibao, 1, false, date!(2026 - 03 - 17)),
        ],
    ))
    .when(approve(AMOUNT, DECIDED))
    .then([
        approved(Category::Dibao, AMOUNT, DECIDED, STARTS),
        granted(Category::Dibao, everyone(), STARTS),
    ]);
}

#[test]
fn objections_are_recorded_only_while_the_notice_runs() {
    given::<Case>(township_reviewed(Category::Dibao))
        .when(record_objection(POSTED))
        .then_refused("wrong_stage");
    // The seventh day of the notice is its last.
    let last_day = date!(2026 - 03 - 16);
    let state = given::<Case>(in_notice(Category::Dibao))
        .when(record_objection(last_day))
        .then([objection_recorded(Category::Dibao, 1, last_day)]);
    assert_eq!(state.objections.len(), 1);
    given::<Case>(in_notice(Category::Dibao))
        .when(record_objection(NOTICE_OVER))
        .then_refused("notice_over");
}

#[test]
fn objections_are_numbered_in_the_order_they_come() {
    given::<Case>(with(
        in_notice(Category::Dibao),
        [objection_recorded(
            Category::Dibao,
            1,
            date!(2026 - 03 - 11),
        )],
    ))
    .when(record_objection(date!(2026 - 03 - 12)))
    .then([objection_recorded(
        Category::Dibao,
        2,
        date!(2026 - 03 - 12),
    )]);
}

#[test]
fn an_objection_is_resolved_once_and_only_one_that_was_recorded() {
    let one = with(
        in_notice(Category::Dibao),
        [objection_recorded(
            Category::Dibao,
            1,
            date!(2026 - 03 - 11),
        )],
    );
    for unknown in [0, 2] {
        let refusal = given::<Case>(one.clone())
            .when(resolve(unknown, false, date!(2026 - 03 - 12)))
            .then_refused("objection_not_found");
        assert_eq!(refusal, CaseError::NoSuchObjection(unknown));
    }
    given::<Case>(one.clone())
        .when(resolve(1, false, date!(2026 - 03 - 10)))
        .then_refused("before_last_step");
    // Resolved after the notice is over: allowed, the decision waits for it.
    let state = given::<Case>(one.clone())
        .when(resolve(1, false, date!(2026 - 03 - 18)))
        .then([objection_resolved(
            Category::Dibao,
            1,
            false,
            date!(2026 - 03 - 18),
        )]);
    assert_eq!(
        state.objections[0].resolution,
        Some((false, date!(2026 - 03 - 18)))
    );
    given::<Case>(with(
        one,
        [objection_resolved(
            Category::Dibao,
            1,
            false,
            date!(2026 - 03 - 12),
        )],
    ))
    .when(resolve(1, true, date!(2026 - 03 - 13)))
    .then_refused("objection_resolved");
}

// ==== approval (审核确认) ====

/// 57号: 从作出确认同意决定之日下月起发放最低生活保障金 (from the month after the decision,
/// 自批准之日的次月起).
#[test]
fn a_monthly_benefit_starts_the_first_day_of_the_month_after_the_decision() {
    let state = given::<Case>(in_notice(Category::Dibao))
        .when(approve(AMOUNT, DECIDED))
        .then([
            approved(Category::Dibao, AMOUNT, DECIDED, STARTS),
            granted(Category::Dibao, everyone(), STARTS),
        ]);
    assert_eq!(state.stage, Stage::Active);
    assert!(state.in_force());
    assert_eq!(state.members, everyone());
    assert_eq!(state.amount_on(date!(2026 - 03 - 31)), Fen::ZERO);
    assert_eq!(state.amount_on(STARTS), Fen::new(AMOUNT));
    assert_eq!(state.current_amount(), Fen::new(AMOUNT));
    // Extreme-poverty support runs from the same day.
    let state = given::<Case>(in_notice(Category::Tekun))
        .when(approve(AMOUNT, DECIDED))
        .outcome()
        .clone()
        .expect("approved");
    assert_eq!(
        state.first(),
        Some(&approved(Category::Tekun, AMOUNT, DECIDED, STARTS))
    );
}

#[test]
fn the_month_after_a_decision_turns_the_year() {
    assert_eq!(next_month(date!(2026 - 12 - 31)), date!(2027 - 01 - 01));
    assert_eq!(next_month(date!(2026 - 01 - 31)), date!(2026 - 02 - 01));
    assert_eq!(next_month(date!(2026 - 03 - 01)), date!(2026 - 04 - 01));
}

/// Single-person coverage (单人保, 57号): the seriously ill or severely disabled member is
/// covered as a one-person household; the others are not granted anything.
#[test]
fn single_person_coverage_grants_the_covered_member_only() {
    let state = given::<Case>(in_notice(Category::SinglePerson))
        .when(approve(AMOUNT, DECIDED))
        .then([
            approved(Category::SinglePerson, AMOUNT, DECIDED, STARTS),
            granted(Category::SinglePerson, vec![spouse()], STARTS),
        ]);
    assert_eq!(state.members, vec![spouse()]);
}

/// A zero benefit is no benefit: the application is rejected instead (57号: 对不符合条件的申请
/// 不予确认同意).
#[test]
fn a_paying_category_refuses_a_zero_amount() {
    for category in [Category::Dibao, Category::SinglePerson, Category::Tekun] {
        given::<Case>(in_notice(category))
            .when(approve(0, DECIDED))
            .then_refused("nothing_to_pay");
    }
    given::<Case>([submitted(Category::Temporary), transferred(SUBMITTED)])
        .when(approve(0, DECIDED))
        .then_refused("nothing_to_pay");
    given::<Case>([submitted(Category::Heating)])
        .when(approve(0, DECIDED))
        .then_refused("nothing_to_pay");
    given::<Case>([submitted(Category::Temporary)])
        .when(approve(AMOUNT, DECIDED))
        .then_refused("not_transferred");
}

/// Low-income recognition (低收入家庭认定) pays nothing itself: it is recognised with no amount,
/// from the next month, and published for the other agencies' assistance.
#[test]
fn low_income_recognition_is_approved_without_an_amount() {
    let state = given::<Case>(in_notice(Category::LowIncome))
        .when(approve(0, DECIDED))
        .then([
            approved(Category::LowIncome, 0, DECIDED, STARTS),
            granted(Category::LowIncome, everyone(), STARTS),
        ]);
    assert_eq!(state.stage, Stage::Active);
    assert_eq!(state.amount_on(STARTS), Fen::ZERO);
}

/// Heating assistance is a one-off payment to a household already assisted: approved for the
/// day, paid by a payment cycle, and no new grant is published.
#[test]
fn heating_assistance_is_approved_without_a_grant() {
    let on = date!(2026 - 03 - 04);
    let state = given::<Case>([submitted(Category::Heating)])
        .when(approve(80_000, on))
        .then([approved(Category::Heating, 80_000, on, on)]);
    assert_eq!(state.stage, Stage::ApprovedOnce);
    assert_eq!(state.one_off, Some(calc(80_000)));
    assert!(!state.in_force());
}

// ==== rejection (不予确认同意) ====

/// 57号: 对不符合条件的申请不予确认同意，并应当在作出决定3个工作日内，通过乡镇人民政府
/// （街道办事处）书面告知申请人并说明理由 — the rule and the reason are kept for the notice.
#[test]
fn a_rejection_keeps_its_rule_and_reason() {
    let state = given::<Case>(in_notice(Category::Dibao))
        .when(reject(DECIDED))
        .then([Event::Rejected(Rejected {
            case_id: id(Category::Dibao),
            decided_on: DECIDED,
            rule: "income_above_standard".to_owned(),
            reason: text("家庭月人均收入高于当地最低生活保障标准"),
            calculation: Some(calc(0)),
        })]);
    assert_eq!(state.stage, Stage::Rejected);
    assert_eq!(
        state.rejection,
        Some((
            "income_above_standard".to_owned(),
            text("家庭月人均收入高于当地最低生活保障标准")
        ))
    );
    assert_eq!(state.decided_on, Some(DECIDED));
    assert!(!state.in_force());
}

#[test]
fn an_application_may_be_rejected_at_any_open_stage() {
    let rejected = |category| {
        Event::Rejected(Rejected {
            case_id: id(category),
            decided_on: DECIDED,
            rule: "income_above_standard".to_owned(),
            reason: text("家庭月人均收入高于当地最低生活保障标准"),
            calculation: Some(calc(0)),
        })
    };
    for history in [
        submitted_household(Category::Dibao),
        verified(Category::Dibao),
        township_reviewed(Category::Dibao),
        in_notice(Category::Dibao),
    ] {
        given::<Case>(history)
            .when(reject(DECIDED))
            .then([rejected(Category::Dibao)]);
    }
    for history in [
        vec![submitted(Category::Temporary)],
        vec![submitted(Category::Temporary), transferred(SUBMITTED)],
    ] {
        given::<Case>(history)
            .when(reject(DECIDED))
            .then([rejected(Category::Temporary)]);
    }
    given::<Case>([submitted(Category::Heating)])
        .when(reject(DECIDED))
        .then([rejected(Category::Heating)]);
}

#[test]
fn nothing_is_approvable_after_a_rejection() {
    let rejected = with(
        in_notice(Category::Dibao),
        [Event::Rejected(Rejected {
            case_id: id(Category::Dibao),
            decided_on: DECIDED,
            rule: "income_above_standard".to_owned(),
            reason: text("家庭月人均收入高于当地最低生活保障标准"),
            calculation: None,
        })],
    );
    for command in [
        approve(AMOUNT, date!(2026 - 03 - 20)),
        reject(date!(2026 - 03 - 20)),
        record_objection(date!(2026 - 03 - 20)),
        Command::PostNotice {
            on: date!(2026 - 03 - 20),
        },
        Command::StartReview {
            cause: ReviewCause::Periodic,
            on: date!(2026 - 03 - 20),
        },
        Command::Rehome {
            division: code("210504002000"),
            adjustment_id: "ADJ-2026-0003".to_owned(),
            effective_on: date!(2026 - 04 - 01),
        },
    ] {
        given::<Case>(rejected.clone())
            .when(command)
            .then_refused("wrong_stage");
    }
}

#[test]
fn a_case_in_force_is_terminated_not_rejected() {
    given::<Case>(active(Category::Dibao))
        .when(reject(date!(2026 - 05 - 01)))
        .then_refused("wrong_stage");
}

// ==== temporary assistance (临时救助) ====

/// 《社会救助暂行办法》第四十八条 and the reserve fund (备用金): for an urgent hardship the
/// township pays at once (先行救助) and reports afterwards.
#[test]
fn the_township_pays_at_once_and_reports_afterwards() {
    let on = date!(2026 - 03 - 03);
    let state = given::<Case>([submitted(Category::Temporary)])
        .when(pay_at_once(200_000, on))
        .then([
            Event::PaidAtOnce(PaidAtOnce {
                case_id: id(Category::Temporary),
                township: township(),
                calculation: calc(200_000),
                paid_on: on,
                report_due_on: date!(2026 - 03 - 16),
            }),
            granted(Category::Temporary, everyone(), on),
            one_off_ended(Category::Temporary, on),
        ]);
    assert_eq!(state.stage, Stage::AwaitingReport);
    assert_eq!(state.report_due_on, Some(date!(2026 - 03 - 16)));
    assert_eq!(state.one_off, Some(calc(200_000)));
    let reported = with(
        vec![submitted(Category::Temporary)],
        [
            Event::PaidAtOnce(PaidAtOnce {
                case_id: id(Category::Temporary),
                township: township(),
                calculation: calc(200_000),
                paid_on: on,
                report_due_on: date!(2026 - 03 - 16),
            }),
            granted(Category::Temporary, everyone(), on),
            one_off_ended(Category::Temporary, on),
        ],
    );
    let state = given::<Case>(reported)
        .when(Command::Report {
            on: date!(2026 - 03 - 10),
        })
        .then([Event::Reported(Reported {
            case_id: id(Category::Temporary),
            reported_on: date!(2026 - 03 - 10),
        })]);
    assert_eq!(state.stage, Stage::Ended);
    assert_eq!(state.reported_on, Some(date!(2026 - 03 - 10)));
}

#[test]
fn a_report_is_due_only_after_paying_at_once() {
    given::<Case>([submitted(Category::Temporary)])
        .when(Command::Report { on: SUBMITTED })
        .then_refused("wrong_stage");
}

#[test]
fn paying_at_once_refuses_a_zero_amount() {
    given::<Case>([submitted(Category::Temporary)])
        .when(pay_at_once(0, SUBMITTED))
        .then_refused("nothing_to_pay");
}

#[test]
fn only_temporary_assistance_is_paid_at_once_or_transferred() {
    for category in [Category::Dibao, Category::Heating] {
        let history = if category == Category::Heating {
            vec![submitted(category)]
        } else {
            submitted_household(category)
        };
        given::<Case>(history.clone())
            .when(pay_at_once(200_000, SUBMITTED))
            .then_refused("not_temporary");
        given::<Case>(history)
            .when(Command::Transfer { on: SUBMITTED })
            .then_refused("not_temporary");
    }
}

/// 《社会救助暂行办法》第四十八条: 由县级人民政府民政部门审批 — above the township's limit the
/// application goes to the county, which decides it; the township can no longer pay it at once.
#[test]
fn a_transferred_application_is_decided_by_the_county() {
    let on = date!(2026 - 03 - 03);
    let state = given::<Case>([submitted(Category::Temporary)])
        .when(Command::Transfer { on })
        .then([transferred(on)]);
    assert_eq!(state.transferred_on, Some(on));
    let history = vec![submitted(Category::Temporary), transferred(on)];
    // Transferred twice is transferred once.
    given::<Case>(history.clone())
        .when(Command::Transfer { on: VERIFIED })
        .then([]);
    given::<Case>(history.clone())
        .when(pay_at_once(200_000, VERIFIED))
        .then_refused("wrong_stage");
    let state = given::<Case>(history)
        .when(approve(450_000, DECIDED))
        .then([
            approved(Category::Temporary, 450_000, DECIDED, DECIDED),
            granted(Category::Temporary, everyone(), DECIDED),
            one_off_ended(Category::Temporary, DECIDED),
        ]);
    assert_eq!(state.stage, Stage::ApprovedOnce);
    assert_eq!(state.one_off, Some(calc(450_000)));
    assert_eq!(state.ends_on, Some(date!(2026 - 03 - 19)));
}

#[test]
fn a_temporary_payment_is_paid_once() {
    let on = date!(2026 - 03 - 03);
    let paid = vec![
        submitted(Category::Temporary),
        Event::PaidAtOnce(PaidAtOnce {
            case_id: id(Category::Temporary),
            township: township(),
            calculation: calc(200_000),
            paid_on: on,
            report_due_on: date!(2026 - 03 - 16),
        }),
        granted(Category::Temporary, everyone(), on),
        one_off_ended(Category::Temporary, on),
    ];
    for command in [
        pay_at_once(100_000, VERIFIED),
        approve(100_000, VERIFIED),
        Command::Transfer { on: VERIFIED },
    ] {
        given::<Case>(paid.clone())
            .when(command)
            .then_refused("wrong_stage");
    }
}

// ==== dynamic management: a member dies (动态管理) ====

/// 《社会救助暂行办法》第十三条: 最低生活保障家庭的人口状况 ... 发生变化的 ... 县级人民政府民政部门
/// ... 决定增发、减发或者停发最低生活保障金 — the others go on, recalculated, from the next month.
#[test]
fn a_member_who_dies_leaves_the_case_from_the_next_month() {
    let died = date!(2026 - 05 - 20);
    let state = given::<Case>(active(Category::Dibao))
        .when(remove(grandchild(), died, Some(90_000)))
        .then([
            Event::MembersChanged(MembersChanged {
                case_id: id(Category::Dibao),
                members: vec![applicant(), spouse()],
                effective_on: date!(2026 - 06 - 01),
            }),
            recalculated(
                Category::Dibao,
                date!(2026 - 06 - 01),
                AMOUNT,
                90_000,
                RecalculationCause::MembersChanged,
            ),
        ]);
    assert_eq!(state.members, vec![applicant(), spouse()]);
    assert_eq!(state.amount_on(date!(2026 - 05 - 31)), Fen::new(AMOUNT));
    assert_eq!(state.amount_on(date!(2026 - 06 - 01)), Fen::new(90_000));
    assert!(state.in_force());
}

#[test]
fn a_member_removed_without_a_new_amount_changes_only_the_members() {
    given::<Case>(active(Category::LowIncome))
        .when(remove(grandchild(), date!(2026 - 05 - 20), None))
        .then([Event::MembersChanged(MembersChanged {
            case_id: id(Category::LowIncome),
            members: vec![applicant(), spouse()],
            effective_on: date!(2026 - 06 - 01),
        })]);
}

/// The last covered member died: nothing is left to pay, and the case ends from the next
/// month (《社会救助暂行办法》第十三条: 停发 when the household changes; for extreme-poverty
/// support 《特困人员认定办法》(民发〔2021〕43号): 死亡……应当及时终止救助供养).
#[test]
fn the_case_ends_when_nobody_is_left() {
    let died = date!(2026 - 05 - 20);
    let state = given::<Case>(active(Category::SinglePerson))
        .when(remove(spouse(), died, None))
        .then([ended(
            Category::SinglePerson,
            date!(2026 - 06 - 01),
            "无在世的保障对象",
            EndCause::NoMemberLeft,
        )]);
    assert_eq!(state.stage, Stage::Ended);
    assert_eq!(state.amount_on(date!(2026 - 05 - 31)), Fen::new(AMOUNT));
    assert_eq!(state.amount_on(date!(2026 - 06 - 01)), Fen::ZERO);
}

/// The remaining household's income is no longer below the standard: 停发 from the next month.
#[test]
fn a_remaining_household_no_longer_below_the_standard_is_ended() {
    given::<Case>(active(Category::Dibao))
        .when(remove(grandchild(), date!(2026 - 05 - 20), Some(0)))
        .then([
            Event::MembersChanged(MembersChanged {
                case_id: id(Category::Dibao),
                members: vec![applicant(), spouse()],
                effective_on: date!(2026 - 06 - 01),
            }),
            ended(
                Category::Dibao,
                date!(2026 - 06 - 01),
                "家庭人均收入不低于保障标准",
                EndCause::NoLongerEligible,
            ),
        ]);
}

#[test]
fn a_person_the_case_does_not_cover_is_refused() {
    given::<Case>(active(Category::Dibao))
        .when(remove(stranger(), date!(2026 - 05 - 20), Some(90_000)))
        .then_refused("not_a_member");
    // Single-person coverage covers the disabled husband only, not his wife.
    given::<Case>(active(Category::SinglePerson))
        .when(remove(applicant(), date!(2026 - 05 - 20), None))
        .then_refused("not_a_member");
}

#[test]
fn a_member_is_removed_only_from_a_case_in_force() {
    given::<Case>(in_notice(Category::Dibao))
        .when(remove(grandchild(), date!(2026 - 03 - 12), Some(90_000)))
        .then_refused("wrong_stage");
}

/// What a later calculation (a new standard, a review) starts from after a death: the household
/// and the verified income without the deceased, not the application as filed.
#[test]
fn after_a_death_the_household_now_leaves_the_deceased_and_their_income_out() {
    let after_death = with(
        active(Category::Dibao),
        [Event::MembersChanged(MembersChanged {
            case_id: id(Category::Dibao),
            members: vec![spouse(), grandchild()],
            effective_on: date!(2026 - 06 - 01),
        })],
    );
    let given_case = given::<Case>(after_death);
    let (application, verification) = given_case.state().current_household().expect("verified");
    let citizens: Vec<CitizenId> = application
        .household
        .members
        .iter()
        .map(|m| m.citizen.clone())
        .collect();
    assert_eq!(citizens, [spouse(), grandchild()]);
    assert!(application.household.incomes.is_empty());
    assert_eq!(verification.total_monthly_income, Fen::ZERO);
    assert!(verification.incomes.is_empty());
    // Nobody left: the application as filed, borrowed.
    let given_case = given::<Case>(active(Category::Dibao));
    let (application, verification) = given_case.state().current_household().expect("verified");
    assert!(matches!(application, Cow::Borrowed(_)));
    assert_eq!(application.household.members.len(), 3);
    assert_eq!(verification.total_monthly_income, Fen::new(90_000));
}

// ==== recalculation (标准调整) ====

/// A new standard in force from a day: the amount before it is unchanged, the new one applies
/// from it.
#[test]
fn a_recalculation_changes_the_amount_from_its_day() {
    let state = given::<Case>(active(Category::Dibao))
        .when(recalculate(140_000, date!(2026 - 07 - 01)))
        .then([recalculated(
            Category::Dibao,
            date!(2026 - 07 - 01),
            AMOUNT,
            140_000,
            RecalculationCause::StandardChanged,
        )]);
    assert_eq!(state.amount_on(date!(2026 - 06 - 30)), Fen::new(AMOUNT));
    assert_eq!(state.amount_on(date!(2026 - 07 - 01)), Fen::new(140_000));
    assert_eq!(state.current_amount(), Fen::new(140_000));
}

#[test]
fn the_same_calculation_again_is_no_event() {
    given::<Case>(active(Category::Dibao))
        .when(recalculate(AMOUNT, date!(2026 - 07 - 01)))
        .then([]);
    given::<Case>(with(
        active(Category::Dibao),
        [recalculated(
            Category::Dibao,
            date!(2026 - 07 - 01),
            AMOUNT,
            140_000,
            RecalculationCause::StandardChanged,
        )],
    ))
    .when(recalculate(140_000, date!(2026 - 08 - 01)))
    .then([]);
}

/// A restatement starts on or after the benefit's start (the application layer computes from
/// the later of the two): nothing is paid for before the start.
#[test]
fn a_restatement_starts_no_earlier_than_the_benefit_and_goes_forward() {
    given::<Case>(active(Category::Dibao))
        .when(recalculate(140_000, date!(2026 - 01 - 01)))
        .then_refused("restatement_out_of_order");
    given::<Case>(active(Category::Dibao))
        .when(restate(&[
            (date!(2026 - 08 - 01), 140_000),
            (date!(2026 - 07 - 01), 150_000),
        ]))
        .then_refused("restatement_out_of_order");
    let state = given::<Case>(active(Category::Dibao))
        .when(recalculate(140_000, STARTS))
        .then([recalculated(
            Category::Dibao,
            STARTS,
            AMOUNT,
            140_000,
            RecalculationCause::StandardChanged,
        )]);
    assert_eq!(state.amount_on(date!(2026 - 03 - 31)), Fen::ZERO);
    assert_eq!(state.amounts.len(), 1);
}

#[test]
fn only_a_case_in_force_is_recalculated() {
    given::<Case>(in_notice(Category::Dibao))
        .when(recalculate(140_000, date!(2026 - 07 - 01)))
        .then_refused("wrong_stage");
}

/// A standard raised from May, decided in September, after a member's death changed the amount
/// from August: May to July are restated, and so is the amount from August — one event per
/// segment, in order, each naming the amount it replaces.
#[test]
fn a_back_dated_standard_restates_every_amount_since_its_day() {
    let after_death = with(
        active(Category::Dibao),
        [recalculated(
            Category::Dibao,
            date!(2026 - 08 - 01),
            AMOUNT,
            90_000,
            RecalculationCause::MembersChanged,
        )],
    );
    let state = given::<Case>(after_death.clone())
        .when(restate(&[
            (date!(2026 - 05 - 01), 130_000),
            (date!(2026 - 08 - 01), 95_000),
        ]))
        .then([
            recalculated(
                Category::Dibao,
                date!(2026 - 05 - 01),
                AMOUNT,
                130_000,
                RecalculationCause::StandardChanged,
            ),
            recalculated(
                Category::Dibao,
                date!(2026 - 08 - 01),
                90_000,
                95_000,
                RecalculationCause::StandardChanged,
            ),
        ]);
    assert_eq!(state.amount_on(date!(2026 - 04 - 30)), Fen::new(AMOUNT));
    assert_eq!(state.amount_on(date!(2026 - 07 - 31)), Fen::new(130_000));
    assert_eq!(state.amount_on(date!(2026 - 08 - 01)), Fen::new(95_000));
    // The same restatement again changes nothing.
    given::<Case>(with(after_death, state_events(&state)))
        .when(restate(&[
            (date!(2026 - 05 - 01), 130_000),
            (date!(2026 - 08 - 01), 95_000),
        ]))
        .then([]);
}

/// The events a restated [`Case`] was restated with, to give them again.
fn state_events(state: &Case) -> Vec<Event> {
    state
        .amounts
        .iter()
        .filter(|a| a.from >= date!(2026 - 05 - 01))
        .map(|a| {
            Event::Recalculated(Recalculated {
                case_id: id(Category::Dibao),
                effective_on: a.from,
                previous_amount: Fen::ZERO,
                calculation: a.calculation.clone(),
                cause: RecalculationCause::StandardChanged,
            })
        })
        .collect()
}

/// A case that ended is restated for the months it was in force (their back pay is owed), and
/// not from its end on.
#[test]
fn an_ended_case_is_restated_only_for_the_months_it_was_in_force() {
    let ended_in_june = with(
        active(Category::Dibao),
        [ended(
            Category::Dibao,
            date!(2026 - 06 - 01),
            "户籍迁出本县",
            EndCause::Terminated,
        )],
    );
    let state = given::<Case>(ended_in_june.clone())
        .when(recalculate(130_000, date!(2026 - 05 - 01)))
        .then([recalculated(
            Category::Dibao,
            date!(2026 - 05 - 01),
            AMOUNT,
            130_000,
            RecalculationCause::StandardChanged,
        )]);
    assert_eq!(state.amount_on(date!(2026 - 05 - 01)), Fen::new(130_000));
    assert_eq!(state.amount_on(date!(2026 - 06 - 01)), Fen::ZERO);
    given::<Case>(ended_in_june)
        .when(recalculate(130_000, date!(2026 - 06 - 01)))
        .then_refused("wrong_stage");
}

// ==== reviews (复核) ====

/// 57号 (定期核查 of the households in dibao): a review starts with a new verification of the
/// covered members, the case's second request.
#[test]
fn a_review_starts_with_a_new_verification_request() {
    let on = date!(2026 - 09 - 01);
    let state = given::<Case>(active(Category::SinglePerson))
        .when(Command::StartReview {
            cause: ReviewCause::Periodic,
            on,
        })
        .then([
            review_started(Category::SinglePerson, 1, on),
            requested(Category::SinglePerson, 2, Purpose::Review, on),
        ]);
    assert_eq!(state.open_review, Some(1));
    assert_eq!(state.open_request, Some((2, Purpose::Review)));
    given::<Case>(with(
        active(Category::Dibao),
        [
            review_started(Category::Dibao, 1, on),
            requested(Category::Dibao, 2, Purpose::Review, on),
        ],
    ))
    .when(Command::StartReview {
        cause: ReviewCause::Alert,
        on,
    })
    .then_refused("review_open");
}

fn under_review(category: Category) -> Vec<Event> {
    let on = date!(2026 - 09 - 01);
    with(
        active(category),
        [
            review_started(category, 1, on),
            requested(category, 2, Purpose::Review, on),
        ],
    )
}

fn review_verified(category: Category) -> Vec<Event> {
    with(
        under_review(category),
        [received(category, 2, date!(2026 - 09 - 04))],
    )
}

#[test]
fn a_review_completes_only_after_its_verification_result() {
    given::<Case>(active(Category::Dibao))
        .when(complete_review(Some(AMOUNT), date!(2026 - 09 - 10)))
        .then_refused("no_review_open");
    given::<Case>(under_review(Category::Dibao))
        .when(complete_review(Some(AMOUNT), date!(2026 - 09 - 10)))
        .then_refused("review_not_verified");
    // The review's result leaves the case in force.
    let state = given::<Case>(under_review(Category::Dibao))
        .when(receive(2, date!(2026 - 09 - 04)))
        .then([received(Category::Dibao, 2, date!(2026 - 09 - 04))]);
    assert_eq!(state.stage, Stage::Active);
    assert_eq!(state.verification_received_on, Some(VERIFIED));
}

#[test]
fn a_review_that_finds_the_same_amount_continues_the_benefit() {
    let on = date!(2026 - 09 - 10);
    let state = given::<Case>(review_verified(Category::Dibao))
        .when(complete_review(Some(AMOUNT), on))
        .then([Event::ReviewCompleted(ReviewCompleted {
            case_id: id(Category::Dibao),
            review: 1,
            outcome: ReviewOutcome::Continued,
            completed_on: on,
        })]);
    assert_eq!(state.open_review, None);
    assert_eq!(state.last_review_on, Some(on));
    assert_eq!(state.amount_on(date!(2026 - 10 - 01)), Fen::new(AMOUNT));
}

/// 《社会救助暂行办法》第十三条: 增发、减发 — from the month after the review.
#[test]
fn a_review_that_finds_another_amount_changes_it_from_the_next_month() {
    let on = date!(2026 - 09 - 10);
    let state = given::<Case>(review_verified(Category::Dibao))
        .when(complete_review(Some(100_000), on))
        .then([
            Event::ReviewCompleted(ReviewCompleted {
                case_id: id(Category::Dibao),
                review: 1,
                outcome: ReviewOutcome::Changed,
                completed_on: on,
            }),
            recalculated(
                Category::Dibao,
                date!(2026 - 10 - 01),
                AMOUNT,
                100_000,
                RecalculationCause::Review,
            ),
        ]);
    assert_eq!(state.amount_on(date!(2026 - 09 - 30)), Fen::new(AMOUNT));
    assert_eq!(state.amount_on(date!(2026 - 10 - 01)), Fen::new(100_000));
}

/// 《社会救助暂行办法》第十三条: 停发 — a household no longer eligible leaves from the next month.
#[test]
fn a_review_that_finds_the_household_no_longer_eligible_ends_the_case() {
    let on = date!(2026 - 09 - 10);
    for amount in [None, Some(0)] {
        let state = given::<Case>(review_verified(Category::Dibao))
            .when(complete_review(amount, on))
            .then([
                Event::ReviewCompleted(ReviewCompleted {
                    case_id: id(Category::Dibao),
                    review: 1,
                    outcome: ReviewOutcome::Ended,
                    completed_on: on,
                }),
                ended(
                    Category::Dibao,
                    date!(2026 - 10 - 01),
                    "家庭人均收入高于保障标准",
                    EndCause::NoLongerEligible,
                ),
            ]);
        assert_eq!(state.stage, Stage::Ended);
        assert_eq!(state.amount_on(date!(2026 - 10 - 01)), Fen::ZERO);
    }
}

#[test]
fn the_second_review_is_numbered_two_with_the_third_request() {
    let completed = with(
        review_verified(Category::Dibao),
        [Event::ReviewCompleted(ReviewCompleted {
            case_id: id(Category::Dibao),
            review: 1,
            outcome: ReviewOutcome::Continued,
            completed_on: date!(2026 - 09 - 10),
        })],
    );
    let on = date!(2027 - 03 - 01);
    given::<Case>(completed)
        .when(Command::StartReview {
            cause: ReviewCause::Periodic,
            on,
        })
        .then([
            review_started(Category::Dibao, 2, on),
            requested(Category::Dibao, 3, Purpose::Review, on),
        ]);
}

/// Another agency's signal (a marriage, an income alert) flags a case in force for review; the
/// review clears the flags.
#[test]
fn a_case_in_force_is_flagged_for_review_until_reviewed() {
    let flagged = Event::FlaggedForReview(FlaggedForReview {
        case_id: id(Category::Dibao),
        cause: ReviewCause::Marriage,
        record_id: Some("M-2026-000045".to_owned()),
        flagged_on: date!(2026 - 06 - 02),
    });
    let state = given::<Case>(active(Category::Dibao))
        .when(Command::Flag {
            cause: ReviewCause::Marriage,
            record_id: Some("M-2026-000045".to_owned()),
            on: date!(2026 - 06 - 02),
        })
        .then([flagged.clone()]);
    assert_eq!(
        state.flags,
        vec![(ReviewCause::Marriage, date!(2026 - 06 - 02))]
    );
    given::<Case>(in_notice(Category::Dibao))
        .when(Command::Flag {
            cause: ReviewCause::Alert,
            record_id: None,
            on: date!(2026 - 03 - 12),
        })
        .then_refused("wrong_stage");
    let mut history = with(active(Category::Dibao), [flagged]);
    history.extend(
        review_verified(Category::Dibao)
            .into_iter()
            .skip(active(Category::Dibao).len()),
    );
    let state = given::<Case>(history)
        .when(complete_review(Some(AMOUNT), date!(2026 - 09 - 10)))
        .then([Event::ReviewCompleted(ReviewCompleted {
            case_id: id(Category::Dibao),
            review: 1,
            outcome: ReviewOutcome::Continued,
            completed_on: date!(2026 - 09 - 10),
        })]);
    assert!(state.flags.is_empty());
}

// ==== suspension, resumption, termination ====

#[test]
fn a_suspension_stops_payment_from_the_next_month_until_resumed() {
    let state = given::<Case>(active(Category::Dibao))
        .when(Command::Suspend {
            reason: text("外出务工，收入情况待核实"),
            on: date!(2026 - 05 - 10),
        })
        .then([suspended(Category::Dibao, date!(2026 - 06 - 01))]);
    assert_eq!(state.stage, Stage::Suspended);
    assert!(state.in_force());
    assert_eq!(state.amount_on(date!(2026 - 05 - 31)), Fen::new(AMOUNT));
    assert_eq!(state.amount_on(date!(2026 - 06 - 15)), Fen::ZERO);
    let state = given::<Case>(with(
        active(Category::Dibao),
        [suspended(Category::Dibao, date!(2026 - 06 - 01))],
    ))
    .when(Command::Resume {
        on: date!(2026 - 07 - 05),
    })
    .then([Event::Resumed(Resumed {
        case_id: id(Category::Dibao),
        effective_on: date!(2026 - 08 - 01),
    })]);
    assert_eq!(state.stage, Stage::Active);
    assert_eq!(state.amount_on(date!(2026 - 07 - 31)), Fen::ZERO);
    assert_eq!(state.amount_on(date!(2026 - 08 - 01)), Fen::new(AMOUNT));
}

#[test]
fn only_an_active_case_is_suspended_and_only_a_suspended_one_resumed() {
    given::<Case>(active(Category::Dibao))
        .when(Command::Resume {
            on: date!(2026 - 05 - 10),
        })
        .then_refused("not_suspended");
    given::<Case>(with(
        active(Category::Dibao),
        [suspended(Category::Dibao, date!(2026 - 06 - 01))],
    ))
    .when(Command::Suspend {
        reason: text("再次暂停"),
        on: date!(2026 - 06 - 10),
    })
    .then_refused("wrong_stage");
    given::<Case>(in_notice(Category::Dibao))
        .when(Command::Suspend {
            reason: text("暂停"),
            on: date!(2026 - 03 - 12),
        })
        .then_refused("wrong_stage");
}

/// 停发: a terminated case pays up to the end of the month and nothing after.
#[test]
fn a_terminated_case_ends_from_the_next_month() {
    let terminate = || Command::Terminate {
        reason: "户籍迁出本县".to_owned(),
        on: date!(2026 - 05 - 10),
    };
    for history in [
        active(Category::Dibao),
        with(
            active(Category::Dibao),
            [suspended(Category::Dibao, date!(2026 - 05 - 01))],
        ),
    ] {
        let state = given::<Case>(history).when(terminate()).then([ended(
            Category::Dibao,
            date!(2026 - 06 - 01),
            "户籍迁出本县",
            EndCause::Terminated,
        )]);
        assert_eq!(state.stage, Stage::Ended);
        assert!(!state.in_force());
        assert_eq!(state.amount_on(date!(2026 - 06 - 01)), Fen::ZERO);
        assert_eq!(state.ends_on, Some(date!(2026 - 06 - 01)));
    }
    let over = with(
        active(Category::Dibao),
        [ended(
            Category::Dibao,
            date!(2026 - 06 - 01),
            "户籍迁出本县",
            EndCause::Terminated,
        )],
    );
    for command in [
        terminate(),
        recalculate(140_000, date!(2026 - 07 - 01)),
        remove(grandchild(), date!(2026 - 07 - 01), None),
    ] {
        given::<Case>(over.clone())
            .when(command)
            .then_refused("wrong_stage");
    }
}

// ==== re-homing after a division adjustment (区划调整) ====

fn rehome(division: &str) -> Command {
    Command::Rehome {
        division: code(division),
        adjustment_id: "ADJ-2026-0003".to_owned(),
        effective_on: date!(2026 - 07 - 01),
    }
}

fn rehomed(category: Category, division: &str, county: &str) -> Event {
    Event::Rehomed(Rehomed {
        case_id: id(category),
        previous_division: township(),
        division: code(division),
        county: code(county),
        adjustment_id: "ADJ-2026-0003".to_owned(),
        effective_on: date!(2026 - 07 - 01),
    })
}

/// A township merged into another county's: the case follows it, and what it later asks or
/// publishes names the new county.
#[test]
fn a_case_follows_its_township_into_a_new_county() {
    let state = given::<Case>(active(Category::Dibao))
        .when(rehome("210504002000"))
        .then([rehomed(Category::Dibao, "210504002000", "210504000000")]);
    assert_eq!(state.division, Some(code("210504002000")));
    assert_eq!(state.county, Some(code("210504000000")));
    let mut request = requested(Category::Dibao, 2, Purpose::Review, date!(2026 - 09 - 01));
    if let Event::VerificationRequested(r) = &mut request {
        r.county = code("210504000000");
    }
    given::<Case>(with(
        active(Category::Dibao),
        [rehomed(Category::Dibao, "210504002000", "210504000000")],
    ))
    .when(Command::StartReview {
        cause: ReviewCause::DivisionSplit,
        on: date!(2026 - 09 - 01),
    })
    .then([
        Event::ReviewStarted(ReviewStarted {
            case_id: id(Category::Dibao),
            review: 1,
            cause: ReviewCause::DivisionSplit,
            started_on: date!(2026 - 09 - 01),
        }),
        request,
    ]);
}

#[test]
fn an_application_rehomed_before_its_decision_is_granted_in_its_new_county() {
    let new_county = code("210504000000");
    given::<Case>(with(
        in_notice(Category::Dibao),
        [rehomed(Category::Dibao, "210504002000", "210504000000")],
    ))
    .when(approve(AMOUNT, DECIDED))
    .then([
        approved(Category::Dibao, AMOUNT, DECIDED, STARTS),
        granted_in(Category::Dibao, new_county, everyone(), STARTS),
    ]);
    let on = date!(2026 - 03 - 03);
    given::<Case>([
        submitted(Category::Temporary),
        rehomed(Category::Temporary, "210504002000", "210504000000"),
    ])
    .when(pay_at_once(200_000, on))
    .then([
        Event::PaidAtOnce(PaidAtOnce {
            case_id: id(Category::Temporary),
            township: township(),
            calculation: calc(200_000),
            paid_on: on,
            report_due_on: date!(2026 - 03 - 16),
        }),
        granted_in(Category::Temporary, new_county, everyone(), on),
        one_off_ended(Category::Temporary, on),
    ]);
}

#[test]
fn a_case_is_rehomed_only_into_another_division_and_while_open() {
    given::<Case>(active(Category::Dibao))
        .when(rehome("210502001000"))
        .then_refused("same_division");
    given::<Case>(with(
        active(Category::Dibao),
        [ended(
            Category::Dibao,
            date!(2026 - 06 - 01),
            "户籍迁出本县",
            EndCause::Terminated,
        )],
    ))
    .when(rehome("210504002000"))
    .then_refused("wrong_stage");
    // Within the same county: the county stays.
    given::<Case>(verified(Category::Dibao))
        .when(rehome("210502003000"))
        .then([rehomed(Category::Dibao, "210502003000", "210502000000")]);
}

// ==== the codec ====

/// Every event, in every shape it takes, survives the codec.
#[test]
fn every_event_survives_the_codec() {
    let mut events: Vec<Event> = Category::ALL.into_iter().map(submitted).collect();
    let mut tekun_without_reason = application(Category::Tekun);
    tekun_without_reason.particulars = Particulars::Tekun {
        care: CareArrangement::Institution,
        has_able_supporter: true,
        care_at_home_reason: None,
    };
    tekun_without_reason.household.members[2].work_capacity = None;
    tekun_without_reason.household.members[2].self_care = None;
    events.push(Event::Submitted(Box::new(tekun_without_reason)));
    events.extend([
        requested(Category::Dibao, 1, Purpose::Application, SUBMITTED),
        requested(Category::Dibao, 2, Purpose::Review, date!(2026 - 09 - 01)),
        received(Category::Dibao, 1, VERIFIED),
        reviewed(Category::Dibao),
        posted(Category::Dibao),
        objection_recorded(Category::Dibao, 1, date!(2026 - 03 - 12)),
        objection_resolved(Category::Dibao, 1, true, date!(2026 - 03 - 13)),
        approved(Category::Dibao, AMOUNT, DECIDED, STARTS),
        approved(Category::LowIncome, 0, DECIDED, STARTS),
    ]);
    // Every category but heating assistance, a one-off that is never granted.
    events.extend(
        Category::ALL
            .into_iter()
            .filter(|category| *category != Category::Heating)
            .map(|category| granted(category, application(category).covered_members(), STARTS)),
    );
    events.extend([
        Event::Rejected(Rejected {
            case_id: id(Category::Dibao),
            decided_on: DECIDED,
            rule: "income_above_standard".to_owned(),
            reason: text("家庭月人均收入高于当地最低生活保障标准"),
            calculation: Some(calc(0)),
        }),
        Event::Rejected(Rejected {
            case_id: id(Category::Tekun),
            decided_on: DECIDED,
            rule: "able_supporter".to_owned(),
            reason: text("有具备赡养能力的赡养人"),
            calculation: None,
        }),
        recalculated(
            Category::Dibao,
            date!(2026 - 07 - 01),
            AMOUNT,
            140_000,
            RecalculationCause::StandardChanged,
        ),
        recalculated(
            Category::Dibao,
            date!(2026 - 06 - 01),
            AMOUNT,
            90_000,
            RecalculationCause::MembersChanged,
        ),
        recalculated(
            Category::Dibao,
            date!(2026 - 10 - 01),
            AMOUNT,
            100_000,
            RecalculationCause::Review,
        ),
        Event::MembersChanged(MembersChanged {
            case_id: id(Category::Dibao),
            members: vec![applicant(), spouse()],
            effective_on: date!(2026 - 06 - 01),
        }),
        Event::FlaggedForReview(FlaggedForReview {
            case_id: id(Category::Dibao),
            cause: ReviewCause::Marriage,
            record_id: Some("M-2026-000045".to_owned()),
            flagged_on: date!(2026 - 06 - 02),
        }),
        Event::FlaggedForReview(FlaggedForReview {
            case_id: id(Category::Dibao),
            cause: ReviewCause::Alert,
            record_id: None,
            flagged_on: date!(2026 - 06 - 02),
        }),
    ]);
    events.extend(
        [
            ReviewCause::Marriage,
            ReviewCause::Divorce,
            ReviewCause::DivisionSplit,
            ReviewCause::Alert,
            ReviewCause::Periodic,
        ]
        .into_iter()
        .map(|cause| {
            Event::ReviewStarted(ReviewStarted {
                case_id: id(Category::Dibao),
                review: 1,
                cause,
                started_on: date!(2026 - 09 - 01),
            })
        }),
    );
    events.extend(
        [
            ReviewOutcome::Continued,
            ReviewOutcome::Changed,
            ReviewOutcome::Ended,
        ]
        .into_iter()
        .map(|outcome| {
            Event::ReviewCompleted(ReviewCompleted {
                case_id: id(Category::Dibao),
                review: 1,
                outcome,
                completed_on: date!(2026 - 09 - 10),
            })
        }),
    );
    events.extend([
        suspended(Category::Dibao, date!(2026 - 06 - 01)),
        Event::Resumed(Resumed {
            case_id: id(Category::Dibao),
            effective_on: date!(2026 - 08 - 01),
        }),
    ]);
    events.extend(
        [
            EndCause::NoLongerEligible,
            EndCause::NoMemberLeft,
            EndCause::Terminated,
            EndCause::OneOffPaid,
        ]
        .into_iter()
        .map(|cause| ended(Category::Dibao, date!(2026 - 06 - 01), "停发", cause)),
    );
    events.extend([
        rehomed(Category::Dibao, "210504002000", "210504000000"),
        Event::PaidAtOnce(PaidAtOnce {
            case_id: id(Category::Temporary),
            township: township(),
            calculation: calc(200_000),
            paid_on: date!(2026 - 03 - 03),
            report_due_on: date!(2026 - 03 - 16),
        }),
        Event::Reported(Reported {
            case_id: id(Category::Temporary),
            reported_on: date!(2026 - 03 - 10),
        }),
        transferred(date!(2026 - 03 - 03)),
    ]);
    assert_codec_round_trips(events);
}
