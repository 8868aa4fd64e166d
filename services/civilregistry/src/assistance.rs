//! Who was in a social-assistance household (社会救助) on a given day, as the assistance
//! service's events tell it: the [`Ledger`] the funeral fee waiver (惠民殡葬) consults.
//!
//! The assistance service owns the cases (stream `case-<case_id>`) and publishes their events
//! (contract: `proto/minzheng/assistance/v1/events.proto`). This service only follows them: each
//! one, decoded by [`crate::codec::assistance::AssistanceEvents`], is applied to one
//! in-memory ledger; nothing here is stored by this service. A case's life as the ledger sees it:
//!
//! 1. **granted** ([`Event::Granted`]): a household receives a category of assistance
//!    ([`AssistanceCategory`]) with its members from a day on;
//! 2. **members changed** ([`Event::MembersChanged`]), any number of times: the full list of
//!    members from a day on (a birth, a death, someone moved out);
//! 3. **ended** ([`Event::Ended`]): nobody in the case receives it from that day on.
//!
//! [`Ledger::membership_on`] answers whether a citizen was covered on a day, and by which case:
//! a citizen is covered on `day` by a case when the case was granted on or before `day`, has not
//! ended on or before `day`, and the member list in force on `day` (the latest one applying from
//! `day` or earlier) names them. When several cases cover a citizen the most generous category
//! wins: 特困 (Tekun), then 低保 (Dibao), then 低收入 (LowIncome), then 临时救助 (Temporary).
//!
//! The ledger is tolerant of the bus: applying an event twice changes nothing (each event
//! *sets* a fact: the grant, the list from a day, the end day), and events may arrive for a case
//! whose grant was not seen yet. Such events are kept, and the case covers nobody until its
//! grant arrives (if it never does, nobody). A repeated end replaces the end day. Member lists
//! applying before the grant's day are kept but never answer, since the case did not exist then.
//!
//! Memory: the ledger keeps every case it has seen and every member list, with an index from
//! citizen to their cases. Benxi has about 60 000 people in assistance, in perhaps 30 000 cases;
//! at roughly 100–200 bytes per member entry (an 18-character id number and its index entry)
//! that is well under 50 MB even after years of changes, so keying the index by [`CitizenId`]
//! is fine.

use std::collections::{BTreeMap, HashMap};

use minzheng_types::{CitizenId, RegionCode, id_type};
use time::Date;

id_type!(
    /// An assistance case's id, issued by the assistance service, e.g. `210502-DB-2025-000123`.
    CaseId
);

/// The kind of assistance a household receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssistanceCategory {
    /// 最低生活保障 (低保): the minimum living allowance.
    Dibao,
    /// 特困人员救助供养 (特困): support for persons in extreme poverty.
    Tekun,
    /// 低收入家庭: a low-income household receiving special assistance.
    LowIncome,
    /// 临时救助: temporary assistance.
    Temporary,
}

impl AssistanceCategory {
    pub const ALL: [AssistanceCategory; 4] = [
        AssistanceCategory::Dibao,
        AssistanceCategory::Tekun,
        AssistanceCategory::LowIncome,
        AssistanceCategory::Temporary,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AssistanceCategory::Dibao => "dibao",
            AssistanceCategory::Tekun => "tekun",
            AssistanceCategory::LowIncome => "low_income",
            AssistanceCategory::Temporary => "temporary",
        }
    }

    /// Rank when several cases cover one citizen: lower is more generous and wins.
    fn precedence(self) -> u8 {
        match self {
            AssistanceCategory::Tekun => 0,
            AssistanceCategory::Dibao => 1,
            AssistanceCategory::LowIncome => 2,
            AssistanceCategory::Temporary => 3,
        }
    }
}

