//! Boundary lines and their joint inspection rounds.

use minzheng_host::testing::{token, with_token};
use minzheng_kit::auth::Role;
use minzheng_proto::placenames::v1 as pb;
use tonic::Code;

use crate::support::{self, BENXI_CITY, PINGSHAN, code, date, metadata, read_at};

/// A boundary through its fourth and fifth inspection rounds: a round cannot start while the
/// previous one is open; the list shows the rounds and the open findings.
#[tokio::test]
async fn a_boundary_is_inspected_one_round_at_a_time() {
    let (host, mut client) = support::benxi().await;
    let staff = token(&[Role::Caseworker], &[BENXI_CITY]);
    let boundary = "210502-210503";
    client
        .record_boundary(with_token(
            pb::RecordBoundaryRequest {
                metadata: metadata(),
                boundary_id: boundary.to_owned(),
                between: vec![
                    code("210503000000").expect("set"),
                    code(PINGSHAN).expect("set"),
                ],
                description: "平山区与溪湖区界线".to_owned(),
                recorded_on: date(2024, 1, 1),
            },
            &staff,
        ))
        .await
        .expect("recorded");
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
        .expect("round 4 started");
    // Round 5 cannot start while round 4 is open.
    let refused = client
        .start_inspection_round(start(5, date(2024, 4, 1)))
        .await
        .expect_err("round 4 is open");
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
        .expect("round 4 completed");
    client
        .start_inspection_round(start(5, date(2025, 3, 1)))
        .await
        .expect("round 5 started");
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
        .expect("finding recorded")
        .into_inner();
    let shown = client
        .list_boundaries(pb::ListBoundariesRequest {
            within: code(PINGSHAN),
            page: None,
            read: read_at(finding.result.expect("a result").position),
        })
        .await
        .expect("public")
        .into_inner()
        .boundaries;
    assert_eq!(shown.len(), 1);
    let line = &shown[0];
    assert_eq!(
        line.between[0],
        code(PINGSHAN).expect("set"),
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
    host.shutdown().await;
}
