//! Capacity assessment of elderly persons (老年人能力评估) under GB/T 42195-2022
//! 《老年人能力评估规范》 (national standard, in force since 2023). Pure: no IO, no clock.
//!
//! # What the standard scores
//!
//! Four first-level indicators (一级指标, here [`Group`]) with 26 second-level items (二级指标,
//! here [`Item`]), scored by the assessor from the standard's appendix B table (老年人能力评估表).
//! Every item runs from 0 (least capable) up to its maximum; higher is more capable:
//!
//! | group | items (max) | max |
//! |---|---|---|
//! | B.1 自理能力 (self-care) | 进食 eating 4, 修饰 grooming 4, 洗澡 bathing 4, 穿/脱上衣 upper-body dressing 4, 穿/脱裤子和鞋袜 lower-body dressing 4, 小便控制 urinary control 4, 大便控制 bowel control 4, 如厕 toileting 4 | 32 |
//! | B.2 基础运动能力 (basic motor ability) | 床上体位转移 bed position transfer 4, 床椅转移 bed–chair transfer 4, 平地行走 walking on level ground 4, 上下楼梯 stairs 3 | 15 |
//! | B.3 精神状态 (mental state) | 时间定向 time orientation 4, 空间定向 place orientation 4, 人物定向 person orientation 4, 记忆 memory 4, 理解能力 understanding 4, 表达能力 expression 4, 攻击行为 aggressive behaviour 1, 抑郁症状 depressive symptoms 1, 意识水平 level of consciousness 2 | 28 |
//! | B.4 感知觉与社会参与 (perception and social participation) | 视力 vision 2, 听力 hearing 2, 执行日常事务 daily affairs 4, 使用交通工具外出 going out by transport 3, 社会交往能力 social interaction 4 | 15 |
//!
//! 8 + 4 + 9 + 5 = 26 items, 32 + 15 + 28 + 15 = 90 points ([`TOTAL_MAX`]).
//!
//! # Levels (老年人能力等级, appendix C)
//!
//! The preliminary level (初步等级, [`Level::from_total`]) follows from the total alone:
//! 能力完好 (intact) 90; 能力轻度受损 (轻度失能, mild) 66–89; 能力中度受损 (中度失能, moderate)
//! 46–65; 能力重度受损 (重度失能, severe) 30–45; 能力完全丧失 (完全失能, complete) 0–29.
//!
//! The final level (最终等级) applies the standard's change rules (能力等级变更依据, C.4), taken
//! from the basic-information tables of appendix A, not from the item scores ([`Adjustments`]):
//!
//! 1. A person in a coma (处于昏迷状态, A.5.11 昏迷) is rated 能力完全丧失 (complete) directly,
//!    whatever the total; the standard asks for a new assessment when consciousness changes.
//! 2. A diagnosis of dementia (痴呆, ICD-10 F00–F03) or of another mental and behavioural
//!    disorder diagnosed by a psychiatrist (精神科专科医生诊断的其他精神和行为障碍疾病, F04–F99)
//!    (A.4.1 疾病诊断) raises the preliminary level by one (在原有能力级别上提高一个级别).
//! 3. Two or more care-risk events (照护风险事件: falls 跌倒, choking 噎食, suicide 自杀, self-harm
//!    自伤, wandering off 走失, …) in the last 30 days (A.2.14) raise the preliminary level by one.
//!
//! Rules 2 and 3 raise from the preliminary level (原有能力级别), so meeting several of them still
//! raises by exactly one level, and 完全丧失 stays 完全丧失 ([`Level::raised`]).
//!
//! # Sources and uncertainty
//!
//! The standard's text itself (it is sold, not published openly) was not at hand. The table above
//! is the appendix B form as transcribed, item by item with each score's wording, in public
//! implementations of the 2022 standard (e.g. GitHub code seeding "GB_T_42195_2022" templates
//! with the 26 items, 8-4-9-5 per group and a 90-point total, and a full transcription of
//! B.1–B.4); they agree with each other. The bands and the three change rules are quoted alike
//! in several implementations (wording of C.4 included) and in a training provider's reading of
//! the standard ("满足以下任一条件…上调一个能力等级"). Residual uncertainties:
//!
//! * that several change rules together raise by one level only: the standard words each rule
//!   as one level above the preliminary level and the sources read it as "any one of"; none says
//!   explicitly that they do not add up.
//! * coma is rule 1 on its own (A.5.11), not the 意识水平 item: that item's 0 covers both stupor
//!   (昏睡) and coma (昏迷), so it cannot encode coma. A comatose person must score 0 there, which
//!   [`assess`] checks. Some transcriptions keep the 2013 trade standard's (MZ/T 039-2013) note
//!   "昏迷…直接评定为重度失能" under B.3.9; 重度失能 was that standard's worst level, and the 2022
//!   standard's C.4 says 完全失能, which is used here.
//! * the re-assessment interval ([`reassessment_due`]): 12 months is the common practice of
//!   routine assessments (常规评估, one of the standard's assessment reasons beside 首次评估,
//!   即时评估 on a change of condition and 复评); the standard's own wording of the interval
//!   was not found in the sources consulted.