/// What happened to an assistance case, as the assistance service publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A household was granted assistance: `members` receive it from `effective_from`.
    Granted {
        case_id: CaseId,
        category: AssistanceCategory,
        /// The county-level division that decided the case.
        county: RegionCode,
        members: Vec<CitizenId>,
        effective_from: Date,
    },
    /// The members covered by a case from `effective_on`: the full list, not a difference.
    MembersChanged {
        case_id: CaseId,
        members: Vec<CitizenId>,
        effective_on: Date,
    },
    /// A case ended: `effective_on` is the first day without the assistance.
    Ended { case_id: CaseId, effective_on: Date },
}

/// One case as the ledger knows it.
#[derive(Debug, Clone, Default)]
struct Case {
    /// The category and first day, once the grant is seen.
    grant: Option<(AssistanceCategory, Date)>,
    /// Member lists by the first day each applies.
    members: BTreeMap<Date, Vec<CitizenId>>,
    /// The first day without the assistance.
    ended_on: Option<Date>,
}

impl Case {
    /// The category when the case covers `citizen` on `day`.
    fn covers(&self, citizen: &CitizenId, day: Date) -> Option<AssistanceCategory> {
        let (category, from) = self.grant?;
        if day < from || self.ended_on.is_some_and(|end| day >= end) {
            return None;
        }
        let (_, members) = self.members.range(..=day).next_back()?;
        members.contains(citizen).then_some(category)
    }
}

/// Who was in which assistance case on which day; see the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    cases: HashMap<CaseId, Case>,
    /// Every case each citizen was ever listed in.
    by_citizen: HashMap<CitizenId, Vec<CaseId>>,
}

