//! The message writer alone: bursts of appends, each to a conversation of its own, handed
//! over together and awaited until committed (SQLite in a temporary directory, with the
//! server's settings: WAL, `synchronous = FULL`). Run on PostgreSQL as well when
//! `SWITCHBOARD_BENCH_DATABASE_URL` names an empty database.
//!
//! The figure is the time of one burst; criterion's throughput line gives messages/s.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::future::join_all;
use serde_json::json;
use switchboard_domain::channel::ChannelConfig;
use switchboard_domain::conversation::{Content, NewMessage, Sender};
use switchboard_domain::employee::EmployeeConfig;
use switchboard_domain::queue::SkillQueueConfig;
use switchboard_domain::route::CalledRouteConfig;
use switchboard_domain::tenant::{ResourceLimits, TenantSettings};
use switchboard_domain::{ConversationId, TenantId};
use switchboard_store::{NewAccount, Store, StoreOptions};

// The server's allocator, so that the writer is measured as it runs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONVERSATIONS: usize = 2_000;
const BURSTS: [usize; 2] = [64, 512];

fn from<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).unwrap()
}

/// A tenant with a web channel and `CONVERSATIONS` open conversations.
async fn conversations(store: &Store) -> (TenantId, Vec<ConversationId>) {
    let settings: TenantSettings = from(json!({"name": "bench", "timeZone": "UTC"}));
    let admin = NewAccount {
        config: from::<EmployeeConfig>(
            json!({"account": "bench_admin", "name": "Admin", "role": "tenantAdmin", "agent": null}),
        ),
        password_hash: "hash".into(),
        must_change_password: false,
    };
    let (tenant, _) = store
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
    let mut ids = Vec::with_capacity(CONVERSATIONS);
    for n in 0..CONVERSATIONS {
        let customer = scope
            .customer(
                channel.channel_config_id,
                &format!("visitor-{n}"),
                "Visitor",
            )
            .await
            .unwrap();
        let conversation = scope.open_conversation(customer.id).await.unwrap();
        ids.push(conversation.id);
    }
    (tenant.tenant_space_id, ids)
}

fn writer(c: &mut Criterion, name: &str, url: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = runtime.block_on(async {
        let options = StoreOptions {
            secret_key: [7; 32],
            node_id: 1,
        };
        Store::open(url, options)
            .await
            .expect("the benchmark's database")
    });
    let (tenant, ids) = runtime.block_on(conversations(&store));
    let sent = AtomicU64::new(0);
    let mut group = c.benchmark_group(format!("message_writer/{name}"));
    group.measurement_time(Duration::from_secs(10));
    for burst in BURSTS {
        group.throughput(Throughput::Elements(burst as u64));
        group.bench_function(format!("burst_of_{burst}"), |b| {
            b.iter_custom(|bursts| {
                runtime.block_on(async {
                    let scope = store.tenant(tenant);
                    let started = Instant::now();
                    for _ in 0..bursts {
                        let first = sent.fetch_add(burst as u64, Ordering::Relaxed);
                        let appends = (0..burst as u64).map(|k| {
                            let n = first + k;
                            let conversation = ids[usize::try_from(n).unwrap() % ids.len()];
                            scope.enqueue_message(
                                conversation,
                                NewMessage {
                                    sender: Sender::Customer,
                                    client_message_id: format!("m-{n}"),
                                    content: Content::Text {
                                        text: format!("message {n}, a sentence of usual length"),
                                    },
                                },
                            )
                        });
                        for stored in join_all(appends).await {
                            stored.unwrap();
                        }
                    }
                    started.elapsed()
                })
            });
        });
    }
    group.finish();
    runtime.block_on(store.close());
}

fn message_writer(c: &mut Criterion) {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", directory.path().join("bench.db").display());
    writer(c, "sqlite", &url);
    if let Ok(url) = std::env::var("SWITCHBOARD_BENCH_DATABASE_URL") {
        writer(c, "postgres", &url);
    }
}

criterion_group!(benches, message_writer);
criterion_main!(benches);
