//! The services this binary can host. Each service crate adds one line to [`NAMES`] and one arm
//! to [`add`] when it lands.

use minzheng_host::{Host, Mode};

/// Names of the services, in start order.
pub const NAMES: &[&str] = &["placenames"];

/// Adds the service called `name` to `host`; `None` when there is no such service. In the
/// embedded mode services also get their development seed data (Benxi's divisions).
pub fn add(host: Host, name: &str, mode: Mode) -> Option<Host> {
    match name {
        "placenames" => Some(host.module(match mode {
            Mode::Embedded => {
                minzheng_placenames::Module::default().with_seed(minzheng_placenames::BENXI)
            }
            Mode::Distributed => minzheng_placenames::Module::default(),
        })),
        _ => None,
    }
}

/// Adds every service.
pub fn add_all(host: Host, mode: Mode) -> Host {
    NAMES.iter().fold(host, |host, name| {
        add(host, name, mode).unwrap_or_else(|| unreachable_service(name))
    })
}

fn unreachable_service(name: &str) -> ! {
    panic!("service {name:?} is listed in NAMES but not in add()")
}