impl Ledger {
    /// Folds one event in. Never fails: see the module documentation for odd orders.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Granted {
                case_id,
                category,
                county: _,
                members,
                effective_from,
            } => {
                let case = self.cases.entry(case_id.clone()).or_default();
                case.grant = Some((*category, *effective_from));
                case.members.insert(*effective_from, members.clone());
                self.index(case_id, members);
            }
            Event::MembersChanged {
                case_id,
                members,
                effective_on,
            } => {
                let case = self.cases.entry(case_id.clone()).or_default();
                case.members.insert(*effective_on, members.clone());
                self.index(case_id, members);
            }
            Event::Ended {
                case_id,
                effective_on,
            } => {
                self.cases.entry(case_id.clone()).or_default().ended_on = Some(*effective_on);
            }
        }
    }

    /// The case covering `citizen` on `day` and its category, the most generous one when
    /// several do (ties by the smaller case id); `None` when no case covers them that day.
    pub fn membership_on(
        &self,
        citizen: &CitizenId,
        day: Date,
    ) -> Option<(AssistanceCategory, CaseId)> {
        self.by_citizen
            .get(citizen)?
            .iter()
            .filter_map(|id| {
                let category = self.cases.get(id)?.covers(citizen, day)?;
                Some((category, id))
            })
            .min_by(|(a, a_id), (b, b_id)| (a.precedence(), a_id).cmp(&(b.precedence(), b_id)))
            .map(|(category, id)| (category, id.clone()))
    }

    /// How many cases the ledger knows, granted or not.
    pub fn case_count(&self) -> usize {
        self.cases.len()
    }

    fn index(&mut self, case_id: &CaseId, members: &[CitizenId]) {
        for member in members {
            let cases = self.by_citizen.entry(member.clone()).or_default();
            if !cases.contains(case_id) {
                cases.push(case_id.clone());
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use time::macros::date;

    use super::*;

    /// Female, born 1949-12-31.
    pub(crate) fn grandmother() -> CitizenId {
        CitizenId::parse("11010519491231002X").expect("valid")
    }

    /// Male, born 1950-01-01.
    pub(crate) fn grandfather() -> CitizenId {
        CitizenId::parse("110105195001010012").expect("valid")
    }

    pub(crate) fn case(id: &str) -> CaseId {
        CaseId::parse(id).expect("valid")
    }

    pub(crate) fn county() -> RegionCode {
        RegionCode::parse("210502000000").expect("valid")
    }

    pub(crate) fn granted(
        id: &str,
        category: AssistanceCategory,
        members: Vec<CitizenId>,
        effective_from: Date,
    ) -> Event {
        Event::Granted {
            case_id: case(id),
            category,
            county: county(),
            members,
            effective_from,
        }
    }

    fn ledger(events: &[Event]) -> Ledger {
        let mut ledger = Ledger::default();
        for event in events {
            ledger.apply(event);
        }
        ledger
    }

    const DB: &str = "210502-DB-2025-000123";
    const TK: &str = "210502-TK-2025-000007";

    fn dibao_for_both() -> Event {
        granted(
            DB,
            AssistanceCategory::Dibao,
            vec![grandmother(), grandfather()],
            date!(2025 - 03 - 01),
        )
    }

    #[test]
    fn a_member_is_covered_from_the_grant_day() {
        let ledger = ledger(&[dibao_for_both()]);
        assert_eq!(
            ledger.membership_on(&grandmother(), date!(2025 - 02 - 28)),
            None
        );
        assert_eq!(
            ledger.membership_on(&grandmother(), date!(2025 - 03 - 01)),
            Some((AssistanceCategory::Dibao, case(DB)))
        );
        assert_eq!(
            ledger.membership_on(&grandfather(), date!(2030 - 01 - 01)),
            Some((AssistanceCategory::Dibao, case(DB)))
        );
    }

    #[test]
    fn a_member_removed_is_not_covered_from_the_change_on() {
        let ledger = ledger(&[
            dibao_for_both(),
            Event::MembersChanged {
                case_id: case(DB),
                members: vec![grandmother()],
                effective_on: date!(2025 - 09 - 01),
            },
        ]);
        assert_eq!(
            ledger.membership_on(&grandfather(), date!(2025 - 08 - 31)),
            Some((AssistanceCategory::Dibao, case(DB)))
        );
        assert_eq!(
            ledger.membership_on(&grandfather(), date!(2025 - 09 - 01)),
            None
        );
        assert_eq!(
            ledger.membership_on(&grandmother(), date!(2025 - 09 - 01)),
            Some((AssistanceCategory::Dibao, case(DB)))
        );
    }

    #[test]
    fn a_member_added_is_covered_only_from_the_change_on() {
        let ledger = ledger(&[
            granted(
                DB,
                AssistanceCategory::Dibao,
                vec![grandmother()],
                date!(2025 - 03 - 01),
            ),
            Event::MembersChanged {
                case_id: case(DB),
                members: vec![grandmother(), grandfather()],
                effective_on: date!(2025 - 06 - 01),
            },
        ]);
        assert_eq!(
            ledger.membership_on(&grandfather(), date!(2025 - 05 - 31)),
            None
        );
        assert_eq!(
            ledger.membership_on(&grandfather(), date!(2025 - 06 - 01)),
            Some((AssistanceCategory::Dibao, case(DB)))
        );
    }

    #[test]
    fn nobody_is_covered_from_the_end_on() {
        let ledger = ledger(&[
            dibao_for_both(),
            Event::Ended {
                case_id: case(DB),
                effective_on: date!(2026 - 01 - 01),
            },
        ]);
        assert_eq!(
            ledger.membership_on(&grandmother(), date!(2025 - 12 - 31)),
            Some((AssistanceCategory::Dibao, case(DB)))
        );
        assert_eq!(
            ledger.membership_on(&grandmother(), date!(2026 - 01 - 01)),
            None
        );
        assert_eq!(
            ledger.membership_on(&grandfather(), date!(2027 - 01 - 01)),
            None
        );
    }

    #[test]
    fn the_most_generous_case_wins() {
        let low_income = granted(
            "210502-DS-2025-000001",
            AssistanceCategory::LowIncome,
            vec![grandmother()],
            date!(2025 - 01 - 01),
        );
        let temporary = granted(
            "210502-LS-2025-000001",
            AssistanceCategory::Temporary,
            vec![grandmother()],
            date!(2025 - 01 - 01),
        );
        let tekun = granted(
            TK,
            AssistanceCategory::Tekun,
            vec![grandmother()],
            date!(2025 - 06 - 01),
        );
        let day = date!(2025 - 07 - 01);
        let category = |events: &[Event]| ledger(events).membership_on(&grandmother(), day);
        assert_eq!(
            category(&[temporary.clone(), low_income.clone()]).map(|m| m.0),
            Some(AssistanceCategory::LowIncome)
        );
        assert_eq!(
            category(&[temporary.clone(), low_income.clone(), dibao_for_both()]),
            Some((AssistanceCategory::Dibao, case(DB)))
        );
        assert_eq!(
            category(&[tekun.clone(), dibao_for_both(), low_income, temporary]),
            Some((AssistanceCategory::Tekun, case(TK)))
        );
        // Before the 特困 grant, the 低保 case answers.
        assert_eq!(
            ledger(&[tekun, dibao_for_both()]).membership_on(&grandmother(), date!(2025 - 05 - 31)),
            Some((AssistanceCategory::Dibao, case(DB)))
        );
    }

    #[test]
    fn events_of_unknown_cases_cover_nobody_until_the_grant_arrives() {
        let changed = Event::MembersChanged {
            case_id: case(DB),
            members: vec![grandmother()],
            effective_on: date!(2025 - 09 - 01),
        };
        let ended = Event::Ended {
            case_id: case(TK),
            effective_on: date!(2025 - 09 - 01),
        };
        let mut ledger = ledger(&[changed, ended]);
        assert_eq!(
            ledger.membership_on(&grandmother(), date!(2025 - 10 - 01)),
            None
        );
        assert_eq!(ledger.case_count(), 2);
        // The grant arrives late: the change it missed still applies from its day.
        ledger.apply(&dibao_for_both());
        assert_eq!(
            ledger.membership_on(&grandfather(), date!(2025 - 08 - 31)),
            Some((AssistanceCategory::Dibao, case(DB)))
        );
        assert_eq!(
            ledger.membership_on(&grandfather(), date!(2025 - 09 - 01)),
            None
        );
    }

    #[test]
    fn applying_an_event_twice_changes_nothing() {
        let events = [
            dibao_for_both(),
            Event::MembersChanged {
                case_id: case(DB),
                members: vec![grandmother()],
                effective_on: date!(2025 - 09 - 01),
            },
            Event::Ended {
                case_id: case(DB),
                effective_on: date!(2026 - 01 - 01),
            },
        ];
        let twice: Vec<Event> = events.iter().flat_map(|e| [e.clone(), e.clone()]).collect();
        let (once, twice) = (ledger(&events), ledger(&twice));
        for day in [
            date!(2025 - 02 - 28),
            date!(2025 - 03 - 01),
            date!(2025 - 09 - 01),
            date!(2026 - 01 - 01),
        ] {
            for citizen in [grandmother(), grandfather()] {
                assert_eq!(
                    once.membership_on(&citizen, day),
                    twice.membership_on(&citizen, day)
                );
            }
        }
        assert_eq!(twice.by_citizen[&grandmother()], vec![case(DB)]);
    }

    #[test]
    fn a_member_list_dated_before_the_grant_does_not_answer_before_it() {
        let ledger = ledger(&[
            dibao_for_both(),
            Event::MembersChanged {
                case_id: case(DB),
                members: vec![grandmother()],
                effective_on: date!(2025 - 01 - 01),
            },
        ]);
        assert_eq!(
            ledger.membership_on(&grandmother(), date!(2025 - 02 - 01)),
            None
        );
        assert_eq!(
            ledger.membership_on(&grandfather(), date!(2025 - 03 - 01)),
            Some((AssistanceCategory::Dibao, case(DB)))
        );
    }
}
