//! Marriages, divorces, certificates and archive documents; marriages and divorces back-filled
//! from the paper archive (档案电子化, 历史离婚档案补录).

use minzheng_kit::{
    Error,
    aggregate::{
        Aggregate as _, CommandContext, Committed, Loaded, commit_together, with_conflict_retries,
    },
};
use minzheng_types::{BoundedText, CitizenId, RegionCode};
use time::Date;

use super::{CONFLICT_RETRIES, CivilRegistry, last};
use crate::{
    divorce,
    ids::{ApplicationId, AppointmentId, ArchiveReference, MarriageId},
    marriage::{self, ArchiveDocument},
    person, registration,
    registry_day::Service,
    verification::{Party, Verification},
};

/// A marriage registered (or found registered on the same appointment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarriageRegistered {
    pub marriage: MarriageId,
    pub certificate_number: String,
    pub committed: Option<Committed>,
}

/// A citizen's marital status on a day, and what it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaritalStatus {
    /// `None`: no marriage of the citizen in these records on that day.
    pub period: Option<person::StatusPeriod>,
    /// The certificate number of the marriage (or of the divorce) the status rests on.
    pub certificate_number: Option<String>,
    pub deceased_on: Option<Date>,
}

impl CivilRegistry {
    /// Registers a marriage today for the two parties checked in on `appointment`.
    pub async fn register_marriage(
        &self,
        appointment: &AppointmentId,
        parties: [Party; 2],
        verifications: Vec<Verification>,
        context: &CommandContext,
    ) -> Result<MarriageRegistered, Error> {
        self.attended(
            appointment,
            Service::Marriage,
            &[&parties[0].citizen, &parties[1].citizen],
        )
        .await?;
        let id = MarriageId::registered(appointment);
        let command = marriage::Register {
            appointment: *appointment,
            parties,
            verifications,
            on: self.today(),
        };
        let committed = self
            .record_marriage(
                &id,
                &command.parties,
                // Registered already on this appointment: the same answer again.
                |record| record.appointment == Some(*appointment),
                |marriage, a, b| registration::register_marriage(marriage, a, b, &command),
                context,
            )
            .await?;
        Ok(MarriageRegistered {
            certificate_number: id.as_str().to_owned(),
            marriage: id,
            committed: last(committed),
        })
    }

    /// Enters a historical marriage from the archive.
    pub async fn backfill_marriage(
        &self,
        command: marriage::Backfill,
        context: &CommandContext,
    ) -> Result<(MarriageId, Option<Committed>), Error> {
        // The caller computed the id; it is computed again here so that a back-fill is always
        // keyed by the pseudonym of its reference, whoever built the command.
        let command = marriage::Backfill {
            id: MarriageId::backfilled(&self.archive_pseudonym(&command.archive)),
            ..command
        };
        let id = command.id.clone();
        let committed = self
            .record_marriage(
                &id,
                &command.parties,
                |record| same_backfill(record, &command),
                |marriage, a, b| registration::backfill_marriage(marriage, a, b, &command),
                context,
            )
            .await?;
        Ok((id, last(committed)))
    }

    /// Records marriage `id` of `parties` as `decide` decides it on the marriage and both
    /// parties' person records, the three appended together; nothing when `done` recognises
    /// the existing record as this request's (a repeat).
    async fn record_marriage(
        &self,
        id: &MarriageId,
        parties: &[Party; 2],
        done: impl Fn(&marriage::MarriageRecord) -> bool,
        decide: impl Fn(
            &marriage::Marriage,
            &person::Person,
            &person::Person,
        ) -> Result<registration::MarriagePlan, registration::Error>,
        context: &CommandContext,
    ) -> Result<Vec<Committed>, Error> {
        let keys = parties.each_ref().map(|p| self.pseudonym(&p.citizen));
        let committed = with_conflict_retries(CONFLICT_RETRIES, || async {
            let existing = self.marriages.load(&id).await?;
            if existing.state.record().is_some_and(&done) {
                return Ok(Ok(vec![
                    self.marriages.recorded(&id, existing.version).await?,
                ]));
            }
            let a = self.persons.load(&keys[0]).await?;
            let b = self.persons.load(&keys[1]).await?;
            let plan = match decide(&existing.state, &a.state, &b.state) {
                Ok(plan) => plan,
                Err(refusal) => return Ok(Err(Error::from_refusal(&refusal))),
            };
            let [for_a, for_b] = plan.parties;
            let decided = vec![
                self.marriages
                    .decided(&id, existing.version, &plan.marriage)?,
                self.persons.decided(&keys[0], a.version, &for_a)?,
                self.persons.decided(&keys[1], b.version, &for_b)?,
            ];
            Ok(Ok(commit_together(self.store(), decided, context).await?))
        })
        .await??;
        self.written(&committed);
        Ok(committed)
    }

