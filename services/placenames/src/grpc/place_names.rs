//! The place-name RPCs: the naming workflow (propose, evaluate, comment period, approve or
//! reject, publish, retire; renaming), and the public place-name database.

use minzheng_host::edge::Call;
use minzheng_host::fields::Fields as _;
use minzheng_kit::Error;
use minzheng_proto::{common::v1 as common, convert, placenames::v1 as pb};
use minzheng_types::Violations;

use super::{PlaceNamesApi, REFERENCE_MAX_CHARS, TEXT_MAX_CHARS, page, result};
use crate::{
    NAME_MAX_CHARS, PlaceNameId,
    directory::PlaceNameEntry,
    pinyin,
    placename::{self, PlaceKind},
};

fn place_name_message(entry: &PlaceNameEntry) -> pb::PlaceName {
    let p = &entry.proposal;
    let status = match entry.status {
        placename::Status::Proposed => pb::PlaceNameStatus::Proposed,
        placename::Status::Approved { .. } => pb::PlaceNameStatus::Approved,
        placename::Status::Rejected => pb::PlaceNameStatus::Rejected,
        placename::Status::Published { .. } => pb::PlaceNameStatus::Published,
        placename::Status::Retired { .. } => pb::PlaceNameStatus::Retired,
    };
    pb::PlaceName {
        place_name_id: p.id.as_str().to_owned(),
        kind: match p.kind {
            PlaceKind::Road => pb::PlaceKind::Road,
            PlaceKind::Bridge => pb::PlaceKind::Bridge,
            PlaceKind::ResidentialArea => pb::PlaceKind::ResidentialArea,
            PlaceKind::NaturalFeature => pb::PlaceKind::NaturalFeature,
        }
        .into(),
        name: p.name.as_str().to_owned(),
        pinyin: p.pinyin.as_str().to_owned(),
        region: Some(p.region.into()),
        meaning: p.meaning.as_str().to_owned(),
        status: status.into(),
        published_on: entry.published_on().map(Into::into),
        retired_on: match entry.status {
            placename::Status::Retired { on } => Some(on.into()),
            _ => None,
        },
        replaces: p
            .replaces
            .as_ref()
            .map_or_else(String::new, |r| r.as_str().to_owned()),
        replaced_by: entry
            .replaced_by
            .as_ref()
            .map_or_else(String::new, |r| r.as_str().to_owned()),
        comment_count: entry.comments,
    }
}

impl PlaceNamesApi {
    /// The common path of the place-name workflow commands: authenticate, parse the id and the
    /// command (every violation at once), check the scope on the place's division, run.
    async fn place_name_command<T>(
        &self,
        call: &Call<T>,
        metadata: &Option<common::CommandMetadata>,
        id: &str,
        parse: impl FnOnce(&mut Violations) -> Option<placename::Command>,
    ) -> Result<common::CommandResult, Error> {
        let mut violations = Violations::new();
        let context = call.command_context(metadata, &mut violations);
        let id = violations.id("place_name_id", id, crate::ids::given(PlaceNameId::parse));
        let command = parse(&mut violations);
        let (id, command) = violations.finish((id, command))?;
        let region = self.app.place_name_region(&id).await?;
        call.require_region(region)?;
        let committed = self.app.run_place_name(&id, &command, &context).await?;
        Ok(result(&committed))
    }

