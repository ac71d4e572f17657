use std::sync::Arc;

use serde_json::json;
use switchboard_domain::channel::secrets::SecretPlan;
use switchboard_domain::employee::{BatchAgentConfig, EmployeeConfig, Role};
use switchboard_domain::export::ExportStatus;
use switchboard_domain::paging::PageRequest;
use switchboard_domain::tenant::ResourceLimits;
use switchboard_domain::{ChannelId, EmployeeId, QueueId, Rule, TenantId};
use switchboard_store::{
    AccountRole, ChannelFilter, EmployeeFilter, QueueFilter, Store, StoreError,
};

use crate::fixtures::*;

fn conflict_on(result: Result<impl std::fmt::Debug, StoreError>, expected: &str) {
    match result {
        Err(StoreError::Conflict { field }) => assert_eq!(field, expected),
        other => panic!("expected a conflict on {expected}, got {other:?}"),
    }
}

fn rejected_on(result: Result<impl std::fmt::Debug, StoreError>, expected: &str) -> Rule {
    match result {
        Err(StoreError::Rejected(e)) => {
            assert_eq!(e.field, expected);
            e.rule
        }
        other => panic!("expected a rejection of {expected}, got {other:?}"),
    }
}

fn not_found(result: Result<impl std::fmt::Debug, StoreError>) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "expected NotFound, got {result:?}"
    );
}

fn in_use(result: Result<impl std::fmt::Debug, StoreError>) {
    assert!(
        matches!(result, Err(StoreError::InUse { .. })),
        "expected InUse, got {result:?}"
    );
}

fn page(n: u32, size: u32) -> PageRequest {
    PageRequest {
        page: n,
        page_size: size,
    }
}

pub async fn operator_and_sign_in_lookup(store: Arc<Store>) {
    assert!(!store.platform().has_operator().await.unwrap());
    let op = account(
        json!({"account": "Operator", "name": "Operator", "role": "tenantAdmin", "agent": null}),
    );
    let id = store.platform().create_operator(op).await.unwrap();
    assert!(store.platform().has_operator().await.unwrap());
    let found = store
        .platform()
        .account_by_name("OPERATOR")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id, found.role, found.tenant_id),
        (id, AccountRole::Operator, None)
    );
    assert!(store
        .platform()
        .account_by_name("nobody")
        .await
        .unwrap()
        .is_none());
    store
        .platform()
        .set_password(id, "new-hash", true)
        .await
        .unwrap();
    let changed = store
        .platform()
        .account_by_name("operator")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (changed.password_hash.as_str(), changed.must_change_password),
        ("new-hash", true)
    );
}

pub async fn tenants_are_created_with_their_administrator(store: Arc<Store>) {
    let acme = tenant(&store, "acme").await;
    let admin = store
        .platform()
        .account_by_name("acme_admin")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (admin.tenant_id, admin.role),
        (Some(acme), AccountRole::Tenant(Role::TenantAdmin))
    );
    let settings = from(json!({"name": "ACME", "timeZone": "UTC"}));
    let again = account(
        json!({"account": "other_admin", "name": "A", "role": "tenantAdmin", "agent": null}),
    );
    conflict_on(
        store
            .platform()
            .create_tenant(&settings, &ResourceLimits::default(), &again)
            .await,
        "name",
    );
    let settings = from(json!({"name": "globex", "timeZone": "UTC"}));
    let taken = account(
        json!({"account": "ACME_ADMIN", "name": "A", "role": "tenantAdmin", "agent": null}),
    );
    conflict_on(
        store
            .platform()
            .create_tenant(&settings, &ResourceLimits::default(), &taken)
            .await,
        "admin.account",
    );
    for name in ["globex", "initech", "umbrella"] {
        tenant(&store, name).await;
    }
    let listed = store
        .platform()
        .list_tenants(page(2, 2), None)
        .await
        .unwrap();
    assert_eq!((listed.total, listed.items.len()), (4, 2));
    let filtered = store
        .platform()
        .list_tenants(page(1, 10), Some("BREL"))
        .await
        .unwrap();
    assert_eq!(filtered.items[0].settings.name, "umbrella");
    let disabled = store
        .platform()
        .set_tenant_disabled(acme, true)
        .await
        .unwrap();
    assert!(disabled.disabled);
    assert!(
        store
            .platform()
            .account_by_name("acme_admin")
            .await
            .unwrap()
            .unwrap()
            .tenant_disabled
    );
    not_found(
        store
            .platform()
            .set_tenant_disabled(TenantId(1), true)
            .await,
    );
}

pub async fn sessions_expire_and_can_be_ended(store: Arc<Store>) {
    tenant(&store, "acme").await;
    let admin = store
        .platform()
        .account_by_name("acme_admin")
        .await
        .unwrap()
        .unwrap();
    let platform = store.platform();
    platform
        .create_session("current", admin.id, 2_000)
        .await
        .unwrap();
    platform
        .create_session("other", admin.id, 2_000)
        .await
        .unwrap();
    platform
        .create_session("old", admin.id, 1_000)
        .await
        .unwrap();
    assert_eq!(
        platform
            .session("current", 1_500)
            .await
            .unwrap()
            .unwrap()
            .id,
        admin.id
    );
    assert!(platform.session("old", 1_500).await.unwrap().is_none());
    assert!(platform.session("unknown", 1_500).await.unwrap().is_none());
    platform
        .delete_other_sessions(admin.id, "current")
        .await
        .unwrap();
    assert!(platform.session("other", 1_500).await.unwrap().is_none());
    assert!(platform.session("current", 1_500).await.unwrap().is_some());
    platform.delete_session("current").await.unwrap();
    assert!(platform.session("current", 1_500).await.unwrap().is_none());
    platform
        .create_session("stale", admin.id, 1_000)
        .await
        .unwrap();
    assert_eq!(platform.purge_expired_sessions(1_500).await.unwrap(), 1);
}

pub async fn queue_names_are_unique_per_tenant(store: Arc<Store>) {
    let (a, b) = (tenant(&store, "a").await, tenant(&store, "b").await);
    let first = queue(&store, a, "sales", "multimedia").await;
    conflict_on(
        store
            .tenant(a)
            .create_queue(&queue_config("sales", "voice"))
            .await,
        "name",
    );
    queue(&store, b, "sales", "multimedia").await;
    queue(&store, a, "support", "voice").await;
    let listed = store
        .tenant(a)
        .list_queues(
            page(1, 10),
            &QueueFilter {
                name: Some("SAL".into()),
                queue_type: None,
            },
        )
        .await
        .unwrap();
    assert_eq!((listed.total, listed.items[0].id), (1, first.id));
    let voice = QueueFilter {
        name: None,
        queue_type: Some(switchboard_domain::queue::QueueType::Voice),
    };
    assert_eq!(
        store
            .tenant(a)
            .list_queues(page(1, 10), &voice)
            .await
            .unwrap()
            .items[0]
            .config
            .name,
        "support"
    );
    let mut renamed = first.config.clone();
    renamed.name = "support".into();
    conflict_on(
        store.tenant(a).update_queue(first.id, &renamed).await,
        "name",
    );
    renamed.name = "sales2".into();
    renamed.max_queued = 7;
    let updated = store
        .tenant(a)
        .update_queue(first.id, &renamed)
        .await
        .unwrap();
    assert_eq!(
        (updated.config.name.as_str(), updated.config.max_queued),
        ("sales2", 7)
    );
}

pub async fn queues_in_use_cannot_be_deleted(store: Arc<Store>) {
    let t = tenant(&store, "acme").await;
    let scope = store.tenant(t);
    let routed = queue(&store, t, "routed", "multimedia").await;
    let route = route(&store, t, "100", routed.id).await;
    in_use(scope.delete_queue(routed.id).await);
    scope.delete_route(route.id).await.unwrap();
    scope.delete_queue(routed.id).await.unwrap();

    let staffed = queue(&store, t, "staffed", "multimedia").await;
    let agent = scope
        .create_employee(&account(agent("ann", 101, &[staffed.id])))
        .await
        .unwrap();
    in_use(scope.delete_queue(staffed.id).await);
    scope.delete_employee(agent.id).await.unwrap();
    scope.delete_queue(staffed.id).await.unwrap();

    let target = queue(&store, t, "target", "multimedia").await;
    let mut overflowing = queue_config("overflowing", "multimedia");
    overflowing.policies = from(json!({"skillBusy": {"action": "transfer", "queueId": target.id}}));
    let source = scope.create_queue(&overflowing).await.unwrap();
    in_use(scope.delete_queue(target.id).await);
    scope.delete_queue(source.id).await.unwrap();
    scope.delete_queue(target.id).await.unwrap();
    not_found(scope.delete_queue(target.id).await);
}

