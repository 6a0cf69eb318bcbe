//! The playground's automation: tools, the static bundle, browser tests, serving and the web benchmark.
//!
//! - [`dist`] builds `dist/` (index.html, JS, wasm, CSS, the language reference, and the library's texts
//!   under `scenarios/`) and reports its gzipped size.
//! - [`test`] runs the playground's native unit tests (the reducer, teaching modes, drafts), the
//!   `wasm-bindgen-test` suite in headless Chromium, then the end-to-end tests that drive the served
//!   playground through chromedriver.
//! - [`play`] builds and serves the playground on 127.0.0.1.
//! - [`bench`] measures the playground's budgets in headless Chromium and prints a table.
//!
//! Each installs what it needs on a fresh machine: the wasm32 target (rustup), `wasm-bindgen-cli` at
//! exactly the version in Cargo.lock (`cargo install`), and Debian's `chromium` and `chromium-driver`.

use super::{cargo, ensure_wasm_target, glue, root, run, say};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The whole app's budget: wasm + JS, gzipped.
const BUNDLE_BUDGET_BYTES: u64 = 250 * 1024;

/// The `wasm-bindgen` version pinned in Cargo.lock (the CLI must match it exactly).
fn locked_wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|error| format!("cannot read Cargo.lock: {error}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines.next().and_then(|line| line.trim().strip_prefix("version = ")) {
                return Ok(version.trim_matches('"').to_string());
            }
        }
    }
    Err("Cargo.lock names no wasm-bindgen package; is the web crate in the workspace?".to_string())
}

fn installed_wasm_bindgen_version() -> Option<String> {
    let output = Command::new("wasm-bindgen").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace().nth(1).map(str::to_string)
}

fn ensure_wasm_bindgen() -> Result<(), String> {
    let wanted = locked_wasm_bindgen_version()?;
    match installed_wasm_bindgen_version() {
        Some(version) if version == wanted => {
            say(&format!("wasm-bindgen-cli {wanted}: already installed"));
            return Ok(());
        }
        Some(version) => say(&format!("wasm-bindgen-cli is {version}, the crate is {wanted}: installing {wanted}")),
        None => say(&format!("installing wasm-bindgen-cli {wanted} (cargo install; a few minutes on a fresh machine)")),
    }
    // No `--locked`: the CLI's own lock file names a release the registry here does not serve.
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()));
    command.args(["install", "wasm-bindgen-cli", "--version", &wanted]);
    run(command)
}

fn ensure_chromium() -> Result<(), String> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        say("chromium and chromedriver: already installed");
        return Ok(());
    }
    say("installing Debian's chromium and chromium-driver (apt-get)");
    let mut update = Command::new("apt-get");
    update.arg("update");
    run(update)?;
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "chromium", "chromium-driver"]).env("DEBIAN_FRONTEND", "noninteractive");
    run(install)
}

/// The size `path` is sent at: its precompressed `PATH.gz` (written by [`precompress`], which
/// `ipclab serve` sends to a browser that accepts gzip), else what `gzip -9` makes of it.
fn gzip_size(path: &Path) -> Option<u64> {
    if let Ok(metadata) = std::fs::metadata(gz_path(path)) {
        return Some(metadata.len());
    }
    let output = Command::new("gzip").args(["-9", "-c"]).arg(path).output().ok()?;
    output.status.success().then_some(output.stdout.len() as u64)
}

/// `PATH.gz`, beside `PATH`.
fn gz_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".gz");
    PathBuf::from(name)
}

/// The files of `dist/` worth compressing: text and WebAssembly, in every directory.
fn compressible(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|error| format!("cannot list {}: {error}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            compressible(&path, found)?;
        } else if path
            .extension()
            .and_then(|extension| extension.to_str())
            .is_some_and(|extension| matches!(extension, "wasm" | "js" | "css" | "html" | "md" | "ipc" | "json" | "ts"))
        {
            found.push(path);
        }
    }
    Ok(())
}

