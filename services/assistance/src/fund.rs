//! A township's reserve fund for temporary assistance (乡镇（街道）临时救助备用金), stream
//! `fund-<township code>`.
//!
//! Temporary assistance (临时救助) is for sudden hardship and is applied for where the hardship
//! happens. 《社会救助暂行办法》(国务院令第649号, as amended by 国务院令第709号, 2019) 第四十八条:
//! "申请临时救助的，应当向乡镇人民政府、
//! 街道办事处提出，经审核，由县级人民政府民政部门审批；救助金额较小的，县级人民政府民政部门可以
//! 委托乡镇人民政府、街道办事处审批。情况紧急的，可以按照规定简化审批手续。" — the county
//! approves, but may entrust small amounts to the township, and urgent cases follow a simplified
//! procedure. 《国务院关于全面建立临时救助制度的通知》(国发〔2014〕47号) calls it immediate
//! assistance (先行救助): in an emergency the township pays first and completes the approval
//! formalities afterwards (紧急情况解除之后，应按规定补齐审核审批手续). 《民政部 财政部关于进一步
//! 加强和改进临时救助工作的意见》(民发〔2018〕23号) asks every township (街道) to hold a reserve fund
//! (备用金) to pay it from. (We verified the title and number of 民发〔2018〕23号, not the exact
//! clause; what follows is its substance as the plan and DOMAIN.md §1 state it.)
//!
//! So a township's fund:
//!
//! - is **replenished** ([`Replenish`]) by allocations from the county (each with its document);
//!   the first replenishment establishes it ([`ReserveFund::is_established`]: the plan's
//!   indicator "townships with a temporary-assistance reserve fund", 85% → 90%);
//! - **disburses** ([`Disburse`]) a temporary-assistance case's payment at once, up to the
//!   township's limit in force (passed in by the caller from the county's policy). Above the
//!   limit the township cannot pay: the case goes to the county for approval. The report that
//!   must follow a payment within its deadline is the case's business, not the fund's;
//! - **never goes negative**: a payment larger than the balance is refused, whatever else happens
//!   (the application layer's optimistic concurrency makes two concurrent payments decide one
//!   after the other on the same stream).
//!
//! A case is paid once: disbursing the same case and amount again is a retry and does nothing;
//! another amount for the same case is refused.

use std::collections::BTreeMap;

use minzheng_kit::aggregate::{Aggregate, DomainError};
use minzheng_types::{BoundedText, Fen, RegionCode, RegionLevel};
use time::Date;

use crate::{category::Category, ids::CaseId};

/// Longest allocation reference ([`Replenish::reference`]) a command may give, in characters.
pub const REFERENCE_MAX_CHARS: usize = 200;

/// A payment from the fund to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disbursement {
    pub case_id: CaseId,
    pub amount: Fen,
    /// The township's limit the payment was decided against.
    pub limit: Fen,
    pub on: Date,
}

/// A township's reserve fund; `Default` is one never replenished (not established).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReserveFund {
    township: Option<RegionCode>,
    balance: Fen,
    replenished: Fen,
    disbursements: BTreeMap<CaseId, Disbursement>,
}

impl ReserveFund {
    /// The township, once the fund is established.
    pub fn township(&self) -> Option<RegionCode> {
        self.township
    }

    /// What the fund holds now; never negative.
    pub fn balance(&self) -> Fen {
        self.balance
    }

    /// Whether the fund was ever replenished: whether the township has a reserve fund.
    pub fn is_established(&self) -> bool {
        self.township.is_some()
    }

    /// Everything ever allocated to the fund.
    pub fn total_replenished(&self) -> Fen {
        self.replenished
    }

    /// The payments made, by case.
    pub fn disbursements(&self) -> impl Iterator<Item = &Disbursement> {
        self.disbursements.values()
    }

    /// The payment made to `case_id`, if any.
    pub fn disbursement(&self, case_id: &CaseId) -> Option<&Disbursement> {
        self.disbursements.get(case_id)
    }
}

/// What can be asked of a reserve fund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Replenish(Replenish),
    Disburse(Disburse),
}

