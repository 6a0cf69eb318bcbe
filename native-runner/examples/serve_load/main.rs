//! `serve_load`: the load behind `cargo xtask serve-bench`. It starts `ipclab serve` on 127.0.0.1 for
//! each row of a fixed table of loads, runs the row's rounds ([`load::run`]) one after another on that
//! server, stops it with `SIGTERM`, and prints what it saw as a table (and as JSON with `--json PATH`).
//!
//! Usage: `serve_load PATH-TO-IPCLAB [--json PATH]`. Every row is bounded in count and time (each
//! round ends within a minute whatever happens); the whole table takes seconds.

mod load;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// One row of the table: a load, and the options the server runs with.
struct Row {
    name: &'static str,
    server_args: &'static [&'static str],
    load: load::Load,
    /// Rounds run one after another on the same server (the table shows totals and the worst round).
    rounds: usize,
}

fn rows() -> Vec<Row> {
    let page = |idle: usize, concurrent: usize| load::Load {
        idle,
        concurrent,
        probes: 20,
        path: "/".to_string(),
        expected_bytes: load::INDEX_HTML.len(),
        deadline: Duration::from_secs(60),
    };
    vec![
        Row { name: "the target: 1,000 idle + 2,000 concurrent", server_args: &[], load: page(1000, 2000), rounds: 1 },
        Row { name: "the target, 10 rounds on one server", server_args: &[], load: page(1000, 2000), rounds: 10 },
        Row {
            name: "256 KiB file: 1,000 idle + 500 concurrent",
            server_args: &[],
            load: load::Load { path: "/app.wasm".to_string(), expected_bytes: 256 * 1024, ..page(1000, 500) },
            rounds: 1,
        },
        Row {
            name: "past the cap: 5,000 idle + 2,000 concurrent",
            server_args: &[],
            load: page(5000, 2000),
            rounds: 1,
        },
        Row {
            name: "--max-connections 256: 1,000 idle + 200 concurrent",
            server_args: &["--max-connections", "256"],
            load: page(1000, 200),
            rounds: 1,
        },
    ]
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(ipclab) = args.first().map(PathBuf::from) else {
        eprintln!("usage: serve_load PATH-TO-IPCLAB [--json PATH]");
        return ExitCode::from(2);
    };
    let json_path = match args.get(1).map(String::as_str) {
        Some("--json") => args.get(2).map(PathBuf::from),
        Some(other) => {
            eprintln!("serve_load: unknown option {other:?}");
            return ExitCode::from(2);
        }
        None => None,
    };
    let descriptors = load::raise_descriptor_limit();
    let scratch = std::env::temp_dir().join(format!("ipclab-serve-load-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    let site = load::make_site(&scratch);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    eprintln!("serve_load: ipclab serve on 127.0.0.1, one server per row (this process may open {descriptors} files)");

    let mut table = String::from(
        "| load | idle held at the end | concurrent requests answered | failed | p50 ms | p99 ms | max ms | \
         well-behaved client: answered, slowest ms | server CPU s | server peak RSS MiB | SIGTERM | seconds |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n",
    );
    let mut records = Vec::new();
    let mut all_answered = true;
    for row in rows() {
        eprintln!("  {} ...", row.name);
        let mut server = load::Server::start(&ipclab, &site, row.server_args);
        let mut figures = load::Figures::default();
        for _ in 0..row.rounds {
            let round = runtime.block_on(load::run(server.address, &row.load));
            figures = figures.merged_with(round);
        }
        let cpu_seconds = server.cpu_seconds();
        let peak_rss_mib = server.peak_rss_kib() as f64 / 1024.0;
        let stopped = server.stop(libc::SIGTERM, Duration::from_secs(10));
        let sigterm = match stopped.and_then(|status| status.code()) {
            Some(0) => "exit 0".to_string(),
            Some(code) => format!("exit {code}"),
            None => "did not stop".to_string(),
        };
        let (concurrent, probes) = (row.load.concurrent * row.rounds, row.load.probes * row.rounds);
        all_answered &= figures.concurrent_ok == concurrent && figures.probes_ok == probes;
        table.push_str(&format!(
            "| {} | {} of {} | {} of {} | {} | {:.1} | {:.1} | {:.1} | {} of {}, {:.1} | {:.2} | {:.1} | {} | {:.1} |\n",
            row.name,
            figures.idle_still_open,
            row.load.idle,
            figures.concurrent_ok,
            concurrent,
            figures.concurrent_failed,
            figures.latency_p50_ms,
            figures.latency_p99_ms,
            figures.latency_max_ms,
            figures.probes_ok,
            probes,
            figures.probe_max_ms,
            cpu_seconds,
            peak_rss_mib,
            sigterm,
            figures.seconds,
        ));
        for failure in &figures.failures {
            eprintln!("    {failure}");
        }
        records.push(serde_json::json!({
            "load": row.name,
            "server_args": row.server_args,
            "rounds": row.rounds,
            "idle": row.load.idle,
            "idle_opened": figures.idle_opened,
            "idle_still_open": figures.idle_still_open,
            "concurrent": concurrent,
            "concurrent_connected": figures.concurrent_connected,
            "concurrent_ok": figures.concurrent_ok,
            "concurrent_failed": figures.concurrent_failed,
            "latency_ms": {"p50": figures.latency_p50_ms, "p99": figures.latency_p99_ms, "max": figures.latency_max_ms},
            "probes": probes,
            "probes_ok": figures.probes_ok,
            "probe_max_ms": figures.probe_max_ms,
            "server_cpu_seconds": cpu_seconds,
            "server_peak_rss_mib": peak_rss_mib,
            "sigterm": sigterm,
            "seconds": figures.seconds,
            "failures": figures.failures,
        }));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    print!("{table}");
    if let Some(path) = json_path {
        let text = serde_json::to_string_pretty(&serde_json::json!({ "rows": records })).expect("records serialize");
        if let Err(error) = std::fs::write(&path, text) {
            eprintln!("serve_load: cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if all_answered {
        ExitCode::SUCCESS
    } else {
        eprintln!("serve_load: some requests of a well-behaved client were not answered");
        ExitCode::FAILURE
    }
}
