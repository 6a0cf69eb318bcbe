//! A small WebDriver client over plain HTTP/1.1, enough to drive headless Chromium through chromedriver.
//!
//! The end-to-end tests and the web benchmark need a handful of commands (open a session, navigate,
//! find, click, type, run a script, take a screenshot). Doing them over `std::net` keeps the test build
//! free of an async runtime and a TLS stack; chromedriver only ever listens on 127.0.0.1 here.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The W3C element key in WebDriver responses.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or(9515)
}

/// One HTTP request with a JSON body; returns the JSON reply (`value` unwrapped by callers).
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|error| format!("connect to chromedriver: {error}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(120))).ok();
    let body_text = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body_text}",
        body_text.len()
    );
    stream.write_all(request.as_bytes()).map_err(|error| format!("send to chromedriver: {error}"))?;
    // chromedriver may keep the connection open: read the head, then exactly the body it announces.
    let mut reply = Vec::new();
    let mut buffer = [0u8; 8192];
    let split = loop {
        if let Some(split) = reply.windows(4).position(|window| window == b"\r\n\r\n") {
            break split;
        }
        let count = stream.read(&mut buffer).map_err(|error| format!("read from chromedriver: {error}"))?;
        if count == 0 {
            return Err("chromedriver closed the connection before answering".to_string());
        }
        reply.extend_from_slice(&buffer[..count]);
    };
    let head = String::from_utf8_lossy(&reply[..split]).to_ascii_lowercase();
    let mut content = reply[split + 4..].to_vec();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let complete = match length {
            Some(length) => content.len() >= length,
            None if chunked => content.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if complete {
            break;
        }
        let count = stream.read(&mut buffer).map_err(|error| format!("read from chromedriver: {error}"))?;
        if count == 0 {
            break;
        }
        content.extend_from_slice(&buffer[..count]);
    }
    if chunked {
        content = unchunk(&content);
    }
    if content.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&content)
        .map_err(|error| format!("chromedriver sent bad JSON ({error}): {}", String::from_utf8_lossy(&content)))
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = data.windows(2).position(|window| window == b"\r\n") else { break };
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

/// A chromedriver process and one browser session in it; both end when dropped.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: ProfileDir,
}

struct ProfileDir(std::path::PathBuf);

impl Drop for ProfileDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(self.port, "DELETE", &format!("/session/{}", self.session), None);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session with a window of `width` x `height`.
    pub fn start(width: u32, height: u32) -> Browser {
        assert!(
            Path::new(CHROMEDRIVER).exists(),
            "{CHROMEDRIVER} is missing: run the tests through `cargo xtask test`, which installs it"
        );
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let started = Instant::now();
        while http(port, "GET", "/status", None).is_err() {
            if started.elapsed() > Duration::from_secs(30) {
                // Never leave a driver behind, even when failing.
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("chromedriver did not answer within 30 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = std::env::temp_dir().join(format!("ipclab-chromium-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&profile).expect("a profile directory");
        let arguments = vec![
            "--headless".to_string(),
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-quic".to_string(),
            "--no-first-run".to_string(),
            "--disable-background-networking".to_string(),
            "--disable-component-update".to_string(),
            "--disable-sync".to_string(),
            "--disable-dev-shm-usage".to_string(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": { "binary": CHROMIUM, "args": arguments }
            }}
        });
        let reply = http(port, "POST", "/session", Some(&capabilities)).unwrap_or_else(|error| Value::from(error));
        let Some(session) = reply["value"]["sessionId"].as_str().map(str::to_string) else {
            let _ = driver.kill();
            let _ = driver.wait();
            panic!("chromedriver refused a session: {reply}");
        };
        Browser { driver, port, session, _profile: ProfileDir(profile) }
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let reply = http(self.port, method, &format!("/session/{}{path}", self.session), body.as_ref())
            .unwrap_or_else(|error| panic!("WebDriver {method} {path}: {error}"));
        if let Some(error) = reply["value"]["error"].as_str() {
            panic!("WebDriver {method} {path}: {error}: {}", reply["value"]["message"]);
        }
        reply["value"].clone()
    }

    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub fn script(&self, script: &str, args: Vec<Value>) -> Value {
        self.command("POST", "/execute/sync", Some(json!({ "script": script, "args": args })))
    }

    /// Waits until `script` returns something truthy, or panics with `what` after `timeout`.
    pub fn wait_for(&self, what: &str, script: &str, timeout: Duration) -> Value {
        let started = Instant::now();
        loop {
            let value = self.script(script, Vec::new());
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(flag) => *flag,
                Value::String(text) => !text.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            assert!(started.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn find(&self, css: &str) -> String {
        let value = self.command("POST", "/element", Some(json!({ "using": "css selector", "value": css })));
        value[ELEMENT_KEY].as_str().unwrap_or_else(|| panic!("no element matches {css}: {value}")).to_string()
    }

    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.command("POST", &format!("/element/{element}/click"), Some(json!({})));
    }

    /// Types `text` into the element (WebDriver key codes allowed, e.g. `\u{E014}` for the right arrow).
    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.command("POST", &format!("/element/{element}/value"), Some(json!({ "text": text })));
    }

    /// Presses keys on whatever has the focus (the page itself when nothing does).
    pub fn press(&self, keys: &[&str]) {
        let mut actions = Vec::new();
        for key in keys {
            actions.push(json!({ "type": "keyDown", "value": key }));
            actions.push(json!({ "type": "keyUp", "value": key }));
        }
        self.command(
            "POST",
            "/actions",
            Some(json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] })),
        );
        self.command("DELETE", "/actions", None);
    }

    pub fn text(&self, css: &str) -> String {
        let element = self.find(css);
        self.command("GET", &format!("/element/{element}/text"), None).as_str().unwrap_or_default().to_string()
    }

    /// The PNG bytes of a screenshot of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        let encoded = self.command("GET", "/screenshot", None);
        decode_base64(encoded.as_str().expect("a screenshot is base64 text"))
    }
}

/// Standard base64 (with padding), as WebDriver returns screenshots.
pub fn decode_base64(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut word: u32 = 0;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        } as u32;
        word = word << 6 | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((word >> bits) as u8);
            word &= (1 << bits) - 1;
        }
    }
    out
}