/// Add an allocation to the fund (the first one establishes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replenish {
    /// The township (乡镇/街道) holding the fund: a township-level code, the stream's key.
    pub township: RegionCode,
    /// More than zero.
    pub amount: Fen,
    /// The allocation's document, e.g. 平财社〔2026〕12号.
    pub reference: BoundedText,
    /// Today.
    pub on: Date,
}

/// Pay a temporary-assistance case at once (先行救助).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disburse {
    /// A temporary-assistance (临时救助) case.
    pub case_id: CaseId,
    /// More than zero, at most `limit`.
    pub amount: Fen,
    /// The township's limit for immediate assistance in force today, from the county's policy.
    pub limit: Fen,
    /// Today.
    pub on: Date,
}

/// What happened to a reserve fund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Replenished(ReserveFundReplenished),
    Disbursed(ReserveFundDisbursed),
}

/// An allocation was added to the fund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveFundReplenished {
    pub township: RegionCode,
    pub amount: Fen,
    /// The balance after the allocation.
    pub balance_after: Fen,
    pub reference: BoundedText,
    pub on: Date,
}

/// A case was paid from the fund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveFundDisbursed {
    pub township: RegionCode,
    pub case_id: CaseId,
    pub amount: Fen,
    /// The township's limit the payment was decided against.
    pub limit: Fen,
    /// The balance after the payment; never negative.
    pub balance_after: Fen,
    pub on: Date,
}

/// Why a command on a reserve fund was refused. Messages carry the fund's balance and limit
/// (public figures of a township), never a payment's amount (a benefit to a person).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("a reserve fund is held by a township (乡镇/街道); {code} is a {level}-level code")]
    NotATownship {
        code: RegionCode,
        level: RegionLevel,
    },
    #[error("this is the reserve fund of {fund}, not of {requested}")]
    OtherTownship {
        fund: RegionCode,
        requested: RegionCode,
    },
    #[error("the amount must be more than zero")]
    AmountNotPositive,
    #[error("the allocation would take the balance beyond what can be recorded")]
    BalanceOverflow,
    #[error(
        "the township has no reserve fund (备用金) yet: it must be replenished before it pays, \
         or the case goes to the county for approval"
    )]
    NotEstablished,
    #[error("the reserve fund pays temporary assistance (临时救助) only, not {category}")]
    NotTemporaryAssistance { category: Category },
    #[error(
        "the amount is above the township's limit of {limit} for immediate assistance (先行救助): \
         transfer the case to the county for approval"
    )]
    AboveTownshipLimit { limit: Fen },
    #[error(
        "the reserve fund holds {balance}, less than the payment: a reserve fund never goes \
         negative; replenish it or transfer the case to the county"
    )]
    Insufficient { balance: Fen },
    #[error("the case was already paid another amount from the reserve fund")]
    AlreadyDisbursed,
}

impl DomainError for Error {
    fn rule(&self) -> &str {
        match self {
            Error::NotATownship { .. } => "not_a_township",
            Error::OtherTownship { .. } => "other_township",
            Error::AmountNotPositive => "amount_not_positive",
            Error::BalanceOverflow => "balance_overflow",
            Error::NotEstablished => "reserve_fund_not_established",
            Error::NotTemporaryAssistance { .. } => "not_temporary_assistance",
            Error::AboveTownshipLimit { .. } => "above_township_limit",
            Error::Insufficient { .. } => "reserve_fund_insufficient",
            Error::AlreadyDisbursed => "already_disbursed",
        }
    }
}

impl Aggregate for ReserveFund {
    const CATEGORY: &'static str = "fund";
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn handle(&self, command: &Command) -> Result<Vec<Event>, Error> {
        match command {
            Command::Replenish(c) => self.replenish(c),
            Command::Disburse(c) => self.disburse(c),
        }
        .map(|event| event.into_iter().collect())
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::Replenished(e) => {
                self.township = Some(e.township);
                self.balance = e.balance_after;
                // A running total of what was ever allocated: it may outgrow what an i64 holds
                // after many cycles, where it stays at the largest amount.
                self.replenished = self
                    .replenished
                    .checked_add(e.amount)
                    .unwrap_or(Fen::new(i64::MAX));
            }
            Event::Disbursed(e) => {
                self.balance = e.balance_after;
                self.disbursements.insert(
                    e.case_id,
                    Disbursement {
                        case_id: e.case_id,
                        amount: e.amount,
                        limit: e.limit,
                        on: e.on,
                    },
                );
            }
        }
        self
    }
}

