//! The place-names service over real gRPC, in both hosting modes: embedded (SQLite, no NATS, as
//! `minzheng dev` runs it) and distributed (PostgreSQL and NATS JetStream, as `minzheng
//! placenames` runs it). The same scenario runs in both: import Benxi's divisions, merge two
//! townships and rename a village through the adjustment workflow, and resolve old codes as of
//! days before and after. The distributed run also checks what arrives on JetStream.

use std::{collections::BTreeMap, time::Duration};

use futures::StreamExt as _;
use minzheng_host::{
    Host, Mode, RunningHost,
    testing::{self, TestHost},
};
use minzheng_kit::{
    auth::{Authenticator, Role, mint_dev_token},
    settings::PlatformSettings,
};
use minzheng_proto::{
    common::v1 as common,
    placenames::v1::{self as pb, place_names_service_client::PlaceNamesServiceClient},
};
use minzheng_testkit::{TestDatabase, nats, nats_url, unique_name};
use secrecy::SecretString;
use tonic::{Code, Request, transport::Channel};
use tonic_types::StatusExt as _;

const SECRET: &str = "placenames-test-secret-at-least-32-bytes";
const BENXI: &str = include_str!("../data/benxi-divisions.csv");

/// 普乐堡镇 and 二棚甸子镇 (桓仁满族自治县) merge into 普乐堡镇; 夹道子村委会 is renamed.
const PULEBAO: &str = "210522101000";
const ERPENGDIANZI: &str = "210522102000";
const JIADAOZI: &str = "210522101201";
const HUANREN: &str = "210522000000";

type Client = PlaceNamesServiceClient<Channel>;

fn code(digits: &str) -> Option<common::RegionCode> {
    Some(common::RegionCode {
        code: digits.to_owned(),
    })
}

fn date(y: i32, m: i32, d: i32) -> Option<common::Date> {
    Some(common::Date {
        year: y,
        month: m,
        day: d,
    })
}

fn metadata() -> Option<common::CommandMetadata> {
    Some(common::CommandMetadata {
        idempotency_key: uuid::Uuid::now_v7().to_string(),
        correlation_id: String::new(),
    })
}

fn token(roles: &[Role], region: &str) -> String {
    mint_dev_token(
        &SecretString::from(SECRET),
        "tester",
        roles,
        &[minzheng_types::RegionCode::parse(region).unwrap()],
        Duration::from_secs(600),
    )
    .unwrap()
}

fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

fn read_at(position: u64) -> Option<common::ReadOptions> {
    Some(common::ReadOptions {
        min_position: position,
    })
}

async fn start(settings: PlatformSettings, mode: Mode, prefix: &str) -> RunningHost {
    Host::new(mode, settings)
        .module(minzheng_placenames::Module::default())
        .authenticator(Authenticator::dev(&SecretString::from(SECRET)).unwrap())
        .bus_prefix(prefix)
        .start()
        .await
        .expect("host starts")
}

async fn client(host: &RunningHost) -> Client {
    PlaceNamesServiceClient::connect(format!("http://{}", host.local_addr()))
        .await
        .unwrap()
        .max_encoding_message_size(32 << 20)
}

async fn import(
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
            &token(&[Role::Operator], "210000000000"),
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// Counts the divisions under `root` (itself included) per level, walking ListChildren.
async fn count_levels(client: &mut Client, root: &str, position: u64) -> BTreeMap<i32, usize> {
    let mut counts = BTreeMap::new();
    let mut queue = vec![root.to_owned()];
    let root = client
        .get_division(pb::GetDivisionRequest {
            code: code(root),
            as_of: None,
            read: read_at(position),
        })
        .await
        .unwrap()
        .into_inner()
        .division
        .unwrap();
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
                .unwrap()
                .into_inner();
            for child in page.divisions {
                *counts.entry(child.level).or_default() += 1;
                queue.push(child.code.unwrap().code);
            }
            token = page.page.unwrap().next_page_token;
            if token.is_empty() {
                break;
            }
        }
    }
    counts
}

async fn resolve(
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
        .unwrap()
        .into_inner();
    (
        response
            .divisions
            .into_iter()
            .map(|d| format!("{} {}", d.code.unwrap().code, d.name))
            .collect(),
        response.valid_on_day,
    )
}

