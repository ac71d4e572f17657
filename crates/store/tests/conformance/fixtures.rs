use serde_json::{json, Value};
use switchboard_domain::channel::ChannelConfig;
use switchboard_domain::employee::EmployeeConfig;
use switchboard_domain::queue::{SkillQueue, SkillQueueConfig};
use switchboard_domain::route::{CalledRoute, CalledRouteConfig};
use switchboard_domain::tenant::{ResourceLimits, TenantSettings};
use switchboard_domain::{QueueId, RouteId, TenantId};
use switchboard_store::{NewAccount, Store};

pub fn from<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

pub fn account(config: Value) -> NewAccount {
    NewAccount {
        config: from::<EmployeeConfig>(config),
        password_hash: "hash".into(),
        must_change_password: false,
    }
}

pub async fn tenant(store: &Store, name: &str) -> TenantId {
    tenant_with_limits(
        store,
        name,
        ResourceLimits {
            multimedia_agents: 5,
            ..ResourceLimits::default()
        },
    )
    .await
}

pub async fn tenant_with_limits(store: &Store, name: &str, limits: ResourceLimits) -> TenantId {
    let settings: TenantSettings = from(json!({"name": name, "timeZone": "Asia/Shanghai"}));
    let admin = account(
        json!({"account": format!("{name}_admin"), "name": "Admin", "role": "tenantAdmin", "agent": null}),
    );
    let (tenant, _) = store
        .platform()
        .create_tenant(&settings, &limits, &admin)
        .await
        .unwrap();
    tenant.tenant_space_id
}

pub fn queue_config(name: &str, kind: &str) -> SkillQueueConfig {
    from(json!({"name": name, "type": kind}))
}

pub async fn queue(store: &Store, tenant: TenantId, name: &str, kind: &str) -> SkillQueue {
    store
        .tenant(tenant)
        .create_queue(&queue_config(name, kind))
        .await
        .unwrap()
}

pub fn route_config(code: &str, kind: &str, queue: QueueId) -> CalledRouteConfig {
    from(json!({"accessCode": code, "mediaType": kind, "skillQueueId": queue}))
}

pub async fn route(store: &Store, tenant: TenantId, code: &str, queue: QueueId) -> CalledRoute {
    store
        .tenant(tenant)
        .create_route(&route_config(code, "multimedia", queue))
        .await
        .unwrap()
}

pub fn agent(account_name: &str, work_no: u32, queues: &[QueueId]) -> Value {
    let skills: Vec<Value> = queues
        .iter()
        .map(|q| json!({"queueId": q, "skillWeight": 1, "agentWeight": 1}))
        .collect();
    json!({"account": account_name, "name": account_name, "role": "agent",
           "agent": {"workNo": work_no, "agentType": "multimedia", "skills": skills}})
}

pub fn web_channel(code: &str, route: RouteId) -> ChannelConfig {
    from(json!({"accessCode": code, "name": code, "type": "WEB", "calledRouteId": route}))
}

/// A tenant with one multimedia queue and route, ready for channels.
pub async fn routed_tenant(store: &Store, name: &str) -> (TenantId, QueueId, RouteId) {
    let tenant = tenant(store, name).await;
    let queue = queue(store, tenant, "mediaSkill", "multimedia").await;
    let route = route(store, tenant, "10001", queue.id).await;
    (tenant, queue.id, route.id)
}
