//! `switchboard-load`: starts Switchboard in its own process and drives it the way
//! customers and agents do — the widget's loader and HTTP protocol for customers, the
//! agent REST API and WebSocket for agents — through a ramp and a hold phase, bounded in
//! time and count, on loopback addresses only. It reports what the server sustained as
//! a table and as JSON (`docs/performance.md`).

mod server;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use server::{Api, Server};

const LOADER: &str = "/service-cloud/webclient/chat_client/js/newThirdPartyClient.js";

#[derive(Parser, Debug, Clone)]
#[command(about = "Drive a fresh Switchboard with simulated customers and agents")]
struct Args {
    /// Customers, each with a conversation of its own.
    #[arg(long, default_value_t = 200)]
    customers: usize,
    /// Agents, signed in and idle.
    #[arg(long, default_value_t = 20)]
    agents: usize,
    /// Concurrent chats per agent.
    #[arg(long, default_value_t = 10)]
    capacity: u32,
    /// Messages per second each customer sends once its chat is open.
    #[arg(long, default_value_t = 1.0)]
    rate: f64,
    /// Seconds over which customers arrive.
    #[arg(long, default_value_t = 5)]
    ramp: u64,
    /// Seconds of steady chat that the figures are taken from.
    #[arg(long, default_value_t = 20)]
    hold: u64,
    /// Loopback source addresses to spread customers' connections over.
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1")]
    sources: Vec<IpAddr>,
    /// The server binary (default: `switchboard` next to this one).
    #[arg(long)]
    server: Option<PathBuf>,
    /// A PostgreSQL database to run on instead of the embedded SQLite.
    #[arg(long)]
    database_url: Option<String>,
    /// Also write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Latencies in microseconds and counts, shared by every simulated client.
struct Stats {
    to_agent: Mutex<Histogram<u64>>,
    to_customer: Mutex<Histogram<u64>>,
    acknowledged: Mutex<Histogram<u64>>,
    assignment: Mutex<Histogram<u64>>,
    acked_in_hold: AtomicU64,
    errors: AtomicU64,
    opened_at: Mutex<HashMap<String, Instant>>,
    assigned_at: Mutex<HashMap<String, Instant>>,
}

impl Stats {
    fn new() -> Result<Self> {
        // 1 µs to 10 minutes at 3 significant digits.
        let histogram = || Histogram::new_with_bounds(1, 600_000_000, 3).map(Mutex::new);
        Ok(Self {
            to_agent: histogram()?,
            to_customer: histogram()?,
            acknowledged: histogram()?,
            assignment: histogram()?,
            acked_in_hold: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            opened_at: Mutex::default(),
            assigned_at: Mutex::default(),
        })
    }
}

fn record(histogram: &Mutex<Histogram<u64>>, micros: u64) {
    if let Ok(mut h) = histogram.lock() {
        h.saturating_record(micros.max(1));
    }
}

fn micros_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The phases: everything happens between `start` and `end`; figures come from
/// `[hold_from, end)`.
#[derive(Clone, Copy)]
struct Clock {
    start: Instant,
    hold_from: Instant,
    end: Instant,
}

impl Clock {
    fn in_hold(&self, at: Instant) -> bool {
        at >= self.hold_from && at < self.end
    }
    /// Microseconds since the start, as written into message texts.
    fn stamp(&self) -> u64 {
        micros_since(self.start)
    }
    fn at(&self, stamp: u64) -> Instant {
        self.start + Duration::from_micros(stamp)
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.sources.iter().any(|ip| !ip.is_loopback()) {
        bail!("--sources must be loopback addresses (127.0.0.0/8)");
    }
    if args.customers == 0 || args.agents == 0 || args.rate <= 0.0 {
        bail!("--customers, --agents and --rate must be positive");
    }
    let binary = args.server.clone().unwrap_or_else(server::default_binary);
    let server = Server::start(&binary, args.database_url.as_deref()).await?;
    let accounts = server::prepare(&server, args.agents, args.capacity).await?;
    let stats = Arc::new(Stats::new()?);
    let now = Instant::now();
    let clock = Clock {
        start: now,
        hold_from: now + Duration::from_secs(args.ramp),
        end: now + Duration::from_secs(args.ramp + args.hold),
    };
    let mut tasks = Vec::new();
    for account in accounts {
        let agent = Api::first_login(&server.base, &account, server::INITIAL).await?;
        tasks.push(tokio::spawn(run_agent(agent, stats.clone(), clock)));
    }
    for n in 0..args.customers {
        let delay = Duration::from_secs(args.ramp).mul_f64(n as f64 / args.customers as f64);
        let source = args.sources[n % args.sources.len()];
        let (base, demo, rate) = (server.base.clone(), server.demo.clone(), args.rate);
        let stats = stats.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Err(e) = run_customer(n, &base, &demo, source, rate, &stats, clock).await {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                eprintln!("customer {n}: {e:#}");
            }
        }));
    }
    tokio::time::sleep_until(clock.hold_from.into()).await;
    let cpu_at_hold = cpu_ticks(server.pid());
    tokio::time::sleep_until(clock.end.into()).await;
    let cpu_at_end = cpu_ticks(server.pid());
    let rss = rss_kib(server.pid());
    for task in &tasks {
        task.abort();
    }
    let report = report(&args, &stats, cpu_at_hold, cpu_at_end, rss);
    println!("{}", table(&report));
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    server.stop().await;
    Ok(())
}

