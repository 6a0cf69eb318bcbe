//! A load generator for `ipclab serve`, shared by `cargo xtask serve-bench` (through the `serve_load`
//! example) and `tests/serve.rs`.
//!
//! It talks to 127.0.0.1 only (any other address is refused), every count is fixed by the caller, every
//! wait has a deadline, and it stops by itself. One round: open `idle` connections that send nothing,
//! then open `concurrent` connections and, once every one of them is open, send a `GET` on each at the
//! same moment and read every response to its end; while those are in flight, a well-behaved client
//! makes `probes` requests one after another. Then it counts how many idle connections the server still
//! holds, and closes everything.

#![allow(dead_code)] // Each user calls the part it needs.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The shape of one round of load.
#[derive(Clone, Debug)]
pub struct Load {
    /// Connections opened first, that never send a byte.
    pub idle: usize,
    /// Requests sent at the same moment, each on its own connection.
    pub concurrent: usize,
    /// Requests made one after another by a well-behaved client while the concurrent ones are in flight.
    pub probes: usize,
    /// The file requested, and its length (the body must be exactly that long).
    pub path: String,
    pub expected_bytes: usize,
    /// The whole round ends by then, whatever happens.
    pub deadline: Duration,
}

/// What one round saw.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    pub idle_opened: usize,
    /// Idle connections the server still held open at the end of the round.
    pub idle_still_open: usize,
    /// Concurrent connections open at the same moment, just before their requests went out.
    pub concurrent_connected: usize,
    pub concurrent_ok: usize,
    pub concurrent_failed: usize,
    pub probes_ok: usize,
    pub probes_failed: usize,
    /// The first few failures, in words.
    pub failures: Vec<String>,
    /// Request latencies of the concurrent requests, from sending the request to the end of the response.
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
    pub probe_max_ms: f64,
    pub seconds: f64,
}

impl Figures {
    /// The figures of two rounds run one after the other: counts added, the worst latencies kept, and
    /// the idle connections of the later round.
    pub fn merged_with(self, later: Figures) -> Figures {
        let mut failures = self.failures;
        failures.extend(later.failures);
        failures.truncate(5);
        Figures {
            idle_opened: later.idle_opened,
            idle_still_open: later.idle_still_open,
            concurrent_connected: self.concurrent_connected + later.concurrent_connected,
            concurrent_ok: self.concurrent_ok + later.concurrent_ok,
            concurrent_failed: self.concurrent_failed + later.concurrent_failed,
            probes_ok: self.probes_ok + later.probes_ok,
            probes_failed: self.probes_failed + later.probes_failed,
            failures,
            latency_p50_ms: self.latency_p50_ms.max(later.latency_p50_ms),
            latency_p99_ms: self.latency_p99_ms.max(later.latency_p99_ms),
            latency_max_ms: self.latency_max_ms.max(later.latency_max_ms),
            probe_max_ms: self.probe_max_ms.max(later.probe_max_ms),
            seconds: self.seconds + later.seconds,
        }
    }

    /// Whether every request was answered in full and every connection was accepted.
    pub fn nothing_refused(&self, load: &Load) -> bool {
        self.idle_opened == load.idle
            && self.concurrent_connected == load.concurrent
            && self.concurrent_ok == load.concurrent
            && self.probes_ok == load.probes
    }
}

/// Raises this process's soft limit on open files to the hard limit: a round holds `idle + concurrent`
/// sockets at once.
pub fn raise_descriptor_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain system calls with a valid pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        let wanted = limit.rlim_max.min(1 << 20);
        if limit.rlim_cur < wanted {
            let raised = libc::rlimit { rlim_cur: wanted, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return wanted;
            }
        }
    }
    limit.rlim_cur
}

fn remaining(until: Instant) -> Duration {
    until.saturating_duration_since(Instant::now())
}

async fn connect(address: SocketAddr, until: Instant) -> Result<TcpStream, String> {
    match tokio::time::timeout(remaining(until), TcpStream::connect(address)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(error)) => Err(format!("connect: {error}")),
        Err(_) => Err("connect: no answer before the deadline".to_string()),
    }
}

