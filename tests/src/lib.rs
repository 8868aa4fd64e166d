//! Cross-service end-to-end tests (in `tests/`), the benchmark harness (`src/bench`, run by
//! `make bench`) and the fault-injection harness (`src/chaos`, run by `make chaos`).
//!
//! Benchmarks are programs with a report, never timed assertions: every figure is printed beside
//! a raw baseline measured in the same run on the same machine (plain PostgreSQL inserts, plain
//! JetStream publishes, plain pulls), and judged by the ratio, because absolute times on shared
//! machines mean little.

pub mod bench;
pub mod chaos;
pub mod divisions;
pub mod scenario;