use std::{fmt, ops::RangeInclusive};

use time::Date;

/// The highest total score: the sum of every item's maximum.
pub const TOTAL_MAX: u8 = 90;

/// One second-level indicator (二级指标) of the standard's assessment form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Item {
    /// The item's number in the standard's appendix B, e.g. `B.1.4`.
    pub code: &'static str,
    /// The standard's name.
    pub chinese: &'static str,
    /// An English name.
    pub english: &'static str,
    /// The highest score; the lowest is always 0.
    pub max: u8,
}

const fn item(code: &'static str, chinese: &'static str, english: &'static str, max: u8) -> Item {
    Item {
        code,
        chinese,
        english,
        max,
    }
}

/// B.1 自理能力 (self-care), in the standard's order.
pub const SELF_CARE_ITEMS: [Item; 8] = [
    item("B.1.1", "进食", "eating", 4),
    item("B.1.2", "修饰", "grooming", 4),
    item("B.1.3", "洗澡", "bathing", 4),
    item("B.1.4", "穿/脱上衣", "dressing the upper body", 4),
    item(
        "B.1.5",
        "穿/脱裤子和鞋袜",
        "dressing the lower body (trousers, shoes, socks)",
        4,
    ),
    item("B.1.6", "小便控制", "urinary control", 4),
    item("B.1.7", "大便控制", "bowel control", 4),
    item("B.1.8", "如厕", "toileting", 4),
];

/// B.2 基础运动能力 (basic motor ability), in the standard's order.
pub const BASIC_MOTOR_ITEMS: [Item; 4] = [
    item("B.2.1", "床上体位转移", "bed position transfer", 4),
    item("B.2.2", "床椅转移", "bed–chair transfer", 4),
    item("B.2.3", "平地行走", "walking on level ground", 4),
    item("B.2.4", "上下楼梯", "going up and down stairs", 3),
];

/// B.3 精神状态 (mental state), in the standard's order.
pub const MENTAL_STATE_ITEMS: [Item; 9] = [
    item("B.3.1", "时间定向", "time orientation", 4),
    item("B.3.2", "空间定向", "place orientation", 4),
    item("B.3.3", "人物定向", "person orientation", 4),
    item("B.3.4", "记忆", "memory", 4),
    item("B.3.5", "理解能力", "understanding", 4),
    item("B.3.6", "表达能力", "expression", 4),
    item("B.3.7", "攻击行为", "aggressive behaviour", 1),
    item("B.3.8", "抑郁症状", "depressive symptoms", 1),
    item("B.3.9", "意识水平", "level of consciousness", 2),
];

