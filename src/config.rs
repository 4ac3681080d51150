//! Typed configuration: defaults, `OMS_*` / `DATABASE_URL` environment, CLI flags on top.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

use axum::http::StatusCode;

use crate::auth::AuthKeys;
use crate::rate_limit::ClientRateLimit;
use crate::state::HttpSettings;
use crate::store::StoreOptions;

#[derive(Debug, Parser)]
#[command(name = "oms", version, about = "Order management server")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Config {
    /// How long a connection may stay without traffic (see `connections`).
    pub fn idle_timeout(&self) -> Duration {
        let floor = self.request_timeout.max(1) + 5;
        Duration::from_secs(self.idle_timeout.unwrap_or(floor).max(floor))
    }

    /// How long a client has to send a request head (see `connections::serve`).
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout.max(1))
    }
}

impl Cli {
    /// Parses the command line. Settings are global flags (they may follow the subcommand, as
    /// in `oms serve --bind ...`), and each subcommand's `--help` lists only those it reads.
    pub fn parse_args() -> Cli {
        let args: Vec<String> = std::env::args().collect();
        if let Some(path) = help_request(&args) {
            let mut cmd = Cli::help_per_subcommand();
            let mut shown = &mut cmd;
            for name in &path {
                shown = shown.find_subcommand_mut(name).expect("a subcommand");
            }
            let _ = shown.print_help();
            std::process::exit(0);
        }
        Cli::parse_from(args)
    }

    /// The clap command with each subcommand's settings hidden where it does not read them.
    /// Used to print help only: clap parses with the settings as global flags everywhere.
    pub fn help_per_subcommand() -> clap::Command {
        use clap::CommandFactory;
        let mut cmd = Cli::command();
        // Copies the global settings into every subcommand, so that they can be hidden there.
        cmd.build();
        let settings: Vec<String> = cmd
            .get_arguments()
            .filter(|a| a.is_global_set())
            .map(|a| a.get_id().to_string())
            .collect();
        for (name, reads) in SETTINGS_READ {
            let hidden: Vec<String> = settings
                .iter()
                .filter(|s| !reads.contains(&s.as_str()))
                .cloned()
                .collect();
            cmd = cmd.mut_subcommand(name, |sub| hide(sub, &hidden));
        }
        cmd
    }
}

fn hide(mut cmd: clap::Command, ids: &[String]) -> clap::Command {
    for id in ids {
        if cmd.get_arguments().any(|a| a.get_id() == id.as_str()) {
            cmd = cmd.mut_arg(id.as_str(), |a| a.hide(true));
        }
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |sub| hide(sub, ids));
    }
    cmd
}

/// The subcommand path whose help `args` asks for (`oms clients create --help` gives
/// `["clients", "create"]`), or `None` when it asks for no subcommand's help.
fn help_request(args: &[String]) -> Option<Vec<String>> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut path = Vec::new();
    let mut rest = args.iter().skip(1);
    for arg in rest.by_ref() {
        if arg == "-h" || arg == "--help" {
            return (!path.is_empty()).then_some(path);
        }
        if let Some(sub) = cmd.find_subcommand(arg) {
            path.push(arg.clone());
            cmd = sub.clone();
        }
    }
    None
}

