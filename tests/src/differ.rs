//! Differential checks against Linux: scenarios drawn by the generators of [`crate::generate`] (every
//! call of the table, memory, sockets, signals and time), replayed by `ipclab check` in lockstep with the
//! simulator on real system calls, and every scenario whose steps differ from Linux's shrunk to a small
//! one that still differs.
//!
//! The library and the conformance scenarios are written by hand, so they test the rules someone
//! thought of; a drawn scenario makes calls in orders, on objects and with operands nobody wrote. A
//! difference is a fault of the model (Linux is right) or of the runner, and its shrunk scenario belongs
//! in `native-runner/tests/scenarios/` once fixed.
//!
//! Each case is drawn from its own seed (the run's seed and the case's number), so a case can be drawn
//! again alone, and each is checked under the random scheduler with that seed. `cargo xtask differ` runs
//! many; `cargo xtask test` runs a bounded number from a fixed seed (`native-runner/tests/differ.rs`).

use crate::generate::{memory_scenario, scenario, signal_scenario, socket_scenario, Values};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sim_core::ast::Scenario;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The generators, taken in turn by case number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Any call of the table, with `if`, loops and `fork` around them.
    Calls,
    /// `mmap`, shared memory, loads, stores and atomics between processes.
    Memory,
    /// Unix-domain, TCP and UDP sockets, descriptor passing and `poll`.
    Sockets,
    /// Handlers, masks, pending signals, timers and the calls they interrupt.
    Signals,
}

pub const KINDS: [Kind; 4] = [Kind::Calls, Kind::Memory, Kind::Sockets, Kind::Signals];

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Calls => "calls",
            Kind::Memory => "memory",
            Kind::Sockets => "sockets",
            Kind::Signals => "signals",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        KINDS.into_iter().find(|kind| kind.name() == name)
    }

    fn tree(self, runner: &mut TestRunner) -> Box<dyn ValueTree<Value = Scenario>> {
        let drawn = match self {
            Kind::Calls => scenario(Values::Run).boxed().new_tree(runner),
            Kind::Memory => memory_scenario().boxed().new_tree(runner),
            Kind::Sockets => socket_scenario().boxed().new_tree(runner),
            Kind::Signals => signal_scenario().boxed().new_tree(runner),
        };
        Box::new(drawn.expect("the generators never reject"))
    }
}

/// One drawn scenario.
pub struct Case {
    pub number: u64,
    pub kind: Kind,
    /// The seed it was drawn from, and the random scheduler's seed for its check.
    pub seed: u64,
    tree: Box<dyn ValueTree<Value = Scenario>>,
}

/// The seed of case `number` of a run from `seed` (a splitmix64 step, so that neighbouring cases share
/// nothing).
pub fn case_seed(seed: u64, number: u64) -> u64 {
    let mut z = seed.wrapping_add(number.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Case {
    /// Case `number` of a run from `seed`, of the kind given or, if none, of the kind its number takes
    /// in turn.
    pub fn draw(seed: u64, number: u64, kind: Option<Kind>) -> Case {
        let kind = kind.unwrap_or(KINDS[(number % KINDS.len() as u64) as usize]);
        let seed = case_seed(seed, number);
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
        let mut runner = TestRunner::new_with_rng(Config::default(), rng);
        Case { number, kind, seed, tree: kind.tree(&mut runner) }
    }

    /// The scenario's text, with a title that says where it came from.
    pub fn text(&self) -> String {
        let mut scenario = self.tree.current();
        scenario.title = Some(format!("drawn {} case {} (seed {})", self.kind.name(), self.number, self.seed));
        scenario.description = None;
        sim_core::lang::print::print(&scenario)
    }
}

/// What `ipclab check` said of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every step checked did on Linux what it did in the simulator (whatever the scenario expected).
    Same,
    /// A step differs: the check's text report, which shows where.
    Differs(String),
    /// Not run on Linux (a limit of the simulator or of lockstep checking), with the reason.
    Refused(String),
}

/// How to check: the `ipclab` command line, and the step limit of each run (a drawn scenario often loops
/// for ever, and lockstep takes a real step for each simulated one).
pub struct Checker {
    pub ipclab: PathBuf,
    pub max_steps: u64,
}

impl Checker {
    /// The options of `ipclab check` for a case checked with this seed.
    pub fn options(&self, seed: u64) -> Vec<String> {
        ["--schedule", "random", "--seed", &seed.to_string(), "--max-steps", &self.max_steps.to_string()]
            .map(String::from)
            .to_vec()
    }

    fn command(&self, seed: u64) -> Command {
        let mut command = Command::new(&self.ipclab);
        command.args(["check", "--quiet"]).args(self.options(seed));
        command
    }
}

/// Runs `ipclab check` on one file under the random scheduler with `seed`, and returns the verdict.
pub fn check(checker: &Checker, file: &Path, seed: u64) -> Result<Verdict, String> {
    let ipclab = &checker.ipclab;
    let output = checker
        .command(seed)
        .args(["--format", "json"])
        .arg(file)
        .output()
        .map_err(|error| format!("cannot run {}: {error}", ipclab.display()))?;
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|error| {
        format!(
            "ipclab check on {} gave no JSON ({error}); it said: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    if let Some(error) = json["summary"]["host_error"].as_str() {
        return Err(format!("ipclab check could not use this host: {error}"));
    }
    let run = &json["runs"][0];
    Ok(match run["status"].as_str() {
        Some("match") | Some("expectations_failed") => Verdict::Same,
        Some("refused") => Verdict::Refused(run["refusal"].as_str().unwrap_or("").to_string()),
        Some("differ") => {
            let report = checker
                .command(seed)
                .arg(file)
                .output()
                .map_err(|error| format!("cannot run {}: {error}", ipclab.display()))?;
            Verdict::Differs(String::from_utf8_lossy(&report.stdout).into_owned())
        }
        other => return Err(format!("ipclab check on {}: a run with status {other:?}", file.display())),
    })
}

/// Shrinks a case whose check differs: simpler scenarios from its generator are tried in turn, each
/// kept when it still differs, for at most `budget` checks. Returns the smallest text that differs,
/// its report, and the number of checks made.
pub fn shrink(
    checker: &Checker,
    case: &mut Case,
    dir: &Path,
    budget: u32,
    report: String,
) -> Result<(String, String, u32), String> {
    let file = dir.join(format!("shrinking-{}.ipc", case.number));
    let mut best = (case.text(), report);
    let mut checks = 0;
    if !case.tree.simplify() {
        return Ok((best.0, best.1, checks));
    }
    while checks < budget {
        let text = case.text();
        std::fs::write(&file, &text).map_err(|error| format!("cannot write {}: {error}", file.display()))?;
        checks += 1;
        let differs = match check(checker, &file, case.seed)? {
            Verdict::Differs(report) => {
                best = (text, report);
                true
            }
            _ => false,
        };
        let more = if differs { case.tree.simplify() } else { case.tree.complicate() };
        if !more {
            break;
        }
    }
    let _ = std::fs::remove_file(&file);
    Ok((best.0, best.1, checks))
}