/// B.4 感知觉与社会参与 (perception and social participation), in the standard's order.
pub const PERCEPTION_ITEMS: [Item; 5] = [
    item("B.4.1", "视力", "vision", 2),
    item("B.4.2", "听力", "hearing", 2),
    item("B.4.3", "执行日常事务", "carrying out daily affairs", 4),
    item("B.4.4", "使用交通工具外出", "going out by transport", 3),
    item("B.4.5", "社会交往能力", "social interaction", 4),
];

/// The index of 意识水平 (level of consciousness) in [`MENTAL_STATE_ITEMS`].
pub const CONSCIOUSNESS_ITEM: usize = 8;

const fn items_max(items: &[Item]) -> u8 {
    let mut sum = 0;
    let mut i = 0;
    while i < items.len() {
        sum += items[i].max;
        i += 1;
    }
    sum
}

const _: () = {
    assert!(
        SELF_CARE_ITEMS.len()
            + BASIC_MOTOR_ITEMS.len()
            + MENTAL_STATE_ITEMS.len()
            + PERCEPTION_ITEMS.len()
            == 26
    );
    assert!(
        items_max(&SELF_CARE_ITEMS)
            + items_max(&BASIC_MOTOR_ITEMS)
            + items_max(&MENTAL_STATE_ITEMS)
            + items_max(&PERCEPTION_ITEMS)
            == TOTAL_MAX
    );
    assert!(MENTAL_STATE_ITEMS[CONSCIOUSNESS_ITEM].max == 2);
};

/// A first-level indicator (一级指标) of the standard.
///
/// Not ordered (no `Ord`), so that `group.max()` is always [`Group::max`], even on a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// 自理能力 (B.1).
    SelfCare,
    /// 基础运动能力 (B.2).
    BasicMotor,
    /// 精神状态 (B.3).
    MentalState,
    /// 感知觉与社会参与 (B.4).
    Perception,
}

impl Group {
    /// The groups in the standard's order (also the order of [`Outcome::group_scores`]).
    pub const ALL: [Group; 4] = [
        Group::SelfCare,
        Group::BasicMotor,
        Group::MentalState,
        Group::Perception,
    ];

    /// The group's items, in the standard's order.
    pub const fn items(self) -> &'static [Item] {
        match self {
            Group::SelfCare => &SELF_CARE_ITEMS,
            Group::BasicMotor => &BASIC_MOTOR_ITEMS,
            Group::MentalState => &MENTAL_STATE_ITEMS,
            Group::Perception => &PERCEPTION_ITEMS,
        }
    }

    /// The group's highest score (32, 15, 28 and 15).
    pub const fn max(self) -> u8 {
        items_max(self.items())
    }

    /// The group's field name in requests and field paths (`self_care`, `basic_motor`,
    /// `mental_state`, `perception`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Group::SelfCare => "self_care",
            Group::BasicMotor => "basic_motor",
            Group::MentalState => "mental_state",
            Group::Perception => "perception",
        }
    }

    /// The standard's name.
    pub const fn chinese(self) -> &'static str {
        match self {
            Group::SelfCare => "自理能力",
            Group::BasicMotor => "基础运动能力",
            Group::MentalState => "精神状态",
            Group::Perception => "感知觉与社会参与",
        }
    }
}

/// The capacity levels of GB/T 42195-2022 (老年人能力等级), from the most to the least capable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// 能力完好.
    Intact,
    /// 能力轻度受损 (轻度失能).
    Mild,
    /// 能力中度受损 (中度失能).
    Moderate,
    /// 能力重度受损 (重度失能).
    Severe,
    /// 能力完全丧失 (完全失能).
    Complete,
}

impl Level {
    /// The levels from the most to the least capable.
    pub const ALL: [Level; 5] = [
        Level::Intact,
        Level::Mild,
        Level::Moderate,
        Level::Severe,
        Level::Complete,
    ];