/// The settings each subcommand other than `serve` (which reads them all) reads.
const SETTINGS_READ: [(&str, &[&str]); 6] = [
    (
        "migrate",
        &["database_url", "db_connect_wait", "log_format"],
    ),
    ("openapi", &[]),
    ("healthcheck", &["bind"]),
    (
        "token",
        &[
            "database_url",
            "jwt_secret",
            "jwt_secret_file",
            "jwt_issuer",
            "jwt_audience",
        ],
    ),
    (
        "clients",
        &["database_url", "db_connect_wait", "log_format"],
    ),
    ("seed", &["database_url", "db_connect_wait", "log_format"]),
];

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations and serve the API (the default).
    Serve,
    /// Apply migrations and exit.
    Migrate,
    /// Print the OpenAPI document (the one served at /openapi.json).
    Openapi,
    /// Exit 0 when the server on OMS_BIND answers /healthz (for container health checks).
    Healthcheck,
    /// Print a bearer token for this configuration (signed with the server's secret).
    Token {
        /// The tenant the token acts for.
        #[arg(long, value_parser = parse_client_id)]
        client_id: String,
        /// Space-separated scopes (orders:read orders:write orders:fulfil); absent means all.
        #[arg(long, value_parser = parse_scopes)]
        scope: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
        ttl: u64,
    },
    /// Manage API clients: the keys and secrets that get tokens from POST /oauth/token and
    /// POST /auth/api/v1/token.
    Clients {
        #[command(subcommand)]
        action: ClientsCommand,
    },
    /// Insert generated orders (statuses, brands, 1-5 lines, tags; dated over the last two
    /// years) for benchmarks and demos. Tenants are 1000, 1001, ...
    Seed {
        /// How many orders to insert.
        #[arg(long)]
        orders: u64,
        /// How many tenants share them (client ids 1000, 1001, ...).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "client_id")]
        clients: u32,
        /// Every order for this tenant instead (the client id your tokens carry).
        #[arg(long, value_parser = parse_client_id)]
        client_id: Option<String>,
        /// Date the orders over this many days before today (searches without a date
        /// criterion see the last six months).
        #[arg(long, default_value_t = crate::seed::SPAN_DAYS, value_parser = clap::value_parser!(i64).range(1..=3650))]
        days: i64,
        /// Orders per transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        batch: u64,
        /// Generator seed: the same seed on the same day gives the same orders (a second run
        /// with the same seed on the same database conflicts). Random when absent.
        #[arg(long)]
        seed: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Create a key for a tenant and print it with its secret (shown this once only).
    Create {
        /// The tenant the key's tokens act for.
        #[arg(long, value_parser = parse_client_id)]
        client_id: String,
        /// A label for operators.
        #[arg(long)]
        name: Option<String>,
        /// Space-separated scopes its tokens carry (orders:read orders:write orders:fulfil); absent means all.
        #[arg(long, value_parser = parse_scopes)]
        scope: Option<String>,
        /// Print one JSON object {"key", "secret", "clientId"}.
        #[arg(long)]
        json: bool,
    },
    /// List every key (never a secret).
    List,
    /// Revoke a key: it gets no more tokens, and the tokens it got are refused.
    Revoke { key: String },
    /// Give a key a new secret; the old one keeps working for the grace period.
    Rotate {
        key: String,
        /// How long the previous secret keeps working, in seconds.
        #[arg(long, default_value_t = 86_400)]
        grace: u32,
        /// Print one JSON object {"key", "secret", "clientId"}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JwtAlgorithm {
    #[value(name = "HS256")]
    Hs256,
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "ES256")]
    Es256,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(
        long,
        env = "OMS_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,
    /// sqlite://FILE (created if missing) or postgres://...
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://oms.db",
        global = true
    )]
    pub database_url: SecretString,
    /// HS256 secret; generated and kept beside the SQLite file when absent.
    #[arg(long, env = "OMS_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<SecretString>,
    /// The HS256 secret before a rotation: tokens signed with it are accepted until they
    /// expire, new ones are signed with OMS_JWT_SECRET.
    #[arg(
        long,
        env = "OMS_JWT_SECRET_PREVIOUS",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret_previous: Option<SecretString>,
    /// File holding the HS256 secret, generated (mode 0600) when absent; by default the file
    /// beside the SQLite database.
    #[arg(long, env = "OMS_JWT_SECRET_FILE", global = true)]
    pub jwt_secret_file: Option<PathBuf>,
    /// How tokens are signed: HS256 with the secret, or RS256/ES256 with a public key.
    #[arg(
        long,
        env = "OMS_JWT_ALGORITHM",
        value_enum,
        default_value = "HS256",
        global = true
    )]
    pub jwt_algorithm: JwtAlgorithm,
    /// An http:// or https:// URL of the external issuer's JWKS, for RS256/ES256 instead of a
    /// PEM key: keys are fetched and cached by kid, and fetched again (at most once a minute)
    /// when a token names an unknown kid.
    #[arg(long, env = "OMS_JWT_JWKS_URL", global = true)]
    pub jwt_jwks_url: Option<String>,
    /// PEM file of CA certificates also trusted for an https OMS_JWT_JWKS_URL, beside the
    /// public roots compiled in (for an issuer with a private CA).
    #[arg(long, env = "OMS_JWT_JWKS_CA_FILE", global = true)]
    pub jwt_jwks_ca_file: Option<PathBuf>,
    /// PEM public key file, for RS256/ES256.
    #[arg(long, env = "OMS_JWT_PUBLIC_KEY", global = true)]
    pub jwt_public_key: Option<PathBuf>,
    /// The `iss` tokens must carry, and the one oms puts on those it issues.
    #[arg(long, env = "OMS_JWT_ISSUER", default_value = "oms", global = true)]
    pub jwt_issuer: String,
    /// When set, tokens must carry this `aud`.
    #[arg(long, env = "OMS_JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,
    /// PostgreSQL pool size (default 10); for SQLite the readers (default two per core, at
    /// most 10), as writes go through one connection.
    #[arg(long, env = "OMS_DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<u32>,
    /// Seconds to wait for a database connection before answering 503.
    #[arg(
        long,
        env = "OMS_DB_ACQUIRE_TIMEOUT",
        default_value_t = 3,
        global = true
    )]
    pub db_acquire_timeout: u64,
    /// Seconds start-up waits for a PostgreSQL that does not answer yet, retrying.
    #[arg(long, env = "OMS_DB_CONNECT_WAIT", default_value_t = 60, global = true)]
    pub db_connect_wait: u64,
    /// Log lines as text for people, or as JSON for collectors.
    #[arg(
        long,
        env = "OMS_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
    /// Seconds in-flight requests get to finish after SIGTERM / Ctrl-C.
    #[arg(long, env = "OMS_SHUTDOWN_GRACE", default_value_t = 20, global = true)]
    pub shutdown_grace: u64,
    /// Seconds a request may take before it is answered with OMS_TIMEOUT_STATUS.
    #[arg(long, env = "OMS_REQUEST_TIMEOUT", default_value_t = 30, global = true)]
    pub request_timeout: u64,
    /// Most connections open at once; beyond it the server stops accepting until one closes.
    #[arg(
        long,
        env = "OMS_MAX_CONNECTIONS",
        default_value_t = 512,
        global = true
    )]
    pub max_connections: usize,
    /// Seconds a connection may stay without traffic either way before it is closed; at least
    /// the request timeout plus 5 s (the default).
    #[arg(long, env = "OMS_IDLE_TIMEOUT", global = true)]
    pub idle_timeout: Option<u64>,
    /// Seconds a client has to send a whole request head (request line and headers), however
    /// steadily it trickles; also how long a keep-alive connection waits for its next request.
    #[arg(
        long,
        env = "OMS_HEADER_READ_TIMEOUT",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub header_read_timeout: u64,
    /// 408 or 503 for a request that timed out.
    #[arg(long, env = "OMS_TIMEOUT_STATUS", default_value_t = 408, global = true)]
    pub timeout_status: u16,
    /// Requests served at once; beyond it the server answers 503 at once instead of queueing.
    #[arg(
        long,
        env = "OMS_MAX_CONCURRENCY",
        default_value_t = 1024,
        global = true
    )]
    pub max_concurrency: usize,
    /// Lifetime in seconds of tokens from POST /oauth/token (the Fulfillment family).
    #[arg(long, env = "OMS_TOKEN_TTL_FULFILLMENT", default_value_t = 36_000, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub token_ttl_fulfillment: u64,
    /// Lifetime in seconds of tokens from POST /auth/api/v1/token (SendPro360).
    #[arg(long, env = "OMS_TOKEN_TTL_SENDPRO", default_value_t = 14_400, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub token_ttl_sendpro: u64,
    /// Per-client requests per second (token bucket); 0 turns rate limiting off.
    #[arg(long, env = "OMS_RATE_LIMIT", default_value_t = 0.0, global = true)]
    pub rate_limit: f64,
    /// Bucket size: requests a client may send at once before the rate applies.
    #[arg(
        long,
        env = "OMS_RATE_LIMIT_BURST",
        default_value_t = 50,
        global = true
    )]
    pub rate_limit_burst: u32,
    /// Comma-separated origins allowed by CORS; empty turns CORS off.
    #[arg(long, env = "OMS_CORS_ORIGINS", global = true)]
    pub cors_origins: Option<String>,
    /// Allow webhook endpoints on loopback, private and link-local addresses (development,
    /// tests); refused otherwise.
    #[arg(long, env = "OMS_WEBHOOKS_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub webhooks_allow_private: bool,
    /// Run the webhook dispatcher in this process (`oms serve`).
    #[arg(long, env = "OMS_WEBHOOKS_DISPATCH", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub webhooks_dispatch: bool,
    /// Seconds one webhook delivery attempt may take.
    #[arg(long, env = "OMS_WEBHOOKS_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub webhooks_timeout: u64,
    /// Milliseconds before the first retry of a failed delivery; each next pause doubles.
    #[arg(long, env = "OMS_WEBHOOKS_RETRY_BASE_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub webhooks_retry_base_ms: u64,
    /// Longest pause between two attempts, in milliseconds.
    #[arg(long, env = "OMS_WEBHOOKS_RETRY_MAX_MS", default_value_t = 3_600_000, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub webhooks_retry_max_ms: u64,
    /// Seconds a failing delivery is retried before its endpoint is disabled.
    #[arg(long, env = "OMS_WEBHOOKS_RETRY_FOR", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub webhooks_retry_for: u64,
    /// Milliseconds between two looks for due deliveries when there is nothing to send.
    #[arg(long, env = "OMS_WEBHOOKS_POLL_MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(10..), global = true)]
    pub webhooks_poll_ms: u64,
    /// Days finished webhook deliveries and their log are kept.
    #[arg(long, env = "OMS_WEBHOOKS_KEEP_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub webhooks_keep_days: u64,
    /// Webhook deliveries one process has in flight at once.
    #[arg(long, env = "OMS_WEBHOOKS_CONCURRENCY", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024), global = true)]
    pub webhooks_concurrency: u32,
}

