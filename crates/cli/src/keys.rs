//! The installation's secret key, which seals channel credentials in the database. Given
//! in the settings (every node of a cluster needs the same), or else kept in
//! `<data-dir>/secret.key`, created on first start and readable by the owner only.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use rand::RngCore;
use switchboard_store::KEY_BYTES;

pub fn load_or_create(
    configured: Option<&str>,
    data_dir: &Path,
) -> anyhow::Result<[u8; KEY_BYTES]> {
    if let Some(text) = configured {
        return decode(text).context("the secret_key setting (SWITCHBOARD_SECRET_KEY)");
    }
    let path = data_dir.join("secret.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return decode(&text).with_context(|| format!("the key in {}", path.display()));
    }
    let mut key = [0u8; KEY_BYTES];
    rand::thread_rng().fill_bytes(&mut key);
    write_private(&path, BASE64.encode(key).as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(key)
}

fn decode(text: &str) -> anyhow::Result<[u8; KEY_BYTES]> {
    let bytes = BASE64.decode(text.trim()).context("not base64")?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("must be {KEY_BYTES} bytes, base64-encoded"))
}

/// Writes a file only its owner can read (on Unix).
pub fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(content)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_is_kept_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(None, dir.path()).unwrap();
        assert_eq!(load_or_create(None, dir.path()).unwrap(), first);
    }

    #[test]
    fn a_configured_key_must_be_32_bytes() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_or_create(Some(&BASE64.encode([1u8; 32])), dir.path()).is_ok());
        assert!(load_or_create(Some(&BASE64.encode([1u8; 16])), dir.path()).is_err());
        assert!(load_or_create(Some("not base64!"), dir.path()).is_err());
    }
}
