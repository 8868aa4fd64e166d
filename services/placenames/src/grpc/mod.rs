//! `minzheng.placenames.v1.PlaceNamesService`: request conversion (every field parsed into a
//! domain value, every violation reported at once), access checks, and the answers built from the
//! directory. Proto types stop here. A refused call is logged at INFO (the caller's mistake, not
//! the service's); internal errors are logged at ERROR where they become a status. The boundary and sign RPCs live in `boundaries` and
//! `signs`; the trait implementation below delegates to them.

mod boundaries;
mod signs;

use std::time::Duration;

use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed},
    auth::{self, Principal, Role},
    live::DEFAULT_WAIT,
};
use minzheng_proto::{
    common::v1 as common,
    convert,
    placenames::v1::{
        self as pb,
        place_names_service_server::{PlaceNamesService, PlaceNamesServiceServer},
    },
};
use minzheng_types::{BoundedText, FieldViolation, RegionCode, RegionLevel, Violations};
use time::{Date, OffsetDateTime, UtcOffset};
use tonic::{Request, Response, Status};

use crate::{
    AdjustmentId, NAME_MAX_CHARS, PlaceNameId,
    adjustment::{self, DivisionRef, Kind, ReviewKind, TownshipType},
    app::PlaceNames,
    directory::{AdjustmentEntry, DivisionEntry, PlaceNameEntry},
    import, pinyin,
    placename::{self, PlaceKind},
};

/// Longest free text (justifications, summaries, reasons), in characters.
const TEXT_MAX_CHARS: usize = 2_000;
/// Longest approval reference, in characters.
const REFERENCE_MAX_CHARS: usize = 200;
/// Longest idempotency key.
const KEY_MAX_CHARS: usize = 128;
/// Page sizes of the list queries.
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1_000;

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct PlaceNamesApi {
    app: PlaceNames,
}

impl PlaceNamesApi {
    pub fn new(app: PlaceNames) -> Self {
        Self { app }
    }

    pub fn into_server(self) -> PlaceNamesServiceServer<Self> {
        PlaceNamesServiceServer::new(self).max_decoding_message_size(import::MAX_BYTES + (1 << 20))
    }

    /// Waits for read-your-writes, bounded by the call's deadline.
    async fn wait<T>(
        &self,
        request: &Request<T>,
        read: &Option<common::ReadOptions>,
    ) -> Result<(), Error> {
        let position = read.as_ref().map_or(0, |r| r.min_position);
        self.app.view().wait_for(position, deadline(request)).await
    }
}

/// The call's deadline (`grpc-timeout`), or the default wait.
fn deadline<T>(request: &Request<T>) -> Duration {
    request
        .metadata()
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout)
        .map_or(DEFAULT_WAIT, |d| d.min(DEFAULT_WAIT * 6))
}

fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Today in China Standard Time, the day queries answer for when none is given.
pub fn today() -> Date {
    let cst = UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC);
    OffsetDateTime::now_utc().to_offset(cst).date()
}

fn day_or_today(field: &str, date: &Option<common::Date>) -> Result<Date, FieldViolation> {
    match date {
        None => Ok(today()),
        Some(_) => convert::date(field, date),
    }
}

/// The command context of a call: the principal as actor, and the request's idempotency key
/// (from `metadata.idempotency_key`, or the `idempotency-key` header), which is required.
fn command_context<T>(
    request: &Request<T>,
    metadata: &Option<common::CommandMetadata>,
    violations: &mut Violations,
) -> CommandContext {
    let mut context = CommandContext::from_request(request);
    let body = metadata.as_ref();
    let key = body
        .map(|m| m.idempotency_key.trim())
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .or_else(|| context.idempotency_key.clone());
    match key {
        None => violations.add(FieldViolation::required("metadata.idempotency_key")),
        Some(key) if key.chars().count() > KEY_MAX_CHARS => violations.push(
            "metadata.idempotency_key",
            format!("must be at most {KEY_MAX_CHARS} characters"),
        ),
        Some(key) => context = context.with_idempotency_key(key),
    }
    if let Some(correlation) = body
        .map(|m| m.correlation_id.trim())
        .filter(|c| !c.is_empty())
    {
        match uuid::Uuid::parse_str(correlation) {
            Ok(id) => context = context.with_correlation_id(id),
            Err(_) => violations.push("metadata.correlation_id", "must be a UUID"),
        }
    }
    context
}

