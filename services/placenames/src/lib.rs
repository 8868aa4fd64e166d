//! The place-names service (区划地名): administrative divisions (行政区划), their adjustments
//! (行政区划调整), standard place names (标准地名), boundary lines and place-name signs, following
//! chapter 6 of Benxi's 2021–2025 civil-affairs plan and `DOMAIN.md` §5.
//!
//! The pure domain (no IO, no clock):
//!
//! - [`division`]: the **division** aggregate (stream `division-<12-digit code>`). The import of
//!   the statistical division codes records divisions idempotently; adjustments rename and
//!   supersede them. A division is never deleted: it keeps `valid_from`, `valid_to` and the
//!   codes that superseded it.
//! - [`adjustment`]: the **adjustment** aggregate (stream `adjustment-<id>`): propose a rename
//!   (更名), merger (合并), split (拆分), change of type (撤乡设镇, 撤乡镇设街道) or recode; record
//!   the expert review (专家论证), risk assessment (风险评估) and public opinion (征求意见);
//!   approve or reject; take effect from a date, with an event that carries the full lineage.
//! - [`lineage`]: a pure resolver that follows supersessions from an old code to the divisions
//!   that currently stand in its place, so a case filed under an old code still resolves after a
//!   merger.
//! - [`placename`]: the **place-name** aggregate (stream `placename-<id>`) for roads, bridges,
//!   residential areas and natural features: propose with pinyin, evaluation (评估论证), a public
//!   comment period (征求意见), approval or rejection, publication as a standard name (标准地名),
//!   and retirement that keeps the history.
//! - [`boundary`]: the **boundary-line** aggregate (stream `boundary-<id>`) for a boundary
//!   (行政区域界线) between two divisions of one level and its joint inspection rounds
//!   (界线联合检查, 联检): consecutive rounds, findings recorded while a round is open and resolved
//!   later, completion with a conclusion.
//! - [`sign`]: the **place-name sign** aggregate (stream `sign-<id>`): a sign (地名标志) showing a
//!   standard name is installed, inspected (good, damaged, missing), replaced and removed, its
//!   history kept.
//! - [`codec`]: the only module that knows the protobuf event messages
//!   (`proto/minzheng/placenames/v1/events.proto`); the domain never sees prost types.
//!
//! - [`pinyin`]: the form of a pinyin spelling and the search key it is found by.
//!
//! Aggregates do no IO and read no clock: dates and ids arrive in commands, parsed into
//! `minzheng-types` values at the edge.
//!
//! Around it:
//!
//! - [`import`]: the CSV of statistical division codes, checked whole before anything is
//!   recorded.
//! - [`directory`]: the in-memory read model every query answers from, following the service's
//!   own store (divisions with their name history and lineage, adjustments, place names by name
//!   and pinyin, boundaries, signs).
//! - [`app`]: commands with the checks that need more than one stream, and the enactment of an
//!   adjustment into division events.
//! - [`grpc`]: the gRPC service, `minzheng.placenames.v1.PlaceNamesService`.
//! - [`module`]: the [`minzheng_host::ServiceModule`] a host runs, with the Benxi seed for
//!   `minzheng dev`.
//!
//! Not yet: pinyin computed from the characters (it comes with the proposal, written by someone
//! who knows the local reading); villages re-coded after their township merges (they keep their
//! codes and are listed under the successor); changes of a boundary's course after an
//! adjustment (界线变更).

pub mod adjustment;
pub mod app;
pub mod boundary;
pub mod codec;
pub mod directory;
pub mod division;
pub mod grpc;
pub mod ids;
pub mod import;
pub mod lineage;
pub mod module;
pub mod pinyin;
pub mod placename;
pub mod sign;

pub use ids::{AdjustmentId, PlaceNameId};
pub use module::{BENXI, Module, Seed};

/// Longest accepted division name, in characters. The longest real names (autonomous counties,
/// 满族自治县) are well under this.
pub const NAME_MAX_CHARS: usize = 50;
