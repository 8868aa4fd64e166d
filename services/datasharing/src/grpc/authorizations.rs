//! Authorizations (授权书): recorded, withdrawn, listed.

use std::collections::BTreeSet;

use minzheng_host::{
    edge::{self, Call},
    fields::Fields as _,
};
use minzheng_kit::Error;
use minzheng_proto::datasharing::v1 as pb;
use minzheng_types::{RegionLevel, Violations};

use super::{DataSharingApi, words};
use crate::{
    app::authorizations::NewAuthorization,
    authorization::{AuthorizationId, AuthorizationState, PURPOSE_MAX_CHARS},
    codec::{
        authorization as codec,
        records::{agency_from_pb, class_from_pb},
    },
};

fn view(state: &AuthorizationState, today: time::Date) -> Option<pb::AuthorizationView> {
    let authorization = state.authorization.as_ref()?;
    Some(pb::AuthorizationView {
        authorization: Some(codec::recorded_to_pb(authorization)),
        withdrawn_on: state.withdrawn_on.map(Into::into),
        valid_today: state.valid_on(today),
    })
}

impl DataSharingApi {
    pub(super) async fn record_authorization(
        &self,
        call: Call<pb::RecordAuthorizationRequest>,
    ) -> Result<pb::RecordAuthorizationResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let signed_by = violations.citizen("signed_by", &body.signed_by);
        let signed_on = violations.date("signed_on", &body.signed_on);
        let expires_on = violations.date("expires_on", &body.expires_on);
        let mut classes = BTreeSet::new();
        for (n, value) in body.data_classes.iter().enumerate() {
            match class_from_pb(*value) {
                Some(class) => {
                    classes.insert(class);
                }
                None => violations.push(format!("data_classes[{n}]"), "must be a known class"),
            }
        }
        if body.data_classes.is_empty() {
            violations.push("data_classes", "must name at least one class");
        }
        let mut agencies = BTreeSet::new();
        for (n, value) in body.agencies.iter().enumerate() {
            match agency_from_pb(*value) {
                Some(agency) => {
                    agencies.insert(agency);
                }
                None => violations.push(format!("agencies[{n}]"), "must be a known agency"),
            }
        }
        let purpose = words(&mut violations, "purpose", &body.purpose, PURPOSE_MAX_CHARS);
        let township = violations.region("township", &body.township);
        if township.is_some_and(|t| t.level() != RegionLevel::Township) {
            violations.push(
                "township.code",
                "must be a township-level division (乡镇、街道)",
            );
        }
        let (signed_by, signed_on, expires_on, purpose, township) =
            violations.finish((signed_by, signed_on, expires_on, purpose, township))?;
        call.require_region(township)?;
        let (id, committed) = self
            .app
            .record_authorization(
                NewAuthorization {
                    signed_by,
                    signed_on,
                    data_classes: classes,
                    agencies,
                    purpose,
                    expires_on,
                },
                &context,
            )
            .await?;
        Ok(pb::RecordAuthorizationResponse {
            result: Some(edge::result(&committed)),
            authorization_id: id.as_str().to_owned(),
        })
    }

    pub(super) async fn withdraw_authorization(
        &self,
        call: Call<pb::WithdrawAuthorizationRequest>,
    ) -> Result<pb::WithdrawAuthorizationResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let context = call.command_context(&body.metadata, &mut violations);
        let id = violations.id(
            "authorization_id",
            &body.authorization_id,
            AuthorizationId::parse,
        );
        let today = self.app.today();
        let withdrawn_on = violations.date_or("withdrawn_on", &body.withdrawn_on, today);
        let reason = words(&mut violations, "reason", &body.reason, PURPOSE_MAX_CHARS);
        let (id, withdrawn_on, reason) = violations.finish((id, withdrawn_on, reason))?;
        let committed = self
            .app
            .withdraw_authorization(&id, withdrawn_on, reason, &context)
            .await?;
        Ok(pb::WithdrawAuthorizationResponse {
            result: Some(edge::result(&committed)),
        })
    }

    pub(super) async fn list_authorizations(
        &self,
        call: Call<pb::ListAuthorizationsRequest>,
    ) -> Result<pb::ListAuthorizationsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let citizen = violations.citizen("citizen", &body.citizen);
        let citizen = violations.finish(citizen)?;
        call.audit("person", self.app.pseudonym(&citizen));
        let today = self.app.today();
        let held = self.app.authorizations_of(&citizen).await?;
        Ok(pb::ListAuthorizationsResponse {
            authorizations: held.iter().filter_map(|s| view(s, today)).collect(),
        })
    }
}
