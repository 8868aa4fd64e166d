//! The services this binary hosts: one table, [`SERVICES`]. A service lands as one entry here;
//! `minzheng <service>`, its help (what it needs from the environment, its tools), the list in
//! `minzheng --help` and `minzheng dev` are all made from the table.

use anyhow::Context as _;
use minzheng_host::{Host, Mode};
use minzheng_kit::settings::PlatformSettings;

use crate::{dev_secret, tools};

/// One hosted service.
#[derive(Debug)]
pub struct Service {
    /// The module's name, which is also the subcommand that runs it alone.
    pub name: &'static str,
    /// One line for `minzheng --help`.
    pub about: &'static str,
    /// Settings this service needs beyond every service's, `(variable, what it is)`, for
    /// `minzheng <service> --help`.
    pub env: &'static [(&'static str, &'static str)],
    /// Operator tools run as `minzheng <service> <tool>`.
    pub tools: Option<tools::Tools>,
    /// Adds the service to a host. In the embedded mode a service also gets its development
    /// seed data and, when they are not configured, its secrets from the data directory.
    pub add: fn(Host, Mode, &PlatformSettings) -> anyhow::Result<Host>,
}

/// The services, in start order.
pub const SERVICES: &[Service] = &[
    Service {
        name: "placenames",
        about: "Administrative divisions and place names (区划地名)",
        env: &[],
        tools: Some(tools::PLACENAMES),
        add: add_placenames,
    },
    Service {
        name: "civilregistry",
        about: "Marriage and divorce registration, deaths and funerals (婚姻登记, 殡葬)",
        env: &[(
            "MZ_CIVILREGISTRY__PSEUDONYM_KEY",
            "key of the pseudonyms that key persons' records, at least 32 bytes; set once, \
             never changed [required]",
        )],
        tools: None,
        add: add_civilregistry,
    },
    Service {
        name: "assistance",
        about: "Social assistance: dibao, extreme poverty, low income, temporary and heating aid (社会救助)",
        env: &[(
            "MZ_ASSISTANCE__PSEUDONYM_KEY",
            "key of the pseudonyms that name persons in the read audit, at least 32 bytes; set \
             once, never changed [required]",
        )],
        tools: None,
        add: add_assistance,
    },
    Service {
        name: "datasharing",
        about: "Data sharing: agency records, authorizations, household verification (数据共享)",
        env: &[(
            "MZ_DATASHARING__PSEUDONYM_KEY",
            "key of the pseudonyms that name persons in the read audit, at least 32 bytes; set \
             once, never changed [required]",
        )],
        tools: Some(tools::DATASHARING),
        add: add_datasharing,
    },
    Service {
        name: "eldercare",
        about: "Elderly care: institutions and beds, capacity assessments, subsidies, visits (养老服务)",
        env: &[(
            "MZ_ELDERCARE__PSEUDONYM_KEY",
            "key of the pseudonyms that key persons' records, at least 32 bytes; set once, \
             never changed [required]",
        )],
        tools: None,
        add: add_eldercare,
    },
    Service {
        name: "childwelfare",
        about: "Child welfare: allowances, protection cases, child directors, adoption (儿童福利)",
        env: &[
            (
                "MZ_CHILDWELFARE__PSEUDONYM_KEY",
                "key of the pseudonyms that key children's records, at least 32 bytes; set \
                 once, never changed [required]",
            ),
            (
                "MZ_CHILDWELFARE__REPORTER_KEY",
                "key that seals the identities of persons who report a child at risk, at least \
                 32 bytes, distinct from every other key; set once, never changed [required]",
            ),
        ],
        tools: None,
        add: add_childwelfare,
    },
];

/// The service called `name`.
pub fn find(name: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|service| service.name == name)
}

/// Names of the services, in start order.
pub fn names() -> impl Iterator<Item = &'static str> {
    SERVICES.iter().map(|service| service.name)
}

/// Adds every service.
pub fn add_all(host: Host, mode: Mode, settings: &PlatformSettings) -> anyhow::Result<Host> {
    SERVICES
        .iter()
        .try_fold(host, |host, service| (service.add)(host, mode, settings))
}

fn add_placenames(host: Host, mode: Mode, _: &PlatformSettings) -> anyhow::Result<Host> {
    let module = minzheng_placenames::Module::default();
    Ok(host.module(match mode {
        Mode::Embedded => module.with_seed(minzheng_placenames::BENXI),
        Mode::Distributed => module,
    }))
}

