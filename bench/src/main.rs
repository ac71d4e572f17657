//! `switchboard-load`: starts Switchboard in its own process and drives it the way
//! customers and agents do — the widget's loader and its WebSocket (or HTTP protocol)
//! for customers, the agent REST API and WebSocket for agents — through a ramp and a hold
//! phase, bounded in time and count, on loopback addresses only. The same scenario runs
//! first against `switchboard-relay`, a bare relay, so the report gives Switchboard's
//! throughput as a share of what the machine gives the protocol. It reports a table and
//! JSON (`docs/performance.md`).

mod drain;
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
    /// Messages per second each customer sends once its chat is open, or `max`: each
    /// customer sends its next message as soon as the last one is acknowledged.
    #[arg(long, default_value = "1")]
    rate: Rate,
    /// How customers talk: `socket` (the widget's WebSocket) or `http` (a request per
    /// message and a long poll).
    #[arg(long, value_enum, default_value_t = Transport::Socket)]
    transport: Transport,
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
    /// The relay binary (default: `switchboard-relay` next to this one).
    #[arg(long)]
    relay: Option<PathBuf>,
    /// Leave out the bare-relay run.
    #[arg(long)]
    no_baseline: bool,
    /// Instead of the chat scenario: fill the queue this deep while the agents are busy,
    /// then make them all idle and time until every conversation reached an agent.
    #[arg(long)]
    drain: Option<usize>,
    /// A PostgreSQL database to run on instead of the embedded SQLite.
    #[arg(long)]
    database_url: Option<String>,
    /// Also write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy)]
enum Rate {
    PerSecond(f64),
    Max,
}

impl std::str::FromStr for Rate {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        if text == "max" {
            return Ok(Rate::Max);
        }
        match text.parse::<f64>() {
            Ok(rate) if rate > 0.0 && rate.is_finite() => Ok(Rate::PerSecond(rate)),
            _ => Err("a positive number of messages per second, or `max`".into()),
        }
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rate::PerSecond(rate) => write!(f, "{rate}"),
            Rate::Max => f.write_str("max"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Transport {
    Socket,
    Http,
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
    /// Set once the agents are ready and the customers start.
    clock: std::sync::OnceLock<Clock>,
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
            clock: std::sync::OnceLock::new(),
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
    if args.customers == 0 || args.agents == 0 {
        bail!("--customers and --agents must be positive");
    }
    if let Some(depth) = args.drain {
        let report = drain::run(&args, depth).await?;
        println!("{}", drain::table(&report));
        return write_json(&args, &report);
    }
    let mut runs = serde_json::Map::new();
    if !args.no_baseline {
        let binary = args
            .relay
            .clone()
            .unwrap_or_else(|| server::sibling("switchboard-relay"));
        let relay = Server::start_relay(&binary).await?;
        let report = chat(&args, &relay, Staff::Relay).await;
        relay.stop().await;
        runs.insert("bareRelay".into(), report?);
    }
    let binary = args
        .server
        .clone()
        .unwrap_or_else(|| server::sibling("switchboard"));
    let switchboard = Server::start(&binary, args.database_url.as_deref()).await?;
    let report = chat(&args, &switchboard, Staff::Switchboard).await;
    switchboard.stop().await;
    runs.insert("switchboard".into(), report?);
    let mut report = Value::Object(runs);
    if let (Some(ours), Some(limit)) = (
        report["switchboard"]["acknowledgedPerSecond"].as_f64(),
        report["bareRelay"]["acknowledgedPerSecond"].as_f64(),
    ) {
        report["ratioToBareRelay"] = json!((ours / limit * 1000.0).round() / 1000.0);
    }
    for (name, run) in report.as_object().into_iter().flatten() {
        if run.is_object() {
            println!("## {name}\n\n{}", table(run));
        }
    }
    if let Some(ratio) = report["ratioToBareRelay"].as_f64() {
        println!(
            "Switchboard's acknowledged messages/s as a share of the bare relay's: {ratio:.3}"
        );
    }
    write_json(&args, &report)
}

fn write_json(args: &Args, report: &Value) -> Result<()> {
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(report)?)?;
    }
    Ok(())
}

/// Who the agents are: Switchboard's, created through its API, or anyone, for the relay.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Staff {
    Switchboard,
    Relay,
}

