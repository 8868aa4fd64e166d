//! `AuditTrail`: who looked at a citizen's data, for that citizen and for auditors.

use minzheng_host::{edge::Call, fields::Fields as _};
use minzheng_kit::{Error, auth::Role};
use minzheng_proto::datasharing::v1 as pb;
use minzheng_types::Violations;

use super::DataSharingApi;
use crate::{codec::timestamp, projections::audit};

/// Entries returned when the request sets no limit, and at most.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1_000;

impl DataSharingApi {
    pub(super) async fn audit_trail(
        &self,
        call: Call<pb::AuditTrailRequest>,
    ) -> Result<pb::AuditTrailResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let citizen = violations.citizen("citizen", &body.citizen);
        if body.limit > MAX_LIMIT {
            violations.push("limit", "must be at most 1000");
        }
        let citizen = violations.finish(citizen)?;
        let principal = call.authenticated()?;
        // A citizen reads their own trail only; an auditor anyone's.
        if !principal.has_role(Role::Auditor) && principal.citizen() != Some(&citizen) {
            return Err(Error::PermissionDenied(
                "a citizen reads only their own audit trail (the token's citizen)".to_owned(),
            ));
        }
        let pseudonym = self.app.pseudonym(&citizen);
        call.audit("person", pseudonym.clone());
        let limit = match body.limit {
            0 => DEFAULT_LIMIT,
            limit => limit,
        };
        let entries = audit::trail(self.app.records().db(), &pseudonym, limit)
            .await
            .map_err(crate::app::store_error)?;
        Ok(pb::AuditTrailResponse {
            entries: entries
                .into_iter()
                .map(|e| pb::AuditTrailEntry {
                    service: e.service,
                    method: e.access.method,
                    actor: e.access.actor,
                    roles: e.access.roles,
                    agency: e.access.agency,
                    purpose: e.access.purpose,
                    outcome: e.access.outcome.to_pb(),
                    accessed_at: Some(timestamp(e.access.accessed_at_micros)),
                    trace_id: e.access.trace_id,
                })
                .collect(),
        })
    }
}
