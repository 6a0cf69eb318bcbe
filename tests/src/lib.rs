//! Helpers shared by the cross-crate tests: finding the scenario library and running a scenario the
//! one way every test runs it, so that golden files, determinism checks and tidy checks agree.

pub mod differ;
pub mod fuzz;
pub mod generate;
pub mod signal_laws;

/// FNV-1a, 64 bits: a stable hash of bytes (names corpus files, seeds a kernel input's schedule).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ *byte as u64).wrapping_mul(0x0100_0000_01b3))
}

use sim_core::{Policy, Report, RunConfig, Simulation};
use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ lives in the workspace").to_path_buf()
}

/// Every `.ipc` file in `scenarios/`, sorted by name.
pub fn library() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/ exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "ipc"))
        .collect();
    files.sort();
    files
}

/// A finished run: its report and its trace as text.
pub struct Run {
    pub report: Report,
    pub text: String,
    pub simulation: Simulation,
}

/// Parses `source` (panicking with the rendered diagnostics if it does not parse) and runs it to the end
/// with kernel invariants checked after every step.
pub fn run_text(name: &str, source: &str, seed: u64, policy: Policy) -> Run {
    let scenario = match sim_core::parse(source) {
        Ok(scenario) => scenario,
        Err(diagnostics) => {
            let rendered: Vec<String> = diagnostics.iter().map(|diagnostic| diagnostic.render(name)).collect();
            panic!("{name} does not parse:\n{}", rendered.join("\n"));
        }
    };
    let config = RunConfig { seed, policy, check_invariants: true, ..RunConfig::default() };
    let mut simulation = Simulation::new(&scenario, config).unwrap_or_else(|error| panic!("{name}: {}", error.message));
    if let Err(error) = simulation.run() {
        panic!("{name}: {error}");
    }
    let report = simulation.report().expect("finished");
    let text = trace_text(&simulation);
    Run { report, text, simulation }
}

pub fn run_file(path: &Path, seed: u64, policy: Policy) -> Run {
    let source = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    run_text(&path.display().to_string(), &source, seed, policy)
}

/// The golden form of a run: one event per line, then the failures, then the outcome and hash.
pub fn trace_text(simulation: &Simulation) -> String {
    let mut text = sim_core::present::render::trace_text(simulation.program(), simulation.trace());
    let report = simulation.report().expect("finished");
    for failure in &report.failures {
        text.push_str(&format!(
            "expectation failed at {}:{} in {}: expected {}, got {}\n",
            failure.span.line, failure.span.col, failure.process, failure.expected, failure.got
        ));
    }
    text.push_str(&format!(
        "outcome: {}; steps: {}; trace hash: {:016x}\n",
        report.outcome.name(),
        report.steps,
        report.trace_hash
    ));
    text
}

/// Every system call a scenario makes somewhere in its code (`fork` included).
pub fn calls_used(scenario: &sim_core::Scenario) -> std::collections::BTreeSet<sim_core::lang::syscalls::CallId> {
    use sim_core::ast::Stmt;
    use sim_core::lang::syscalls::CallId;
    fn walk(body: &[Stmt], out: &mut std::collections::BTreeSet<CallId>) {
        for stmt in body {
            match stmt {
                Stmt::Call(call) => {
                    out.insert(call.call);
                }
                Stmt::Fork(fork) => {
                    out.insert(CallId::Fork);
                    walk(&fork.body, out);
                }
                Stmt::Repeat(repeat) => walk(&repeat.body, out),
                Stmt::If(stmt) => {
                    walk(&stmt.then_body, out);
                    walk(&stmt.else_body, out);
                }
                Stmt::While(stmt) => walk(&stmt.body, out),
                Stmt::Assign(_) | Stmt::Break(_) | Stmt::Continue(_) => {}
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    for process in &scenario.processes {
        walk(&process.body, &mut out);
    }
    out
}