impl Config {
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            max_connections: self.db_max_connections,
            acquire_timeout: Duration::from_secs(self.db_acquire_timeout.max(1)),
            connect_wait: Duration::from_secs(self.db_connect_wait),
            statement_timeout: Duration::from_secs(self.request_timeout.max(1)),
        }
    }

    pub fn http_settings(&self) -> anyhow::Result<HttpSettings> {
        let timeout_status = match self.timeout_status {
            408 => StatusCode::REQUEST_TIMEOUT,
            503 => StatusCode::SERVICE_UNAVAILABLE,
            other => anyhow::bail!("OMS_TIMEOUT_STATUS must be 408 or 503 (got {other})"),
        };
        let rate_limiter =
            ClientRateLimit::new(self.rate_limit, self.rate_limit_burst).map(Arc::new);
        Ok(HttpSettings {
            request_timeout: Duration::from_secs(self.request_timeout.max(1)),
            timeout_status,
            max_concurrency: self.max_concurrency.max(1),
            rate_limiter,
            cors_origins: self
                .cors_origins
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_string)
                .collect(),
            token_lifetimes: crate::service::tokens::TokenLifetimes {
                fulfillment: Duration::from_secs(self.token_ttl_fulfillment),
                sendpro: Duration::from_secs(self.token_ttl_sendpro),
            },
            webhooks: self.webhook_settings(),
        })
    }

    pub fn webhook_settings(&self) -> crate::webhooks::WebhookSettings {
        crate::webhooks::WebhookSettings {
            allow_private: self.webhooks_allow_private,
            timeout: Duration::from_secs(self.webhooks_timeout),
            retry_base: Duration::from_millis(self.webhooks_retry_base_ms),
            retry_max: Duration::from_millis(self.webhooks_retry_max_ms),
            retry_for: Duration::from_secs(self.webhooks_retry_for),
            poll: Duration::from_millis(self.webhooks_poll_ms),
            concurrency: self.webhooks_concurrency as usize,
            dispatch: self.webhooks_dispatch,
            keep: Duration::from_secs(self.webhooks_keep_days * 24 * 3600),
        }
    }

    /// Refuses a database URL no backend takes, before anything else is read or opened.
    pub fn check_database_url(&self) -> anyhow::Result<()> {
        let url = self.database_url();
        let known = ["sqlite:", "postgres://", "postgresql://"];
        if known.iter().any(|scheme| url.starts_with(scheme)) {
            return Ok(());
        }
        anyhow::bail!(
            "the database URL {} is not one oms can use: it must start with sqlite: (a file, \
             for example sqlite://oms.db) or postgres:// (set --database-url or DATABASE_URL)",
            self.redacted_database_url()
        )
    }

    /// The SQLite database file, for a `sqlite:` URL naming a file.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let url = self.database_url();
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() || path.contains(":memory:") {
            return None;
        }
        Some(PathBuf::from(path))
    }

    /// The keys `oms token` signs with: the server's. With the generated secret that is the
    /// file beside the server's database, so a database that does not exist here means the
    /// command runs somewhere else than the server, and a token it signed would be refused.
    pub fn token_keys(&self) -> anyhow::Result<AuthKeys> {
        self.check_database_url()?;
        let generated = self.jwt_secret.is_none()
            && self.jwt_secret_file.is_none()
            && self.jwt_algorithm == JwtAlgorithm::Hs256;
        if let (true, Some(db)) = (generated, self.sqlite_file())
            && !db.exists()
        {
            let shown = std::path::absolute(&db).unwrap_or(db);
            anyhow::bail!(
                "no SQLite database at {}: `oms token` signs with the secret kept beside the \
                 server's database. Run it from the directory the server runs in, or pass the \
                 server's --database-url (or DATABASE_URL), or set OMS_JWT_SECRET",
                shown.display()
            );
        }
        self.auth_keys()
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }

    /// The file the generated secret lives in: `OMS_JWT_SECRET_FILE`, else beside the SQLite
    /// database.
    pub fn secret_file(&self) -> Option<PathBuf> {
        if let Some(file) = &self.jwt_secret_file {
            return Some(file.clone());
        }
        let mut file = self.sqlite_file()?.into_os_string();
        file.push(".jwt-secret");
        Some(PathBuf::from(file))
    }

    /// The verification keys, generating the SQLite-side secret on first use.
    pub fn auth_keys(&self) -> anyhow::Result<AuthKeys> {
        let audience = self.jwt_audience.as_deref();
        let algorithm = match self.jwt_algorithm {
            JwtAlgorithm::Hs256 => None,
            JwtAlgorithm::Rs256 => Some(jsonwebtoken::Algorithm::RS256),
            JwtAlgorithm::Es256 => Some(jsonwebtoken::Algorithm::ES256),
        };
        if let (Some(algorithm), Some(url)) = (algorithm, &self.jwt_jwks_url) {
            let jwks = crate::jwks::Jwks::with_ca_file(
                url,
                crate::jwks::REFETCH_AT_MOST_EVERY,
                self.jwt_jwks_ca_file.as_deref(),
            )?;
            return AuthKeys::jwks(algorithm, jwks, &self.jwt_issuer, audience);
        }
        if let Some(algorithm) = algorithm {
            let path = self
                .jwt_public_key
                .as_ref()
                .context("OMS_JWT_PUBLIC_KEY or OMS_JWT_JWKS_URL is required with RS256/ES256")?;
            let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            return AuthKeys::public_key(algorithm, &pem, &self.jwt_issuer, audience);
        }
        let secret = match self.jwt_secret.as_ref().map(ExposeSecret::expose_secret) {
            Some(PLACEHOLDER_SECRET) => anyhow::bail!(
                "OMS_JWT_SECRET is still the example placeholder, which anyone can read; set a \
                 secret of your own (for example `openssl rand -hex 32`), or leave it unset and \
                 set OMS_JWT_SECRET_FILE to have one generated"
            ),
            Some(s) if s.len() >= 16 => s.to_string(),
            Some(_) => anyhow::bail!("OMS_JWT_SECRET must be at least 16 bytes"),
            None => {
                let file = self.secret_file().context(
                    "OMS_JWT_SECRET or OMS_JWT_SECRET_FILE is required unless the database is \
                     a SQLite file",
                )?;
                load_or_create_secret(&file)?
            }
        };
        let previous = self
            .jwt_secret_previous
            .as_ref()
            .map(ExposeSecret::expose_secret);
        Ok(AuthKeys::hs256_rotated(
            secret.as_bytes(),
            previous.map(str::as_bytes),
            &self.jwt_issuer,
            audience,
        ))
    }

    /// Printable form with the database password hidden.
    pub fn redacted_database_url(&self) -> String {
        let url = self.database_url();
        match (url.find("://"), url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let creds = &url[scheme + 3..at];
                match creds.split_once(':') {
                    Some((user, _)) => {
                        format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
                    }
                    None => url.to_string(),
                }
            }
            _ => url.to_string(),
        }
    }

    /// The database URL, password and all: for connecting, never for printing.
    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }
}

