//! A stand-in for the place-names service, for the tests of the services that follow its
//! division events: at its first start its store receives `minzheng.placenames.v1.DivisionRecorded`
//! for each division given and `DivisionSuperseded` for each supersession — the service's public
//! contract, which its relay publishes when distributed and which is fed in process when
//! embedded. The real place-names service beside another is a cross-service test.

use async_trait::async_trait;
use minzheng_eventstore::{AppendRequest, ExpectedVersion, Metadata, NewEvent, StreamId};
use minzheng_kit::server::ServerBuilder;
use minzheng_proto::{common::v1 as common, placenames::v1 as placenames};
use time::Date;

use crate::{ServiceContext, ServiceModule};

/// One division: 12-digit code, name, level, the parent's 12-digit code (empty for none).
pub type StandInDivision = (
    &'static str,
    &'static str,
    common::RegionLevel,
    &'static str,
);

/// A division superseded on a day by its successors, under an adjustment.
#[derive(Debug, Clone)]
struct Supersession {
    code: &'static str,
    successors: Vec<&'static str>,
    valid_to: Date,
    adjustment: &'static str,
}

/// See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct PlaceNamesStandIn {
    divisions: Vec<StandInDivision>,
    valid_from: Date,
    superseded: Vec<Supersession>,
}

fn region(code: &str) -> Option<common::RegionCode> {
    (!code.is_empty()).then(|| common::RegionCode {
        code: code.to_owned(),
    })
}

impl PlaceNamesStandIn {
    /// Records `divisions`, each valid from `valid_from`.
    pub fn new(divisions: &[StandInDivision], valid_from: Date) -> Self {
        Self {
            divisions: divisions.to_vec(),
            valid_from,
            superseded: Vec::new(),
        }
    }

    /// Also supersedes `code` on `valid_to` by `successors`, under `adjustment`.
    pub fn superseding(
        mut self,
        code: &'static str,
        successors: &[&'static str],
        valid_to: Date,
        adjustment: &'static str,
    ) -> Self {
        self.superseded.push(Supersession {
            code,
            successors: successors.to_vec(),
            valid_to,
            adjustment,
        });
        self
    }

    /// Appends `message` to division `code`'s stream when it is at `version` (so a restart
    /// finds it written and writes nothing).
    async fn append_at<M: prost::Name>(
        context: &ServiceContext,
        code: &str,
        version: u64,
        message: &M,
    ) -> anyhow::Result<()> {
        let stream = StreamId::new("division", code)?;
        if context.store().stream_version(&stream).await? != version {
            return Ok(());
        }
        context
            .store()
            .append(AppendRequest {
                stream,
                expected: if version == 0 {
                    ExpectedVersion::NoStream
                } else {
                    ExpectedVersion::Exact(version)
                },
                events: vec![NewEvent::new(M::full_name(), 1, message.encode_to_vec())],
                metadata: Metadata::default(),
            })
            .await?;
        Ok(())
    }
}

#[async_trait]
impl ServiceModule for PlaceNamesStandIn {
    fn name(&self) -> &'static str {
        "placenames"
    }

    async fn start(
        &self,
        context: &ServiceContext,
        server: ServerBuilder,
    ) -> anyhow::Result<ServerBuilder> {
        for (code, name, level, parent) in &self.divisions {
            let recorded = placenames::DivisionRecorded {
                code: region(code),
                name: (*name).to_owned(),
                level: (*level).into(),
                parent: region(parent),
                valid_from: Some(self.valid_from.into()),
                adjustment_id: String::new(),
            };
            Self::append_at(context, code, 0, &recorded).await?;
        }
        for supersession in &self.superseded {
            let superseded = placenames::DivisionSuperseded {
                code: region(supersession.code),
                successors: supersession
                    .successors
                    .iter()
                    .filter_map(|s| region(s))
                    .collect(),
                valid_to: Some(supersession.valid_to.into()),
                adjustment_id: supersession.adjustment.to_owned(),
            };
            Self::append_at(context, supersession.code, 1, &superseded).await?;
        }
        Ok(server)
    }
}
