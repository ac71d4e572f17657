use serde_json::{json, Value};

use super::*;
use crate::queue::QueueType;
use crate::{RouteId, Rule};

fn parse(value: Value) -> ChannelConfig {
    serde_json::from_value(value).unwrap()
}

fn web() -> Value {
    json!({"accessCode": "WEBCHAT", "name": "web_chat", "type": "WEB", "calledRouteId": "5"})
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn error_of(value: Value) -> crate::ValidationError {
    parse(value).validate_with_secrets(&[]).unwrap_err()
}

#[test]
fn a_minimal_web_channel_is_valid_with_documented_defaults() {
    let c = parse(web());
    assert!(c.validate_with_secrets(&[]).is_ok());
    assert_eq!(c.queue_reminder.interval_seconds, 10);
    assert_eq!(c.customer_timeout.effective_end_after_minutes(), 20);
    assert_eq!(c.work_time.workday.len(), 1);
}

#[test]
fn access_code_must_not_start_with_a_digit() {
    let err = error_of(with(web(), "accessCode", json!("1WEB")));
    assert_eq!(err.field, "accessCode");
    assert!(matches!(err.rule, Rule::Pattern { .. }));
}

#[test]
fn name_of_sixty_four_characters_is_accepted_and_sixty_five_refused() {
    assert!(parse(with(web(), "name", json!("n".repeat(64))))
        .validate()
        .is_ok());
    let err = error_of(with(web(), "name", json!("n".repeat(65))));
    assert_eq!(
        (err.field.as_str(), err.rule),
        ("name", Rule::TooLong { max: 64 })
    );
}

#[test]
fn secret_key_of_forty_three_is_accepted_and_forty_four_refused() {
    let ok = with(web(), "secrets", json!({"secretKey": "k".repeat(43)}));
    let plan = parse(ok).validate_with_secrets(&[]).unwrap();
    assert_eq!(plan.set, vec![("secretKey".to_owned(), "k".repeat(43))]);
    let err = error_of(with(web(), "secrets", json!({"secretKey": "k".repeat(44)})));
    assert_eq!(err.field, "secrets.secretKey");
    let symbols = error_of(with(
        web(),
        "secrets",
        json!({"secretKey": format!("{}!", "k".repeat(20))}),
    ));
    assert_eq!(symbols.field, "secrets.secretKey");
}

#[test]
fn secrets_are_never_serialized_with_the_configuration() {
    let c = parse(with(web(), "secrets", json!({"secretKey": "k".repeat(43)})));
    let text = serde_json::to_string(&c).unwrap();
    assert!(!text.contains("kkkk"), "{text}");
    assert!(!format!("{:?}", c.secrets).contains("kkkk"));
}

#[test]
fn unknown_fields_are_refused() {
    let parsed: Result<ChannelConfig, _> =
        serde_json::from_value(with(web(), "colour", json!("red")));
    assert!(parsed.unwrap_err().to_string().contains("colour"));
}

#[test]
fn keywords_split_on_ascii_and_full_width_semicolons() {
    let c = parse(with(
        web(),
        "transferKeywords",
        json!("agent; human；人工 ;"),
    ));
    assert_eq!(c.keywords(), vec!["agent", "human", "人工"]);
}

#[test]
fn an_enabled_chatbot_needs_transfer_keywords_and_a_name() {
    let bot = with(web(), "chatbot", json!({"enabled": true, "name": "Ava"}));
    assert_eq!(error_of(bot.clone()).field, "transferKeywords");
    assert!(parse(with(bot, "transferKeywords", json!("agent")))
        .validate()
        .is_ok());
    let nameless = with(
        with(web(), "chatbot", json!({"enabled": true})),
        "transferKeywords",
        json!("agent"),
    );
    assert_eq!(error_of(nameless).field, "chatbot.name");
}

#[test]
fn a_fifth_work_time_segment_is_refused() {
    let seg = |s: &str, e: &str| json!({"start": s, "end": e});
    let five = json!({"workday": [seg("00:00","01:00"), seg("02:00","03:00"), seg("04:00","05:00"), seg("06:00","07:00"), seg("08:00","09:00")], "nonWorkday": []});
    assert_eq!(
        error_of(with(web(), "workTime", five)).field,
        "workTime.workday[4]"
    );
}

#[test]
fn queue_reminder_interval_and_customer_timeout_bounds() {
    let err = error_of(with(web(), "queueReminder", json!({"intervalSeconds": 0})));
    assert_eq!(err.field, "queueReminder.intervalSeconds");
    let prompt_late = json!({"enabled": true, "promptAfterMinutes": 20, "endAfterMinutes": 20});
    assert_eq!(
        error_of(with(web(), "customerTimeout", prompt_late)).field,
        "customerTimeout.promptAfterMinutes"
    );
}

#[test]
fn click_to_call_only_for_web_channels() {
    let tg = json!({"accessCode": "TG", "name": "tg", "type": "TELEGRAM", "calledRouteId": "5",
        "clickToCall": {"enabled": true, "calledRouteId": "6"}, "secrets": {"botToken": "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ"}});
    assert_eq!(error_of(tg).field, "clickToCall.enabled");
}

#[test]
fn routes_must_lead_to_queues_of_the_right_media_type() {
    let c = parse(with(
        web(),
        "clickToCall",
        json!({"enabled": true, "calledRouteId": "6"}),
    ));
    let lookup = |id: RouteId| match id.0 {
        5 => Some(QueueType::Multimedia),
        6 => Some(QueueType::VoiceClickToDial),
        _ => None,
    };
    assert!(c.check_routes(lookup).is_ok());
    let wrong = |id: RouteId| {
        if id.0 == 5 {
            Some(QueueType::Voice)
        } else {
            lookup(id)
        }
    };
    assert_eq!(c.check_routes(wrong).unwrap_err().field, "calledRouteId");
    assert_eq!(
        c.check_routes(|id| if id.0 == 5 { lookup(id) } else { None })
            .unwrap_err()
            .field,
        "clickToCall.calledRouteId"
    );
}

#[test]
fn settings_of_another_type_are_refused() {
    let err = error_of(with(web(), "telegram", json!({"botUsername": "x_bot"})));
    assert_eq!(err.field, "telegram");
}

#[test]
fn telegram_needs_a_well_formed_bot_token() {
    let tg = json!({"accessCode": "TG", "name": "tg", "type": "TELEGRAM", "calledRouteId": "5"});
    assert_eq!(error_of(tg.clone()).field, "secrets.botToken");
    let bad = with(tg.clone(), "secrets", json!({"botToken": "not-a-token"}));
    assert_eq!(error_of(bad).field, "secrets.botToken");
    let good = with(
        tg,
        "secrets",
        json!({"botToken": "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ", "webhookSecret": "s3cr3t_-"}),
    );
    assert!(parse(good).validate_with_secrets(&[]).is_ok());
}

fn facebook() -> Value {
    json!({"accessCode": "FB", "name": "fb", "type": "FACEBOOK", "calledRouteId": "5",
        "facebook": {"appId": "1234", "signatureAlgorithm": "SHA-1", "pages": [{"pageId": "111"}, {"pageId": "222"}]},
        "secrets": {"appSecret": "s", "verifyToken": "v", "pageTokens": {"111": "t1", "222": "t2"}}})
}

#[test]
fn facebook_needs_a_token_for_every_page() {
    assert!(parse(facebook()).validate_with_secrets(&[]).is_ok());
    let mut missing = facebook();
    missing["secrets"]["pageTokens"] = json!({"111": "t1"});
    assert_eq!(error_of(missing).field, "secrets.pageTokens.222");
    let mut stranger = facebook();
    stranger["secrets"]["pageTokens"]["333"] = json!("t3");
    assert_eq!(error_of(stranger).field, "secrets.pageTokens.333");
}

#[test]
fn facebook_global_keys_cover_the_app_and_every_page() {
    let keys: Vec<_> = parse(facebook())
        .global_keys()
        .into_iter()
        .map(|k| (k.kind, k.value))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("facebook_app", "1234".into()),
            ("facebook_page", "111".into()),
            ("facebook_page", "222".into())
        ]
    );
}

