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
//! - [`household`]: the applying household: members, incomes, assets, authorizations, account.
//! - [`case`]: an application and everything that follows it (stream `case-<case_id>`).
//! - [`calendar`]: the official holiday calendar, loaded year by year, and working-day
//!   arithmetic for deadlines.
//! - [`fund`]: a township's reserve fund for temporary assistance (临时救助备用金).
//! - [`policy`]: the standards as effective-dated policy, per county (`policy-<county code>`).
//! - [`benefit`]: the benefit formulas, pure and table-tested, each answering its calculation.
//! - [`payments`]: planning a month's payment lines from the entitlements in force (资金发放).
//! - [`cycle`]: a county's monthly payment cycle: generated, approved, exported, settled.
//! - [`ledger`]: a county's payment ledger, the order its cycles were generated in, which
//!   serialises generation (`ledger-<county code>`).
//! - [`bank_file`]: the CSV files exchanged with the paying bank (`docs/bank-file.md`).
//! - [`referral`]: a proactive-discovery referral from a household alert (主动发现线索, stream
//!   `referral-<alert_id>`), and what the township's caseworker did.
//! - [`monitoring`]: the county's monitoring list (困难家庭基本信息数据库): who is just above or
//!   near the line, who is named by an open alert.
//! - [`indicators`]: the plan's indicators (the urban/rural standard ratio, townships with a
//!   reserve fund) and the recipients by category, as arithmetic.
//!
//! Around it:
//!
//! - [`codec`]: the event codec, the only module that knows protobuf; this service's views of
//!   the place-names contract.
//! - [`app`]: commands with today's date, the checks across streams and services, the reads.
//! - [`projections`]: the in-memory read model of the service's own events, and the
//!   projections of the place-names divisions and the data-sharing verification results.
//! - [`grpc`]: request conversion, the RPC table with its access rules, answers.
//! - [`module`]: the `ServiceModule`: consumers, the read model, the dev seed.

pub mod bank_file;
pub mod benefit;
pub mod calendar;
pub mod case;
pub mod category;
pub mod codec;
pub mod cycle;
pub mod fund;
pub mod household;
pub mod ids;
pub mod indicators;
pub mod ledger;
pub mod monitoring;
pub mod payments;
pub mod policy;
pub mod referral;

pub use module::{Module, Settings};

pub mod app;
pub mod grpc;
pub mod module;
pub mod projections;
pub mod stand_in;
