//! The in-memory read model of the service's own events, kept by a
//! [`minzheng_kit::live::LiveView`]: what the schedulers and the indicators need, and nothing
//! personal.
//!
//! - divorce applications still pending, with their last day to register (the lapse scheduler)
//!   and the marriage they concern (one pending application per marriage);
//! - registry days with appointments still waiting (the no-show scheduler);
//! - burials per county and day with how many were eco-burials (节地生态安葬率);
//! - each registry's counselling-room periods (婚姻家庭辅导室覆盖率);
//! - the certificate numbers a marital-status query names: a marriage's when it differs from
//!   the marriage id (back-filled as printed, or reissued), and every divorce's.
//!
//! Records themselves (appointments, marriages, persons, deaths) are read from their streams.
//!
//! The overview receives the store's events decoded ([`codec::OwnStore`]), exactly as stored: an
//! application received under an older cooling-off law keeps its dates here too.

use std::collections::{BTreeMap, HashMap};

use minzheng_eventstore::RecordedEvent;
use minzheng_kit::live::LiveProjection;
use minzheng_types::RegionCode;
use time::Date;

use crate::{
    codec::{self, Recorded},
    death, divorce,
    ids::{ApplicationId, DayKey, MarriageId, Pseudonym},
    marriage, registry, registry_day,
};

/// Burials of one county on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Burials {
    pub total: u32,
    pub eco: u32,
}

/// See the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct Overview {
    pending_applications: BTreeMap<ApplicationId, (Date, MarriageId)>,
    /// Registry days (by stream key) with their day and how many appointments still wait.
    waiting_days: BTreeMap<DayKey, (Date, u32)>,
    death_counties: HashMap<Pseudonym, RegionCode>,
    burials: BTreeMap<(RegionCode, Date), Burials>,
    /// Each registry's counselling room changes: (first day, open).
    rooms: BTreeMap<RegionCode, Vec<(Date, bool)>>,
    /// Marriages whose certificate number in force is not their id.
    marriage_certificates: HashMap<MarriageId, String>,
    divorce_certificates: HashMap<ApplicationId, String>,
}

