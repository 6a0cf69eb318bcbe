//! Fuzzing: four targets (the parser, the share-link decoder, the compiler, the kernel), each a check
//! of one input that either passes or names what broke, and a driver that feeds them.
//!
//! Inputs are bytes, so that a corpus is a directory of files. The driver makes them two ways, from one
//! seed, deterministically: whole scenarios (and links) drawn from the property tests' generators
//! (`generate.rs`, which know every call of the table), and mutations of inputs already seen (bytes
//! flipped, inserted, deleted, repeated, and keywords of the language spliced in). An input that shows
//! something new (a diagnostic, a share error, an outcome or a limit the run has not seen yet) joins the
//! inputs that later ones mutate. There is no coverage instrumentation: what counts as new is what a
//! person would call a different behaviour. A check fails on a panic, a broken kernel invariant, a run
//! that replays differently from its choices, a printed scenario that does not read back the same, a
//! diagnostic placed outside the text, or a link that decodes but does not re-encode to itself.
//!
//! `cargo xtask fuzz` runs the driver for as long as asked; `tests/tests/fuzz.rs` replays the corpus
//! in `tests/fuzz/corpus/` and runs each target for a bounded number of cases with fixed seeds.

use crate::generate::{scenario, Values};
use proptest::prelude::Rng;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sim_core::share::{self, SharedRun};
use sim_core::{Policy, RunConfig, RunOutcome, Simulation};
use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Parser,
    Share,
    Compiler,
    Kernel,
}

pub const TARGETS: [Target; 4] = [Target::Parser, Target::Share, Target::Compiler, Target::Kernel];

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Parser => "parser",
            Target::Share => "share",
            Target::Compiler => "compiler",
            Target::Kernel => "kernel",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        TARGETS.into_iter().find(|target| target.name() == name)
    }

    /// The target's corpus in the repository.
    pub fn corpus_dir(self) -> PathBuf {
        crate::root().join("tests").join("fuzz").join("corpus").join(self.name())
    }
}

/// Steps a kernel input may run, and the memory budget it runs under: enough for every behaviour the
/// generators reach, small enough for thousands of cases a minute.
const KERNEL_MAX_STEPS: u64 = 3_000;
const KERNEL_MEMORY_BUDGET: u64 = 64 << 20;

/// Checks one input. `Ok` carries a short signature of what the input did (for telling new behaviour
/// from old); `Err` says what broke.
pub fn check(target: Target, input: &[u8]) -> Result<String, String> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| check_inner(target, input))) {
        Ok(result) => result,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
                .unwrap_or_else(|| "a panic without a message".to_string());
            Err(format!("panic: {message}"))
        }
    }
}

fn check_inner(target: Target, input: &[u8]) -> Result<String, String> {
    let text = String::from_utf8_lossy(input);
    match target {
        Target::Parser => parser(&text),
        Target::Share => share_link(&text),
        Target::Compiler => compiler(&text),
        Target::Kernel => kernel(&text, seed_of(input)),
    }
}

