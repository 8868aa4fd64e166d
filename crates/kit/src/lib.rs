//! The service kit (placeholder, being written).
