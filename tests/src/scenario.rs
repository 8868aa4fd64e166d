//! The pensioner couple of 南地街道 (平山区) applying for the minimum living allowance (低保):
//! the scenario the end-to-end tests share (`tests/assistance_flow.rs`, `tests/eldercare_flow.rs`),
//! from the application at the township's window to the county's approval on 2026-01-12.
//!
//! The applicant, born 1950, has a pension of 400 元 a month; his wife, born 1952, no income.
//! Both signed the authorization for the verification of their economic status.

use minzheng_host::testing::{token, with_token};
use minzheng_kit::{auth::Role, clock::FixedClock};
use minzheng_proto::{
    assistance::v1::{self as pb, assistance_service_client::AssistanceServiceClient},
    common::v1 as common,
};
use time::{Date, macros::date};
use tonic::transport::Channel;

/// 平山区 and its township 南地街道.
pub const PINGSHAN: &str = "210502000000";
pub const NANDI: &str = "210502001000";
/// The applicant, born 1950, with a pension of 400 元 a month; his wife, born 1952.
pub const APPLICANT: &str = "210502195001010019";
pub const WIFE: &str = "210502195203040021";
/// The day of the application.
pub const SUBMITTED: Date = date!(2026 - 01 - 05);
/// The day of the county's approval, after 7 days of public notice.
pub const APPROVED: Date = date!(2026 - 01 - 12);

/// A fresh idempotency key.
pub fn metadata() -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: uuid::Uuid::now_v7().to_string(),
        correlation_id: String::new(),
    })
}

pub fn citizen(number: &str) -> Option<common::CitizenRef> {
    Some(common::CitizenRef {
        citizen_id: number.to_owned(),
    })
}

pub fn region(code: &str) -> Option<common::RegionCode> {
    Some(common::RegionCode {
        code: code.to_owned(),
    })
}

pub fn day(d: Date) -> Option<common::Date> {
    Some(d.into())
}

pub fn money(fen: i64) -> Option<common::Money> {
    Some(common::Money { fen })
}

/// A caseworker at 南地街道's window.
pub fn caseworker() -> String {
    token(&[Role::Caseworker], &[NANDI])
}

/// 平山区's approver.
pub fn approver() -> String {
    token(&[Role::Approver], &[PINGSHAN])
}

/// `number`'s signed authorization for every data class, until 2027.
pub fn authorization(number: &str) -> pb::Authorization {
    pb::Authorization {
        signed_by: citizen(number),
        signed_on: day(date!(2026 - 01 - 02)),
        data_classes: (1..=9).collect(),
        expires_on: day(date!(2027 - 01 - 01)),
    }
}

/// The couple's dibao application at 南地街道's window.
pub fn application() -> pb::SubmitApplicationRequest {
    pb::SubmitApplicationRequest {
        metadata: metadata(),
        category: pb::AssistanceCategory::Dibao.into(),
        registered_division: region(NANDI),
        window: region(NANDI),
        area: pb::ResidenceArea::Urban.into(),
        applicant: citizen(APPLICANT),
        members: vec![
            pb::HouseholdMember {
                citizen: citizen(APPLICANT),
                name: "张三".into(),
                relation: pb::Relation::Applicant.into(),
                ..Default::default()
            },
            pb::HouseholdMember {
                citizen: citizen(WIFE),
                name: "李四".into(),
                relation: pb::Relation::Spouse.into(),
                ..Default::default()
            },
        ],
        incomes: vec![pb::DeclaredIncome {
            member: citizen(APPLICANT),
            kind: pb::IncomeKind::Pension.into(),
            monthly: money(40_000),
        }],
        authorizations: vec![authorization(APPLICANT), authorization(WIFE)],
        payment_account: "6217000012345678".into(),
        ..Default::default()
    }
}

/// Case `case_id` as the county's approver reads it.
pub async fn case(assistance: &mut AssistanceServiceClient<Channel>, case_id: &str) -> pb::Case {
    assistance
        .get_case(with_token(
            pb::GetCaseRequest {
                case_id: case_id.to_owned(),
                read: None,
            },
            &approver(),
        ))
        .await
        .expect("the case")
        .into_inner()
        .case
        .expect("a case")
}

/// From the verified case `case_id` to its approval on [`APPROVED`] (the clock moved there):
/// the township's review, the 7 days of notice, the county's decision.
pub async fn review_notice_and_approve(
    assistance: &mut AssistanceServiceClient<Channel>,
    clock: &FixedClock,
    case_id: &str,
) -> pb::DecideApplicationResponse {
    let verified = case(assistance, case_id).await;
    assert_eq!(
        verified.stage(),
        pb::CaseStage::AwaitingTownshipReview,
        "{verified:?}"
    );
    assistance
        .record_township_review(with_token(
            pb::RecordTownshipReviewRequest {
                metadata: metadata(),
                case_id: case_id.to_owned(),
                recommends_approval: true,
                opinion: "入户调查属实，建议纳入低保".into(),
                visited_on: day(SUBMITTED),
            },
            &caseworker(),
        ))
        .await
        .expect("reviewed");
    let notice = assistance
        .post_notice(with_token(
            pb::PostNoticeRequest {
                metadata: metadata(),
                case_id: case_id.to_owned(),
            },
            &caseworker(),
        ))
        .await
        .expect("posted")
        .into_inner();
    assert_eq!(notice.ends_on, day(APPROVED));
    clock.set(APPROVED);
    assistance
        .decide_application(with_token(
            pb::DecideApplicationRequest {
                metadata: metadata(),
                case_id: case_id.to_owned(),
                decision: pb::Decision::Approve.into(),
                ..Default::default()
            },
            &approver(),
        ))
        .await
        .expect("approved")
        .into_inner()
}
