//! The application layer: runs commands against the aggregates with the checks that need more
//! than one stream (existing divisions, sibling names), and turns an adjustment that took effect
//! into the division events that follow from it (the enactment).
//!
//! The enactment is what other services follow: `AdjustmentTookEffect` carries the whole
//! lineage, and each division involved then gets its own `DivisionRecorded`, `DivisionSuperseded`
//! or `DivisionRenamed`. It runs right after the adjustment's event is recorded, and again from
//! [`PlaceNames::enact_pending`] for any adjustment whose division events are missing (a crash in
//! between, say). Each division command carries an idempotency key derived from the adjustment,
//! so running it twice, or on two replicas at once, records each event once.

use std::sync::Arc;

use futures::{StreamExt as _, TryStreamExt as _, stream};
use minzheng_eventstore::SharedStore;
use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed, EventCodec, Repository},
    live::LiveView,
};
use minzheng_types::{BoundedText, RegionCode, RegionLevel};
use time::Date;

use crate::{
    AdjustmentId, PlaceNameId,
    adjustment::{self, Adjustment, DivisionRef},
    boundary::{self, Boundary},
    directory::Directory,
    division::{self, Division},
    ids::{BoundaryId, SignId},
    import,
    placename::{self, PlaceName},
    sign::{self, Sign},
};

/// Division commands an import runs at once (below the store's pool of 10 connections, so
/// that queries and the relay still get one).
const IMPORT_CONCURRENCY: usize = 8;
/// Import conflicts listed in the error message at most.
const CONFLICTS_SHOWN: usize = 10;

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub rows: usize,
    pub recorded: usize,
    pub unchanged: usize,
    /// The highest store position written (0 if none).
    pub position: u64,
}

/// The place-names application; cheap to clone.
#[derive(Debug, Clone)]
pub struct PlaceNames {
    divisions: Arc<Repository<Division>>,
    adjustments: Arc<Repository<Adjustment>>,
    place_names: Arc<Repository<PlaceName>>,
    boundaries: Arc<Repository<Boundary>>,
    signs: Arc<Repository<Sign>>,
    view: LiveView<Directory>,
}

impl PlaceNames {
    pub fn new(store: SharedStore) -> Self {
        Self {
            divisions: Arc::new(Repository::new(store.clone())),
            adjustments: Arc::new(Repository::new(store.clone())),
            place_names: Arc::new(Repository::new(store.clone())),
            boundaries: Arc::new(Repository::new(store.clone())),
            signs: Arc::new(Repository::new(store.clone())),
            view: LiveView::new(store, Directory::default()),
        }
    }

    /// The read model the queries use.
    pub fn view(&self) -> &LiveView<Directory> {
        &self.view
    }

