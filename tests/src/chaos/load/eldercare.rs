//! The elderly-care part of the load, as the county bureaus and the assessment centre use the
//! service (`minzheng eldercare`):
//!
//! - a bureau registers an institution, one after another across Benxi's counties, each at a
//!   township of its county (ids issued per county in order: a retry must get the first id back,
//!   never a second institution);
//! - the assessment centre records a capacity assessment of an elderly person (their stream is
//!   keyed by a pseudonym), read back with `min_position`; one person in four dies afterwards, the
//!   death notified to the civil registry, whose event the elderly-care service must note on that
//!   person's record exactly once.

use minzheng_proto::eldercare::v1::{
    self as ec, elder_care_service_client::ElderCareServiceClient,
};
use time::macros::date;
use tonic::transport::Channel;

use super::{BENXI_TOWNSHIPS, Load, citizen_ref, person_of_series, region};

/// The stored type of the event that notes a death on a person's record.
const DEATH_NOTED: &str = "minzheng.eldercare.v1.DeathNoted";
/// The standard's 26 items by indicator group, each with its highest score (90 in all).
const ITEM_MAXIMA: [&[u32]; 4] = [
    &[4, 4, 4, 4, 4, 4, 4, 4],
    &[4, 4, 4, 3],
    &[4, 4, 4, 4, 4, 4, 1, 1, 2],
    &[2, 2, 4, 3, 4],
];

impl Load {
    fn eldercare(&self) -> ElderCareServiceClient<Channel> {
        ElderCareServiceClient::new(self.eldercare.clone())
    }

    /// Institutions registered across Benxi's counties, a month ago, one at a time.
    pub(super) async fn institutions(self) {
        for k in 0u32.. {
            if self.stop.finish.is_cancelled() {
                return;
            }
            let (county, township) = BENXI_TOWNSHIPS[k as usize % BENXI_TOWNSHIPS.len()];
            self.command(
                "eldercare",
                "eldercare.RegisterInstitution",
                format!("chaos-institution-{k}"),
                |answer: &ec::RegisterInstitutionResponse| {
                    (
                        answer.result.as_ref().map_or(0, |r| r.position),
                        Some(answer.institution_id.clone()),
                    )
                },
                |metadata| {
                    let mut client = self.eldercare();
                    let request = self.request(ec::RegisterInstitutionRequest {
                        metadata,
                        name: format!("本溪市颐养中心第{k}分院"),
                        ownership: ec::Ownership::Private.into(),
                        county: Some(region(county)),
                        division: Some(region(township)),
                        registered_on: Some((self.today - time::Duration::days(30)).into()),
                        general_beds: 20 + k % 40,
                        nursing_beds: 60,
                    });
                    async move { client.register_institution(request).await }
                },
            )
            .await;
            tokio::time::sleep(self.pace * 5).await;
        }
    }

    /// Elderly persons assessed, each read back; every fourth one's death notified afterwards.
    pub(super) async fn elders(self) {
        for j in 0u32.. {
            if self.stop.finish.is_cancelled() {
                return;
            }
            let (county, township) = BENXI_TOWNSHIPS[j as usize % BENXI_TOWNSHIPS.len()];
            // Born 1940 to 1948: between 60 and 90 on any day of the run.
            let person = person_of_series(&county[..6], date!(1940 - 01 - 01), 3000, 7, j);
            self.ledger.citizen_id(&person);
            if let Some(assessed) = self.assess(j, &person, township).await {
                self.assessment_is_readable(&person, &assessed).await;
                if j % 4 == 0 {
                    self.death_noted_by(
                        format!("chaos-elder-death-{j}"),
                        &person,
                        "eldercare",
                        &assessed.elder_id,
                        DEATH_NOTED,
                    )
                    .await;
                }
            }
            tokio::time::sleep(self.pace * 3).await;
        }
    }

    /// Records the `j`th assessment, of `person` living at `township`, a month ago.
    async fn assess(
        &self,
        j: u32,
        person: &str,
        township: &str,
    ) -> Option<ec::RecordAssessmentResponse> {
        self.command(
            "eldercare",
            "eldercare.RecordAssessment",
            format!("chaos-assess-{j}"),
            |answer: &ec::RecordAssessmentResponse| {
                (
                    answer.result.as_ref().map_or(0, |r| r.position),
                    Some(answer.elder_id.clone()),
                )
            },
            |metadata| {
                let mut client = self.eldercare();
                let request = self.request(ec::RecordAssessmentRequest {
                    metadata,
                    person: citizen_ref(person),
                    scores: Some(scores(j % 91)),
                    adjustments: Some(ec::AssessmentAdjustments::default()),
                    assessor: "本溪市老年人能力评估中心".into(),
                    assessed_on: Some((self.today - time::Duration::days(30)).into()),
                    division: Some(region(township)),
                    reassessment_due_on: None,
                });
                async move { client.record_assessment(request).await }
            },
        )
        .await
    }

    /// Read-your-writes: the person's record, at the assessment's position, holds it.
    async fn assessment_is_readable(&self, person: &str, assessed: &ec::RecordAssessmentResponse) {
        let position = assessed.result.as_ref().map_or(0, |r| r.position);
        let read = self
            .query("eldercare.GetElder(min_position)", || {
                let mut client = self.eldercare();
                let request = self.request(ec::GetElderRequest {
                    person: citizen_ref(person),
                    read: Some(minzheng_proto::common::v1::ReadOptions {
                        min_position: position,
                    }),
                });
                async move { client.get_elder(request).await }
            })
            .await;
        match read {
            None => {}
            Some(Ok(elder))
                if elder.elder_id == assessed.elder_id
                    && elder
                        .assessments
                        .last()
                        .is_some_and(|a| a.total_score == assessed.total_score) => {}
            Some(Ok(elder)) => self.ledger.violation(format!(
                "read-your-writes: GetElder at min_position {position} after an assessment \
                 answered {} assessments",
                elder.assessments.len()
            )),
            Some(Err(status)) => self.ledger.violation(format!(
                "read-your-writes: GetElder at min_position {position} after an assessment \
                 answered {:?}",
                status.code()
            )),
        }
    }
}

/// Item scores adding up to `total` (at most 90): each item in order takes as much as it can of
/// what is left.
fn scores(total: u32) -> ec::AssessmentScores {
    let mut left = total.min(90);
    let mut groups = ITEM_MAXIMA.iter().map(|items| {
        items
            .iter()
            .map(|max| {
                let score = left.min(*max);
                left -= score;
                score
            })
            .collect::<Vec<u32>>()
    });
    let mut next = || groups.next().unwrap_or_default();
    ec::AssessmentScores {
        self_care: next(),
        basic_motor: next(),
        mental_state: next(),
        perception: next(),
    }
}