/// The secret an earlier compose file shipped as an example.
const PLACEHOLDER_SECRET: &str = "change-me-to-a-long-random-secret";

fn load_or_create_secret(file: &Path) -> anyhow::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(file) {
        let s = existing.trim().to_string();
        if !s.is_empty() {
            return Ok(s);
        }
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    write_private(file, &secret).with_context(|| format!("writing {}", file.display()))?;
    tracing::info!(file = %file.display(), "generated a JWT secret");
    Ok(secret)
}

/// A client id as tokens carry it: not empty, no white space or control characters.
fn parse_client_id(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".into());
    }
    if value.len() > crate::auth::MAX_CLIENT_ID_LEN {
        return Err(format!(
            "must be at most {} bytes",
            crate::auth::MAX_CLIENT_ID_LEN
        ));
    }
    Ok(value.to_string())
}

/// Space-separated scopes, each one the server knows.
fn parse_scopes(value: &str) -> Result<String, String> {
    let known = crate::auth::ALL_SCOPES;
    let scopes: Vec<&str> = value.split_whitespace().collect();
    if scopes.is_empty() {
        return Err(format!("name at least one of: {}", known.join(", ")));
    }
    if let Some(unknown) = scopes.iter().find(|s| !known.contains(s)) {
        return Err(format!(
            "unknown scope {unknown:?}; the scopes are: {}",
            known.join(", ")
        ));
    }
    Ok(scopes.join(" "))
}