    /// Checks a CSV file of divisions and records the new ones, parents first (see
    /// [`import`]). Nothing is recorded unless the whole file is acceptable and `authorize`
    /// accepts its rows.
    pub async fn import(
        &self,
        csv: &[u8],
        valid_from: Date,
        context: &CommandContext,
        authorize: impl FnOnce(&[import::Row]) -> Result<(), Error>,
    ) -> Result<ImportSummary, Error> {
        self.view.catch_up().await?;
        let (plan, seen) = {
            let directory = self.view.read().await;
            let rows = import::parse(csv, &directory)?;
            authorize(&rows)?;
            (
                import::plan(rows, &directory, valid_from),
                self.view.applied(),
            )
        };
        if !plan.conflicts.is_empty() {
            return Err(import_conflicts(&plan.conflicts));
        }
        let rows = plan.new.len() + plan.unchanged;
        let mut summary = ImportSummary {
            rows,
            recorded: 0,
            unchanged: plan.unchanged,
            // A file recorded already (a retry whose first answer was lost, say) answers where
            // the view stood when it found every row there: reading at it shows them all.
            position: seen.position,
        };
        // One command per division; the import's idempotency key cannot stand for each of
        // them (a key belongs to one stream), and recording the same facts twice records
        // nothing anyway.
        let context = CommandContext {
            idempotency_key: None,
            ..context.clone()
        };
        for level in RegionLevel::ALL {
            let commands: Vec<division::Record> = plan
                .new
                .iter()
                .filter(|row| row.level() == level)
                .map(|row| division::Record {
                    code: row.code,
                    name: row.name.clone(),
                    level,
                    parent: row.parent,
                    valid_from,
                    adjustment: None,
                })
                .collect();
            let outcomes: Vec<(RegionCode, Result<Committed, division::Error>)> =
                stream::iter(commands)
                    .map(|record| {
                        let context = &context;
                        async move {
                            let key = record.code;
                            let outcome = self
                                .divisions
                                .execute_new(
                                    &key,
                                    &division::Command::Record(record.clone()),
                                    context,
                                )
                                .await?;
                            Ok::<_, Error>((record.code, outcome))
                        }
                    })
                    .buffer_unordered(IMPORT_CONCURRENCY)
                    .try_collect()
                    .await?;
            for (code, outcome) in outcomes {
                match outcome {
                    Ok(committed) if committed.event_ids.is_empty() => summary.unchanged += 1,
                    Ok(committed) => {
                        summary.recorded += 1;
                        summary.position = summary.position.max(committed.position);
                    }
                    // Another import or an adjustment got there between the plan and now.
                    Err(refusal) => {
                        self.view.nudge();
                        return Err(Error::refused(
                            "import_conflicts",
                            format!(
                                "division {code} changed while the file was imported ({refusal}); \
                                 the rows before it are recorded, import the file again"
                            ),
                        ));
                    }
                }
            }
        }
        self.view.nudge();
        Ok(summary)
    }

    /// Proposes an adjustment after checking it against the recorded divisions.
    pub async fn propose(
        &self,
        propose: adjustment::Propose,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        self.view.catch_up().await?;
        {
            let directory = self.view.read().await;
            check_proposal(&directory, &propose)?;
        }
        let key = propose.id.clone();
        self.run_adjustment(&key, &adjustment::Command::Propose(propose), context)
            .await
    }

    /// The divisions an adjustment involves, before and after, as proposed: what scope checks
    /// look at. NOT_FOUND for an adjustment never proposed.
    pub async fn adjustment_divisions(&self, id: &AdjustmentId) -> Result<Vec<RegionCode>, Error> {
        let loaded = self.adjustments.load(id).await?;
        let proposal = loaded
            .state
            .proposal()
            .ok_or_else(|| Error::NotFound(format!("adjustment {id}")))?;
        Ok(proposal
            .before
            .iter()
            .chain(&proposal.after)
            .map(|d| d.code)
            .collect())
    }

    /// Runs a workflow command (review, approval, rejection) on an adjustment.
    pub async fn run_adjustment(
        &self,
        id: &AdjustmentId,
        command: &adjustment::Command,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let committed = self.adjustments.run(id, command, context).await?;
        self.view.nudge();
        Ok(committed)
    }

    /// Puts an approved adjustment into effect and enacts it; returns where the last event was
    /// recorded and the lineage.
    pub async fn put_into_effect(
        &self,
        id: &AdjustmentId,
        effective_on: Date,
        context: &CommandContext,
    ) -> Result<(Committed, adjustment::TookEffect), Error> {
        let command = adjustment::Command::TakeEffect(adjustment::TakeEffect { effective_on });
        let mut committed = self.adjustments.run(id, &command, context).await?;
        let took_effect = self.took_effect(id, committed.stream_version).await?;
        let position = self.enact(&took_effect, context).await?;
        committed.position = committed.position.max(position);
        self.view.nudge();
        Ok((committed, took_effect))
    }

