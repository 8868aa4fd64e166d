//! PLACEHOLDER until the benefit module lands.
use minzheng_types::Fen;
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calculation {
    pub amount: Fen,
}
