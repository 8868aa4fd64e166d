//! The child-welfare service (儿童福利与未成年人保护), following chapter 5 §1 and box 5 of Benxi's
//! 2021–2025 civil-affairs plan and `DOMAIN.md` §3 — issue 15, in progress.
//!
//! - [`allowance`]: the basic-living allowance of orphans and de-facto unsupported children
//!   (孤儿, 事实无人抚养儿童) as effective-dated standards that must rise at least 6% a year, and
//!   each child's monthly entitlement, which ends at 18, on adoption or on death.
//! - [`protection`]: a protection case of the four-in-one mechanism (四位一体): mandatory
//!   report, emergency handling, assessment, assistance plan, guardianship intervention,
//!   closure, each step with its deadline, assignee and escalation.
//! - [`ids`]: the ids that key the streams; [`codec`]: events to protobuf and back.

pub mod adoption;
pub mod allowance;
pub mod child;
pub mod codec;
pub mod coverage;
pub mod ids;
pub mod post;
pub mod protection;
pub mod sealing;
