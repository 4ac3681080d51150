//! oha sends the same headers and body on every request, so it cannot create orders with unique
//! transaction ids. This closed-loop driver does what oha does (N keep-alive connections, each
//! sending its next request as soon as the previous answer is read, for a fixed time) and replaces
//! `{n}` in the headers and body with a number unique to the request.
//!
//! ```text
//! oms-loadgen URL [-m POST] [-H 'Name: value'...] [-D body-file] [-c 16] [-z 20] [--threads 2]
//!             [--prefix RUNID] [--paths FILE]
//! ```
//! With `--paths`, request number `n` goes to line `n mod lines` of FILE (a path and query on
//! URL's host), so that consecutive requests address different orders.
//! Prints one JSON object: requests, seconds, rps, p50_ms, p99_ms, max_ms and a count per status.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

struct Options {
    url: String,
    method: String,
    headers: Vec<(String, String)>,
    body: String,
    connections: usize,
    seconds: u64,
    threads: usize,
    prefix: String,
    paths: Vec<String>,
}

fn usage() -> ! {
    eprintln!(
        "usage: oms-loadgen URL [-m METHOD] [-H 'Name: value']... [-D BODY_FILE] [-c CONNECTIONS] \
         [-z SECONDS] [--threads N] [--prefix TEXT] [--paths FILE]"
    );
    std::process::exit(2)
}

fn parse() -> Options {
    let mut o = Options {
        url: String::new(),
        method: "GET".into(),
        headers: Vec::new(),
        body: String::new(),
        connections: 16,
        seconds: 20,
        threads: 2,
        prefix: format!("{:x}", std::process::id()),
        paths: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "-m" => o.method = value(),
            "-H" => {
                let h = value();
                let (name, v) = h.split_once(':').unwrap_or_else(|| usage());
                o.headers
                    .push((name.trim().to_string(), v.trim().to_string()));
            }
            "-D" => {
                o.body = std::fs::read_to_string(value()).unwrap_or_else(|e| {
                    eprintln!("cannot read the body file: {e}");
                    std::process::exit(2)
                })
            }
            "-c" => o.connections = value().parse().unwrap_or_else(|_| usage()),
            "-z" => o.seconds = value().parse().unwrap_or_else(|_| usage()),
            "--threads" => o.threads = value().parse().unwrap_or_else(|_| usage()),
            "--prefix" => o.prefix = value(),
            "--paths" => {
                o.paths = std::fs::read_to_string(value())
                    .unwrap_or_else(|e| {
                        eprintln!("cannot read the paths file: {e}");
                        std::process::exit(2)
                    })
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string)
                    .collect()
            }
            _ if o.url.is_empty() && !a.starts_with('-') => o.url = a,
            _ => usage(),
        }
    }
    if o.url.is_empty() {
        usage()
    }
    o
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    statuses: BTreeMap<String, u64>,
}

fn main() {
    let o = Arc::new(parse());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(o.threads.max(1))
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(o));
}

async fn run(o: Arc<Options>) {
    let url: hyper::Uri = o.url.parse().unwrap_or_else(|_| usage());
    let authority = url.authority().expect("URL with host:port").to_string();
    let path = url
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(o.seconds);
    let mut workers = Vec::new();
    for _ in 0..o.connections {
        let (o, counter, authority, path) =
            (o.clone(), counter.clone(), authority.clone(), path.clone());
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let stream = tokio::net::TcpStream::connect(&authority)
                .await
                .expect("connect");
            stream.set_nodelay(true).ok();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .expect("HTTP/1.1 handshake");
            tokio::spawn(conn);
            while Instant::now() < deadline {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let n = format!("{}{i}", o.prefix);
                let target = if o.paths.is_empty() {
                    path.as_str()
                } else {
                    o.paths[(i % o.paths.len() as u64) as usize].as_str()
                };
                let mut req = Request::builder()
                    .method(o.method.as_str())
                    .uri(target)
                    .header("host", authority.as_str());
                for (name, value) in &o.headers {
                    req = req.header(name.as_str(), value.replace("{n}", &n));
                }
                let body = Bytes::from(o.body.replace("{n}", &n));
                let req = req.body(Full::new(body)).expect("request");
                let t0 = Instant::now();
                let status = match sender.send_request(req).await {
                    Ok(resp) => {
                        let status = resp.status().as_u16().to_string();
                        match resp.into_body().collect().await {
                            Ok(_) => status,
                            Err(_) => "body-error".to_string(),
                        }
                    }
                    Err(_) => "connection-error".to_string(),
                };
                tally.latencies_us.push(t0.elapsed().as_micros() as u64);
                let broken = status.ends_with("error");
                *tally.statuses.entry(status).or_default() += 1;
                if broken {
                    break;
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for w in workers {
        let t = w.await.expect("worker");
        all.latencies_us.extend(t.latencies_us);
        for (k, v) in t.statuses {
            *all.statuses.entry(k).or_default() += v;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    all.latencies_us.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.latencies_us.is_empty() {
            return 0.0;
        }
        let i =
            ((all.latencies_us.len() as f64 * p).ceil() as usize).clamp(1, all.latencies_us.len());
        all.latencies_us[i - 1] as f64 / 1000.0
    };
    let statuses: Vec<String> = all
        .statuses
        .iter()
        .map(|(k, v)| format!("\"{k}\":{v}"))
        .collect();
    println!(
        "{{\"requests\":{},\"seconds\":{seconds:.3},\"rps\":{:.1},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3},\"statuses\":{{{}}}}}",
        all.latencies_us.len(),
        all.latencies_us.len() as f64 / seconds,
        pct(0.50),
        pct(0.99),
        pct(1.0),
        statuses.join(",")
    );
}
