//! Small helpers shared by the record modules.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{corrupt, Result};

/// A case-insensitive substring filter as a LIKE pattern (`''` = no filter). The
/// wildcards of the user's text are escaped with `\`.
pub fn like_pattern(filter: Option<&str>) -> String {
    let needle = filter.map(str::trim).unwrap_or_default().to_lowercase();
    if needle.is_empty() {
        return String::new();
    }
    let mut pattern = String::from("%");
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

pub fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| corrupt("encoding a record", e))
}

pub fn from_json<T: DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern(None), "");
        assert_eq!(like_pattern(Some("  ")), "");
        assert_eq!(like_pattern(Some("Web_1%")), "%web\\_1\\%%");
    }
}