fn add_civilregistry(host: Host, mode: Mode, settings: &PlatformSettings) -> anyhow::Result<Host> {
    let module = minzheng_civilregistry::Module::default();
    Ok(host.module(match mode {
        // Run alone, the service reads its key from its settings and refuses to start without.
        Mode::Distributed => module,
        // `minzheng dev` keeps a key under its data directory unless one is configured.
        Mode::Embedded => {
            let configured: minzheng_civilregistry::Settings =
                minzheng_kit::settings::load_section("civilregistry")
                    .context("the civilregistry settings (MZ_CIVILREGISTRY__…)")?;
            module.with_pseudonym_key(dev_secret::pseudonym_key(
                settings,
                configured.pseudonym_key.as_ref(),
            )?)
        }
    }))
}

fn add_assistance(host: Host, mode: Mode, settings: &PlatformSettings) -> anyhow::Result<Host> {
    let module = minzheng_assistance::Module::default();
    Ok(host.module(match mode {
        Mode::Distributed => module,
        // `minzheng dev` seeds Benxi's end-2020 standards and the holiday calendars, and keeps a
        // pseudonym key under its data directory unless one is configured.
        Mode::Embedded => {
            let configured: minzheng_assistance::Settings =
                minzheng_kit::settings::load_section("assistance")
                    .context("the assistance settings (MZ_ASSISTANCE__…)")?;
            module
                .with_seed(minzheng_assistance::module::Seed::benxi())
                .with_pseudonym_key(dev_secret::pseudonym_key(
                    settings,
                    configured.pseudonym_key.as_ref(),
                )?)
        }
    }))
}

fn add_datasharing(host: Host, mode: Mode, settings: &PlatformSettings) -> anyhow::Result<Host> {
    let module = minzheng_datasharing::Module::default();
    Ok(host.module(match mode {
        Mode::Distributed => module,
        // `minzheng dev` records development thresholds for Benxi's counties, and keeps a
        // pseudonym key under its data directory unless one is configured.
        Mode::Embedded => {
            let configured: minzheng_datasharing::Settings =
                minzheng_kit::settings::load_section("datasharing")
                    .context("the datasharing settings (MZ_DATASHARING__…)")?;
            module
                .with_seed(minzheng_datasharing::Seed::benxi())
                .with_pseudonym_key(dev_secret::pseudonym_key(
                    settings,
                    configured.pseudonym_key.as_ref(),
                )?)
        }
    }))
}

fn add_eldercare(host: Host, mode: Mode, settings: &PlatformSettings) -> anyhow::Result<Host> {
    let module = minzheng_eldercare::Module::default();
    Ok(host.module(match mode {
        Mode::Distributed => module,
        // `minzheng dev` seeds a believable Benxi (institutions and beds at the 2020 share,
        // centres, standards, population), and keeps a pseudonym key under its data directory
        // unless one is configured.
        Mode::Embedded => {
            let configured: minzheng_eldercare::Settings =
                minzheng_kit::settings::load_section("eldercare")
                    .context("the eldercare settings (MZ_ELDERCARE__…)")?;
            module
                .with_benxi_seed()
                .with_pseudonym_key(dev_secret::pseudonym_key(
                    settings,
                    configured.pseudonym_key.as_ref(),
                )?)
        }
    }))
}

fn add_childwelfare(host: Host, mode: Mode, settings: &PlatformSettings) -> anyhow::Result<Host> {
    let module = minzheng_childwelfare::Module::default();
    Ok(host.module(match mode {
        Mode::Distributed => module,
        // `minzheng dev` seeds Benxi's child directors and supervisors at the 2020 coverage and
        // the allowance standards, and keeps its keys under its data directory unless they are
        // configured.
        Mode::Embedded => {
            let configured: minzheng_childwelfare::Settings =
                minzheng_kit::settings::load_section("childwelfare")
                    .context("the childwelfare settings (MZ_CHILDWELFARE__…)")?;
            module
                .with_benxi_seed()
                .with_pseudonym_key(dev_secret::pseudonym_key(
                    settings,
                    configured.pseudonym_key.as_ref(),
                )?)
                .with_reporter_key(dev_secret::reporter_key(
                    settings,
                    configured.reporter_key.as_ref(),
                )?)
        }
    }))
}
