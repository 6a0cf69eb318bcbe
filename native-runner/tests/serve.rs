//! `ipclab serve` as clients use it and abuse it, all on 127.0.0.1: what it serves and what it refuses
//! (symbolic links out of the directory, traversal, FIFOs), bounded request heads, idle connections that
//! end, a connection cap that makes room for new clients, a low descriptor limit, graceful stops on
//! `SIGTERM` and `SIGINT`, and the target load: 2,000 concurrent requests beside 1,000 idle connections,
//! none refused. The load is fixed in size and bounded in time; `cargo xtask serve-bench` runs more of it
//! and prints the figures. No timing is asserted beyond generous deadlines that only a hang would miss.

#[path = "../examples/serve_load/load.rs"]
mod load;

use load::{raw_exchange, Server};
use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn ipclab() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ipclab"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipclab-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn get(server: &Server, target: &str) -> (String, String) {
    let request = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    split(&raw_exchange(server.address, request.as_bytes(), Duration::from_secs(10)))
}

/// The status line and everything after it.
fn split(response: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(response).to_string();
    let status = text.lines().next().unwrap_or("").to_string();
    (status, text)
}

/// Waits (at most `limit`) until the server closes `stream`; false if it is still open then.
fn closed_by_server_within(stream: &mut TcpStream, limit: Duration) -> bool {
    stream.set_read_timeout(Some(limit)).expect("a timeout");
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => closed_by_server_within(stream, limit),
        Err(error) => !matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
    }
}