/// Sends one `GET` with `Connection: close` and reads the response to its end; checks the status and
/// the body's length. Returns the milliseconds it took.
async fn get(stream: &mut TcpStream, load: &Load, until: Instant) -> Result<f64, String> {
    let started = Instant::now();
    let request = format!("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", load.path);
    let exchange = async {
        stream.write_all(request.as_bytes()).await.map_err(|error| format!("send: {error}"))?;
        let mut response = Vec::with_capacity(load.expected_bytes + 512);
        stream.read_to_end(&mut response).await.map_err(|error| format!("receive: {error}"))?;
        Ok::<Vec<u8>, String>(response)
    };
    let response = match tokio::time::timeout(remaining(until), exchange).await {
        Ok(result) => result?,
        Err(_) => return Err("no complete response before the deadline".to_string()),
    };
    let head_end = response.windows(4).position(|window| window == b"\r\n\r\n").ok_or("no response head")?;
    let status = String::from_utf8_lossy(&response[..head_end.min(64)]).lines().next().unwrap_or("").to_string();
    if !status.starts_with("HTTP/1.1 200") {
        return Err(format!("status {status:?}"));
    }
    let body = response.len() - head_end - 4;
    if body != load.expected_bytes {
        return Err(format!("body of {body} bytes, expected {}", load.expected_bytes));
    }
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}

/// Whether the server still holds `stream` open: nothing to read, and no end of file.
fn still_open(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(stream.try_read(&mut byte), Err(error) if error.kind() == std::io::ErrorKind::WouldBlock)
}

