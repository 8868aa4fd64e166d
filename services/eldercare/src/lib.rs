//! The elderly-care service (养老服务), following chapter 4 and box 4 of Benxi's 2021–2025
//! civil-affairs plan and `DOMAIN.md` §2.

pub mod app;
pub mod assessment;
pub mod codec;
pub mod divisions;
pub mod elder;
pub mod feeds;
pub mod grpc;
pub mod ids;
pub mod institution;
pub mod module;
pub mod overview;
pub mod population;
pub mod seed;
pub mod service_point;
pub mod subsidy;
pub use module::{Module, Settings};
