//! The social-assistance service (社会救助), following chapter 2 and box 2 of Benxi's 2021–2025
//! civil-affairs plan and `DOMAIN.md` §1: single-window applications (一门受理、协同办理) for the
//! minimum living allowance (低保), single-person coverage (单人保), extreme-poverty support
//! (特困供养), low-income household recognition (低收入家庭), temporary assistance (临时救助) and
//! heating assistance (取暖救助); the household economic-status verification (家庭经济状况核对)
//! requested from the data-sharing service; standards as effective-dated policy; monthly
//! payment cycles (资金发放); dynamic management (动态管理) from the other services' events; the
//! monitoring list (监测预警) and the plan's indicators.
//!
//! The pure domain (no IO, no clock; dates and ids arrive in commands):
//!
//! - [`category`]: the kinds of assistance and urban/rural residence.
//! - [`ids`]: the ids the service issues (cases, payment cycles) and the other stream keys.
//! - [`payments`]: planning a month's payment lines from the entitlements in force (资金发放).
//! - [`cycle`]: a county's monthly payment cycle: generated, approved, exported, settled.
//! - [`bank_file`]: the CSV files exchanged with the paying bank (`docs/bank-file.md`).
//!
//! [`codec`] maps the events to their protobuf messages and back.

pub mod bank_file;
pub mod category;
pub mod codec;
pub mod cycle;
pub mod ids;
pub mod payments;

pub use module::{Module, Settings};

pub mod module;