    /// The preliminary level (初步等级) of a total score. A total above [`TOTAL_MAX`] (which
    /// [`Scores::check`] rules out) counts as intact.
    pub const fn from_total(total: u8) -> Level {
        match total {
            90.. => Level::Intact,
            66..=89 => Level::Mild,
            46..=65 => Level::Moderate,
            30..=45 => Level::Severe,
            0..=29 => Level::Complete,
        }
    }

    /// The totals that give this level by themselves.
    pub const fn band(self) -> RangeInclusive<u8> {
        match self {
            Level::Intact => 90..=90,
            Level::Mild => 66..=89,
            Level::Moderate => 46..=65,
            Level::Severe => 30..=45,
            Level::Complete => 0..=29,
        }
    }

    /// One level less capable (提高一个等级); [`Level::Complete`] stays complete.
    pub const fn raised(self) -> Level {
        match self {
            Level::Intact => Level::Mild,
            Level::Mild => Level::Moderate,
            Level::Moderate => Level::Severe,
            Level::Severe | Level::Complete => Level::Complete,
        }
    }

    /// The standard's name, with the common name of the impaired levels in brackets.
    pub const fn chinese(self) -> &'static str {
        match self {
            Level::Intact => "能力完好",
            Level::Mild => "能力轻度受损（轻度失能）",
            Level::Moderate => "能力中度受损（中度失能）",
            Level::Severe => "能力重度受损（重度失能）",
            Level::Complete => "能力完全丧失（完全失能）",
        }
    }

    /// A stable lower-case name: `intact`, `mild`, `moderate`, `severe`, `complete`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Intact => "intact",
            Level::Mild => "mild",
            Level::Moderate => "moderate",
            Level::Severe => "severe",
            Level::Complete => "complete",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The item scores of one assessment, per group in the standard's order (see [`Group::items`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scores {
    /// 自理能力: 8 items.
    pub self_care: Vec<u8>,
    /// 基础运动能力: 4 items.
    pub basic_motor: Vec<u8>,
    /// 精神状态: 9 items.
    pub mental_state: Vec<u8>,
    /// 感知觉与社会参与: 5 items.
    pub perception: Vec<u8>,
}

impl Scores {
    /// The scores of one group.
    pub fn group(&self, group: Group) -> &[u8] {
        match group {
            Group::SelfCare => &self.self_care,
            Group::BasicMotor => &self.basic_motor,
            Group::MentalState => &self.mental_state,
            Group::Perception => &self.perception,
        }
    }

    /// Checks every group's item count and every item's range, reporting all violations in
    /// group and item order. A group with the wrong number of items is reported once, without
    /// checking its items (they cannot be matched to the standard's items).
    pub fn check(&self) -> Result<(), Vec<ScoreViolation>> {
        let mut violations = Vec::new();
        for group in Group::ALL {
            let items = group.items();
            let scores = self.group(group);
            if scores.len() != items.len() {
                violations.push(ScoreViolation {
                    group,
                    item: None,
                    kind: ViolationKind::ItemCount {
                        expected: items.len(),
                        actual: scores.len(),
                    },
                });
                continue;
            }
            for (index, (&score, item)) in scores.iter().zip(items).enumerate() {
                if score > item.max {
                    violations.push(ScoreViolation {
                        group,
                        item: Some(index),
                        kind: ViolationKind::AboveMax {
                            max: item.max,
                            actual: score,
                        },
                    });
                }
            }
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }

    /// The sum of one group's scores (saturating; meaningful once [`Scores::check`] passed).
    fn group_total(&self, group: Group) -> u8 {
        self.group(group)
            .iter()
            .fold(0u8, |sum, &score| sum.saturating_add(score))
    }
}

/// What is wrong with a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViolationKind {
    /// The group has the wrong number of item scores.
    ItemCount {
        /// The number of items the standard has in the group.
        expected: usize,
        /// The number given.
        actual: usize,
    },
    /// An item score is above the item's maximum.
    AboveMax {
        /// The item's maximum.
        max: u8,
        /// The score given.
        actual: u8,
    },
    /// The person is in a coma but 意识水平 (level of consciousness) is not 0 (昏睡或昏迷).
    NotZeroWhileComatose {
        /// The score given.
        actual: u8,
    },
}

