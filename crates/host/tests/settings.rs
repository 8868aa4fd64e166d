//! A hosted service reads its own settings section through its context: the `MZ_<SERVICE>__…`
//! variables, not another service's, and not the platform's keys.

use std::sync::{Arc, Mutex};

use minzheng_host::{Host, Mode, ServiceContext, ServiceModule};
use minzheng_kit::{server::ServerBuilder, settings::PlatformSettings};

#[derive(Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
struct WidgetSettings {
    greeting: Option<String>,
    per_day: u32,
}

/// A service that only remembers the settings it was started with.
#[derive(Debug, Default)]
struct Widgets {
    seen: Arc<Mutex<Option<WidgetSettings>>>,
}

#[async_trait::async_trait]
impl ServiceModule for Widgets {
    fn name(&self) -> &'static str {
        "widgets"
    }

    async fn start(
        &self,
        context: &ServiceContext,
        server: ServerBuilder,
    ) -> anyhow::Result<ServerBuilder> {
        *self.seen.lock().expect("not poisoned") = Some(context.settings()?);
        Ok(server)
    }
}

/// An embedded host on `dir`, on port 0, with a development token secret.
fn embedded_host(dir: &tempfile::TempDir) -> Host {
    Host::new(
        Mode::Embedded,
        PlatformSettings {
            listen: "127.0.0.1:0".parse().expect("an address"),
            data_dir: dir.path().to_owned(),
            auth: minzheng_kit::settings::AuthSettings {
                dev_secret: Some("settings-test-secret-at-least-32-bytes".into()),
                ..Default::default()
            },
            ..PlatformSettings::default()
        },
    )
}

#[tokio::test]
async fn a_service_reads_its_own_settings_section() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let widgets = Widgets::default();
    let seen = widgets.seen.clone();
    let host = embedded_host(&dir)
        .setting("MZ_WIDGETS__GREETING", "ni hao")
        .setting("MZ_WIDGETS__PER_DAY", "3")
        .setting("MZ_GADGETS__GREETING", "not mine")
        .module(widgets)
        .start()
        .await
        .expect("the host starts");
    assert_eq!(
        seen.lock().expect("not poisoned").take(),
        Some(WidgetSettings {
            greeting: Some("ni hao".into()),
            per_day: 3,
        })
    );
    host.shutdown().await.expect("stops");
}

#[tokio::test]
async fn a_bad_service_setting_stops_the_start_naming_the_variable() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let error = embedded_host(&dir)
        .setting("MZ_WIDGETS__PER_DAY", "many")
        .module(Widgets::default())
        .start()
        .await
        .expect_err("a bad value");
    assert!(
        format!("{error:#}").contains("MZ_WIDGETS__PER_DAY"),
        "{error:#}"
    );
}