/// Writes `PATH.gz` beside every text and WebAssembly file under `dir`, compressed with zopfli (gzip
/// format, DEFLATE as small as it gets: some 4 % under `gzip -9`), so that `ipclab serve` (or any static
/// server that looks for `.gz` files) sends the page compressed without compressing it at each request.
/// Both CPUs share the work, the largest files first.
fn precompress(dir: &Path) -> Result<(), String> {
    let mut files = Vec::new();
    compressible(dir, &mut files)?;
    files.sort_by_key(|path| std::cmp::Reverse(std::fs::metadata(path).map_or(0, |metadata| metadata.len())));
    let total: u64 = files.iter().map(|path| std::fs::metadata(path).map_or(0, |metadata| metadata.len())).sum();
    say(&format!(
        "compressing {} files ({:.1} MB) with zopfli for serving as gzip (about a minute on two CPUs)",
        files.len(),
        total as f64 / 1e6
    ));
    let started = std::time::Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(2, |count| count.get()).min(files.len().max(1));
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(path) = files.get(index) else { return Ok(()) };
                    let data =
                        std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
                    let mut compressed = Vec::with_capacity(data.len() / 3);
                    zopfli::compress(
                        zopfli::Options::default(),
                        zopfli::Format::Gzip,
                        data.as_slice(),
                        &mut compressed,
                    )
                    .map_err(|error| format!("cannot compress {}: {error}", path.display()))?;
                    let target = gz_path(path);
                    std::fs::write(&target, &compressed)
                        .map_err(|error| format!("cannot write {}: {error}", target.display()))?;
                    let count = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    if data.len() > 100_000 || count == files.len() {
                        eprintln!(
                            "    [{count}/{}] {} ({} to {} bytes, {:.0} s)",
                            files.len(),
                            path.strip_prefix(dir).unwrap_or(path).display(),
                            data.len(),
                            compressed.len(),
                            started.elapsed().as_secs_f64()
                        );
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_else(|_| Err("a compressing thread panicked".into())))
            .collect()
    });
    results.into_iter().collect::<Result<Vec<()>, String>>()?;
    Ok(())
}

/// Where the full module goes in `dist/` (the first module is `web.js` and `web_bg.wasm` at the top).
pub const FULL_DIR: &str = "full";

/// Builds the page's WebAssembly (with the IPC mechanisms or without them) and its JavaScript glue into
/// `out`, with short import names.
fn build_module(out: &Path, full: bool) -> Result<(), String> {
    let mut command = cargo();
    command.args(["build", "-p", "web", "--target", "wasm32-unknown-unknown", "--profile", "wasm-release"]);
    if full {
        say("building the full module: the playground with every mechanism (profile wasm-release)");
    } else {
        say("building the first module: the playground without the IPC mechanisms (queues, semaphores, shared memory, sockets, poll)");
        command.arg("--no-default-features");
    }
    run(command)?;
    let wasm = root().join("target").join("wasm32-unknown-unknown").join("wasm-release").join("web.wasm");
    say("generating the JavaScript bindings (wasm-bindgen)");
    let mut command = Command::new("wasm-bindgen");
    command
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--remove-name-section",
            "--remove-producers-section",
            "--out-dir",
        ])
        .arg(out)
        .arg(&wasm);
    run(command)?;
    let renamed = glue::shorten_import_names(&out.join("web_bg.wasm"), &out.join("web.js"))?;
    say(&format!("gave the {renamed} imports from the JavaScript glue short names, in both files"));
    Ok(())
}