/// One invalid part of [`Scores`], to be reported as a field violation (`INVALID_ARGUMENT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScoreViolation {
    /// The group.
    pub group: Group,
    /// The 0-based item index within the group; `None` for the group as a whole.
    pub item: Option<usize>,
    /// What is wrong.
    pub kind: ViolationKind,
}

impl ScoreViolation {
    /// The request field: `scores.<group>` or `scores.<group>[<index>]`, e.g.
    /// `scores.self_care[3]`.
    pub fn field_path(&self) -> String {
        match self.item {
            None => format!("scores.{}", self.group.as_str()),
            Some(index) => format!("scores.{}[{index}]", self.group.as_str()),
        }
    }

    /// The rule broken, e.g. `must have 8 items` or `must be 0 to 4`.
    pub fn rule(&self) -> String {
        match self.kind {
            ViolationKind::ItemCount { expected, .. } => format!("must have {expected} items"),
            ViolationKind::AboveMax { max, .. } => format!("must be 0 to {max}"),
            ViolationKind::NotZeroWhileComatose { .. } => {
                "must be 0 when the person is in a coma".to_owned()
            }
        }
    }

    /// The standard's item the violation is about, if it is about one item.
    pub fn item_def(&self) -> Option<&'static Item> {
        self.item.and_then(|index| self.group.items().get(index))
    }
}

impl fmt::Display for ScoreViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.field_path())?;
        match self.item_def() {
            Some(item) => write!(f, " ({} {}, {})", item.code, item.chinese, item.english)?,
            None => write!(f, " ({})", self.group.chinese())?,
        }
        write!(f, ": {}", self.rule())
    }
}

impl std::error::Error for ScoreViolation {}

/// The circumstances that change the level (能力等级变更依据), taken from the assessment's
/// basic-information tables rather than from the item scores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Adjustments {
    /// Diagnosed with dementia (确诊为痴呆, ICD-10 F00–F03), cognitive impairment included.
    pub dementia_diagnosed: bool,
    /// Diagnosed by a psychiatrist with another mental and behavioural disorder
    /// (精神科专科医生诊断的其他精神和行为障碍疾病, F04–F99).
    pub psychiatric_illness_diagnosed: bool,
    /// Two or more care-risk events (照护风险事件: falls, choking, suicide, self-harm, wandering
    /// off, …) in the 30 days before the assessment.
    pub repeated_care_risk_events: bool,
    /// In a coma (处于昏迷状态, A.5.11): rated 能力完全丧失 directly.
    pub comatose: bool,
}

impl Adjustments {
    /// Whether any of the circumstances that raise the level by one holds.
    pub const fn raises(&self) -> bool {
        self.dementia_diagnosed
            || self.psychiatric_illness_diagnosed
            || self.repeated_care_risk_events
    }
}

/// The result of an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Outcome {
    /// The score of each group, in the order of [`Group::ALL`].
    pub group_scores: [u8; 4],
    /// The total score, 0 to [`TOTAL_MAX`].
    pub total: u8,
    /// The final level (最终等级).
    pub level: Level,
    /// The preliminary level from the total alone (初步等级).
    pub by_total: Level,
    /// Whether the person is in a coma, so that `level` is [`Level::Complete`] directly.
    pub comatose: bool,
    /// Whether `level` is one above `by_total` because of a diagnosis or care-risk events
    /// (false when in a coma, and when `by_total` is already complete).
    pub raised: bool,
}