impl ReserveFund {
    fn replenish(&self, c: &Replenish) -> Result<Option<Event>, Error> {
        let level = c.township.level();
        if level != RegionLevel::Township {
            return Err(Error::NotATownship {
                code: c.township,
                level,
            });
        }
        if let Some(fund) = self.township
            && fund != c.township
        {
            return Err(Error::OtherTownship {
                fund,
                requested: c.township,
            });
        }
        require_positive(c.amount)?;
        let balance_after = self
            .balance
            .checked_add(c.amount)
            .ok_or(Error::BalanceOverflow)?;
        Ok(Some(Event::Replenished(ReserveFundReplenished {
            township: c.township,
            amount: c.amount,
            balance_after,
            reference: c.reference.clone(),
            on: c.on,
        })))
    }

    /// The rules in the order a caseworker would want to hear them: a retry is answered first,
    /// then what the case is, then whether the township may pay it, then whether it can.
    fn disburse(&self, c: &Disburse) -> Result<Option<Event>, Error> {
        require_positive(c.amount)?;
        if let Some(paid) = self.disbursements.get(&c.case_id) {
            return if paid.amount == c.amount {
                Ok(None)
            } else {
                Err(Error::AlreadyDisbursed)
            };
        }
        if c.case_id.category() != Category::Temporary {
            return Err(Error::NotTemporaryAssistance {
                category: c.case_id.category(),
            });
        }
        if c.amount > c.limit {
            return Err(Error::AboveTownshipLimit { limit: c.limit });
        }
        let township = self.township.ok_or(Error::NotEstablished)?;
        let balance_after = self
            .balance
            .checked_sub(c.amount)
            .filter(|b| !b.is_negative())
            .ok_or(Error::Insufficient {
                balance: self.balance,
            })?;
        Ok(Some(Event::Disbursed(ReserveFundDisbursed {
            township,
            case_id: c.case_id,
            amount: c.amount,
            limit: c.limit,
            balance_after,
            on: c.on,
        })))
    }
}