/// Builds the playground into `dist/` and reports its size. Returns the directory.
///
/// The page is built twice from the same source: the module it loads first, without the System V and
/// POSIX message queues and semaphores, shared memory, sockets and `poll`/`select`/`epoll` (`web`'s
/// `full` feature off), at the top of `dist/`, and the full
/// module in `dist/full/`, which the page loads in its place when a scenario uses them.
pub fn dist() -> Result<PathBuf, String> {
    ensure_wasm_target()?;
    ensure_wasm_bindgen()?;
    let out = root().join("dist");
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|error| format!("cannot clear {}: {error}", out.display()))?;
    }
    std::fs::create_dir_all(&out).map_err(|error| format!("cannot create {}: {error}", out.display()))?;
    build_module(&out, false)?;
    build_module(&out.join(FULL_DIR), true)?;
    let static_dir = root().join("web").join("static");
    let entries =
        std::fs::read_dir(&static_dir).map_err(|error| format!("cannot list {}: {error}", static_dir.display()))?;
    for entry in entries.flatten() {
        let target = out.join(entry.file_name());
        std::fs::copy(entry.path(), &target)
            .map_err(|error| format!("cannot copy to {}: {error}", target.display()))?;
    }
    // The language reference, which the page fetches when its panel first opens.
    let reference = out.join("scenario-language.md");
    std::fs::copy(root().join("docs").join("scenario-language.md"), &reference)
        .map_err(|error| format!("cannot copy to {}: {error}", reference.display()))?;
    // The library's texts, which the page fetches when a scenario is first opened (`scenarios/STEM.ipc`).
    let library = out.join("scenarios");
    std::fs::create_dir_all(&library).map_err(|error| format!("cannot create {}: {error}", library.display()))?;
    let scenarios = root().join("scenarios");
    let entries =
        std::fs::read_dir(&scenarios).map_err(|error| format!("cannot list {}: {error}", scenarios.display()))?;
    for entry in entries.flatten() {
        if entry.path().extension().is_some_and(|extension| extension == "ipc") {
            let target = library.join(entry.file_name());
            std::fs::copy(entry.path(), &target)
                .map_err(|error| format!("cannot copy to {}: {error}", target.display()))?;
        }
    }
    build_api(&out)?;
    precompress(&out)?;
    report_size(&out);
    Ok(out)
}

/// The JavaScript module (`web/api`) in `dist/api/`: `ipclab.js`, its WebAssembly and `ipclab.d.ts`. It is
/// a module of its own, not part of the playground's page, so it does not count in the page's budget.
fn build_api(out: &Path) -> Result<(), String> {
    say("building the JavaScript module (web/api, profile wasm-api: fast over small)");
    let mut command = cargo();
    command.args(["build", "-p", "ipclab-js", "--target", "wasm32-unknown-unknown", "--profile", "wasm-api"]);
    run(command)?;
    let wasm = root().join("target").join("wasm32-unknown-unknown").join("wasm-api").join("ipclab.wasm");
    let api = out.join("api");
    let mut command = Command::new("wasm-bindgen");
    command
        .args(["--target", "web", "--remove-name-section", "--remove-producers-section", "--out-dir"])
        .arg(&api)
        .arg(&wasm);
    run(command)?;
    // The player element, beside the module it uses.
    let static_dir = root().join("web").join("api").join("static");
    let entries =
        std::fs::read_dir(&static_dir).map_err(|error| format!("cannot list {}: {error}", static_dir.display()))?;
    for entry in entries.flatten() {
        let target = api.join(entry.file_name());
        std::fs::copy(entry.path(), &target)
            .map_err(|error| format!("cannot copy to {}: {error}", target.display()))?;
    }
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&api).into_iter().flatten().flatten().map(|entry| entry.path()).collect();
    files.sort();
    for file in files {
        let raw = std::fs::metadata(&file).map(|metadata| metadata.len()).unwrap_or(0);
        let gzipped = gzip_size(&file).unwrap_or(raw);
        let name = file.file_name().unwrap_or_default().to_string_lossy().to_string();
        eprintln!("    api/{name:<16} {raw:>10} {gzipped:>10}");
    }
    Ok(())
}

