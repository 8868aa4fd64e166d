//! The data-sharing service (数据共享, plan ch. 2 §2–3 and box 2; `DOMAIN.md` §6): other
//! agencies' records about citizens, kept bitemporally; the members' authorizations (授权书);
//! and the household economic-status verification (家庭经济状况核对) the assistance service's
//! decisions rest on.
//!
//! - Domain (pure): [`agreement`] (stream `agreement-<id>`: what an agency may receive),
//!   [`records`] (agencies, record kinds, data classes, a record's rules and
//!   digest), [`authorization`] (stream `authorization-<id>`), [`thresholds`] (stream
//!   `thresholds-<county>`: the verification's limits as effective-dated policy), [`load`]
//!   (stream `load-<id>`: what one load kept), [`assistance`] (the assistance service's events
//!   as this service reads them), [`discovery`] (who a death leaves in difficulty),
//!   [`verification`] (the report from records, standards and
//!   thresholds).
//! - Storage: [`knowledge`] (the clock every recorded fact is versioned by, so questions can be
//!   asked "as known" at an earlier time) and [`store`] (`ds_records`, loaded through `COPY` on
//!   PostgreSQL).
//! - [`app`]: loads, authorizations, the verification and the answers to requests;
//!   [`projections`]: the read model and the consumers; [`grpc`]: the RPCs and the load file;
//!   [`module`]: the `ServiceModule`.

pub mod agreement;
pub mod app;
pub mod assistance;
pub mod authorization;
pub mod codec;
pub mod discovery;
pub mod grpc;
pub mod knowledge;
pub mod load;
pub mod module;
pub mod projections;
pub mod records;
pub mod store;
pub mod thresholds;
pub mod verification;

pub use module::{Module, Seed, Settings};
