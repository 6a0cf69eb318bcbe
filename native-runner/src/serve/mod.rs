//! `ipclab serve`: serves the playground (the static files of `cargo xtask dist`) on 127.0.0.1.
//!
//! Built from maintained parts: hyper's HTTP/1.1 server on a single-threaded tokio runtime, and
//! tower-http's `ServeDir` (content types, `HEAD`, conditional and range requests, `index.html` for a
//! directory; `GET` and `HEAD` only). What this module adds is the set of limits that keep a careless or
//! hostile client from taking the server down:
//!
//! - **The directory, and nothing else.** Files are opened through [`confined::Confined`], one path
//!   component at a time with `O_NOFOLLOW`: no symbolic link is followed, no path leaves the directory,
//!   and a FIFO or device is never opened for reading.
//! - **Compressed once, not per request.** A client that accepts gzip gets `FILE.gz` when the directory
//!   has one (`cargo xtask dist` writes them with zopfli), with `Content-Encoding: gzip`.
//! - **Bounded requests.** A request head (request line and headers) longer than [`MAX_HEAD_BYTES`] or
//!   with more than [`MAX_HEADERS`] headers gets `431` and the connection closes; a head must arrive
//!   within the idle timeout.
//! - **Idle connections end.** A connection that makes no progress for the idle timeout (30 s unless
//!   `--idle-timeout` says otherwise) is closed.
//! - **A connection cap that never refuses.** At most `--max-connections` connections (4,096 unless
//!   told otherwise), lowered to what the descriptor limit allows; the soft `RLIMIT_NOFILE` is raised to
//!   the hard one first. At the cap a new client closes the connection that has gone longest without
//!   progress, so it is served, not refused ([`connections`]).
//! - **No spinning.** When `accept` fails for lack of descriptors or memory, the stalest connection is
//!   closed and the server waits [`ACCEPT_BACKOFF`] before trying again.
//! - **Graceful shutdown.** On `SIGTERM` or `SIGINT` the server stops accepting, lets each connection
//!   finish the response it is sending (up to [`SHUTDOWN_GRACE`]), and exits with status 0.
//!
//! The first line on standard output is `serving the playground from DIR at http://127.0.0.1:PORT/ ...`
//! (scripts read the address from it; `--port 0` picks a free port). Everything else goes to stderr.

mod confined;
mod connections;

use connections::{Registration, Tracked, Tracker};
use hyper::header::{HeaderValue, CACHE_CONTROL};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;
use tower_http::services::fs::{DefaultServeDirFallback, ServeDir};
use tower_service::Service;

/// The longest request head (request line and headers) accepted, in bytes.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most headers a request may have.
pub const MAX_HEADERS: usize = 64;
/// How long connections may go on finishing their responses after `SIGTERM` or `SIGINT`.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// The pause before accepting again after `accept` failed (descriptors or memory ran out).
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Descriptors kept for everything but connections: standard streams, the runtime, the listener.
const RESERVED_DESCRIPTORS: u64 = 32;
/// Descriptors one connection can hold: its socket and the file it is sending.
const DESCRIPTORS_PER_CONNECTION: u64 = 2;
/// Connections the kernel may hold ready before `accept` (it lowers this to `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 4096;
/// Threads that open and read files (`ServeDir` reads through tokio's blocking pool).
const FILE_THREADS: usize = 4;
/// Bytes read from a file at a time, and so the most a connection buffers of a response.
const FILE_CHUNK_BYTES: usize = 16 * 1024;

/// The options of `ipclab serve`.
pub struct ServeArgs {
    pub port: u16,
    pub dir: PathBuf,
    pub max_connections: u32,
    pub idle_timeout_seconds: u64,
}

type Files = ServeDir<DefaultServeDirFallback, confined::Confined>;

/// What every connection is served with.
struct Settings {
    files: Files,
    http: http1::Builder,
    idle_timeout: Duration,
}

/// Serves `args.dir` on `127.0.0.1:args.port` until `SIGTERM` or `SIGINT`.
pub fn run(args: ServeArgs) -> ExitCode {
    if args.max_connections == 0 || args.idle_timeout_seconds == 0 {
        note!("ipclab: serve: --max-connections and --idle-timeout must be at least 1");
        return ExitCode::from(2);
    }
    if !std::fs::metadata(args.dir.join("index.html")).is_ok_and(|metadata| metadata.is_file()) {
        note!(
            "ipclab: serve: {} has no index.html; build the playground first with `cargo xtask dist`",
            args.dir.display()
        );
        return ExitCode::from(2);
    }
    let root = match std::fs::canonicalize(&args.dir).and_then(|root| Ok((confined::Confined::new(&root)?, root))) {
        Ok(opened) => opened,
        Err(error) => {
            note!("ipclab: serve: cannot open {}: {error}", args.dir.display());
            return ExitCode::from(2);
        }
    };
    let descriptors = raise_descriptor_limit();
    let cap = connection_cap(args.max_connections, descriptors);
    if cap < args.max_connections as usize {
        note!(
            "ipclab: serve: at most {cap} connections at once (the limit on open files, RLIMIT_NOFILE, is \
             {descriptors}), not {}",
            args.max_connections
        );
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .max_blocking_threads(FILE_THREADS)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            note!("ipclab: serve: cannot start: {error}");
            return ExitCode::from(2);
        }
    };
    let idle_timeout = Duration::from_secs(args.idle_timeout_seconds);
    let (backend, base) = root;
    // A browser that accepts gzip gets `FILE.gz` where `cargo xtask dist` wrote one (with
    // `Content-Encoding: gzip` and `Vary: Accept-Encoding`); any other client, the file as it is.
    let files = ServeDir::with_backend(&base, backend).with_buf_chunk_size(FILE_CHUNK_BYTES).precompressed_gzip();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(idle_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_header_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    let settings = Arc::new(Settings { files, http, idle_timeout });
    runtime.block_on(serve(args.port, &args.dir, cap, settings))
}

