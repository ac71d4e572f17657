//! Prints the `Authorization` value for a request, signed the auth-v2 way. The same
//! arguments as `sign.py` beside it; for the web chat loader:
//!
//! ```sh
//! cargo run -p auth-v2-signer -- --access-key 869525871671777281 --secret-key "$KEY" \
//!     --header host=cc.example.com --body '{"thirdUserName":"Zhang San",…}'
//! ```

use std::io::Read;

use anyhow::Context;
use clap::Parser;
use switchboard_domain::auth_v2::{format_timestamp, sign, Canonical};

#[derive(Parser)]
struct Args {
    /// The channelConfigId, for the web chat loader.
    #[arg(long)]
    access_key: String,
    /// The channel's third-party authentication key.
    #[arg(long)]
    secret_key: String,
    #[arg(long, default_value = "POST")]
    method: String,
    #[arg(
        long,
        default_value = "/service-cloud/webclient/chat_client/js/newThirdPartyClient.js"
    )]
    uri: String,
    /// A query parameter NAME=VALUE (repeatable).
    #[arg(long)]
    query: Vec<String>,
    /// A signed header NAME=VALUE (repeatable, at least one).
    #[arg(long, required = true)]
    header: Vec<String>,
    /// The payload; read from standard input if omitted.
    #[arg(long)]
    body: Option<String>,
    /// yyyy-MM-ddTHH:mm:ss.SSSZ; now if omitted.
    #[arg(long)]
    timestamp: Option<String>,
}

fn pairs(items: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|item| {
            let (name, value) = item
                .split_once('=')
                .with_context(|| format!("'{item}' is not NAME=VALUE"))?;
            Ok((name.to_owned(), value.to_owned()))
        })
        .collect()
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let body = match args.body {
        Some(body) => body,
        None => {
            let mut body = String::new();
            std::io::stdin().read_to_string(&mut body)?;
            body
        }
    };
    let request = Canonical {
        method: args.method,
        uri: args.uri,
        query: pairs(&args.query)?,
        headers: pairs(&args.header)?,
        body,
    };
    let timestamp = args
        .timestamp
        .unwrap_or_else(|| format_timestamp(chrono::Utc::now()));
    println!(
        "{}",
        sign(&args.access_key, &args.secret_key, &timestamp, &request)
    );
    Ok(())
}
