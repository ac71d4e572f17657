//! Settings, from lowest to highest precedence: built-in defaults, the TOML file
//! (`--config`), `SWITCHBOARD_*` environment variables, command-line flags. Every
//! setting is listed in `docs/configuration.md`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

/// The settings file: every key is optional.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub secret_key: Option<String>,
    pub node_id: Option<u16>,
    pub cookie_secure: Option<bool>,
    pub session_ttl_hours: Option<u32>,
    pub reconnect_grace_seconds: Option<u32>,
    pub log_format: Option<LogFormat>,
    pub context_path: Option<String>,
    pub public_url: Option<String>,
    pub telegram_api_url: Option<String>,
    pub graph_api_url: Option<String>,
    pub line_api_url: Option<String>,
    pub line_data_url: Option<String>,
    pub wechat_api_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Flags shared by the commands that open the database; each also reads its
/// `SWITCHBOARD_*` variable.
#[derive(Args, Debug, Default)]
pub struct CommonFlags {
    /// TOML settings file.
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory for the embedded database, the secret key and demo.json [default: ./data].
    #[arg(long, env = "SWITCHBOARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… [default: sqlite://<data-dir>/switchboard.db].
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// This node's number in a cluster, 0–1023; part of every generated id.
    #[arg(long, env = "SWITCHBOARD_NODE_ID")]
    pub node_id: Option<u16>,
    /// Log lines as text or JSON.
    #[arg(long, env = "SWITCHBOARD_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
}

#[derive(Args, Debug, Default)]
pub struct ServeFlags {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "SWITCHBOARD_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Mark the session cookie Secure (serve over HTTPS, e.g. behind a TLS proxy).
    #[arg(long, env = "SWITCHBOARD_COOKIE_SECURE")]
    pub cookie_secure: Option<bool>,
    /// Hours a sign-in lasts [default: 12].
    #[arg(long, env = "SWITCHBOARD_SESSION_TTL_HOURS")]
    pub session_ttl_hours: Option<u32>,
    /// Seconds an agent whose connection dropped keeps its conversations [default: 60].
    #[arg(long, env = "SWITCHBOARD_RECONNECT_GRACE_SECONDS")]
    pub reconnect_grace_seconds: Option<u32>,
    /// Path prefix of the web chat's compatibility routes [default: /service-cloud].
    #[arg(long, env = "SWITCHBOARD_CONTEXT_PATH")]
    pub context_path: Option<String>,
    /// Where platforms reach this server (https://cc.example.com), for the webhook URLs
    /// it registers.
    #[arg(long, env = "SWITCHBOARD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Telegram Bot API base URL [default: https://api.telegram.org/].
    #[arg(long, env = "SWITCHBOARD_TELEGRAM_API_URL")]
    pub telegram_api_url: Option<String>,
    /// Graph API base URL of Facebook and WhatsApp, with its version
    /// [default: https://graph.facebook.com/v21.0/].
    #[arg(long, env = "SWITCHBOARD_GRAPH_API_URL")]
    pub graph_api_url: Option<String>,
    /// LINE Messaging API base URL [default: https://api.line.me/].
    #[arg(long, env = "SWITCHBOARD_LINE_API_URL")]
    pub line_api_url: Option<String>,
    /// LINE content base URL [default: https://api-data.line.me/].
    #[arg(long, env = "SWITCHBOARD_LINE_DATA_URL")]
    pub line_data_url: Option<String>,
    /// WeChat API base URL [default: https://api.weixin.qq.com/].
    #[arg(long, env = "SWITCHBOARD_WECHAT_API_URL")]
    pub wechat_api_url: Option<String>,
}

pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Base64 of 32 bytes; when absent the key lives in `<data-dir>/secret.key`.
    pub secret_key: Option<String>,
    pub node_id: u16,
    pub cookie_secure: bool,
    pub session_ttl_hours: u32,
    pub reconnect_grace_seconds: u32,
    pub log_format: LogFormat,
    pub context_path: String,
    pub public_url: Option<String>,
    pub platform_endpoints: switchboard_channels::Endpoints,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &switchboard_store::redact_url(&self.database_url),
            )
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("node_id", &self.node_id)
            .field("cookie_secure", &self.cookie_secure)
            .field("reconnect_grace_seconds", &self.reconnect_grace_seconds)
            .field("session_ttl_hours", &self.session_ttl_hours)
            .field("log_format", &self.log_format)
            .field("context_path", &self.context_path)
            .field("public_url", &self.public_url)
            .field("platform_endpoints", &self.platform_endpoints)
            .finish()
    }
}

impl Settings {
    pub fn resolve(common: &CommonFlags, serve: &ServeFlags) -> anyhow::Result<Self> {
        let file = match &common.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let data_dir = common
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let database_url = common
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("switchboard.db").display()));
        let secret_key = std::env::var("SWITCHBOARD_SECRET_KEY")
            .ok()
            .filter(|k| !k.is_empty())
            .or(file.secret_key);
        let node_id = common.node_id.or(file.node_id).unwrap_or(0);
        anyhow::ensure!(
            node_id <= switchboard_store::ids::MAX_NODE,
            "node_id must be between 0 and {}",
            switchboard_store::ids::MAX_NODE
        );
        let session_ttl_hours = serve
            .session_ttl_hours
            .or(file.session_ttl_hours)
            .unwrap_or(12);
        anyhow::ensure!(
            (1..=24 * 90).contains(&session_ttl_hours),
            "session_ttl_hours must be between 1 and 2160"
        );
        let reconnect_grace_seconds = serve
            .reconnect_grace_seconds
            .or(file.reconnect_grace_seconds)
            .unwrap_or(60);
        anyhow::ensure!(
            (1..=3600).contains(&reconnect_grace_seconds),
            "reconnect_grace_seconds must be between 1 and 3600"
        );
        let context_path = serve
            .context_path
            .clone()
            .or(file.context_path)
            .unwrap_or_else(|| "/service-cloud".into());
        check_context_path(&context_path)?;
        let public_url = serve.public_url.clone().or(file.public_url);
        if let Some(url) = &public_url {
            let parsed =
                url::Url::parse(url).with_context(|| format!("public_url '{url}' is not a URL"))?;
            anyhow::ensure!(
                matches!(parsed.scheme(), "http" | "https"),
                "public_url must be an http(s) URL, not '{url}'"
            );
        }
        let defaults = switchboard_channels::Endpoints::default();
        let endpoint = |name: &str,
                        flag: &Option<String>,
                        file: Option<String>,
                        default: url::Url| match flag.clone().or(file) {
            None => Ok(default),
            Some(text) => base_url(name, &text),
        };
        let platform_endpoints = switchboard_channels::Endpoints {
            telegram: endpoint(
                "telegram_api_url",
                &serve.telegram_api_url,
                file.telegram_api_url,
                defaults.telegram,
            )?,
            graph: endpoint(
                "graph_api_url",
                &serve.graph_api_url,
                file.graph_api_url,
                defaults.graph,
            )?,
            line: endpoint(
                "line_api_url",
                &serve.line_api_url,
                file.line_api_url,
                defaults.line,
            )?,
            line_data: endpoint(
                "line_data_url",
                &serve.line_data_url,
                file.line_data_url,
                defaults.line_data,
            )?,
            wechat: endpoint(
                "wechat_api_url",
                &serve.wechat_api_url,
                file.wechat_api_url,
                defaults.wechat,
            )?,
        };
        Ok(Self {
            public_url,
            platform_endpoints,
            listen: serve
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir,
            database_url,
            secret_key,
            node_id,
            cookie_secure: serve.cookie_secure.or(file.cookie_secure).unwrap_or(false),
            session_ttl_hours,
            reconnect_grace_seconds,
            log_format: common.log_format.or(file.log_format).unwrap_or_default(),
            context_path,
        })
    }
}

