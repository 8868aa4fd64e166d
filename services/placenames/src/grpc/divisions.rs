//! The division RPCs: the import and the public queries (Get, ListChildren, Search, Resolve).

use minzheng_kit::{
    Error,
    auth::{self, Role},
};
use minzheng_proto::{common::v1 as common, convert, placenames::v1 as pb};
use minzheng_types::{FieldViolation, RegionCode, Violations};
use time::Date;
use tonic::{Request, Response};

use super::{
    PlaceNamesApi, command_context, day_or_today, page, require_scope, text, violations_ok,
};
use crate::{NAME_MAX_CHARS, directory::DivisionEntry};

fn division_message(entry: &DivisionEntry, day: Date) -> pb::Division {
    pb::Division {
        code: Some(entry.code.into()),
        name: entry.name_on(day).as_str().to_owned(),
        level: common::RegionLevel::from(entry.level()).into(),
        parent: entry.parent.map(Into::into),
        valid_from: Some(entry.valid_from.into()),
        valid_to: entry.valid_to.map(Into::into),
        superseded_by: entry.superseded_by.iter().map(|&c| c.into()).collect(),
        names: entry
            .names
            .iter()
            .map(|(from, name)| pb::DivisionName {
                name: name.as_str().to_owned(),
                valid_from: Some((*from).into()),
            })
            .collect(),
    }
}

/// The `code` and `as_of` fields most division queries take, both violations reported at once.
fn code_and_day(
    code: &Option<common::RegionCode>,
    as_of: &Option<common::Date>,
) -> Result<(RegionCode, Date), Error> {
    let mut violations = Violations::new();
    let code = violations.record(convert::region_code("code", code));
    let day = violations.record(day_or_today("as_of", as_of));
    violations_ok(violations)?;
    match (code, day) {
        (Some(code), Some(day)) => Ok((code, day)),
        _ => Err(Error::invalid_field("code", "is required")),
    }
}

impl PlaceNamesApi {
    pub(super) async fn do_import_divisions(
        &self,
        request: Request<pb::ImportDivisionsRequest>,
    ) -> Result<Response<pb::ImportDivisionsResponse>, Error> {
        let principal = auth::require(&request, Role::Operator)?.clone();
        let mut violations = Violations::new();
        let context = command_context(&request, &request.get_ref().metadata, &mut violations);
        let body = request.get_ref();
        let valid_from = violations.record(convert::date("valid_from", &body.valid_from));
        if body.csv.is_empty() {
            violations.add(FieldViolation::required("csv"));
        }
        violations_ok(violations)?;
        let valid_from =
            valid_from.ok_or_else(|| Error::invalid_field("valid_from", "is required"))?;
        let summary = self
            .app
            .import(&body.csv, valid_from, &context, |rows| {
                let codes: Vec<RegionCode> = rows.iter().map(|r| r.code).collect();
                require_scope(&principal, &codes)
            })
            .await?;
        Ok(Response::new(pb::ImportDivisionsResponse {
            rows: u32::try_from(summary.rows).unwrap_or(u32::MAX),
            recorded: u32::try_from(summary.recorded).unwrap_or(u32::MAX),
            unchanged: u32::try_from(summary.unchanged).unwrap_or(u32::MAX),
            position: summary.position,
        }))
    }

    pub(super) async fn do_get_division(
        &self,
        request: Request<pb::GetDivisionRequest>,
    ) -> Result<Response<pb::GetDivisionResponse>, Error> {
        let body = request.get_ref();
        let (code, day) = code_and_day(&body.code, &body.as_of)?;
        self.wait(&request, &body.read).await?;
        let directory = self.app.view().read().await;
        let entry = directory
            .division(code)
            .ok_or_else(|| Error::NotFound(format!("division {code}")))?;
        Ok(Response::new(pb::GetDivisionResponse {
            division: Some(division_message(entry, day)),
        }))
    }

    pub(super) async fn do_list_children(
        &self,
        request: Request<pb::ListChildrenRequest>,
    ) -> Result<Response<pb::ListChildrenResponse>, Error> {
        let body = request.get_ref();
        let (code, day) = code_and_day(&body.code, &body.as_of)?;
        self.wait(&request, &body.read).await?;
        let directory = self.app.view().read().await;
        if directory.division(code).is_none() {
            return Err(Error::NotFound(format!("division {code}")));
        }
        let children = directory
            .children_on(code, day)
            .into_iter()
            .map(|d| division_message(d, day));
        let (divisions, page) = page(children, &body.page)?;
        Ok(Response::new(pb::ListChildrenResponse {
            divisions,
            page: Some(page),
        }))
    }

    pub(super) async fn do_search_divisions(
        &self,
        request: Request<pb::SearchDivisionsRequest>,
    ) -> Result<Response<pb::SearchDivisionsResponse>, Error> {
        let body = request.get_ref();
        let mut violations = Violations::new();
        let prefix = text(
            "name_prefix",
            &body.name_prefix,
            NAME_MAX_CHARS,
            &mut violations,
        );
        let within = match &body.within {
            None => Some(None),
            Some(_) => violations
                .record(convert::region_code("within", &body.within))
                .map(Some),
        };
        let day = violations.record(day_or_today("as_of", &body.as_of));
        violations_ok(violations)?;
        let (Some(prefix), Some(within), Some(day)) = (prefix, within, day) else {
            return Err(Error::invalid_field("name_prefix", "is required"));
        };
        self.wait(&request, &body.read).await?;
        let directory = self.app.view().read().await;
        let matches = directory
            .search(prefix.as_str(), within, day)
            .map(|d| division_message(d, day));
        let (divisions, page) = page(matches, &body.page)?;
        Ok(Response::new(pb::SearchDivisionsResponse {
            divisions,
            page: Some(page),
        }))
    }

    pub(super) async fn do_resolve_division(
        &self,
        request: Request<pb::ResolveDivisionRequest>,
    ) -> Result<Response<pb::ResolveDivisionResponse>, Error> {
        let body = request.get_ref();
        let (code, day) = code_and_day(&body.code, &body.as_of)?;
        self.wait(&request, &body.read).await?;
        let directory = self.app.view().read().await;
        let entry = directory
            .division(code)
            .ok_or_else(|| Error::NotFound(format!("division {code}")))?;
        let valid_on_day = entry.valid_on(day);
        let divisions = directory
            .resolve(code, day)
            .into_iter()
            .filter_map(|c| directory.division(c))
            .map(|d| division_message(d, day))
            .collect();
        Ok(Response::new(pb::ResolveDivisionResponse {
            divisions,
            valid_on_day,
        }))
    }
}