impl Overview {
    /// Pending applications whose last day to register is before `today`.
    pub fn lapsed_by(&self, today: Date) -> Vec<ApplicationId> {
        self.pending_applications
            .iter()
            .filter(|(_, (last_day, _))| *last_day < today)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The pending application of `marriage`, if any.
    pub fn pending_application_of(&self, marriage: &MarriageId) -> Option<&ApplicationId> {
        self.pending_applications
            .iter()
            .find(|(_, (_, m))| m == marriage)
            .map(|(id, _)| id)
    }

    /// Stream keys of registry days before `today` with appointments still waiting.
    pub fn days_with_waiting_appointments(&self, today: Date) -> Vec<DayKey> {
        self.waiting_days
            .iter()
            .filter(|(_, (day, waiting))| *day < today && *waiting > 0)
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Burials per county from `from` to `to`, both included.
    pub fn burials(&self, from: Date, to: Date) -> BTreeMap<RegionCode, Burials> {
        let mut counties: BTreeMap<RegionCode, Burials> = BTreeMap::new();
        for ((county, day), burials) in &self.burials {
            if (from..=to).contains(day) {
                let sum = counties.entry(*county).or_default();
                sum.total += burials.total;
                sum.eco += burials.eco;
            }
        }
        counties
    }

    /// Whether `registry` has a counselling room on `day`.
    pub fn counselling_room_on(&self, registry: RegionCode, day: Date) -> bool {
        self.rooms.get(&registry).is_some_and(|changes| {
            changes
                .iter()
                .rfind(|(since, _)| *since <= day)
                .is_some_and(|(_, open)| *open)
        })
    }

    /// The certificate number in force of `marriage`.
    pub fn marriage_certificate(&self, marriage: &MarriageId) -> String {
        self.marriage_certificates
            .get(marriage)
            .cloned()
            .unwrap_or_else(|| marriage.as_str().to_owned())
    }

    /// The certificate number of a registered (or back-filled) divorce.
    pub fn divorce_certificate(&self, application: &ApplicationId) -> Option<&str> {
        self.divorce_certificates
            .get(application)
            .map(String::as_str)
    }

    fn apply_marriage(&mut self, event: &marriage::Event) {
        match event {
            marriage::Event::Backfilled(e) => {
                self.marriage_certificates
                    .insert(e.id.clone(), e.certificate_number.clone());
            }
            marriage::Event::CertificateReissued(e) => {
                self.marriage_certificates
                    .insert(e.id.clone(), e.certificate_number.clone());
            }
            marriage::Event::Registered(_)
            | marriage::Event::Dissolved(_)
            | marriage::Event::DocumentAttached(_) => {}
        }
    }

    fn apply_day(&mut self, event: &registry_day::Event) {
        use registry_day::Event as E;
        // The day is the appointment's: its stream key is derived from it.
        let (appointment, change) = match event {
            E::AppointmentBooked(e) => (e.appointment, 1),
            E::AppointmentCancelled(e) => (e.appointment, -1),
            E::AppointmentCheckedIn(e) => (e.appointment, -1),
            E::AppointmentNoShow(e) => (e.appointment, -1),
            E::SlotsPublished(_) => return,
        };
        let key = appointment.day_key();
        let entry = self
            .waiting_days
            .entry(key.clone())
            .or_insert((appointment.day(), 0));
        entry.1 = entry.1.saturating_add_signed(change);
        if entry.1 == 0 {
            self.waiting_days.remove(&key);
        }
    }

    fn apply_divorce(&mut self, event: &divorce::Event) {
        use divorce::Event as E;
        match event {
            E::Applied(e) => {
                self.pending_applications
                    .insert(e.id.clone(), (e.last_day_to_register, e.marriage.clone()));
            }
            E::Withdrawn(e) => {
                self.pending_applications.remove(&e.id);
            }
            E::Lapsed(e) => {
                self.pending_applications.remove(&e.id);
            }
            E::Registered(e) => {
                self.pending_applications.remove(&e.id);
                self.divorce_certificates
                    .insert(e.id.clone(), e.certificate_number.clone());
            }
            // Entered from the archive registered: never pending.
            E::Backfilled(e) => {
                self.divorce_certificates
                    .insert(e.id.clone(), e.certificate_number.clone());
            }
            E::DocumentAttached(_) => {}
        }
    }

    fn apply_death(&mut self, event: &death::Event) {
        match event {
            death::Event::Recorded(e) => {
                self.death_counties.insert(e.death.clone(), e.county);
            }
            death::Event::FuneralRecorded(e) => {
                if let Some(county) = self.death_counties.get(&e.death) {
                    let burials = self.burials.entry((*county, e.buried_on)).or_default();
                    burials.total += 1;
                    burials.eco += u32::from(e.burial.is_eco());
                }
            }
        }
    }

    fn apply_registry(&mut self, event: &registry::Event) {
        let (registry, day, open) = match event {
            registry::Event::CounsellingRoomOpened(e) => (e.registry, e.opened_on, true),
            registry::Event::CounsellingRoomClosed(e) => (e.registry, e.closed_on, false),
        };
        self.rooms.entry(registry).or_default().push((day, open));
    }
}

impl LiveProjection for Overview {
    type Contract = codec::OwnStore;

    fn apply(&mut self, event: Recorded, _: &RecordedEvent) -> anyhow::Result<()> {
        match event {
            Recorded::RegistryDay(e) => self.apply_day(&e),
            Recorded::Divorce(e) => self.apply_divorce(&e),
            Recorded::Death(e) => self.apply_death(&e),
            Recorded::Registry(e) => self.apply_registry(&e),
            Recorded::Marriage(e) => self.apply_marriage(&e),
        }
        Ok(())
    }
}
