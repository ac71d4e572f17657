//! `switchboard`: runs the contact center (`serve`), applies migrations (`migrate`) and
//! resets the operator's password (`reset-operator-password`).

mod keys;
mod settings;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde::Serialize;
use settings::{CommonFlags, LogFormat, ServeFlags, Settings};
use switchboard_server::bootstrap::{self, Demo};
use switchboard_server::{AppState, ServerConfig};
use switchboard_store::{Store, StoreOptions};

/// The server allocates and frees many small buffers per message (frames, JSON, rows)
/// across threads; mimalloc's per-thread free lists serve that pattern faster than the
/// system allocator. Its `override` feature makes it the C library's `malloc` too, which
/// is SQLite's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Self-hosted omnichannel contact center"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server. Needs no configuration: listens on 127.0.0.1:8080 with data in ./data.
    Serve {
        #[command(flatten)]
        common: CommonFlags,
        #[command(flatten)]
        serve: Box<ServeFlags>,
        /// Also create (once) a demo tenant ready to try, and print how to use it.
        #[arg(long)]
        demo: bool,
    },
    /// Applies pending database migrations and exits.
    Migrate {
        #[command(flatten)]
        common: CommonFlags,
    },
    /// Gives the `operator` account a new one-time password and prints it.
    ResetOperatorPassword {
        #[command(flatten)]
        common: CommonFlags,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve {
            common,
            serve,
            demo,
        } => run_serve(Settings::resolve(&common, &serve)?, demo).await,
        Command::Migrate { common } => {
            let settings = Settings::resolve(&common, &ServeFlags::default())?;
            init_logging(settings.log_format);
            open_store(&settings).await?.close().await;
            println!("The database is up to date.");
            Ok(())
        }
        Command::ResetOperatorPassword { common } => {
            let settings = Settings::resolve(&common, &ServeFlags::default())?;
            init_logging(settings.log_format);
            let store = open_store(&settings).await?;
            let password = bootstrap::reset_operator_password(&store)
                .await
                .context("resetting the operator password")?;
            println!(
                "New one-time password of account \"{}\": {password}",
                bootstrap::OPERATOR_ACCOUNT
            );
            store.close().await;
            Ok(())
        }
    }
}

async fn run_serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    init_logging(settings.log_format);
    tracing::debug!(?settings, "settings");
    let shutdown = shutdown_signal()?;
    let store = Arc::new(open_store(&settings).await?);
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let base_url = format!("http://{}", listener.local_addr()?);
    println!("Switchboard is listening on {base_url}");
    println!("  API:      {base_url}/api/v1   (OpenAPI document: {base_url}/api/v1/openapi.json)");
    println!(
        "  Database: {}",
        switchboard_store::redact_url(&settings.database_url)
    );
    if let Some(password) = bootstrap::ensure_operator(&store)
        .await
        .context("creating the operator account")?
    {
        println!();
        println!(
            "First start: platform operator account \"{}\" created.",
            bootstrap::OPERATOR_ACCOUNT
        );
        println!("  One-time password: {password}   (shown once; change it at first sign-in)");
    }
    if demo {
        let demo_file = settings.data_dir.join("demo.json");
        let known = read_demo(&demo_file);
        let demo = bootstrap::ensure_demo(&store, known)
            .await
            .context("preparing the demo tenant")?;
        write_demo(&demo_file, &base_url, &demo)?;
        print_demo(&base_url, &demo, &demo_file);
    }
    let config = ServerConfig {
        cookie_secure: settings.cookie_secure,
        session_ttl: Duration::from_secs(u64::from(settings.session_ttl_hours) * 3600),
        context_path: settings.context_path.clone(),
        reconnect_grace: Duration::from_secs(u64::from(settings.reconnect_grace_seconds)),
        public_url: settings.public_url.clone(),
        platform_endpoints: settings.platform_endpoints.clone(),
    };
    let state = AppState::new(store.clone(), config);
    switchboard_server::serve(listener, state, shutdown).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    if settings.database_url.starts_with("sqlite:") || settings.secret_key.is_none() {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "creating the data directory {}",
                settings.data_dir.display()
            )
        })?;
    }
    let secret_key = keys::load_or_create(settings.secret_key.as_deref(), &settings.data_dir)?;
    let options = StoreOptions {
        secret_key,
        node_id: settings.node_id,
    };
    Store::open(&settings.database_url, options)
        .await
        .with_context(|| {
            format!(
                "opening the database {}",
                switchboard_store::redact_url(&settings.database_url)
            )
        })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DemoFile<'a> {
    base_url: &'a str,
    #[serde(flatten)]
    demo: &'a Demo,
}

fn read_demo(path: &Path) -> Option<Demo> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

fn write_demo(path: &Path, base_url: &str, demo: &Demo) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(&DemoFile { base_url, demo })?;
    keys::write_private(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

fn print_demo(base_url: &str, demo: &Demo, file: &Path) {
    println!();
    println!(
        "Demo tenant ready (the same as JSON in {}):",
        file.display()
    );
    println!("  tenantSpaceId    {}", demo.tenant_space_id);
    println!(
        "  channelConfigId  {}   (WEB channel DEMO_WEB, skill queue demoMediaSkill)",
        demo.channel_config_id
    );
    println!(
        "  tenant admin     {} / {}",
        demo.admin.account, demo.admin.password
    );
    for agent in &demo.agents {
        println!("  agent            {} / {}", agent.account, agent.password);
    }
    println!(
        "  channel key      {}   (secretKey of DEMO_WEB, for the authorization mode)",
        demo.channel_secret_key
    );
    println!();
    println!(
        "Answer as an agent in the workbench: {base_url}/workbench/   (as {}, then \"Sign in to routing\": with nobody on duty, customers are turned away)",
        demo.agents[0].account
    );
    println!(
        "Try the web chat as a customer: {base_url}/try/{}   (sign in there as {})",
        demo.channel_config_id, demo.admin.account
    );
    println!();
    println!("Sign in as the tenant admin and list the channels:");
    println!(
        "  curl -s -c cookies -H 'content-type: application/json' -d '{{\"account\":\"{}\",\"password\":\"{}\"}}' {base_url}/api/v1/auth/login",
        demo.admin.account, demo.admin.password
    );
    println!("  curl -s -b cookies {base_url}/api/v1/channels");
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Registers for SIGTERM and Ctrl-C at once, so that a signal arriving while the
/// server starts up still shuts it down gracefully; the future completes on the first.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("listening for Ctrl-C")?;
        Ok(async move {
            tokio::select! {
                _ = terminate.recv() => {},
                _ = interrupt.recv() => {},
            }
            tracing::info!("shutting down: finishing requests in flight");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            tracing::info!("shutting down: finishing requests in flight");
        })
    }
}