    pub(super) async fn propose_place_name(
        &self,
        call: Call<pb::ProposePlaceNameRequest>,
    ) -> Result<pb::ProposePlaceNameResponse, Error> {
        let mut violations = Violations::new();
        let context = call.command_context(&call.body().metadata, &mut violations);
        let body = call.body();
        let id = violations.id(
            "place_name_id",
            &body.place_name_id,
            crate::ids::given(PlaceNameId::parse),
        );
        let kind = match pb::PlaceKind::try_from(body.kind) {
            Ok(pb::PlaceKind::Road) => Some(PlaceKind::Road),
            Ok(pb::PlaceKind::Bridge) => Some(PlaceKind::Bridge),
            Ok(pb::PlaceKind::ResidentialArea) => Some(PlaceKind::ResidentialArea),
            Ok(pb::PlaceKind::NaturalFeature) => Some(PlaceKind::NaturalFeature),
            _ => {
                violations.push(
                    "kind",
                    "must be ROAD, BRIDGE, RESIDENTIAL_AREA or NATURAL_FEATURE",
                );
                None
            }
        };
        let name = violations.text("name", &body.name, NAME_MAX_CHARS);
        let spelled = violations
            .text("pinyin", &body.pinyin, pinyin::MAX_CHARS)
            .and_then(|p| {
                violations
                    .check("pinyin", pinyin::check(p.as_str()))
                    .map(|()| p)
            });
        let region = violations.region("region", &body.region);
        let meaning = violations.text("meaning", &body.meaning, TEXT_MAX_CHARS);
        let proposed_on = violations.date("proposed_on", &body.proposed_on);
        let replaces = if body.replaces.trim().is_empty() {
            Some(None)
        } else {
            violations
                .id("replaces", body.replaces.trim(), PlaceNameId::parse)
                .map(Some)
        };
        let (id, kind, name, pinyin, region, meaning, proposed_on, replaces) =
            violations.finish((
                id,
                kind,
                name,
                spelled,
                region,
                meaning,
                proposed_on,
                replaces,
            ))?;
        call.require_region(region)?;
        let committed = self
            .app
            .propose_place_name(
                placename::Propose {
                    id,
                    kind,
                    name,
                    pinyin,
                    region,
                    meaning,
                    proposed_on,
                    replaces,
                },
                &context,
            )
            .await?;
        Ok(pb::ProposePlaceNameResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn record_place_name_evaluation(
        &self,
        call: Call<pb::RecordPlaceNameEvaluationRequest>,
    ) -> Result<pb::RecordPlaceNameEvaluationResponse, Error> {
        let body = call.body();
        let result = self
            .place_name_command(&call, &body.metadata, &body.place_name_id, |v| {
                let summary = v.text("summary", &body.summary, TEXT_MAX_CHARS);
                let evaluated_on = v.date("evaluated_on", &body.evaluated_on);
                Some(placename::Command::RecordEvaluation(
                    placename::RecordEvaluation {
                        favourable: body.favourable,
                        summary: summary?,
                        evaluated_on: evaluated_on?,
                    },
                ))
            })
            .await?;
        Ok(pb::RecordPlaceNameEvaluationResponse {
            result: Some(result),
        })
    }

    pub(super) async fn open_place_name_comment_period(
        &self,
        call: Call<pb::OpenPlaceNameCommentPeriodRequest>,
    ) -> Result<pb::OpenPlaceNameCommentPeriodResponse, Error> {
        let body = call.body();
        let result = self
            .place_name_command(&call, &body.metadata, &body.place_name_id, |v| {
                let opened_on = v.date("opened_on", &body.opened_on);
                let closes_on = v.date("closes_on", &body.closes_on);
                Some(placename::Command::OpenCommentPeriod(
                    placename::OpenCommentPeriod {
                        opened_on: opened_on?,
                        closes_on: closes_on?,
                    },
                ))
            })
            .await?;
        Ok(pb::OpenPlaceNameCommentPeriodResponse {
            result: Some(result),
        })
    }

    pub(super) async fn record_place_name_comment(
        &self,
        call: Call<pb::RecordPlaceNameCommentRequest>,
    ) -> Result<pb::RecordPlaceNameCommentResponse, Error> {
        let body = call.body();
        let result = self
            .place_name_command(&call, &body.metadata, &body.place_name_id, |v| {
                let summary = v.text("summary", &body.summary, TEXT_MAX_CHARS);
                let received_on = v.date("received_on", &body.received_on);
                Some(placename::Command::RecordComment(
                    placename::RecordComment {
                        summary: summary?,
                        received_on: received_on?,
                    },
                ))
            })
            .await?;
        Ok(pb::RecordPlaceNameCommentResponse {
            result: Some(result),
        })
    }

    pub(super) async fn close_place_name_comment_period(
        &self,
        call: Call<pb::ClosePlaceNameCommentPeriodRequest>,
    ) -> Result<pb::ClosePlaceNameCommentPeriodResponse, Error> {
        let body = call.body();
        let result = self
            .place_name_command(&call, &body.metadata, &body.place_name_id, |v| {
                let closed_on = v.date("closed_on", &body.closed_on);
                Some(placename::Command::CloseCommentPeriod(
                    placename::CloseCommentPeriod {
                        closed_on: closed_on?,
                    },
                ))
            })
            .await?;
        Ok(pb::ClosePlaceNameCommentPeriodResponse {
            result: Some(result),
        })
    }

    pub(super) async fn approve_place_name(
        &self,
        call: Call<pb::ApprovePlaceNameRequest>,
    ) -> Result<pb::ApprovePlaceNameResponse, Error> {
        let body = call.body();
        let result = self
            .place_name_command(&call, &body.metadata, &body.place_name_id, |v| {
                let approved_on = v.date("approved_on", &body.approved_on);
                let reference = v.text(
                    "approval_reference",
                    &body.approval_reference,
                    REFERENCE_MAX_CHARS,
                );
                Some(placename::Command::Approve(placename::Approve {
                    approved_on: approved_on?,
                    reference: reference?,
                }))
            })
            .await?;
        Ok(pb::ApprovePlaceNameResponse {
            result: Some(result),
        })
    }

    pub(super) async fn reject_place_name(
        &self,
        call: Call<pb::RejectPlaceNameRequest>,
    ) -> Result<pb::RejectPlaceNameResponse, Error> {
        let body = call.body();
        let result = self
            .place_name_command(&call, &body.metadata, &body.place_name_id, |v| {
                let rejected_on = v.date("rejected_on", &body.rejected_on);
                let reason = v.text("reason", &body.reason, TEXT_MAX_CHARS);
                Some(placename::Command::Reject(placename::Reject {
                    rejected_on: rejected_on?,
                    reason: reason?,
                }))
            })
            .await?;
        Ok(pb::RejectPlaceNameResponse {
            result: Some(result),
        })
    }

    pub(super) async fn publish_place_name(
        &self,
        call: Call<pb::PublishPlaceNameRequest>,
    ) -> Result<pb::PublishPlaceNameResponse, Error> {
        let body = call.body();
        let result = self
            .place_name_command(&call, &body.metadata, &body.place_name_id, |v| {
                let published_on = v.date("published_on", &body.published_on);
                Some(placename::Command::Publish(placename::Publish {
                    published_on: published_on?,
                }))
            })
            .await?;
        Ok(pb::PublishPlaceNameResponse {
            result: Some(result),
        })
    }

    pub(super) async fn retire_place_name(
        &self,
        call: Call<pb::RetirePlaceNameRequest>,
    ) -> Result<pb::RetirePlaceNameResponse, Error> {
        let body = call.body();
        let result = self
            .place_name_command(&call, &body.metadata, &body.place_name_id, |v| {
                let retired_on = v.date("retired_on", &body.retired_on);
                let reason = v.text("reason", &body.reason, TEXT_MAX_CHARS);
                Some(placename::Command::Retire(placename::Retire {
                    retired_on: retired_on?,
                    reason: reason?,
                }))
            })
            .await?;
        Ok(pb::RetirePlaceNameResponse {
            result: Some(result),
        })
    }

    pub(super) async fn get_place_name(
        &self,
        call: Call<pb::GetPlaceNameRequest>,
    ) -> Result<pb::GetPlaceNameResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let id = violations.id(
            "place_name_id",
            &body.place_name_id,
            crate::ids::given(PlaceNameId::parse),
        );
        let id = violations.finish(id)?;
        self.wait(&call, &body.read).await?;
        let directory = self.app.view().read().await;
        let entry = directory
            .place_name(id.as_str())
            .ok_or_else(|| Error::NotFound(format!("place name {id}")))?;
        if !entry.is_standard() {
            // A name still in its workflow is not public yet.
            call.authenticated()?;
        }
        Ok(pb::GetPlaceNameResponse {
            place_name: Some(place_name_message(entry)),
        })
    }

    pub(super) async fn search_place_names(
        &self,
        call: Call<pb::SearchPlaceNamesRequest>,
    ) -> Result<pb::SearchPlaceNamesResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let prefix = violations.text("prefix", &body.prefix, pinyin::MAX_CHARS);
        let within = match &body.within {
            None => Some(None),
            Some(_) => violations
                .record(convert::region_code("within", &body.within))
                .map(Some),
        };
        let day = violations.date_or("as_of", &body.as_of, self.today());
        let (prefix, within, day) = violations.finish((prefix, within, day))?;
        self.wait(&call, &body.read).await?;
        let directory = self.app.view().read().await;
        let found = directory
            .search_place_names(prefix.as_str(), within, day)
            .into_iter()
            .map(place_name_message);
        let (place_names, page) = page(found, &body.page)?;
        Ok(pb::SearchPlaceNamesResponse {
            place_names,
            page: Some(page),
        })
    }
}
