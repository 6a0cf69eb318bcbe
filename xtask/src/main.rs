//! `cargo xtask`: the project's automation, in Rust.
//!
//! - `cargo xtask play`  builds the playground and serves it on 127.0.0.1 (see `web.rs`).
//! - `cargo xtask dist`  builds the playground alone into `dist/` (static files for any host).
//! - `cargo xtask web-bench` measures the playground's budgets in headless Chromium.
//! - `cargo xtask test`  sets everything up and runs every test.
//! - `cargo xtask bench` measures the simulator against real Linux pipes.
//! - `cargo xtask serve-bench` loads `ipclab serve` on 127.0.0.1: idle connections, 2,000 concurrent
//!   requests, the connection cap, `SIGTERM`; a table, and JSON in `target/bench/serve.json`.
//! - `cargo xtask fuzz [TARGET...] [--minutes M | --cases N] [--seed S] [--save]` fuzzes the parser,
//!   the share-link decoder, the compiler and the kernel (`tests/src/fuzz.rs`), with a table at the end.
//! - `cargo xtask bless` rewrites the golden traces in `scenarios/` from the current simulator.
//! - `cargo xtask free-check [--runs N] [--seed S] [--all] [--debug]` runs `ipclab check --free` long
//!   over the library (1,000 runs of each scenario that declares outcomes by default; `--all`: every
//!   scenario a free check takes), with a table at the end. `cargo xtask test` runs a bounded version
//!   (20 runs, seed 1) through `native-runner/tests/check_free.rs`.
//! - `cargo xtask differ [--cases N] [--seed S] [--kind K] [--shrink N]` draws scenarios with the
//!   property tests' generators, checks each against Linux with `ipclab check`, and shrinks each that
//!   differs (`tests/src/differ.rs`), with a table at the end. `cargo xtask test` runs a bounded version
//!   through `native-runner/tests/differ.rs`.
//! - `cargo xtask docs`  rewrites the generated parts of the docs (the call table of
//!   `docs/scenario-language.md`) from the simulator's table of system calls.
//!
//! Each command says what it is doing as it goes, and installs what it needs on a fresh machine.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod glue;
mod web;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn say(message: &str) {
    eprintln!("==> {message}");
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()));
    command.current_dir(root());
    command
}

/// Runs a command, echoing it first; an error says which command failed and how.
fn run(mut command: Command) -> Result<(), String> {
    let shown = format!(
        "{} {}",
        command.get_program().to_string_lossy(),
        command.get_args().map(|arg| arg.to_string_lossy()).collect::<Vec<_>>().join(" ")
    );
    eprintln!("    $ {shown}");
    let status = command.status().map_err(|error| format!("cannot start `{shown}`: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// `rustup target add wasm32-unknown-unknown` unless it is already there.
fn ensure_wasm_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).contains("wasm32-unknown-unknown"))
        .unwrap_or(false);
    if installed {
        say("wasm32-unknown-unknown target: already installed");
        return Ok(());
    }
    say("installing the wasm32-unknown-unknown target (rustup)");
    let mut command = Command::new("rustup");
    command.args(["target", "add", "wasm32-unknown-unknown"]);
    run(command)
}