pub async fn queue_type_and_route_media_type_are_immutable(store: Arc<Store>) {
    let t = tenant(&store, "acme").await;
    let q = queue(&store, t, "q", "multimedia").await;
    assert_eq!(
        rejected_on(
            store
                .tenant(t)
                .update_queue(q.id, &queue_config("q", "voice"))
                .await,
            "type"
        ),
        Rule::Immutable
    );
    let r = route(&store, t, "100", q.id).await;
    let voice = route_config("100", "voice", q.id);
    assert_eq!(
        rejected_on(
            store.tenant(t).update_route(r.id, &voice).await,
            "mediaType"
        ),
        Rule::Immutable
    );
    let mut overflow_to_voice = queue_config("q", "multimedia");
    let v = queue(&store, t, "v", "voice").await;
    overflow_to_voice.policies = from(json!({"noAgents": {"action": "transfer", "queueId": v.id}}));
    rejected_on(
        store.tenant(t).update_queue(q.id, &overflow_to_voice).await,
        "policies.noAgents.queueId",
    );
}

pub async fn routes_must_match_their_queue_type(store: Arc<Store>) {
    let t = tenant(&store, "acme").await;
    let voice = queue(&store, t, "voice", "voice").await;
    let media = queue(&store, t, "media", "multimedia").await;
    let scope = store.tenant(t);
    rejected_on(
        scope
            .create_route(&route_config("100", "multimedia", voice.id))
            .await,
        "skillQueueId",
    );
    rejected_on(
        scope
            .create_route(&route_config("100", "multimedia", QueueId(12345)))
            .await,
        "skillQueueId",
    );
    let r = scope
        .create_route(&route_config("100", "multimedia", media.id))
        .await
        .unwrap();
    conflict_on(
        scope
            .create_route(&route_config("100", "multimedia", media.id))
            .await,
        "accessCode",
    );
    let mut with_extension = route_config("100", "multimedia", media.id);
    with_extension.extension_code = "1".into();
    scope.create_route(&with_extension).await.unwrap();
    let listed = scope
        .list_routes(page(1, 10), Some("1001"), None)
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    let channel = web_channel("WEB", r.id);
    scope
        .create_channel(&channel, &SecretPlan::default())
        .await
        .unwrap();
    in_use(scope.delete_route(r.id).await);
}

pub async fn agents_respect_skills_and_tenant_limits(store: Arc<Store>) {
    let limits = ResourceLimits {
        multimedia_agents: 2,
        ..ResourceLimits::default()
    };
    let t = tenant_with_limits(&store, "acme", limits).await;
    let media = queue(&store, t, "media", "multimedia").await;
    let voice = queue(&store, t, "voice", "voice").await;
    let scope = store.tenant(t);
    rejected_on(
        scope
            .create_employee(&account(agent("mixed", 101, &[media.id, voice.id])))
            .await,
        "agent.skills[1].queueId",
    );
    scope
        .create_employee(&account(agent("ann", 101, &[media.id])))
        .await
        .unwrap();
    conflict_on(
        scope
            .create_employee(&account(agent("bob", 101, &[])))
            .await,
        "agent.workNo",
    );
    conflict_on(
        scope
            .create_employee(&account(agent("ANN", 102, &[])))
            .await,
        "account",
    );
    let bob = scope
        .create_employee(&account(agent("bob", 102, &[])))
        .await
        .unwrap();
    rejected_on(
        scope
            .create_employee(&account(agent("cid", 103, &[])))
            .await,
        "agent.agentType",
    );
    // Changing an existing agent does not count it twice against the limit.
    let mut bob_config: EmployeeConfig = bob.config.clone();
    bob_config.agent.as_mut().unwrap().max_concurrent_chats = 9;
    let updated = scope
        .update_employee(bob.id, &bob_config, Some("new-hash"))
        .await
        .unwrap();
    assert_eq!(updated.config.agent.unwrap().max_concurrent_chats, 9);
    // An employee without an agent profile does not count.
    scope
        .create_employee(&account(
            json!({"account": "sup", "name": "Sup", "role": "supervisor", "agent": null}),
        ))
        .await
        .unwrap();
}

pub async fn employees_are_listed_with_filters_and_paging(store: Arc<Store>) {
    let t = tenant(&store, "acme").await;
    let media = queue(&store, t, "media", "multimedia").await;
    let scope = store.tenant(t);
    for (i, name) in ["alice", "bob", "carol"].iter().enumerate() {
        let queues = if i == 0 { vec![media.id] } else { vec![] };
        scope
            .create_employee(&account(agent(name, 101 + i as u32, &queues)))
            .await
            .unwrap();
    }
    let all = scope
        .list_employees(page(1, 2), &EmployeeFilter::default())
        .await
        .unwrap();
    assert_eq!(
        (all.total, all.items.len()),
        (4, 2),
        "three agents and the administrator"
    );
    let agents = EmployeeFilter {
        role: Some(Role::Agent),
        ..EmployeeFilter::default()
    };
    assert_eq!(
        scope
            .list_employees(page(1, 10), &agents)
            .await
            .unwrap()
            .total,
        3
    );
    let by_queue = EmployeeFilter {
        queue: Some(media.id),
        ..EmployeeFilter::default()
    };
    assert_eq!(
        scope
            .list_employees(page(1, 10), &by_queue)
            .await
            .unwrap()
            .items[0]
            .config
            .account,
        "alice"
    );
    let by_text = EmployeeFilter {
        text: Some("CAR".into()),
        ..EmployeeFilter::default()
    };
    assert_eq!(
        scope
            .list_employees(page(1, 10), &by_text)
            .await
            .unwrap()
            .items[0]
            .config
            .account,
        "carol"
    );
}

pub async fn batch_configuration_is_all_or_nothing(store: Arc<Store>) {
    let limits = ResourceLimits {
        multimedia_agents: 3,
        versatile_agents: 1,
        ..ResourceLimits::default()
    };
    let t = tenant_with_limits(&store, "acme", limits).await;
    let media = queue(&store, t, "media", "multimedia").await;
    let scope = store.tenant(t);
    let mut ids = Vec::new();
    for (i, name) in ["a1", "a2", "a3"].iter().enumerate() {
        ids.push(
            scope
                .create_employee(&account(agent(name, 1519 + i as u32, &[])))
                .await
                .unwrap()
                .id,
        );
    }
    let by_range: BatchAgentConfig = from(
        json!({"selection": {"workNoRange": {"from": 1519, "to": 1520}},
        "maxConcurrentChats": 3, "skills": [{"queueId": media.id, "skillWeight": 5, "agentWeight": 2}]}),
    );
    let changed = scope.batch_configure(&by_range, None).await.unwrap();
    assert_eq!(changed.len(), 2);
    assert!(changed
        .iter()
        .all(|e| e.config.agent.as_ref().unwrap().max_concurrent_chats == 3));
    let queue_members = EmployeeFilter {
        queue: Some(media.id),
        ..EmployeeFilter::default()
    };
    assert_eq!(
        scope
            .list_employees(page(1, 10), &queue_members)
            .await
            .unwrap()
            .total,
        2
    );
    // Two versatile agents exceed the limit of one: nothing changes.
    let too_many: BatchAgentConfig = from(
        json!({"selection": {"employeeIds": [ids[0], ids[2]]}, "agentType": "versatile", "maxConcurrentChats": 9}),
    );
    rejected_on(scope.batch_configure(&too_many, None).await, "agentType");
    assert_eq!(
        scope
            .employee(ids[0])
            .await
            .unwrap()
            .config
            .agent
            .unwrap()
            .max_concurrent_chats,
        3
    );
    let unknown: BatchAgentConfig = from(
        json!({"selection": {"employeeIds": [ids[0], EmployeeId(99)]}, "maxConcurrentChats": 1}),
    );
    not_found(scope.batch_configure(&unknown, None).await);
    let empty_range: BatchAgentConfig =
        from(json!({"selection": {"workNoRange": {"from": 5000, "to": 6000}}}));
    rejected_on(
        scope.batch_configure(&empty_range, None).await,
        "selection.workNoRange",
    );
}

