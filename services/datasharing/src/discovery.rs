//! Proactive discovery (主动发现): from a death the civil registry records and the households the
//! service knows (an assistance application's household; household registration, 户籍), who is
//! left in difficulty — a minor whose parents or guardians have all died (for child welfare), an
//! elderly person whose spouse died and who now lives alone (for elderly care). Pure: the
//! households and the deaths known come in, the alerts to raise go out, each naming the death
//! records it rests on.

use minzheng_types::{CitizenId, RegionCode};
use time::Date;

/// Age from which a person is elderly (老年人权益保障法 第二条: 六十周岁以上).
pub const ELDERLY_FROM_AGE: i32 = 60;
/// Age of majority (民法典 第十七条: 十八周岁以上的自然人为成年人).
pub const ADULT_FROM_AGE: i32 = 18;

/// A member's relation to the household's reference person (the applicant, or the head of the
/// registered household, 户主).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The reference person.
    Reference,
    Spouse,
    Child,
    Parent,
    Grandparent,
    Grandchild,
    Sibling,
    Other,
}

impl Relation {
    /// The relation to the head as household registration writes it (户主, 配偶, 子, 女, …).
    pub fn from_registration(text: &str) -> Relation {
        match text.trim() {
            "户主" | "本人" => Relation::Reference,
            "配偶" | "妻" | "夫" | "妻子" | "丈夫" => Relation::Spouse,
            "子" | "女" | "长子" | "次子" | "三子" | "长女" | "次女" | "三女" | "儿子" | "女儿"
            | "独生子" | "独生女" | "养子" | "养女" | "继子" | "继女" => {
                Relation::Child
            }
            "父" | "母" | "父亲" | "母亲" => Relation::Parent,
            "祖父" | "祖母" | "外祖父" | "外祖母" => Relation::Grandparent,
            "孙子" | "孙女" | "外孙子" | "外孙女" => Relation::Grandchild,
            "兄" | "弟" | "姐" | "妹" | "哥哥" | "弟弟" | "姐姐" | "妹妹" => {
                Relation::Sibling
            }
            _ => Relation::Other,
        }
    }
}

/// Where a household is known from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HouseholdSource {
    AssistanceCase,
    Registration,
}

/// A household as the service knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Household {
    pub source: HouseholdSource,
    pub division: Option<RegionCode>,
    pub members: Vec<(CitizenId, Relation)>,
}

/// A death the civil registry recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Death {
    pub death_id: String,
    pub died_on: Date,
}

/// An alert to raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    /// Every parent or guardian of `child` has died.
    GuardiansDeceased {
        child: CitizenId,
        deaths: Vec<Death>,
        source: HouseholdSource,
        division: Option<RegionCode>,
    },
    /// `person`, elderly, is left alone by their spouse's death.
    ElderlyLeftAlone {
        person: CitizenId,
        spouse_death: Death,
        source: HouseholdSource,
        division: Option<RegionCode>,
    },
}

/// What other agencies' records say of a household in assistance, against its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncomeAlert {
    /// A household receiving the dibao (or extreme-poverty support) whose per-capita income is
    /// now above the dibao standard (收入超标): its case is to be reviewed.
    AboveLine,
    /// A low-income household whose per-capita income fell to the dibao standard or below (收入
    /// 下降): it may now be entitled to the dibao.
    BelowLine,
}

/// The income alert, if any, for a case of `category` (the assistance category's code) whose
/// verified income now stands at `position`.
pub fn income_alert(
    category: &str,
    position: crate::verification::Position,
) -> Option<IncomeAlert> {
    use crate::verification::Position;
    match (category, position) {
        ("DIBAO" | "SINGLE_PERSON" | "TEKUN", Position::LowIncome | Position::AboveLowIncome) => {
            Some(IncomeAlert::AboveLine)
        }
        ("LOW_INCOME", Position::AtOrBelowDibao) => Some(IncomeAlert::BelowLine),
        _ => None,
    }
}