/// Signs the agents in (event stream first), ready to be given conversations.
async fn agents(args: &Args, server: &Server, staff: Staff) -> Result<Vec<(Api, Socket)>> {
    let accounts = match staff {
        Staff::Switchboard => server::prepare(server, args.agents, args.capacity).await?,
        Staff::Relay => (0..args.agents)
            .map(|n| format!("relay_agent{n}"))
            .collect(),
    };
    let mut signed_in = Vec::with_capacity(accounts.len());
    for account in accounts {
        let agent = match staff {
            Staff::Switchboard => Api::first_login(&server.base, &account, server::INITIAL).await?,
            Staff::Relay => Api::anonymous(&server.base),
        };
        let events = agent_events(&agent).await?;
        agent
            .call(
                reqwest::Method::POST,
                "/api/v1/agent/sign-in",
                Some(json!({})),
            )
            .await?;
        signed_in.push((agent, events));
    }
    Ok(signed_in)
}

/// The chat scenario against one server: agents answer, customers arrive over the ramp
/// and chat; figures from the hold phase.
async fn chat(args: &Args, server: &Server, staff: Staff) -> Result<Value> {
    let stats = Arc::new(Stats::new()?);
    let mut tasks = Vec::new();
    for (agent, events) in agents(args, server, staff).await? {
        tasks.push(tokio::spawn(run_agent(
            agent,
            events,
            stats.clone(),
            args.transport,
        )));
    }
    let now = Instant::now();
    let clock = Clock {
        start: now,
        hold_from: now + Duration::from_secs(args.ramp),
        end: now + Duration::from_secs(args.ramp + args.hold),
    };
    stats.clock.set(clock).ok();
    for n in 0..args.customers {
        let delay = Duration::from_secs(args.ramp).mul_f64(n as f64 / args.customers as f64);
        let source = args.sources[n % args.sources.len()];
        let (base, demo, rate, transport) = (
            server.base.clone(),
            server.demo.clone(),
            args.rate,
            args.transport,
        );
        let stats = stats.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let customer = Customer {
                n,
                base,
                demo,
                source,
                stats: stats.clone(),
                clock,
            };
            if let Err(e) = customer.run(rate, transport).await {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                eprintln!("customer {n}: {e:#}");
            }
        }));
    }
    tokio::time::sleep_until(clock.hold_from.into()).await;
    let cpu_at_hold = cpu_ticks(server.pid());
    // Memory and sockets a moment before the end, while every customer still chats.
    let before_end = clock.end - Duration::from_secs(args.hold.min(2)) / 2;
    tokio::time::sleep_until(before_end.into()).await;
    let rss = rss_kib(server.pid());
    let sockets = sockets_open(server.pid());
    tokio::time::sleep_until(clock.end.into()).await;
    let cpu_at_end = cpu_ticks(server.pid());
    for task in &tasks {
        task.abort();
    }
    Ok(report(
        args,
        &stats,
        (cpu_at_hold, cpu_at_end),
        rss,
        sockets,
    ))
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn agent_events(agent: &Api) -> Result<Socket> {
    let url = format!(
        "{}/api/v1/agent/events",
        agent.base.replace("http://", "ws://")
    );
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {}", agent.token).parse()?);
    Ok(
        tokio_tungstenite::connect_async_with_config(request, Some(chat_sized()), true)
            .await?
            .0,
    )
}