/// A platform API base URL; paths are joined to it, so it ends with `/`.
fn base_url(name: &str, text: &str) -> anyhow::Result<url::Url> {
    let with_slash = if text.ends_with('/') {
        text.to_owned()
    } else {
        format!("{text}/")
    };
    let url =
        url::Url::parse(&with_slash).with_context(|| format!("{name} '{text}' is not a URL"))?;
    anyhow::ensure!(
        matches!(url.scheme(), "http" | "https"),
        "{name} must be an http(s) URL, not '{text}'"
    );
    Ok(url)
}

/// `""` (the root) or `/segment[/segment…]` of letters, digits, `-`, `_`, `.`.
fn check_context_path(path: &str) -> anyhow::Result<()> {
    let well_formed = path.is_empty()
        || (path.starts_with('/')
            && !path.ends_with('/')
            && path[1..].split('/').all(|segment| {
                !segment.is_empty()
                    && segment
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            }));
    anyhow::ensure!(
        well_formed,
        "context_path must be empty or like /service-cloud (no trailing slash), not '{path}'"
    );
    Ok(())
}

fn read_file(path: &Path) -> anyhow::Result<FileSettings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the settings file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("in the settings file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_configuration() {
        let s = Settings::resolve(&CommonFlags::default(), &ServeFlags::default()).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            s.database_url,
            format!(
                "sqlite://{}",
                Path::new("data").join("switchboard.db").display()
            )
        );
        assert_eq!(
            (s.node_id, s.session_ttl_hours, s.cookie_secure),
            (0, 12, false)
        );
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switchboard.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/sb\"\nnode_id = 3\n",
        )
        .unwrap();
        let common = CommonFlags {
            config: Some(path),
            node_id: Some(7),
            ..CommonFlags::default()
        };
        let s = Settings::resolve(&common, &ServeFlags::default()).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(s.data_dir, PathBuf::from("/srv/sb"));
        assert_eq!(s.node_id, 7);
    }

    #[test]
    fn context_paths_are_checked() {
        for good in ["", "/service-cloud", "/a/b-c_d.e"] {
            assert!(check_context_path(good).is_ok(), "{good}");
        }
        for bad in ["service-cloud", "/service-cloud/", "//x", "/a b", "/?x"] {
            assert!(check_context_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn platform_urls_are_checked_and_end_with_a_slash() {
        let serve = ServeFlags {
            telegram_api_url: Some("http://127.0.0.1:8081/tg".into()),
            public_url: Some("https://cc.example.com".into()),
            ..ServeFlags::default()
        };
        let s = Settings::resolve(&CommonFlags::default(), &serve).unwrap();
        assert_eq!(
            s.platform_endpoints.telegram.as_str(),
            "http://127.0.0.1:8081/tg/"
        );
        assert_eq!(
            s.platform_endpoints.graph.as_str(),
            "https://graph.facebook.com/v21.0/"
        );
        for bad in [
            ServeFlags {
                line_api_url: Some("ftp://example.com".into()),
                ..ServeFlags::default()
            },
            ServeFlags {
                public_url: Some("cc.example.com".into()),
                ..ServeFlags::default()
            },
        ] {
            assert!(Settings::resolve(&CommonFlags::default(), &bad).is_err());
        }
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "lisen = \"127.0.0.1:9000\"\n").unwrap();
        let common = CommonFlags {
            config: Some(path),
            ..CommonFlags::default()
        };
        let err = Settings::resolve(&common, &ServeFlags::default()).unwrap_err();
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let mut s = Settings::resolve(&CommonFlags::default(), &ServeFlags::default()).unwrap();
        s.database_url = "postgres://app:hunter2@db/sb".into();
        s.secret_key = Some("c2VjcmV0".into());
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("c2VjcmV0"),
            "{shown}"
        );
    }
}