fn require_positive(amount: Fen) -> Result<(), Error> {
    if amount > Fen::ZERO {
        Ok(())
    } else {
        Err(Error::AmountNotPositive)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use minzheng_kit::testing::given;
    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    pub(crate) const ON: Date = date!(2026 - 03 - 02);

    pub(crate) fn township() -> RegionCode {
        // 本溪市平山区 平山街道.
        RegionCode::parse("210502001000").expect("valid")
    }

    pub(crate) fn yuan(amount: i64) -> Fen {
        Fen::from_yuan(amount).expect("in range")
    }

    pub(crate) fn case(ordinal: u32) -> CaseId {
        CaseId::new(
            RegionCode::parse("210502000000").expect("valid"),
            Category::Temporary,
            2026,
            ordinal,
        )
        .expect("valid")
    }

    pub(crate) fn reference() -> BoundedText {
        BoundedText::parse("平财社〔2026〕12号", REFERENCE_MAX_CHARS).expect("valid")
    }

    fn replenish(amount: Fen) -> Command {
        Command::Replenish(Replenish {
            township: township(),
            amount,
            reference: reference(),
            on: ON,
        })
    }

    pub(crate) fn replenished(amount: Fen, balance_after: Fen) -> Event {
        Event::Replenished(ReserveFundReplenished {
            township: township(),
            amount,
            balance_after,
            reference: reference(),
            on: ON,
        })
    }

    fn disburse(case_id: CaseId, amount: Fen) -> Command {
        Command::Disburse(Disburse {
            case_id,
            amount,
            limit: yuan(3000),
            on: ON,
        })
    }

    pub(crate) fn disbursed(case_id: CaseId, amount: Fen, balance_after: Fen) -> Event {
        Event::Disbursed(ReserveFundDisbursed {
            township: township(),
            case_id,
            amount,
            limit: yuan(3000),
            balance_after,
            on: ON,
        })
    }

    #[test]
    fn the_first_replenishment_establishes_the_fund() {
        let none = given::<ReserveFund>([]);
        assert!(!none.state().is_established());
        assert_eq!(none.state().balance(), Fen::ZERO);
        let state = none
            .when(replenish(yuan(50_000)))
            .then([replenished(yuan(50_000), yuan(50_000))]);
        assert!(state.is_established());
        assert_eq!(state.township(), Some(township()));
        assert_eq!(state.balance(), yuan(50_000));
    }

    #[test]
    fn replenishments_add_up() {
        let state = given::<ReserveFund>([replenished(yuan(50_000), yuan(50_000))])
            .when(replenish(yuan(20_000)))
            .then([replenished(yuan(20_000), yuan(70_000))]);
        assert_eq!(state.balance(), yuan(70_000));
        assert_eq!(state.total_replenished(), yuan(70_000));
    }

    #[test]
    fn a_fund_is_a_townships_and_only_its_own() {
        for code in ["210502000000", "210502001001", "210500000000"] {
            let Command::Replenish(c) = replenish(yuan(1)) else {
                unreachable!()
            };
            given::<ReserveFund>([])
                .when(Command::Replenish(Replenish {
                    township: RegionCode::parse(code).expect("valid"),
                    ..c
                }))
                .then_refused("not_a_township");
        }
        let Command::Replenish(c) = replenish(yuan(1)) else {
            unreachable!()
        };
        given::<ReserveFund>([replenished(yuan(50_000), yuan(50_000))])
            .when(Command::Replenish(Replenish {
                township: RegionCode::parse("210502002000").expect("valid"),
                ..c
            }))
            .then_refused("other_township");
    }

    #[test]
    fn amounts_are_more_than_zero() {
        for amount in [Fen::ZERO, Fen::new(-100)] {
            given::<ReserveFund>([])
                .when(replenish(amount))
                .then_refused("amount_not_positive");
            given::<ReserveFund>([replenished(yuan(50_000), yuan(50_000))])
                .when(disburse(case(1), amount))
                .then_refused("amount_not_positive");
        }
    }

    #[test]
    fn a_balance_beyond_what_can_be_recorded_is_refused() {
        given::<ReserveFund>([replenished(Fen::new(i64::MAX), Fen::new(i64::MAX))])
            .when(replenish(Fen::new(1)))
            .then_refused("balance_overflow");
    }

    #[test]
    fn a_case_is_paid_at_once_up_to_the_township_limit() {
        let state = given::<ReserveFund>([replenished(yuan(50_000), yuan(50_000))])
            .when(disburse(case(1), yuan(3000)))
            .then([disbursed(case(1), yuan(3000), yuan(47_000))]);
        assert_eq!(state.balance(), yuan(47_000));
        assert_eq!(
            state.disbursement(&case(1)),
            Some(&Disbursement {
                case_id: case(1),
                amount: yuan(3000),
                limit: yuan(3000),
                on: ON,
            })
        );
        assert_eq!(state.disbursements().count(), 1);
    }

    #[test]
    fn the_fund_may_be_emptied_to_the_last_fen() {
        let state = given::<ReserveFund>([replenished(yuan(800), yuan(800))])
            .when(disburse(case(1), yuan(800)))
            .then([disbursed(case(1), yuan(800), Fen::ZERO)]);
        assert_eq!(state.balance(), Fen::ZERO);
    }

    /// The rule test the issue asks for: the reserve fund refusing an overdraft.
    #[test]
    fn the_reserve_fund_refuses_an_overdraft() {
        let refusal = given::<ReserveFund>([
            replenished(yuan(5000), yuan(5000)),
            disbursed(case(1), yuan(3000), yuan(2000)),
        ])
        .when(disburse(case(2), Fen::new(200_001)))
        .then_refused("reserve_fund_insufficient");
        assert_eq!(
            refusal.to_string(),
            "the reserve fund holds 2000.00 元, less than the payment: a reserve fund never goes \
             negative; replenish it or transfer the case to the county"
        );
        // One fen less fits exactly.
        given::<ReserveFund>([
            replenished(yuan(5000), yuan(5000)),
            disbursed(case(1), yuan(3000), yuan(2000)),
        ])
        .when(disburse(case(2), yuan(2000)))
        .then([disbursed(case(2), yuan(2000), Fen::ZERO)]);
    }

    #[test]
    fn a_township_without_a_fund_pays_nothing() {
        given::<ReserveFund>([])
            .when(disburse(case(1), yuan(100)))
            .then_refused("reserve_fund_not_established");
    }

    #[test]
    fn above_the_limit_the_case_goes_to_the_county() {
        let refusal = given::<ReserveFund>([replenished(yuan(50_000), yuan(50_000))])
            .when(disburse(case(1), Fen::new(300_001)))
            .then_refused("above_township_limit");
        assert!(refusal.to_string().contains("limit of 3000.00 元"));
        assert!(
            refusal
                .to_string()
                .contains("transfer the case to the county")
        );
        // The limit is the caller's, today's: a higher one admits the same amount.
        given::<ReserveFund>([replenished(yuan(50_000), yuan(50_000))])
            .when(Command::Disburse(Disburse {
                case_id: case(1),
                amount: Fen::new(300_001),
                limit: yuan(5000),
                on: ON,
            }))
            .then([Event::Disbursed(ReserveFundDisbursed {
                township: township(),
                case_id: case(1),
                amount: Fen::new(300_001),
                limit: yuan(5000),
                balance_after: Fen::new(4_699_999),
                on: ON,
            })]);
    }

    #[test]
    fn the_fund_pays_temporary_assistance_only() {
        let dibao = CaseId::parse("210502-DB-2026-000001").expect("valid");
        given::<ReserveFund>([replenished(yuan(50_000), yuan(50_000))])
            .when(disburse(dibao, yuan(100)))
            .then_refused("not_temporary_assistance");
    }

    #[test]
    fn a_case_is_paid_once() {
        let paid = [
            replenished(yuan(50_000), yuan(50_000)),
            disbursed(case(1), yuan(3000), yuan(47_000)),
        ];
        // The same payment again is a retry: nothing happens, even if the limit has changed.
        given::<ReserveFund>(paid.clone())
            .when(disburse(case(1), yuan(3000)))
            .then([]);
        given::<ReserveFund>(paid.clone())
            .when(Command::Disburse(Disburse {
                case_id: case(1),
                amount: yuan(3000),
                limit: yuan(1000),
                on: date!(2026 - 03 - 03),
            }))
            .then([]);
        let refusal = given::<ReserveFund>(paid)
            .when(disburse(case(1), yuan(2000)))
            .then_refused("already_disbursed");
        assert!(!refusal.to_string().contains("2000"));
    }

    /// A command of a random run: amounts include zero and negatives, cases repeat, limits vary.
    fn commands() -> impl Strategy<Value = Command> {
        let amount = -1_000i64..2_000_000;
        prop_oneof![
            amount.clone().prop_map(|fen| replenish(Fen::new(fen))),
            (1u32..8, amount, 0i64..1_500_000).prop_map(|(ordinal, fen, limit)| {
                Command::Disburse(Disburse {
                    case_id: case(ordinal),
                    amount: Fen::new(fen),
                    limit: Fen::new(limit),
                    on: ON,
                })
            }),
        ]
    }

    proptest! {
        #[test]
        fn no_sequence_of_commands_leaves_a_negative_balance(
            run in proptest::collection::vec(commands(), 0..60)
        ) {
            let mut fund = ReserveFund::default();
            let (mut allocated, mut paid) = (0i64, 0i64);
            for command in &run {
                let Ok(events) = fund.handle(command) else { continue };
                for event in &events {
                    match event {
                        Event::Replenished(e) => allocated += e.amount.fen(),
                        Event::Disbursed(e) => {
                            prop_assert!(e.amount <= e.limit);
                            paid += e.amount.fen();
                        }
                    }
                    fund = fund.apply(event);
                    prop_assert!(!fund.balance().is_negative(), "balance {}", fund.balance());
                }
            }
            prop_assert_eq!(fund.balance().fen(), allocated - paid);
            let sum: i64 = fund.disbursements().map(|d| d.amount.fen()).sum();
            prop_assert_eq!(sum, paid);
        }
    }
}