/// An agent: records assignments and answers every customer message.
async fn run_agent(agent: Api, mut socket: Socket, stats: Arc<Stats>, transport: Transport) {
    use futures_util::SinkExt;
    // Like a browser: at most six requests to the server at a time.
    let requests = Arc::new(tokio::sync::Semaphore::new(6));
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
                let Some(clock) = stats.clock.get() else {
                    continue;
                };
                let sent_at = clock.at(sent);
                if clock.in_hold(sent_at) {
                    record(&stats.to_agent, micros_since(sent_at));
                }
                replies += 1;
                let client_message_id = format!("r-{replies}");
                let content = json!({"type": "text", "text": format!("r {}", clock.stamp())});
                match transport {
                    Transport::Socket => {
                        let frame = json!({"type": "reply", "conversationId": conversation,
                            "clientMessageId": client_message_id, "content": content});
                        let frame =
                            tokio_tungstenite::tungstenite::Message::text(frame.to_string());
                        if socket.send(frame).await.is_err() {
                            stats.errors.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                    }
                    Transport::Http => {
                        let reply =
                            json!({"clientMessageId": client_message_id, "content": content});
                        let (agent, stats, requests) =
                            (agent.clone(), stats.clone(), requests.clone());
                        let path = format!("/api/v1/agent/conversations/{conversation}/messages");
                        tokio::spawn(async move {
                            let Ok(_turn) = requests.acquire().await else {
                                return;
                            };
                            if agent
                                .call(reqwest::Method::POST, &path, Some(reply))
                                .await
                                .is_err()
                            {
                                stats.errors.fetch_add(1, Ordering::Relaxed);
                            }
                        });
                    }
                }
            }
            Some("error") => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

/// A simulated customer.
struct Customer {
    n: usize,
    base: String,
    demo: Value,
    source: IpAddr,
    stats: Arc<Stats>,
    clock: Clock,
}

impl Customer {
    /// Admitted by a signed loader request, opens its chat, then chats until the end.
    async fn run(self, rate: Rate, transport: Transport) -> Result<()> {
        // No idle connections kept: a customer's sockets are what a run of tens of
        // thousands may hold open (one process has ~20,000 files here).
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .local_address(self.source)
            .pool_max_idle_per_host(0)
            .build()?;
        let cookie = admit(&client, self.n, &self.base, &self.demo).await?;
        let opening = Instant::now();
        let opened = open_conversation(&client, &self.base).await?;
        let conversation = opened["conversationId"]
            .as_str()
            .context("no conversation id")?
            .to_owned();
        if let Ok(mut opened_at) = self.stats.opened_at.lock() {
            opened_at.insert(conversation.clone(), opening);
        }
        match transport {
            Transport::Socket => {
                // The socket is all the customer needs from here: its HTTP connection goes.
                drop(client);
                self.chat_over_socket(&cookie, &conversation, rate).await
            }
            Transport::Http => self.chat_over_http(client, &conversation, rate).await,
        }
    }

    fn text(&self) -> String {
        format!("m {}", self.clock.stamp())
    }

    fn acknowledged(&self, started: Instant) {
        if self.clock.in_hold(started) {
            record(&self.stats.acknowledged, micros_since(started));
            self.stats.acked_in_hold.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn received(&self, message: &Value) {
        record_answer(&self.stats, &self.clock, message);
    }

    async fn chat_over_socket(&self, cookie: &str, conversation: &str, rate: Rate) -> Result<()> {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message as Frame;
        let path =
            format!("/service-cloud/webchat/v1/socket?conversationId={conversation}&after=0");
        let mut socket = connect_from(&self.base, &path, self.source, cookie).await?;
        let period = match rate {
            Rate::PerSecond(rate) => Duration::from_secs_f64(1.0 / rate),
            // Paced by acknowledgements instead; the timer only starts the first message.
            Rate::Max => Duration::from_secs(3600),
        };
        let mut every = tokio::time::interval(period);
        let mut unacknowledged: HashMap<u64, Instant> = HashMap::new();
        let mut sent = 0u64;
        let end = tokio::time::sleep_until(self.clock.end.into());
        tokio::pin!(end);
        loop {
            let send_now = tokio::select! {
                () = &mut end => return Ok(()),
                _ = every.tick() => true,
                frame = socket.next() => {
                    let frame = frame.context("the server closed the socket")??;
                    let Ok(text) = frame.to_text() else { continue };
                    let Ok(event) = serde_json::from_str::<Value>(text) else { continue };
                    match event["type"].as_str() {
                        Some("ack") => {
                            let number = event["clientMessageId"].as_str()
                                .and_then(|id| id.strip_prefix("m-"))
                                .and_then(|n| n.parse::<u64>().ok());
                            if let Some(started) = number.and_then(|n| unacknowledged.remove(&n)) {
                                self.acknowledged(started);
                            }
                            matches!(rate, Rate::Max)
                        }
                        Some("message") => { self.received(&event["message"]); false }
                        Some("error") => {
                            self.stats.errors.fetch_add(1, Ordering::Relaxed);
                            matches!(rate, Rate::Max)
                        }
                        _ => false,
                    }
                }
            };
            if send_now {
                sent += 1;
                let frame = json!({"type": "send", "clientMessageId": format!("m-{sent}"),
                    "content": {"type": "text", "text": self.text()}});
                unacknowledged.insert(sent, Instant::now());
                socket.send(Frame::text(frame.to_string())).await?;
            }
        }
    }

    async fn chat_over_http(
        &self,
        client: reqwest::Client,
        conversation: &str,
        rate: Rate,
    ) -> Result<()> {
        let poller = tokio::spawn(poll(
            client.clone(),
            self.base.clone(),
            conversation.to_owned(),
            self.stats.clone(),
            self.clock,
        ));
        let mut every = match rate {
            Rate::PerSecond(rate) => {
                Some(tokio::time::interval(Duration::from_secs_f64(1.0 / rate)))
            }
            Rate::Max => None,
        };
        let mut sent = 0u64;
        while Instant::now() < self.clock.end {
            if let Some(every) = &mut every {
                every.tick().await;
            }
            sent += 1;
            let body = json!({"conversationId": conversation, "clientMessageId": format!("m-{sent}"),
                "content": {"type": "text", "text": self.text()}});
            let started = Instant::now();
            let answer = client
                .post(format!("{}/service-cloud/webchat/v1/messages", self.base))
                .json(&body)
                .send()
                .await;
            match answer {
                Ok(response) if response.status().is_success() => self.acknowledged(started),
                _ => {
                    self.stats.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        poller.abort();
        Ok(())
    }
}

/// An agent's answer reached the customer.
fn record_answer(stats: &Stats, clock: &Clock, message: &Value) {
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

/// Buffers for chat frames: the default 128 KiB read buffer is zeroed on every read and
/// would be held by each of thousands of sockets.
fn chat_sized() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
}

/// Customer `n` through the signed loader: answers its session cookie.
async fn admit(client: &reqwest::Client, n: usize, base: &str, demo: &Value) -> Result<String> {
    let admitted = client
        .post(format!("{base}{LOADER}?&t=1"))
        .body(signed_user_data(n, base, demo)?.to_string())
        .send()
        .await?;
    if !admitted.status().is_success() {
        bail!("the loader refused the customer: {}", admitted.status());
    }
    let cookie = admitted
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.split(';')
                .next()
                .filter(|c| c.starts_with("ccmessaging-token="))
        })
        .context("no session cookie")?
        .to_owned();
    // Read to the end, so that its connection is not held for the whole chat.
    admitted.bytes().await?;
    Ok(cookie)
}

/// `POST conversation` for the admitted customer: its conversation as the server answers.
async fn open_conversation(client: &reqwest::Client, base: &str) -> Result<Value> {
    Ok(client
        .post(format!("{base}/service-cloud/webchat/v1/conversation"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// A WebSocket to `path` on the server, from the loopback address `source`.
async fn connect_from(
    base: &str,
    path: &str,
    source: IpAddr,
    cookie: &str,
) -> Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>> {
    let server: std::net::SocketAddr = base.trim_start_matches("http://").parse()?;
    let socket = match source {
        IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.bind(std::net::SocketAddr::new(source, 0))?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    let mut request =
        format!("{}{path}", base.replace("http://", "ws://")).into_client_request()?;
    request.headers_mut().insert("cookie", cookie.parse()?);
    Ok(
        tokio_tungstenite::client_async_with_config(request, stream, Some(chat_sized()))
            .await?
            .0,
    )
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
            record_answer(&stats, &clock, message);
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

/// The sockets the process holds open (its listener and database connections included).
fn sockets_open(pid: Option<u32>) -> Option<usize> {
    let entries = std::fs::read_dir(format!("/proc/{}/fd", pid?)).ok()?;
    let sockets = entries
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count();
    Some(sockets)
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
    (cpu_at_hold, cpu_at_end): (Option<u64>, Option<u64>),
    rss: Option<u64>,
    sockets: Option<usize>,
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
            "ratePerCustomer": args.rate.to_string(), "transport": format!("{:?}", args.transport).to_lowercase(), "rampSeconds": args.ramp, "holdSeconds": args.hold,
            "sources": args.sources.len(), "database": if args.database_url.is_some() { "postgresql" } else { "sqlite" }},
        "acknowledgedPerSecond": acked as f64 / args.hold as f64,
        "acknowledged": percentiles(&stats.acknowledged),
        "customerToAgent": percentiles(&stats.to_agent),
        "agentToCustomer": percentiles(&stats.to_customer),
        "assignment": percentiles(&stats.assignment),
        "serverCpuPercent": cpu,
        "serverRssMiB": rss.map(|k| (k as f64 / 1024.0).round()),
        "serverSocketsOpen": sockets,
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
        "scenario: {}\n\nacknowledged customer messages/s: {:.0}\nserver CPU: {} % of one core, RSS: {} MiB, server sockets open: {}, errors: {}\n\n| latency | samples | p50 ms | p99 ms | p99.9 ms |\n|---|---|---|---|---|\n",
        report["scenario"],
        report["acknowledgedPerSecond"].as_f64().unwrap_or(0.0),
        report["serverCpuPercent"],
        report["serverRssMiB"],
        report["serverSocketsOpen"],
        report["errors"],
    );
    out += &row("customer send acknowledged", &report["acknowledged"]);
    out += &row("customer → agent delivery", &report["customerToAgent"]);
    out += &row("agent → customer delivery", &report["agentToCustomer"]);
    out += &row("assignment (open → agent notified)", &report["assignment"]);
    out
}