/// Prints every file of `dist/` with its raw and gzipped size, and the app's total against the budget.
fn report_size(out: &Path) {
    // What is listed is what is fetched; each `.gz` beside it is counted as its size when sent.
    let listed = |dir: &Path| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_none_or(|extension| extension != "gz"))
            .collect();
        files.sort();
        files
    };
    let files = listed(out);
    let mut code_gzipped = 0;
    eprintln!("    {:<20} {:>10} {:>10}", "file", "bytes", "gzipped");
    for file in &files {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        if name == FULL_DIR {
            continue;
        }
        if file.is_dir() {
            // A directory of texts fetched one at a time (the library): its count and total size.
            let inner = listed(file);
            let raw: u64 = inner.iter().map(|path| std::fs::metadata(path).map_or(0, |metadata| metadata.len())).sum();
            let gzipped: u64 = inner.iter().map(|path| gzip_size(path).unwrap_or(0)).sum();
            eprintln!("    {:<20} {raw:>10} {gzipped:>10}", format!("{name}/ ({} files)", inner.len()));
            continue;
        }
        let raw = std::fs::metadata(file).map(|metadata| metadata.len()).unwrap_or(0);
        let gzipped = gzip_size(file).unwrap_or(raw);
        // The exploring worker is fetched only when a visitor explores every schedule (with api/).
        if (name.ends_with(".wasm") || name.ends_with(".js")) && name != "explore-worker.js" {
            code_gzipped += gzipped;
        }
        eprintln!("    {name:<20} {raw:>10} {gzipped:>10}");
    }
    let mut full_gzipped = 0;
    for name in ["web.js", "web_bg.wasm"] {
        let file = out.join(FULL_DIR).join(name);
        let raw = std::fs::metadata(&file).map(|metadata| metadata.len()).unwrap_or(0);
        let gzipped = gzip_size(&file).unwrap_or(raw);
        full_gzipped += gzipped;
        eprintln!("    {:<20} {raw:>10} {gzipped:>10}", format!("{FULL_DIR}/{name}"));
    }
    let verdict = if code_gzipped <= BUNDLE_BUDGET_BYTES { "within" } else { "OVER" };
    say(&format!(
        "first load (wasm + JS, gzipped: web_bg.wasm and web.js, without the IPC mechanisms): {:.1} KB, {verdict} the {} KB budget",
        code_gzipped as f64 / 1024.0,
        BUNDLE_BUDGET_BYTES / 1024
    ));
    say(&format!(
        "on demand (wasm + JS, gzipped: {FULL_DIR}/, the full module, loaded in its place when a scenario uses message queues, semaphores, shared memory, sockets or poll/select/epoll): {:.1} KB",
        full_gzipped as f64 / 1024.0
    ));
}

