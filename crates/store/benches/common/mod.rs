//! What the store's benchmarks share: a store opened as the server opens it, and a tenant
//! with a web channel and its customers.
// Each benchmark is a crate of its own, using part of this.
#![allow(dead_code)]

use serde_json::json;
use switchboard_domain::channel::ChannelConfig;
use switchboard_domain::employee::EmployeeConfig;
use switchboard_domain::queue::SkillQueueConfig;
use switchboard_domain::route::CalledRouteConfig;
use switchboard_domain::tenant::{ResourceLimits, TenantSettings};
use switchboard_domain::{CustomerId, EmployeeId, QueueId, TenantId};
use switchboard_store::{NewAccount, Store, StoreOptions};

fn from<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).unwrap()
}

/// Runs `bench` (name, database URL) on SQLite in a temporary directory, then on the
/// PostgreSQL database `SWITCHBOARD_BENCH_DATABASE_URL` names, if set (it must be empty).
pub fn on_each_database(mut bench: impl FnMut(&str, &str)) {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", directory.path().join("bench.db").display());
    bench("sqlite", &url);
    if let Ok(url) = std::env::var("SWITCHBOARD_BENCH_DATABASE_URL") {
        bench("postgres", &url);
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub async fn open(url: &str) -> Store {
    let options = StoreOptions {
        secret_key: [7; 32],
        node_id: 1,
    };
    Store::open(url, options)
        .await
        .expect("the benchmark's database")
}

/// A tenant, its administrator (an agent id to assign to), its one skill queue, and
/// `count` customers of its web channel.
pub struct Tenant {
    pub id: TenantId,
    pub admin: EmployeeId,
    pub queue: QueueId,
    pub customers: Vec<CustomerId>,
}

pub async fn tenant(store: &Store, count: usize) -> Tenant {
    let settings: TenantSettings = from(json!({"name": "bench", "timeZone": "UTC"}));
    let admin = NewAccount {
        config: from::<EmployeeConfig>(
            json!({"account": "bench_admin", "name": "Admin", "role": "tenantAdmin", "agent": null}),
        ),
        password_hash: "hash".into(),
        must_change_password: false,
    };
    let (tenant, admin) = store
        .platform()
        .create_tenant(&settings, &ResourceLimits::default(), &admin)
        .await
        .unwrap();
    let scope = store.tenant(tenant.tenant_space_id);
    let queue = scope
        .create_queue(&from::<SkillQueueConfig>(
            json!({"name": "chat", "type": "multimedia"}),
        ))
        .await
        .unwrap();
    let route = scope
        .create_route(&from::<CalledRouteConfig>(
            json!({"accessCode": "10001", "mediaType": "multimedia", "skillQueueId": queue.id}),
        ))
        .await
        .unwrap();
    let channel = scope
        .create_channel(
            &from::<ChannelConfig>(
                json!({"accessCode": "WEB", "name": "Web", "type": "WEB", "calledRouteId": route.id}),
            ),
            &Default::default(),
        )
        .await
        .unwrap();
    let mut customers = Vec::with_capacity(count);
    for n in 0..count {
        let customer = scope
            .customer(
                channel.channel_config_id,
                &format!("visitor-{n}"),
                "Visitor",
            )
            .await
            .unwrap();
        customers.push(customer.id);
    }
    Tenant {
        id: tenant.tenant_space_id,
        admin,
        queue: queue.id,
        customers,
    }
}