/// The first words of a diagnostic, as a signature: the kind of error without its names and numbers.
fn kind_of(message: &str) -> String {
    message.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn parser(text: &str) -> Result<String, String> {
    match sim_core::parse(text) {
        Ok(parsed) => {
            let printed = sim_core::print(&parsed);
            let reparsed = sim_core::parse(&printed)
                .map_err(|errors| format!("the printed scenario does not parse: {}", errors[0].message))?;
            let again = sim_core::print(&reparsed);
            if again != printed {
                return Err("printing is not a fixed point: print(parse(print(s))) differs from print(s)".to_string());
            }
            Ok("parses".to_string())
        }
        Err(diagnostics) => {
            if diagnostics.is_empty() {
                return Err("a parse error without a diagnostic".to_string());
            }
            let lines = text.split('\n').count() as u32;
            for diagnostic in &diagnostics {
                let line = diagnostic.span.line;
                if line == 0 || line > lines + 1 {
                    return Err(format!(
                        "a diagnostic at line {line} of a text of {lines} lines: {}",
                        diagnostic.message
                    ));
                }
            }
            Ok(format!("error: {}", kind_of(&diagnostics[0].message)))
        }
    }
}

fn compiler(text: &str) -> Result<String, String> {
    let Ok(parsed) = sim_core::parse(text) else { return Ok("does not parse".to_string()) };
    match sim_core::lang::compile::Program::compile(&parsed) {
        Ok(program) => Ok(format!("compiles: {} processes", program.processes.len().min(4))),
        Err(diagnostic) => Ok(format!("compile error: {}", kind_of(&diagnostic.message))),
    }
}

/// The schedule's seed, from the input's bytes (so that a corpus file fixes it).
fn seed_of(input: &[u8]) -> u64 {
    crate::fnv1a(input)
}

fn kernel(text: &str, seed: u64) -> Result<String, String> {
    let Ok(parsed) = sim_core::parse(text) else { return Ok("does not parse".to_string()) };
    let Ok(program) = sim_core::lang::compile::Program::compile(&parsed) else {
        return Ok("does not compile".to_string());
    };
    let program = std::sync::Arc::new(program);
    let policy = if seed.is_multiple_of(2) { Policy::Random } else { Policy::RoundRobin };
    let config = |policy: Policy| RunConfig {
        seed,
        policy,
        max_steps: KERNEL_MAX_STEPS,
        check_invariants: true,
        memory_budget: KERNEL_MEMORY_BUDGET,
        ..RunConfig::default()
    };
    let mut run = Simulation::from_program(program.clone(), config(policy));
    let outcome = run.run().map_err(|error| format!("the run failed: {error}"))?.clone();
    let mut replay = Simulation::from_program(program, config(Policy::Choices { pids: run.choices() }));
    replay.run().map_err(|error| format!("the replay failed: {error}"))?;
    if replay.trace().hash() != run.trace().hash() || replay.outcome() != Some(&outcome) {
        return Err("the run replayed from its own choices ends differently".to_string());
    }
    let text = sim_core::present::render::trace_text(run.program(), run.trace());
    if text.lines().count() < run.trace().events.len() {
        return Err("the trace text has fewer lines than the run has events".to_string());
    }
    let _ = run.snapshot();
    Ok(match &outcome {
        RunOutcome::LimitReached { limit, .. } => format!("limit {limit}"),
        other => other.name().to_string(),
    })
}

fn share_link(text: &str) -> Result<String, String> {
    let text = text.trim();
    let run = match share::decode(text) {
        Ok(run) => run,
        Err(error) => return Ok(format!("refused: {}", kind_of(&error.to_string()))),
    };
    let encoded = share::encode(&run);
    match share::decode(&encoded) {
        Ok(again) if again == run => {}
        Ok(_) => return Err("a decoded link re-encodes to a link that decodes differently".to_string()),
        Err(error) => return Err(format!("a decoded link re-encodes to a link that does not decode: {error}")),
    }
    match run.start() {
        Ok(simulation) => Ok(format!("opens at step {}", simulation.steps().min(2))),
        Err(message) => Ok(format!("does not start: {}", kind_of(&message))),
    }
}

/// What a run of the driver found.
#[derive(Debug, Default)]
pub struct Report {
    pub cases: u64,
    /// Distinct signatures seen.
    pub signatures: BTreeSet<String>,
    /// Inputs that broke a check, with what broke.
    pub findings: Vec<(Vec<u8>, String)>,
    /// Inputs that showed a new signature (the corpus grows by these).
    pub interesting: Vec<Vec<u8>>,
}

/// Words of the language, spliced into mutated inputs so that mutations reach past the lexer.
const DICTIONARY: &[&str] = &[
    "process ",
    "fork ",
    "repeat ",
    "while ",
    "if ",
    "else ",
    "{\n",
    "}\n",
    "schedule ",
    "expect ",
    "exited ",
    "pipe",
    "write ",
    "read ",
    "close ",
    "kill ",
    "wait",
    "exit ",
    "open ",
    "mkfifo ",
    "dup2 ",
    "fcntl ",
    "sched_yield",
    "->",
    " bytes",
    "\"",
    "p.r",
    "p.w",
    "SIGPIPE",
    "SIGKILL",
    "EAGAIN",
    "O_NONBLOCK",
    "16777216",
    "10000000",
    "-1",
    "0x",
    "#",
    "title ",
    "description ",
    "*3",
    "\n",
    " ",
    "=",
    "errno",
    "break",
    "continue",
];

/// The driver: from `seed`, runs `cases` inputs through `target`, starting from `corpus`, and calls
/// `progress` every 256 cases. Behaviours in `known` (seen by earlier runs) do not count as new.
/// Deterministic for a given seed, corpus and `known`.
pub fn run(
    target: Target,
    seed: u64,
    cases: u64,
    corpus: &[Vec<u8>],
    known: &BTreeSet<String>,
    mut progress: impl FnMut(&Report),
) -> Report {
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    seed_bytes[8..16].copy_from_slice(&(target as u64).to_le_bytes());
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes));
    let mut pool: Vec<Vec<u8>> = corpus.to_vec();
    let mut report = Report::default();
    let quiet = QuietPanics::install();
    for case in 0..cases {
        let input = if pool.is_empty() || runner.rng().next_u32().is_multiple_of(3) {
            generated(target, &mut runner)
        } else {
            let index = runner.rng().next_u64() as usize % pool.len();
            let other = runner.rng().next_u64() as usize % pool.len();
            let mut input = mutated(&pool[index], &pool[other], &mut runner);
            if target == Target::Share && runner.rng().next_u32().is_multiple_of(2) {
                into_link_alphabet(&mut input);
            }
            input
        };
        report.cases += 1;
        match check(target, &input) {
            Ok(signature) => {
                if !known.contains(&signature) && report.signatures.insert(signature) {
                    report.interesting.push(input.clone());
                    pool.push(input);
                }
            }
            Err(message) => report.findings.push((input, message)),
        }
        if case % 256 == 255 {
            progress(&report);
        }
    }
    drop(quiet);
    report
}

