//! Channel credentials are sealed with ChaCha20-Poly1305 under the installation's secret
//! key before they reach the database. The channel id and credential name are bound in as
//! associated data, so a sealed value copied to another row does not open.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

use crate::error::{corrupt, StoreError};

pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;

/// A key for `purpose` derived from the installation's secret key, so that no two uses
/// share one.
pub(crate) fn derive_key(secret_key: &[u8; KEY_BYTES], purpose: &str) -> [u8; KEY_BYTES] {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(b"switchboard key: ");
    hash.update(purpose.as_bytes());
    hash.update([0]);
    hash.update(secret_key);
    hash.finalize().into()
}

pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl SecretBox {
    pub fn new(key: &[u8; KEY_BYTES]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    pub fn seal(&self, context: &str, plaintext: &str) -> Result<String, StoreError> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::thread_rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: context.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .map_err(|_| StoreError::Corrupt("sealing a secret failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(BASE64.encode(out))
    }

    pub fn open(&self, context: &str, sealed: &str) -> Result<String, StoreError> {
        let bytes = BASE64
            .decode(sealed)
            .map_err(|e| corrupt("sealed secret", e))?;
        if bytes.len() < NONCE_BYTES {
            return Err(StoreError::Corrupt("sealed secret is truncated".into()));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let payload = Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| {
                StoreError::Corrupt(
                    "a secret does not open with this key (was the secret key changed?)".into(),
                )
            })?;
        String::from_utf8(plain).map_err(|e| corrupt("secret", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let sb = SecretBox::new(&[7; KEY_BYTES]);
        let sealed = sb.seal("channel:1:botToken", "123:abc").unwrap();
        assert!(!sealed.contains("123:abc"));
        assert_eq!(sb.open("channel:1:botToken", &sealed).unwrap(), "123:abc");
        assert!(sb.open("channel:2:botToken", &sealed).is_err());
        assert!(SecretBox::new(&[8; KEY_BYTES])
            .open("channel:1:botToken", &sealed)
            .is_err());
    }
}