/// Assesses one person: checks the scores, totals them and derives the level by the standard's
/// rules (see the module documentation).
///
/// All violations are returned together: those of [`Scores::check`], and for a comatose person a
/// 意识水平 score other than 0.
pub fn assess(scores: &Scores, adjustments: &Adjustments) -> Result<Outcome, Vec<ScoreViolation>> {
    let mut violations = scores.check().err().unwrap_or_default();
    if adjustments.comatose
        && scores.mental_state.len() == MENTAL_STATE_ITEMS.len()
        && let Some(&actual) = scores.mental_state.get(CONSCIOUSNESS_ITEM)
        && actual != 0
    {
        violations.push(ScoreViolation {
            group: Group::MentalState,
            item: Some(CONSCIOUSNESS_ITEM),
            kind: ViolationKind::NotZeroWhileComatose { actual },
        });
    }
    if !violations.is_empty() {
        return Err(violations);
    }

    let group_scores = Group::ALL.map(|group| scores.group_total(group));
    let total = group_scores.iter().sum::<u8>();
    let by_total = Level::from_total(total);
    let (level, raised) = if adjustments.comatose {
        (Level::Complete, false)
    } else if adjustments.raises() && by_total != Level::Complete {
        (by_total.raised(), true)
    } else {
        (by_total, false)
    };
    Ok(Outcome {
        group_scores,
        total,
        level,
        by_total,
        comatose: adjustments.comatose,
        raised,
    })
}