fn test() -> Result<(), String> {
    ensure_wasm_target()?;
    say("checking that sim-core builds for WebAssembly");
    let mut command = cargo();
    command.args(["check", "-p", "sim-core", "--target", "wasm32-unknown-unknown"]);
    run(command)?;
    say("clippy on the whole workspace, warnings as errors");
    let mut command = cargo();
    command.args(["clippy", "--workspace", "--exclude", "web", "--all-targets", "--", "-D", "warnings"]);
    run(command)?;
    let mut command = cargo();
    command.args(["clippy", "-p", "web", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"]);
    run(command)?;
    // The page's first module: the same source without the IPC mechanisms.
    let mut command = cargo();
    command.args([
        "clippy",
        "-p",
        "web",
        "--target",
        "wasm32-unknown-unknown",
        "--no-default-features",
        "--",
        "-D",
        "warnings",
    ]);
    run(command)?;
    let mut command = cargo();
    command.args([
        "clippy",
        "-p",
        "ipclab-js",
        "--target",
        "wasm32-unknown-unknown",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(command)?;
    say("running every test of the workspace (unit, golden traces, determinism, properties, tidy)");
    let mut command = cargo();
    command.args(["test", "--workspace", "--exclude", "web"]);
    run(command)?;
    say("the JavaScript module: every function, with good and bad input, in Node (wasm-bindgen tests)");
    web::test_api()?;
    say("the playground: WebAssembly tests and end-to-end tests in headless Chromium");
    web::test()?;
    say("all tests passed");
    Ok(())
}

fn play() -> Result<(), String> {
    web::play()
}

/// Fuzzing for as long as asked (30 minutes split between the targets unless told otherwise).
fn fuzz(args: &[String]) -> Result<(), String> {
    say("building the fuzz driver (release)");
    let mut command = cargo();
    command.args(["build", "--release", "-p", "ipclab-tests", "--bin", "fuzz"]);
    run(command)?;
    let mut command = Command::new(root().join("target").join("release").join("fuzz"));
    if args.iter().any(|arg| arg == "--minutes" || arg == "--cases") {
        command.args(args);
    } else {
        command.args(args).args(["--minutes", "30"]);
    }
    say("fuzzing: a line of progress per target, a table at the end; findings go to target/fuzz/findings/");
    run(command)
}

fn differ(args: &[String]) -> Result<(), String> {
    say("building the ipclab command line and the differ driver (release)");
    let mut command = cargo();
    command.args([
        "build",
        "--release",
        "-p",
        "native-runner",
        "-p",
        "ipclab-tests",
        "--bin",
        "ipclab",
        "--bin",
        "differ",
    ]);
    run(command)?;
    let release = root().join("target").join("release");
    let mut command = Command::new(release.join("differ"));
    command.arg("--ipclab").arg(release.join("ipclab")).args(args);
    say("checking drawn scenarios against Linux: progress on one line, a table at the end; findings go to target/differ/findings/");
    run(command)
}

fn bench() -> Result<(), String> {
    say("building the ipclab command line (release)");
    let mut command = cargo();
    command.args(["build", "--release", "-p", "native-runner"]);
    run(command)?;
    let out_dir = root().join("target").join("bench");
    std::fs::create_dir_all(&out_dir).map_err(|error| format!("cannot create {}: {error}", out_dir.display()))?;
    let json = out_dir.join("pipe-ping-pong.json");
    say("pipe ping-pong: simulator against real Linux pipes");
    let mut command = Command::new(root().join("target").join("release").join("ipclab"));
    command.args(["bench", "--messages", "1000000", "--json"]).arg(&json);
    run(command)?;
    let real = out_dir.join("real.json");
    say("real IPC: every mechanism on this host, beside the simulator's account (about a minute)");
    let mut command = Command::new(root().join("target").join("release").join("ipclab"));
    command.args(["bench", "real", "--json"]).arg(&real);
    run(command)?;
    say(&format!("results written to {} and {}", json.display(), real.display()));
    Ok(())
}

/// The explorer on the classic bounded buffer and its variants, with the Spin model checker's
/// published figures for the same system beside them (Spin 6.5.2 on its Promela version: 111,501
/// states in 0.09 s with partial-order reduction, 431,949 states in 0.23 s without).
fn explore_bench() -> Result<(), String> {
    say("building the ipclab command line (release)");
    let mut command = cargo();
    command.args(["build", "--release", "-p", "native-runner"]);
    run(command)?;
    let ipclab = root().join("target").join("release").join("ipclab");
    // Each exhaustive run with sleep sets and without; a bound on preemptions goes without reduction.
    // The bounded buffer's every schedule needs more than the default limit of states.
    let runs: [(&str, &str, &[&str]); 8] = [
        ("bounded buffer, every schedule", "sem-bounded-buffer", &["--reduction", "none", "--max-states", "5000000"]),
        ("bounded buffer, every schedule", "sem-bounded-buffer", &["--reduction", "sleep", "--max-states", "5000000"]),
        ("bounded buffer, <= 1 preemption", "sem-bounded-buffer", &["--max-preemptions", "1"]),
        (
            "bounded buffer, <= 2 preemptions",
            "sem-bounded-buffer",
            &["--max-preemptions", "2", "--max-states", "5000000"],
        ),
        ("swapped P's, every schedule", "sem-producer-consumer-deadlock", &["--reduction", "none"]),
        ("swapped P's, every schedule", "sem-producer-consumer-deadlock", &["--reduction", "sleep"]),
        ("no mutex, every schedule", "sem-no-mutex", &["--reduction", "none"]),
        ("no mutex, every schedule", "sem-no-mutex", &["--reduction", "sleep"]),
    ];
    let mut rows = Vec::new();
    for (what, stem, extra) in runs {
        say(&format!("ipclab explore {stem} {}", extra.join(" ")));
        let file = root().join("scenarios").join(format!("{stem}.ipc"));
        let output = Command::new(&ipclab)
            .arg("explore")
            .arg(&file)
            .args(["--format", "json", "--quiet", "--no-shrink"])
            .args(extra)
            .output()
            .map_err(|error| format!("cannot run {}: {error}", ipclab.display()))?;
        let json: serde_json::Value = serde_json::from_slice(&output.stdout)
            .map_err(|error| format!("ipclab explore {stem} printed no JSON ({error})"))?;
        let outcomes = json["outcomes"].as_array().map_or(0, Vec::len);
        let deadlocks = json["outcomes"]
            .as_array()
            .map_or(0, |all| all.iter().filter(|outcome| outcome["ending"] == "deadlock").count());
        rows.push([
            what.to_string(),
            json["reduction"].as_str().unwrap_or("?").to_string(),
            json["states"].to_string(),
            json["steps"].to_string(),
            // With sleep sets, classes of schedules that differ only in the order of independent steps.
            format!("{} {}", json["schedules"].as_str().unwrap_or("?"), json["counts"].as_str().unwrap_or("?")),
            outcomes.to_string(),
            if deadlocks > 0 { "yes".to_string() } else { "no".to_string() },
            if json["complete"] == true { "yes".to_string() } else { "no (state limit)".to_string() },
            format!("{:.2}", json["seconds"].as_f64().unwrap_or(f64::NAN)),
        ]);
    }
    let spin = |what: &str, reduction: &str, states: &str, seconds: &str| {
        [
            what.to_string(),
            reduction.to_string(),
            states.to_string(),
            "-".into(),
            "-".into(),
            "-".into(),
            "no".into(),
            "yes".into(),
            seconds.to_string(),
        ]
    };
    rows.push(spin("Spin 6.5.2, bounded buffer (published)", "Spin's POR", "111501", "0.09"));
    rows.push(spin("Spin 6.5.2, bounded buffer (published)", "none", "431949", "0.23"));
    let header = ["run", "reduction", "states", "steps", "counted", "outcomes", "deadlock", "complete", "seconds"];
    let widths: Vec<usize> = (0..header.len())
        .map(|column| rows.iter().map(|row| row[column].len()).chain([header[column].len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: &[String]| {
        let mut text = String::new();
        for (column, cell) in cells.iter().enumerate() {
            if column == 0 {
                text.push_str(&format!("{cell:<width$}", width = widths[0]));
            } else {
                text.push_str(&format!("  {cell:>width$}", width = widths[column]));
            }
        }
        text
    };
    println!("{}", line(&header.map(String::from)));
    for row in &rows {
        println!("{}", line(row));
    }
    Ok(())
}

/// `ipclab check --free` over the library, long: each scenario on its own (so one that is refused does
/// not hide the others), a row per scenario, and a failure if Linux showed an outcome the model says
/// cannot happen or refuted a declared outcome.
fn free_check(args: &[String]) -> Result<(), String> {
    let mut runs = 1000u64;
    let mut seed = 0u64;
    let mut all = false;
    let mut debug = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            rest.next().and_then(|value| value.parse().ok()).ok_or_else(|| format!("{name} takes a number"))
        };
        match arg.as_str() {
            "--runs" => runs = number("--runs")?,
            "--seed" => seed = number("--seed")?,
            "--all" => all = true,
            "--debug" => debug = true,
            other => return Err(format!("free-check: unknown option `{other}` (--runs N, --seed S, --all, --debug)")),
        }
    }
    let profile = if debug { "debug" } else { "release" };
    say(&format!("building the ipclab command line ({profile})"));
    let mut command = cargo();
    command.args(["build", "-p", "native-runner"]);
    if !debug {
        command.arg("--release");
    }
    run(command)?;
    let ipclab = root().join("target").join(profile).join("ipclab");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .map_err(|error| format!("cannot list scenarios/: {error}"))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "ipc"))
        .filter(|path| {
            all || std::fs::read_to_string(path).is_ok_and(|text| text.lines().any(|line| line.starts_with("outcome ")))
        })
        .collect();
    files.sort();
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for file in &files {
        let name = file.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        say(&format!("ipclab check --free {runs} --seed {seed} {name}"));
        let output = Command::new(&ipclab)
            .args(["check", "--quiet", "--format", "json", "--free", &runs.to_string(), "--seed", &seed.to_string()])
            .arg(file)
            .output()
            .map_err(|error| format!("cannot run {}: {error}", ipclab.display()))?;
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|error| {
            format!(
                "ipclab check --free {name} printed no JSON ({error}): {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )
        })?;
        let report = &json["files"][0];
        if report["refused"].is_string() {
            rows.push([name, "refused".to_string(), "-".to_string(), "-".to_string(), "-".to_string()]);
            continue;
        }
        let seen: Vec<String> = report["rows"]
            .as_array()
            .map(|rows| {
                rows.iter().filter(|row| row["linux"].as_u64() > Some(0)).map(|row| row["linux"].to_string()).collect()
            })
            .unwrap_or_default();
        let allowed =
            report["rows"].as_array().map_or(0, |rows| rows.iter().filter(|row| row["allowed"] == true).count());
        let agrees = report["agrees"] == true;
        if !agrees {
            failed.push(name.clone());
            // The whole report, with the order of calls of each run the model cannot explain.
            eprintln!("{}", serde_json::to_string_pretty(report).unwrap_or_default());
        }
        rows.push([
            name,
            if agrees { "agrees".to_string() } else { "DISAGREES".to_string() },
            seen.join("+"),
            allowed.to_string(),
            report["unclear"].as_array().map_or(0, Vec::len).to_string(),
        ]);
    }
    let header = ["scenario", "verdict", "linux outcomes (runs)", "model outcomes", "unclear runs"];
    let widths: Vec<usize> = (0..header.len())
        .map(|column| rows.iter().map(|row| row[column].len()).chain([header[column].len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .enumerate()
            .map(|(column, cell)| format!("{cell:<width$}", width = widths[column]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    println!("{}", line(&header.map(String::from)));
    for row in &rows {
        println!("{}", line(row));
    }
    if failed.is_empty() {
        say(&format!("every scenario checked free agrees with the model ({runs} runs each, seeds from {seed})"));
        Ok(())
    } else {
        Err(format!(
            "Linux showed what the model says cannot happen, or refuted a declared outcome: {}",
            failed.join(", ")
        ))
    }
}

fn serve_bench() -> Result<(), String> {
    say("building the ipclab command line and the load generator (release)");
    let mut command = cargo();
    command.args(["build", "--release", "-p", "native-runner", "--bin", "ipclab", "--example", "serve_load"]);
    run(command)?;
    let release = root().join("target").join("release");
    let out_dir = root().join("target").join("bench");
    std::fs::create_dir_all(&out_dir).map_err(|error| format!("cannot create {}: {error}", out_dir.display()))?;
    let json = out_dir.join("serve.json");
    say("ipclab serve under load, on 127.0.0.1 only (each row bounded in count and time)");
    let mut command = Command::new(release.join("examples").join("serve_load"));
    command.arg(release.join("ipclab")).arg("--json").arg(&json);
    run(command)?;
    say(&format!("results written to {}", json.display()));
    Ok(())
}

fn bless() -> Result<(), String> {
    say("rewriting golden traces from the current simulator");
    let mut command = cargo();
    command.args(["test", "-p", "ipclab-tests", "--test", "golden"]).env("IPCLAB_BLESS", "1");
    run(command)?;
    say("review the changes with `git diff scenarios/` before committing them");
    Ok(())
}

/// The call table's markers in `docs/scenario-language.md`; the tidy test checks what lies between.
const CALLS_BEGIN: &str = "<!-- calls: generated by `cargo xtask docs` from sim-core/src/lang/syscalls.rs -->\n";
const CALLS_END: &str = "<!-- end of calls -->";

fn docs() -> Result<(), String> {
    let path = root().join("docs").join("scenario-language.md");
    let text = std::fs::read_to_string(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let start = text
        .find(CALLS_BEGIN)
        .ok_or_else(|| format!("{}: the start marker of the call table is missing", path.display()))?
        + CALLS_BEGIN.len();
    let stop = text[start..]
        .find(CALLS_END)
        .ok_or_else(|| format!("{}: the end marker of the call table is missing", path.display()))?
        + start;
    let table = sim_core::lang::syscalls::reference_table();
    if text[start..stop] == table {
        say(&format!("{}: the call table is up to date", path.display()));
        return Ok(());
    }
    let updated = format!("{}{}{}", &text[..start], table, &text[stop..]);
    // Written beside and renamed over, so an interruption never leaves half a file.
    let temporary = path.with_extension("md.tmp");
    std::fs::write(&temporary, updated).map_err(|error| format!("cannot write {}: {error}", temporary.display()))?;
    std::fs::rename(&temporary, &path).map_err(|error| format!("cannot replace {}: {error}", path.display()))?;
    say(&format!("{}: call table rewritten ({} calls)", path.display(), sim_core::lang::syscalls::CALLS.len()));
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("play") => play(),
        Some("bench") => bench(),
        Some("serve-bench") => serve_bench(),
        Some("bless") => bless(),
        Some("fuzz") => fuzz(&args[1..]),
        Some("docs") => docs(),
        Some("dist") => web::dist().map(|_| ()),
        Some("web-bench") => web::bench(),
        Some("explore-bench") => explore_bench(),
        Some("free-check") => free_check(&args[1..]),
        Some("differ") => differ(&args[1..]),
        Some(other) => Err(format!(
            "unknown command `{other}`; expected play, test, bench, serve-bench, fuzz, bless, docs, dist, web-bench, \
             explore-bench, free-check or differ"
        )),
        None => Err("usage: cargo xtask \
             <play|test|bench|serve-bench|fuzz|bless|docs|dist|web-bench|explore-bench|free-check|differ>"
            .to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}
