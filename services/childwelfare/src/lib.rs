//! The child-welfare service (儿童福利与未成年人保护), following chapter 5 §1 and box 5 of Benxi's
//! 2021–2025 civil-affairs plan and `DOMAIN.md` §3.
//!
//! The domain, pure:
//! - [`allowance`]: the basic-living allowance of orphans and de-facto unsupported children
//!   (孤儿, 事实无人抚养儿童) as effective-dated standards that must rise at least 6% a year, and
//!   each child's monthly entitlement, which ends at 18, on adoption or on death;
//! - [`child`]: a child's record — the facts about each parent that make the child covered, each
//!   with its source, care arrangements, revisions, adoption, death;
//! - [`adoption`]: adoption registration (收养登记) under the Civil Code's checks, recorded as
//!   facts;
//! - [`protection`]: a protection case of the four-in-one mechanism (四位一体): mandatory
//!   report, emergency handling, assessment, assistance plan, guardianship intervention,
//!   closure, each step with its deadline, assignee and escalation;
//! - [`post`] and [`coverage`]: child directors (儿童主任) of villages and communities and child
//!   supervisors (儿童督导员) of townships, and their coverage over the divisions in force on a
//!   day, following adjustments.
//!
//! Around it: [`ids`] (the stream keys), [`sealing`] (reporters' identities encrypted),
//! [`codec`] (events to protobuf and back), [`app`] (commands and queries), [`overview`] (the
//! read model), [`feeds`] (civil-registry deaths, data-sharing alerts), [`grpc`] (the edge),
//! [`module`] (hosting), [`seed`] (Benxi for `minzheng dev`).

pub mod adoption;
pub mod allowance;
pub mod app;
pub mod child;
pub mod codec;
pub mod coverage;
pub mod feeds;
pub mod grpc;
pub mod ids;
pub mod module;
pub mod overview;
pub mod post;
pub mod protection;
pub mod sealing;
pub mod seed;
pub use module::{Module, Settings};
