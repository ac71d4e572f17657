//! Called routes [002 Table 1-3]: an access code (and optional extension) leads to a
//! skill queue whose media type matches the access code's.

use serde::{Deserialize, Serialize};

use crate::queue::QueueType;
use crate::time::Timestamp;
use crate::validation::{digits, fail, Checked, Rule};
use crate::{QueueId, RouteId};

pub const MAX_ACCESS_CODE_DIGITS: usize = 24;
pub const MAX_EXTENSION_DIGITS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CalledRouteConfig {
    /// Digits, e.g. `999028`.
    pub access_code: String,
    /// Optional digits appended to the access code, e.g. `1` for `9990281`.
    #[serde(default)]
    pub extension_code: String,
    /// The media type of the access code; the queue must be of the same type.
    pub media_type: QueueType,
    pub skill_queue_id: QueueId,
}

impl CalledRouteConfig {
    pub fn validate(&self) -> Checked {
        digits("accessCode", &self.access_code, MAX_ACCESS_CODE_DIGITS)?;
        if !self.extension_code.is_empty() {
            digits("extensionCode", &self.extension_code, MAX_EXTENSION_DIGITS)?;
        }
        Ok(())
    }

    /// `queue_type` is the type of the referenced queue, `None` when it does not exist.
    pub fn check_queue(&self, queue_type: Option<QueueType>) -> Checked {
        match queue_type {
            None => fail(
                "skillQueueId",
                Rule::Invalid {
                    reason: "no such skill queue".into(),
                },
            ),
            Some(t) if t != self.media_type => fail(
                "skillQueueId",
                Rule::NotAllowed {
                    reason: format!(
                        "the queue is {}, the access code is {}",
                        t.as_str(),
                        self.media_type.as_str()
                    ),
                },
            ),
            Some(_) => Ok(()),
        }
    }

    /// The number a customer dials: access code followed by the extension.
    pub fn full_code(&self) -> String {
        format!("{}{}", self.access_code, self.extension_code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CalledRoute {
    pub id: RouteId,
    #[serde(flatten)]
    pub config: CalledRouteConfig,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route() -> CalledRouteConfig {
        CalledRouteConfig {
            access_code: "999028".into(),
            extension_code: String::new(),
            media_type: QueueType::Multimedia,
            skill_queue_id: QueueId(1),
        }
    }

    #[test]
    fn access_code_is_digits() {
        assert!(route().validate().is_ok());
        assert_eq!(
            CalledRouteConfig {
                access_code: "99a".into(),
                ..route()
            }
            .validate()
            .unwrap_err()
            .field,
            "accessCode"
        );
        assert_eq!(
            CalledRouteConfig {
                access_code: String::new(),
                ..route()
            }
            .validate()
            .unwrap_err()
            .rule,
            Rule::Required
        );
        assert!(CalledRouteConfig {
            access_code: "9".repeat(25),
            ..route()
        }
        .validate()
        .is_err());
    }

    #[test]
    fn extension_is_optional_digits() {
        assert!(CalledRouteConfig {
            extension_code: "1".into(),
            ..route()
        }
        .validate()
        .is_ok());
        assert_eq!(
            CalledRouteConfig {
                extension_code: "x".into(),
                ..route()
            }
            .validate()
            .unwrap_err()
            .field,
            "extensionCode"
        );
    }

    #[test]
    fn queue_type_must_match_access_code_type() {
        assert!(route().check_queue(Some(QueueType::Multimedia)).is_ok());
        assert_eq!(
            route()
                .check_queue(Some(QueueType::Voice))
                .unwrap_err()
                .field,
            "skillQueueId"
        );
        assert!(route().check_queue(None).is_err());
    }
}
