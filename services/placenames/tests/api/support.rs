//! What the tests share: the hosts they start, request builders, and the workflows several
//! tests go through (an import, an adjustment, a standard name), with the assertions that hold
//! on the way.

use std::collections::BTreeMap;

use minzheng_host::testing::{TestHost, token, with_token};
use minzheng_kit::auth::Role;
use minzheng_placenames::{BENXI, Module};
use minzheng_proto::{
    common::v1 as common,
    placenames::v1::{self as pb, place_names_service_client::PlaceNamesServiceClient},
};
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt as _;

/// Benxi's division file, as `minzheng dev` seeds it.
pub const BENXI_CSV: &str = BENXI.csv;
/// 普乐堡镇 and 二棚甸子镇 (桓仁满族自治县) merge into 普乐堡镇; 夹道子村委会 is renamed.
pub const PULEBAO: &str = "210522101000";
pub const ERPENGDIANZI: &str = "210522102000";
pub const JIADAOZI: &str = "210522101201";
pub const HUANREN: &str = "210522000000";
/// 平山区, where the road is named; 本溪市 and 辽宁省 above it.
pub const PINGSHAN: &str = "210502000000";
pub const BENXI_CITY: &str = "210500000000";
pub const LIAONING: &str = "210000000000";

pub type Client = PlaceNamesServiceClient<Channel>;

/// The service embedded, with no division recorded.
pub async fn empty() -> (TestHost, Client) {
    embedded(Module::default()).await
}

/// The service embedded, with Benxi's 565 divisions recorded at start (valid from 2023-06-30).
pub async fn benxi() -> (TestHost, Client) {
    embedded(Module::default().with_seed(BENXI)).await
}

async fn embedded(module: Module) -> (TestHost, Client) {
    let host = TestHost::embedded().service(module).start().await;
    let client = client(&host).await;
    (host, client)
}

/// A client of the host's place-names service, able to send a province-sized file.
pub async fn client(host: &TestHost) -> Client {
    PlaceNamesServiceClient::new(host.channel("placenames").await)
        .max_encoding_message_size(32 << 20)
}

pub fn code(digits: &str) -> Option<common::RegionCode> {
    Some(common::RegionCode {
        code: digits.to_owned(),
    })
}

pub fn date(y: i32, m: i32, d: i32) -> Option<common::Date> {
    Some(common::Date {
        year: y,
        month: m,
        day: d,
    })
}

pub fn metadata() -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: uuid::Uuid::now_v7().to_string(),
        correlation_id: String::new(),
    })
}

pub fn read_at(position: u64) -> Option<common::ReadOptions> {
    Some(common::ReadOptions {
        min_position: position,
    })
}

/// The fields an INVALID_ARGUMENT status names, in its order.
pub fn bad_fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_error_details()
        .bad_request()
        .expect("a BadRequest detail")
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect()
}

