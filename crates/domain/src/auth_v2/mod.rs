//! `auth-v2` request signatures: the `Authorization` value an enterprise computes with a
//! channel's secret key, `auth-v2/{accessKey}/{timestamp}/{signedHeaders}/{signature}`.
//! The exact canonical form is written down in `docs/integration/auth-v2.md`; this module
//! is its one implementation, used both to verify what enterprises send and to sign what
//! Switchboard pushes to them.

mod loader;

use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub use loader::{loader_candidates, LoaderRequest};

pub const VERSION: &str = "auth-v2";
/// How far a signature's timestamp may be from the verifier's clock, either way.
pub const WINDOW_SECONDS: i64 = 300;

/// The parts of a request that are signed. Header names are lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    pub method: String,
    /// The path, starting with `/`.
    pub uri: String,
    /// Query parameters as signed; the loader signs none.
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// The payload before normalisation; empty for none.
    pub body: String,
}

/// Percent-encodes every UTF-8 byte except `A-Z a-z 0-9 - . _ ~`, with upper-case hex.
pub fn normalize(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl Canonical {
    /// `name;name;…`, lower case, sorted.
    pub fn signed_headers(&self) -> String {
        let mut names: Vec<String> = self
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        names.sort();
        names.join(";")
    }

    /// `METHOD\nURI\n[query\n]signedHeaders\ncanonicalHeaders\nnormalize(body)`.
    pub fn canonical_request(&self) -> String {
        let mut out = format!("{}\n{}\n", self.method.to_ascii_uppercase(), self.uri);
        if !self.query.is_empty() {
            let mut pairs: Vec<String> = self
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", normalize(k), normalize(v)))
                .collect();
            pairs.sort();
            out.push_str(&pairs.join("&"));
            out.push('\n');
        }
        out.push_str(&self.signed_headers());
        out.push('\n');
        let mut lines: Vec<String> = self
            .headers
            .iter()
            .map(|(n, v)| {
                format!(
                    "{}:{}",
                    normalize(&n.to_ascii_lowercase()),
                    normalize(v.trim())
                )
            })
            .collect();
        lines.sort();
        out.push_str(&lines.join("\n"));
        out.push('\n');
        out.push_str(&normalize(&self.body));
        out
    }
}

/// Formats a signing time as `yyyy-MM-ddTHH:mm:ss.SSSZ` (UTC).
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The complete `Authorization` value for `request`, signed with `secret_key`.
pub fn sign(access_key: &str, secret_key: &str, timestamp: &str, request: &Canonical) -> String {
    let prefix = format!(
        "{VERSION}/{access_key}/{timestamp}/{}",
        request.signed_headers()
    );
    let signature = signature(secret_key, &prefix, request);
    format!("{prefix}/{signature}")
}

fn signature(secret_key: &str, prefix: &str, request: &Canonical) -> String {
    let signing_key = hmac_hex(secret_key.as_bytes(), prefix);
    hmac_hex(signing_key.as_bytes(), &request.canonical_request())
}

fn hmac_hex(key: &[u8], message: &str) -> String {
    // HMAC takes keys of any length: new_from_slice cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the authorization is not auth-v2/{{accessKey}}/{{timestamp}}/{{signedHeaders}}/{{signature}}: {0}")]
    Malformed(&'static str),
    #[error("the authorization timestamp is more than {WINDOW_SECONDS} seconds away from the server's time")]
    Stale,
    #[error("the authorization signature does not match")]
    BadSignature,
}

/// A parsed `Authorization` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key: String,
    /// The timestamp as signed (either accepted form).
    pub timestamp_text: String,
    pub timestamp: DateTime<Utc>,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl Authorization {
    pub fn parse(text: &str) -> Result<Self, AuthError> {
        let parts: Vec<&str> = text.trim().split('/').collect();
        let [version, access_key, timestamp_text, signed_headers, signature] = parts[..] else {
            return Err(AuthError::Malformed("expected five parts separated by '/'"));
        };
        if version != VERSION {
            return Err(AuthError::Malformed("the version must be auth-v2"));
        }
        if access_key.is_empty() {
            return Err(AuthError::Malformed("the access key is empty"));
        }
        let timestamp = parse_timestamp(timestamp_text).ok_or(AuthError::Malformed(
            "the timestamp is not yyyy-MM-ddTHH:mm:ss[.SSS]Z",
        ))?;
        if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AuthError::Malformed("the signature is not 64 hex digits"));
        }
        let signed_headers = signed_headers
            .split(';')
            .filter(|h| !h.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        Ok(Self {
            access_key: access_key.to_owned(),
            timestamp_text: timestamp_text.to_owned(),
            timestamp,
            signed_headers,
            signature: signature.to_ascii_lowercase(),
        })
    }

    /// Refuses a timestamp outside the window around `now` (replayed or badly clocked).
    pub fn check_time(&self, now: DateTime<Utc>) -> Result<(), AuthError> {
        if (now - self.timestamp).num_seconds().abs() > WINDOW_SECONDS {
            return Err(AuthError::Stale);
        }
        Ok(())
    }

    /// Whether the signature matches any of the candidate canonical requests, compared
    /// in constant time. Every candidate is computed, so timing does not tell which.
    pub fn matches_any(&self, secret_key: &str, candidates: &[Canonical]) -> Result<(), AuthError> {
        let prefix = format!(
            "{VERSION}/{}/{}/{}",
            self.access_key,
            self.timestamp_text,
            self.signed_headers.join(";")
        );
        let mut matched = subtle::Choice::from(0);
        for candidate in candidates {
            let expected = signature(secret_key, &prefix, candidate);
            matched |= expected.as_bytes().ct_eq(self.signature.as_bytes());
        }
        if bool::from(matched) {
            Ok(())
        } else {
            Err(AuthError::BadSignature)
        }
    }
}

/// Accepts `2024-05-01T08:00:00Z` (the reference signer) and `2024-05-01T08:00:00.123Z`
/// (the product documents).
fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let body = text.strip_suffix('Z')?;
    ["%Y-%m-%dT%H:%M:%S%.3f", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(body, format).ok())
        .filter(|_| body.len() == 19 || body.len() == 23)
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests;