#[test]
fn an_update_keeps_stored_secrets_and_drops_tokens_of_removed_pages() {
    let mut update = facebook();
    update["facebook"]["pages"] = json!([{"pageId": "111"}]);
    update["secrets"] = json!({});
    let existing = ["appSecret", "verifyToken", "pageToken:111", "pageToken:222"].map(String::from);
    let plan = parse(update).validate_with_secrets(&existing).unwrap();
    assert!(plan.set.is_empty());
    assert_eq!(plan.remove, vec!["pageToken:222".to_owned()]);
}

#[test]
fn clearing_a_required_secret_is_refused() {
    let mut update = facebook();
    update["secrets"] = json!({"appSecret": ""});
    let existing = ["appSecret", "verifyToken", "pageToken:111", "pageToken:222"].map(String::from);
    assert_eq!(
        parse(update)
            .validate_with_secrets(&existing)
            .unwrap_err()
            .field,
        "secrets.appSecret"
    );
}

#[test]
fn message_push_only_for_web_and_whatsapp_and_needs_a_key() {
    let push = with(
        web(),
        "messagePush",
        json!({"enabled": true, "baseUrl": "https://crm.example.com"}),
    );
    assert_eq!(error_of(push.clone()).field, "secrets.pushKey");
    assert!(
        parse(with(push, "secrets", json!({"pushKey": "p".repeat(43)})))
            .validate_with_secrets(&[])
            .is_ok()
    );
    let line = json!({"accessCode": "LN", "name": "ln", "type": "LINE", "calledRouteId": "5",
        "line": {"lineChannelId": "1650000000"}, "messagePush": {"enabled": true, "baseUrl": "https://x.example"}});
    assert_eq!(error_of(line).field, "messagePush.enabled");
}

#[test]
fn web_origins_must_be_bare_origins() {
    let ok = with(
        web(),
        "web",
        json!({"allowedOrigins": ["https://shop.example.com", "http://127.0.0.1:8081"]}),
    );
    assert!(parse(ok).validate().is_ok());
    let with_path = with(
        web(),
        "web",
        json!({"allowedOrigins": ["https://shop.example.com/page"]}),
    );
    assert_eq!(error_of(with_path).field, "web.allowedOrigins[0]");
}

#[test]
fn email_and_wechat_settings_are_checked() {
    let email = json!({"accessCode": "MAIL", "name": "mail", "type": "EMAIL", "calledRouteId": "5",
        "email": {"address": "not-an-address", "imapHost": "imap.x", "smtpHost": "smtp.x", "username": "u"},
        "secrets": {"password": "pw"}});
    assert_eq!(error_of(email).field, "email.address");
    let wechat = json!({"accessCode": "WX", "name": "wx", "type": "WECHAT", "calledRouteId": "5",
        "wechat": {"appId": "wx1234567890abcdef"}, "secrets": {"appSecret": "a", "token": "tok", "encodingAesKey": "short"}});
    assert_eq!(error_of(wechat).field, "secrets.encodingAesKey");
}
