//! Conversations and their messages. Every message gets the next sequence number of its
//! conversation when it is stored, before anyone is told about it; clients resume from the
//! last sequence number they saw, and a send retried with the same client message id is
//! stored once.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;
use crate::validation::{fail, max_chars, required_text, Checked, Rule};
use crate::{ChannelId, ConversationId, CustomerId, EmployeeId};

pub const MAX_TEXT_CHARS: usize = 5000;
pub const MAX_CLIENT_MESSAGE_ID_CHARS: usize = 64;

/// Where a conversation stands [SPEC §4].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum ConversationState {
    Bot,
    Queued,
    Assigned,
    WrapUp,
    Closed,
    OfflineMessage,
    Abandoned,
}

impl ConversationState {
    pub const ALL: [ConversationState; 7] = [
        ConversationState::Bot,
        ConversationState::Queued,
        ConversationState::Assigned,
        ConversationState::WrapUp,
        ConversationState::Closed,
        ConversationState::OfflineMessage,
        ConversationState::Abandoned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConversationState::Bot => "bot",
            ConversationState::Queued => "queued",
            ConversationState::Assigned => "assigned",
            ConversationState::WrapUp => "wrapUp",
            ConversationState::Closed => "closed",
            ConversationState::OfflineMessage => "offlineMessage",
            ConversationState::Abandoned => "abandoned",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether a message of `sender` may be added: none once a conversation has ended,
    /// except the customer's own in an offline-message conversation (leaving a message)
    /// and the system's notice of why it ended. An agent writes only while serving it.
    pub fn accepts(self, sender: &Sender) -> bool {
        match sender {
            Sender::System => true,
            Sender::Agent { .. } => self == ConversationState::Assigned,
            Sender::Customer => self.is_open() || self == ConversationState::OfflineMessage,
            Sender::Bot => self.is_open(),
        }
    }

    /// Routing is done with it: closed, abandoned, or left to an offline message.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            ConversationState::Closed
                | ConversationState::Abandoned
                | ConversationState::OfflineMessage
        )
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Sender {
    Customer,
    #[serde(rename_all = "camelCase")]
    Agent {
        employee_id: EmployeeId,
    },
    Bot,
    System,
}

impl Sender {
    pub fn kind(self) -> &'static str {
        match self {
            Sender::Customer => "customer",
            Sender::Agent { .. } => "agent",
            Sender::Bot => "bot",
            Sender::System => "system",
        }
    }
}

/// What a message carries. Media are stored files referred to by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum Content {
    Text {
        text: String,
    },
    #[serde(rename_all = "camelCase")]
    Image {
        file_id: String,
        #[serde(default)]
        name: String,
    },
    #[serde(rename_all = "camelCase")]
    File {
        file_id: String,
        name: String,
        size: u64,
        mime_type: String,
    },
    /// A place a customer shared from a messaging app.
    Location {
        latitude: Degrees,
        longitude: Degrees,
        #[serde(default)]
        name: String,
        #[serde(default)]
        address: String,
    },
}

/// An angle in decimal degrees. Two are equal when their bits are, so that a content
/// compares like any other value.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Degrees(pub f64);

impl PartialEq for Degrees {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0).is_eq()
    }
}

impl Eq for Degrees {}

impl Content {
    pub fn validate(&self) -> Checked {
        match self {
            Content::Text { text } => {
                if text.trim().is_empty() {
                    return fail("text", Rule::Required);
                }
                max_chars("text", text, MAX_TEXT_CHARS)
            }
            Content::Image { file_id, name } => {
                required_text("fileId", file_id, 128)?;
                max_chars("name", name, 255)
            }
            Content::File {
                file_id,
                name,
                mime_type,
                ..
            } => {
                required_text("fileId", file_id, 128)?;
                required_text("name", name, 255)?;
                required_text("mimeType", mime_type, 255)
            }
            Content::Location {
                latitude,
                longitude,
                name,
                address,
            } => {
                within_degrees("latitude", *latitude, 90.0)?;
                within_degrees("longitude", *longitude, 180.0)?;
                max_chars("name", name, 255)?;
                max_chars("address", address, 1000)
            }
        }
    }
}

fn within_degrees(field: &str, value: Degrees, limit: f64) -> Checked {
    if value.0.is_finite() && value.0.abs() <= limit {
        return Ok(());
    }
    // Whole degrees are precise enough to say what the range is.
    let limit = limit as i64;
    fail(
        field,
        Rule::OutOfRange {
            min: -limit,
            max: limit,
        },
    )
}

/// A message to store; `client_message_id` makes retried sends idempotent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub sender: Sender,
    pub client_message_id: String,
    pub content: Content,
}

impl NewMessage {
    pub fn validate(&self) -> Checked {
        check_client_message_id(&self.client_message_id)?;
        self.content.validate().map_err(|e| e.within("content"))
    }
}

