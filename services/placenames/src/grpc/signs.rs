//! The sign RPCs: signs (地名标志) installed for standard names, their inspections, replacements
//! and removal, and the public queries.

use minzheng_kit::Error;
use minzheng_proto::{common::v1 as common, convert, placenames::v1 as pb};
use minzheng_types::Violations;
use tonic::{Request, Response};

use super::{
    PlaceNamesApi, TEXT_MAX_CHARS, Who, command_context, page, place_name_id, require_scope,
    result, text, violations_ok,
};
use crate::{
    ids::SignId,
    sign::{self, Condition, LOCATION_MAX_CHARS, Sign, TEXT_MAX_CHARS as SIGN_TEXT_MAX_CHARS},
};

fn sign_id(field: &str, id: &str, violations: &mut Violations) -> Option<SignId> {
    violations.check(field, SignId::parse(id))
}

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
        request: &Request<T>,
        metadata: &Option<common::CommandMetadata>,
        id: &str,
        parse: impl FnOnce(&mut Violations) -> Option<sign::Command>,
    ) -> Result<common::CommandResult, Error> {
        let principal = Who::Staff.authenticate(request)?;
        let mut violations = Violations::new();
        let context = command_context(request, metadata, &mut violations);
        let id = sign_id("sign_id", id, &mut violations);
        let command = parse(&mut violations);
        violations_ok(violations)?;
        let (Some(id), Some(command)) = (id, command) else {
            return Err(Error::invalid_field("sign_id", "is required"));
        };
        require_scope(&principal, &[self.app.sign_region(&id).await?])?;
        let committed = self.app.run_sign(id.as_str(), &command, &context).await?;
        Ok(result(&committed))
    }

    pub(super) async fn do_install_sign(
        &self,
        request: Request<pb::InstallSignRequest>,
    ) -> Result<Response<pb::InstallSignResponse>, Error> {
        let principal = Who::Staff.authenticate(&request)?;
        let mut violations = Violations::new();
        let context = command_context(&request, &request.get_ref().metadata, &mut violations);
        let body = request.get_ref();
        let id = sign_id("sign_id", &body.sign_id, &mut violations);
        let place_name = place_name_id("place_name_id", &body.place_name_id, &mut violations);
        let sign_text = text("text", &body.text, SIGN_TEXT_MAX_CHARS, &mut violations);
        let location = text(
            "location",
            &body.location,
            LOCATION_MAX_CHARS,
            &mut violations,
        );
        let installed_on = violations.record(convert::date("installed_on", &body.installed_on));
        violations_ok(violations)?;
        let (Some(id), Some(place_name), Some(sign_text), Some(location), Some(installed_on)) =
            (id, place_name, sign_text, location, installed_on)
        else {
            return Err(Error::invalid_field("sign_id", "is required"));
        };
        require_scope(
            &principal,
            &[self.app.place_name_region(&place_name).await?],
        )?;
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
        Ok(Response::new(pb::InstallSignResponse {
            result: Some(result(&committed)),
        }))
    }

    pub(super) async fn do_inspect_sign(
        &self,
        request: Request<pb::InspectSignRequest>,
    ) -> Result<Response<pb::InspectSignResponse>, Error> {
        let body = request.get_ref();
        let result = self
            .sign_command(&request, &body.metadata, &body.sign_id, |v| {
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
                let inspected_on = v.record(convert::date("inspected_on", &body.inspected_on));
                Some(sign::Command::InspectSign(sign::InspectSign {
                    condition: condition?,
                    note: note?,
                    inspected_on: inspected_on?,
                }))
            })
            .await?;
        Ok(Response::new(pb::InspectSignResponse {
            result: Some(result),
        }))
    }

    pub(super) async fn do_replace_sign(
        &self,
        request: Request<pb::ReplaceSignRequest>,
    ) -> Result<Response<pb::ReplaceSignResponse>, Error> {
        let body = request.get_ref();
        let result = self
            .sign_command(&request, &body.metadata, &body.sign_id, |v| {
                let reason = text("reason", &body.reason, TEXT_MAX_CHARS, v);
                let location = v.record(convert::optional_text(
                    "location",
                    &body.location,
                    LOCATION_MAX_CHARS,
                ));
                let replaced_on = v.record(convert::date("replaced_on", &body.replaced_on));
                Some(sign::Command::ReplaceSign(sign::ReplaceSign {
                    reason: reason?,
                    location: location?,
                    replaced_on: replaced_on?,
                }))
            })
            .await?;
        Ok(Response::new(pb::ReplaceSignResponse {
            result: Some(result),
        }))
    }

    pub(super) async fn do_remove_sign(
        &self,
        request: Request<pb::RemoveSignRequest>,
    ) -> Result<Response<pb::RemoveSignResponse>, Error> {
        let body = request.get_ref();
        let result = self
            .sign_command(&request, &body.metadata, &body.sign_id, |v| {
                let reason = text("reason", &body.reason, TEXT_MAX_CHARS, v);
                let removed_on = v.record(convert::date("removed_on", &body.removed_on));
                Some(sign::Command::RemoveSign(sign::RemoveSign {
                    reason: reason?,
                    removed_on: removed_on?,
                }))
            })
            .await?;
        Ok(Response::new(pb::RemoveSignResponse {
            result: Some(result),
        }))
    }

    pub(super) async fn do_get_sign(
        &self,
        request: Request<pb::GetSignRequest>,
    ) -> Result<Response<pb::GetSignResponse>, Error> {
        let body = request.get_ref();
        let mut violations = Violations::new();
        let id = sign_id("sign_id", &body.sign_id, &mut violations);
        violations_ok(violations)?;
        let Some(id) = id else {
            return Err(Error::invalid_field("sign_id", "is required"));
        };
        self.wait(&request, &body.read).await?;
        let directory = self.app.view().read().await;
        let sign = directory
            .sign(id.as_str())
            .and_then(sign_message)
            .ok_or_else(|| Error::NotFound(format!("sign {id}")))?;
        Ok(Response::new(pb::GetSignResponse { sign: Some(sign) }))
    }

    pub(super) async fn do_list_signs(
        &self,
        request: Request<pb::ListSignsRequest>,
    ) -> Result<Response<pb::ListSignsResponse>, Error> {
        let body = request.get_ref();
        let mut violations = Violations::new();
        let place_name = place_name_id("place_name_id", &body.place_name_id, &mut violations);
        violations_ok(violations)?;
        let Some(place_name) = place_name else {
            return Err(Error::invalid_field("place_name_id", "is required"));
        };
        self.wait(&request, &body.read).await?;
        let directory = self.app.view().read().await;
        let found = directory
            .signs_of(place_name.as_str())
            .filter_map(sign_message);
        let (signs, page) = page(found, &body.page)?;
        Ok(Response::new(pb::ListSignsResponse {
            signs,
            page: Some(page),
        }))
    }
}
