//! Integration tests of the bus against real PostgreSQL and NATS (and SQLite files): one test
//! binary, one module per part. Every test has its own databases and its own subject prefix,
//! so the tests run in parallel and repeatedly.

mod consumer;
mod feed;
mod permissions;
mod relay;
mod support;
