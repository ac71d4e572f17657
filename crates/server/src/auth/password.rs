//! Passwords are hashed with Argon2id (the crate's defaults: 19 MiB, 2 passes), on the
//! blocking pool so hashing never stalls the async workers.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::distributions::{Alphanumeric, DistString};
use rand::rngs::OsRng;

use crate::error::ApiError;

pub async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ApiError::Internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("hashing task: {e}")))?
}

/// Checks a password against a stored hash. With no hash (unknown account) it still does
/// the same work against a fixed hash, so timing does not tell which accounts exist.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| ApiError::Internal(format!("stored hash: {e}")))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("verifying task: {e}")))?
}

/// A one-time password: 20 letters and digits, with at least one of each case and a digit
/// so it passes the password rule.
pub fn one_time() -> String {
    loop {
        let candidate = Alphanumeric.sample_string(&mut OsRng, 20);
        if switchboard_domain::employee::check_password("password", &candidate).is_ok()
            && candidate.chars().any(|c| c.is_ascii_digit())
        {
            return candidate;
        }
    }
}

/// Argon2id hash of a random string nobody knows.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$4VsaFxIqxCL6CkpR3Nbe9PUnmn/cT94YYD/2nWgK1mI";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let hashed = hash("Secret-123".into()).await.unwrap();
        assert!(hashed.starts_with("$argon2id$"));
        assert!(verify("Secret-123".into(), Some(hashed.clone()))
            .await
            .unwrap());
        assert!(!verify("secret-123".into(), Some(hashed)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }

    #[test]
    fn one_time_passwords_pass_the_password_rule() {
        for _ in 0..50 {
            assert!(switchboard_domain::employee::check_password("p", &one_time()).is_ok());
        }
    }
}
