//! The services this binary can host. Each service crate adds one line here when it lands.

use minzheng_host::Host;

/// Names of the services, in start order.
pub const NAMES: &[&str] = &[];

/// Adds the service called `name` to `host`; `None` when there is no such service.
pub fn add(host: Host, name: &str) -> Option<Host> {
    // Services register here as `"name" => Some(host.module(name::Module::default()))`.
    let _ = (&host, name);
    None
}

/// Adds every service.
pub fn add_all(host: Host) -> Host {
    NAMES.iter().fold(host, |host, name| {
        add(host, name).unwrap_or_else(|| unreachable_service(name))
    })
}

fn unreachable_service(name: &str) -> ! {
    panic!("service {name:?} is listed in NAMES but not in add()")
}