/// The day a routine re-assessment (常规评估) is due: 12 months after the assessment, on the same
/// day of the month or the month's last day when it is shorter (2024-02-29 → 2025-02-28). An
/// assessment on a change of condition (即时评估) may come earlier; that is the caller's
/// business. Saturates at [`Date::MAX`].
pub fn reassessment_due(assessed_on: Date) -> Date {
    minzheng_types::add_months(assessed_on, 12).unwrap_or(Date::MAX)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    /// Scores that add up to `total`, filling items from the first one on.
    fn scores_totalling(total: u8) -> Scores {
        assert!(total <= TOTAL_MAX);
        let mut left = total;
        let mut fill = |group: Group| -> Vec<u8> {
            group
                .items()
                .iter()
                .map(|item| {
                    let score = left.min(item.max);
                    left -= score;
                    score
                })
                .collect()
        };
        Scores {
            self_care: fill(Group::SelfCare),
            basic_motor: fill(Group::BasicMotor),
            mental_state: fill(Group::MentalState),
            perception: fill(Group::Perception),
        }
    }

    fn full() -> Scores {
        scores_totalling(TOTAL_MAX)
    }

    const NONE: Adjustments = Adjustments {
        dementia_diagnosed: false,
        psychiatric_illness_diagnosed: false,
        repeated_care_risk_events: false,
        comatose: false,
    };

    #[test]
    fn the_table_has_26_items_and_90_points() {
        let counts = Group::ALL.map(|g| g.items().len());
        assert_eq!(counts, [8, 4, 9, 5]);
        assert_eq!(Group::ALL.map(Group::max), [32, 15, 28, 15]);
        assert_eq!(Group::ALL.iter().map(|g| g.max()).sum::<u8>(), TOTAL_MAX);
        assert_eq!(MENTAL_STATE_ITEMS[CONSCIOUSNESS_ITEM].chinese, "意识水平");
        assert_eq!(BASIC_MOTOR_ITEMS[3].max, 3);
    }

    #[test]
    fn bands_by_total() {
        let table = [
            (90, Level::Intact),
            (89, Level::Mild),
            (66, Level::Mild),
            (65, Level::Moderate),
            (46, Level::Moderate),
            (45, Level::Severe),
            (30, Level::Severe),
            (29, Level::Complete),
            (0, Level::Complete),
        ];
        for (total, expected) in table {
            let scores = scores_totalling(total);
            let outcome = assess(&scores, &NONE).unwrap();
            assert_eq!(outcome.total, total, "total {total}");
            assert_eq!(outcome.by_total, expected, "total {total}");
            assert_eq!(outcome.level, expected, "total {total}");
            assert!(!outcome.raised && !outcome.comatose, "total {total}");
            assert_eq!(outcome.group_scores.iter().sum::<u8>(), total);
            assert!(expected.band().contains(&total), "total {total}");
        }
    }

    #[test]
    fn bands_cover_every_total_once() {
        for total in 0..=TOTAL_MAX {
            let holding: Vec<Level> = Level::ALL
                .into_iter()
                .filter(|l| l.band().contains(&total))
                .collect();
            assert_eq!(holding, [Level::from_total(total)], "total {total}");
        }
    }

    #[test]
    fn group_scores_follow_the_groups() {
        let mut scores = full();
        scores.basic_motor = vec![4, 4, 4, 0];
        scores.perception = vec![2, 1, 4, 3, 4];
        let outcome = assess(&scores, &NONE).unwrap();
        assert_eq!(outcome.group_scores, [32, 12, 28, 14]);
        assert_eq!(outcome.total, 86);
        assert_eq!(outcome.level, Level::Mild);
    }

    #[test]
    fn each_adjustment_alone_raises_by_one() {
        let alone = [
            Adjustments {
                dementia_diagnosed: true,
                ..NONE
            },
            Adjustments {
                psychiatric_illness_diagnosed: true,
                ..NONE
            },
            Adjustments {
                repeated_care_risk_events: true,
                ..NONE
            },
        ];
        for adjustments in alone {
            for (total, by_total, level) in [
                (90, Level::Intact, Level::Mild),
                (70, Level::Mild, Level::Moderate),
                (50, Level::Moderate, Level::Severe),
                (35, Level::Severe, Level::Complete),
            ] {
                let outcome = assess(&scores_totalling(total), &adjustments).unwrap();
                assert_eq!(outcome.by_total, by_total, "{adjustments:?} {total}");
                assert_eq!(outcome.level, level, "{adjustments:?} {total}");
                assert!(outcome.raised, "{adjustments:?} {total}");
            }
        }
    }

    #[test]
    fn several_adjustments_raise_by_exactly_one() {
        let all = Adjustments {
            dementia_diagnosed: true,
            psychiatric_illness_diagnosed: true,
            repeated_care_risk_events: true,
            comatose: false,
        };
        let outcome = assess(&full(), &all).unwrap();
        assert_eq!(outcome.by_total, Level::Intact);
        assert_eq!(outcome.level, Level::Mild);
        assert!(outcome.raised);

        let two = Adjustments {
            dementia_diagnosed: true,
            repeated_care_risk_events: true,
            ..NONE
        };
        let outcome = assess(&scores_totalling(60), &two).unwrap();
        assert_eq!(outcome.level, Level::Severe);
    }

    #[test]
    fn complete_stays_complete() {
        assert_eq!(Level::Complete.raised(), Level::Complete);
        let adjustments = Adjustments {
            dementia_diagnosed: true,
            repeated_care_risk_events: true,
            ..NONE
        };
        let outcome = assess(&scores_totalling(20), &adjustments).unwrap();
        assert_eq!(outcome.level, Level::Complete);
        assert_eq!(outcome.by_total, Level::Complete);
        assert!(!outcome.raised);
    }

    #[test]
    fn coma_is_complete_directly() {
        let mut scores = full();
        scores.mental_state[CONSCIOUSNESS_ITEM] = 0;
        let comatose = Adjustments {
            comatose: true,
            ..NONE
        };
        let outcome = assess(&scores, &comatose).unwrap();
        assert_eq!(outcome.total, 88);
        assert_eq!(outcome.by_total, Level::Mild);
        assert_eq!(outcome.level, Level::Complete);
        assert!(outcome.comatose);
        assert!(!outcome.raised);

        let with_dementia = Adjustments {
            dementia_diagnosed: true,
            ..comatose
        };
        let outcome = assess(&scores, &with_dementia).unwrap();
        assert_eq!(outcome.level, Level::Complete);
        assert!(!outcome.raised);
    }

    #[test]
    fn coma_needs_consciousness_zero() {
        let comatose = Adjustments {
            comatose: true,
            ..NONE
        };
        let violations = assess(&full(), &comatose).unwrap_err();
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field_path(), "scores.mental_state[8]");
        assert_eq!(
            violations[0].rule(),
            "must be 0 when the person is in a coma"
        );
        assert_eq!(violations[0].item_def().unwrap().chinese, "意识水平");
    }

    #[test]
    fn wrong_item_count() {
        let mut scores = full();
        scores.self_care.pop();
        scores.perception.push(0);
        let violations = scores.check().unwrap_err();
        let reported: Vec<(String, String)> = violations
            .iter()
            .map(|v| (v.field_path(), v.rule()))
            .collect();
        assert_eq!(
            reported,
            [
                (
                    "scores.self_care".to_owned(),
                    "must have 8 items".to_owned()
                ),
                (
                    "scores.perception".to_owned(),
                    "must have 5 items".to_owned()
                ),
            ]
        );
        assert_eq!(
            violations[0].kind,
            ViolationKind::ItemCount {
                expected: 8,
                actual: 7
            }
        );
        assert!(violations[0].item_def().is_none());
        assert_eq!(assess(&scores, &NONE).unwrap_err(), violations);
    }

    #[test]
    fn score_above_max() {
        let mut scores = full();
        scores.self_care[3] = 5;
        scores.basic_motor[3] = 4;
        scores.mental_state[6] = 2;
        let violations = assess(&scores, &NONE).unwrap_err();
        let reported: Vec<(String, String)> = violations
            .iter()
            .map(|v| (v.field_path(), v.rule()))
            .collect();
        assert_eq!(
            reported,
            [
                (
                    "scores.self_care[3]".to_owned(),
                    "must be 0 to 4".to_owned()
                ),
                (
                    "scores.basic_motor[3]".to_owned(),
                    "must be 0 to 3".to_owned()
                ),
                (
                    "scores.mental_state[6]".to_owned(),
                    "must be 0 to 1".to_owned()
                ),
            ]
        );
        assert_eq!(violations[0].item_def().unwrap().chinese, "穿/脱上衣");
        assert_eq!(
            violations[0].to_string(),
            "scores.self_care[3] (B.1.4 穿/脱上衣, dressing the upper body): must be 0 to 4"
        );
    }

    #[test]
    fn empty_scores_name_every_group() {
        let violations = Scores::default().check().unwrap_err();
        let paths: Vec<String> = violations.iter().map(ScoreViolation::field_path).collect();
        assert_eq!(
            paths,
            [
                "scores.self_care",
                "scores.basic_motor",
                "scores.mental_state",
                "scores.perception"
            ]
        );
    }

    #[test]
    fn level_names() {
        let names = Level::ALL.map(|l| (l.as_str(), l.chinese()));
        assert_eq!(
            names,
            [
                ("intact", "能力完好"),
                ("mild", "能力轻度受损（轻度失能）"),
                ("moderate", "能力中度受损（中度失能）"),
                ("severe", "能力重度受损（重度失能）"),
                ("complete", "能力完全丧失（完全失能）"),
            ]
        );
        assert_eq!(Level::Intact.raised(), Level::Mild);
        assert_eq!(Level::Severe.raised(), Level::Complete);
    }

    #[test]
    fn reassessment_is_due_twelve_months_later() {
        assert_eq!(
            reassessment_due(date!(2024 - 03 - 15)),
            date!(2025 - 03 - 15)
        );
        assert_eq!(
            reassessment_due(date!(2024 - 02 - 29)),
            date!(2025 - 02 - 28)
        );
        assert_eq!(
            reassessment_due(date!(2023 - 02 - 28)),
            date!(2024 - 02 - 28)
        );
        assert_eq!(
            reassessment_due(date!(2024 - 12 - 31)),
            date!(2025 - 12 - 31)
        );
        assert_eq!(reassessment_due(Date::MAX), Date::MAX);
    }
}
