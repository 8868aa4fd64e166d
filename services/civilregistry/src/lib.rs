//! The civil-registry service (婚姻登记 and 殡葬), following chapter 5 §4–5 of Benxi's 2021–2025
//! civil-affairs plan and `DOMAIN.md` §4: appointments at the county-level marriage registries
//! (预约登记), marriage registration with its Civil Code rules, divorce by agreement with the
//! 30-day cooling-off period (离婚冷静期, Civil Code art. 1077), certificates and their reissue,
//! archive digitization (档案电子化), deaths and funerals with the fee waiver for households in
//! social assistance (惠民殡葬), and the plan's indicators for them.
//!
//! The pure domain (no IO, no clock; dates and ids arrive in commands):
//!
//! - [`ids`]: appointment ids and the record ids derived from them; pseudonyms for persons.
//! - [`registry_day`]: one registry's appointment slots on one day (stream
//!   `registry_day-<county>-<yyyymmdd>`): publish slots, book within capacity, reschedule,
//!   cancel, check in, record no-shows.
//! - [`registry`]: a registry's counselling room (stream `registry-<county code>`).
//! - [`verification`]: identity checks recorded as facts, and the parties of a record.
//! - [`person`]: one citizen's marital status history (stream `person-<pseudonym>`).
//! - [`marriage`]: a marriage record (stream `marriage-<id>`): registered or back-filled,
//!   certificate reissues, archive documents, dissolution.
//! - [`divorce`]: a divorce application (stream `divorce-<id>`) and its cooling-off period, or
//!   a registered divorce back-filled from the paper archive (历史离婚档案补录).
//! - [`registration`]: the decisions that span several streams (a marriage and its two
//!   parties; a divorce, its marriage and parties; a death's effect on a marriage).
//! - [`death`]: a death record and its funeral (stream `death-<pseudonym>`), with the fee waiver.
//! - [`assistance`]: who was in an assistance household on a day, from the assistance service's
//!   events.
//! - [`codec`]: the only module that knows the protobuf event messages.
//!
//! Around it:
//!
//! - [`app`]: commands with today's date, the checks across streams, and the commits that span
//!   streams; the schedulers (no-shows, lapsed applications).
//! - [`overview`]: the in-memory read model of the service's own events (schedules, indicators).
//! - [`divisions`]: the registries, from the place-names service's division events.
//! - [`assistance_feed`]: the assistance service's events, for the fee waiver.

pub mod assistance;
pub mod codec;
pub mod death;
pub mod divorce;
pub mod ids;
pub mod marriage;
pub mod person;
pub mod registration;
pub mod registry;
pub mod registry_day;
pub mod verification;

pub use module::{Module, Settings};

pub mod app;
pub mod assistance_feed;
pub mod divisions;
pub mod grpc;
pub mod module;
pub mod overview;