/// Raises the soft limit on open descriptors to the hard limit, and returns the soft limit in force.
fn raise_descriptor_limit() -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    // The kernel refuses more than `fs.nr_open` (1,048,576 unless changed), infinity included.
    let ceiling: u64 = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(1 << 20);
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            let wanted = hard.min(ceiling);
            if soft < wanted && setrlimit(Resource::RLIMIT_NOFILE, wanted, hard).is_ok() {
                wanted
            } else {
                soft
            }
        }
        Err(_) => 1024,
    }
}

/// The connections that fit in `descriptors` open files, and no more than asked for.
fn connection_cap(asked: u32, descriptors: u64) -> usize {
    let fit = descriptors.saturating_sub(RESERVED_DESCRIPTORS) / DESCRIPTORS_PER_CONNECTION;
    (asked as u64).min(fit).max(1) as usize
}

fn listen(port: u16) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    // A restarted server can take its port back while old connections linger in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind((std::net::Ipv4Addr::LOCALHOST, port).into())?;
    socket.listen(LISTEN_BACKLOG)
}

/// Whether a failed `accept` means that the process or the system ran out of something.
fn out_of_resources(error: &std::io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM))
}

async fn serve(port: u16, dir: &Path, cap: usize, settings: Arc<Settings>) -> ExitCode {
    let listener = match listen(port) {
        Ok(listener) => listener,
        Err(error) => {
            note!("ipclab: serve: cannot listen on 127.0.0.1:{port}: {error}");
            return ExitCode::from(2);
        }
    };
    // Installed before the address is printed, so that a signal sent as soon as it is read is handled.
    let (mut terminate, mut interrupt) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(terminate), Ok(interrupt)) => (terminate, interrupt),
        (Err(error), _) | (_, Err(error)) => {
            note!("ipclab: serve: cannot handle SIGTERM and SIGINT: {error}");
            return ExitCode::from(2);
        }
    };
    let address = listener.local_addr().map(|address| address.to_string()).unwrap_or_default();
    let first_line = format!(
        "serving the playground from {} at http://{address}/ (127.0.0.1: reachable from this machine only)\n",
        dir.display()
    );
    if let Err(code) = crate::output::print(&first_line) {
        return code;
    }

    let tracker = Tracker::new();
    let (stop, stopping) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let mut said_cap = false;
    let mut said_out_of_resources = false;
    let stopped_by = loop {
        tokio::select! {
            biased;
            _ = terminate.recv() => break "SIGTERM",
            _ = interrupt.recv() => break "SIGINT",
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    if tracker.len() >= cap {
                        tracker.close_stalest();
                        if !said_cap {
                            said_cap = true;
                            note!(
                                "ipclab: serve: {cap} connections are open, the most allowed; from now on each new \
                                 client closes the connection that has gone longest without sending or receiving"
                            );
                        }
                    }
                    let registration = tracker.register();
                    tasks.spawn(connection(stream, registration, settings.clone(), stopping.clone()));
                }
                Err(error) if out_of_resources(&error) => {
                    tracker.close_stalest();
                    if !said_out_of_resources {
                        said_out_of_resources = true;
                        note!(
                            "ipclab: serve: cannot accept a connection ({error}); closing the stalest connection and \
                             trying again in {} ms",
                            ACCEPT_BACKOFF.as_millis()
                        );
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
                // The client gave up before it was accepted, and the like: nothing to do but go on,
                // after a pause short enough not to matter and long enough never to spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
            },
        }
    };
    drop(listener);
    note!(
        "ipclab: serve: {stopped_by}: stopping; {} open connections may finish their responses (at most {} s)",
        tracker.len(),
        SHUTDOWN_GRACE.as_secs()
    );
    let _ = stop.send(true);
    // Each connection stops by itself within the grace period; the extra second is a safety margin.
    let all_closed = async { while tasks.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(SHUTDOWN_GRACE + Duration::from_secs(1), all_closed).await;
    ExitCode::SUCCESS
}

/// One client connection, from accept to close.
async fn connection(
    stream: TcpStream,
    registration: Registration,
    settings: Arc<Settings>,
    mut stopping: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(Tracked::new(stream, &registration));
    let files = settings.files.clone();
    let service = service_fn(move |request| {
        let mut files = files.clone();
        async move {
            let mut response = files.call(request).await?;
            response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            Ok::<_, Infallible>(response)
        }
    });
    let connection = settings.http.serve_connection(io, service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = registration.close_requested() => return,
        _ = registration.idle_for(settings.idle_timeout) => return,
        _ = stopping.wait_for(|stopping| *stopping) => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
}
