use std::fmt;

/// Why a value was refused: the field (as the JSON path the client sent, e.g.
/// `workTime.workday[4]`) and the rule it broke. Every configuration rule reports one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct ValidationError {
    pub field: String,
    pub rule: Rule,
}

/// The rule a value broke, with a stable machine-readable code and a human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Required,
    TooLong { max: usize },
    TooShort { min: usize },
    OutOfRange { min: i64, max: i64 },
    Pattern { expected: &'static str },
    NotAllowed { reason: String },
    TooMany { max: usize },
    Duplicate,
    Immutable,
    Invalid { reason: String },
}

impl Rule {
    pub fn code(&self) -> &'static str {
        match self {
            Rule::Required => "required",
            Rule::TooLong { .. } => "too_long",
            Rule::TooShort { .. } => "too_short",
            Rule::OutOfRange { .. } => "out_of_range",
            Rule::Pattern { .. } => "pattern",
            Rule::NotAllowed { .. } => "not_allowed",
            Rule::TooMany { .. } => "too_many",
            Rule::Duplicate => "duplicate",
            Rule::Immutable => "immutable",
            Rule::Invalid { .. } => "invalid",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Required => write!(f, "is required"),
            Rule::TooLong { max } => write!(f, "must be at most {max} characters"),
            Rule::TooShort { min } => write!(f, "must be at least {min} characters"),
            Rule::OutOfRange { min, max } => write!(f, "must be between {min} and {max}"),
            Rule::Pattern { expected } => write!(f, "must be {expected}"),
            Rule::NotAllowed { reason } => write!(f, "is not allowed: {reason}"),
            Rule::TooMany { max } => write!(f, "must have at most {max} entries"),
            Rule::Duplicate => write!(f, "must not repeat a value"),
            Rule::Immutable => write!(f, "cannot be changed after creation"),
            Rule::Invalid { reason } => write!(f, "is invalid: {reason}"),
        }
    }
}

impl ValidationError {
    pub fn new(field: impl Into<String>, rule: Rule) -> Self {
        Self {
            field: field.into(),
            rule,
        }
    }

    /// Prefixes the field with the path of the object that contains it.
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

pub type Checked = Result<(), ValidationError>;

pub(crate) fn fail(field: &str, rule: Rule) -> Checked {
    Err(ValidationError::new(field, rule))
}

/// Length in characters (not bytes): limits in the product documents count characters.
pub(crate) fn max_chars(field: &str, value: &str, max: usize) -> Checked {
    if value.chars().count() > max {
        return fail(field, Rule::TooLong { max });
    }
    Ok(())
}

pub(crate) fn required_text(field: &str, value: &str, max: usize) -> Checked {
    if value.trim().is_empty() {
        return fail(field, Rule::Required);
    }
    max_chars(field, value, max)
}

pub(crate) fn in_range(field: &str, value: i64, min: i64, max: i64) -> Checked {
    if value < min || value > max {
        return fail(field, Rule::OutOfRange { min, max });
    }
    Ok(())
}

pub(crate) fn max_entries<T>(field: &str, items: &[T], max: usize) -> Checked {
    if items.len() > max {
        return fail(field, Rule::TooMany { max });
    }
    Ok(())
}

/// Codes and names of channels: letters, digits and `_`, starting with a letter or `_`.
pub(crate) fn identifier(field: &str, value: &str, max: usize) -> Checked {
    required_text(field, value, max)?;
    let mut chars = value.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_well = value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !starts_well || !rest_well {
        return fail(
            field,
            Rule::Pattern {
                expected:
                    "letters, digits and underscores, starting with a letter or an underscore",
            },
        );
    }
    Ok(())
}

pub(crate) fn digits(field: &str, value: &str, max: usize) -> Checked {
    required_text(field, value, max)?;
    if !value.chars().all(|c| c.is_ascii_digit()) {
        return fail(
            field,
            Rule::Pattern {
                expected: "digits only",
            },
        );
    }
    Ok(())
}

pub(crate) fn http_url(field: &str, value: &str) -> Checked {
    required_text(field, value, 2048)?;
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty()
                && !host.starts_with('/')
                && !value.contains(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => fail(
            field,
            Rule::Pattern {
                expected: "an http:// or https:// URL",
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_accepts_letter_or_underscore_start() {
        assert!(identifier("f", "_a1", 64).is_ok());
        assert!(identifier("f", "Web_01", 64).is_ok());
    }

    #[test]
    fn identifier_rejects_digit_start_and_symbols() {
        for bad in ["1abc", "a-b", "a b", "ü", ""] {
            assert!(identifier("f", bad, 64).is_err(), "{bad}");
        }
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(max_chars("f", &"队".repeat(20), 20).is_ok());
        assert!(max_chars("f", &"队".repeat(21), 20).is_err());
    }

    #[test]
    fn within_builds_json_paths() {
        let e = ValidationError::new("start", Rule::Required)
            .within("[2]")
            .within("workday");
        assert_eq!(e.field, "workday[2].start");
    }
}
