//! The drain figure: `depth` conversations wait in the queue while every agent is signed
//! in but busy; then all agents turn idle at once, and the clock runs until each waiting
//! conversation has reached an agent (its `assigned` event arrived).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::server::{self, Server};
use crate::{admit, agents, open_conversation, Args, Staff};

/// Waiting conversations opened at the same time while filling the queue.
const OPENING_AT_ONCE: usize = 64;

pub async fn run(args: &Args, depth: usize) -> Result<Value> {
    let capacity = args.agents * usize::try_from(args.capacity)?;
    if depth == 0 || depth > 10_000 || capacity < depth {
        bail!("--drain must be 1–10,000 and at most --agents × --capacity ({capacity})");
    }
    let binary = args
        .server
        .clone()
        .unwrap_or_else(|| server::sibling("switchboard"));
    let server = Server::start(&binary, args.database_url.as_deref()).await?;
    let measured = measure(args, &server, depth).await;
    server.stop().await;
    measured
}

async fn measure(args: &Args, server: &Server, depth: usize) -> Result<Value> {
    let staff = agents(args, server, Staff::Switchboard).await?;
    for (agent, _) in &staff {
        agent
            .call(
                reqwest::Method::PUT,
                "/api/v1/agent/status",
                Some(json!({"status": "busy"})),
            )
            .await?;
    }
    let filling = Instant::now();
    futures_util::stream::iter(0..depth)
        .map(|n| open(n, server))
        .buffer_unordered(OPENING_AT_ONCE)
        .try_collect::<Vec<()>>()
        .await?;
    let filled_in = filling.elapsed();

    let assigned = Arc::new(AtomicUsize::new(0));
    let all_assigned = Arc::new(Notify::new());
    let mut agents = Vec::with_capacity(staff.len());
    for (agent, mut events) in staff {
        let (assigned, all_assigned) = (assigned.clone(), all_assigned.clone());
        tokio::spawn(async move {
            while let Some(Ok(frame)) = events.next().await {
                let is_assignment = frame
                    .to_text()
                    .ok()
                    .and_then(|text| serde_json::from_str::<Value>(text).ok())
                    .is_some_and(|event| event["type"] == "assigned");
                if is_assignment && assigned.fetch_add(1, Ordering::SeqCst) + 1 == depth {
                    all_assigned.notify_one();
                }
            }
        });
        agents.push(agent);
    }
    let done = all_assigned.notified();
    tokio::pin!(done);
    done.as_mut().enable();
    let started = Instant::now();
    futures_util::future::try_join_all(agents.iter().map(|agent| {
        agent.call(
            reqwest::Method::PUT,
            "/api/v1/agent/status",
            Some(json!({"status": "idle"})),
        )
    }))
    .await?;
    let finished = tokio::time::timeout(Duration::from_secs(120), done).await;
    let drained_in = started.elapsed();
    let reached = assigned.load(Ordering::SeqCst);
    if finished.is_err() {
        bail!("only {reached} of {depth} waiting conversations reached an agent within 120 s");
    }
    Ok(json!({
        "scenario": {"drain": depth, "agents": args.agents, "capacity": args.capacity,
            "database": if args.database_url.is_some() { "postgresql" } else { "sqlite" }},
        "queueFilledSeconds": filled_in.as_secs_f64(),
        "drainedSeconds": drained_in.as_secs_f64(),
        "assigned": reached,
    }))
}

/// One customer through the loader into the queue.
async fn open(n: usize, server: &Server) -> Result<()> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(0)
        .build()?;
    admit(&client, n, &server.base, &server.demo).await?;
    let opened = open_conversation(&client, &server.base).await?;
    if opened["state"] != "queued" {
        bail!("a conversation did not wait in the queue: {opened}");
    }
    Ok(())
}

pub fn table(report: &Value) -> String {
    format!(
        "scenario: {}\n\n{} waiting conversations reached their agents in {:.3} s after the agents turned idle (queue filled in {:.1} s)\n",
        report["scenario"],
        report["assigned"],
        report["drainedSeconds"].as_f64().unwrap_or(0.0),
        report["queueFilledSeconds"].as_f64().unwrap_or(0.0),
    )
}
