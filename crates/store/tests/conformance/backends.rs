use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sqlx::Executor;
use switchboard_store::{Store, StoreOptions};

pub type Scenario = fn(Arc<Store>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

pub fn options() -> StoreOptions {
    StoreOptions {
        secret_key: [42; 32],
        node_id: 1,
    }
}

pub async fn on_sqlite(scenario: Scenario) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("switchboard.db").display());
    let store = Arc::new(Store::open(&url, options()).await.unwrap());
    scenario(store.clone()).await;
    store.close().await;
}

pub type ScenarioWithAddress = fn(Arc<Store>, String) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Runs the scenario on a new SQLite database, telling it the database's address too:
/// for a scenario that opens the store again, as a restart would.
pub async fn on_sqlite_with_address(scenario: ScenarioWithAddress) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("switchboard.db").display());
    let store = Arc::new(Store::open(&url, options()).await.unwrap());
    scenario(store.clone(), url).await;
    store.close().await;
}

/// Runs the scenario in a new database of the PostgreSQL server, dropped afterwards even
/// if the scenario panics.
pub async fn on_postgres(scenario: Scenario) {
    in_postgres_database(|url| async move {
        let store = Arc::new(Store::open(&url, options()).await.unwrap());
        scenario(store.clone()).await;
        store.close().await;
    })
    .await;
}

/// Runs the scenario on a new PostgreSQL database, telling it the database's address
/// too: for a scenario that writes beside the store, as another node would, or opens it
/// again.
pub async fn on_postgres_with_address(scenario: ScenarioWithAddress) {
    in_postgres_database(|url| async move {
        let store = Arc::new(Store::open(&url, options()).await.unwrap());
        scenario(store.clone(), url).await;
        store.close().await;
    })
    .await;
}

pub type ClusterScenario = fn(Arc<Store>, Arc<Store>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Runs the scenario on two nodes of a cluster: two stores with node ids of their own on
/// one new PostgreSQL database.
pub async fn on_postgres_cluster(scenario: ClusterScenario) {
    in_postgres_database(|url| async move {
        let first = Arc::new(Store::open(&url, options()).await.unwrap());
        let second = StoreOptions {
            node_id: 2,
            ..options()
        };
        let second = Arc::new(Store::open(&url, second).await.unwrap());
        scenario(first.clone(), second.clone()).await;
        first.close().await;
        second.close().await;
    })
    .await;
}

/// Runs `body` with the address of a new database of the PostgreSQL server, dropped
/// afterwards even if `body` panics.
async fn in_postgres_database<F, Body>(body: Body)
where
    Body: FnOnce(String) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let Some(admin_url) = postgres_url() else {
        return;
    };
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "switchboard_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        rand_suffix()
    );
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&admin_url)
        .await
        .expect("PostgreSQL is reachable");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let outcome = tokio::spawn(body(with_database(&admin_url, &name))).await;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .unwrap();
    admin.close().await;
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

fn postgres_url() -> Option<String> {
    match std::env::var("SWITCHBOARD_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("SWITCHBOARD_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("SWITCHBOARD_REQUIRE_SERVICES=1 but SWITCHBOARD_TEST_DATABASE_URL is not set")
        }
        _ => {
            // Straight to stderr: the test harness captures eprintln!.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: PostgreSQL conformance test (set SWITCHBOARD_TEST_DATABASE_URL=postgres://… to run it)"
            );
            None
        }
    }
}

fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let server = match base.rfind('/') {
        Some(slash) if slash > base.find("://").map_or(0, |i| i + 2) => &base[..slash],
        _ => base,
    };
    match query {
        Some(q) => format!("{server}/{database}?{q}"),
        None => format!("{server}/{database}"),
    }
}

fn rand_suffix() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    nanos % 1_000_000
}
