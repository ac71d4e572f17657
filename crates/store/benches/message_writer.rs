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
use switchboard_domain::conversation::{Content, NewMessage, Sender};
use switchboard_domain::{ConversationId, TenantId};
use switchboard_store::Store;

mod common;

// The server's allocator, so that the writer is measured as it runs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONVERSATIONS: usize = 2_000;
const BURSTS: [usize; 2] = [64, 512];

/// A tenant with `CONVERSATIONS` open conversations, each of a customer of its own.
async fn conversations(store: &Store) -> (TenantId, Vec<ConversationId>) {
    let tenant = common::tenant(store, CONVERSATIONS).await;
    let scope = store.tenant(tenant.id);
    let mut ids = Vec::with_capacity(CONVERSATIONS);
    for customer in tenant.customers {
        ids.push(scope.open_conversation(customer).await.unwrap().id);
    }
    (tenant.id, ids)
}

fn writer(c: &mut Criterion, name: &str, url: &str) {
    let runtime = common::runtime();
    let store = runtime.block_on(common::open(url));
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
    common::on_each_database(|name, url| writer(c, name, url));
}

criterion_group!(benches, message_writer);
criterion_main!(benches);
