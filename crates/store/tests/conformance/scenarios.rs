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
