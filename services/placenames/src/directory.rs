//! The directory: the service's in-memory read model of divisions and adjustments, kept current
//! from its own store by [`minzheng_kit::live::LiveView`].
//!
//! Divisions are reference data every request of every service looks up, so the whole tree lives
//! in memory (a province has about 18,000 divisions; the whole country about 700,000) with the
//! indexes the queries need: by code, by parent, by every name a division has had, and the
//! [`Lineage`] the resolver follows. Nothing is ever removed: a superseded division keeps its
//! entry, its names and its successors, so every query can be asked "as of" any day.
//!
//! Adjustments are kept as their events, which is what `GetAdjustment` shows.
//! Place names are indexed by name and by pinyin search key (see [`crate::pinyin`]), the public
//! place-name database's two ways in.
//!
//! The directory receives the store's events decoded ([`codec::OwnStore`]); it never sees a
//! type string or a payload.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Context as _;
use minzheng_eventstore::RecordedEvent;
use minzheng_kit::{aggregate::Aggregate, live::LiveProjection};
use minzheng_types::{BoundedText, RegionCode, RegionLevel};
use time::Date;

use crate::{
    PlaceNameId,
    adjustment::{self, Renaming, Supersession},
    boundary::{self, Boundary},
    codec::{self, Recorded},
    division,
    lineage::{DivisionRecord, Lineage},
    pinyin,
    placename::{self, Status},
    sign::{self, Sign},
};

/// One division as the directory knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DivisionEntry {
    pub code: RegionCode,
    pub parent: Option<RegionCode>,
    /// Every name, with the first day it applied, oldest first; never empty.
    pub names: Vec<(Date, BoundedText)>,
    pub valid_from: Date,
    /// The first day it is no longer valid, once superseded.
    pub valid_to: Option<Date>,
    pub superseded_by: Vec<RegionCode>,
}

impl DivisionEntry {
    pub fn level(&self) -> RegionLevel {
        self.code.level()
    }

    /// The name on `day`: the latest name that began on or before it, the first name before
    /// the division began.
    pub fn name_on(&self, day: Date) -> &BoundedText {
        &self
            .names
            .iter()
            .rev()
            .find(|(from, _)| *from <= day)
            .unwrap_or(&self.names[0])
            .1
    }

    /// The current name.
    pub fn name(&self) -> &BoundedText {
        &self.names[self.names.len() - 1].1
    }

    /// Whether the division is valid on `day`.
    pub fn valid_on(&self, day: Date) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|to| day < to)
    }

    /// Whether it has been superseded (at any date, past or future).
    pub fn is_retired(&self) -> bool {
        self.valid_to.is_some()
    }

    fn lineage_record(&self) -> DivisionRecord {
        DivisionRecord {
            code: self.code,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            superseded_by: self.superseded_by.clone(),
        }
    }
}

/// One adjustment, as its events recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdjustmentEntry {
    pub proposal: adjustment::Proposed,
    pub reviews: Vec<adjustment::ReviewRecorded>,
    pub approval: Option<adjustment::Approved>,
    pub rejection: Option<adjustment::Rejected>,
    /// The lineage it enacted, once in effect.
    pub took_effect: Option<adjustment::TookEffect>,
}

/// Where an adjustment stands, as `GetAdjustment` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdjustmentStatus {
    Proposed,
    Approved,
    Rejected,
    InEffect,
}

impl AdjustmentEntry {
    pub fn status(&self) -> AdjustmentStatus {
        if self.took_effect.is_some() {
            AdjustmentStatus::InEffect
        } else if self.rejection.is_some() {
            AdjustmentStatus::Rejected
        } else if self.approval.is_some() {
            AdjustmentStatus::Approved
        } else {
            AdjustmentStatus::Proposed
        }
    }
}

/// One place name, as its events recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceNameEntry {
    pub proposal: placename::Proposed,
    pub status: Status,
    pub comments: u32,
    /// The first day it was standard, once published (kept after retirement).
    pub published: Option<Date>,
    /// The name that replaced this one (a renaming), once that one was published.
    pub replaced_by: Option<PlaceNameId>,
}

impl PlaceNameEntry {
    /// Whether it was the standard name on `day`.
    pub fn standard_on(&self, day: Date) -> bool {
        match self.status {
            Status::Published { on } => on <= day,
            Status::Retired { on } => self.published_on().is_some_and(|p| p <= day) && day < on,
            _ => false,
        }
    }

    /// Whether it is (or was) a standard name: public information.
    pub fn is_standard(&self) -> bool {
        matches!(
            self.status,
            Status::Published { .. } | Status::Retired { .. }
        )
    }