/// Age in whole years on `day` (birth date from the id number).
pub fn age_on(citizen: &CitizenId, day: Date) -> i32 {
    let birth = citizen.birth_date();
    let mut age = day.year() - birth.year();
    if (day.month() as u8, day.day()) < (birth.month() as u8, birth.day()) {
        age -= 1;
    }
    age
}

/// The parents or guardians of a member who is a child of the reference person: the reference
/// person and their spouse, as far as the household lists them.
fn guardians(household: &Household) -> Vec<&CitizenId> {
    household
        .members
        .iter()
        .filter(|(_, r)| matches!(r, Relation::Reference | Relation::Spouse))
        .map(|(c, _)| c)
        .collect()
}

/// What the death of `deceased` on `day` reveals in `household`, the deaths known (including
/// this one) given by `death_of`.
pub fn discover(
    household: &Household,
    deceased: &CitizenId,
    day: Date,
    death_of: &dyn Fn(&CitizenId) -> Option<Death>,
) -> Vec<Alert> {
    let Some((_, deceased_relation)) = household.members.iter().find(|(c, _)| c == deceased) else {
        return Vec::new();
    };
    let mut alerts = Vec::new();
    let guardians = guardians(household);
    // A guardian died: the minors among the reference person's children, if no guardian is left.
    if guardians.contains(&deceased) {
        let deaths: Option<Vec<Death>> = guardians.iter().map(|g| death_of(g)).collect();
        if let Some(deaths) = deaths {
            for (child, relation) in &household.members {
                if *relation == Relation::Child
                    && age_on(child, day) < ADULT_FROM_AGE
                    && death_of(child).is_none()
                {
                    alerts.push(Alert::GuardiansDeceased {
                        child: child.clone(),
                        deaths: deaths.clone(),
                        source: household.source,
                        division: household.division,
                    });
                }
            }
        }
    }
    // A spouse died: the survivor, elderly, with nobody else alive in the household.
    let spouse_of_deceased = match deceased_relation {
        Relation::Reference => household
            .members
            .iter()
            .find(|(_, r)| *r == Relation::Spouse)
            .map(|(c, _)| c),
        Relation::Spouse => household
            .members
            .iter()
            .find(|(_, r)| *r == Relation::Reference)
            .map(|(c, _)| c),
        _ => None,
    };
    if let (Some(survivor), Some(death)) = (spouse_of_deceased, death_of(deceased)) {
        let alone = household
            .members
            .iter()
            .all(|(c, _)| c == survivor || death_of(c).is_some());
        if alone && death_of(survivor).is_none() && age_on(survivor, day) >= ELDERLY_FROM_AGE {
            alerts.push(Alert::ElderlyLeftAlone {
                person: survivor.clone(),
                spouse_death: death,
                source: household.source,
                division: household.division,
            });
        }
    }
    alerts
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use time::macros::date;

    use super::*;

    const FATHER: &str = "210502198001011234";
    const MOTHER: &str = "210502198207050028";
    const SON: &str = "210502201006010040";
    const DAUGHTER_ADULT: &str = "210502200001010020";
    const OLD_MAN: &str = "210502195803120025";
    const OLD_WOMAN: &str = "210502195203040021";

    fn id(c: &str) -> CitizenId {
        CitizenId::parse(c).expect("valid")
    }

    fn household(members: &[(&str, Relation)]) -> Household {
        Household {
            source: HouseholdSource::Registration,
            division: RegionCode::parse("210502001000").ok(),
            members: members.iter().map(|(c, r)| (id(c), *r)).collect(),
        }
    }

    fn deaths(dead: &[&str]) -> HashMap<CitizenId, Death> {
        dead.iter()
            .enumerate()
            .map(|(n, c)| {
                (
                    id(c),
                    Death {
                        death_id: format!("D-{n}"),
                        died_on: date!(2026 - 04 - 01),
                    },
                )
            })
            .collect()
    }

    fn run(h: &Household, deceased: &str, dead: &[&str]) -> Vec<Alert> {
        let known = deaths(dead);
        discover(h, &id(deceased), date!(2026 - 04 - 02), &|c| {
            known.get(c).cloned()
        })
    }

    #[test]
    fn a_minor_is_discovered_when_the_last_parent_dies_naming_both_deaths() {
        let family = household(&[
            (FATHER, Relation::Reference),
            (MOTHER, Relation::Spouse),
            (SON, Relation::Child),
            (DAUGHTER_ADULT, Relation::Child),
        ]);
        assert!(
            run(&family, FATHER, &[FATHER]).is_empty(),
            "the mother lives"
        );
        let alerts = run(&family, MOTHER, &[FATHER, MOTHER]);
        assert_eq!(alerts.len(), 1, "only the minor: {alerts:?}");
        let Alert::GuardiansDeceased { child, deaths, .. } = &alerts[0] else {
            panic!("a child-welfare alert")
        };
        assert_eq!(child, &id(SON));
        let ids: Vec<&str> = deaths.iter().map(|d| d.death_id.as_str()).collect();
        assert_eq!(ids.len(), 2);
    }

    #[test]
    fn a_single_parent_household_is_discovered_at_that_parents_death() {
        let family = household(&[(MOTHER, Relation::Reference), (SON, Relation::Child)]);
        assert_eq!(run(&family, MOTHER, &[MOTHER]).len(), 1);
    }

    #[test]
    fn an_elderly_widow_alone_is_discovered_not_one_living_with_others() {
        let couple = household(&[
            (OLD_MAN, Relation::Reference),
            (OLD_WOMAN, Relation::Spouse),
        ]);
        let alerts = run(&couple, OLD_MAN, &[OLD_MAN]);
        assert!(
            matches!(&alerts[..], [Alert::ElderlyLeftAlone { person, .. }] if *person == id(OLD_WOMAN)),
            "{alerts:?}"
        );
        let with_son = household(&[
            (OLD_MAN, Relation::Reference),
            (OLD_WOMAN, Relation::Spouse),
            (FATHER, Relation::Child),
        ]);
        assert!(run(&with_son, OLD_MAN, &[OLD_MAN]).is_empty());
        // A younger widow is not elderly.
        let young = household(&[(FATHER, Relation::Reference), (MOTHER, Relation::Spouse)]);
        assert!(run(&young, FATHER, &[FATHER]).is_empty());
    }

    #[test]
    fn incomes_above_or_below_the_line_alert_by_category() {
        use crate::verification::Position;
        assert_eq!(
            income_alert("DIBAO", Position::LowIncome),
            Some(IncomeAlert::AboveLine)
        );
        assert_eq!(income_alert("DIBAO", Position::AtOrBelowDibao), None);
        assert_eq!(
            income_alert("LOW_INCOME", Position::AtOrBelowDibao),
            Some(IncomeAlert::BelowLine)
        );
        assert_eq!(income_alert("LOW_INCOME", Position::LowIncome), None);
        assert_eq!(
            income_alert("DIBAO", Position::Unknown),
            None,
            "no line, no guess"
        );
        assert_eq!(income_alert("TEMPORARY", Position::AboveLowIncome), None);
    }

    #[test]
    fn registration_relations_are_read_as_written() {
        assert_eq!(Relation::from_registration("户主"), Relation::Reference);
        assert_eq!(Relation::from_registration("长女"), Relation::Child);
        assert_eq!(Relation::from_registration("配偶"), Relation::Spouse);
        assert_eq!(Relation::from_registration("表弟"), Relation::Other);
        assert_eq!(age_on(&id(SON), date!(2028 - 05 - 31)), 17);
        assert_eq!(age_on(&id(SON), date!(2028 - 06 - 01)), 18);
    }
}
