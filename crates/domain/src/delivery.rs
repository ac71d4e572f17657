//! Replies on their way to a customer on a messaging platform. Each message an agent, the
//! bot or the system writes in such a conversation is queued in the transaction that
//! stores it, and sent in order, one conversation at a time: a reply that must wait holds
//! back the ones after it, so the customer never reads them out of order.

use std::time::Duration;

use serde::Serialize;

use crate::time::Timestamp;
use crate::ConversationId;

/// Attempts before a reply is given up.
pub const MAX_ATTEMPTS: u32 = 20;
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum DeliveryState {
    /// Waiting for its turn or for its next attempt.
    Pending,
    /// Handed to the platform, no answer yet.
    Sending,
    /// The platform took it.
    Sent,
    /// The platform reports the customer's device has it.
    Delivered,
    /// The platform reports the customer read it.
    Read,
    /// It will not reach the customer; `last_error` says why.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Read => "read",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            DeliveryState::Pending,
            DeliveryState::Sending,
            DeliveryState::Sent,
            DeliveryState::Delivered,
            DeliveryState::Read,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether a platform's later report may move a delivery from this state to `next`:
    /// reports arrive out of order, and a read message stays read.
    pub fn may_become(self, next: DeliveryState) -> bool {
        let rank = |s: DeliveryState| match s {
            DeliveryState::Pending | DeliveryState::Sending => 0,
            DeliveryState::Sent => 1,
            DeliveryState::Delivered => 2,
            DeliveryState::Read => 3,
            DeliveryState::Failed => 4,
        };
        match next {
            DeliveryState::Failed => self != DeliveryState::Read,
            _ => self != DeliveryState::Failed && rank(next) > rank(self),
        }
    }
}

/// How long to wait before attempt `attempts + 1` when the platform gave no time:
/// doubling from one second up to five minutes.
pub fn retry_delay(attempts: u32) -> Duration {
    let doubled = FIRST_RETRY.saturating_mul(1 << attempts.saturating_sub(1).min(16));
    doubled.min(LONGEST_RETRY)
}

/// Where a reply stands, as the workbench shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeliveryStatus {
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_up_to_five_minutes() {
        assert_eq!(retry_delay(1), Duration::from_secs(1));
        assert_eq!(retry_delay(2), Duration::from_secs(2));
        assert_eq!(retry_delay(5), Duration::from_secs(16));
        assert_eq!(retry_delay(12), Duration::from_secs(300));
        assert_eq!(retry_delay(u32::MAX), Duration::from_secs(300));
    }

    #[test]
    fn reports_only_move_a_delivery_forward() {
        use DeliveryState::*;
        assert!(Sent.may_become(Delivered) && Delivered.may_become(Read));
        assert!(!Read.may_become(Delivered));
        assert!(Sent.may_become(Failed) && !Read.may_become(Failed));
        assert!(!Failed.may_become(Delivered));
        assert_eq!(DeliveryState::parse("read"), Some(Read));
    }
}