/// Keeps the first few failures, in words.
fn note(figures: &mut Figures, failure: String) {
    if figures.failures.len() < 5 {
        figures.failures.push(failure);
    }
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Runs one round against `address`, which must be on 127.0.0.1.
pub async fn run(address: SocketAddr, load: &Load) -> Figures {
    assert!(address.ip().is_loopback(), "the load generator only talks to this machine, not {address}");
    let started = Instant::now();
    let until = started + load.deadline;
    let mut figures = Figures::default();

    // Idle connections first, opened together.
    let mut opening = tokio::task::JoinSet::new();
    for _ in 0..load.idle {
        opening.spawn(connect(address, until));
    }
    let mut idle = Vec::with_capacity(load.idle);
    while let Some(opened) = opening.join_next().await {
        match opened.expect("connect tasks do not panic") {
            Ok(stream) => idle.push(stream),
            Err(failure) => note(&mut figures, format!("idle connection: {failure}")),
        }
    }
    figures.idle_opened = idle.len();

    // Concurrent requests: every connection opens, waits for all the others, then sends.
    let barrier = Arc::new(tokio::sync::Barrier::new(load.concurrent + 1));
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..load.concurrent {
        let barrier = barrier.clone();
        let load = load.clone();
        requests.spawn(async move {
            let connected = connect(address, until).await;
            barrier.wait().await;
            let mut stream = connected?;
            get(&mut stream, &load, until).await
        });
    }
    barrier.wait().await;

    // The well-behaved client, while the requests are in flight.
    let mut probe_max_ms: f64 = 0.0;
    for _ in 0..load.probes {
        let result = match connect(address, until).await {
            Ok(mut stream) => get(&mut stream, load, until).await,
            Err(failure) => Err(failure),
        };
        match result {
            Ok(ms) => {
                figures.probes_ok += 1;
                probe_max_ms = probe_max_ms.max(ms);
            }
            Err(failure) => {
                figures.probes_failed += 1;
                note(&mut figures, format!("well-behaved client: {failure}"));
            }
        }
    }
    figures.probe_max_ms = probe_max_ms;

    let mut latencies = Vec::with_capacity(load.concurrent);
    let mut connect_failures = 0;
    while let Some(result) = requests.join_next().await {
        match result.expect("request tasks do not panic") {
            Ok(ms) => {
                figures.concurrent_ok += 1;
                latencies.push(ms);
            }
            Err(failure) => {
                if failure.starts_with("connect") {
                    connect_failures += 1;
                }
                figures.concurrent_failed += 1;
                note(&mut figures, format!("concurrent request: {failure}"));
            }
        }
    }
    figures.concurrent_connected = load.concurrent - connect_failures;
    latencies.sort_by(|a, b| a.total_cmp(b));
    figures.latency_p50_ms = percentile(&latencies, 0.50);
    figures.latency_p99_ms = percentile(&latencies, 0.99);
    figures.latency_max_ms = latencies.last().copied().unwrap_or(0.0);
    figures.idle_still_open = idle.iter().filter(|stream| still_open(stream)).count();
    figures.seconds = started.elapsed().as_secs_f64();
    figures
}

/// A directory to serve: `index.html` and a 256 KiB `app.wasm`, made fresh under `parent`.
pub fn make_site(parent: &Path) -> PathBuf {
    let dir = parent.join("site");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the site directory");
    std::fs::write(dir.join("index.html"), INDEX_HTML).expect("index.html");
    let wasm: Vec<u8> = (0..256 * 1024u32).map(|index| (index * 7 % 251) as u8).collect();
    std::fs::write(dir.join("app.wasm"), wasm).expect("app.wasm");
    dir
}

pub const INDEX_HTML: &str =
    "<!doctype html>\n<meta charset=\"utf-8\">\n<title>ipclab</title>\n<p>the playground</p>\n";

/// A running `ipclab serve`, stopped (and waited for) when dropped.
pub struct Server {
    child: Option<Child>,
    pub address: SocketAddr,
    /// The first line it printed.
    pub first_line: String,
    stderr_path: PathBuf,
}

impl Server {
    /// Starts `ipclab serve --port 0 --dir DIR ARGS...` and reads its address from its first line.
    pub fn start(ipclab: &Path, dir: &Path, args: &[&str]) -> Server {
        Server::start_with(Command::new(ipclab), dir, args)
    }

    /// The same with a prepared command (a lower descriptor limit, say).
    pub fn start_with(mut command: Command, dir: &Path, args: &[&str]) -> Server {
        let stderr_path = dir.with_extension(format!("stderr-{}", std::process::id()));
        let stderr = std::fs::File::create(&stderr_path).expect("a file for the server's stderr");
        let mut child = command
            .args(["serve", "--port", "0", "--dir"])
            .arg(dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("ipclab serve starts");
        let mut stdout = child.stdout.take().expect("piped");
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).map(|count| count == 1).unwrap_or(false) && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        let first_line = String::from_utf8_lossy(&line).to_string();
        let address = first_line
            .split_whitespace()
            .find_map(|word| word.strip_prefix("http://"))
            .and_then(|rest| rest.trim_end_matches('/').parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!(
                    "ipclab serve printed no address: {first_line:?}; stderr: {}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                )
            });
        Server { child: Some(child), address, first_line, stderr_path }
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().expect("running").id() as i32
    }

    /// What it has printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Processor time it has used, in seconds (user + system, from `/proc/PID/stat`).
    pub fn cpu_seconds(&self) -> f64 {
        let text = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        let rest = &text[text.rfind(')').map_or(0, |index| index + 1)..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // `rest` starts at field 3; utime and stime are fields 14 and 15.
        let ticks: u64 = [11, 12].iter().filter_map(|index| fields.get(*index)?.parse::<u64>().ok()).sum();
        // SAFETY: sysconf cannot fail for this name.
        ticks as f64 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
    }

    /// Its peak resident memory, in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .unwrap_or_default()
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Sends `signal` and waits (at most `limit`) for the server to end; its exit status.
    pub fn stop(&mut self, signal: i32, limit: Duration) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        // SAFETY: signalling our own child.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let until = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("waitable") {
                return Some(status);
            }
            if Instant::now() > until {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.stderr_path);
    }
}

/// One request on a fresh blocking connection, written as given: the response's raw bytes (until the
/// server closes, or `limit`).
pub fn raw_exchange(address: SocketAddr, request: &[u8], limit: Duration) -> Vec<u8> {
    let mut stream = std::net::TcpStream::connect_timeout(&address, limit).expect("connects");
    stream.set_read_timeout(Some(limit)).expect("a timeout");
    stream.set_write_timeout(Some(limit)).expect("a timeout");
    // A server that answers early and closes may make the rest of the write fail: that is fine here.
    let _ = stream.write_all(request);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    response
}