    /// The `AdjustmentTookEffect` event at `version` of adjustment `id`.
    async fn took_effect(
        &self,
        id: &AdjustmentId,
        version: u64,
    ) -> Result<adjustment::TookEffect, Error> {
        let stream = self.adjustments.stream_id(id)?;
        let events = self
            .adjustments
            .store()
            .read_stream(&stream, version, 1)
            .await?;
        let recorded = events.first().ok_or_else(|| {
            Error::internal(anyhow::anyhow!("adjustment {id} lost version {version}"))
        })?;
        match adjustment::Event::decode(
            &recorded.event_type,
            recorded.schema_version,
            &recorded.payload,
        )
        .map_err(Error::internal)?
        {
            adjustment::Event::TookEffect(took_effect) => Ok(took_effect),
            _ => Err(Error::internal(anyhow::anyhow!(
                "adjustment {id} version {version} is not AdjustmentTookEffect"
            ))),
        }
    }

    /// Records the division events that follow from `took_effect`: established divisions first
    /// (so that successors exist before anything points at them), then supersessions, then
    /// renames. Returns the highest position written (0 if everything was recorded before).
    pub async fn enact(
        &self,
        took_effect: &adjustment::TookEffect,
        context: &CommandContext,
    ) -> Result<u64, Error> {
        let id = &took_effect.id;
        let parents: Vec<(RegionCode, Option<RegionCode>)> = {
            let directory = self.view.read().await;
            took_effect
                .established
                .iter()
                .map(|d| (d.code, parent_of_new(&directory, d, took_effect)))
                .collect()
        };
        let mut commands = Vec::new();
        for (d, (_, parent)) in took_effect.established.iter().zip(parents) {
            commands.push((
                d.code,
                "record",
                division::Command::Record(division::Record {
                    code: d.code,
                    name: d.name.clone(),
                    level: d.code.level(),
                    parent,
                    valid_from: took_effect.effective_on,
                    adjustment: Some(id.clone()),
                }),
            ));
        }
        for s in &took_effect.superseded {
            commands.push((
                s.code,
                "supersede",
                division::Command::Supersede(division::Supersede {
                    successors: s.successors.clone(),
                    valid_to: s.valid_to,
                    adjustment: id.clone(),
                }),
            ));
        }
        for r in &took_effect.renamed {
            commands.push((
                r.code,
                "rename",
                division::Command::Rename(division::Rename {
                    name: r.name.clone(),
                    effective_on: took_effect.effective_on,
                    adjustment: id.clone(),
                }),
            ));
        }
        let mut position = 0;
        for (code, what, command) in commands {
            let context = context
                .clone()
                .with_idempotency_key(format!("enact:{id}:{what}:{code}"));
            let committed = self.divisions.run(&code, &command, &context).await?;
            position = position.max(committed.position);
        }
        Ok(position)
    }

    /// Enacts every adjustment in effect whose division events are missing.
    pub async fn enact_pending(&self) -> Result<usize, Error> {
        let pending = self.view.read().await.pending_enactments();
        for took_effect in &pending {
            tracing::info!(adjustment = %took_effect.id, "enacting an adjustment whose division events are missing");
            self.enact(took_effect, &CommandContext::new()).await?;
        }
        if !pending.is_empty() {
            self.view.nudge();
        }
        Ok(pending.len())
    }
}

impl PlaceNames {
    /// Proposes a place name after checking that its division is recorded and valid, and, for a
    /// renaming, that the name it replaces is a standard name now.
    pub async fn propose_place_name(
        &self,
        propose: placename::Propose,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        self.view.catch_up().await?;
        {
            let directory = self.view.read().await;
            let valid = directory
                .division(propose.region)
                .is_some_and(|d| d.valid_on(propose.proposed_on));
            if !valid {
                return Err(Error::refused(
                    "division_not_valid",
                    format!(
                        "division {} is not recorded or not valid on {}",
                        propose.region, propose.proposed_on
                    ),
                ));
            }
            if let Some(replaced) = &propose.replaces {
                let standard = directory
                    .place_name(replaced.as_str())
                    .is_some_and(|p| matches!(p.status, placename::Status::Published { .. }));
                if !standard {
                    return Err(Error::refused(
                        "replaced_name_not_standard",
                        format!("{replaced} is not a published standard name"),
                    ));
                }
            }
        }
        let id = propose.id.clone();
        self.run_place_name(&id, &placename::Command::Propose(propose), context)
            .await
    }

