//! The embedded mode's secrets, each taken from its setting when set, otherwise a random secret
//! kept in a file under the data directory (created on first use, readable by its owner only):
//! - the token secret (`MZ_AUTH__DEV_SECRET`, `<data_dir>/dev-secret`), so tokens minted by
//!   `minzheng token` keep working across restarts of `minzheng dev`;
//! - the civil registry's pseudonym key (`MZ_CIVILREGISTRY__PSEUDONYM_KEY`,
//!   `<data_dir>/pseudonym-key`), so persons' streams are
//!   found again after a restart;
//! - the child-welfare service's reporter key (`MZ_CHILDWELFARE__REPORTER_KEY`,
//!   `<data_dir>/childwelfare-reporter-key`), so sealed reporters open after a restart.

use std::{fs, io::Write as _};

use anyhow::Context as _;
use minzheng_kit::settings::PlatformSettings;
use secrecy::SecretString;

const FILE_NAME: &str = "dev-secret";
const PSEUDONYM_KEY_FILE: &str = "pseudonym-key";
const REPORTER_KEY_FILE: &str = "childwelfare-reporter-key";

/// The token secret.
pub fn load_or_create(settings: &PlatformSettings) -> anyhow::Result<SecretString> {
    configured_or_file(settings, settings.auth.dev_secret.as_ref(), FILE_NAME)
}

/// The pseudonym key: `configured`, or the one kept under the data directory.
pub fn pseudonym_key(
    settings: &PlatformSettings,
    configured: Option<&SecretString>,
) -> anyhow::Result<SecretString> {
    configured_or_file(settings, configured, PSEUDONYM_KEY_FILE)
}

/// The child-welfare service's reporter key: `configured`, or the one kept under the data
/// directory (a key of its own: sealed reporters must not open with the pseudonym key).
pub fn reporter_key(
    settings: &PlatformSettings,
    configured: Option<&SecretString>,
) -> anyhow::Result<SecretString> {
    configured_or_file(settings, configured, REPORTER_KEY_FILE)
}

fn configured_or_file(
    settings: &PlatformSettings,
    configured: Option<&SecretString>,
    file_name: &str,
) -> anyhow::Result<SecretString> {
    if let Some(secret) = configured {
        return Ok(secret.clone());
    }
    let path = settings.data_dir.join(file_name);
    if let Ok(existing) = fs::read_to_string(&path) {
        let existing = existing.trim();
        if !existing.is_empty() {
            return Ok(SecretString::from(existing.to_owned()));
        }
    }
    fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating {}", settings.data_dir.display()))?;
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    Ok(SecretString::from(secret))
}