pub async fn channels_keep_secrets_sealed_and_write_only(store: Arc<Store>) {
    let (t, _, route) = routed_tenant(&store, "acme").await;
    let scope = store.tenant(t);
    let mut config = web_channel("WEBCHAT", route);
    config.secrets = from(json!({"secretKey": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}));
    let plan = config.validate_with_secrets(&[]).unwrap();
    let channel = scope.create_channel(&config, &plan).await.unwrap();
    assert_eq!(channel.secrets_set, vec!["secretKey".to_owned()]);
    let serialized = serde_json::to_string(&channel).unwrap();
    assert!(!serialized.contains("abcdefghij"), "{serialized}");
    let id = channel.channel_config_id;
    assert_eq!(
        scope
            .channel_secret(id, "secretKey")
            .await
            .unwrap()
            .unwrap(),
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    );

    let mut update = channel.config.clone();
    update.name = "renamed".into();
    let kept = update
        .validate_with_secrets(&scope.secret_names(id).await.unwrap())
        .unwrap();
    let updated = scope.update_channel(id, &update, &kept).await.unwrap();
    assert_eq!(
        (updated.config.name.as_str(), updated.secrets_set.len()),
        ("renamed", 1)
    );
    update.secrets = from(json!({"secretKey": ""}));
    let cleared = update
        .validate_with_secrets(&scope.secret_names(id).await.unwrap())
        .unwrap();
    assert!(scope
        .update_channel(id, &update, &cleared)
        .await
        .unwrap()
        .secrets_set
        .is_empty());
    assert!(scope
        .channel_secret(id, "secretKey")
        .await
        .unwrap()
        .is_none());

    conflict_on(
        scope
            .create_channel(&web_channel("WEBCHAT", route), &SecretPlan::default())
            .await,
        "accessCode",
    );
    conflict_on(scope.create_channel(&from(json!({"accessCode": "OTHER", "name": "renamed", "type": "WEB", "calledRouteId": route})), &SecretPlan::default()).await, "name");
    let mut retyped = update.clone();
    retyped.channel_type = switchboard_domain::channel::ChannelType::Telegram;
    assert_eq!(
        rejected_on(
            scope
                .update_channel(id, &retyped, &SecretPlan::default())
                .await,
            "type"
        ),
        Rule::Immutable
    );
    rejected_on(
        scope
            .create_channel(
                &web_channel("NOROUTE", switchboard_domain::RouteId(4)),
                &SecretPlan::default(),
            )
            .await,
        "calledRouteId",
    );

    let listed = scope
        .list_channels(
            page(1, 10),
            &ChannelFilter {
                text: Some("ren".into()),
                channel_type: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    scope.delete_channel(id).await.unwrap();
    not_found(scope.channel(id).await);
}

fn facebook(
    code: &str,
    route: switchboard_domain::RouteId,
    app: &str,
    pages: &[&str],
) -> switchboard_domain::channel::ChannelConfig {
    let page_list: Vec<_> = pages.iter().map(|p| json!({"pageId": p})).collect();
    let tokens: serde_json::Map<_, _> = pages
        .iter()
        .map(|p| ((*p).to_owned(), json!("token")))
        .collect();
    from(
        json!({"accessCode": code, "name": code, "type": "FACEBOOK", "calledRouteId": route,
        "facebook": {"appId": app, "pages": page_list},
        "secrets": {"appSecret": "secret", "verifyToken": "verify", "pageTokens": tokens}}),
    )
}

pub async fn platform_identifiers_belong_to_one_channel(store: Arc<Store>) {
    let (a, _, route_a) = routed_tenant(&store, "a").await;
    let (b, _, route_b) = routed_tenant(&store, "b").await;
    let first = facebook("FB", route_a, "777", &["1", "2"]);
    let created = store
        .tenant(a)
        .create_channel(&first, &first.validate_with_secrets(&[]).unwrap())
        .await
        .unwrap();
    // Its credentials' names, in order, wherever a channel is read.
    let names = ["appSecret", "pageToken:1", "pageToken:2", "verifyToken"];
    assert_eq!(created.secrets_set, names);
    let scope_a = store.tenant(a);
    assert_eq!(
        scope_a
            .secret_names(created.channel_config_id)
            .await
            .unwrap(),
        names
    );
    let listed = scope_a
        .list_channels(page(1, 10), &ChannelFilter::default())
        .await
        .unwrap();
    assert_eq!(listed.items[0].secrets_set, names);
    let same_app = facebook("FB", route_b, "777", &["3"]);
    conflict_on(
        store
            .tenant(b)
            .create_channel(&same_app, &same_app.validate_with_secrets(&[]).unwrap())
            .await,
        "facebook.appId",
    );
    let same_page = facebook("FB", route_b, "888", &["2"]);
    conflict_on(
        store
            .tenant(b)
            .create_channel(&same_page, &same_page.validate_with_secrets(&[]).unwrap())
            .await,
        "facebook.pages[0].pageId",
    );
    // Updating the holder itself keeps its own identifiers.
    let keep = first
        .validate_with_secrets(
            &store
                .tenant(a)
                .secret_names(created.channel_config_id)
                .await
                .unwrap(),
        )
        .unwrap();
    store
        .tenant(a)
        .update_channel(created.channel_config_id, &first, &keep)
        .await
        .unwrap();
    store
        .tenant(a)
        .delete_channel(created.channel_config_id)
        .await
        .unwrap();
    store
        .tenant(b)
        .create_channel(&same_page, &same_page.validate_with_secrets(&[]).unwrap())
        .await
        .unwrap();
}

pub async fn exports_record_files_and_resume(store: Arc<Store>) {
    let (t, _, route) = routed_tenant(&store, "acme").await;
    let scope = store.tenant(t);
    let mut ids = Vec::new();
    for i in 0..5 {
        let channel = scope
            .create_channel(
                &web_channel(&format!("WEB{i}"), route),
                &SecretPlan::default(),
            )
            .await
            .unwrap();
        ids.push(channel.channel_config_id);
    }
    assert_eq!(scope.count_channels().await.unwrap(), 5);
    assert_eq!(
        scope
            .count_channels_among(&[ids[0], ids[1], ChannelId(5)])
            .await
            .unwrap(),
        2
    );
    let page_one = scope.channels_after(None, ChannelId(0), 3).await.unwrap();
    let page_two = scope
        .channels_after(None, page_one[2].channel_config_id, 3)
        .await
        .unwrap();
    assert_eq!((page_one.len(), page_two.len()), (3, 2));
    let chosen = scope
        .channels_after(Some(&[ids[1], ids[3]]), ids[1], 10)
        .await
        .unwrap();
    assert_eq!(
        chosen
            .iter()
            .map(|c| c.channel_config_id)
            .collect::<Vec<_>>(),
        vec![ids[3]]
    );

    let task = scope
        .create_export(Some(vec![ids[1], ids[3]]), 2)
        .await
        .unwrap();
    assert_eq!((task.status, task.total), (ExportStatus::Pending, 2));
    assert_eq!(
        store.platform().unfinished_exports().await.unwrap(),
        vec![(t, task.id)]
    );
    scope.start_export(task.id).await.unwrap();
    scope.add_export_file(task.id, 1, 2, "[1,2]").await.unwrap();
    scope.start_export(task.id).await.unwrap();
    assert!(
        scope.export(task.id).await.unwrap().files.is_empty(),
        "a restarted run begins afresh"
    );
    scope.add_export_file(task.id, 1, 2, "[1,2]").await.unwrap();
    scope
        .finish_export(task.id, ExportStatus::Success, None)
        .await
        .unwrap();
    let done = scope.export(task.id).await.unwrap();
    assert_eq!(
        (done.status, done.files.len(), done.channel_ids.unwrap()),
        (ExportStatus::Success, 1, vec![ids[1], ids[3]])
    );
    assert!(done.finished_at.is_some());
    assert_eq!(scope.export_file(task.id, 1).await.unwrap(), "[1,2]");
    not_found(scope.export_file(task.id, 2).await);
    assert!(store
        .platform()
        .unfinished_exports()
        .await
        .unwrap()
        .is_empty());
}

pub async fn no_tenant_reaches_another_tenants_records(store: Arc<Store>) {
    let (a, queue_a, route_a) = routed_tenant(&store, "a").await;
    let (b, _, _) = routed_tenant(&store, "b").await;
    let sa = store.tenant(a);
    let sb = store.tenant(b);
    let employee = sa
        .create_employee(&account(agent("ann", 101, &[queue_a])))
        .await
        .unwrap();
    let channel = sa
        .create_channel(&web_channel("WEB", route_a), &SecretPlan::default())
        .await
        .unwrap();
    let export = sa.create_export(None, 1).await.unwrap();
    let cid = channel.channel_config_id;

    not_found(sb.queue(queue_a).await);
    not_found(
        sb.update_queue(queue_a, &queue_config("x", "multimedia"))
            .await,
    );
    not_found(sb.delete_queue(queue_a).await);
    not_found(sb.route(route_a).await);
    not_found(sb.delete_route(route_a).await);
    not_found(sb.employee(employee.id).await);
    not_found(
        sb.update_employee(employee.id, &employee.config, None)
            .await,
    );
    not_found(sb.delete_employee(employee.id).await);
    not_found(sb.channel(cid).await);
    not_found(sb.secret_names(cid).await);
    not_found(
        sb.update_channel(cid, &channel.config, &SecretPlan::default())
            .await,
    );
    not_found(sb.delete_channel(cid).await);
    assert!(sb.channel_secret(cid, "secretKey").await.unwrap().is_none());
    assert_eq!(sb.count_channels_among(&[cid]).await.unwrap(), 0);
    not_found(sb.export(export.id).await);
    // B cannot point its records at A's queue or route either.
    rejected_on(
        sb.create_route(&route_config("5", "multimedia", queue_a))
            .await,
        "skillQueueId",
    );
    rejected_on(
        sb.create_channel(&web_channel("STEAL", route_a), &SecretPlan::default())
            .await,
        "calledRouteId",
    );
    rejected_on(
        sb.create_employee(&account(agent("bob", 101, &[queue_a])))
            .await,
        "agent.skills[0].queueId",
    );
    // And A's records are all still there.
    assert_eq!(sa.channel(cid).await.unwrap().config.access_code, "WEB");
    assert_eq!(
        sa.employee(employee.id).await.unwrap().config.account,
        "ann"
    );
}

pub async fn lowering_limits_below_usage_is_refused(store: Arc<Store>) {
    let t = tenant(&store, "acme").await;
    let scope = store.tenant(t);
    scope
        .create_employee(&account(agent("ann", 101, &[])))
        .await
        .unwrap();
    scope
        .create_employee(&account(agent("bob", 102, &[])))
        .await
        .unwrap();
    let one = ResourceLimits {
        multimedia_agents: 1,
        ..ResourceLimits::default()
    };
    rejected_on(store.platform().set_tenant_limits(t, &one).await, "limits");
    let two = ResourceLimits {
        multimedia_agents: 2,
        ..ResourceLimits::default()
    };
    assert_eq!(
        store
            .platform()
            .set_tenant_limits(t, &two)
            .await
            .unwrap()
            .limits
            .multimedia_agents,
        2
    );
}

mod conversations {
    use std::sync::Arc;

    use switchboard_domain::conversation::{Content, ConversationState, NewMessage, Sender};
    use switchboard_domain::{ConversationId, EmployeeId, QueueId};
    use switchboard_store::{Placement, RoutingRecord, Store, StoreError, StoredMessage};

    use super::{not_found, rejected_on};
    use crate::fixtures::*;

    fn text(client_id: &str, sender: Sender) -> NewMessage {
        NewMessage {
            sender,
            client_message_id: client_id.to_owned(),
            content: Content::Text {
                text: format!("text of {client_id}"),
            },
        }
    }

    async fn conversation(
        store: &Store,
        name: &str,
    ) -> (switchboard_domain::TenantId, ConversationId) {
        let (tenant, _, route) = routed_tenant(store, name).await;
        let scope = store.tenant(tenant);
        let channel = scope
            .create_channel(&web_channel("WEB", route), &Default::default())
            .await
            .unwrap();
        let customer = scope
            .customer(channel.channel_config_id, "u-1001", "Zhang San")
            .await
            .unwrap();
        let conversation = scope.open_conversation(customer.id).await.unwrap();
        (tenant, conversation.id)
    }

    pub async fn messages_are_numbered_in_order_and_retries_stored_once(store: Arc<Store>) {
        let (tenant, id) = conversation(&store, "acme").await;
        let scope = store.tenant(tenant);
        let first = scope
            .append_message(id, text("c1", Sender::Customer))
            .await
            .unwrap();
        let second = scope
            .append_message(id, text("c2", Sender::Customer))
            .await
            .unwrap();
        let retried = scope
            .append_message(id, text("c1", Sender::Customer))
            .await
            .unwrap();
        assert_eq!((first.message.seq, second.message.seq), (1, 2));
        assert!(!first.duplicate && retried.duplicate);
        assert_eq!(retried.message, first.message);
        // An agent writes only in a conversation it serves.
        let by_agent = |client_id: &str, agent: i64| {
            text(
                client_id,
                Sender::Agent {
                    employee_id: EmployeeId(agent),
                },
            )
        };
        assert!(matches!(
            scope.append_message(id, by_agent("early", 5)).await,
            Err(StoreError::NotFound)
        ));
        scope
            .set_conversation_state(id, ConversationState::Assigned, Some(EmployeeId(5)))
            .await
            .unwrap();
        assert!(matches!(
            scope.append_message(id, by_agent("stranger", 6)).await,
            Err(StoreError::NotFound)
        ));
        // The same client id from another kind of sender is another message.
        let agent = scope
            .append_message(
                id,
                text(
                    "c1",
                    Sender::Agent {
                        employee_id: EmployeeId(5),
                    },
                ),
            )
            .await
            .unwrap();
        assert_eq!((agent.message.seq, agent.duplicate), (3, false));
        let all = scope.messages_after(id, 0, 100).await.unwrap();
        assert_eq!(all.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(
            all[2].sender,
            Sender::Agent {
                employee_id: EmployeeId(5)
            }
        );
        let resumed = scope.messages_after(id, 2, 100).await.unwrap();
        assert_eq!(resumed.len(), 1);
        assert_eq!(scope.messages_after(id, 0, 2).await.unwrap().len(), 2);
        let read = scope.conversation(id).await.unwrap();
        assert_eq!(read.last_seq, 3);
        assert!(
            read.updated_at.0 >= agent.message.created_at.0,
            "a message is its conversation's latest change"
        );
        let wrapped_up = scope
            .set_conversation_state(id, ConversationState::WrapUp, Some(EmployeeId(5)))
            .await
            .unwrap();
        assert_eq!(wrapped_up.last_seq, 3);
        assert!(wrapped_up.updated_at.0 >= read.updated_at.0);
        rejected_on(
            scope.append_message(id, by_agent("late", 5)).await,
            "conversationId",
        );
    }

    pub async fn concurrent_appends_never_share_skip_or_repeat_a_number(store: Arc<Store>) {
        let (tenant, id) = conversation(&store, "acme").await;
        appends_from_eight_writers(&[store], tenant, id).await;
    }

    /// Two nodes of a cluster store messages of one conversation at the same time, each
    /// with its own writer tasks: the database alone keeps their numbers in order.
    pub async fn nodes_of_a_cluster_never_share_skip_or_repeat_a_number(
        first: Arc<Store>,
        second: Arc<Store>,
    ) {
        let (tenant, id) = conversation(&first, "acme").await;
        appends_from_eight_writers(&[first, second], tenant, id).await;
    }

    /// A store opened again knows nothing of what it stored before, but a client retrying
    /// across the restart still gets the message stored first, alone or beside new ones,
    /// and numbering goes on where it stopped.
    pub async fn retries_are_told_after_a_restart(store: Arc<Store>, url: String) {
        let (tenant, id) = conversation(&store, "acme").await;
        let scope = store.tenant(tenant);
        let first = scope
            .append_message(id, text("c1", Sender::Customer))
            .await
            .unwrap();
        scope
            .append_message(id, text("c2", Sender::Customer))
            .await
            .unwrap();
        store.close().await;

        let reopened = Store::open(&url, crate::backends::options()).await.unwrap();
        let scope = reopened.tenant(tenant);
        let retried = scope
            .append_message(id, text("c1", Sender::Customer))
            .await
            .unwrap();
        assert!(retried.duplicate);
        assert_eq!(retried.message, first.message);
        let (again, new) = tokio::join!(
            scope.append_message(id, text("c2", Sender::Customer)),
            scope.append_message(id, text("c3", Sender::Customer)),
        );
        let (again, new) = (again.unwrap(), new.unwrap());
        assert_eq!((again.message.seq, again.duplicate), (2, true));
        assert_eq!((new.message.seq, new.duplicate), (3, false));
        let after_new = scope
            .append_message(id, text("c3", Sender::Customer))
            .await
            .unwrap();
        assert_eq!((after_new.message.seq, after_new.duplicate), (3, true));
        let stored = scope.messages_after(id, 0, 100).await.unwrap();
        let ids: Vec<_> = stored
            .iter()
            .map(|m| (m.seq, m.client_message_id.as_str()))
            .collect();
        assert_eq!(ids, [(1, "c1"), (2, "c2"), (3, "c3")]);
        reopened.close().await;
    }

    /// Another node closes a conversation while this one stores a message to it: the
    /// other node's transaction holds the conversation from before the message is read
    /// until after it is closed, so the message's write waits for it, finds the
    /// conversation changed and the message is refused, not stored after the close.
    pub async fn a_conversation_closed_while_a_message_is_stored_refuses_it(
        store: Arc<Store>,
        url: String,
    ) {
        use sqlx::{Connection, Executor};
        let (tenant, id) = conversation(&store, "acme").await;
        let mut other_node = sqlx::AnyConnection::connect(&url).await.unwrap();
        let mut watcher = sqlx::AnyConnection::connect(&url).await.unwrap();
        other_node.execute("BEGIN").await.unwrap();
        let hold = format!(
            "SELECT id FROM conversations WHERE id = {} FOR UPDATE",
            id.0
        );
        other_node.execute(hold.as_str()).await.unwrap();
        let append = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .tenant(tenant)
                    .append_message(id, text("late", Sender::Customer))
                    .await
            }
        });
        let waiting_for_a_lock = "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'";
        // PostgreSQL announces no lock wait, so its activity is asked until one shows;
        // each question is a round trip, which paces the asking.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while sqlx::query_scalar::<_, i64>(waiting_for_a_lock)
            .fetch_one(&mut watcher)
            .await
            .unwrap()
            == 0
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the message's write never waited for the conversation"
            );
        }
        let close = format!(
            "UPDATE conversations SET state = 'closed', agent_id = NULL, closed_at = 1 WHERE id = {}",
            id.0
        );
        other_node.execute(close.as_str()).await.unwrap();
        other_node.execute("COMMIT").await.unwrap();
        rejected_on(append.await.unwrap(), "conversationId");
        assert_eq!(
            store
                .tenant(tenant)
                .conversation(id)
                .await
                .unwrap()
                .last_seq,
            0,
            "nothing stored after the close"
        );
    }

    /// Eight writers, spread over `nodes`, append 25 messages each to conversation `id`;
    /// writers 0 and 1 send the same client ids, as a client retrying on two connections.
    async fn appends_from_eight_writers(
        nodes: &[Arc<Store>],
        tenant: switchboard_domain::TenantId,
        id: ConversationId,
    ) {
        let mut tasks = Vec::new();
        for writer in 0..8 {
            let store = nodes[writer % nodes.len()].clone();
            tasks.push(tokio::spawn(async move {
                let scope = store.tenant(tenant);
                let mut seqs = Vec::new();
                for n in 0..25 {
                    let client_id = if writer < 2 {
                        format!("shared-{n}")
                    } else {
                        format!("w{writer}-{n}")
                    };
                    seqs.push(
                        scope
                            .append_message(id, text(&client_id, Sender::Customer))
                            .await
                            .unwrap()
                            .message
                            .seq,
                    );
                }
                seqs
            }));
        }
        let mut seen = Vec::new();
        for task in tasks {
            seen.extend(task.await.unwrap());
        }
        let stored = nodes[0]
            .tenant(tenant)
            .messages_after(id, 0, 1000)
            .await
            .unwrap();
        assert_eq!(stored.len(), 7 * 25, "each shared id once");
        assert_eq!(
            stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
            (1..=175).collect::<Vec<i64>>()
        );
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 175, "every answer names a stored message");
    }

    /// Appends that arrive together share a transaction, yet each is judged on its own:
    /// a refusal or a duplicate in the burst changes nothing for the others.
    pub async fn a_burst_of_appends_is_judged_one_by_one(store: Arc<Store>) {
        let (tenant, open) = conversation(&store, "acme").await;
        let (other_tenant, foreign) = conversation(&store, "beta").await;
        let scope = store.tenant(tenant);
        let customer = scope.conversation(open).await.unwrap().customer_id;
        scope
            .set_conversation_state(open, ConversationState::Closed, None)
            .await
            .unwrap();
        let ended = open;
        let second = scope.open_conversation(customer).await.unwrap().id;
        let bursts: Vec<(ConversationId, String)> = (0..40)
            .map(|n| match n % 10 {
                3 => (ended, format!("late-{n}")),
                7 => (foreign, format!("foreign-{n}")),
                // Every fifth message is sent twice, as a client retrying at once.
                5 | 6 => (second, "twice".to_owned()),
                _ => (second, format!("m-{n}")),
            })
            .collect();
        let tasks: Vec<_> = bursts
            .iter()
            .map(|(id, client_id)| {
                let store = store.clone();
                let (id, message) = (*id, text(client_id, Sender::Customer));
                tokio::spawn(async move { store.tenant(tenant).append_message(id, message).await })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        let mut stored_seqs = Vec::new();
        for ((id, client_id), answer) in bursts.iter().zip(answers) {
            if *id == ended {
                rejected_on(answer, "conversationId");
            } else if *id == foreign {
                assert!(matches!(answer, Err(StoreError::NotFound)), "{answer:?}");
            } else {
                let appended = answer.unwrap();
                assert_eq!(&appended.message.client_message_id, client_id);
                if !appended.duplicate {
                    stored_seqs.push(appended.message.seq);
                }
            }
        }
        stored_seqs.sort_unstable();
        let stored = scope.messages_after(second, 0, 100).await.unwrap();
        assert_eq!(
            stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
            stored_seqs,
            "each answer that stored a message names a stored message"
        );
        // 40 sends: 4 to the ended one, 4 to another tenant's, 8 of "twice" stored once.
        assert_eq!(stored_seqs, (1..=25).collect::<Vec<i64>>());
        assert_eq!(scope.conversation(ended).await.unwrap().last_seq, 0);
        let untouched = store
            .tenant(other_tenant)
            .conversation(foreign)
            .await
            .unwrap();
        assert_eq!(untouched.last_seq, 0);
        let texts: Vec<_> = stored.iter().map(|m| m.content.clone()).collect();
        assert!(texts.contains(&Content::Text {
            text: "text of twice".into()
        }));
        // What was handed over before the store closes is stored, not dropped.
        let handed_over: Vec<_> = (0..20)
            .map(|n| scope.enqueue_message(second, text(&format!("notice-{n}"), Sender::System)))
            .collect();
        store.close().await;
        for stored in handed_over {
            assert!(stored.await.is_ok(), "stored before closing");
        }
    }

    /// The listener hears of each stored message before its caller does, each
    /// conversation's in the order committed, and of a retried one only once.
    pub async fn committed_messages_are_announced_in_order_before_their_answer(store: Arc<Store>) {
        let (tenant, id) = conversation(&store, "acme").await;
        let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
        let hearing = heard.clone();
        store.listen_to_messages(Arc::new(move |stored: StoredMessage<'_>| {
            assert_eq!(stored.tenant, tenant);
            hearing
                .lock()
                .unwrap()
                .push((stored.message.conversation_id, stored.message.seq));
        }));
        let tasks: Vec<_> = (0..60)
            .map(|n| {
                let (store, heard) = (store.clone(), heard.clone());
                // Every tenth is a retry of the message before it.
                let client_id = format!("m-{}", if n % 10 == 9 { n - 1 } else { n });
                tokio::spawn(async move {
                    let appended = store
                        .tenant(tenant)
                        .append_message(id, text(&client_id, Sender::Customer))
                        .await
                        .unwrap();
                    let seq = appended.message.seq;
                    assert!(
                        heard.lock().unwrap().contains(&(id, seq)),
                        "message {seq} was answered before it was announced"
                    );
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let heard: Vec<i64> = heard.lock().unwrap().iter().map(|(_, seq)| *seq).collect();
        assert_eq!(
            heard,
            (1..=54).collect::<Vec<i64>>(),
            "in order, retries once"
        );
    }

    pub async fn ended_conversations_take_no_more_messages(store: Arc<Store>) {
        let (tenant, id) = conversation(&store, "acme").await;
        let scope = store.tenant(tenant);
        scope
            .append_message(id, text("c1", Sender::Customer))
            .await
            .unwrap();
        let assigned = scope
            .set_conversation_state(id, ConversationState::Assigned, Some(EmployeeId(7)))
            .await
            .unwrap();
        assert_eq!(
            (assigned.state, assigned.agent_id, assigned.closed_at),
            (ConversationState::Assigned, Some(EmployeeId(7)), None)
        );
        let closed = scope
            .set_conversation_state(id, ConversationState::Closed, None)
            .await
            .unwrap();
        assert!(closed.closed_at.is_some());
        rejected_on(
            scope.append_message(id, text("c2", Sender::Customer)).await,
            "conversationId",
        );
        assert_eq!(
            scope.conversation(id).await.unwrap().last_seq,
            1,
            "a refused message takes no number"
        );
        let retried = scope
            .append_message(id, text("c1", Sender::Customer))
            .await
            .unwrap();
        assert!(
            retried.duplicate,
            "a retry of a stored message still answers"
        );
    }

    pub async fn customers_are_recognised_and_their_open_conversation_found(store: Arc<Store>) {
        let (tenant, id) = conversation(&store, "acme").await;
        let scope = store.tenant(tenant);
        let conversation = scope.conversation(id).await.unwrap();
        let again = scope
            .customer(conversation.channel_id, "u-1001", "Zhang San (VIP)")
            .await
            .unwrap();
        assert_eq!(
            (again.id, again.name.as_str()),
            (conversation.customer_id, "Zhang San (VIP)")
        );
        assert_eq!(
            scope
                .open_conversation_of(again.id)
                .await
                .unwrap()
                .unwrap()
                .id,
            id
        );
        scope
            .set_conversation_state(id, ConversationState::Closed, None)
            .await
            .unwrap();
        assert!(scope
            .open_conversation_of(again.id)
            .await
            .unwrap()
            .is_none());
        let other = scope
            .customer(conversation.channel_id, "u-2002", "Li Si")
            .await
            .unwrap();
        assert_ne!(other.id, again.id);
    }

    pub async fn evaluations_need_an_agent_answer_and_the_last_counts(store: Arc<Store>) {
        use switchboard_domain::conversation::Evaluation;
        let (tenant, id) = conversation(&store, "acme").await;
        let scope = store.tenant(tenant);
        let good = Evaluation {
            rating: 5,
            comment: "great".into(),
        };
        rejected_on(scope.evaluate(id, &good).await, "conversationId");
        scope
            .set_conversation_state(id, ConversationState::Assigned, Some(EmployeeId(7)))
            .await
            .unwrap();
        scope
            .append_message(
                id,
                text(
                    "a1",
                    Sender::Agent {
                        employee_id: EmployeeId(7),
                    },
                ),
            )
            .await
            .unwrap();
        assert_eq!(scope.evaluate(id, &good).await.unwrap(), EmployeeId(7));
        let second = Evaluation {
            rating: 2,
            comment: "on reflection, slow".into(),
        };
        scope
            .set_conversation_state(id, ConversationState::Closed, None)
            .await
            .unwrap();
        scope.evaluate(id, &second).await.unwrap();
        assert_eq!(
            scope.evaluation(id).await.unwrap(),
            Some(second),
            "after the chat too, and the last counts"
        );
        let (other, _) = conversation(&store, "other").await;
        assert_eq!(store.tenant(other).evaluation(id).await.unwrap(), None);
        rejected_on(
            store.tenant(other).evaluate(id, &good).await,
            "conversationId",
        );
    }

    pub async fn files_keep_their_bytes_and_stay_in_their_conversation(store: Arc<Store>) {
        let (tenant, id) = conversation(&store, "acme").await;
        let scope = store.tenant(tenant);
        let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        let stored = scope
            .store_file("file-1", id, "bytes.zip", "application/zip", &bytes)
            .await
            .unwrap();
        assert_eq!((stored.size, stored.name.as_str()), (70_000, "bytes.zip"));
        let (file, content) = scope.file(id, "file-1").await.unwrap();
        assert_eq!(
            (file.mime_type.as_str(), content),
            ("application/zip", bytes)
        );
        let other_conversation = scope
            .open_conversation(scope.conversation(id).await.unwrap().customer_id)
            .await
            .unwrap();
        not_found(scope.file(other_conversation.id, "file-1").await);
        let (other, _) = conversation(&store, "other").await;
        not_found(store.tenant(other).file(id, "file-1").await);
        not_found(
            store
                .tenant(other)
                .store_file("file-2", id, "x.txt", "text/plain", b"x")
                .await,
        );
    }

    pub async fn conversations_stay_inside_their_tenant(store: Arc<Store>) {
        let (a, id) = conversation(&store, "alpha").await;
        let (b, _) = conversation(&store, "beta").await;
        let customer = store.tenant(a).conversation(id).await.unwrap().customer_id;
        let sb = store.tenant(b);
        not_found(sb.conversation(id).await);
        assert!(matches!(
            sb.append_message(id, text("x", Sender::Customer)).await,
            Err(StoreError::NotFound)
        ));
        not_found(
            sb.set_conversation_state(id, ConversationState::Closed, None)
                .await,
        );
        not_found(sb.open_conversation(customer).await);
        assert!(sb.open_conversation_of(customer).await.unwrap().is_none());
        store
            .tenant(a)
            .append_message(id, text("mine", Sender::Customer))
            .await
            .unwrap();
        assert!(sb.messages_after(id, 0, 10).await.unwrap().is_empty());
    }

    fn record(
        conversation: ConversationId,
        kind: &'static str,
        placement: Placement,
    ) -> RoutingRecord {
        RoutingRecord {
            conversation,
            kind,
            queue: None,
            agent: None,
            detail: serde_json::json!({"n": 1}),
            placement: Some(placement),
        }
    }

    pub async fn routing_keeps_places_assignments_and_the_contact_record(store: Arc<Store>) {
        let (tenant, first) = conversation(&store, "acme").await;
        let scope = store.tenant(tenant);
        let opened = scope.conversation(first).await.unwrap();
        let second = scope
            .open_conversation(opened.customer_id)
            .await
            .unwrap()
            .id;
        let queue = QueueId(7);
        let agent = EmployeeId(42);
        // Second in line goes to the head (a requeue): the store keeps the router's order.
        scope
            .record_routing(&[
                record(first, "enqueued", Placement::Queued { queue, place: 5 }),
                record(second, "requeued", Placement::Queued { queue, place: -1 }),
            ])
            .await
            .unwrap();
        let routed = scope.routed_conversations().await.unwrap();
        let order: Vec<_> = routed.iter().map(|r| (r.id, r.place)).collect();
        assert_eq!(order, [(second, Some(-1)), (first, Some(5))]);
        assert!(routed
            .iter()
            .all(|r| r.queue == Some(queue) && r.queued_at.is_some()));

        scope
            .record_routing(&[RoutingRecord {
                agent: Some(agent),
                ..record(first, "assigned", Placement::Assigned { queue, agent })
            }])
            .await
            .unwrap();
        let with_agent = scope.conversation(first).await.unwrap();
        assert_eq!(
            (with_agent.state, with_agent.agent_id),
            (ConversationState::Assigned, Some(agent))
        );
        assert_eq!(
            scope
                .last_agent_of(opened.customer_id, second)
                .await
                .unwrap(),
            Some(agent)
        );
        assert_eq!(
            scope
                .last_agent_of(opened.customer_id, first)
                .await
                .unwrap(),
            None
        );

        // A burst moving one conversation twice: the moves land in the order decided.
        scope
            .record_routing(&[
                RoutingRecord {
                    agent: Some(agent),
                    ..record(second, "assigned", Placement::Assigned { queue, agent })
                },
                record(second, "requeued", Placement::Queued { queue, place: 3 }),
            ])
            .await
            .unwrap();
        let requeued = scope.conversation(second).await.unwrap();
        assert_eq!(
            (requeued.state, requeued.agent_id),
            (ConversationState::Queued, None)
        );
        assert_eq!(scope.contact_record(second).await.unwrap().len(), 3);

        // Wrap-up moves only an assigned conversation; its end only one in wrap-up.
        scope
            .record_routing(&[record(second, "wrapUpStarted", Placement::WrapUp)])
            .await
            .unwrap();
        assert_eq!(
            scope.conversation(second).await.unwrap().state,
            ConversationState::Queued
        );
        scope
            .record_routing(&[
                record(first, "wrapUpStarted", Placement::WrapUp),
                record(first, "wrapUpEnded", Placement::WrapUpDone),
                record(
                    second,
                    "released",
                    Placement::Released {
                        offline_message: true,
                    },
                ),
            ])
            .await
            .unwrap();
        assert_eq!(
            scope.conversation(first).await.unwrap().state,
            ConversationState::Closed
        );
        let offline = scope.conversation(second).await.unwrap();
        assert_eq!(offline.state, ConversationState::OfflineMessage);
        // The customer may still leave a message there; an agent may not.
        scope
            .append_message(second, text("note", Sender::Customer))
            .await
            .unwrap();
        assert!(scope
            .append_message(second, text("late", Sender::Agent { employee_id: agent }))
            .await
            .is_err());
        assert!(scope.routed_conversations().await.unwrap().is_empty());
        let page = switchboard_domain::paging::PageRequest {
            page: 1,
            page_size: 10,
        };
        let left = scope.offline_messages(page).await.unwrap();
        assert_eq!(
            (left.total, left.items[0].id),
            (1, second),
            "the conversation with a message left"
        );

        let kinds: Vec<_> = scope
            .contact_record(first)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, e.detail))
            .collect();
        let detail = serde_json::json!({"n": 1});
        assert_eq!(
            kinds,
            [
                ("enqueued".to_owned(), detail.clone()),
                ("assigned".to_owned(), detail.clone()),
                ("wrapUpStarted".to_owned(), detail.clone()),
                ("wrapUpEnded".to_owned(), detail),
            ]
        );
        let platform = store.platform();
        assert!(platform
            .tenants_with_routed_conversations()
            .await
            .unwrap()
            .is_empty());
        // Another tenant sees none of it.
        let (other, _) = conversation(&store, "other").await;
        assert!(matches!(
            store.tenant(other).contact_record(first).await,
            Err(StoreError::NotFound)
        ));
    }

    /// Every sequence of up to three moves lands an opened conversation where the same
    /// moves take one opened before: the store inserts the first where its moves lead
    /// instead of moving it, and answers those a move assigned either way.
    pub async fn opened_conversations_land_where_their_moves_take_them(store: Arc<Store>) {
        let (tenant, existing) = conversation(&store, "acme").await;
        let scope = store.tenant(tenant);
        let customer = scope.conversation(existing).await.unwrap().customer_id;
        let (queue, agent) = (QueueId(7), EmployeeId(42));
        let kinds = [
            Placement::Queued { queue, place: 3 },
            Placement::Assigned { queue, agent },
            Placement::WrapUp,
            Placement::WrapUpDone,
            Placement::Released {
                offline_message: false,
            },
            Placement::Released {
                offline_message: true,
            },
        ];
        let mut sequences: Vec<Vec<Placement>> = vec![vec![]];
        for length in 1..=3 {
            let shorter: Vec<_> = sequences
                .iter()
                .filter(|s| s.len() == length - 1)
                .cloned()
                .collect();
            for sequence in shorter {
                for kind in kinds {
                    let mut longer = sequence.clone();
                    longer.push(kind);
                    sequences.push(longer);
                }
            }
        }
        let mut before = Vec::new();
        for _ in &sequences {
            before.push(scope.open_conversation(customer).await.unwrap().id);
        }
        let openings: Vec<_> = sequences.iter().map(|_| scope.opening(customer)).collect();
        let records = |ids: &[ConversationId]| -> Vec<RoutingRecord> {
            ids.iter()
                .zip(&sequences)
                .flat_map(|(id, sequence)| {
                    sequence
                        .iter()
                        .map(|placement| record(*id, "moved", *placement))
                })
                .collect()
        };
        let assigned_before = scope.record_routing(&records(&before)).await.unwrap();
        let opened: Vec<_> = openings.iter().map(|o| o.conversation).collect();
        let assigned_opened = scope
            .open_and_record_routing(&openings, &records(&opened))
            .await
            .unwrap();

        let routed: std::collections::HashMap<_, _> = scope
            .routed_conversations()
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.id, (r.queue, r.place, r.queued_at.is_some())))
            .collect();
        let assigned_ids = |assigned: &[switchboard_domain::conversation::Conversation],
                            ids: &[ConversationId]| {
            ids.iter()
                .map(|id| {
                    assigned.iter().any(|c| {
                        c.id == *id
                            && (c.state, c.agent_id) == (ConversationState::Assigned, Some(agent))
                    })
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            assigned_ids(&assigned_before, &before),
            assigned_ids(&assigned_opened, &opened)
        );
        for ((sequence, moved), landed) in sequences.iter().zip(&before).zip(&opened) {
            let (moved_row, landed_row) = (
                scope.conversation(*moved).await.unwrap(),
                scope.conversation(*landed).await.unwrap(),
            );
            assert_eq!(
                (
                    moved_row.state,
                    moved_row.agent_id,
                    moved_row.closed_at.is_some(),
                    routed.get(moved)
                ),
                (
                    landed_row.state,
                    landed_row.agent_id,
                    landed_row.closed_at.is_some(),
                    routed.get(landed)
                ),
                "after {sequence:?}"
            );
            assert_eq!(
                scope.contact_record(*landed).await.unwrap().len(),
                sequence.len()
            );
        }
    }

    pub async fn conversations_open_with_routings_first_decisions(store: Arc<Store>) {
        let (tenant, existing) = conversation(&store, "acme").await;
        let scope = store.tenant(tenant);
        let customer = scope.conversation(existing).await.unwrap().customer_id;
        let (queue, agent) = (QueueId(7), EmployeeId(42));
        let assigned = scope.opening(customer);
        let waiting = scope.opening(customer);
        assert_ne!(assigned.conversation, waiting.conversation);
        scope
            .open_and_record_routing(
                &[assigned, waiting],
                &[
                    record(
                        assigned.conversation,
                        "enqueued",
                        Placement::Queued { queue, place: 1 },
                    ),
                    RoutingRecord {
                        agent: Some(agent),
                        ..record(
                            assigned.conversation,
                            "assigned",
                            Placement::Assigned { queue, agent },
                        )
                    },
                    record(
                        waiting.conversation,
                        "enqueued",
                        Placement::Queued { queue, place: 2 },
                    ),
                ],
            )
            .await
            .unwrap();
        let first = scope.conversation(assigned.conversation).await.unwrap();
        assert_eq!(
            (
                first.customer_id,
                first.state,
                first.agent_id,
                first.last_seq
            ),
            (customer, ConversationState::Assigned, Some(agent), 0)
        );
        assert_eq!(
            scope.conversation(existing).await.unwrap().channel_id,
            first.channel_id,
            "the customer's channel"
        );
        assert_eq!(
            scope
                .contact_record(assigned.conversation)
                .await
                .unwrap()
                .len(),
            2
        );
        let second = scope.conversation(waiting.conversation).await.unwrap();
        assert_eq!(second.state, ConversationState::Queued);

        // A customer of another tenant opens nothing, and the decisions stored with it
        // are not stored either.
        let (other, other_conversation) = conversation(&store, "other").await;
        let stranger = store
            .tenant(other)
            .conversation(other_conversation)
            .await
            .unwrap()
            .customer_id;
        let refused = scope.opening(stranger);
        let outcome = scope
            .open_and_record_routing(
                &[refused],
                &[record(
                    waiting.conversation,
                    "requeued",
                    Placement::Queued { queue, place: 9 },
                )],
            )
            .await;
        assert!(matches!(outcome, Err(StoreError::NotFound)), "{outcome:?}");
        assert!(matches!(
            scope.conversation(refused.conversation).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.tenant(other).conversation(refused.conversation).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            scope
                .contact_record(waiting.conversation)
                .await
                .unwrap()
                .len(),
            1
        );

        // Nor does a burst of arrivals alone (one statement on PostgreSQL) open its
        // other conversations beside the refused one.
        let welcome = scope.opening(customer);
        let refused = scope.opening(stranger);
        let outcome = scope
            .open_and_record_routing(
                &[welcome, refused],
                &[
                    record(
                        welcome.conversation,
                        "enqueued",
                        Placement::Queued { queue, place: 10 },
                    ),
                    record(
                        refused.conversation,
                        "enqueued",
                        Placement::Queued { queue, place: 11 },
                    ),
                ],
            )
            .await;
        assert!(matches!(outcome, Err(StoreError::NotFound)), "{outcome:?}");
        for opening in [welcome, refused] {
            assert!(matches!(
                scope.conversation(opening.conversation).await,
                Err(StoreError::NotFound)
            ));
            assert!(matches!(
                scope.contact_record(opening.conversation).await,
                Err(StoreError::NotFound)
            ));
        }
    }
}
pub use conversations::*;

mod widget {
    use std::sync::Arc;

    use switchboard_domain::conversation::ConversationState;
    use switchboard_domain::ChannelId;
    use switchboard_store::{
        Admitted, ChatOpening, Store, UsedSignature, WebChatAdmission, WidgetSession,
    };

    use crate::fixtures::*;

    fn admission<'a>(
        channel: ChannelId,
        name: &'a str,
        token_hash: &'a str,
        session_expires_at: i64,
        signature: Option<(&'a str, i64)>,
    ) -> WebChatAdmission<'a> {
        WebChatAdmission {
            channel,
            external_id: "u-1",
            name,
            locale: "zh",
            token_hash,
            session_expires_at,
            signature: signature.map(|(signature, expires_at)| UsedSignature {
                signature: signature.to_owned(),
                expires_at,
            }),
        }
    }

    pub async fn widget_sessions_expire_and_signatures_are_used_once(store: Arc<Store>) {
        let (tenant, _, route) = routed_tenant(&store, "acme").await;
        let scope = store.tenant(tenant);
        let channel = scope
            .create_channel(&web_channel("WEB", route), &Default::default())
            .await
            .unwrap()
            .channel_config_id;
        let admitted = scope
            .admit_to_web_chat(&admission(
                channel,
                "Ann",
                "hash",
                2_000,
                Some(("abc", 5_000)),
            ))
            .await
            .unwrap();
        let Admitted::Customer(customer) = admitted else {
            panic!("a first signature admits: {admitted:?}");
        };
        assert_eq!(
            (customer.external_id.as_str(), customer.name.as_str()),
            ("u-1", "Ann")
        );
        let session = WidgetSession {
            tenant,
            channel,
            customer: customer.id,
            locale: "zh".into(),
        };
        let platform = store.platform();
        let session_of = |found: Option<(WidgetSession, _)>| found.map(|(session, _)| session);
        let (found, its_channel) = platform
            .widget_session("hash", 1_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, session);
        assert_eq!(
            its_channel,
            scope.channel(channel).await.unwrap(),
            "with its channel"
        );
        assert_eq!(
            session_of(platform.widget_session("hash", 2_000).await.unwrap()),
            None
        );
        assert_eq!(
            session_of(platform.widget_session("other", 1_000).await.unwrap()),
            None
        );

        let replayed = scope
            .admit_to_web_chat(&admission(
                channel,
                "Mallory",
                "hash-2",
                2_000,
                Some(("abc", 5_000)),
            ))
            .await
            .unwrap();
        assert_eq!(replayed, Admitted::ReplayedSignature);
        assert_eq!(
            session_of(platform.widget_session("hash-2", 1_000).await.unwrap()),
            None,
            "a replay stores no session"
        );
        let known = scope.known_customer(channel, "u-1").await.unwrap().unwrap();
        assert_eq!(known.name, "Ann", "nor renames the customer");

        let again = scope
            .admit_to_web_chat(&admission(channel, "Ann Lee", "hash-3", 10_000, None))
            .await
            .unwrap();
        let Admitted::Customer(again) = again else {
            panic!("no signature needed in token mode: {again:?}");
        };
        assert_eq!(
            (again.id, again.name.as_str()),
            (customer.id, "Ann Lee"),
            "the same customer, renamed"
        );

        platform.set_tenant_disabled(tenant, true).await.unwrap();
        assert_eq!(
            session_of(platform.widget_session("hash-3", 1_000).await.unwrap()),
            None,
            "a disabled tenant's sessions stop"
        );
        platform.set_tenant_disabled(tenant, false).await.unwrap();
        assert_eq!(
            platform.purge_expired_widget_records(6_000).await.unwrap(),
            2,
            "the first session and the signature"
        );
        assert_eq!(
            session_of(platform.widget_session("hash-3", 7_000).await.unwrap()),
            Some(WidgetSession {
                customer: again.id,
                ..session
            })
        );
        let forgotten = scope
            .admit_to_web_chat(&admission(
                channel,
                "Ann",
                "hash-4",
                20_000,
                Some(("abc", 9_000)),
            ))
            .await
            .unwrap();
        assert!(
            matches!(forgotten, Admitted::Customer(_)),
            "forgotten once its window has passed"
        );
    }

    pub async fn a_chat_opening_reads_the_open_conversation_and_the_route(store: Arc<Store>) {
        let (tenant, first_queue, first_route) = routed_tenant(&store, "acme").await;
        let scope = store.tenant(tenant);
        let channel = scope
            .create_channel(&web_channel("WEB", first_route), &Default::default())
            .await
            .unwrap();
        let id = channel.channel_config_id;
        let admitted = scope
            .admit_to_web_chat(&admission(id, "Ann", "hash", 50_000, None))
            .await
            .unwrap();
        let Admitted::Customer(customer) = admitted else {
            panic!("token mode admits: {admitted:?}");
        };
        let platform = store.platform();
        let opening = || async {
            platform
                .widget_session_opening("hash", 1_000)
                .await
                .unwrap()
                .map(|(_, _, opening)| opening)
        };
        let (session, its_channel, known) = platform
            .widget_session_opening("hash", 1_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            Some((session, its_channel)),
            platform.widget_session("hash", 1_000).await.unwrap(),
            "the same session and channel as every widget request reads"
        );
        assert_eq!(
            known,
            ChatOpening {
                open_conversation: None,
                queue: first_queue
            }
        );

        let open = scope.open_conversation(customer.id).await.unwrap();
        assert_eq!(opening().await.unwrap().open_conversation, Some(open.id));
        scope
            .set_conversation_state(open.id, ConversationState::Closed, None)
            .await
            .unwrap();
        assert_eq!(
            opening().await.unwrap().open_conversation,
            None,
            "a closed conversation is not resumed"
        );

        let second_queue = queue(&store, tenant, "other", "multimedia").await.id;
        let second_route = route(&store, tenant, "10002", second_queue).await.id;
        scope
            .update_channel(id, &web_channel("WEB", second_route), &Default::default())
            .await
            .unwrap();
        assert_eq!(
            opening().await.unwrap().queue,
            second_queue,
            "the queue follows the channel's route"
        );
        assert_eq!(
            platform
                .widget_session_opening("hash", 50_000)
                .await
                .unwrap(),
            None,
            "nor for an expired session"
        );
    }
}
pub use widget::*;

mod platform_messages {
    use std::sync::Arc;

    use serde_json::json;
    use switchboard_domain::channel::secrets::SecretPlan;
    use switchboard_domain::conversation::{Content, NewMessage, Sender};
    use switchboard_domain::delivery::DeliveryState;
    use switchboard_domain::{ChannelId, ConversationId, TenantId};
    use switchboard_store::{DeliveryOutcome, Store};

    use crate::fixtures::*;

    async fn telegram_conversation(store: &Store) -> (TenantId, ChannelId, ConversationId) {
        let (tenant, _, route) = routed_tenant(store, "acme").await;
        let scope = store.tenant(tenant);
        let config = from(
            json!({"accessCode": "TG", "name": "TG", "type": "TELEGRAM", "calledRouteId": route}),
        );
        let secrets = SecretPlan {
            set: vec![("botToken".into(), "123:abcdefghijklmnopqrstuvwxyz".into())],
            remove: Vec::new(),
        };
        let channel = scope.create_channel(&config, &secrets).await.unwrap();
        let customer = scope
            .customer(channel.channel_config_id, "4242", "Ann")
            .await
            .unwrap();
        let conversation = scope.open_conversation(customer.id).await.unwrap();
        (tenant, channel.channel_config_id, conversation.id)
    }

    fn message(client_id: &str, sender: Sender) -> NewMessage {
        NewMessage {
            sender,
            client_message_id: client_id.into(),
            content: Content::Text {
                text: client_id.into(),
            },
        }
    }

    pub async fn platform_deliveries_are_stored_once_until_processed(store: Arc<Store>) {
        let (tenant, channel, _) = telegram_conversation(&store).await;
        let scope = store.tenant(tenant);
        let batch = [
            ("9001".to_owned(), "{\"a\":1}".to_owned()),
            ("9002".to_owned(), "{\"a\":2}".to_owned()),
        ];
        assert_eq!(
            scope.record_inbound(channel, &batch).await.unwrap(),
            [true, true]
        );
        assert_eq!(
            scope.record_inbound(channel, &batch[1..]).await.unwrap(),
            [false],
            "a repeated delivery is recognised"
        );
        let platform = store.platform();
        let far = i64::MAX / 2;
        let pending = platform.pending_inbound(far, 10).await.unwrap();
        assert_eq!(
            pending
                .iter()
                .map(|e| e.platform_id.as_str())
                .collect::<Vec<_>>(),
            ["9001", "9002"]
        );
        assert_eq!(pending[0].payload, "{\"a\":1}");
        assert!(platform
            .claim_inbound(pending[1].id, far, far)
            .await
            .unwrap());
        assert!(
            !platform
                .claim_inbound(pending[1].id, far - 1, far)
                .await
                .unwrap(),
            "held by its lease"
        );
        platform
            .inbound_failed(pending[0].id, "media unreachable", far)
            .await
            .unwrap();
        platform.inbound_processed(pending[1].id).await.unwrap();
        assert!(platform
            .pending_inbound(far - 1, 10)
            .await
            .unwrap()
            .is_empty());
        let retried = platform.pending_inbound(far, 10).await.unwrap();
        assert_eq!((retried.len(), retried[0].attempts), (1, 1));
        assert_eq!(platform.next_inbound_at().await.unwrap(), Some(far));
        assert_eq!(platform.purge_processed_inbound(far).await.unwrap(), 1);
        assert_eq!(
            scope.record_inbound(channel, &batch[..1]).await.unwrap(),
            [false],
            "one still waiting is still known"
        );
    }

    pub async fn replies_to_platform_customers_are_queued_and_sent_in_order(store: Arc<Store>) {
        let (tenant, channel, id) = telegram_conversation(&store).await;
        let scope = store.tenant(tenant);
        let customer = scope
            .append_message(id, message("c1", Sender::Customer))
            .await
            .unwrap();
        assert!(!customer.queued_for_platform, "the customer's own message");
        for client in ["s1", "s2"] {
            let reply = scope
                .append_message(id, message(client, Sender::System))
                .await
                .unwrap();
            assert!(reply.queued_for_platform);
        }
        let platform = store.platform();
        let now = i64::MAX / 4;
        let due = platform.due_deliveries(now, 10, &[]).await.unwrap();
        assert_eq!(due.len(), 1, "one at a time per conversation: {due:?}");
        assert!(
            platform
                .due_deliveries(now, 10, &[channel])
                .await
                .unwrap()
                .is_empty(),
            "a paused channel's replies wait"
        );
        assert_eq!(
            (due[0].seq, due[0].recipient.as_str(), due[0].channel),
            (2, "4242", channel)
        );
        assert!(platform.begin_delivery(id, 2).await.unwrap());
        assert!(!platform.begin_delivery(id, 2).await.unwrap(), "taken once");
        assert!(platform
            .due_deliveries(now, 10, &[])
            .await
            .unwrap()
            .is_empty());
        let retry = DeliveryOutcome::RetryAt {
            at: now + 1,
            error: "429: retry after 1".into(),
        };
        let waiting = platform.finish_delivery(id, 2, &retry).await.unwrap();
        assert_eq!(
            waiting.map(|c| (c.status.state, c.status.last_error)),
            Some((DeliveryState::Pending, Some("429: retry after 1".into())))
        );
        assert!(
            platform
                .due_deliveries(now, 10, &[])
                .await
                .unwrap()
                .is_empty(),
            "the waiting reply holds back the next"
        );
        assert_eq!(platform.next_delivery_at(&[]).await.unwrap(), Some(now + 1));
        let due = platform.due_deliveries(now + 1, 10, &[]).await.unwrap();
        assert_eq!((due[0].seq, due[0].attempts, due[0].parts_sent), (2, 1, 0));
        platform.delivery_progress(id, 2, 1).await.unwrap();
        let due = platform.due_deliveries(now + 1, 10, &[]).await.unwrap();
        assert_eq!(due[0].parts_sent, 1, "parts sent are remembered");
        assert!(platform.begin_delivery(id, 2).await.unwrap());
        let sent = DeliveryOutcome::Sent {
            platform_message_id: Some("77".into()),
        };
        platform.finish_delivery(id, 2, &sent).await.unwrap();
        let due = platform.due_deliveries(now + 1, 10, &[]).await.unwrap();
        assert_eq!(due[0].seq, 3);

        assert!(platform.begin_delivery(id, 3).await.unwrap());
        let changes = platform.recover_deliveries(&[]).await.unwrap();
        assert_eq!(changes.len(), 1, "interrupted while sending");
        assert_eq!(
            (
                changes[0].tenant,
                changes[0].status.seq,
                changes[0].status.state
            ),
            (tenant, 3, DeliveryState::Failed)
        );

        let read = platform
            .report_delivery(channel, "77", DeliveryState::Read, None)
            .await
            .unwrap();
        assert_eq!(read.map(|c| c.status.state), Some(DeliveryState::Read));
        assert_eq!(
            platform
                .report_delivery(channel, "77", DeliveryState::Delivered, None)
                .await
                .unwrap(),
            None,
            "a late report does not go back"
        );
        let states: Vec<_> = scope
            .deliveries_of(id)
            .await
            .unwrap()
            .into_iter()
            .map(|d| (d.seq, d.state, d.attempts))
            .collect();
        assert_eq!(
            states,
            [(2, DeliveryState::Read, 2), (3, DeliveryState::Failed, 1)]
        );
        assert!(store
            .tenant(TenantId(i64::MAX))
            .deliveries_of(id)
            .await
            .unwrap()
            .is_empty());
    }
}
pub use platform_messages::*;
