//! Routing's write for a burst of arrivals: each conversation opened, enqueued and
//! assigned to an agent, with its two contact events, in one commit — what the tenant's
//! routing task stores before the agents hear of their new chats (SQLite in a temporary
//! directory with the server's settings; PostgreSQL as well when
//! `SWITCHBOARD_BENCH_DATABASE_URL` names an empty database).
//!
//! The figure is the time of one burst, from the call until its commit answers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::json;
use switchboard_store::{Placement, RoutingRecord};

mod common;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CUSTOMERS: usize = 64;
const BURSTS: [usize; 2] = [1, 8];

fn arrivals(c: &mut Criterion, name: &str, url: &str) {
    let runtime = common::runtime();
    let store = runtime.block_on(common::open(url));
    let tenant = runtime.block_on(common::tenant(&store, CUSTOMERS));
    let (queue, agent) = (tenant.queue, tenant.admin);
    let mut group = c.benchmark_group(format!("routing_arrivals/{name}"));
    group.measurement_time(Duration::from_secs(10));
    for burst in BURSTS {
        group.throughput(Throughput::Elements(burst as u64));
        group.bench_function(format!("burst_of_{burst}"), |b| {
            b.iter_custom(|bursts| {
                runtime.block_on(async {
                    let scope = store.tenant(tenant.id);
                    let mut elapsed = Duration::ZERO;
                    for n in 0..bursts {
                        let openings: Vec<_> = (0..burst)
                            .map(|k| {
                                let customer = tenant.customers
                                    [(usize::try_from(n).unwrap() * burst + k) % CUSTOMERS];
                                scope.opening(customer)
                            })
                            .collect();
                        let records: Vec<_> = openings
                            .iter()
                            .flat_map(|opening| {
                                let record = |kind, agent, placement| RoutingRecord {
                                    conversation: opening.conversation,
                                    kind,
                                    queue: Some(queue),
                                    agent,
                                    detail: json!({}),
                                    placement: Some(placement),
                                };
                                [
                                    record("enqueued", None, Placement::Queued { queue, place: 1 }),
                                    record(
                                        "assigned",
                                        Some(agent),
                                        Placement::Assigned { queue, agent },
                                    ),
                                ]
                            })
                            .collect();
                        let started = Instant::now();
                        let assigned = scope
                            .open_and_record_routing(&openings, &records)
                            .await
                            .unwrap();
                        elapsed += started.elapsed();
                        assert_eq!(assigned.len(), burst);
                    }
                    elapsed
                })
            });
        });
    }
    group.finish();
    runtime.block_on(store.close());
}

fn routing_arrivals(c: &mut Criterion) {
    common::on_each_database(|name, url| arrivals(c, name, url));
}

criterion_group!(benches, routing_arrivals);
criterion_main!(benches);