    /// The division a place name lies in, as proposed: what scope checks look at. NOT_FOUND for
    /// a place name never proposed.
    pub async fn place_name_region(&self, id: &PlaceNameId) -> Result<RegionCode, Error> {
        let loaded = self.place_names.load(id).await?;
        loaded
            .state
            .proposal()
            .map(|p| p.region)
            .ok_or_else(|| Error::NotFound(format!("place name {id}")))
    }

    /// Runs a workflow command on a place name. Publishing a renaming also retires the name it
    /// replaces, from the same day.
    pub async fn run_place_name(
        &self,
        id: &PlaceNameId,
        command: &placename::Command,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let mut committed = self.place_names.run(id, command, context).await?;
        if let placename::Command::Publish(publish) = command {
            let loaded = self.place_names.load(id).await?;
            if let Some(proposal) = loaded.state.proposal()
                && let Some(replaced) = &proposal.replaces
            {
                let retire = placename::Command::Retire(placename::Retire {
                    retired_on: publish.published_on,
                    reason: BoundedText::parse(&format!("更名为{}", proposal.name.as_str()), 2_000)
                        .unwrap_or_else(|_| proposal.name.clone()),
                });
                let context = context
                    .clone()
                    .with_idempotency_key(format!("rename:{id}:retire:{replaced}"));
                match self
                    .place_names
                    .execute(replaced, &retire, &context)
                    .await?
                {
                    Ok(retired) => committed.position = committed.position.max(retired.position),
                    // Retired meanwhile by hand: nothing left to do.
                    Err(placename::Error::Closed) => {}
                    Err(refusal) => return Err(Error::from_refusal(&refusal)),
                }
            }
        }
        self.view.nudge();
        Ok(committed)
    }
}

impl PlaceNames {
    /// Records a boundary after checking that both divisions are recorded and valid on the day.
    pub async fn record_boundary(
        &self,
        record: boundary::RecordBoundary,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        self.view.catch_up().await?;
        {
            let directory = self.view.read().await;
            for side in record.between {
                if !directory
                    .division(side)
                    .is_some_and(|d| d.valid_on(record.recorded_on))
                {
                    return Err(Error::refused(
                        "division_not_valid",
                        format!(
                            "division {side} is not recorded or not valid on {}",
                            record.recorded_on
                        ),
                    ));
                }
            }
        }
        let key = record.id.clone();
        self.run_boundary(&key, &boundary::Command::RecordBoundary(record), context)
            .await
    }

    /// The two divisions of a boundary: what scope checks look at.
    pub async fn boundary_sides(&self, id: &BoundaryId) -> Result<[RegionCode; 2], Error> {
        let loaded = self.boundaries.load(id).await?;
        loaded
            .state
            .recorded()
            .map(|r| r.between)
            .ok_or_else(|| Error::NotFound(format!("boundary {id}")))
    }

    /// Runs an inspection command on a boundary.
    pub async fn run_boundary(
        &self,
        id: &BoundaryId,
        command: &boundary::Command,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let committed = self.boundaries.run(id, command, context).await?;
        self.view.nudge();
        Ok(committed)
    }

