//! Integration tests of the service kit, one binary: settings layering, the status mapping,
//! token verification, the server over real gRPC clients and what it records of each RPC, the
//! command runner against real SQLite and PostgreSQL stores, the live view's read-your-writes
//! over PostgreSQL's gaps in positions, and signal handling.

mod aggregate;
mod auth;
mod errors;
mod live;
mod observability;
mod server;
mod settings;
mod shutdown;
mod support;
