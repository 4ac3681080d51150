use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use oms::config::{Cli, Command, Config};
use oms::service::OrderService;
use oms::{AppState, app, store, telemetry};

// See Cargo.toml: less allocator CPU per request and a steadier RSS than glibc malloc.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A failure is one line on stderr, its causes after colons, and exit status 1: most are a
/// user's mistake (a wrong URL, a missing file), where a backtrace would only bury the cause.
#[tokio::main]
async fn main() -> ExitCode {
    let mut cli = Cli::parse_args();
    let command = cli.command.take().unwrap_or(Command::Serve);
    let filter = match command {
        Command::Seed { .. } => telemetry::SEED_FILTER,
        _ => telemetry::SERVE_FILTER,
    };
    let _log = telemetry::init(cli.config.log_format, filter);
    match run(command, &cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, cli: &Cli) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(&cli.config).await,
        Command::Migrate => {
            cli.config.check_database_url()?;
            let store =
                store::connect(cli.config.database_url(), &cli.config.store_options()).await?;
            store.close().await;
            tracing::info!(database = %cli.config.redacted_database_url(), "migrations applied");
            Ok(())
        }
        Command::Openapi => {
            use std::io::Write;
            // A closed pipe (`oms openapi | head`) is the reader's choice, not an error.
            let _ = writeln!(std::io::stdout(), "{}", oms::http::openapi::document_json());
            Ok(())
        }
        Command::Healthcheck => healthcheck(&cli.config).await,
        Command::Token {
            client_id,
            scope,
            ttl,
        } => {
            let keys = cli.config.token_keys()?;
            println!("{}", keys.issue(&client_id, scope.as_deref(), ttl)?);
            Ok(())
        }
        Command::Clients { action } => {
            cli.config.check_database_url()?;
            let store = store::connect(cli.config.database_url(), &cli.config.store_options())
                .await
                .with_context(|| format!("opening {}", cli.config.redacted_database_url()))?;
            let printed = oms::clients_cli::run(store.clone(), action).await;
            store.close().await;
            print!("{}", printed?);
            Ok(())
        }
        Command::Seed {
            orders,
            clients,
            client_id,
            days,
            batch,
            seed,
        } => {
            cli.config.check_database_url()?;
            let options = oms::seed::SeedOptions {
                orders,
                clients,
                client_id,
                days,
                batch: batch as usize,
                seed: seed.unwrap_or_else(rand::random),
                writers: 2,
            };
            let store = store::connect(cli.config.database_url(), &cli.config.store_options())
                .await
                .with_context(|| format!("opening {}", cli.config.redacted_database_url()))?;
            let report = oms::seed::run(store.clone(), &options).await;
            store.close().await;
            let report = report?;
            println!(
                "seeded {} orders for {} client(s) with seed {} in {:.1?} ({:.0} orders/s)",
                report.orders,
                options.clients,
                options.seed,
                report.elapsed,
                report.orders as f64 / report.elapsed.as_secs_f64().max(1e-9)
            );
            Ok(())
        }
    }
}

/// For container health checks without curl: GET /healthz on the configured address.
async fn healthcheck(config: &Config) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut addr = config.bind;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let check = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        anyhow::Ok(response)
    };
    let url = format!("http://{addr}/healthz");
    let response = tokio::time::timeout(Duration::from_secs(5), check)
        .await
        .with_context(|| format!("health check of {url}: no answer within 5 s"))?
        .with_context(|| format!("health check of {url}"))?;
    let status_line = String::from_utf8_lossy(&response);
    anyhow::ensure!(
        status_line.starts_with("HTTP/1.0 200") || status_line.starts_with("HTTP/1.1 200"),
        "health check of {url}: {}",
        status_line.lines().next().unwrap_or("no response")
    );
    Ok(())
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    config.check_database_url()?;
    let signals = Signals::install();
    // The database first: a SQLite file that cannot be opened explains a secret that cannot be
    // written beside it.
    let store = store::connect(config.database_url(), &config.store_options())
        .await
        .with_context(|| format!("opening {}", config.redacted_database_url()))?;
    let auth = config.auth_keys()?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    tracing::info!(
        bind = %listener.local_addr()?,
        database = %config.redacted_database_url(),
        "oms listening; get a token with: oms token --client-id <ID>"
    );
    let settings = config.http_settings()?;
    // Tokens live at most this long (plus the verifier's leeway), so older revocations can
    // have no live token left to refuse.
    let lookback = settings
        .token_lifetimes
        .fulfillment
        .max(settings.token_lifetimes.sendpro)
        + Duration::from_secs(120);
    let dispatcher = settings.webhooks.dispatch.then(|| {
        tokio::spawn(oms::webhooks::dispatcher::run(
            store.clone(),
            settings.webhooks.clone(),
        ))
    });
    let state = AppState::with_settings(store.clone(), auth, settings);
    let purge = tokio::spawn(purge_idempotency_records(state.orders.clone()));
    let revocations = tokio::spawn(oms::revocation::keep_fresh(
        store.clone(),
        state.revoked.clone(),
        lookback,
    ));
    let grace = Duration::from_secs(config.shutdown_grace);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let listener = oms::connections::GuardedListener::new(
        listener,
        config.max_connections,
        config.idle_timeout(),
    );
    // The peer's address reaches handlers as `ConnectInfo`: it feeds the token endpoints'
    // per-address limit on failed secrets.
    let server = oms::connections::serve(
        listener,
        app(state),
        config.header_read_timeout(),
        async move {
            shutdown_signal(signals).await;
            let _ = stop_tx.send(true);
        },
    );
    let mut server = std::pin::pin!(server);
    let mut stop = stop_rx;
    tokio::select! {
        () = &mut server => {}
        _ = stop.wait_for(|s| *s) => {
            // Stop accepting at once; in-flight requests get the grace period to finish.
            if tokio::time::timeout(grace, &mut server).await.is_err() {
                tracing::warn!(?grace, "grace period over; closing with requests in flight");
            }
        }
    }
    purge.abort();
    revocations.abort();
    if let Some(dispatcher) = dispatcher {
        dispatcher.abort();
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Every ten minutes, the idempotency records past their 24 hours go (the first pass a minute
/// after start, so a restart loop does not hammer the database). A failed pass is logged and
/// retried at the next tick: a record that stays a little longer changes no answer, because a
/// create checks the age of the record it finds.
async fn purge_idempotency_records(orders: OrderService) {
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(60),
        Duration::from_secs(600),
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match orders.purge_expired_idempotency().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired idempotency records purged"),
            Err(error) => tracing::warn!(?error, "purging expired idempotency records failed"),
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed by the caller before the server
/// announces itself, so a signal can never arrive while nobody listens for it; a handler that
/// could not be installed waits forever rather than reading as a signal.
async fn shutdown_signal(signals: Signals) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match signals.term {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(not(unix))]
    term: Option<tokio::sync::mpsc::Receiver<()>>,
}

impl Signals {
    fn install() -> Signals {
        #[cfg(unix)]
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        #[cfg(not(unix))]
        let term = None;
        Signals { term }
    }
}