    /// Records a sign after checking that its place name is a standard name on the day and that
    /// its text shows that name.
    pub async fn install_sign(
        &self,
        install: sign::InstallSign,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        self.view.catch_up().await?;
        {
            let directory = self.view.read().await;
            let Some(place_name) = directory.place_name(install.place_name.as_str()) else {
                return Err(Error::NotFound(format!(
                    "place name {}",
                    install.place_name
                )));
            };
            if !place_name.standard_on(install.installed_on) {
                return Err(Error::refused(
                    "place_name_not_standard",
                    format!(
                        "{} is not a standard name on {}",
                        install.place_name, install.installed_on
                    ),
                ));
            }
            if !install
                .text
                .as_str()
                .contains(place_name.proposal.name.as_str())
            {
                return Err(Error::refused(
                    "sign_text_differs",
                    format!(
                        "the sign's text must show the standard name {:?}",
                        place_name.proposal.name.as_str()
                    ),
                ));
            }
        }
        let key = install.id.clone();
        self.run_sign(&key, &sign::Command::InstallSign(install), context)
            .await
    }

    /// The division of the place name a sign shows: what scope checks look at.
    pub async fn sign_region(&self, id: &SignId) -> Result<RegionCode, Error> {
        let loaded = self.signs.load(id).await?;
        let place_name = loaded
            .state
            .state()
            .map(|s| s.place_name.clone())
            .ok_or_else(|| Error::NotFound(format!("sign {id}")))?;
        self.place_name_region(&place_name).await
    }

    /// Runs a command on a sign.
    pub async fn run_sign(
        &self,
        id: &SignId,
        command: &sign::Command,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let committed = self.signs.run(id, command, context).await?;
        self.view.nudge();
        Ok(committed)
    }
}

/// The parent a division an adjustment establishes gets: the division its code names as parent
/// if that is recorded; otherwise the parent of a division it replaces that encloses it (a
/// county administered by its province); otherwise the computed parent.
fn parent_of_new(
    directory: &Directory,
    established: &DivisionRef,
    took_effect: &adjustment::TookEffect,
) -> Option<RegionCode> {
    let computed = established.code.parent();
    if computed.is_some_and(|p| directory.division(p).is_some()) {
        return computed;
    }
    took_effect
        .superseded
        .iter()
        .filter_map(|s| directory.division(s.code)?.parent)
        .find(|&parent| division::encloses(Some(parent), established.code))
        .or(computed)
}

/// The checks a proposal needs beyond its own stream: the divisions before it are recorded,
/// valid and named as recorded; new codes are unused; no name after it is taken by a sibling.
fn check_proposal(directory: &Directory, propose: &adjustment::Propose) -> Result<(), Error> {
    let day = propose.proposed_on;
    for d in &propose.before {
        let Some(recorded) = directory.division(d.code) else {
            return Err(Error::refused(
                "division_not_recorded",
                format!("division {} is not recorded", d.code),
            ));
        };
        if recorded.is_retired() {
            return Err(Error::refused(
                "division_retired",
                format!("division {} has been superseded", d.code),
            ));
        }
        if recorded.name() != &d.name {
            return Err(Error::refused(
                "division_name_differs",
                format!(
                    "division {} is recorded as {:?}, not {:?}",
                    d.code,
                    recorded.name().as_str(),
                    d.name.as_str()
                ),
            ));
        }
    }
    let before: Vec<RegionCode> = propose.before.iter().map(|d| d.code).collect();
    for d in &propose.after {
        if !before.contains(&d.code) && directory.division(d.code).is_some() {
            return Err(Error::refused(
                "code_in_use",
                format!(
                    "code {} is already recorded; a new division needs a new code",
                    d.code
                ),
            ));
        }
        let parent = directory
            .division(d.code)
            .map(|recorded| recorded.parent)
            .unwrap_or_else(|| d.code.parent());
        if let Some(other) = directory.sibling_named(parent, d.name.as_str(), day, &before) {
            return Err(Error::refused(
                "name_taken",
                format!(
                    "{:?} is the name of division {} under the same parent",
                    d.name.as_str(),
                    other.code
                ),
            ));
        }
    }
    Ok(())
}

