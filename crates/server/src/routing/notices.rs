//! The system messages customers get from routing, in the tenant's language when the
//! channel has no text of its own.

use switchboard_domain::tenant::Locale;
use switchboard_routing::{Notice, OverflowReason, ReleaseReason};

fn or_default(text: &str, default: String) -> String {
    if text.trim().is_empty() {
        default
    } else {
        text.to_owned()
    }
}

pub fn notice(locale: Locale, notice: &Notice) -> String {
    match (notice, locale) {
        (Notice::Position { position }, Locale::Zh) => {
            format!("您当前排在第 {position} 位，请稍候。")
        }
        (Notice::Position { position }, Locale::En) => {
            format!("You are number {position} in the queue. An agent will be with you shortly.")
        }
        (Notice::Reminder { position, text }, Locale::Zh) => or_default(
            text,
            format!("您仍在排队，当前第 {position} 位，感谢您的耐心等待。"),
        ),
        (Notice::Reminder { position, text }, Locale::En) => or_default(
            text,
            format!("You are still number {position} in the queue. Thank you for waiting."),
        ),
        (Notice::OutOfHours { text }, Locale::Zh) => {
            or_default(text, "现在是非工作时间，客服暂时无法接待。".into())
        }
        (Notice::OutOfHours { text }, Locale::En) => {
            or_default(text, "Our agents are not working at this time.".into())
        }
        (Notice::SilencePrompt { text }, Locale::Zh) => {
            or_default(text, "您还在吗？如长时间未回复，会话将自动结束。".into())
        }
        (Notice::SilencePrompt { text }, Locale::En) => or_default(
            text,
            "Are you still there? The chat will end if there is no reply.".into(),
        ),
        (Notice::Conclusion { text }, Locale::Zh) => or_default(
            text,
            "由于长时间未收到您的回复，会话已结束。感谢您的咨询。".into(),
        ),
        (Notice::Conclusion { text }, Locale::En) => or_default(
            text,
            "The chat has ended as there was no reply. Thank you for contacting us.".into(),
        ),
    }
}

pub fn connected(locale: Locale, agent_name: &str) -> String {
    match locale {
        Locale::Zh => format!("客服 {agent_name} 已接入，为您服务。"),
        Locale::En => format!("You are connected to {agent_name}."),
    }
}

pub fn transferred(locale: Locale) -> String {
    match locale {
        Locale::Zh => "正在为您转接其他客服，请稍候。".into(),
        Locale::En => "You are being transferred to another agent. Please wait.".into(),
    }
}

/// What a released customer is told; nothing more after an out-of-hours notice unless
/// a message may be left.
pub fn released(locale: Locale, reason: ReleaseReason, offline_messages: bool) -> Option<String> {
    let why = match (reason, locale) {
        (ReleaseReason::OutOfHours, _) => None,
        (
            ReleaseReason::Overflow(OverflowReason::NoAgents)
            | ReleaseReason::OverflowChainEnded(OverflowReason::NoAgents),
            Locale::Zh,
        ) => Some("当前没有客服在线。"),
        (
            ReleaseReason::Overflow(OverflowReason::NoAgents)
            | ReleaseReason::OverflowChainEnded(OverflowReason::NoAgents),
            Locale::En,
        ) => Some("No agent is available right now."),
        (_, Locale::Zh) => Some("客服繁忙，请稍后再试。"),
        (_, Locale::En) => Some("All our agents are busy. Please try again later."),
    };
    let leave = match locale {
        Locale::Zh => "您可以留言，我们会尽快回复您。",
        Locale::En => "You can leave a message and we will get back to you.",
    };
    match (why, offline_messages) {
        (Some(why), true) => Some(format!("{why} {leave}")),
        (Some(why), false) => Some(why.to_owned()),
        (None, true) => Some(leave.to_owned()),
        (None, false) => None,
    }
}
