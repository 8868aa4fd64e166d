//! The bus (placeholder, being written).
