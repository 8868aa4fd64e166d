//! The division RPCs: the import and the public queries (Get, ListChildren, Search, Resolve).

use minzheng_host::edge::Call;
use minzheng_host::fields::Fields as _;
use minzheng_kit::Error;
use minzheng_proto::{common::v1 as common, convert, placenames::v1 as pb};
use minzheng_types::{FieldViolation, RegionCode, Violations};
use time::Date;

use super::{PlaceNamesApi, page};
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
    today: Date,
) -> Result<(RegionCode, Date), Error> {
    let mut violations = Violations::new();
    let code = violations.region("code", code);
    let day = violations.date_or("as_of", as_of, today);
    Ok(violations.finish((code, day))?)
}

impl PlaceNamesApi {
    pub(super) async fn import_divisions(
        &self,
        call: Call<pb::ImportDivisionsRequest>,
    ) -> Result<pb::ImportDivisionsResponse, Error> {
        let mut violations = Violations::new();
        let context = call.command_context(&call.body().metadata, &mut violations);
        let body = call.body();
        let valid_from = violations.date("valid_from", &body.valid_from);
        if body.csv.is_empty() {
            violations.add(FieldViolation::required("csv"));
        }
        let valid_from = violations.finish(valid_from)?;
        let summary = self
            .app
            .import(&body.csv, valid_from, &context, |rows| {
                let codes: Vec<RegionCode> = rows.iter().map(|r| r.code).collect();
                call.require_regions(&codes)
            })
            .await?;
        Ok(pb::ImportDivisionsResponse {
            rows: u32::try_from(summary.rows).unwrap_or(u32::MAX),
            recorded: u32::try_from(summary.recorded).unwrap_or(u32::MAX),
            unchanged: u32::try_from(summary.unchanged).unwrap_or(u32::MAX),
            position: summary.position,
        })
    }

    pub(super) async fn get_division(
        &self,
        call: Call<pb::GetDivisionRequest>,
    ) -> Result<pb::GetDivisionResponse, Error> {
        let body = call.body();
        let (code, day) = code_and_day(&body.code, &body.as_of, self.today())?;
        self.wait(&call, &body.read).await?;
        let directory = self.app.view().read().await;
        let entry = directory
            .division(code)
            .ok_or_else(|| Error::NotFound(format!("division {code}")))?;
        Ok(pb::GetDivisionResponse {
            division: Some(division_message(entry, day)),
        })
    }

    pub(super) async fn list_children(
        &self,
        call: Call<pb::ListChildrenRequest>,
    ) -> Result<pb::ListChildrenResponse, Error> {
        let body = call.body();
        let (code, day) = code_and_day(&body.code, &body.as_of, self.today())?;
        self.wait(&call, &body.read).await?;
        let directory = self.app.view().read().await;
        if directory.division(code).is_none() {
            return Err(Error::NotFound(format!("division {code}")));
        }
        let children = directory
            .children_on(code, day)
            .into_iter()
            .map(|d| division_message(d, day));
        let (divisions, page) = page(children, &body.page)?;
        Ok(pb::ListChildrenResponse {
            divisions,
            page: Some(page),
        })
    }

    pub(super) async fn search_divisions(
        &self,
        call: Call<pb::SearchDivisionsRequest>,
    ) -> Result<pb::SearchDivisionsResponse, Error> {
        let body = call.body();
        let mut violations = Violations::new();
        let prefix = violations.text("name_prefix", &body.name_prefix, NAME_MAX_CHARS);
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
        let matches = directory
            .search(prefix.as_str(), within, day)
            .map(|d| division_message(d, day));
        let (divisions, page) = page(matches, &body.page)?;
        Ok(pb::SearchDivisionsResponse {
            divisions,
            page: Some(page),
        })
    }

    pub(super) async fn resolve_division(
        &self,
        call: Call<pb::ResolveDivisionRequest>,
    ) -> Result<pb::ResolveDivisionResponse, Error> {
        let body = call.body();
        let (code, day) = code_and_day(&body.code, &body.as_of, self.today())?;
        self.wait(&call, &body.read).await?;
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
        Ok(pb::ResolveDivisionResponse {
            divisions,
            valid_on_day,
        })
    }
}
