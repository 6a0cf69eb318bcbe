//! Driving headless Chromium through chromedriver with `fantoccini`, behind a small blocking API.
//!
//! The end-to-end tests and the web benchmark are ordinary synchronous code: each call here runs one
//! WebDriver command to completion on a single-threaded Tokio runtime owned by the [`Browser`].
//! chromedriver only ever listens on 127.0.0.1, so the client is built without TLS.

#![allow(dead_code)]

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or(9515)
}

/// A chromedriver process and one browser session in it; both end when dropped.
pub struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
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
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session with a window of `width` x `height`.
    pub fn start(width: u32, height: u32) -> Browser {
        Browser::start_with(width, height, &[])
    }

    /// As [`Browser::start`], with more command-line switches for Chromium (`--force-prefers-reduced-motion`).
    pub fn start_with(width: u32, height: u32, switches: &[&str]) -> Browser {
        assert!(
            Path::new(CHROMEDRIVER).exists(),
            "{CHROMEDRIVER} is missing: run the tests through `cargo xtask test`, which installs it"
        );
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a Tokio runtime");
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
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
        let arguments: Vec<String> =
            arguments.into_iter().chain(switches.iter().map(|switch| switch.to_string())).collect();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_string(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".to_string(), json!({ "binary": CHROMIUM, "args": arguments }));
        let address = format!("http://127.0.0.1:{port}");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let started = Instant::now();
        // chromedriver needs a moment to listen; retry the session until it answers (bounded).
        let client = loop {
            let attempt = runtime
                .block_on(ClientBuilder::new(connector.clone()).capabilities(capabilities.clone()).connect(&address));
            match attempt {
                Ok(client) => break client,
                Err(error) if started.elapsed() < Duration::from_secs(30) => {
                    let _ = error;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(error) => {
                    // Never leave a driver behind, even when failing.
                    let _ = driver.kill();
                    let _ = driver.wait();
                    panic!("no WebDriver session from chromedriver within 30 s: {error}");
                }
            }
        };
        Browser { runtime, client: Some(client), driver, _profile: ProfileDir(profile) }
    }

    /// The CPU time (user and system, in seconds) used so far by chromedriver and every process under
    /// it: the browser, its renderers, and the threads of the page's workers in them (a thread that
    /// ended is still counted in its process). Read from `/proc`.
    pub fn cpu_seconds(&self) -> f64 {
        // (pid, parent, ticks) of every process.
        let mut processes = Vec::new();
        for entry in std::fs::read_dir("/proc").expect("/proc is readable").flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
            // After the command's name in parentheses: state, ppid, ... utime and stime (fields 14, 15).
            let Some((_, rest)) = stat.rsplit_once(')') else { continue };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let number = |at: usize| fields.get(at).and_then(|field| field.parse::<u64>().ok()).unwrap_or(0);
            processes.push((pid, number(1) as u32, number(11) + number(12)));
        }
        let mut tree = vec![self.driver.id()];
        let mut seen = std::collections::BTreeSet::new();
        let mut ticks = 0;
        while let Some(parent) = tree.pop() {
            // Each process once, even if a pid reused while /proc was read made a loop.
            if !seen.insert(parent) {
                continue;
            }
            for (pid, ppid, used) in &processes {
                if *pid == parent {
                    ticks += used;
                }
                if *ppid == parent {
                    tree.push(*pid);
                }
            }
        }
        // SAFETY: sysconf only reads a configuration value.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1);
        ticks as f64 / per_second as f64
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open until the browser is dropped")
    }

    pub fn goto(&self, url: &str) {
        self.runtime.block_on(self.client().goto(url)).unwrap_or_else(|error| panic!("WebDriver goto {url}: {error}"));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub fn script(&self, script: &str, args: Vec<Value>) -> Value {
        self.runtime
            .block_on(self.client().execute(script, args))
            .unwrap_or_else(|error| panic!("WebDriver script failed: {error}\n{script}"))
    }

    /// Waits until `script` returns something truthy, or panics with `what` after `timeout`.
    pub fn wait_for(&self, what: &str, script: &str, timeout: Duration) -> Value {
        self.poll(script, timeout).unwrap_or_else(|| panic!("timed out after {timeout:?} waiting for {what}"))
    }

    /// Runs `script` until it returns something truthy (`Some`) or `timeout` passes (`None`).
    pub fn poll(&self, script: &str, timeout: Duration) -> Option<Value> {
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
                return Some(value);
            }
            if started.elapsed() >= timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.runtime
            .block_on(self.client().find(Locator::Css(css)))
            .unwrap_or_else(|error| panic!("no element matches {css}: {error}"))
    }

    pub fn click(&self, css: &str) {
        let element = self.element(css);
        self.runtime.block_on(element.click()).unwrap_or_else(|error| panic!("click on {css}: {error}"));
    }

    /// Picks `value` in the drop-down list `select` (a CSS selector) by clicking its option, as a
    /// person picks from a menu.
    pub fn choose(&self, select: &str, value: &str) {
        self.click(&format!("{select} option[value='{value}']"));
    }

    /// Presses keys on whatever has the focus (the page itself when nothing does).
    pub fn press(&self, keys: &[&str]) {
        let mut actions = KeyActions::new("keyboard".to_string());
        for key in keys {
            for value in key.chars() {
                actions = actions.then(KeyAction::Down { value }).then(KeyAction::Up { value });
            }
        }
        self.runtime.block_on(self.client().perform_actions(actions)).unwrap_or_else(|error| panic!("keys: {error}"));
        self.runtime.block_on(self.client().release_actions()).unwrap_or_else(|error| panic!("keys: {error}"));
    }

    /// Types `text` as a person does: one key at a time (a separate key press for each character, each
    /// sent as its own WebDriver action), into whatever has the focus. `\n` is the Enter key.
    pub fn type_keys(&self, text: &str) {
        for character in text.chars() {
            let value = if character == '\n' { '\u{E007}' } else { character };
            let actions =
                KeyActions::new("keyboard".to_string()).then(KeyAction::Down { value }).then(KeyAction::Up { value });
            self.runtime
                .block_on(self.client().perform_actions(actions))
                .unwrap_or_else(|error| panic!("typing {character:?}: {error}"));
        }
        self.runtime.block_on(self.client().release_actions()).unwrap_or_else(|error| panic!("keys: {error}"));
    }

    /// Presses `key` while `modifier` is held (for example Control and End).
    pub fn chord(&self, modifier: &str, key: &str) {
        let modifier = modifier.chars().next().expect("a modifier key");
        let key = key.chars().next().expect("a key");
        let actions = KeyActions::new("keyboard".to_string())
            .then(KeyAction::Down { value: modifier })
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key })
            .then(KeyAction::Up { value: modifier });
        self.runtime.block_on(self.client().perform_actions(actions)).unwrap_or_else(|error| panic!("keys: {error}"));
        self.runtime.block_on(self.client().release_actions()).unwrap_or_else(|error| panic!("keys: {error}"));
    }

    /// Changes the size of the browser window, as a person dragging its corner does.
    pub fn resize(&self, width: u32, height: u32) {
        self.runtime
            .block_on(self.client().set_window_size(width, height))
            .unwrap_or_else(|error| panic!("resizing the window to {width}x{height}: {error}"));
    }

    /// Reloads the page, as the browser's reload button does.
    pub fn reload(&self) {
        self.runtime.block_on(self.client().refresh()).unwrap_or_else(|error| panic!("reload: {error}"));
    }

    /// The address in the address bar.
    pub fn address(&self) -> String {
        self.runtime
            .block_on(self.client().current_url())
            .map(|url| url.to_string())
            .unwrap_or_else(|error| panic!("current URL: {error}"))
    }

    /// The id of the element that has the keyboard focus (empty when it has none).
    pub fn focused_id(&self) -> String {
        self.script("return document.activeElement ? document.activeElement.id : '';", Vec::new())
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Whether an element matches `css`.
    pub fn exists(&self, css: &str) -> bool {
        self.script("return document.querySelector(arguments[0]) !== null;", vec![Value::from(css)])
            == Value::Bool(true)
    }

    pub fn text(&self, css: &str) -> String {
        let element = self.element(css);
        self.runtime.block_on(element.text()).unwrap_or_else(|error| panic!("text of {css}: {error}"))
    }

    /// The PNG bytes of a screenshot of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        self.runtime.block_on(self.client().screenshot()).unwrap_or_else(|error| panic!("screenshot: {error}"))
    }
}
