//! The real `oms` binary as a child process, and a minimal HTTP/1.1 client for it: what the
//! tests that need a real process and real TCP (shutdown, database outage) share.
#![allow(dead_code)]

/// The real binary as a child process, its JSON logs collected.
pub mod proc {
    use std::net::SocketAddr;
    use std::process::{ExitStatus, Stdio};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
    use tokio::process::{Child, Command};
    use tokio::sync::mpsc;
    use tokio::task::JoinHandle;

    pub struct Server {
        child: Child,
        pub addr: SocketAddr,
        lines: Arc<Mutex<Vec<String>>>,
        readers: Vec<JoinHandle<()>>,
    }

    impl Server {
        /// Starts `oms serve` on a free port and waits (bounded) for its "oms listening" line.
        pub async fn start(env: &[(&str, String)]) -> Server {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_oms"));
            cmd.arg("serve");
            // Only what this test sets: nothing from the surrounding environment may leak in.
            for (key, _) in std::env::vars() {
                if key.starts_with("OMS_") || key == "DATABASE_URL" || key == "RUST_LOG" {
                    cmd.env_remove(key);
                }
            }
            cmd.env("OMS_BIND", "127.0.0.1:0")
                .env("OMS_LOG_FORMAT", "json")
                .env("RUST_LOG", "info,sqlx=warn");
            for (k, v) in env {
                cmd.env(k, v);
            }
            cmd.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true);
            let mut child = cmd.spawn().expect("spawn the oms binary");
            let lines = Arc::new(Mutex::new(Vec::new()));
            let (tx, mut rx) = mpsc::unbounded_channel();
            let readers = vec![
                forward(child.stdout.take().unwrap(), lines.clone(), tx.clone()),
                forward(child.stderr.take().unwrap(), lines.clone(), tx),
            ];
            let found = tokio::time::timeout(Duration::from_secs(30), async {
                while let Some(line) = rx.recv().await {
                    if let Some(addr) = listening_addr(&line) {
                        return Some(addr);
                    }
                }
                None // both streams closed: the process is gone
            })
            .await;
            let dump = || lines.lock().unwrap().join("\n");
            let addr = match found {
                Ok(Some(addr)) => addr,
                Ok(None) => panic!("oms exited before listening; output:\n{}", dump()),
                Err(_) => panic!("oms did not listen within 30 s; output:\n{}", dump()),
            };
            Server {
                child,
                addr,
                lines,
                readers,
            }
        }

        /// Whether the process has not exited (it must survive what the test does to it).
        #[allow(dead_code)]
        pub fn running(&mut self) -> bool {
            matches!(self.child.try_wait(), Ok(None))
        }

        #[allow(dead_code)]
        pub fn pid(&self) -> u32 {
            self.child.id().expect("oms is running")
        }

        /// Everything the process printed so far.
        pub fn logs(&self) -> String {
            self.lines.lock().unwrap().join("\n")
        }

        /// Whether some log line's message contains `text`.
        #[allow(dead_code)]
        pub fn saw_message(&self, text: &str) -> bool {
            self.lines.lock().unwrap().iter().any(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()
                    .and_then(|v| v["fields"]["message"].as_str().map(|m| m.contains(text)))
                    .unwrap_or(false)
            })
        }

        /// Waits (bounded) for the process to exit, then for its output to be read to the end.
        #[allow(dead_code)]
        pub async fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
            let status = tokio::time::timeout(limit, self.child.wait()).await.ok()?;
            let status = status.expect("wait for oms");
            for r in self.readers.drain(..) {
                let _ = tokio::time::timeout(Duration::from_secs(5), r).await;
            }
            Some(status)
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            // Never leave the process behind, whatever happened to the test.
            let _ = self.child.start_kill();
        }
    }

    fn forward(
        stream: impl AsyncRead + Unpin + Send + 'static,
        lines: Arc<Mutex<Vec<String>>>,
        tx: mpsc::UnboundedSender<String>,
    ) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut reader = BufReader::new(stream).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                lines.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        })
    }

    /// `bind` of the JSON "oms listening" line.
    fn listening_addr(line: &str) -> Option<SocketAddr> {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let fields = &v["fields"];
        if !fields["message"].as_str()?.contains("oms listening") {
            return None;
        }
        fields["bind"].as_str()?.parse().ok()
    }
}

/// A minimal HTTP/1.1 client: one request per connection (`Connection: close`).
pub mod http {
    use std::net::SocketAddr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    #[derive(Debug)]
    pub struct Response {
        pub status: u16,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Response {
        #[allow(dead_code)]
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    #[derive(Debug)]
    pub enum Error {
        /// The connection was not accepted: the server cannot have seen the request.
        Refused(std::io::Error),
        /// The connection failed after it was made.
        Io(std::io::Error),
        /// The connection closed before a complete response (or the response is not HTTP).
        Incomplete(String),
    }

    impl std::fmt::Display for Error {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                Error::Refused(e) => write!(f, "connect: {e}"),
                Error::Io(e) => write!(f, "after connecting: {e}"),
                Error::Incomplete(why) => write!(f, "incomplete response: {why}"),
            }
        }
    }

    pub async fn send(
        addr: SocketAddr,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Response, Error> {
        let mut stream = TcpStream::connect(addr).await.map_err(Error::Refused)?;
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = body.unwrap_or_default();
        if !body.is_empty() || method == "POST" || method == "PUT" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        stream.write_all(&bytes).await.map_err(Error::Io)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(Error::Io)?;
        parse(&raw)
    }

    fn parse(raw: &[u8]) -> Result<Response, Error> {
        let incomplete = |why: &str| {
            Error::Incomplete(format!(
                "{why} ({} bytes: {:?})",
                raw.len(),
                String::from_utf8_lossy(&raw[..raw.len().min(200)])
            ))
        };
        let end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| incomplete("no complete response head"))?;
        let head = std::str::from_utf8(&raw[..end]).map_err(|_| incomplete("head not UTF-8"))?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
            .and_then(|s| s.get(..3))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| incomplete("bad status line"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let find = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let rest = &raw[end + 4..];
        let body = if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            dechunk(rest).ok_or_else(|| incomplete("truncated chunked body"))?
        } else if let Some(len) = find("content-length") {
            let len: usize = len.parse().map_err(|_| incomplete("bad content-length"))?;
            if rest.len() < len {
                return Err(incomplete("truncated body"));
            }
            rest[..len].to_vec()
        } else {
            rest.to_vec()
        };
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let line_end = data.windows(2).position(|w| w == b"\r\n")?;
            let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
            let size_text = size_text.split(';').next()?.trim();
            let size = usize::from_str_radix(size_text, 16).ok()?;
            data = &data[line_end + 2..];
            if size == 0 {
                return Some(out);
            }
            if data.len() < size + 2 {
                return None;
            }
            out.extend_from_slice(&data[..size]);
            data = &data[size + 2..];
        }
    }
}