/// 1–64 of letters, digits, `-`, `_`, `.`, `:` (UUIDs and counters fit).
pub fn check_client_message_id(id: &str) -> Checked {
    required_text("clientMessageId", id, MAX_CLIENT_MESSAGE_ID_CHARS)?;
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
    {
        return fail(
            "clientMessageId",
            Rule::Pattern {
                expected: "letters, digits, '-', '_', '.' or ':'",
            },
        );
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub conversation_id: ConversationId,
    /// 1, 2, 3, … within the conversation, in the order messages were stored.
    pub seq: i64,
    pub sender: Sender,
    pub client_message_id: String,
    pub content: Content,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: CustomerId,
    pub channel_id: ChannelId,
    /// The customer's id in the enterprise's system or on the platform.
    pub external_id: String,
    pub name: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: ConversationId,
    pub channel_id: ChannelId,
    pub customer_id: CustomerId,
    pub state: ConversationState,
    pub agent_id: Option<EmployeeId>,
    /// The sequence number of the last stored message (0 before the first).
    pub last_seq: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
}

/// A customer's satisfaction evaluation of the service in a conversation [000 step 7]:
/// possible once an agent has written in it, during or after the chat; the last counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Evaluation {
    /// 1 (very dissatisfied) to 5 (very satisfied).
    pub rating: u8,
    #[serde(default)]
    pub comment: String,
}

pub const MAX_EVALUATION_COMMENT_CHARS: usize = 500;

impl Evaluation {
    pub fn validate(&self) -> Checked {
        crate::validation::in_range("rating", self.rating.into(), 1, 5)?;
        max_chars("comment", &self.comment, MAX_EVALUATION_COMMENT_CHARS)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn text(t: &str) -> NewMessage {
        NewMessage {
            sender: Sender::Customer,
            client_message_id: "c-1".into(),
            content: Content::Text { text: t.into() },
        }
    }

    #[test]
    fn text_must_be_present_and_bounded() {
        assert!(text("hello").validate().is_ok());
        assert_eq!(text("  ").validate().unwrap_err().field, "content.text");
        assert!(text(&"x".repeat(MAX_TEXT_CHARS)).validate().is_ok());
        assert!(text(&"x".repeat(MAX_TEXT_CHARS + 1)).validate().is_err());
    }

    #[test]
    fn client_message_ids_are_short_safe_tokens() {
        assert!(check_client_message_id("550e8400-e29b-41d4-a716-446655440000").is_ok());
        assert!(check_client_message_id("").is_err());
        assert!(check_client_message_id("a b").is_err());
        assert!(check_client_message_id(&"a".repeat(65)).is_err());
    }

    #[test]
    fn content_and_sender_have_tagged_json_forms() {
        let content: Content = serde_json::from_value(json!({"type": "file", "fileId": "f1", "name": "a.pdf", "size": 10, "mimeType": "application/pdf"})).unwrap();
        assert!(content.validate().is_ok());
        let sender = serde_json::to_value(Sender::Agent {
            employee_id: EmployeeId(7),
        })
        .unwrap();
        assert_eq!(sender, json!({"kind": "agent", "employeeId": "7"}));
    }

    #[test]
    fn a_location_lies_on_the_globe() {
        let place = |latitude, longitude| {
            serde_json::from_value::<Content>(
                json!({"type": "location", "latitude": latitude, "longitude": longitude}),
            )
            .unwrap()
            .validate()
        };
        assert!(place(48.8584, 2.2945).is_ok());
        assert!(place(-90.0, 180.0).is_ok());
        assert_eq!(place(90.5, 0.0).unwrap_err().field, "latitude");
        assert_eq!(place(0.0, -181.0).unwrap_err().field, "longitude");
    }

    #[test]
    fn evaluations_rate_one_to_five_with_a_short_comment() {
        let rate = |rating, comment: &str| {
            Evaluation {
                rating,
                comment: comment.into(),
            }
            .validate()
        };
        assert!(rate(1, "").is_ok() && rate(5, "great").is_ok());
        assert_eq!(rate(0, "").unwrap_err().field, "rating");
        assert_eq!(rate(6, "").unwrap_err().field, "rating");
        assert_eq!(rate(3, &"x".repeat(501)).unwrap_err().field, "comment");
    }

    #[test]
    fn ended_conversations_are_not_open() {
        assert!(ConversationState::Queued.is_open());
        assert!(!ConversationState::Closed.is_open());
        assert_eq!(
            ConversationState::parse("wrapUp"),
            Some(ConversationState::WrapUp)
        );
    }

    #[test]
    fn who_may_write_depends_on_the_state() {
        use ConversationState::*;
        let agent = Sender::Agent {
            employee_id: crate::EmployeeId(7),
        };
        let writers = |state: ConversationState| {
            [Sender::Customer, agent, Sender::Bot, Sender::System].map(|s| state.accepts(&s))
        };
        assert_eq!(writers(Bot), [true, false, true, true]);
        assert_eq!(writers(Queued), [true, false, true, true]);
        assert_eq!(writers(Assigned), [true, true, true, true]);
        assert_eq!(writers(WrapUp), [true, false, true, true]);
        assert_eq!(writers(OfflineMessage), [true, false, false, true]);
        assert_eq!(writers(Closed), [false, false, false, true]);
        assert_eq!(writers(Abandoned), [false, false, false, true]);
    }
}
