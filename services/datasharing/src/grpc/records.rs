//! `LoadAgencyRecords`: an agency's records streamed in, each checked on its own.

use minzheng_host::edge::{self, Call};
use minzheng_kit::{Error, auth::Role};
use minzheng_proto::{convert, datasharing::v1 as pb};
use minzheng_types::{BoundedText, FieldViolation, Violations, contains_citizen_id};
use tonic::Streaming;

use super::DataSharingApi;
use crate::{
    codec::{
        load::summary_to_pb,
        records::{agency_from_pb, kind_from_pb},
    },
    load::EXTRACT_MAX_CHARS,
    records::{Agency, RawRecord},
};

/// A stream's failure as the caller's error: a message that did not decode is the caller's
/// (INVALID_ARGUMENT), anything else the transport's (UNAVAILABLE).
fn stream_error(status: tonic::Status) -> Error {
    match status.code() {
        tonic::Code::InvalidArgument => Error::InvalidArgument(vec![FieldViolation::new(
            "records",
            "a message did not decode",
        )]),
        _ => Error::Unavailable("the load's stream broke off; load the file again".to_owned()),
    }
}

/// A record's parts as received; `Err` for a date that is not one.
fn raw_record(record: &pb::AgencyRecord) -> Result<RawRecord, FieldViolation> {
    let as_of = match &record.as_of {
        None => None,
        Some(_) => Some(convert::date("as_of", &record.as_of)?),
    };
    Ok(RawRecord {
        reference: record.reference.clone(),
        kind: kind_from_pb(record.kind),
        citizen: record
            .citizen
            .as_ref()
            .map(|c| c.citizen_id.clone())
            .unwrap_or_default(),
        as_of,
        amount_fen: record.amount.as_ref().map_or(0, |m| m.fen),
        ended: record.ended,
        area_m2: record.area_m2,
        disability_grade: record.disability_grade,
        division: record
            .division
            .as_ref()
            .map(|d| d.code.clone())
            .unwrap_or_default(),
        household_number: record.household_number.clone(),
        relation_to_head: record.relation_to_head.clone(),
    })
}

/// Messages of a load read ahead of the checks (2,000 records each, as `minzheng datasharing
/// load` sends them).
const READ_AHEAD_MESSAGES: usize = 8;

impl DataSharingApi {
    /// Takes one message's records into `loading`: each checked, a batch stored once full.
    async fn take_message(
        &self,
        loading: &mut crate::app::loads::Loading,
        message: &pb::LoadAgencyRecordsRequest,
    ) -> Result<(), Error> {
        let agency = loading.agency;
        let other_agency = message.agency != 0 && agency_from_pb(message.agency) != Some(agency);
        let missing = pb::AgencyRecord::default();
        for loaded in &message.records {
            let line = loaded.line;
            if other_agency {
                loading.reject(line, "agency", "a load carries one agency's records".into());
                continue;
            }
            match raw_record(loaded.record.as_ref().unwrap_or(&missing)) {
                Ok(raw) => loading.take(line, &raw),
                Err(violation) => loading.reject(line, "as_of", violation.description),
            }
            if loading.batch_ready() {
                self.app.store_pending(loading).await?;
            }
        }
        Ok(())
    }

    pub(super) async fn load_agency_records(
        &self,
        mut call: Call<Streaming<pb::LoadAgencyRecordsRequest>>,
    ) -> Result<pb::LoadAgencyRecordsResponse, Error> {
        let first = call
            .body_mut()
            .message()
            .await
            .map_err(stream_error)?
            .ok_or_else(|| {
                Error::InvalidArgument(vec![FieldViolation::new(
                    "agency",
                    "the first message must name the agency",
                )])
            })?;
        let mut violations = Violations::new();
        let context = call.command_context(&first.metadata, &mut violations);
        let agency = match agency_from_pb(first.agency) {
            Some(agency) => Some(agency),
            None => {
                violations.add(FieldViolation::new("agency", "must be a known agency"));
                None
            }
        };
        let extract = violations.check(
            "extract",
            BoundedText::parse_optional(&first.extract, EXTRACT_MAX_CHARS),
        );
        if contains_citizen_id(&first.extract) {
            violations.push("extract", "must not contain a citizen id number");
        }
        let (agency, extract) = violations.finish((agency, extract))?;
        own_records_only(&call, agency)?;

        let mut loading = self.app.start_load(agency, extract);
        self.take_message(&mut loading, &first).await?;
        // The stream is read ahead while records are checked and batches stored, so that the
        // caller keeps sending meanwhile.
        let (sender, mut received) = tokio::sync::mpsc::channel(READ_AHEAD_MESSAGES);
        let body = call.body_mut();
        let read = async move {
            while let Some(message) = body.message().await.map_err(stream_error)? {
                if sender.send(message).await.is_err() {
                    break;
                }
            }
            Ok::<_, Error>(())
        };
        let take = async {
            while let Some(message) = received.recv().await {
                self.take_message(&mut loading, &message).await?;
            }
            Ok::<_, Error>(())
        };
        // Either side's error stops the other at once (a batch being stored is abandoned with
        // the load, see `Loading`), and a stream that broke off ends nothing: only a whole
        // stream is a load.
        tokio::try_join!(read, take)?;
        let (summary, rejected, committed) = self.app.finish_load(loading, &context).await?;
        Ok(pb::LoadAgencyRecordsResponse {
            load: Some(summary_to_pb(&summary)),
            rejected: rejected
                .into_iter()
                .map(|r| pb::RejectedRecord {
                    line: r.line,
                    field: format!("record.{}", r.field),
                    rule: r.rule,
                })
                .collect(),
            result: Some(edge::result(&committed)),
        })
    }
}

/// An agency loads only its own records (an operator any agency's).
fn own_records_only<T>(call: &Call<T>, agency: Agency) -> Result<(), Error> {
    let principal = call.authenticated()?;
    if principal.has_role(Role::Operator) || principal.agency() == Some(agency.code()) {
        return Ok(());
    }
    Err(Error::PermissionDenied(format!(
        "an agency loads only its own records; this token's agency is not {}",
        agency.code()
    )))
}