fn adjustment_id(field: &str, id: &str, violations: &mut Violations) -> Option<AdjustmentId> {
    violations.check(field, AdjustmentId::parse(id))
}

fn division_refs(
    field: &str,
    refs: &[pb::DivisionRef],
    violations: &mut Violations,
) -> Vec<DivisionRef> {
    refs.iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let code =
                violations.record(convert::region_code(&format!("{field}[{i}].code"), &r.code));
            let name = violations.record(convert::bounded_text(
                &format!("{field}[{i}].name"),
                &r.name,
                NAME_MAX_CHARS,
            ));
            Some(DivisionRef {
                code: code?,
                name: name?,
            })
        })
        .collect()
}

fn township_type(field: &str, value: i32, violations: &mut Violations) -> Option<TownshipType> {
    match pb::TownshipType::try_from(value) {
        Ok(pb::TownshipType::Township) => Some(TownshipType::Township),
        Ok(pb::TownshipType::Town) => Some(TownshipType::Town),
        Ok(pb::TownshipType::Subdistrict) => Some(TownshipType::Subdistrict),
        _ => {
            violations.push(
                field,
                "must be TOWNSHIP, TOWN or SUBDISTRICT for a change of type",
            );
            None
        }
    }
}

fn kind(request: &pb::ProposeAdjustmentRequest, violations: &mut Violations) -> Option<Kind> {
    match pb::AdjustmentKind::try_from(request.kind) {
        Ok(pb::AdjustmentKind::Rename) => Some(Kind::Rename),
        Ok(pb::AdjustmentKind::Merge) => Some(Kind::Merge),
        Ok(pb::AdjustmentKind::Split) => Some(Kind::Split),
        Ok(pb::AdjustmentKind::Recode) => Some(Kind::Recode),
        Ok(pb::AdjustmentKind::ChangeType) => {
            let from = township_type("from_type", request.from_type, violations);
            let to = township_type("to_type", request.to_type, violations);
            Some(Kind::ChangeType {
                from: from?,
                to: to?,
            })
        }
        Ok(pb::AdjustmentKind::Unspecified) | Err(_) => {
            violations.push(
                "kind",
                "must be RENAME, MERGE, SPLIT, CHANGE_TYPE or RECODE",
            );
            None
        }
    }
}

/// Every code in `codes` must lie in the principal's scope.
fn require_scope(principal: &Principal, codes: &[RegionCode]) -> Result<(), Error> {
    for &code in codes {
        principal.require_region(code)?;
    }
    Ok(())
}

/// Approvals need a scope at county level or above containing every code.
fn require_approver_scope(principal: &Principal, codes: &[RegionCode]) -> Result<(), Error> {
    principal.require_role(Role::Approver)?;
    for &code in codes {
        let covered = principal
            .regions()
            .iter()
            .any(|scope| scope.level() <= RegionLevel::County && scope.contains(code));
        if !covered {
            return Err(Error::PermissionDenied(format!(
                "approving needs a scope at county level or above that contains {code}"
            )));
        }
    }
    Ok(())
}

fn result(committed: &Committed) -> common::CommandResult {
    common::CommandResult {
        stream_version: committed.stream_version,
        position: committed.position,
    }
}

fn text(field: &str, value: &str, max: usize, violations: &mut Violations) -> Option<BoundedText> {
    violations.record(convert::bounded_text(field, value, max))
}

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

/// A page of `items` after the opaque `token` (the offset, as text).
fn page<T>(
    items: impl Iterator<Item = T>,
    page: &Option<common::PageRequest>,
) -> Result<(Vec<T>, common::PageResponse), Error> {
    let request = page.clone().unwrap_or_default();
    let size = match request.page_size as usize {
        0 => DEFAULT_PAGE,
        n => n.min(MAX_PAGE),
    };
    let offset: usize = if request.page_token.is_empty() {
        0
    } else {
        request.page_token.parse().map_err(|_| {
            Error::invalid_field("page.page_token", "is not a token this query returned")
        })?
    };
    let mut items: Vec<T> = items.skip(offset).take(size + 1).collect();
    let more = items.len() > size;
    items.truncate(size);
    let next_page_token = if more {
        (offset + size).to_string()
    } else {
        String::new()
    };
    Ok((items, common::PageResponse { next_page_token }))
}

fn violations_ok(violations: Violations) -> Result<(), Error> {
    violations.into_result().map_err(Error::from)
}

