//! The services this binary can host. Each service crate adds one line to [`NAMES`] and one arm
//! to [`add`] when it lands.

use anyhow::Context as _;
use minzheng_host::{Host, Mode};
use minzheng_kit::settings::PlatformSettings;

use crate::dev_secret;

/// Names of the services, in start order.
pub const NAMES: &[&str] = &["placenames", "civilregistry"];

/// Adds the service called `name` to `host`; `Ok(None)` when there is no such service. In the
/// embedded mode services also get their development seed data (Benxi's divisions) and their
/// secrets from the data directory when they are not configured.
pub fn add(
    host: Host,
    name: &str,
    mode: Mode,
    settings: &PlatformSettings,
) -> anyhow::Result<Option<Host>> {
    Ok(match name {
        "placenames" => Some(host.module(match mode {
            Mode::Embedded => {
                minzheng_placenames::Module::default().with_seed(minzheng_placenames::BENXI)
            }
            Mode::Distributed => minzheng_placenames::Module::default(),
        })),
        "civilregistry" => {
            let key = match mode {
                Mode::Embedded => dev_secret::pseudonym_key(settings)?,
                Mode::Distributed => settings.pseudonym_key.clone().context(
                    "MZ_PSEUDONYM_KEY must be set (at least 32 bytes, never changed afterwards) \
                     to keep records of persons",
                )?,
            };
            Some(host.module(minzheng_civilregistry::Module::new(key)))
        }
        _ => None,
    })
}

/// Adds every service.
pub fn add_all(host: Host, mode: Mode, settings: &PlatformSettings) -> anyhow::Result<Host> {
    NAMES.iter().try_fold(host, |host, name| {
        add(host, name, mode, settings)?.ok_or_else(|| unreachable_service(name))
    })
}

fn unreachable_service(name: &str) -> ! {
    panic!("service {name:?} is listed in NAMES but not in add()")
}