    pub fn published_on(&self) -> Option<Date> {
        self.published
    }
}

/// The read model.
#[derive(Debug, Default)]
pub struct Directory {
    divisions: HashMap<RegionCode, DivisionEntry>,
    /// Parent → every division ever recorded under it.
    children: HashMap<RegionCode, BTreeSet<RegionCode>>,
    /// Successor → the divisions superseded by it.
    predecessors: HashMap<RegionCode, Vec<RegionCode>>,
    /// Every name any division has had → those divisions.
    names: BTreeMap<String, BTreeSet<RegionCode>>,
    lineage: Lineage,
    adjustments: HashMap<String, AdjustmentEntry>,
    /// Adjustments in effect, in the order they took effect.
    in_effect: Vec<String>,
    place_names: HashMap<String, PlaceNameEntry>,
    /// Place names by name and by pinyin search key → ids.
    place_name_keys: BTreeMap<String, BTreeSet<String>>,
    /// Boundary lines and signs, as their aggregates' states (folded by the same `apply`).
    boundaries: BTreeMap<String, Boundary>,
    signs: BTreeMap<String, Sign>,
    /// Place name id → its signs.
    signs_by_place_name: HashMap<String, BTreeSet<String>>,
}

impl Directory {
    pub fn division(&self, code: RegionCode) -> Option<&DivisionEntry> {
        self.divisions.get(&code)
    }

    pub fn len(&self) -> usize {
        self.divisions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.divisions.is_empty()
    }

    /// The divisions under `parent` valid on `day`, by code: its own children, and those of
    /// divisions merged into it by then (a township merged into a town leaves its villages
    /// recorded under the old township, but they now lie in the town). Children of a division
    /// split between several successors are not attributed to any of them.
    pub fn children_on(&self, parent: RegionCode, day: Date) -> Vec<&DivisionEntry> {
        let mut parents = vec![parent];
        let mut i = 0;
        while let Some(&current) = parents.get(i) {
            i += 1;
            for &predecessor in self.predecessors.get(&current).into_iter().flatten() {
                let merged = self.divisions.get(&predecessor).is_some_and(|d| {
                    d.superseded_by == [current] && d.valid_to.is_some_and(|to| to <= day)
                });
                if merged && !parents.contains(&predecessor) {
                    parents.push(predecessor);
                }
            }
        }
        let mut children: Vec<&DivisionEntry> = parents
            .iter()
            .filter_map(|p| self.children.get(p))
            .flatten()
            .filter_map(|code| self.divisions.get(code))
            .filter(|d| d.valid_on(day))
            .collect();
        children.sort_by_key(|d| d.code);
        children
    }

    /// Another division under `parent`, valid on `day`, named `name` on that day, other than
    /// those in `except`.
    pub fn sibling_named(
        &self,
        parent: Option<RegionCode>,
        name: &str,
        day: Date,
        except: &[RegionCode],
    ) -> Option<&DivisionEntry> {
        self.names
            .get(name)
            .into_iter()
            .flatten()
            .filter(|code| !except.contains(code))
            .filter_map(|code| self.divisions.get(code))
            .find(|d| d.parent == parent && d.valid_on(day) && d.name_on(day).as_str() == name)
    }

    /// Divisions valid on `day` whose name that day starts with `prefix`, within `within` (if
    /// given), by name then code.
    pub fn search(
        &self,
        prefix: &str,
        within: Option<RegionCode>,
        day: Date,
    ) -> impl Iterator<Item = &DivisionEntry> {
        let mut seen = BTreeSet::new();
        self.names
            .range(prefix.to_owned()..)
            .take_while(move |(name, _)| name.starts_with(prefix))
            .flat_map(|(_, codes)| codes.iter())
            .filter_map(|code| self.divisions.get(code))
            .filter(move |d| {
                d.valid_on(day)
                    && d.name_on(day).as_str().starts_with(prefix)
                    && within.is_none_or(|w| w.contains(d.code))
            })
            // A division renamed within the prefix is listed under both names.
            .filter(move |d| seen.insert((d.name_on(day).as_str().to_owned(), d.code)))
    }

    /// What `code` means on `day` (see [`Lineage::resolve`]).
    pub fn resolve(&self, code: RegionCode, day: Date) -> Vec<RegionCode> {
        self.lineage.resolve(code, day)
    }

    pub fn adjustment(&self, id: &str) -> Option<&AdjustmentEntry> {
        self.adjustments.get(id)
    }