fn adjustment_message(entry: &AdjustmentEntry) -> pb::GetAdjustmentResponse {
    pb::GetAdjustmentResponse {
        proposal: Some(entry.proposal.clone()),
        status: entry.status().into(),
        reviews: entry.reviews.clone(),
        approval: entry.approval.clone(),
        rejection: entry.rejection.clone(),
        took_effect: entry
            .took_effect
            .as_ref()
            .map(|(_, message)| message.clone()),
    }
}

fn place_name_id(field: &str, id: &str, violations: &mut Violations) -> Option<PlaceNameId> {
    violations.check(field, PlaceNameId::parse(id))
}

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

/// Who may run a workflow command.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// Caseworkers and approvers (scoped to what the command touches).
    Staff,
    /// Approvers (scoped to its county or above).
    Approver,
}

impl Who {
    /// The call's principal, if it has one of these roles.
    fn authenticate<T>(self, request: &Request<T>) -> Result<Principal, Error> {
        match self {
            Who::Staff => auth::require_any(request, &[Role::Caseworker, Role::Approver]),
            Who::Approver => auth::require(request, Role::Approver),
        }
        .cloned()
    }
}

impl PlaceNamesApi {
    /// The common path of the place-name workflow commands: authenticate, parse the id and the
    /// command (every violation at once), check the scope on the place's division, run.
    async fn place_name_command<T>(
        &self,
        request: &Request<T>,
        metadata: &Option<common::CommandMetadata>,
        id: &str,
        who: Who,
        parse: impl FnOnce(&mut Violations) -> Option<placename::Command>,
    ) -> Result<common::CommandResult, Error> {
        let principal = who.authenticate(request)?;
        let mut violations = Violations::new();
        let context = command_context(request, metadata, &mut violations);
        let id = place_name_id("place_name_id", id, &mut violations);
        let command = parse(&mut violations);
        violations_ok(violations)?;
        let (Some(id), Some(command)) = (id, command) else {
            return Err(Error::invalid_field("place_name_id", "is required"));
        };
        let region = self.app.place_name_region(&id).await?;
        match who {
            Who::Staff => require_scope(&principal, &[region])?,
            Who::Approver => require_approver_scope(&principal, &[region])?,
        }
        let committed = self
            .app
            .run_place_name(id.as_str(), &command, &context)
            .await?;
        Ok(result(&committed))
    }
}

