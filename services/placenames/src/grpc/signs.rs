//! The sign RPCs: signs (地名标志) installed for standard names, their inspections, replacements
//! and removal, and the public queries.

use minzheng_host::edge::Call;
use minzheng_host::fields::Fields as _;
use minzheng_kit::Error;
use minzheng_proto::{common::v1 as common, convert, placenames::v1 as pb};
use minzheng_types::Violations;

use super::{PlaceNamesApi, TEXT_MAX_CHARS, page, result};
use crate::{
    PlaceNameId,
    ids::SignId,
    sign::{self, Condition, LOCATION_MAX_CHARS, Sign, TEXT_MAX_CHARS as SIGN_TEXT_MAX_CHARS},
};

fn sign_message(sign: &Sign) -> Option<pb::Sign> {
    let state = sign.state()?;
    Some(pb::Sign {
        sign_id: state.id.as_str().to_owned(),
        place_name_id: state.place_name.as_str().to_owned(),
        text: state.text.as_str().to_owned(),
        location: state.location.as_str().to_owned(),
        first_installed_on: Some(state.first_installed_on.into()),
        installed_on: Some(state.installed_on.into()),
        replacements: state.replacements,
        condition: match state.last_inspection.map(|i| i.condition) {
            None => pb::SignCondition::Unspecified,
            Some(Condition::Good) => pb::SignCondition::Good,
            Some(Condition::Damaged) => pb::SignCondition::Damaged,
            Some(Condition::Missing) => pb::SignCondition::Missing,
        }
        .into(),
        inspected_on: state.last_inspection.map(|i| i.inspected_on.into()),
        removed_on: state.removed_on.map(Into::into),
    })
}

impl PlaceNamesApi {
    /// The common path of the commands on an installed sign: staff scoped to the place's
    /// division.
    async fn sign_command<T>(
        &self,
        call: &Call<T>,
        metadata: &Option<common::CommandMetadata>,
        id: &str,
        parse: impl FnOnce(&mut Violations) -> Option<sign::Command>,
    ) -> Result<common::CommandResult, Error> {
        let mut violations = Violations::new();
        let context = call.command_context(metadata, &mut violations);
        let id = violations.id("sign_id", id, crate::ids::given(SignId::parse));
        let command = parse(&mut violations);
        let (id, command) = violations.finish((id, command))?;
        call.require_regions(&[self.app.sign_region(&id).await?])?;
        let committed = self.app.run_sign(&id, &command, &context).await?;
        Ok(result(&committed))
    }

    pub(super) async fn install_sign(
        &self,
        call: Call<pb::InstallSignRequest>,
    ) -> Result<pb::InstallSignResponse, Error> {
        let mut violations = Violations::new();
        let context = call.command_context(&call.body().metadata, &mut violations);
        let body = call.body();
        let id = violations.id("sign_id", &body.sign_id, crate::ids::given(SignId::parse));
        let place_name = violations.id(
            "place_name_id",
            &body.place_name_id,
            crate::ids::given(PlaceNameId::parse),
        );
        let sign_text = violations.text("text", &body.text, SIGN_TEXT_MAX_CHARS);
        let location = violations.text("location", &body.location, LOCATION_MAX_CHARS);
        let installed_on = violations.date("installed_on", &body.installed_on);
        let (id, place_name, sign_text, location, installed_on) =
            violations.finish((id, place_name, sign_text, location, installed_on))?;
        call.require_regions(&[self.app.place_name_region(&place_name).await?])?;
        let committed = self
            .app
            .install_sign(
                sign::InstallSign {
                    id,
                    place_name,
                    text: sign_text,
                    location,
                    installed_on,
                },
                &context,
            )
            .await?;
        Ok(pb::InstallSignResponse {
            result: Some(result(&committed)),
        })
    }

    pub(super) async fn inspect_sign(
        &self,
        call: Call<pb::InspectSignRequest>,
    ) -> Result<pb::InspectSignResponse, Error> {
        let body = call.body();
        let result = self
            .sign_command(&call, &body.metadata, &body.sign_id, |v| {
                let condition = match pb::SignCondition::try_from(body.condition) {
                    Ok(pb::SignCondition::Good) => Some(Condition::Good),
                    Ok(pb::SignCondition::Damaged) => Some(Condition::Damaged),
                    Ok(pb::SignCondition::Missing) => Some(Condition::Missing),
                    _ => {
                        v.push("condition", "must be GOOD, DAMAGED or MISSING");
                        None
                    }
                };
                let note = v.record(convert::optional_text("note", &body.note, TEXT_MAX_CHARS));
                let inspected_on = v.date("inspected_on", &body.inspected_on);
                Some(sign::Command::InspectSign(sign::InspectSign {
                    condition: condition?,
                    note: note?,
                    inspected_on: inspected_on?,
                }))
            })
            .await?;
        Ok(pb::InspectSignResponse {
            result: Some(result),
        })
    }

    pub(super) async fn replace_sign(
        &self,
        call: Call<pb::ReplaceSignRequest>,
    ) -> Result<pb::ReplaceSignResponse, Error> {
        let body = call.body();
        let result = self
            .sign_command(&call, &body.metadata, &body.sign_id, |v| {
                let reason = v.text("reason", &body.reason, TEXT_MAX_CHARS);
                let location = v.record(convert::optional_text(
                    "location",
                    &body.location,
                    LOCATION_MAX_CHARS,
                ));
                let replaced_on = v.date("replaced_on", &body.replaced_on);
                Some(sign::Command::ReplaceSign(sign::ReplaceSign {
                    reason: reason?,
                    location: location?,
                    replaced_on: replaced_on?,
                }))
            })
            .await?;
        Ok(pb::ReplaceSignResponse {
            result: Some(result),
        })
    }

    pub(super) async fn remove_sign(
        &self,
        call: Call<pb::RemoveSignRequest>,
    ) -> Result<pb::RemoveSignResponse, Error> {
        let body = call.body();
        let result = self
            .sign_command(&call, &body.metadata, &body.sign_id, |v| {
                let reason = v.text("reason", &body.reason, TEXT_MAX_CHARS);
                let removed_on = v.date("removed_on", &body.removed_on);
                Some(sign::Command::RemoveSign(sign::RemoveSign {
                    reason: reason?,
                    removed_on: removed_on?,
                }))
            })
            .await?;
        Ok(pb::RemoveSignResponse {
            result: Some(result),
        })
    }

    pub(super) async fn get_sign(
        &self,
        call: Call<pb::GetSignRequest>,
    ) -> Result<pb::GetSignResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let id = violations.id("sign_id", &body.sign_id, crate::ids::given(SignId::parse));
        let id = violations.finish(id)?;
        self.wait(&call, &body.read).await?;
        let directory = self.app.view().read().await;
        let sign = directory
            .sign(id.as_str())
            .and_then(sign_message)
            .ok_or_else(|| Error::NotFound(format!("sign {id}")))?;
        Ok(pb::GetSignResponse { sign: Some(sign) })
    }

    pub(super) async fn list_signs(
        &self,
        call: Call<pb::ListSignsRequest>,
    ) -> Result<pb::ListSignsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let place_name = violations.id(
            "place_name_id",
            &body.place_name_id,
            crate::ids::given(PlaceNameId::parse),
        );
        let place_name = violations.finish(place_name)?;
        self.wait(&call, &body.read).await?;
        let directory = self.app.view().read().await;
        let found = directory
            .signs_of(place_name.as_str())
            .filter_map(sign_message);
        let (signs, page) = page(found, &body.page)?;
        Ok(pb::ListSignsResponse {
            signs,
            page: Some(page),
        })
    }
}