/// An agent: event stream, sign-in, and an answer to every customer message.
async fn run_agent(agent: Api, stats: Arc<Stats>, clock: Clock) {
    let url = format!(
        "{}/api/v1/agent/events",
        agent.base.replace("http://", "ws://")
    );
    let Ok(mut request) = url.into_client_request() else {
        return;
    };
    let Ok(bearer) = format!("Bearer {}", agent.token).parse() else {
        return;
    };
    request.headers_mut().insert("authorization", bearer);
    let Ok((mut socket, _)) = tokio_tungstenite::connect_async(request).await else {
        stats.errors.fetch_add(1, Ordering::Relaxed);
        return;
    };
    if agent
        .call(
            reqwest::Method::POST,
            "/api/v1/agent/sign-in",
            Some(json!({})),
        )
        .await
        .is_err()
    {
        stats.errors.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let mut replies = 0u64;
    while let Some(Ok(frame)) = socket.next().await {
        let Ok(text) = frame.to_text() else { continue };
        let Ok(event) = serde_json::from_str::<Value>(text) else {
            continue;
        };
        match event["type"].as_str() {
            Some("assigned") => {
                if let Some(id) = event["conversation"]["id"].as_str() {
                    if let Ok(mut assigned) = stats.assigned_at.lock() {
                        assigned.insert(id.to_owned(), Instant::now());
                    }
                }
            }
            Some("message") => {
                let message = &event["message"];
                let sent = message["content"]["text"]
                    .as_str()
                    .and_then(|t| t.strip_prefix("m "))
                    .and_then(|t| t.parse::<u64>().ok());
                let (Some(sent), Some(conversation)) = (sent, message["conversationId"].as_str())
                else {
                    continue;
                };
                let sent_at = clock.at(sent);
                if clock.in_hold(sent_at) {
                    record(&stats.to_agent, micros_since(sent_at));
                }
                replies += 1;
                let reply = json!({"clientMessageId": format!("r-{replies}"),
                    "content": {"type": "text", "text": format!("r {}", clock.stamp())}});
                let (agent, stats) = (agent.clone(), stats.clone());
                let path = format!("/api/v1/agent/conversations/{conversation}/messages");
                tokio::spawn(async move {
                    if agent
                        .call(reqwest::Method::POST, &path, Some(reply))
                        .await
                        .is_err()
                    {
                        stats.errors.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            _ => {}
        }
    }
}

/// A customer: admitted by a signed loader request, opens its chat, polls for answers and
/// writes at `rate` messages a second.
async fn run_customer(
    n: usize,
    base: &str,
    demo: &Value,
    source: IpAddr,
    rate: f64,
    stats: &Arc<Stats>,
    clock: Clock,
) -> Result<()> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .local_address(source)
        .build()?;
    let admitted = client
        .post(format!("{base}{LOADER}?&t=1"))
        .body(signed_user_data(n, base, demo)?.to_string())
        .send()
        .await?;
    if !admitted.status().is_success() {
        bail!("the loader refused the customer: {}", admitted.status());
    }
    let opening = Instant::now();
    let opened: Value = client
        .post(format!("{base}/service-cloud/webchat/v1/conversation"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let conversation = opened["conversationId"]
        .as_str()
        .context("no conversation id")?
        .to_owned();
    if let Ok(mut opened_at) = stats.opened_at.lock() {
        opened_at.insert(conversation.clone(), opening);
    }
    let poller = tokio::spawn(poll(
        client.clone(),
        base.to_owned(),
        conversation.clone(),
        stats.clone(),
        clock,
    ));
    let mut every = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut sent = 0u64;
    while Instant::now() < clock.end {
        every.tick().await;
        sent += 1;
        let body = json!({"conversationId": conversation, "clientMessageId": format!("m-{sent}"),
            "content": {"type": "text", "text": format!("m {}", clock.stamp())}});
        let started = Instant::now();
        let answer = client
            .post(format!("{base}/service-cloud/webchat/v1/messages"))
            .json(&body)
            .send()
            .await;
        match answer {
            Ok(response) if response.status().is_success() => {
                if clock.in_hold(started) {
                    record(&stats.acknowledged, micros_since(started));
                    stats.acked_in_hold.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    poller.abort();
    Ok(())
}

async fn poll(
    client: reqwest::Client,
    base: String,
    conversation: String,
    stats: Arc<Stats>,
    clock: Clock,
) {
    let mut after = 0;
    loop {
        let url = format!("{base}/service-cloud/webchat/v1/messages?conversationId={conversation}&after={after}&waitSeconds=25");
        let Ok(response) = client.get(&url).send().await else {
            stats.errors.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let Ok(answer) = response.json::<Value>().await else {
            stats.errors.fetch_add(1, Ordering::Relaxed);
            return;
        };
        for message in answer["messages"].as_array().into_iter().flatten() {
            after = after.max(message["seq"].as_i64().unwrap_or(after));
            let sent = message["content"]["text"]
                .as_str()
                .and_then(|t| t.strip_prefix("r "))
                .and_then(|t| t.parse::<u64>().ok());
            if let Some(sent) = sent {
                let sent_at = clock.at(sent);
                if clock.in_hold(sent_at) {
                    record(&stats.to_customer, micros_since(sent_at));
                }
            }
        }
    }
}

/// The loader body of customer `n`, signed with the demo channel's key (auth-v2).
fn signed_user_data(n: usize, base: &str, demo: &Value) -> Result<Value> {
    use switchboard_domain::auth_v2::{format_timestamp, sign, Canonical};
    let channel = demo["channelConfigId"].as_str().context("channel id")?;
    let secret = demo["channelSecretKey"].as_str().context("channel key")?;
    let now = chrono::Utc::now();
    let user = format!("load-customer-{n}");
    let data = json!({"thirdUserName": user, "thirdUserId": user, "tenantSpaceId": demo["tenantSpaceId"],
        "channelConfigId": channel, "locale": "en", "timestamp": now.timestamp_millis()});
    let request = Canonical {
        method: "POST".into(),
        uri: LOADER.into(),
        query: vec![],
        headers: vec![("host".into(), base.trim_start_matches("http://").to_owned())],
        body: data.to_string(),
    };
    let mut posted = data;
    posted["thirdPartAuthorization"] =
        json!(sign(channel, secret, &format_timestamp(now), &request));
    Ok(posted)
}

/// User plus system CPU time of the process, in clock ticks (1/100 s on Linux).
fn cpu_ticks(pid: Option<u32>) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn percentiles(histogram: &Mutex<Histogram<u64>>) -> Value {
    let Ok(h) = histogram.lock() else {
        return Value::Null;
    };
    let ms = |q: f64| (h.value_at_quantile(q) as f64) / 1000.0;
    json!({"count": h.len(), "p50Ms": ms(0.5), "p99Ms": ms(0.99), "p999Ms": ms(0.999), "maxMs": h.max() as f64 / 1000.0})
}

fn report(
    args: &Args,
    stats: &Stats,
    cpu_at_hold: Option<u64>,
    cpu_at_end: Option<u64>,
    rss: Option<u64>,
) -> Value {
    if let (Ok(opened), Ok(assigned)) = (stats.opened_at.lock(), stats.assigned_at.lock()) {
        for (id, at) in assigned.iter() {
            if let Some(open) = opened.get(id) {
                record(
                    &stats.assignment,
                    u64::try_from(at.saturating_duration_since(*open).as_micros())
                        .unwrap_or(u64::MAX),
                );
            }
        }
    }
    let acked = stats.acked_in_hold.load(Ordering::Relaxed);
    let cpu = match (cpu_at_hold, cpu_at_end) {
        (Some(a), Some(b)) => json!(((b - a) as f64 / args.hold as f64).round()),
        _ => Value::Null,
    };
    json!({
        "scenario": {"customers": args.customers, "agents": args.agents, "capacity": args.capacity,
            "ratePerCustomer": args.rate, "rampSeconds": args.ramp, "holdSeconds": args.hold,
            "sources": args.sources.len(), "database": if args.database_url.is_some() { "postgresql" } else { "sqlite" }},
        "acknowledgedPerSecond": acked as f64 / args.hold as f64,
        "acknowledged": percentiles(&stats.acknowledged),
        "customerToAgent": percentiles(&stats.to_agent),
        "agentToCustomer": percentiles(&stats.to_customer),
        "assignment": percentiles(&stats.assignment),
        "serverCpuPercent": cpu,
        "serverRssMiB": rss.map(|k| (k as f64 / 1024.0).round()),
        "connectionsHeld": args.customers + args.agents,
        "errors": stats.errors.load(Ordering::Relaxed),
    })
}

fn table(report: &Value) -> String {
    let row = |name: &str, v: &Value| {
        format!(
            "| {name} | {} | {:.2} | {:.2} | {:.2} |\n",
            v["count"],
            v["p50Ms"].as_f64().unwrap_or(0.0),
            v["p99Ms"].as_f64().unwrap_or(0.0),
            v["p999Ms"].as_f64().unwrap_or(0.0)
        )
    };
    let mut out = format!(
        "scenario: {}\n\nacknowledged customer messages/s: {:.0}\nserver CPU: {} % of one core, RSS: {} MiB, connections held: {}, errors: {}\n\n| latency | samples | p50 ms | p99 ms | p99.9 ms |\n|---|---|---|---|---|\n",
        report["scenario"],
        report["acknowledgedPerSecond"].as_f64().unwrap_or(0.0),
        report["serverCpuPercent"],
        report["serverRssMiB"],
        report["connectionsHeld"],
        report["errors"],
    );
    out += &row("customer send acknowledged", &report["acknowledged"]);
    out += &row("customer → agent delivery", &report["customerToAgent"]);
    out += &row("agent → customer delivery", &report["agentToCustomer"]);
    out += &row("assignment (open → agent notified)", &report["assignment"]);
    out
}