fn import_conflicts(conflicts: &[(usize, String)]) -> Error {
    let shown: Vec<String> = conflicts
        .iter()
        .take(CONFLICTS_SHOWN)
        .map(|(line, why)| format!("line {line}: {why}"))
        .collect();
    let more = conflicts.len().saturating_sub(CONFLICTS_SHOWN);
    Error::refused(
        "import_conflicts",
        format!(
            "{} row(s) contradict recorded divisions, nothing was imported: {}{}",
            conflicts.len(),
            shown.join("; "),
            if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            }
        ),
    )
}

#[cfg(test)]
mod tests {
    use minzheng_types::BoundedText;
    use time::macros::date;

    use super::*;
    use crate::adjustment::Kind;

    fn code(digits: &str) -> RegionCode {
        RegionCode::parse(digits).unwrap()
    }

    fn name(text: &str) -> BoundedText {
        BoundedText::parse(text, 50).unwrap()
    }

    fn reference(digits: &str, text: &str) -> DivisionRef {
        DivisionRef {
            code: code(digits),
            name: name(text),
        }
    }

    /// 桓仁满族自治县 with three of its towns, one of them superseded.
    fn directory() -> Directory {
        let mut directory = Directory::default();
        let record = |digits: &str, text: &str, parent: Option<&str>| {
            division::Event::Recorded(division::Recorded {
                code: code(digits),
                name: name(text),
                parent: parent.map(code),
                valid_from: date!(2023 - 06 - 30),
                adjustment: None,
            })
        };
        for event in [
            record("210522000000", "桓仁满族自治县", None),
            record("210522101000", "普乐堡镇", Some("210522000000")),
            record("210522102000", "二棚甸子镇", Some("210522000000")),
            record("210522103000", "沙尖子镇", Some("210522000000")),
            division::Event::Superseded(division::Superseded {
                code: code("210522103000"),
                successors: vec![code("210522101000")],
                valid_to: date!(2024 - 07 - 01),
                adjustment: crate::AdjustmentId::parse("old").unwrap(),
            }),
        ] {
            directory.apply_division(event);
        }
        directory
    }

    fn rename(before: DivisionRef, after: DivisionRef) -> adjustment::Propose {
        adjustment::Propose {
            id: crate::AdjustmentId::parse("A-1").unwrap(),
            kind: Kind::Rename,
            before: vec![before],
            after: vec![after],
            justification: BoundedText::parse("理由", 2_000).unwrap(),
            proposed_on: date!(2025 - 01 - 10),
        }
    }

    fn refusal(propose: &adjustment::Propose) -> String {
        match check_proposal(&directory(), propose) {
            Err(Error::FailedPrecondition { rule, .. }) => rule,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_name_is_unique_among_siblings() {
        let taken = rename(
            reference("210522101000", "普乐堡镇"),
            reference("210522101000", "二棚甸子镇"),
        );
        assert_eq!(refusal(&taken), "name_taken");
        // The name of a sibling that no longer stands is free again.
        let free = rename(
            reference("210522101000", "普乐堡镇"),
            reference("210522101000", "沙尖子镇"),
        );
        assert!(check_proposal(&directory(), &free).is_ok());
    }

    #[test]
    fn the_divisions_before_must_be_recorded_valid_and_named_as_recorded() {
        let unknown = rename(
            reference("210522199000", "某镇"),
            reference("210522199000", "新镇"),
        );
        assert_eq!(refusal(&unknown), "division_not_recorded");
        let retired = rename(
            reference("210522103000", "沙尖子镇"),
            reference("210522103000", "新镇"),
        );
        assert_eq!(refusal(&retired), "division_retired");
        let misnamed = rename(
            reference("210522101000", "普乐堡乡"),
            reference("210522101000", "新镇"),
        );
        assert_eq!(refusal(&misnamed), "division_name_differs");
    }

    #[test]
    fn a_new_division_needs_an_unused_code() {
        let recode = adjustment::Propose {
            kind: Kind::Recode,
            ..rename(
                reference("210522101000", "普乐堡镇"),
                reference("210522102000", "普乐堡镇"),
            )
        };
        assert_eq!(refusal(&recode), "code_in_use");
    }
}