#[tonic::async_trait]
impl PlaceNamesService for PlaceNamesApi {
    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn import_divisions(
        &self,
        request: Request<pb::ImportDivisionsRequest>,
    ) -> Result<Response<pb::ImportDivisionsResponse>, Status> {
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

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_division(
        &self,
        request: Request<pb::GetDivisionRequest>,
    ) -> Result<Response<pb::GetDivisionResponse>, Status> {
        let body = request.get_ref();
        let mut violations = Violations::new();
        let code = violations.record(convert::region_code("code", &body.code));
        let day = violations.record(day_or_today("as_of", &body.as_of));
        violations_ok(violations)?;
        let (Some(code), Some(day)) = (code, day) else {
            return Err(Error::invalid_field("code", "is required").into());
        };
        self.wait(&request, &body.read).await?;
        let directory = self.app.view().read().await;
        let entry = directory
            .division(code)
            .ok_or_else(|| Error::NotFound(format!("division {code}")))?;
        Ok(Response::new(pb::GetDivisionResponse {
            division: Some(division_message(entry, day)),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn list_children(
        &self,
        request: Request<pb::ListChildrenRequest>,
    ) -> Result<Response<pb::ListChildrenResponse>, Status> {
        let body = request.get_ref();
        let mut violations = Violations::new();
        let code = violations.record(convert::region_code("code", &body.code));
        let day = violations.record(day_or_today("as_of", &body.as_of));
        violations_ok(violations)?;
        let (Some(code), Some(day)) = (code, day) else {
            return Err(Error::invalid_field("code", "is required").into());
        };
        self.wait(&request, &body.read).await?;
        let directory = self.app.view().read().await;
        if directory.division(code).is_none() {
            return Err(Error::NotFound(format!("division {code}")).into());
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

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn search_divisions(
        &self,
        request: Request<pb::SearchDivisionsRequest>,
    ) -> Result<Response<pb::SearchDivisionsResponse>, Status> {
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
            return Err(Error::invalid_field("name_prefix", "is required").into());
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

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn resolve_division(
        &self,
        request: Request<pb::ResolveDivisionRequest>,
    ) -> Result<Response<pb::ResolveDivisionResponse>, Status> {
        let body = request.get_ref();
        let mut violations = Violations::new();
        let code = violations.record(convert::region_code("code", &body.code));
        let day = violations.record(day_or_today("as_of", &body.as_of));
        violations_ok(violations)?;
        let (Some(code), Some(day)) = (code, day) else {
            return Err(Error::invalid_field("code", "is required").into());
        };
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

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn propose_adjustment(
        &self,
        request: Request<pb::ProposeAdjustmentRequest>,
    ) -> Result<Response<pb::ProposeAdjustmentResponse>, Status> {
        let principal = auth::require_any(&request, &[Role::Caseworker, Role::Approver])?.clone();
        let mut violations = Violations::new();
        let context = command_context(&request, &request.get_ref().metadata, &mut violations);
        let body = request.get_ref();
        let id = adjustment_id("adjustment_id", &body.adjustment_id, &mut violations);
        let kind = kind(body, &mut violations);
        let before = division_refs("before", &body.before, &mut violations);
        let after = division_refs("after", &body.after, &mut violations);
        let justification = text(
            "justification",
            &body.justification,
            TEXT_MAX_CHARS,
            &mut violations,
        );
        let proposed_on = violations.record(convert::date("proposed_on", &body.proposed_on));
        violations_ok(violations)?;
        let (Some(id), Some(kind), Some(justification), Some(proposed_on)) =
            (id, kind, justification, proposed_on)
        else {
            return Err(Error::invalid_field("adjustment_id", "is required").into());
        };
        let codes: Vec<RegionCode> = before.iter().chain(&after).map(|d| d.code).collect();
        require_scope(&principal, &codes)?;
        let committed = self
            .app
            .propose(
                adjustment::Propose {
                    id,
                    kind,
                    before,
                    after,
                    justification,
                    proposed_on,
                },
                &context,
            )
            .await?;
        Ok(Response::new(pb::ProposeAdjustmentResponse {
            result: Some(result(&committed)),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn record_adjustment_review(
        &self,
        request: Request<pb::RecordAdjustmentReviewRequest>,
    ) -> Result<Response<pb::RecordAdjustmentReviewResponse>, Status> {
        let principal = auth::require_any(&request, &[Role::Caseworker, Role::Approver])?.clone();
        let mut violations = Violations::new();
        let context = command_context(&request, &request.get_ref().metadata, &mut violations);
        let body = request.get_ref();
        let id = adjustment_id("adjustment_id", &body.adjustment_id, &mut violations);
        let review = match pb::ReviewKind::try_from(body.review) {
            Ok(pb::ReviewKind::Expert) => Some(ReviewKind::Expert),
            Ok(pb::ReviewKind::Risk) => Some(ReviewKind::Risk),
            Ok(pb::ReviewKind::PublicOpinion) => Some(ReviewKind::PublicOpinion),
            _ => {
                violations.push("review", "must be EXPERT, RISK or PUBLIC_OPINION");
                None
            }
        };
        let summary = text("summary", &body.summary, TEXT_MAX_CHARS, &mut violations);
        let recorded_on = violations.record(convert::date("recorded_on", &body.recorded_on));
        violations_ok(violations)?;
        let (Some(id), Some(review), Some(summary), Some(recorded_on)) =
            (id, review, summary, recorded_on)
        else {
            return Err(Error::invalid_field("adjustment_id", "is required").into());
        };
        require_scope(&principal, &self.app.adjustment_divisions(&id).await?)?;
        let command = adjustment::Command::RecordReview(adjustment::RecordReview {
            review,
            favourable: body.favourable,
            summary,
            recorded_on,
        });
        let committed = self
            .app
            .run_adjustment(id.as_str(), &command, &context)
            .await?;
        Ok(Response::new(pb::RecordAdjustmentReviewResponse {
            result: Some(result(&committed)),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn approve_adjustment(
        &self,
        request: Request<pb::ApproveAdjustmentRequest>,
    ) -> Result<Response<pb::ApproveAdjustmentResponse>, Status> {
        let principal = auth::require(&request, Role::Approver)?.clone();
        let mut violations = Violations::new();
        let context = command_context(&request, &request.get_ref().metadata, &mut violations);
        let body = request.get_ref();
        let id = adjustment_id("adjustment_id", &body.adjustment_id, &mut violations);
        let approved_on = violations.record(convert::date("approved_on", &body.approved_on));
        let reference = text(
            "approval_reference",
            &body.approval_reference,
            REFERENCE_MAX_CHARS,
            &mut violations,
        );
        violations_ok(violations)?;
        let (Some(id), Some(approved_on), Some(reference)) = (id, approved_on, reference) else {
            return Err(Error::invalid_field("adjustment_id", "is required").into());
        };
        require_approver_scope(&principal, &self.app.adjustment_divisions(&id).await?)?;
        let command = adjustment::Command::Approve(adjustment::Approve {
            approved_on,
            reference,
        });
        let committed = self
            .app
            .run_adjustment(id.as_str(), &command, &context)
            .await?;
        Ok(Response::new(pb::ApproveAdjustmentResponse {
            result: Some(result(&committed)),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn reject_adjustment(
        &self,
        request: Request<pb::RejectAdjustmentRequest>,
    ) -> Result<Response<pb::RejectAdjustmentResponse>, Status> {
        let principal = auth::require(&request, Role::Approver)?.clone();
        let mut violations = Violations::new();
        let context = command_context(&request, &request.get_ref().metadata, &mut violations);
        let body = request.get_ref();
        let id = adjustment_id("adjustment_id", &body.adjustment_id, &mut violations);
        let rejected_on = violations.record(convert::date("rejected_on", &body.rejected_on));
        let reason = text("reason", &body.reason, TEXT_MAX_CHARS, &mut violations);
        violations_ok(violations)?;
        let (Some(id), Some(rejected_on), Some(reason)) = (id, rejected_on, reason) else {
            return Err(Error::invalid_field("adjustment_id", "is required").into());
        };
        require_approver_scope(&principal, &self.app.adjustment_divisions(&id).await?)?;
        let command = adjustment::Command::Reject(adjustment::Reject {
            rejected_on,
            reason,
        });
        let committed = self
            .app
            .run_adjustment(id.as_str(), &command, &context)
            .await?;
        Ok(Response::new(pb::RejectAdjustmentResponse {
            result: Some(result(&committed)),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn put_adjustment_into_effect(
        &self,
        request: Request<pb::PutAdjustmentIntoEffectRequest>,
    ) -> Result<Response<pb::PutAdjustmentIntoEffectResponse>, Status> {
        let principal = auth::require(&request, Role::Approver)?.clone();
        let mut violations = Violations::new();
        let context = command_context(&request, &request.get_ref().metadata, &mut violations);
        let body = request.get_ref();
        let id = adjustment_id("adjustment_id", &body.adjustment_id, &mut violations);
        let effective_on = violations.record(convert::date("effective_on", &body.effective_on));
        violations_ok(violations)?;
        let (Some(id), Some(effective_on)) = (id, effective_on) else {
            return Err(Error::invalid_field("adjustment_id", "is required").into());
        };
        require_approver_scope(&principal, &self.app.adjustment_divisions(&id).await?)?;
        let (committed, took_effect) = self
            .app
            .put_into_effect(&id, effective_on, &context)
            .await?;
        let message = {
            use minzheng_kit::aggregate::EventCodec as _;
            use prost::Message as _;
            let encoded = adjustment::Event::TookEffect(took_effect).encode();
            pb::AdjustmentTookEffect::decode(encoded).map_err(Error::internal)?
        };
        Ok(Response::new(pb::PutAdjustmentIntoEffectResponse {
            result: Some(result(&committed)),
            took_effect: Some(message),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_adjustment(
        &self,
        request: Request<pb::GetAdjustmentRequest>,
    ) -> Result<Response<pb::GetAdjustmentResponse>, Status> {
        let body = request.get_ref();
        let mut violations = Violations::new();
        let id = adjustment_id("adjustment_id", &body.adjustment_id, &mut violations);
        violations_ok(violations)?;
        let Some(id) = id else {
            return Err(Error::invalid_field("adjustment_id", "is required").into());
        };
        auth::authenticated(&request)?;
        self.wait(&request, &body.read).await?;
        let directory = self.app.view().read().await;
        let entry = directory
            .adjustment(id.as_str())
            .ok_or_else(|| Error::NotFound(format!("adjustment {id}")))?;
        Ok(Response::new(adjustment_message(entry)))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn propose_place_name(
        &self,
        request: Request<pb::ProposePlaceNameRequest>,
    ) -> Result<Response<pb::ProposePlaceNameResponse>, Status> {
        let principal = auth::require_any(&request, &[Role::Caseworker, Role::Approver])?.clone();
        let mut violations = Violations::new();
        let context = command_context(&request, &request.get_ref().metadata, &mut violations);
        let body = request.get_ref();
        let id = place_name_id("place_name_id", &body.place_name_id, &mut violations);
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
        let name = text("name", &body.name, NAME_MAX_CHARS, &mut violations);
        let spelled =
            text("pinyin", &body.pinyin, pinyin::MAX_CHARS, &mut violations).and_then(|p| {
                violations
                    .check("pinyin", pinyin::check(p.as_str()))
                    .map(|()| p)
            });
        let region = violations.record(convert::region_code("region", &body.region));
        let meaning = text("meaning", &body.meaning, TEXT_MAX_CHARS, &mut violations);
        let proposed_on = violations.record(convert::date("proposed_on", &body.proposed_on));
        let replaces = if body.replaces.trim().is_empty() {
            Some(None)
        } else {
            place_name_id("replaces", body.replaces.trim(), &mut violations).map(Some)
        };
        violations_ok(violations)?;
        let (
            Some(id),
            Some(kind),
            Some(name),
            Some(pinyin),
            Some(region),
            Some(meaning),
            Some(proposed_on),
            Some(replaces),
        ) = (
            id,
            kind,
            name,
            spelled,
            region,
            meaning,
            proposed_on,
            replaces,
        )
        else {
            return Err(Error::invalid_field("place_name_id", "is required").into());
        };
        require_scope(&principal, &[region])?;
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
        Ok(Response::new(pb::ProposePlaceNameResponse {
            result: Some(result(&committed)),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn record_place_name_evaluation(
        &self,
        request: Request<pb::RecordPlaceNameEvaluationRequest>,
    ) -> Result<Response<pb::RecordPlaceNameEvaluationResponse>, Status> {
        let body = request.get_ref();
        let result = self
            .place_name_command(
                &request,
                &body.metadata,
                &body.place_name_id,
                Who::Staff,
                |v| {
                    let summary = text("summary", &body.summary, TEXT_MAX_CHARS, v);
                    let evaluated_on = v.record(convert::date("evaluated_on", &body.evaluated_on));
                    Some(placename::Command::RecordEvaluation(
                        placename::RecordEvaluation {
                            favourable: body.favourable,
                            summary: summary?,
                            evaluated_on: evaluated_on?,
                        },
                    ))
                },
            )
            .await?;
        Ok(Response::new(pb::RecordPlaceNameEvaluationResponse {
            result: Some(result),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn open_place_name_comment_period(
        &self,
        request: Request<pb::OpenPlaceNameCommentPeriodRequest>,
    ) -> Result<Response<pb::OpenPlaceNameCommentPeriodResponse>, Status> {
        let body = request.get_ref();
        let result = self
            .place_name_command(
                &request,
                &body.metadata,
                &body.place_name_id,
                Who::Staff,
                |v| {
                    let opened_on = v.record(convert::date("opened_on", &body.opened_on));
                    let closes_on = v.record(convert::date("closes_on", &body.closes_on));
                    Some(placename::Command::OpenCommentPeriod(
                        placename::OpenCommentPeriod {
                            opened_on: opened_on?,
                            closes_on: closes_on?,
                        },
                    ))
                },
            )
            .await?;
        Ok(Response::new(pb::OpenPlaceNameCommentPeriodResponse {
            result: Some(result),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn record_place_name_comment(
        &self,
        request: Request<pb::RecordPlaceNameCommentRequest>,
    ) -> Result<Response<pb::RecordPlaceNameCommentResponse>, Status> {
        let body = request.get_ref();
        let result = self
            .place_name_command(
                &request,
                &body.metadata,
                &body.place_name_id,
                Who::Staff,
                |v| {
                    let summary = text("summary", &body.summary, TEXT_MAX_CHARS, v);
                    let received_on = v.record(convert::date("received_on", &body.received_on));
                    Some(placename::Command::RecordComment(
                        placename::RecordComment {
                            summary: summary?,
                            received_on: received_on?,
                        },
                    ))
                },
            )
            .await?;
        Ok(Response::new(pb::RecordPlaceNameCommentResponse {
            result: Some(result),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn close_place_name_comment_period(
        &self,
        request: Request<pb::ClosePlaceNameCommentPeriodRequest>,
    ) -> Result<Response<pb::ClosePlaceNameCommentPeriodResponse>, Status> {
        let body = request.get_ref();
        let result = self
            .place_name_command(
                &request,
                &body.metadata,
                &body.place_name_id,
                Who::Staff,
                |v| {
                    let closed_on = v.record(convert::date("closed_on", &body.closed_on));
                    Some(placename::Command::CloseCommentPeriod(
                        placename::CloseCommentPeriod {
                            closed_on: closed_on?,
                        },
                    ))
                },
            )
            .await?;
        Ok(Response::new(pb::ClosePlaceNameCommentPeriodResponse {
            result: Some(result),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn approve_place_name(
        &self,
        request: Request<pb::ApprovePlaceNameRequest>,
    ) -> Result<Response<pb::ApprovePlaceNameResponse>, Status> {
        let body = request.get_ref();
        let result = self
            .place_name_command(
                &request,
                &body.metadata,
                &body.place_name_id,
                Who::Approver,
                |v| {
                    let approved_on = v.record(convert::date("approved_on", &body.approved_on));
                    let reference = text(
                        "approval_reference",
                        &body.approval_reference,
                        REFERENCE_MAX_CHARS,
                        v,
                    );
                    Some(placename::Command::Approve(placename::Approve {
                        approved_on: approved_on?,
                        reference: reference?,
                    }))
                },
            )
            .await?;
        Ok(Response::new(pb::ApprovePlaceNameResponse {
            result: Some(result),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn reject_place_name(
        &self,
        request: Request<pb::RejectPlaceNameRequest>,
    ) -> Result<Response<pb::RejectPlaceNameResponse>, Status> {
        let body = request.get_ref();
        let result = self
            .place_name_command(
                &request,
                &body.metadata,
                &body.place_name_id,
                Who::Approver,
                |v| {
                    let rejected_on = v.record(convert::date("rejected_on", &body.rejected_on));
                    let reason = text("reason", &body.reason, TEXT_MAX_CHARS, v);
                    Some(placename::Command::Reject(placename::Reject {
                        rejected_on: rejected_on?,
                        reason: reason?,
                    }))
                },
            )
            .await?;
        Ok(Response::new(pb::RejectPlaceNameResponse {
            result: Some(result),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn publish_place_name(
        &self,
        request: Request<pb::PublishPlaceNameRequest>,
    ) -> Result<Response<pb::PublishPlaceNameResponse>, Status> {
        let body = request.get_ref();
        let result = self
            .place_name_command(
                &request,
                &body.metadata,
                &body.place_name_id,
                Who::Approver,
                |v| {
                    let published_on = v.record(convert::date("published_on", &body.published_on));
                    Some(placename::Command::Publish(placename::Publish {
                        published_on: published_on?,
                    }))
                },
            )
            .await?;
        Ok(Response::new(pb::PublishPlaceNameResponse {
            result: Some(result),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn retire_place_name(
        &self,
        request: Request<pb::RetirePlaceNameRequest>,
    ) -> Result<Response<pb::RetirePlaceNameResponse>, Status> {
        let body = request.get_ref();
        let result = self
            .place_name_command(
                &request,
                &body.metadata,
                &body.place_name_id,
                Who::Approver,
                |v| {
                    let retired_on = v.record(convert::date("retired_on", &body.retired_on));
                    let reason = text("reason", &body.reason, TEXT_MAX_CHARS, v);
                    Some(placename::Command::Retire(placename::Retire {
                        retired_on: retired_on?,
                        reason: reason?,
                    }))
                },
            )
            .await?;
        Ok(Response::new(pb::RetirePlaceNameResponse {
            result: Some(result),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_place_name(
        &self,
        request: Request<pb::GetPlaceNameRequest>,
    ) -> Result<Response<pb::GetPlaceNameResponse>, Status> {
        let body = request.get_ref();
        let mut violations = Violations::new();
        let id = place_name_id("place_name_id", &body.place_name_id, &mut violations);
        violations_ok(violations)?;
        let Some(id) = id else {
            return Err(Error::invalid_field("place_name_id", "is required").into());
        };
        self.wait(&request, &body.read).await?;
        let directory = self.app.view().read().await;
        let entry = directory
            .place_name(id.as_str())
            .ok_or_else(|| Error::NotFound(format!("place name {id}")))?;
        if !entry.is_standard() {
            // A name still in its workflow is not public yet.
            auth::authenticated(&request)?;
        }
        Ok(Response::new(pb::GetPlaceNameResponse {
            place_name: Some(place_name_message(entry)),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn search_place_names(
        &self,
        request: Request<pb::SearchPlaceNamesRequest>,
    ) -> Result<Response<pb::SearchPlaceNamesResponse>, Status> {
        let body = request.get_ref();
        let mut violations = Violations::new();
        let prefix = text("prefix", &body.prefix, pinyin::MAX_CHARS, &mut violations);
        let within = match &body.within {
            None => Some(None),
            Some(_) => violations
                .record(convert::region_code("within", &body.within))
                .map(Some),
        };
        let day = violations.record(day_or_today("as_of", &body.as_of));
        violations_ok(violations)?;
        let (Some(prefix), Some(within), Some(day)) = (prefix, within, day) else {
            return Err(Error::invalid_field("prefix", "is required").into());
        };
        self.wait(&request, &body.read).await?;
        let directory = self.app.view().read().await;
        let found = directory
            .search_place_names(prefix.as_str(), within, day)
            .into_iter()
            .map(place_name_message);
        let (place_names, page) = page(found, &body.page)?;
        Ok(Response::new(pb::SearchPlaceNamesResponse {
            place_names,
            page: Some(page),
        }))
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn record_boundary(
        &self,
        request: Request<pb::RecordBoundaryRequest>,
    ) -> Result<Response<pb::RecordBoundaryResponse>, Status> {
        Ok(self.do_record_boundary(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn start_inspection_round(
        &self,
        request: Request<pb::StartInspectionRoundRequest>,
    ) -> Result<Response<pb::StartInspectionRoundResponse>, Status> {
        Ok(self.do_start_inspection_round(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn record_inspection_finding(
        &self,
        request: Request<pb::RecordInspectionFindingRequest>,
    ) -> Result<Response<pb::RecordInspectionFindingResponse>, Status> {
        Ok(self.do_record_inspection_finding(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn resolve_inspection_finding(
        &self,
        request: Request<pb::ResolveInspectionFindingRequest>,
    ) -> Result<Response<pb::ResolveInspectionFindingResponse>, Status> {
        Ok(self.do_resolve_inspection_finding(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn complete_inspection_round(
        &self,
        request: Request<pb::CompleteInspectionRoundRequest>,
    ) -> Result<Response<pb::CompleteInspectionRoundResponse>, Status> {
        Ok(self.do_complete_inspection_round(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_boundary(
        &self,
        request: Request<pb::GetBoundaryRequest>,
    ) -> Result<Response<pb::GetBoundaryResponse>, Status> {
        Ok(self.do_get_boundary(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn list_boundaries(
        &self,
        request: Request<pb::ListBoundariesRequest>,
    ) -> Result<Response<pb::ListBoundariesResponse>, Status> {
        Ok(self.do_list_boundaries(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn install_sign(
        &self,
        request: Request<pb::InstallSignRequest>,
    ) -> Result<Response<pb::InstallSignResponse>, Status> {
        Ok(self.do_install_sign(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn inspect_sign(
        &self,
        request: Request<pb::InspectSignRequest>,
    ) -> Result<Response<pb::InspectSignResponse>, Status> {
        Ok(self.do_inspect_sign(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn replace_sign(
        &self,
        request: Request<pb::ReplaceSignRequest>,
    ) -> Result<Response<pb::ReplaceSignResponse>, Status> {
        Ok(self.do_replace_sign(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn remove_sign(
        &self,
        request: Request<pb::RemoveSignRequest>,
    ) -> Result<Response<pb::RemoveSignResponse>, Status> {
        Ok(self.do_remove_sign(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn get_sign(
        &self,
        request: Request<pb::GetSignRequest>,
    ) -> Result<Response<pb::GetSignResponse>, Status> {
        Ok(self.do_get_sign(request).await?)
    }

    #[tracing::instrument(skip_all, err(level = tracing::Level::INFO))]
    async fn list_signs(
        &self,
        request: Request<pb::ListSignsRequest>,
    ) -> Result<Response<pb::ListSignsResponse>, Status> {
        Ok(self.do_list_signs(request).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_are_read_in_every_unit() {
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("3S"), Some(Duration::from_secs(3)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("x"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }

    #[test]
    fn pages_follow_each_other_without_gaps_or_repeats() {
        let request = |token: &str| {
            Some(common::PageRequest {
                page_size: 4,
                page_token: token.to_owned(),
            })
        };
        let (first, next) = page(0..10, &request("")).unwrap();
        assert_eq!(first, [0, 1, 2, 3]);
        let (second, next) = page(0..10, &request(&next.next_page_token)).unwrap();
        assert_eq!(second, [4, 5, 6, 7]);
        let (third, last) = page(0..10, &request(&next.next_page_token)).unwrap();
        assert_eq!(third, [8, 9]);
        assert!(last.next_page_token.is_empty());
        assert!(page(0..10, &request("x")).is_err());
    }
}