#[cfg(unix)]
fn write_private(file: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(file: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(file, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn help_of(path: &[&str]) -> String {
        let mut cmd = Cli::help_per_subcommand();
        let mut shown = &mut cmd;
        for name in path {
            shown = shown.find_subcommand_mut(name).unwrap();
        }
        shown.render_help().to_string()
    }

    #[test]
    fn each_subcommand_help_lists_only_the_settings_it_reads() {
        let health = help_of(&["healthcheck"]);
        assert!(health.contains("--bind"));
        assert!(!health.contains("--database-url") && !health.contains("--rate-limit"));
        let token = help_of(&["token"]);
        assert!(token.contains("--jwt-secret") && token.contains("--client-id"));
        assert!(!token.contains("--bind") && !token.contains("--cors-origins"));
        let create = help_of(&["clients", "create"]);
        assert!(create.contains("--database-url") && !create.contains("--jwt-secret"));
        assert!(!help_of(&["openapi"]).contains("--database-url"));
        let serve = help_of(&["serve"]);
        for flag in [
            "--bind",
            "--database-url",
            "--jwt-secret",
            "--rate-limit",
            "--cors-origins",
        ] {
            assert!(serve.contains(flag), "{flag}");
        }
    }

    #[test]
    fn every_flag_has_a_description() {
        let cmd = Cli::help_per_subcommand();
        for arg in cmd.get_arguments() {
            assert!(
                arg.get_help().is_some(),
                "--{} has no description",
                arg.get_id()
            );
        }
    }

    #[test]
    fn help_requests_name_the_subcommand_asked_about() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            help_request(&args(&["oms", "clients", "create", "--help"])),
            Some(args(&["clients", "create"]))
        );
        assert_eq!(
            help_request(&args(&["oms", "--bind", "x", "token", "-h"])),
            Some(args(&["token"]))
        );
        assert_eq!(help_request(&args(&["oms", "--help"])), None);
        assert_eq!(help_request(&args(&["oms", "serve"])), None);
    }

    fn config(url: &str) -> Config {
        Cli::parse_from(["oms", "--database-url", url]).config
    }

    #[test]
    fn secret_sits_beside_the_sqlite_file() {
        assert_eq!(
            config("sqlite://data/oms.db?mode=rwc").secret_file(),
            Some(PathBuf::from("data/oms.db.jwt-secret"))
        );
        assert_eq!(config("postgres://u:p@h/db").secret_file(), None);
    }

    #[test]
    fn the_previous_secret_is_accepted_and_never_shown() {
        let with = |args: &[&str]| {
            let base = ["oms", "--database-url", "postgres://u@h/db", "--jwt-secret"];
            Cli::parse_from([&base[..], args].concat())
        };
        let old = with(&["old-signing-key-0123"]).config.auth_keys().unwrap();
        let token = old.issue("c1", None, 60).unwrap();
        let rotated = with(&[
            "new-signing-key-0123",
            "--jwt-secret-previous",
            "old-signing-key-0123",
        ]);
        assert!(!format!("{rotated:?}").contains("old-signing-key-0123"));
        assert!(rotated.config.auth_keys().unwrap().verify(&token).is_ok());
        let new_only = with(&["new-signing-key-0123"]).config.auth_keys().unwrap();
        assert!(new_only.verify(&token).is_err());
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let cli = Cli::parse_from([
            "oms",
            "--database-url",
            "postgres://u:hunter2@h/db",
            "--jwt-secret",
            "a-very-secret-signing-key",
        ]);
        let shown = format!("{cli:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("a-very-secret-signing-key"), "{shown}");
        assert_eq!(cli.config.database_url(), "postgres://u:hunter2@h/db");
    }

    #[test]
    fn only_urls_a_backend_takes_are_accepted() {
        assert!(config("sqlite://oms.db").check_database_url().is_ok());
        assert!(config("postgres://u@h/db").check_database_url().is_ok());
        let err = config("mysql://u:pw@h/db")
            .check_database_url()
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("mysql://u:***@h/db"), "{text}");
        assert!(!text.contains("pw@"), "{text}");
    }

    #[test]
    fn a_token_needs_the_servers_database_when_the_secret_is_generated() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("missing.db");
        let err = config(&format!("sqlite://{}", db.display()))
            .token_keys()
            .err()
            .expect("refused");
        assert!(err.to_string().contains(&db.display().to_string()), "{err}");
        assert!(
            !dir.path().join("missing.db.jwt-secret").exists(),
            "no secret made"
        );
        std::fs::write(&db, b"").unwrap();
        assert!(
            config(&format!("sqlite://{}", db.display()))
                .token_keys()
                .is_ok()
        );
    }

    #[test]
    fn token_arguments_are_checked() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["oms", "token"], args].concat());
        assert!(parse(&["--client-id", "1234"]).is_ok());
        assert!(parse(&["--client-id", ""]).is_err());
        assert!(parse(&["--client-id", "a b"]).is_err());
        assert!(parse(&["--client-id", "1234", "--ttl", "0"]).is_err());
        assert!(parse(&["--client-id", "1234", "--scope", "orders:raed"]).is_err());
        assert!(parse(&["--client-id", "1234", "--scope", "orders:read orders:write"]).is_ok());
        assert!(parse(&["--client-id", "1234", "--scope", "orders:fulfil"]).is_ok());
    }

    #[test]
    fn the_example_placeholder_secret_is_refused_and_a_secret_file_is_generated() {
        let placeholder = Cli::parse_from(["oms", "--jwt-secret", PLACEHOLDER_SECRET]);
        let err = placeholder.config.auth_keys().err().expect("refused");
        assert!(err.to_string().contains("placeholder"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jwt-secret");
        let cli = Cli::parse_from([
            "oms",
            "--database-url",
            "postgres://u@h/db",
            "--jwt-secret-file",
            file.to_str().unwrap(),
        ]);
        let token = cli
            .config
            .token_keys()
            .unwrap()
            .issue("1234", None, 60)
            .unwrap();
        assert!(file.exists());
        assert_eq!(
            cli.config
                .auth_keys()
                .unwrap()
                .verify(&token)
                .unwrap()
                .client_id,
            "1234"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            config("postgres://user:hunter2@db:5432/oms").redacted_database_url(),
            "postgres://user:***@db:5432/oms"
        );
    }

    #[test]
    fn generated_secret_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.db.jwt-secret");
        let a = load_or_create_secret(&file).unwrap();
        let b = load_or_create_secret(&file).unwrap();
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