/// Imports `csv` as an operator of the province, valid from 2023-06-30.
pub async fn import(
    client: &mut Client,
    csv: &str,
) -> Result<pb::ImportDivisionsResponse, tonic::Status> {
    client
        .import_divisions(with_token(
            pb::ImportDivisionsRequest {
                metadata: metadata(),
                csv: csv.as_bytes().to_vec(),
                valid_from: date(2023, 6, 30),
            },
            &token(&[Role::Operator], &[LIAONING]),
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// Imports Benxi's whole file into an empty service: every row recorded.
pub async fn import_benxi(client: &mut Client) -> pb::ImportDivisionsResponse {
    let imported = import(client, BENXI_CSV).await.expect("Benxi imports");
    assert_eq!(
        (imported.rows, imported.recorded, imported.unchanged),
        (565, 565, 0)
    );
    imported
}

/// Counts the divisions under `root` (itself included) per level, walking ListChildren.
pub async fn count_levels(client: &mut Client, root: &str, position: u64) -> BTreeMap<i32, usize> {
    let mut counts = BTreeMap::new();
    let mut queue = vec![root.to_owned()];
    let root = client
        .get_division(pb::GetDivisionRequest {
            code: code(root),
            as_of: None,
            read: read_at(position),
        })
        .await
        .expect("the root is recorded")
        .into_inner()
        .division
        .expect("a division");
    *counts.entry(root.level).or_default() += 1;
    while let Some(parent) = queue.pop() {
        let mut token = String::new();
        loop {
            let page = client
                .list_children(pb::ListChildrenRequest {
                    code: code(&parent),
                    as_of: date(2024, 1, 1),
                    page: Some(common::PageRequest {
                        page_size: 200,
                        page_token: token.clone(),
                    }),
                    read: None,
                })
                .await
                .expect("children are public")
                .into_inner();
            for child in page.divisions {
                *counts.entry(child.level).or_default() += 1;
                queue.push(child.code.expect("a code").code);
            }
            token = page.page.expect("a page").next_page_token;
            if token.is_empty() {
                break;
            }
        }
    }
    counts
}

/// What `old` resolves to as of a day (today when `None`): "code name" of each division, and
/// whether `old` itself was valid that day.
pub async fn resolve(
    client: &mut Client,
    old: &str,
    as_of: Option<common::Date>,
    position: u64,
) -> (Vec<String>, bool) {
    let response = client
        .resolve_division(pb::ResolveDivisionRequest {
            code: code(old),
            as_of,
            read: read_at(position),
        })
        .await
        .expect("resolving is public")
        .into_inner();
    (
        response
            .divisions
            .into_iter()
            .map(|d| format!("{} {}", d.code.expect("a code").code, d.name))
            .collect(),
        response.valid_on_day,
    )
}

/// Runs an adjustment in 桓仁 through the whole workflow (proposed 2025-01-10, three
/// favourable reviews, approved 2025-05-20, in effect from 2025-07-01), checking on the way that
/// a caseworker may not approve and that it cannot take effect before it is approved. Returns
/// the position of its enactment and what took effect.
pub async fn adjust(
    client: &mut Client,
    id: &str,
    kind: pb::AdjustmentKind,
    before: &[(&str, &str)],
    after: &[(&str, &str)],
) -> (u64, pb::AdjustmentTookEffect) {
    let refs = |divisions: &[(&str, &str)]| {
        divisions
            .iter()
            .map(|(c, n)| pb::DivisionRef {
                code: code(c),
                name: (*n).to_owned(),
            })
            .collect::<Vec<_>>()
    };
    let caseworker = token(&[Role::Caseworker], &[HUANREN]);
    let approver = token(&[Role::Approver], &[HUANREN]);
    client
        .propose_adjustment(with_token(
            pb::ProposeAdjustmentRequest {
                metadata: metadata(),
                adjustment_id: id.to_owned(),
                kind: kind.into(),
                before: refs(before),
                after: refs(after),
                justification: "优化行政区划设置".to_owned(),
                proposed_on: date(2025, 1, 10),
                ..Default::default()
            },
            &caseworker,
        ))
        .await
        .expect("proposed");
    for review in [
        pb::ReviewKind::Expert,
        pb::ReviewKind::Risk,
        pb::ReviewKind::PublicOpinion,
    ] {
        client
            .record_adjustment_review(with_token(
                pb::RecordAdjustmentReviewRequest {
                    metadata: metadata(),
                    adjustment_id: id.to_owned(),
                    review: review.into(),
                    favourable: true,
                    summary: "同意".to_owned(),
                    recorded_on: date(2025, 3, 1),
                },
                &caseworker,
            ))
            .await
            .expect("review recorded");
    }
    let approve = |token: &str| {
        with_token(
            pb::ApproveAdjustmentRequest {
                metadata: metadata(),
                adjustment_id: id.to_owned(),
                approved_on: date(2025, 5, 20),
                approval_reference: "辽政〔2025〕12号".to_owned(),
            },
            token,
        )
    };
    let into_effect = || {
        with_token(
            pb::PutAdjustmentIntoEffectRequest {
                metadata: metadata(),
                adjustment_id: id.to_owned(),
                effective_on: date(2025, 7, 1),
            },
            &approver,
        )
    };
    // A caseworker may not approve.
    let refused = client
        .approve_adjustment(approve(&caseworker))
        .await
        .expect_err("a caseworker may not approve");
    assert_eq!(refused.code(), Code::PermissionDenied);
    // It cannot take effect before it is approved.
    let early = client
        .put_adjustment_into_effect(into_effect())
        .await
        .expect_err("not approved yet");
    assert_eq!(early.code(), Code::FailedPrecondition, "{early:?}");
    client
        .approve_adjustment(approve(&approver))
        .await
        .expect("approved");
    let effect = client
        .put_adjustment_into_effect(into_effect())
        .await
        .expect("in effect")
        .into_inner();
    (
        effect.result.expect("a result").position,
        effect.took_effect.expect("what took effect"),
    )
}

/// Merges 二棚甸子镇 into 普乐堡镇 (`HR-2025-merge`, from 2025-07-01).
pub async fn merge_the_townships(client: &mut Client) -> (u64, pb::AdjustmentTookEffect) {
    adjust(
        client,
        "HR-2025-merge",
        pb::AdjustmentKind::Merge,
        &[(PULEBAO, "普乐堡镇"), (ERPENGDIANZI, "二棚甸子镇")],
        &[(PULEBAO, "普乐堡镇")],
    )
    .await
}

/// Renames 夹道子村委会 to 夹道河村委会 (`HR-2025-rename`, from 2025-07-01).
pub async fn rename_the_village(client: &mut Client) -> (u64, pb::AdjustmentTookEffect) {
    adjust(
        client,
        "HR-2025-rename",
        pb::AdjustmentKind::Rename,
        &[(JIADAOZI, "夹道子村委会")],
        &[(JIADAOZI, "夹道河村委会")],
    )
    .await
}

/// A road in 平山区 proposed under `id`, replacing the name `replaces` (or none).
pub fn propose_road(
    id: &str,
    name: &str,
    pinyin: &str,
    replaces: &str,
) -> pb::ProposePlaceNameRequest {
    pb::ProposePlaceNameRequest {
        metadata: metadata(),
        place_name_id: id.to_owned(),
        kind: pb::PlaceKind::Road.into(),
        name: name.to_owned(),
        pinyin: pinyin.to_owned(),
        region: code(PINGSHAN),
        meaning: "沿太子河而建，以河得名".to_owned(),
        proposed_on: date(2025, 3, 1),
        replaces: replaces.to_owned(),
    }
}

/// Takes a road's name through the whole workflow (proposal, a favourable evaluation, a comment
/// period with one comment, approval, publication on `published_on`), checking on the way that
/// it cannot be approved while the comment period is open, and that the published name is
/// public.
pub async fn publish_road(
    client: &mut Client,
    proposal: pb::ProposePlaceNameRequest,
    published_on: Option<common::Date>,
) {
    let caseworker = token(&[Role::Caseworker], &[PINGSHAN]);
    let approver = token(&[Role::Approver], &[PINGSHAN]);
    let id = proposal.place_name_id.clone();
    client
        .propose_place_name(with_token(proposal, &caseworker))
        .await
        .expect("proposed");
    let approve = || {
        with_token(
            pb::ApprovePlaceNameRequest {
                metadata: metadata(),
                place_name_id: id.clone(),
                approved_on: date(2025, 4, 20),
                approval_reference: "本政地名〔2025〕3号".to_owned(),
            },
            &approver,
        )
    };
    client
        .record_place_name_evaluation(with_token(
            pb::RecordPlaceNameEvaluationRequest {
                metadata: metadata(),
                place_name_id: id.clone(),
                favourable: true,
                summary: "符合命名规则".to_owned(),
                evaluated_on: date(2025, 3, 20),
            },
            &caseworker,
        ))
        .await
        .expect("evaluated");
    client
        .open_place_name_comment_period(with_token(
            pb::OpenPlaceNameCommentPeriodRequest {
                metadata: metadata(),
                place_name_id: id.clone(),
                opened_on: date(2025, 4, 1),
                closes_on: date(2025, 4, 15),
            },
            &caseworker,
        ))
        .await
        .expect("comment period opened");
    // Not while the comment period is open.
    let open = client
        .approve_place_name(approve())
        .await
        .expect_err("the comment period is open");
    assert_eq!(open.code(), Code::FailedPrecondition, "{open:?}");
    client
        .record_place_name_comment(with_token(
            pb::RecordPlaceNameCommentRequest {
                metadata: metadata(),
                place_name_id: id.clone(),
                summary: "赞成".to_owned(),
                received_on: date(2025, 4, 3),
            },
            &caseworker,
        ))
        .await
        .expect("comment recorded");
    client
        .close_place_name_comment_period(with_token(
            pb::ClosePlaceNameCommentPeriodRequest {
                metadata: metadata(),
                place_name_id: id.clone(),
                closed_on: date(2025, 4, 15),
            },
            &caseworker,
        ))
        .await
        .expect("comment period closed");
    client
        .approve_place_name(approve())
        .await
        .expect("approved");
    let published = client
        .publish_place_name(with_token(
            pb::PublishPlaceNameRequest {
                metadata: metadata(),
                place_name_id: id.clone(),
                published_on,
            },
            &approver,
        ))
        .await
        .expect("published")
        .into_inner();
    let position = published.result.expect("a result").position;
    // Public: no token needed.
    let shown = client
        .get_place_name(pb::GetPlaceNameRequest {
            place_name_id: id,
            read: read_at(position),
        })
        .await
        .expect("public")
        .into_inner()
        .place_name
        .expect("a place name");
    assert_eq!(shown.status(), pb::PlaceNameStatus::Published);
    assert_eq!(shown.comment_count, 1);
}

/// 太子河路 (`BX-DM-001`, published 2025-05-01), renamed 滨河路 (`BX-DM-002`, published
/// 2026-01-01).
pub async fn name_and_rename_the_road(client: &mut Client) {
    publish_road(
        client,
        propose_road("BX-DM-001", "太子河路", "Tàizǐhé Lù", ""),
        date(2025, 5, 1),
    )
    .await;
    publish_road(
        client,
        propose_road("BX-DM-002", "滨河路", "Binhe Lu", "BX-DM-001"),
        date(2026, 1, 1),
    )
    .await;
}
