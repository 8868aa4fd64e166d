//! The child-welfare part of the load, as schools and the county bureaus use the service
//! (`minzheng childwelfare`):
//!
//! - a school files a mandatory report about a pupil (the reporter's identity is sealed; the
//!   concern quotes the child's citizen id, as real reports do, and must stay out of subjects,
//!   keys and logs); the case's id derives from the idempotency key, so a retry finds the same
//!   case; the case is read back with `min_position`;
//! - a bureau identifies an orphan (both parents' deaths registered) in family care; one child in
//!   five dies afterwards, the death notified to the civil registry, whose event the
//!   child-welfare service must note on the child's record exactly once.

use minzheng_proto::childwelfare::v1::{
    self as cw, child_welfare_service_client::ChildWelfareServiceClient,
};
use time::macros::date;
use tonic::transport::Channel;

use super::{BENXI_TOWNSHIPS, Load, citizen_ref, person_of_series, region};

/// The stored type of the event that notes a death on a child's record.
const DEATH_NOTED: &str = "minzheng.childwelfare.v1.ChildDeathNoted";

impl Load {
    fn childwelfare(&self) -> ChildWelfareServiceClient<Channel> {
        ChildWelfareServiceClient::new(self.childwelfare.clone())
    }

    /// Mandatory reports from schools across Benxi's counties, each case read back.
    pub(super) async fn reports(self) {
        for k in 0u32.. {
            if self.stop.finish.is_cancelled() {
                return;
            }
            let (county, township) = BENXI_TOWNSHIPS[k as usize % BENXI_TOWNSHIPS.len()];
            // Born 2012 to 2016: a minor on any day of the run.
            let child = person_of_series(&county[..6], date!(2012 - 01 - 01), 1500, 4, k);
            self.ledger.citizen_id(&child);
            if let Some(filed) = self.file_report(k, &child, township).await {
                self.case_is_readable(&filed).await;
            }
            tokio::time::sleep(self.pace * 3).await;
        }
    }

    /// Files the `k`th report, about `child` living at `township`, today.
    async fn file_report(
        &self,
        k: u32,
        child: &str,
        township: &str,
    ) -> Option<cw::FileReportResponse> {
        self.command(
            "childwelfare",
            "childwelfare.FileReport",
            format!("chaos-report-{k}"),
            |answer: &cw::FileReportResponse| {
                (
                    answer.result.as_ref().map_or(0, |r| r.position),
                    Some(answer.case_id.clone()),
                )
            },
            |metadata| {
                let mut client = self.childwelfare();
                let request = self.request(cw::FileReportRequest {
                    metadata,
                    child: citizen_ref(child),
                    division: Some(region(township)),
                    risk: cw::RiskLevel::Normal.into(),
                    reporter_kind: cw::ReporterKind::Education.into(),
                    reporter: Some(cw::Reporter {
                        name: "王老师".into(),
                        phone: "13900001111".into(),
                        organisation: "本溪市实验小学".into(),
                        role: "班主任".into(),
                    }),
                    concern: format!("学生（身份证号 {child}）身上多处伤痕，多日未到校"),
                    reported_on: Some(self.today.into()),
                });
                async move { client.file_report(request).await }
            },
        )
        .await
    }

    /// Read-your-writes: the case, at the report's position.
    async fn case_is_readable(&self, filed: &cw::FileReportResponse) {
        let position = filed.result.as_ref().map_or(0, |r| r.position);
        let read = self
            .query("childwelfare.GetCase(min_position)", || {
                let mut client = self.childwelfare();
                let request = self.request(cw::GetCaseRequest {
                    case_id: filed.case_id.clone(),
                    read: Some(minzheng_proto::common::v1::ReadOptions {
                        min_position: position,
                    }),
                });
                async move { client.get_case(request).await }
            })
            .await;
        match read {
            None => {}
            Some(Ok(case))
                if case.case_id == filed.case_id
                    && case.step == cw::ProtectionStep::Reported as i32 => {}
            Some(Ok(case)) => self.ledger.violation(format!(
                "read-your-writes: GetCase({}) at min_position {position} answered step {}",
                filed.case_id, case.step
            )),
            Some(Err(status)) => self.ledger.violation(format!(
                "read-your-writes: GetCase({}) at min_position {position} answered {:?}",
                filed.case_id,
                status.code()
            )),
        }
    }

    /// Orphans identified across Benxi's counties; every fifth one's death notified afterwards.
    pub(super) async fn orphans(self) {
        for j in 0u32.. {
            if self.stop.finish.is_cancelled() {
                return;
            }
            let (county, township) = BENXI_TOWNSHIPS[j as usize % BENXI_TOWNSHIPS.len()];
            let child = person_of_series(&county[..6], date!(2012 - 01 - 01), 1500, 3, j);
            self.ledger.citizen_id(&child);
            if let Some(identified) = self.identify(j, &child, township).await
                && j % 5 == 0
            {
                self.death_noted_by(
                    format!("chaos-child-death-{j}"),
                    &child,
                    "childwelfare",
                    &identified.child_id,
                    DEATH_NOTED,
                )
                .await;
            }
            tokio::time::sleep(self.pace * 5).await;
        }
    }

    /// Identifies the `j`th orphan, `child` living at `township`, a month ago, in family care.
    async fn identify(
        &self,
        j: u32,
        child: &str,
        township: &str,
    ) -> Option<cw::IdentifyChildResponse> {
        let parent_dead = || {
            Some(cw::ParentFact {
                situation: cw::ParentSituation::Dead.into(),
                source: Some(cw::FactSource {
                    kind: cw::FactSourceKind::CivilRegistrationDeath.into(),
                    reference: "本溪市民政局死亡登记".into(),
                }),
            })
        };
        self.command(
            "childwelfare",
            "childwelfare.IdentifyChild",
            format!("chaos-identify-{j}"),
            |answer: &cw::IdentifyChildResponse| {
                (
                    answer.result.as_ref().map_or(0, |r| r.position),
                    Some(answer.child_id.clone()),
                )
            },
            |metadata| {
                let mut client = self.childwelfare();
                let request = self.request(cw::IdentifyChildRequest {
                    metadata,
                    child: citizen_ref(child),
                    division: Some(region(township)),
                    father: parent_dead(),
                    mother: parent_dead(),
                    identified_on: Some((self.today - time::Duration::days(30)).into()),
                    care: cw::ChildCareSetting::Family.into(),
                    institution: String::new(),
                });
                async move { client.identify_child(request).await }
            },
        )
        .await
    }
}
