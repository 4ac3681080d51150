//! A webhook receiver for `bench/webhooks.sh`: answers every request `204` on keep-alive
//! connections, a thread each, and counts them. With `--expect N` it prints one JSON line when
//! the N-th request has arrived: how long from the first to the N-th, and the rate.
//!
//! ```text
//! webhook-sink [--expect N]     # prints "listening 127.0.0.1:PORT" first
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

struct Count {
    seen: AtomicU64,
    first: OnceLock<Instant>,
    expect: Option<u64>,
    out: Mutex<()>,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut expect = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--expect" => expect = args.next().and_then(|v| v.parse().ok()),
            _ => {
                eprintln!("usage: webhook-sink [--expect N]");
                std::process::exit(2);
            }
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("listening {}", listener.local_addr().unwrap());
    let count = Arc::new(Count {
        seen: AtomicU64::new(0),
        first: OnceLock::new(),
        expect,
        out: Mutex::new(()),
    });
    for stream in listener.incoming().flatten() {
        let count = count.clone();
        std::thread::spawn(move || serve(stream, &count));
    }
}

fn serve(stream: TcpStream, count: &Count) {
    let _ = stream.set_nodelay(true);
    let mut writer = stream.try_clone().expect("clone stream");
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        let mut first_line = true;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" && !first_line {
                break;
            }
            first_line = false;
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let now = Instant::now();
        let first = *count.first.get_or_init(|| now);
        let n = count.seen.fetch_add(1, Ordering::SeqCst) + 1;
        if writer
            .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
        if count.expect == Some(n) {
            let _guard = count.out.lock().unwrap();
            let seconds = now.duration_since(first).as_secs_f64();
            println!(
                "{{\"received\": {n}, \"seconds\": {seconds:.3}, \"per_second\": {:.0}}}",
                (n - 1) as f64 / seconds.max(1e-9)
            );
        }
    }
}
