//! The embedded mode's token secret: `MZ_AUTH__DEV_SECRET` when set, otherwise a random secret
//! kept in `<data_dir>/dev-secret` (created on first use, readable by its owner only), so tokens
//! minted by `minzheng token` keep working across restarts of `minzheng dev`.

use std::{fs, io::Write as _};

use anyhow::Context as _;
use minzheng_kit::settings::PlatformSettings;
use secrecy::SecretString;

const FILE_NAME: &str = "dev-secret";

pub fn load_or_create(settings: &PlatformSettings) -> anyhow::Result<SecretString> {
    if let Some(secret) = &settings.auth.dev_secret {
        return Ok(secret.clone());
    }
    let path = settings.data_dir.join(FILE_NAME);
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
