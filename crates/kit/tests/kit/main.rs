//! Integration tests of the service kit, one binary: settings layering, the status mapping,
//! token verification, the server over real gRPC clients, the command runner against real
//! SQLite and PostgreSQL stores, and signal handling.

mod aggregate;
mod auth;
mod errors;
mod server;
mod settings;
mod shutdown;
mod support;
