//! `minzheng.datasharing.v1.DataSharingService`: request conversion (every field parsed into a
//! domain value, every violation reported at once as INVALID_ARGUMENT naming the field and the
//! rule) and answers. Proto types stop here.
//!
//! The RPCs live in `records` (loads of agency records, client streaming), `authorizations`,
//! `verify` (the verification and the thresholds), `audit`, and `agreements` and `subscribe`
//! (sharing out, server streaming); `file` reads a load file (CSV or JSONL) into the load's
//! messages, for `minzheng datasharing load`. The table at the end of this file
//! declares each RPC with its access rule, and `grpc_service!` serves each through the shared
//! edge (admission, region scope, read audit, refusals logged at INFO).

mod agreements;
mod audit;
mod authorizations;
pub mod file;
mod records;
mod subscribe;
mod verify;

use minzheng_host::audit::AuditLog;
use minzheng_kit::{access::Rule, auth::Role};
use minzheng_proto::datasharing::v1::{
    self as pb,
    data_sharing_service_server::{DataSharingService, DataSharingServiceServer},
};

use crate::app::DataSharing;

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct DataSharingApi {
    app: DataSharing,
    audit: AuditLog,
    /// The platform's message descriptors, which agreements name events and fields of.
    descriptors: std::sync::Arc<crate::codec::share::Descriptors>,
    /// The subjects of shared copies, as `Subscribe` names them.
    share: minzheng_bus::ShareNaming,
    /// Fires when the server starts draining: subscriptions end there.
    draining: tokio_util::sync::CancellationToken,
}

impl DataSharingApi {
    pub fn new(
        app: DataSharing,
        audit: AuditLog,
        descriptors: std::sync::Arc<crate::codec::share::Descriptors>,
        share: minzheng_bus::ShareNaming,
        draining: tokio_util::sync::CancellationToken,
    ) -> Self {
        Self {
            app,
            audit,
            descriptors,
            share,
            draining,
        }
    }

    pub fn into_server(self) -> DataSharingServiceServer<Self> {
        DataSharingServiceServer::new(self).max_decoding_message_size(MAX_MESSAGE_BYTES)
    }
}

/// Words a person types (a purpose, a reason, a decision's reference): 1 to `max` characters,
/// without a citizen id number.
fn words(
    violations: &mut minzheng_types::Violations,
    field: &str,
    value: &str,
    max: usize,
) -> Option<minzheng_types::BoundedText> {
    use minzheng_host::fields::Fields as _;
    if minzheng_types::contains_citizen_id(value) {
        violations.push(field, "must not contain a citizen id number");
        return None;
    }
    violations.text(field, value, max)
}

/// The largest message taken (a load's message of many records).
const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// Who loads agency records: the agencies (their own records) and operators.
const LOADERS: &[Role] = &[Role::Agency, Role::Operator];
/// Township staff.
const TOWNSHIP: &[Role] = &[Role::Caseworker];
/// Who reads a citizen's authorizations.
const READERS: &[Role] = &[Role::Caseworker, Role::Approver, Role::Auditor];
/// Who verifies: township caseworkers, and auditors reproducing a report.
const VERIFIERS: &[Role] = &[Role::Caseworker, Role::Auditor];

// The RPCs and their access rules, declared once. Loads and authorizations are not bound to a
// region: an agency's records cover the city, and a citizen may sign or withdraw at any window.
minzheng_host::grpc_service! {
    impl DataSharingService for DataSharingApi {
        server: DataSharingServiceServer<DataSharingApi>
            where SubscribeStream = subscribe::SharedEvents,
        audit: audit,
        load_agency_records(LoadAgencyRecords):
            tonic::Streaming<pb::LoadAgencyRecordsRequest> => pb::LoadAgencyRecordsResponse
            = Rule::roles(LOADERS);
        record_authorization(RecordAuthorization):
            pb::RecordAuthorizationRequest => pb::RecordAuthorizationResponse
            = Rule::roles(TOWNSHIP).in_field("township");
        withdraw_authorization(WithdrawAuthorization):
            pb::WithdrawAuthorizationRequest => pb::WithdrawAuthorizationResponse
            = Rule::roles(TOWNSHIP);
        list_authorizations(ListAuthorizations):
            pb::ListAuthorizationsRequest => pb::ListAuthorizationsResponse
            = Rule::roles(READERS).reads_personal_data();
        record_thresholds(RecordThresholds):
            pb::RecordThresholdsRequest => pb::RecordThresholdsResponse
            = Rule::roles(&[Role::Approver]).in_field("county");
        list_thresholds(ListThresholds):
            pb::ListThresholdsRequest => pb::ListThresholdsResponse
            = Rule::public();
        verify_household(VerifyHousehold):
            pb::VerifyHouseholdRequest => pb::VerifyHouseholdResponse
            = Rule::roles(VERIFIERS).in_field("township").reads_personal_data();
        audit_trail(AuditTrail):
            pb::AuditTrailRequest => pb::AuditTrailResponse
            = Rule::roles(&[Role::Citizen, Role::Auditor]).reads_personal_data();
        record_agreement(RecordAgreement):
            pb::RecordAgreementRequest => pb::RecordAgreementResponse
            = Rule::roles(&[Role::Operator]);
        end_agreement(EndAgreement):
            pb::EndAgreementRequest => pb::EndAgreementResponse
            = Rule::roles(&[Role::Operator]);
        list_agreements(ListAgreements):
            pb::ListAgreementsRequest => pb::ListAgreementsResponse
            = Rule::roles(&[Role::Operator, Role::Auditor]);
        subscribe(Subscribe):
            pb::SubscribeRequest => subscribe::SharedEvents
            = Rule::roles(&[Role::Agency]);
    }
}
