//! How a host runs the assistance service: its settings, migrations, consumers and RPCs.

use minzheng_host::{ServiceContext, ServiceModule};
use minzheng_kit::server::ServerBuilder;

/// The assistance service as a host module.
#[derive(Debug, Default)]
pub struct Module;

/// `[assistance]` in the settings file, `MZ_ASSISTANCE__…` in the environment.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Settings {}

#[async_trait::async_trait]
impl ServiceModule for Module {
    fn name(&self) -> &'static str {
        "assistance"
    }

    async fn start(
        &self,
        context: &ServiceContext,
        server: ServerBuilder,
    ) -> anyhow::Result<ServerBuilder> {
        let _settings: Settings = context.settings()?;
        Ok(server)
    }
}