    /// Adjustments in effect whose consequences the division streams do not show yet: a crash
    /// between recording `AdjustmentTookEffect` and the division events, or another replica
    /// still working on it. Enacting them again is harmless.
    pub fn pending_enactments(&self) -> Vec<adjustment::TookEffect> {
        self.in_effect
            .iter()
            .filter_map(|id| self.adjustments.get(id)?.took_effect.as_ref())
            .filter(|took_effect| !self.shows(took_effect))
            .cloned()
            .collect()
    }

    /// Whether every division event `took_effect` leads to has been applied.
    fn shows(&self, took_effect: &adjustment::TookEffect) -> bool {
        let superseded = took_effect
            .superseded
            .iter()
            .all(|Supersession { code, .. }| {
                self.divisions.get(code).is_some_and(|d| d.is_retired())
            });
        let established = took_effect
            .established
            .iter()
            .all(|d| self.divisions.contains_key(&d.code));
        let renamed = took_effect
            .renamed
            .iter()
            .all(|Renaming { code, name, .. }| {
                self.divisions.get(code).is_some_and(|d| {
                    d.names
                        .iter()
                        .any(|(from, n)| n == name && *from == took_effect.effective_on)
                })
            });
        superseded && established && renamed
    }

    pub fn place_name(&self, id: &str) -> Option<&PlaceNameEntry> {
        self.place_names.get(id)
    }

    /// Standard names valid on `day` whose name, or pinyin, starts with `prefix` (pinyin
    /// compared by search key), within `within` if given; by name then id.
    pub fn search_place_names(
        &self,
        prefix: &str,
        within: Option<RegionCode>,
        day: Date,
    ) -> Vec<&PlaceNameEntry> {
        let key = if pinyin::is_pinyin_query(prefix) {
            pinyin::search_key(prefix)
        } else {
            prefix.to_owned()
        };
        let mut found: Vec<&PlaceNameEntry> = self
            .place_name_keys
            .range(key.clone()..)
            .take_while(|(k, _)| k.starts_with(&key))
            .flat_map(|(_, ids)| ids.iter())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter_map(|id| self.place_names.get(id))
            .filter(|p| p.standard_on(day) && within.is_none_or(|w| w.contains(p.proposal.region)))
            .collect();
        found.sort_by(|a, b| {
            (a.proposal.name.as_str(), a.proposal.id.as_str())
                .cmp(&(b.proposal.name.as_str(), b.proposal.id.as_str()))
        });
        found
    }

    pub fn boundary(&self, id: &str) -> Option<&Boundary> {
        self.boundaries.get(id)
    }

    /// Boundaries with a side within `within`, by id.
    pub fn boundaries_within(
        &self,
        within: RegionCode,
    ) -> impl Iterator<Item = (&String, &Boundary)> {
        self.boundaries.iter().filter(move |(_, b)| {
            b.recorded()
                .is_some_and(|r| r.between.iter().any(|&side| within.contains(side)))
        })
    }

    pub fn sign(&self, id: &str) -> Option<&Sign> {
        self.signs.get(id)
    }

    /// The signs of a place name, by id.
    pub fn signs_of(&self, place_name: &str) -> impl Iterator<Item = &Sign> {
        self.signs_by_place_name
            .get(place_name)
            .into_iter()
            .flatten()
            .filter_map(|id| self.signs.get(id))
    }

    fn apply_boundary(&mut self, key: &str, event: &boundary::Event) {
        let state = self.boundaries.remove(key).unwrap_or_default();
        self.boundaries.insert(key.to_owned(), state.apply(event));
    }

    fn apply_sign(&mut self, key: &str, event: &sign::Event) {
        if let sign::Event::Installed(e) = event {
            self.signs_by_place_name
                .entry(e.place_name.as_str().to_owned())
                .or_default()
                .insert(key.to_owned());
        }
        let state = self.signs.remove(key).unwrap_or_default();
        self.signs.insert(key.to_owned(), state.apply(event));
    }