/// A running `ipclab serve`, stopped when dropped.
pub struct Server {
    child: Child,
    pub address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds the command line and starts `ipclab serve --port PORT --dir dist`; waits for its address.
pub fn serve(dist: &Path, port: u16) -> Result<Server, String> {
    let mut command = cargo();
    command.args(["build", "-q", "-p", "native-runner"]);
    run(command)?;
    let binary = root().join("target").join("debug").join("ipclab");
    let mut child = Command::new(&binary)
        .args(["serve", "--port", &port.to_string(), "--dir"])
        .arg(dist)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", binary.display()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).map_err(|error| format!("ipclab serve said nothing: {error}"))?;
    let Some(address) = line.split_whitespace().find(|word| word.starts_with("http://")) else {
        let _ = child.kill();
        return Err(format!("ipclab serve did not print its address (it printed {line:?})"));
    };
    Ok(Server { child, address: address.to_string() })
}

/// The JavaScript module's tests, in Node: every function of `web/api` as JavaScript calls it.
pub fn test_api() -> Result<(), String> {
    ensure_wasm_bindgen()?;
    let mut command = cargo();
    command
        .args(["test", "-p", "ipclab-js", "--target", "wasm32-unknown-unknown", "--test", "api"])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner");
    run(command)
}

pub fn test() -> Result<(), String> {
    say("the playground's state, teaching and drawing logic, natively (no browser)");
    let mut command = cargo();
    command.args(["test", "-p", "web", "--lib"]);
    run(command)?;
    say("the module the page loads first (without the IPC mechanisms) hands a scenario using them over");
    let mut command = cargo();
    command.args(["test", "-p", "web", "--lib", "--no-default-features", "--", "hands_over_to_the_full_module"]);
    run(command)?;
    ensure_chromium()?;
    let out = dist()?;
    say("running the playground's wasm-bindgen tests in headless Chromium");
    let mut command = cargo();
    command
        .args(["test", "-p", "web", "--target", "wasm32-unknown-unknown", "--test", "browser"])
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    run(command)?;
    say("the same tests with the page's first module (without the IPC mechanisms and teaching modes)");
    let mut command = cargo();
    command
        .args(["test", "-p", "web", "--target", "wasm32-unknown-unknown", "--no-default-features", "--test", "browser"])
        .env("CHROMEDRIVER", CHROMEDRIVER)
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    run(command)?;
    say("serving the playground for the end-to-end tests");
    let server = serve(&out, 0)?;
    say(&format!("end-to-end tests against {} (chromedriver + headless Chromium)", server.address));
    let mut command = cargo();
    command
        .args(["test", "-p", "web", "--features", "e2e", "--test", "e2e", "--", "--test-threads", "1"])
        .env("IPCLAB_PLAYGROUND_URL", &server.address)
        .env("IPCLAB_ARTIFACTS", root().join("target").join("artifacts"));
    run(command)?;
    drop(server);
    say(&format!(
        "screenshots (360, 768 and 1400 px wide, and each teaching mode) saved in {}",
        root().join("target").join("artifacts").display()
    ));
    Ok(())
}

pub fn play() -> Result<(), String> {
    let out = dist()?;
    let port: u16 = std::env::var("IPCLAB_PORT").ok().and_then(|port| port.parse().ok()).unwrap_or(8000);
    say(&format!("serving the playground on 127.0.0.1:{port} (set IPCLAB_PORT to change; Ctrl-C stops it)"));
    let mut command = cargo();
    command.args(["build", "-q", "-p", "native-runner"]);
    run(command)?;
    let mut command = Command::new(root().join("target").join("debug").join("ipclab"));
    command.args(["serve", "--port", &port.to_string(), "--dir"]).arg(out);
    run(command)
}

/// Round trips of the ping-pong that `cargo xtask web-bench` times in WebAssembly and natively (the
/// program `web_bench` reads the count from `ipclab bench`'s JSON).
const SPEED_MESSAGES: &str = "200000";

/// The scenario whose every schedule `cargo xtask web-bench` explores natively and in WebAssembly (the
/// classic bounded buffer, whose goal is under 0.5 s natively and under 2 s in a browser), and the limit
/// of states both runs are given (more than it needs).
const EXPLORE_STEM: &str = "sem-bounded-buffer";
const EXPLORE_STATES: &str = "5000000";

pub fn bench() -> Result<(), String> {
    ensure_chromium()?;
    let out = dist()?;
    let server = serve(&out, 0)?;
    say(&format!(
        "measuring the playground's budgets, and the simulator's speed in WebAssembly against native, in headless Chromium at {}",
        server.address
    ));
    let json = root().join("target").join("bench").join("web.json");
    // The native figure beside the WebAssembly one: `ipclab bench` itself (release, the command line's
    // build of sim-core), on the same ping-pong, its JSON handed to the program below.
    say("the same ping-pong natively: ipclab bench (release), for the WebAssembly / native ratio");
    let mut command = cargo();
    command.args(["build", "-q", "--release", "-p", "native-runner"]);
    run(command)?;
    let native = root().join("target").join("bench").join("native.json");
    // `ipclab bench --json` writes into an existing directory; a fresh target has none yet.
    let bench_dir = root().join("target").join("bench");
    std::fs::create_dir_all(&bench_dir).map_err(|error| format!("cannot create {}: {error}", bench_dir.display()))?;
    let mut command = Command::new(root().join("target").join("release").join("ipclab"));
    command.args(["bench", "--messages", SPEED_MESSAGES, "--repeat", "5", "--json"]).arg(&native);
    run(command)?;
    // The explorer natively on the bounded buffer, every schedule with the default reduction, beside the
    // same exploration in WebAssembly.
    say("the bounded buffer's every schedule natively: ipclab explore (release), beside the same in WebAssembly");
    let explored = bench_dir.join("explore-native.json");
    let output = Command::new(root().join("target").join("release").join("ipclab"))
        .arg("explore")
        .arg(root().join("scenarios").join(format!("{EXPLORE_STEM}.ipc")))
        .args(["--format", "json", "--quiet", "--no-shrink", "--max-states", EXPLORE_STATES])
        .output()
        .map_err(|error| format!("cannot run ipclab explore: {error}"))?;
    // Exit status 1 only says a schedule failed an expectation; anything else is a failed run.
    if !matches!(output.status.code(), Some(0 | 1)) {
        return Err(format!(
            "ipclab explore {EXPLORE_STEM} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    std::fs::write(&explored, &output.stdout)
        .map_err(|error| format!("cannot write {}: {error}", explored.display()))?;
    let mut command = cargo();
    // Release: the program also runs the simulator natively, beside the WebAssembly figure.
    command
        .args(["run", "-q", "--release", "-p", "web", "--example", "web_bench", "--"])
        .arg(&server.address)
        .arg(&json)
        .arg(&out)
        .arg(&native)
        .arg(&explored)
        .arg(root().join("scenarios").join(format!("{EXPLORE_STEM}.ipc")))
        .arg(EXPLORE_STATES);
    run(command)?;
    say(&format!("results written to {}", json.display()));
    Ok(())
}