/// A fresh input from the generators.
fn generated(target: Target, runner: &mut TestRunner) -> Vec<u8> {
    let values = if target == Target::Kernel || runner.rng().next_u32().is_multiple_of(2) {
        Values::Run
    } else {
        Values::Syntax
    };
    let drawn = scenario(values).new_tree(runner).expect("the generators always produce a value").current();
    let text = sim_core::print(&drawn);
    if target != Target::Share {
        return text.into_bytes();
    }
    let rng = runner.rng();
    let forced = (0..rng.next_u32() % 8).map(|_| 1 + rng.next_u32() % 6).collect();
    let policy = if rng.next_u32().is_multiple_of(2) { Policy::Random } else { Policy::RoundRobin };
    let run = SharedRun { scenario: text, seed: rng.next_u64() % 1000, policy, forced, step: rng.next_u64() % 50 };
    share::encode(&run).into_bytes()
}

/// `base` with one to eight mutations, some of them splicing in part of `other`.
fn mutated(base: &[u8], other: &[u8], runner: &mut TestRunner) -> Vec<u8> {
    let rng = runner.rng();
    let mut bytes = base.to_vec();
    for _ in 0..1 + rng.next_u32() % 8 {
        let at = if bytes.is_empty() { 0 } else { rng.next_u64() as usize % (bytes.len() + 1) };
        match rng.next_u32() % 7 {
            0 if at < bytes.len() => bytes[at] ^= 1 << (rng.next_u32() % 8),
            1 => bytes.insert(at, rng.next_u32() as u8),
            2 if at < bytes.len() => {
                let end = (at + 1 + rng.next_u64() as usize % 16).min(bytes.len());
                bytes.drain(at..end);
            }
            3 if at < bytes.len() => {
                let end = (at + 1 + rng.next_u64() as usize % 64).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            4 => {
                let word = DICTIONARY[rng.next_u64() as usize % DICTIONARY.len()];
                bytes.splice(at..at, word.bytes());
            }
            5 if !other.is_empty() => {
                let from = rng.next_u64() as usize % other.len();
                let end = (from + 1 + rng.next_u64() as usize % 256).min(other.len());
                bytes.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                // A number made extreme: digits after `at` become a large one.
                let digits = ["0", "1", "4096", "65536", "2147483647", "9223372036854775807", "18446744073709551616"];
                let word = digits[rng.next_u64() as usize % digits.len()];
                bytes.splice(at..at, word.bytes());
            }
        }
    }
    bytes.truncate(1 << 20);
    bytes
}

/// Links are one line of base64url after `vN.`: a mutated link is put back into that alphabet half of
/// the time, so that mutations reach the decoder's later stages and not only its alphabet check.
fn into_link_alphabet(bytes: &mut [u8]) {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let start = bytes.iter().position(|byte| *byte == b'.').map_or(0, |dot| dot + 1);
    for byte in &mut bytes[start..] {
        if !ALPHABET.contains(byte) {
            *byte = ALPHABET[*byte as usize % ALPHABET.len()];
        }
    }
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Silences panic messages on this thread while the driver catches panics (each finding is reported
/// once, by the driver); panics on other threads (other tests) are shown as usual.
struct QuietPanics;

impl QuietPanics {
    fn install() -> QuietPanics {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if !QUIET.with(std::cell::Cell::get) {
                    previous(info);
                }
            }));
        });
        QUIET.with(|quiet| quiet.set(true));
        QuietPanics
    }
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        QUIET.with(|quiet| quiet.set(false));
    }
}

/// The files of a corpus directory, in name order (empty if it does not exist).
pub fn load_corpus(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<(PathBuf, Vec<u8>)> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .filter_map(|path| std::fs::read(&path).ok().map(|bytes| (path, bytes)))
        .collect();
    files.sort();
    files
}

/// A file name for an input: its FNV-1a hash in hex.
pub fn file_name(input: &[u8]) -> String {
    format!("{:016x}", crate::fnv1a(input))
}