    /// Reissues the certificate of `marriage` to the party checked in on `appointment`.
    pub async fn reissue_certificate(
        &self,
        marriage: &MarriageId,
        appointment: &AppointmentId,
        verifications: Vec<Verification>,
        context: &CommandContext,
    ) -> Result<(String, Committed), Error> {
        // The party is whoever the reissue appointment was booked for.
        let party = self
            .checked_in(appointment, Service::CertificateReissue)
            .await?
            .parties
            .first()
            .cloned()
            .ok_or_else(|| Error::refused("not_checked_in", "the appointment names nobody"))?;
        let command = marriage::Command::ReissueCertificate(marriage::ReissueCertificate {
            appointment: *appointment,
            party,
            verifications,
            on: self.today(),
        });
        let committed = self.marriages.run(&marriage, &command, context).await?;
        self.written(std::slice::from_ref(&committed));
        let record = self.marriage(marriage).await?;
        Ok((record.certificate_number, committed))
    }

    /// Attaches a scanned document to a marriage (`J…`/`A-…`) or a divorce application (`D…`).
    pub async fn attach_document(
        &self,
        record: &str,
        document: ArchiveDocument,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let committed = if record.starts_with('D') {
            let id = ApplicationId::parse(record)
                .map_err(|e| Error::invalid_field("record_id", e.to_string()))?;
            let command = divorce::Command::AttachDocument(divorce::AttachDocument { document });
            self.divorces.run(&id, &command, context).await?
        } else {
            let id = MarriageId::parse(record)
                .map_err(|e| Error::invalid_field("record_id", e.to_string()))?;
            let command = marriage::Command::AttachDocument(marriage::AttachDocument { document });
            self.marriages.run(&id, &command, context).await?
        };
        self.written(std::slice::from_ref(&committed));
        Ok(committed)
    }

    /// One marriage record.
    pub async fn marriage(&self, id: &MarriageId) -> Result<marriage::MarriageRecord, Error> {
        self.marriages
            .load(&id)
            .await?
            .state
            .record()
            .cloned()
            .ok_or_else(|| Error::NotFound("the marriage is not in the register".to_owned()))
    }

    /// A citizen's marital status on `day`.
    pub async fn marital_status(
        &self,
        citizen: &CitizenId,
        day: Date,
    ) -> Result<MaritalStatus, Error> {
        let person = self.persons.load(&self.pseudonym(citizen)).await?.state;
        let period = person.status_on(day).cloned();
        // The certificate numbers come from the overview: one store read per query. They
        // reflect the commands the caller waited for (`ReadOptions.min_position`); the status
        // itself always comes from the person's own stream.
        let certificate_number = match &period {
            Some(period) if period.status == person::Status::Divorced => {
                let application = ApplicationId::parse(&period.record).map_err(|e| {
                    Error::Internal(anyhow::anyhow!("stored divorce record id: {e}"))
                })?;
                self.view
                    .read()
                    .await
                    .divorce_certificate(&application)
                    .map(str::to_owned)
            }
            Some(period) => Some(
                self.view
                    .read()
                    .await
                    .marriage_certificate(&period.marriage),
            ),
            None => None,
        };
        Ok(MaritalStatus {
            period,
            certificate_number,
            deceased_on: person.deceased_on().filter(|died| *died <= day),
        })
    }

    /// Receives an application for divorce by agreement from the parties of `marriage` checked
    /// in on `appointment`.
    pub async fn apply_for_divorce(
        &self,
        appointment: &AppointmentId,
        marriage: &MarriageId,
        verifications: Vec<Verification>,
        context: &CommandContext,
    ) -> Result<(divorce::Application, Committed), Error> {
        let loaded = self.marriages.load(&marriage).await?.state;
        let record = loaded
            .record()
            .ok_or_else(|| Error::NotFound("the marriage is not in the register".to_owned()))?;
        let parties = record.parties.clone();
        divorce::check_marriage(&loaded, &parties).map_err(|r| Error::from_refusal(&r))?;
        self.attended(
            appointment,
            Service::DivorceApplication,
            &[&parties[0].citizen, &parties[1].citizen],
        )
        .await?;
        let id = ApplicationId::received(appointment);
        if let Some(pending) = self.view.read().await.pending_application_of(marriage)
            && pending != &id
        {
            return Err(Error::refused(
                "divorce_already_pending",
                "the marriage has a pending divorce application",
            ));
        }
        let command = divorce::Command::Apply(divorce::Apply {
            appointment: *appointment,
            marriage: marriage.clone(),
            parties,
            verifications,
            on: self.today(),
        });
        let committed = self.divorces.run(&id, &command, context).await?;
        self.written(std::slice::from_ref(&committed));
        Ok((self.divorce_application(&id).await?, committed))
    }

