//! What a household applies for, and where it lives: the vocabulary every other module shares.

use std::fmt;

/// The kinds of social assistance (社会救助) the service decides. Regulation: 《社会救助暂行办法》
/// (State Council decree 649, 2014), chapters 2–3 and 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Minimum living allowance for a household (最低生活保障, 低保).
    Dibao,
    /// Single-person coverage (单人保): a seriously ill or severely disabled member of a household
    /// just above the line is covered as a one-person household. Published as dibao.
    SinglePerson,
    /// Support for persons in extreme poverty (特困人员救助供养, 特困).
    Tekun,
    /// Low-income household recognition (低收入家庭认定).
    LowIncome,
    /// Temporary assistance (临时救助), a one-off payment for sudden hardship.
    Temporary,
    /// Heating assistance (取暖救助) for a winter, a one-off payment to an assisted household.
    Heating,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Dibao,
        Category::SinglePerson,
        Category::Tekun,
        Category::LowIncome,
        Category::Temporary,
        Category::Heating,
    ];

    /// The two letters of the category in a case id (`210502-DB-2026-000123`).
    pub fn code(self) -> &'static str {
        match self {
            Category::Dibao => "DB",
            Category::SinglePerson => "DR",
            Category::Tekun => "TK",
            Category::LowIncome => "DS",
            Category::Temporary => "LS",
            Category::Heating => "QN",
        }
    }

    /// The category whose case id uses `code`.
    pub fn from_code(code: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Whether the category pays a monthly benefit until the case ends (the others pay once or
    /// nothing).
    pub fn is_monthly(self) -> bool {
        matches!(
            self,
            Category::Dibao | Category::SinglePerson | Category::Tekun
        )
    }

    /// Whether the submission requests the verification of the household's economic status
    /// (家庭经济状况核对) before the decision. Heating assistance rests on the household's case
    /// already in force; temporary assistance is decided at once (先行救助) or by the county after
    /// a transfer.
    pub fn needs_verification(self) -> bool {
        !matches!(self, Category::Heating | Category::Temporary)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Category::Dibao => "dibao (低保)",
            Category::SinglePerson => "single-person coverage (单人保)",
            Category::Tekun => "extreme-poverty support (特困供养)",
            Category::LowIncome => "low-income household (低收入家庭)",
            Category::Temporary => "temporary assistance (临时救助)",
            Category::Heating => "heating assistance (取暖救助)",
        })
    }
}

/// Whether a household's registered residence is urban or rural (城市/农村): the dibao standard
/// differs between the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Area {
    Urban,
    Rural,
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Area::Urban => "urban (城市)",
            Area::Rural => "rural (农村)",
        })
    }
}