/// Runs an adjustment through the whole workflow; returns the position of its enactment.
async fn adjust(
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
    let caseworker = token(&[Role::Caseworker], HUANREN);
    let approver = token(&[Role::Approver], HUANREN);
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
        .unwrap();
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
            .unwrap();
    }
    // A caseworker may not approve.
    let refused = client
        .approve_adjustment(with_token(
            pb::ApproveAdjustmentRequest {
                metadata: metadata(),
                adjustment_id: id.to_owned(),
                approved_on: date(2025, 5, 20),
                approval_reference: "辽政〔2025〕12号".to_owned(),
            },
            &caseworker,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    // It cannot take effect before it is approved.
    let early = client
        .put_adjustment_into_effect(with_token(
            pb::PutAdjustmentIntoEffectRequest {
                metadata: metadata(),
                adjustment_id: id.to_owned(),
                effective_on: date(2025, 7, 1),
            },
            &approver,
        ))
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition, "{early:?}");
    client
        .approve_adjustment(with_token(
            pb::ApproveAdjustmentRequest {
                metadata: metadata(),
                adjustment_id: id.to_owned(),
                approved_on: date(2025, 5, 20),
                approval_reference: "辽政〔2025〕12号".to_owned(),
            },
            &approver,
        ))
        .await
        .unwrap();
    let effect = client
        .put_adjustment_into_effect(with_token(
            pb::PutAdjustmentIntoEffectRequest {
                metadata: metadata(),
                adjustment_id: id.to_owned(),
                effective_on: date(2025, 7, 1),
            },
            &approver,
        ))
        .await
        .unwrap()
        .into_inner();
    (effect.result.unwrap().position, effect.took_effect.unwrap())
}

/// Names a road through the whole workflow, then renames it; the public database follows.
async fn name_a_road(client: &mut Client) {
    let caseworker = token(&[Role::Caseworker], "210502000000");
    let approver = token(&[Role::Approver], "210502000000");
    let propose =
        |id: &str, name: &str, pinyin: &str, replaces: &str| pb::ProposePlaceNameRequest {
            metadata: metadata(),
            place_name_id: id.to_owned(),
            kind: pb::PlaceKind::Road.into(),
            name: name.to_owned(),
            pinyin: pinyin.to_owned(),
            region: code("210502000000"),
            meaning: "沿太子河而建，以河得名".to_owned(),
            proposed_on: date(2025, 3, 1),
            replaces: replaces.to_owned(),
        };
    // Bad input names each field.
    let status = client
        .propose_place_name(with_token(propose("", "", "太子河", ""), &caseworker))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let details = status.get_error_details();
    let mut fields: Vec<&str> = details
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["name", "pinyin", "place_name_id"]);

    for (id, name, pinyin, replaces, published_on) in [
        ("BX-DM-001", "太子河路", "Tàizǐhé Lù", "", date(2025, 5, 1)),
        (
            "BX-DM-002",
            "滨河路",
            "Binhe Lu",
            "BX-DM-001",
            date(2026, 1, 1),
        ),
    ] {
        client
            .propose_place_name(with_token(propose(id, name, pinyin, replaces), &caseworker))
            .await
            .unwrap();
        let approve = || {
            with_token(
                pb::ApprovePlaceNameRequest {
                    metadata: metadata(),
                    place_name_id: id.to_owned(),
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
                    place_name_id: id.to_owned(),
                    favourable: true,
                    summary: "符合命名规则".to_owned(),
                    evaluated_on: date(2025, 3, 20),
                },
                &caseworker,
            ))
            .await
            .unwrap();
        client
            .open_place_name_comment_period(with_token(
                pb::OpenPlaceNameCommentPeriodRequest {
                    metadata: metadata(),
                    place_name_id: id.to_owned(),
                    opened_on: date(2025, 4, 1),
                    closes_on: date(2025, 4, 15),
                },
                &caseworker,
            ))
            .await
            .unwrap();
        // Not while the comment period is open.
        let open = client.approve_place_name(approve()).await.unwrap_err();
        assert_eq!(open.code(), Code::FailedPrecondition, "{open:?}");
        client
            .record_place_name_comment(with_token(
                pb::RecordPlaceNameCommentRequest {
                    metadata: metadata(),
                    place_name_id: id.to_owned(),
                    summary: "赞成".to_owned(),
                    received_on: date(2025, 4, 3),
                },
                &caseworker,
            ))
            .await
            .unwrap();
        client
            .close_place_name_comment_period(with_token(
                pb::ClosePlaceNameCommentPeriodRequest {
                    metadata: metadata(),
                    place_name_id: id.to_owned(),
                    closed_on: date(2025, 4, 15),
                },
                &caseworker,
            ))
            .await
            .unwrap();
        client.approve_place_name(approve()).await.unwrap();
        let published = client
            .publish_place_name(with_token(
                pb::PublishPlaceNameRequest {
                    metadata: metadata(),
                    place_name_id: id.to_owned(),
                    published_on,
                },
                &approver,
            ))
            .await
            .unwrap()
            .into_inner();
        let position = published.result.unwrap().position;
        // Public: no token needed.
        let shown = client
            .get_place_name(pb::GetPlaceNameRequest {
                place_name_id: id.to_owned(),
                read: read_at(position),
            })
            .await
            .unwrap()
            .into_inner()
            .place_name
            .unwrap();
        assert_eq!(shown.status(), pb::PlaceNameStatus::Published);
        assert_eq!(shown.comment_count, 1);
    }
    // The renaming retired the old name from the day the new one was published.
    let old = client
        .get_place_name(pb::GetPlaceNameRequest {
            place_name_id: "BX-DM-001".to_owned(),
            read: None,
        })
        .await
        .unwrap()
        .into_inner()
        .place_name
        .unwrap();
    assert_eq!(old.status(), pb::PlaceNameStatus::Retired);
    assert_eq!(old.retired_on, date(2026, 1, 1));
    assert_eq!(old.replaced_by, "BX-DM-002");
    // The public database by pinyin prefix (tone marks and case ignored), as of a day.
    let search = |prefix: &str, as_of| pb::SearchPlaceNamesRequest {
        prefix: prefix.to_owned(),
        within: code("210500000000"),
        as_of,
        page: None,
        read: None,
    };
    let names = |response: pb::SearchPlaceNamesResponse| -> Vec<String> {
        response.place_names.into_iter().map(|p| p.name).collect()
    };
    let found = client
        .search_place_names(search("TAIZI", date(2025, 6, 1)))
        .await
        .unwrap();
    assert_eq!(names(found.into_inner()), ["太子河路"]);
    let found = client
        .search_place_names(search("taizi", date(2026, 2, 1)))
        .await
        .unwrap();
    assert!(
        names(found.into_inner()).is_empty(),
        "retired names are not standard any more"
    );
    let found = client
        .search_place_names(search("滨河", date(2026, 2, 1)))
        .await
        .unwrap();
    assert_eq!(names(found.into_inner()), ["滨河路"]);
}