    /// Withdraws an application at the wish of the party `by`, today.
    pub async fn withdraw_divorce(
        &self,
        application: &ApplicationId,
        by: CitizenId,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        let command = divorce::Command::Withdraw(divorce::Withdraw {
            by,
            on: self.today(),
        });
        let committed = self.divorces.run(&application, &command, context).await?;
        self.written(std::slice::from_ref(&committed));
        Ok(committed)
    }

    /// Registers the divorce of `application` today: the application, the marriage and both
    /// parties' status, appended together.
    pub async fn register_divorce(
        &self,
        application: &ApplicationId,
        appointment: &AppointmentId,
        verifications: Vec<Verification>,
        context: &CommandContext,
    ) -> Result<(String, Option<Committed>), Error> {
        let today = self.today();
        let outcome = with_conflict_retries(CONFLICT_RETRIES, || async {
            let loaded = self.divorces.load(&application).await?;
            let Some(facts) = loaded.state.application().cloned() else {
                return Ok(Err(Error::NotFound(
                    "the divorce application does not exist".to_owned(),
                )));
            };
            if let divorce::State::Registered {
                certificate_number,
                appointment: on,
                ..
            } = &facts.state
                && *on == Some(*appointment)
            {
                let recorded = self.divorces.recorded(application, loaded.version).await?;
                return Ok(Ok((certificate_number.clone(), vec![recorded])));
            }
            if let Err(error) = self
                .attended(
                    appointment,
                    Service::DivorceRegistration,
                    &[&facts.parties[0].citizen, &facts.parties[1].citizen],
                )
                .await
            {
                return Ok(Err(error));
            }
            let registered =
                match loaded
                    .state
                    .handle(&divorce::Command::Register(divorce::Register {
                        appointment: *appointment,
                        verifications: verifications.clone(),
                        on: today,
                    })) {
                    Ok(events) => events,
                    Err(refusal) => return Ok(Err(Error::from_refusal(&refusal))),
                };
            let committed = match self
                .commit_divorce(
                    application,
                    loaded.version,
                    &registered,
                    &self.marriages.load(&facts.marriage).await?,
                    today,
                    context,
                )
                .await?
            {
                Ok(committed) => committed,
                Err(error) => return Ok(Err(error)),
            };
            Ok(Ok((
                crate::ids::divorce_certificate_number(appointment),
                committed,
            )))
        })
        .await??;
        let (certificate_number, committed) = outcome;
        self.written(&committed);
        Ok((certificate_number, last(committed)))
    }

    /// Enters a historical divorce from the archive (历史离婚档案补录): the divorce of `marriage`
    /// (a current marriage in these records, of the parties in its record) registered at
    /// `registry` on `on` with the certificate number as printed. The divorce (`DA-` + the
    /// reference's pseudonym), the marriage's dissolution and both parties' status are appended together; a
    /// repeat of the same back-fill answers the same and records nothing.
    pub async fn backfill_divorce(
        &self,
        archive: ArchiveReference,
        marriage: &MarriageId,
        registry: RegionCode,
        certificate_number: BoundedText,
        on: Date,
        context: &CommandContext,
    ) -> Result<(ApplicationId, Option<Committed>), Error> {
        let id = ApplicationId::backfilled(&self.archive_pseudonym(&archive));
        let committed = with_conflict_retries(CONFLICT_RETRIES, || async {
            let loaded = self.divorces.load(&id).await?;
            if let Some(facts) = loaded.state.application()
                && same_divorce_backfill(facts, marriage, registry, &certificate_number, on)
            {
                return Ok(Ok(vec![self.divorces.recorded(&id, loaded.version).await?]));
            }
            let dissolved = self.marriages.load(&marriage).await?;
            let Some(record) = dissolved.state.record() else {
                return Ok(Err(Error::NotFound(
                    "the marriage is not in the register".to_owned(),
                )));
            };
            let command = divorce::Command::Backfill(divorce::Backfill {
                id: id.clone(),
                archive: archive.clone(),
                marriage: marriage.clone(),
                parties: record.parties.clone(),
                registry,
                certificate_number: certificate_number.clone(),
                on,
            });
            let backfilled = match loaded.state.handle(&command) {
                Ok(events) => events,
                Err(refusal) => return Ok(Err(Error::from_refusal(&refusal))),
            };
            self.commit_divorce(&id, loaded.version, &backfilled, &dissolved, on, context)
                .await
        })
        .await??;
        self.written(&committed);
        Ok((id, last(committed)))
    }

