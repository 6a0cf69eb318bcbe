//! `ipclab serve`: serves the playground (the static files of `cargo xtask dist`) on 127.0.0.1.
//!
//! A deliberately tiny HTTP/1.1 file server on `std::net`: GET and HEAD only, one thread per connection,
//! no directory listings, and no path may leave the served directory. It prints the address first, so
//! scripts can read it (`--port 0` picks a free port).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

/// Longest request head accepted, in bytes.
const MAX_HEAD_BYTES: usize = 16 * 1024;

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|extension| extension.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ipc" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Maps a request path to a file under `root`, refusing anything that would leave it.
fn resolve(root: &Path, request_path: &str) -> Option<PathBuf> {
    let path = request_path.split(['?', '#']).next().unwrap_or("/");
    let mut resolved = root.to_path_buf();
    for component in Path::new(path.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => resolved.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if resolved.is_dir() {
        resolved.push("index.html");
    }
    resolved.is_file().then_some(resolved)
}

fn respond(stream: &mut TcpStream, status: &str, kind: &str, body: &[u8], head_only: bool) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    if !head_only {
        let _ = stream.write_all(body);
    }
}

fn handle(mut stream: TcpStream, root: &Path) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(clone) => clone,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Read and drop the headers (bounded).
    let mut seen = request_line.len();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) => break,
            Ok(count) => {
                seen += count;
                if line == "\r\n" || line == "\n" || seen > MAX_HEAD_BYTES {
                    break;
                }
            }
            Err(_) => return,
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    if method != "GET" && method != "HEAD" {
        respond(&mut stream, "405 Method Not Allowed", "text/plain", b"only GET and HEAD\n", false);
        return;
    }
    let head_only = method == "HEAD";
    match resolve(root, target).and_then(|path| std::fs::read(&path).ok().map(|body| (path, body))) {
        Some((path, body)) => respond(&mut stream, "200 OK", content_type(&path), &body, head_only),
        None => respond(&mut stream, "404 Not Found", "text/plain", b"not found\n", head_only),
    }
}

/// Serves `dir` on `127.0.0.1:port` until the process is stopped.
pub fn run(port: u16, dir: &Path) -> ExitCode {
    if !dir.join("index.html").is_file() {
        eprintln!(
            "ipclab: serve: {} has no index.html; build the playground first with `cargo xtask dist`",
            dir.display()
        );
        return ExitCode::from(2);
    }
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("ipclab: serve: cannot listen on 127.0.0.1:{port}: {error}");
            return ExitCode::from(2);
        }
    };
    let address = listener.local_addr().map(|address| address.to_string()).unwrap_or_default();
    println!("serving the playground from {} at http://{address}/", dir.display());
    let root = dir.to_path_buf();
    for stream in listener.incoming().flatten() {
        let root = root.clone();
        std::thread::spawn(move || handle(stream, &root));
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_never_leave_the_served_directory() {
        let root = std::env::temp_dir().join(format!("ipclab-serve-test-{}", std::process::id()));
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("index.html"), "hi").unwrap();
        std::fs::write(root.join("sub").join("a.js"), "x").unwrap();
        assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
        assert_eq!(resolve(&root, "/sub/a.js?v=1"), Some(root.join("sub").join("a.js")));
        assert_eq!(resolve(&root, "/../etc/passwd"), None);
        assert_eq!(resolve(&root, "/sub/../../x"), None);
        assert_eq!(resolve(&root, "/missing.css"), None);
        assert_eq!(content_type(Path::new("web_bg.wasm")), "application/wasm");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