/// A boundary through its fourth and fifth inspection rounds, and a sign for the renamed road.
async fn boundaries_and_signs(client: &mut Client) {
    let staff = token(&[Role::Caseworker], "210500000000");
    let boundary = "210502-210503";
    client
        .record_boundary(with_token(
            pb::RecordBoundaryRequest {
                metadata: metadata(),
                boundary_id: boundary.to_owned(),
                between: vec![code("210503000000").unwrap(), code("210502000000").unwrap()],
                description: "平山区与溪湖区界线".to_owned(),
                recorded_on: date(2024, 1, 1),
            },
            &staff,
        ))
        .await
        .unwrap();
    let start = |round, started_on| {
        with_token(
            pb::StartInspectionRoundRequest {
                metadata: metadata(),
                boundary_id: boundary.to_owned(),
                round,
                started_on,
            },
            &staff,
        )
    };
    client
        .start_inspection_round(start(4, date(2024, 3, 1)))
        .await
        .unwrap();
    // Round 5 cannot start while round 4 is open.
    let refused = client
        .start_inspection_round(start(5, date(2024, 4, 1)))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    client
        .complete_inspection_round(with_token(
            pb::CompleteInspectionRoundRequest {
                metadata: metadata(),
                boundary_id: boundary.to_owned(),
                round: 4,
                completed_on: date(2024, 10, 1),
                conclusion: "界线清楚，界桩完好".to_owned(),
            },
            &staff,
        ))
        .await
        .unwrap();
    client
        .start_inspection_round(start(5, date(2025, 3, 1)))
        .await
        .unwrap();
    let finding = client
        .record_inspection_finding(with_token(
            pb::RecordInspectionFindingRequest {
                metadata: metadata(),
                boundary_id: boundary.to_owned(),
                round: 5,
                kind: pb::InspectionFindingKind::MarkerDamaged.into(),
                description: "3号界桩倾斜".to_owned(),
                recorded_on: date(2025, 4, 2),
            },
            &staff,
        ))
        .await
        .unwrap()
        .into_inner();
    let shown = client
        .list_boundaries(pb::ListBoundariesRequest {
            within: code("210502000000"),
            page: None,
            read: read_at(finding.result.unwrap().position),
        })
        .await
        .unwrap()
        .into_inner()
        .boundaries;
    assert_eq!(shown.len(), 1);
    let line = &shown[0];
    assert_eq!(
        line.between[0],
        code("210502000000").unwrap(),
        "sides in code order"
    );
    assert_eq!(
        (
            line.open_round,
            line.last_completed_round,
            line.open_finding_count
        ),
        (5, 4, 1)
    );

    // A sign for the standard name, not for the retired one.
    let install = |sign: &str, place_name: &str, text: &str| {
        with_token(
            pb::InstallSignRequest {
                metadata: metadata(),
                sign_id: sign.to_owned(),
                place_name_id: place_name.to_owned(),
                text: text.to_owned(),
                location: "滨河路与永丰街交叉口东北角".to_owned(),
                installed_on: date(2026, 2, 1),
            },
            &token(&[Role::Caseworker], "210502000000"),
        )
    };
    let refused = client
        .install_sign(install("BX-S-1", "BX-DM-001", "太子河路"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    client
        .install_sign(install("BX-S-2", "BX-DM-002", "滨河路 Binhe Lu"))
        .await
        .unwrap();
    let inspected = client
        .inspect_sign(with_token(
            pb::InspectSignRequest {
                metadata: metadata(),
                sign_id: "BX-S-2".to_owned(),
                condition: pb::SignCondition::Damaged.into(),
                note: "字迹褪色".to_owned(),
                inspected_on: date(2026, 6, 1),
            },
            &staff,
        ))
        .await
        .unwrap()
        .into_inner();
    let signs = client
        .list_signs(pb::ListSignsRequest {
            place_name_id: "BX-DM-002".to_owned(),
            page: None,
            read: read_at(inspected.result.unwrap().position),
        })
        .await
        .unwrap()
        .into_inner()
        .signs;
    assert_eq!(signs.len(), 1);
    assert_eq!(signs[0].condition(), pb::SignCondition::Damaged);
    assert_eq!(signs[0].inspected_on, date(2026, 6, 1));
}

/// The scenario both modes run.
async fn scenario(host: &RunningHost) {
    let mut client = client(host).await;

    // Import the whole file; counts per level.
    let imported = import(&mut client, BENXI).await.expect("Benxi imports");
    assert_eq!(
        (imported.rows, imported.recorded, imported.unchanged),
        (565, 565, 0)
    );
    let counts = count_levels(&mut client, "210000000000", imported.position).await;
    let levels = [
        common::RegionLevel::Province,
        common::RegionLevel::City,
        common::RegionLevel::County,
        common::RegionLevel::Township,
        common::RegionLevel::Village,
    ];
    assert_eq!(
        levels.map(|l| counts.get(&(l as i32)).copied().unwrap_or(0)),
        [1, 1, 6, 49, 508]
    );

    // Importing the same file again records nothing.
    let again = import(&mut client, BENXI).await.unwrap();
    assert_eq!(
        (again.recorded, again.unchanged, again.position),
        (0, 565, 0)
    );

    // A malformed file: INVALID_ARGUMENT naming the row and column; nothing recorded.
    let status = import(
        &mut client,
        "code,name,level,parent_code\n210522999000,新镇,village,210522000000\n",
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let details = status.get_error_details();
    let fields: Vec<&str> = details
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert_eq!(fields, ["csv.line[2].level"]);
    // A row contradicting a recorded division: FAILED_PRECONDITION.
    let status = import(
        &mut client,
        "code,name,level,parent_code\n210522101000,普乐堡乡,township,210522000000\n",
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    // Changes need a token; queries do not.
    let status = client
        .import_divisions(pb::ImportDivisionsRequest {
            metadata: metadata(),
            csv: BENXI.as_bytes().to_vec(),
            valid_from: date(2023, 6, 30),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    // Merge two townships, then rename a village.
    let (_, merged) = adjust(
        &mut client,
        "HR-2025-merge",
        pb::AdjustmentKind::Merge,
        &[(PULEBAO, "普乐堡镇"), (ERPENGDIANZI, "二棚甸子镇")],
        &[(PULEBAO, "普乐堡镇")],
    )
    .await;
    assert_eq!(merged.superseded.len(), 1);
    assert_eq!(
        merged.superseded[0].code.as_ref().unwrap().code,
        ERPENGDIANZI
    );
    let (position, renamed) = adjust(
        &mut client,
        "HR-2025-rename",
        pb::AdjustmentKind::Rename,
        &[(JIADAOZI, "夹道子村委会")],
        &[(JIADAOZI, "夹道河村委会")],
    )
    .await;
    assert_eq!(renamed.renamed.len(), 1);

    // The old township code: itself before the merger, the surviving town from the day it
    // took effect, and today.
    let pulebao = format!("{PULEBAO} 普乐堡镇");
    assert_eq!(
        resolve(&mut client, ERPENGDIANZI, date(2025, 6, 30), position).await,
        (vec![format!("{ERPENGDIANZI} 二棚甸子镇")], true)
    );
    assert_eq!(
        resolve(&mut client, ERPENGDIANZI, date(2025, 7, 1), position).await,
        (vec![pulebao.clone()], false)
    );
    assert_eq!(
        resolve(&mut client, ERPENGDIANZI, None, position).await,
        (vec![pulebao], false)
    );
    // The renamed village keeps its code; its name depends on the day.
    assert_eq!(
        resolve(&mut client, JIADAOZI, date(2025, 6, 30), position).await,
        (vec![format!("{JIADAOZI} 夹道子村委会")], true)
    );
    assert_eq!(
        resolve(&mut client, JIADAOZI, date(2025, 7, 1), position).await,
        (vec![format!("{JIADAOZI} 夹道河村委会")], true)
    );
    // The merged township's villages now lie in the town.
    let children = |as_of| pb::ListChildrenRequest {
        code: code(PULEBAO),
        as_of,
        page: Some(common::PageRequest {
            page_size: 1_000,
            page_token: String::new(),
        }),
        read: None,
    };
    let before = client
        .list_children(children(date(2025, 6, 30)))
        .await
        .unwrap()
        .into_inner();
    let after = client
        .list_children(children(date(2025, 7, 1)))
        .await
        .unwrap()
        .into_inner();
    let villages_of = |township: &str| {
        BENXI
            .lines()
            .filter(|l| l.ends_with(&format!(",village,{township}")))
            .count()
    };
    assert_eq!(before.divisions.len(), villages_of(PULEBAO));
    assert_eq!(
        after.divisions.len(),
        villages_of(PULEBAO) + villages_of(ERPENGDIANZI)
    );
    // The superseded township stays queryable, with its successor.
    let old = client
        .get_division(pb::GetDivisionRequest {
            code: code(ERPENGDIANZI),
            as_of: None,
            read: None,
        })
        .await
        .unwrap()
        .into_inner()
        .division
        .unwrap();
    assert_eq!(old.valid_to, date(2025, 7, 1));
    assert_eq!(old.superseded_by, vec![code(PULEBAO).unwrap()]);
    // Search as of a day sees the names of that day.
    let search = |prefix: &str, as_of| pb::SearchDivisionsRequest {
        name_prefix: prefix.to_owned(),
        within: code(HUANREN),
        as_of,
        page: None,
        read: None,
    };
    let found = client
        .search_divisions(search("夹道", date(2025, 8, 1)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.divisions.len(), 1);
    assert_eq!(found.divisions[0].name, "夹道河村委会");
    let found = client
        .search_divisions(search("二棚", date(2025, 8, 1)))
        .await
        .unwrap()
        .into_inner();
    let codes = |found: &pb::SearchDivisionsResponse| -> Vec<String> {
        found
            .divisions
            .iter()
            .map(|d| d.code.clone().unwrap().code)
            .collect()
    };
    assert!(
        !codes(&found).contains(&ERPENGDIANZI.to_owned()),
        "a superseded town is not found after it ended"
    );
    let found = client
        .search_divisions(search("二棚", date(2025, 6, 1)))
        .await
        .unwrap()
        .into_inner();
    assert!(
        codes(&found).contains(&ERPENGDIANZI.to_owned()),
        "but it is found before"
    );
    // The adjustment shows its whole workflow.
    let adjustment = client
        .get_adjustment(with_token(
            pb::GetAdjustmentRequest {
                adjustment_id: "HR-2025-merge".to_owned(),
                read: None,
            },
            &token(&[Role::Auditor], HUANREN),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(adjustment.status(), pb::AdjustmentStatus::InEffect);
    assert_eq!(adjustment.reviews.len(), 3);

    name_a_road(&mut client).await;
    boundaries_and_signs(&mut client).await;
}

#[tokio::test]
async fn embedded_mode_imports_adjusts_and_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let settings = PlatformSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_owned(),
        ..PlatformSettings::default()
    };
    let host = start(settings, Mode::Embedded, "minzheng").await;
    scenario(&host).await;
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn distributed_mode_publishes_the_events_on_jetstream() {
    let db = TestDatabase::create().await;
    let prefix = unique_name("pn").to_lowercase();
    let client = nats().await;
    // A plain subscriber, as an agency would have, sees what the relay publishes.
    let mut subscriber = client
        .subscribe(format!("{prefix}.placenames.>"))
        .await
        .unwrap();
    client.flush().await.unwrap();
    let settings = PlatformSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url: Some(SecretString::from(db.url.clone())),
        nats_url: Some(nats_url()),
        ..PlatformSettings::default()
    };
    let host = start(settings, Mode::Distributed, &prefix).await;
    scenario(&host).await;

    // 565 recorded + the merger's supersession + the rename, and the adjustments' own events.
    let mut subjects: BTreeMap<String, usize> = BTreeMap::new();
    let mut superseded = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !subjects.contains_key(&format!("{prefix}.placenames.division.renamed"))
        || subjects.values().sum::<usize>() < 565 + 2 + 2 * 6
    {
        let message = tokio::time::timeout_at(deadline, subscriber.next())
            .await
            .expect("every event arrives on JetStream")
            .unwrap();
        let subject = message.subject.to_string();
        if subject.ends_with(".division.superseded") {
            superseded = Some(message.clone());
        }
        *subjects.entry(subject).or_default() += 1;
    }
    assert_eq!(
        subjects[&format!("{prefix}.placenames.division.recorded")],
        565
    );
    assert_eq!(
        subjects[&format!("{prefix}.placenames.division.superseded")],
        1
    );
    assert_eq!(
        subjects[&format!("{prefix}.placenames.adjustment.took_effect")],
        2
    );
    let message = superseded.expect("the supersession was published");
    let headers = message.headers.as_ref().expect("CloudEvents headers");
    let header = |name: &str| headers.get(name).map(|v| v.as_str().to_owned());
    assert_eq!(header("ce-specversion").as_deref(), Some("1.0"));
    assert_eq!(
        header("ce-type").as_deref(),
        Some("minzheng.placenames.v1.DivisionSuperseded")
    );
    assert_eq!(
        header("ce-subject").as_deref(),
        Some(format!("division-{ERPENGDIANZI}").as_str())
    );
    assert_eq!(
        header("content-type").as_deref(),
        Some("application/protobuf")
    );
    assert!(header("ce-id").is_some() && header("Nats-Msg-Id") == header("ce-id"));
    assert!(header("ce-source").is_some() && header("ce-time").is_some());
    assert!(header("ce-dataschema").is_some());
    let event: pb::DivisionSuperseded = prost::Message::decode(message.payload.clone()).unwrap();
    assert_eq!(event.successors, vec![code(PULEBAO).unwrap()]);
    assert_eq!(event.adjustment_id, "HR-2025-merge");

    host.shutdown().await.unwrap();
    let naming = minzheng_bus::BusNaming::with_prefix(&prefix, "placenames").unwrap();
    let _ = async_nats::jetstream::new(client)
        .delete_stream(naming.stream_name())
        .await;
}

/// Every RPC called with every role and without a token: the edge admits exactly what the
/// access policy says.
#[tokio::test]
async fn the_edge_enforces_the_access_policy_for_every_rpc_and_role() {
    let host = TestHost::embedded()
        .service(minzheng_placenames::Module::default())
        .start()
        .await;
    testing::assert_access_matrix(
        host.channel("placenames").await,
        &minzheng_placenames::grpc::PlaceNamesApi::access(),
    )
    .await;
    host.shutdown().await;
}

#[test]
fn access_matrix_doc_is_current() {
    testing::assert_access_doc(
        env!("CARGO_MANIFEST_DIR"),
        "ACCESS.md",
        "Place names",
        &minzheng_placenames::grpc::PlaceNamesApi::access(),
    );
}