#[test]
fn the_first_line_gives_the_address_on_127_0_0_1_and_says_so() {
    let dir = scratch("first-line");
    let site = load::make_site(&dir);
    let server = Server::start(&ipclab(), &site, &[]);
    let expected = format!(
        "serving the playground from {} at http://{}/ (127.0.0.1: reachable from this machine only)",
        site.display(),
        server.address
    );
    assert_eq!(server.first_line, expected);
    assert!(server.address.ip().is_loopback() && server.address.port() != 0);
    let (status, text) = get(&server, "/");
    assert_eq!(status, "HTTP/1.1 200 OK", "{text}");
    assert!(text.ends_with(load::INDEX_HTML), "{text}");
    let lower = text.to_ascii_lowercase();
    assert!(lower.contains("content-type: text/html") && lower.contains("cache-control: no-cache"), "{text}");
    let (status, text) = get(&server, "/app.wasm");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(text.to_ascii_lowercase().contains("content-type: application/wasm"), "{text}");
    let (status, _) = get(&server, "/missing.js");
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    let post = raw_exchange(
        server.address,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    assert_eq!(split(&post).0, "HTTP/1.1 405 Method Not Allowed");

    // A directory without index.html is refused with a clear message.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let output = Command::new(ipclab()).args(["serve", "--port", "0", "--dir"]).arg(&empty).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("has no index.html"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The body of a response (after the blank line that ends its head); `ServeDir` sends a length, not
/// chunks.
fn body(response: &[u8]) -> &[u8] {
    let end = response.windows(4).position(|window| window == b"\r\n\r\n").expect("a response head");
    &response[end + 4..]
}

#[test]
fn a_client_that_accepts_gzip_gets_the_precompressed_file_and_any_other_the_file_itself() {
    let dir = scratch("gzip");
    let site = load::make_site(&dir);
    let wasm = std::fs::read(site.join("app.wasm")).unwrap();
    // What `cargo xtask dist` writes beside each file (here by gzip itself, kept as `app.wasm` too).
    let status = Command::new("gzip").args(["-9", "-k"]).arg(site.join("app.wasm")).status().unwrap();
    assert!(status.success());
    let gz = std::fs::read(site.join("app.wasm.gz")).unwrap();
    assert!(gz.len() < wasm.len() / 2, "the test's file compresses: {} of {}", gz.len(), wasm.len());
    // A `.gz` that is a symbolic link is never opened, like any other.
    std::os::unix::fs::symlink("/etc/passwd", site.join("index.html.gz")).unwrap();
    let server = Server::start(&ipclab(), &site, &[]);

    let ask = |accept: &str| {
        let request = format!("GET /app.wasm HTTP/1.1\r\nHost: 127.0.0.1\r\n{accept}Connection: close\r\n\r\n");
        raw_exchange(server.address, request.as_bytes(), Duration::from_secs(10))
    };
    let compressed = ask("Accept-Encoding: gzip, deflate, br\r\n");
    let head = split(&compressed).1.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200 ok"), "{head}");
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert!(head.contains("content-type: application/wasm"), "{head}");
    assert!(head.contains("vary: accept-encoding"), "{head}");
    assert_eq!(body(&compressed), gz.as_slice(), "the precompressed file, byte for byte");

    for accept in ["", "Accept-Encoding: identity\r\n", "Accept-Encoding: br\r\n"] {
        let plain = ask(accept);
        let head = split(&plain).1.to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200 ok"), "{head}");
        assert!(!head.contains("content-encoding"), "{accept:?}: {head}");
        assert_eq!(body(&plain), wasm.as_slice(), "{accept:?}: the file itself");
    }

    // The linked `index.html.gz` is refused and the page itself is sent instead: nothing of /etc/passwd.
    let request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n";
    let page = raw_exchange(server.address, request.as_bytes(), Duration::from_secs(10));
    let text = String::from_utf8_lossy(&page).to_string();
    assert!(!text.contains("root:"), "{text}");
    assert!(text.starts_with("HTTP/1.1 200 OK") && text.ends_with(load::INDEX_HTML), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nothing_outside_the_directory_is_served_symbolic_links_included() {
    let dir = scratch("confined");
    let site = load::make_site(&dir);
    std::fs::write(dir.join("secret.txt"), "the secret outside\n").unwrap();
    std::fs::create_dir_all(site.join("sub")).unwrap();
    std::fs::write(site.join("sub").join("a.js"), "let a = 1;\n").unwrap();
    std::os::unix::fs::symlink("/etc", site.join("etc")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", site.join("passwd")).unwrap();
    std::os::unix::fs::symlink("../secret.txt", site.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(&dir, site.join("up")).unwrap();
    nix::unistd::mkfifo(&site.join("fifo.js"), nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let server = Server::start(&ipclab(), &site, &[]);
    let (status, text) = get(&server, "/sub/a.js");
    assert_eq!(status, "HTTP/1.1 200 OK", "{text}");
    for target in [
        "/etc/passwd",
        "/etc/",
        "/etc/shadow",
        "/passwd",
        "/leak.txt",
        "/up/secret.txt",
        "/up/site/index.html",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/sub/..%2f..%2fsecret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "//etc/passwd",
        "/fifo.js",
    ] {
        let (status, text) = get(&server, target);
        assert!(
            status.starts_with("HTTP/1.1 404") || status.starts_with("HTTP/1.1 400"),
            "{target} was answered with {status:?}:\n{text}"
        );
        assert!(!text.contains("secret outside") && !text.contains("root:"), "{target} leaked:\n{text}");
    }
    // The FIFO was not opened for reading: the server is not stuck on it.
    assert_eq!(get(&server, "/").0, "HTTP/1.1 200 OK");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn request_heads_are_bounded_and_an_oversized_one_costs_a_431() {
    let dir = scratch("heads");
    let site = load::make_site(&dir);
    let server = Server::start(&ipclab(), &site, &[]);
    // A header line of 8 MiB that never ends: refused after 16 KiB, never read in full.
    let mut huge = b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: ".to_vec();
    huge.resize(huge.len() + 8 * 1024 * 1024, b'a');
    let (status, text) = split(&raw_exchange(server.address, &huge, Duration::from_secs(10)));
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large", "{text}");
    let mut many = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for index in 0..100 {
        many.extend_from_slice(format!("X-{index}: y\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    let (status, _) = split(&raw_exchange(server.address, &many, Duration::from_secs(10)));
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");
    let long_target = format!("/{}", "a".repeat(20 * 1024));
    assert!(get(&server, &long_target).0.starts_with("HTTP/1.1 4"));
    assert_eq!(get(&server, "/").0, "HTTP/1.1 200 OK", "still serving");
    assert!(server.peak_rss_kib() < 64 * 1024, "the server read no more than it had to");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn idle_and_slow_connections_are_closed_after_the_idle_timeout() {
    let dir = scratch("idle");
    let site = load::make_site(&dir);
    let server = Server::start(&ipclab(), &site, &["--idle-timeout", "1"]);
    let mut silent = TcpStream::connect(server.address).unwrap();
    let mut half_head = TcpStream::connect(server.address).unwrap();
    std::io::Write::write_all(&mut half_head, b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    // A keep-alive client that made one request and then went quiet.
    let mut quiet = TcpStream::connect(server.address).unwrap();
    std::io::Write::write_all(&mut quiet, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    for (name, stream) in [("silent", &mut silent), ("half a head", &mut half_head), ("keep-alive", &mut quiet)] {
        assert!(closed_by_server_within(stream, Duration::from_secs(10)), "{name} connection still open");
    }
    assert_eq!(get(&server, "/").0, "HTTP/1.1 200 OK", "a new client is served");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn at_the_connection_cap_new_clients_are_served_and_the_stalest_connections_make_room() {
    let dir = scratch("cap");
    let site = load::make_site(&dir);
    let server = Server::start(&ipclab(), &site, &["--max-connections", "8"]);
    let mut idle: Vec<TcpStream> = (0..32).map(|_| TcpStream::connect(server.address).unwrap()).collect();
    for round in 0..5 {
        assert_eq!(get(&server, "/").0, "HTTP/1.1 200 OK", "round {round}");
    }
    // Every connection past the cap closed an older idle one; the newest few are still open.
    let closed = idle
        .iter_mut()
        .map(|stream| closed_by_server_within(stream, Duration::from_millis(300)))
        .filter(|closed| *closed)
        .count();
    assert!(closed >= 32 - 8, "only {closed} idle connections were closed");
    assert!(server.stderr().contains("8 connections are open, the most allowed"), "{}", server.stderr());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_low_descriptor_limit_lowers_the_cap_and_neither_refuses_nor_spins() {
    use std::os::unix::process::CommandExt;
    let dir = scratch("descriptors");
    let site = load::make_site(&dir);
    let mut command = Command::new(ipclab());
    // SAFETY: only setrlimit runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 64, rlim_max: 64 };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let server = Server::start_with(command, &site, &[]);
    // Far more idle connections than descriptors, as in an attack that used to make the server spin.
    let _idle: Vec<TcpStream> = (0..200).map(|_| TcpStream::connect(server.address).unwrap()).collect();
    assert_eq!(get(&server, "/").0, "HTTP/1.1 200 OK");
    // Held like that for two seconds, a server that spins would use about two seconds of processor
    // time; one that waits uses almost none. Half a second is far from both.
    let before = server.cpu_seconds();
    std::thread::sleep(Duration::from_secs(2));
    let used = server.cpu_seconds() - before;
    assert!(used < 0.5, "the server used {used:.2} s of processor time in 2 s while holding idle connections");
    assert_eq!(get(&server, "/app.wasm").0, "HTTP/1.1 200 OK");
    assert!(
        server.stderr().contains("at most 16 connections at once (the limit on open files, RLIMIT_NOFILE, is 64)"),
        "{}",
        server.stderr()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_and_sigint_stop_the_server_gracefully() {
    for (signal, name) in [(libc::SIGTERM, "SIGTERM"), (libc::SIGINT, "SIGINT")] {
        let dir = scratch(&format!("stop-{name}"));
        let site = load::make_site(&dir);
        let mut server = Server::start(&ipclab(), &site, &[]);
        let mut idle = TcpStream::connect(server.address).unwrap();
        assert_eq!(get(&server, "/").0, "HTTP/1.1 200 OK");
        let started = Instant::now();
        let status = server.stop(signal, Duration::from_secs(20)).expect("the server stopped");
        assert_eq!(status.code(), Some(0), "{name}: {}", server.stderr());
        assert!(started.elapsed() < Duration::from_secs(10), "{name}: the stop took {:?}", started.elapsed());
        assert!(server.stderr().contains(&format!("ipclab: serve: {name}: stopping")), "{}", server.stderr());
        assert!(closed_by_server_within(&mut idle, Duration::from_secs(1)), "{name}: the idle connection was closed");
        assert!(TcpStream::connect(server.address).is_err(), "{name}: nothing listens any more");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn two_thousand_concurrent_requests_beside_a_thousand_idle_connections_are_all_answered() {
    load::raise_descriptor_limit();
    let dir = scratch("load");
    let site = load::make_site(&dir);
    // The server starts with the usual soft limit of 1,024 open files (the hard limit stays as it is):
    // it must raise it by itself to hold 3,000 connections.
    let mut command = Command::new(ipclab());
    // SAFETY: only getrlimit and setrlimit run between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
            limit.rlim_cur = limit.rlim_cur.min(1024);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            Ok(())
        });
    }
    let server = Server::start_with(command, &site, &[]);
    let shape = load::Load {
        idle: 1000,
        concurrent: 2000,
        probes: 10,
        path: "/".to_string(),
        expected_bytes: load::INDEX_HTML.len(),
        deadline: Duration::from_secs(60),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let figures = runtime.block_on(load::run(server.address, &shape));
    assert!(figures.nothing_refused(&shape), "{figures:#?}\nserver stderr:\n{}", server.stderr());
    assert_eq!(figures.concurrent_failed + figures.probes_failed, 0, "{figures:#?}");
    assert_eq!(figures.idle_still_open, 1000, "the server held every idle connection: {figures:#?}");
    assert_eq!(server.stderr(), "", "no warning at this load");
    let _ = std::fs::remove_dir_all(&dir);
}