    /// Appends `divorce_events` (decided on application `application` as loaded at
    /// `loaded_version`) together with the dissolution of the marriage `dissolved` (as loaded)
    /// on `on` and both parties' new status: a divorce registered now or entered from the
    /// archive.
    async fn commit_divorce(
        &self,
        application: &ApplicationId,
        loaded_version: u64,
        divorce_events: &[divorce::Event],
        dissolved: &Loaded<marriage::Marriage>,
        on: Date,
        context: &CommandContext,
    ) -> Result<Result<Vec<Committed>, Error>, minzheng_kit::aggregate::RunError> {
        let Some(record) = dissolved.state.record() else {
            return Ok(Err(Error::NotFound(
                "the marriage is not in the register".to_owned(),
            )));
        };
        let keys = record
            .parties
            .each_ref()
            .map(|p| self.pseudonym(&p.citizen));
        let a = self.persons.load(&keys[0]).await?;
        let b = self.persons.load(&keys[1]).await?;
        let plan = match registration::dissolve_by_divorce(
            &dissolved.state,
            &a.state,
            &b.state,
            application,
            on,
        ) {
            Ok(plan) => plan,
            Err(refusal) => return Ok(Err(Error::from_refusal(&refusal))),
        };
        let [for_a, for_b] = plan.parties;
        let decided = vec![
            self.divorces
                .decided(&application, loaded_version, divorce_events)?,
            self.marriages
                .decided(&record.id, dissolved.version, &plan.marriage)?,
            self.persons.decided(&keys[0], a.version, &for_a)?,
            self.persons.decided(&keys[1], b.version, &for_b)?,
        ];
        Ok(Ok(commit_together(self.store(), decided, context).await?))
    }

    /// One divorce application.
    pub async fn divorce_application(
        &self,
        id: &ApplicationId,
    ) -> Result<divorce::Application, Error> {
        self.divorces
            .load(&id)
            .await?
            .state
            .application()
            .cloned()
            .ok_or_else(|| Error::NotFound("the divorce application does not exist".to_owned()))
    }

    /// Lapses `application` if its last day to register is before today (the scheduler's
    /// command; idempotent through its key).
    pub async fn expire_divorce(
        &self,
        application: &ApplicationId,
    ) -> Result<Option<Committed>, Error> {
        let today = self.today();
        let context = CommandContext::new().with_idempotency_key(format!("lapse:{application}"));
        let command = divorce::Command::Expire(divorce::Expire { as_of: today });
        match self
            .divorces
            .execute(&application, &command, &context)
            .await?
        {
            Ok(committed) => {
                self.written(std::slice::from_ref(&committed));
                Ok(Some(committed))
            }
            // Registered, withdrawn or lapsed meanwhile, or not due: nothing to do.
            Err(_) => Ok(None),
        }
    }
}

/// Whether `facts` are those of the same divorce back-filled again (its id already names the
/// archive reference, by pseudonym).
fn same_divorce_backfill(
    facts: &divorce::Application,
    marriage: &MarriageId,
    registry: RegionCode,
    certificate_number: &BoundedText,
    on: Date,
) -> bool {
    facts.backfilled.is_some()
        && &facts.marriage == marriage
        && facts.registry == registry
        && facts.state
            == divorce::State::Registered {
                on,
                certificate_number: certificate_number.as_str().to_owned(),
                appointment: None,
            }
}

fn same_backfill(record: &marriage::MarriageRecord, command: &marriage::Backfill) -> bool {
    // The stream is keyed by the normalised reference: two spellings of it are one file.
    record.backfilled.as_ref().map(ArchiveReference::normalised)
        == Some(command.archive.normalised())
        && record.registered_on == command.on
        && record.parties == command.parties
}
