//! Start-up records: the first platform operator, and the demo tenant of `serve --demo`.

use serde::{Deserialize, Serialize};
use serde_json::json;
use switchboard_domain::channel::ChannelConfig;
use switchboard_domain::employee::{EmployeeConfig, Role};
use switchboard_domain::queue::SkillQueueConfig;
use switchboard_domain::route::CalledRouteConfig;
use switchboard_domain::tenant::{ResourceLimits, TenantSettings};
use switchboard_domain::{ChannelId, TenantId};
use switchboard_store::{NewAccount, Store};

use crate::auth::password;
use crate::error::ApiError;

pub const OPERATOR_ACCOUNT: &str = "operator";
pub const DEMO_TENANT: &str = "demo";

/// Creates the platform operator if there is none; returns its one-time password then.
pub async fn ensure_operator(store: &Store) -> Result<Option<String>, ApiError> {
    if store.platform().has_operator().await? {
        return Ok(None);
    }
    let clear = password::one_time();
    let config = EmployeeConfig {
        account: OPERATOR_ACCOUNT.into(),
        name: "Platform operator".into(),
        role: Role::TenantAdmin,
        phone: String::new(),
        agent: None,
    };
    let account = NewAccount {
        config,
        password_hash: password::hash(clear.clone()).await?,
        must_change_password: true,
    };
    store.platform().create_operator(account).await?;
    Ok(Some(clear))
}

/// Sets a new one-time password for the operator account (for a lost password).
pub async fn reset_operator_password(store: &Store) -> Result<String, ApiError> {
    let operator = store
        .platform()
        .account_by_name(OPERATOR_ACCOUNT)
        .await?
        .ok_or(ApiError::NotFound)?;
    let clear = password::one_time();
    store
        .platform()
        .set_password(operator.id, &password::hash(clear.clone()).await?, true)
        .await?;
    store
        .platform()
        .delete_other_sessions(operator.id, "")
        .await?;
    Ok(clear)
}

/// What `serve --demo` prints and writes to `<data-dir>/demo.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Demo {
    pub tenant_space_id: TenantId,
    pub channel_config_id: ChannelId,
    pub admin: DemoAccount,
    pub agents: Vec<DemoAccount>,
    /// The demo channel's third-party authentication key, for the authorization mode.
    pub channel_secret_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoAccount {
    pub account: String,
    pub password: String,
}

/// Creates the demo tenant once: a multimedia skill queue, a called route, two
/// multimedia agents and a WEB channel. When it exists already, `known` (the content of
/// an earlier demo.json) is returned if it still matches, and otherwise the demo
/// accounts get fresh passwords.
pub async fn ensure_demo(store: &Store, known: Option<Demo>) -> Result<Demo, ApiError> {
    match store.platform().account_by_name("demo_admin").await? {
        None => create_demo(store).await,
        Some(admin) => match known.filter(|demo| Some(demo.tenant_space_id) == admin.tenant_id) {
            Some(demo) => Ok(demo),
            None => refresh_demo(store, admin.tenant_id.ok_or(ApiError::NotFound)?).await,
        },
    }
}

async fn create_demo(store: &Store) -> Result<Demo, ApiError> {
    let settings: TenantSettings =
        from(json!({"name": DEMO_TENANT, "timeZone": "UTC", "locale": "en"}))?;
    let limits = ResourceLimits {
        multimedia_agents: 10,
        ..ResourceLimits::default()
    };
    let admin = demo_account("demo_admin", "Demo administrator", Role::TenantAdmin, None).await?;
    let (tenant, _) = store
        .platform()
        .create_tenant(&settings, &limits, &admin.0)
        .await?;
    let scope = store.tenant(tenant.tenant_space_id);
    let queue_config: SkillQueueConfig = from(
        json!({"name": "demoMediaSkill", "type": "multimedia", "description": "Demo web chat"}),
    )?;
    let queue = scope.create_queue(&queue_config).await?;
    let route_config: CalledRouteConfig =
        from(json!({"accessCode": "10001", "mediaType": "multimedia", "skillQueueId": queue.id}))?;
    let route = scope.create_route(&route_config).await?;
    let mut agents = Vec::new();
    for (i, name) in ["demo_agent1", "demo_agent2"].into_iter().enumerate() {
        let profile = json!({"workNo": 101 + i, "agentType": "multimedia", "maxConcurrentChats": 5,
            "skills": [{"queueId": queue.id, "skillWeight": 1, "agentWeight": 1}]});
        let (account, password) = demo_account(
            name,
            &format!("Demo agent {}", i + 1),
            Role::Agent,
            Some(profile),
        )
        .await?;
        scope.create_employee(&account).await?;
        agents.push(DemoAccount {
            account: name.into(),
            password,
        });
    }
    let channel: ChannelConfig = from(
        json!({"accessCode": "DEMO_WEB", "name": "demo_web", "type": "WEB",
        "calledRouteId": route.id, "queueReminder": {"intervalSeconds": 10, "content": "Thanks for waiting; an agent will be with you shortly."}}),
    )?;
    let mut channel = channel;
    let channel_secret_key = secret_key();
    channel.secrets.secret_key = Some(channel_secret_key.clone());
    let plan = channel.validate_with_secrets(&[])?;
    let channel = scope.create_channel(&channel, &plan).await?;
    Ok(Demo {
        tenant_space_id: tenant.tenant_space_id,
        channel_config_id: channel.channel_config_id,
        admin: DemoAccount {
            account: "demo_admin".into(),
            password: admin.1,
        },
        agents,
        channel_secret_key,
    })
}

async fn refresh_demo(store: &Store, tenant: TenantId) -> Result<Demo, ApiError> {
    let scope = store.tenant(tenant);
    let channels = scope
        .list_channels(Default::default(), &Default::default())
        .await?;
    let channel = channels
        .items
        .iter()
        .find(|c| c.config.access_code == "DEMO_WEB")
        .ok_or(ApiError::NotFound)?;
    let mut accounts = Vec::new();
    for name in ["demo_admin", "demo_agent1", "demo_agent2"] {
        let record = store
            .platform()
            .account_by_name(name)
            .await?
            .ok_or(ApiError::NotFound)?;
        let clear = password::one_time();
        store
            .platform()
            .set_password(record.id, &password::hash(clear.clone()).await?, false)
            .await?;
        accounts.push(DemoAccount {
            account: name.into(),
            password: clear,
        });
    }
    let admin = accounts.remove(0);
    let mut config = channel.config.clone();
    let channel_secret_key = secret_key();
    config.secrets.secret_key = Some(channel_secret_key.clone());
    let plan = config.validate_with_secrets(&channel.secrets_set)?;
    scope
        .update_channel(channel.channel_config_id, &config, &plan)
        .await?;
    Ok(Demo {
        tenant_space_id: tenant,
        channel_config_id: channel.channel_config_id,
        admin,
        agents: accounts,
        channel_secret_key,
    })
}

/// A demo account with a generated password that need not be changed: the demo is for
/// trying the product at once.
async fn demo_account(
    name: &str,
    display: &str,
    role: Role,
    agent: Option<serde_json::Value>,
) -> Result<(NewAccount, String), ApiError> {
    let clear = password::one_time();
    let config: EmployeeConfig =
        from(json!({"account": name, "name": display, "role": role, "agent": agent}))?;
    let account = NewAccount {
        config,
        password_hash: password::hash(clear.clone()).await?,
        must_change_password: false,
    };
    Ok((account, clear))
}

/// A third-party authentication key: 43 letters and digits.
fn secret_key() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, 43)
}

fn from<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError::Internal(format!("demo data: {e}")))
}
