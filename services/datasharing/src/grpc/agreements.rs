//! Data-sharing agreements: recorded (every event type one of the platform's messages but the
//! read audit's, every field one of its fields), ended, listed.

use std::collections::BTreeMap;

use minzheng_host::{
    edge::{self, Call},
    fields::Fields as _,
};
use minzheng_kit::Error;
use minzheng_proto::datasharing::v1 as pb;
use minzheng_types::Violations;

use super::{DataSharingApi, words};
use crate::{
    agreement::{AgencyCode, AgreementId, AgreementState},
    app::agreements::NewAgreement,
    authorization::PURPOSE_MAX_CHARS,
    codec::agreement::recorded_to_pb,
};

/// Most event types one agreement shares.
const MAX_EVENT_TYPES: usize = 100;
/// The read audit's messages, which no agreement shares (see `projections::share`).
const READ_AUDIT_PACKAGE: &str = "minzheng.audit.";

fn view(state: &AgreementState, today: time::Date) -> Option<pb::AgreementView> {
    Some(pb::AgreementView {
        agreement: Some(recorded_to_pb(state.agreement.as_ref()?)),
        ended_on: state.ended_on.map(Into::into),
        in_force: state.in_force_on(today),
    })
}

impl DataSharingApi {
    pub(super) async fn record_agreement(
        &self,
        call: Call<pb::RecordAgreementRequest>,
    ) -> Result<pb::RecordAgreementResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let agency = violations.check("agency", AgencyCode::parse(&body.agency));
        if body.events.is_empty() || body.events.len() > MAX_EVENT_TYPES {
            violations.push("events", "must list 1 to 100 event types");
        }
        let mut events = BTreeMap::new();
        for (n, shared) in body.events.iter().enumerate() {
            if shared.event_type.starts_with(READ_AUDIT_PACKAGE) {
                violations.push(
                    format!("events[{n}].event_type"),
                    "must not be the read audit: who looked at a person's data is for the \
                     citizen and the auditors (AuditTrail), never shared with an agency",
                );
                continue;
            }
            let Some(known) = self
                .descriptors
                .fields(&shared.event_type)
                .filter(|_| shared.event_type.starts_with("minzheng."))
            else {
                violations.push(
                    format!("events[{n}].event_type"),
                    "must be one of the platform's event messages, e.g. \
                     minzheng.assistance.v1.AssistanceGranted",
                );
                continue;
            };
            if shared.fields.is_empty() {
                violations.push(
                    format!("events[{n}].fields"),
                    "must name at least one field",
                );
            }
            for (f, field) in shared.fields.iter().enumerate() {
                if !known.contains(&field.as_str()) {
                    violations.push(
                        format!("events[{n}].fields[{f}]"),
                        format!("must be a field of {}", shared.event_type),
                    );
                }
            }
            if events
                .insert(shared.event_type.clone(), shared.fields.clone())
                .is_some()
            {
                violations.push(format!("events[{n}].event_type"), "is listed twice");
            }
        }
        let purpose = words(&mut violations, "purpose", &body.purpose, PURPOSE_MAX_CHARS);
        let expires_on = violations.date("expires_on", &body.expires_on);
        let (agency, purpose, expires_on) = violations.finish((agency, purpose, expires_on))?;
        let (id, committed) = self
            .app
            .record_agreement(
                NewAgreement {
                    agency,
                    events,
                    purpose,
                    expires_on,
                    real_id_granted: body.real_id_granted,
                },
                &context,
            )
            .await?;
        Ok(pb::RecordAgreementResponse {
            result: Some(edge::result(&committed)),
            agreement_id: id.as_str().to_owned(),
        })
    }

    pub(super) async fn end_agreement(
        &self,
        call: Call<pb::EndAgreementRequest>,
    ) -> Result<pb::EndAgreementResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = violations.id("agreement_id", &body.agreement_id, AgreementId::parse);
        let reason = words(&mut violations, "reason", &body.reason, PURPOSE_MAX_CHARS);
        let (id, reason) = violations.finish((id, reason))?;
        let committed = self.app.end_agreement(&id, reason, &context).await?;
        Ok(pb::EndAgreementResponse {
            result: Some(edge::result(&committed)),
        })
    }

    pub(super) async fn list_agreements(
        &self,
        call: Call<pb::ListAgreementsRequest>,
    ) -> Result<pb::ListAgreementsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let agency = match body.agency.as_str() {
            "" => Some(None),
            code => violations
                .check("agency", AgencyCode::parse(code))
                .map(Some),
        };
        let agency = violations.finish(agency)?;
        let today = self.app.today();
        let agreements = self.app.agreements(agency.as_ref()).await?;
        Ok(pb::ListAgreementsResponse {
            agreements: agreements.iter().filter_map(|s| view(s, today)).collect(),
        })
    }
}