    fn apply_place_name(&mut self, event: placename::Event) {
        use placename::Event as E;
        if let E::Proposed(proposal) = event {
            let id = proposal.id.as_str().to_owned();
            for key in [
                proposal.name.as_str().to_owned(),
                pinyin::search_key(proposal.pinyin.as_str()),
            ] {
                self.place_name_keys
                    .entry(key)
                    .or_default()
                    .insert(id.clone());
            }
            self.place_names.insert(
                id,
                PlaceNameEntry {
                    proposal,
                    status: Status::Proposed,
                    comments: 0,
                    published: None,
                    replaced_by: None,
                },
            );
            return;
        }
        let (id, status) = match &event {
            E::Proposed(_) => return,
            E::Evaluated(e) => (&e.id, None),
            E::CommentPeriodOpened(e) => (&e.id, None),
            E::CommentRecorded(e) => (&e.id, None),
            E::CommentPeriodClosed(e) => (&e.id, None),
            E::Approved(e) => (&e.id, Some(Status::Approved { on: e.approved_on })),
            E::Rejected(e) => (&e.id, Some(Status::Rejected)),
            E::Published(e) => (&e.id, Some(Status::Published { on: e.published_on })),
            E::Retired(e) => (&e.id, Some(Status::Retired { on: e.retired_on })),
        };
        let Some(entry) = self.place_names.get_mut(id.as_str()) else {
            return;
        };
        if let Some(status) = status {
            entry.status = status;
        }
        match &event {
            E::CommentRecorded(_) => entry.comments += 1,
            E::CommentPeriodClosed(e) => entry.comments = e.comment_count,
            E::Published(e) => {
                entry.published = Some(e.published_on);
                if let Some(replaced) = entry.proposal.replaces.clone()
                    && let Some(old) = self.place_names.get_mut(replaced.as_str())
                {
                    old.replaced_by = Some(e.id.clone());
                }
            }
            _ => {}
        }
    }

    pub(crate) fn apply_division(&mut self, event: division::Event) {
        match event {
            division::Event::Recorded(e) => {
                let entry = DivisionEntry {
                    code: e.code,
                    parent: e.parent,
                    names: vec![(e.valid_from, e.name.clone())],
                    valid_from: e.valid_from,
                    valid_to: None,
                    superseded_by: Vec::new(),
                };
                if let Some(parent) = e.parent {
                    self.children.entry(parent).or_default().insert(e.code);
                }
                self.index_name(&e.name, e.code);
                self.lineage.insert(entry.lineage_record());
                self.divisions.insert(e.code, entry);
            }
            division::Event::Renamed(e) => {
                if let Some(entry) = self.divisions.get_mut(&e.code) {
                    entry.names.push((e.effective_on, e.name.clone()));
                    entry.names.sort_by_key(|(from, _)| *from);
                }
                self.index_name(&e.name, e.code);
            }
            division::Event::Superseded(e) => {
                if let Some(entry) = self.divisions.get_mut(&e.code) {
                    for &successor in &e.successors {
                        self.predecessors.entry(successor).or_default().push(e.code);
                    }
                    entry.valid_to = Some(e.valid_to);
                    entry.superseded_by = e.successors;
                    self.lineage.insert(entry.lineage_record());
                }
            }
        }
    }

    fn index_name(&mut self, name: &BoundedText, code: RegionCode) {
        self.names
            .entry(name.as_str().to_owned())
            .or_default()
            .insert(code);
    }

    /// Folds an event of the adjustment stream keyed `id`.
    fn apply_adjustment(&mut self, id: &str, event: adjustment::Event) -> anyhow::Result<()> {
        match event {
            adjustment::Event::Proposed(proposal) => {
                self.adjustments.insert(
                    id.to_owned(),
                    AdjustmentEntry {
                        proposal,
                        reviews: Vec::new(),
                        approval: None,
                        rejection: None,
                        took_effect: None,
                    },
                );
            }
            adjustment::Event::ReviewRecorded(review) => {
                self.entry(id)?.reviews.push(review);
            }
            adjustment::Event::Approved(approval) => {
                self.entry(id)?.approval = Some(approval);
            }
            adjustment::Event::Rejected(rejection) => {
                self.entry(id)?.rejection = Some(rejection);
            }
            adjustment::Event::TookEffect(took_effect) => {
                self.entry(id)?.took_effect = Some(took_effect);
                self.in_effect.push(id.to_owned());
            }
        }
        Ok(())
    }

    fn entry(&mut self, id: &str) -> anyhow::Result<&mut AdjustmentEntry> {
        self.adjustments
            .get_mut(id)
            .with_context(|| format!("adjustment {id} has events before its proposal"))
    }
}

impl LiveProjection for Directory {
    type Contract = codec::OwnStore;

    fn apply(&mut self, event: Recorded, recorded: &RecordedEvent) -> anyhow::Result<()> {
        match event {
            Recorded::Division(e) => self.apply_division(e),
            Recorded::Adjustment(e) => self.apply_adjustment(recorded.stream.key(), e)?,
            Recorded::PlaceName(e) => self.apply_place_name(e),
            Recorded::Boundary(e) => self.apply_boundary(recorded.stream.key(), &e),
            Recorded::Sign(e) => self.apply_sign(recorded.stream.key(), &e),
        }
        Ok(())
    }
}
