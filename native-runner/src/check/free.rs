//! `ipclab check --free N`: Linux's outcome set beside the model's.
//!
//! A lockstep check follows schedules the simulator proposes, so it can never show an interleaving the
//! model leaves out. A free check lets Linux choose: it runs the scenario N times as real processes,
//! the same real processes and command loop as lockstep ([`super::real`]), but nothing holds them back.
//! The driver gives each process its next command as soon as its previous call has returned, walking
//! the process's program with sim-core's own interpreter ([`sim_core::user::settle`]) on the real
//! results, so the interleaving is the host scheduler's. Between calls it stirs, as litmus7 does, from a
//! seeded generator (`--seed`; run `i` uses seed `seed + i`, so a stirring is reproducible, though the
//! scheduler's choices are not): every process on one CPU or spread over two, random short delays
//! before a command, `sched_yield` injected between calls, and a process moved to another CPU now and
//! then.
//!
//! A run ends when every process has ended (`all-exited`), or as a deadlock when every live process has
//! been asleep in its call, with nothing else to do, for [`QUIET`] twice over ([`CONNECT_QUIET`] while one sleeps in `connect`; they are then killed).
//! Its outcome is written in the explorer's terms ([`sim_core::explore::Outcome`]): how the run ended,
//! each process's end by name, and which declared outcomes happened (their conditions evaluated on the
//! real results). The model's outcomes come from [`sim_core::explore::explore`]; an outcome Linux shows
//! that the model has no schedule for fails the check, with the order in which that run's calls
//! returned. Per-call expectations (`-> RESULT`) are not part of an outcome here: the lockstep check
//! compares every call.
//!
//! Scenarios with handlers or timers are refused: what they do depends on where a handler or a timer
//! lands between two calls, which the driver neither sees nor reproduces. Signals with their default
//! actions, ignored, blocked or waited for are fine.

use super::host::{self, Host};
use super::leftovers;
use super::lockstep::call_command;
use super::namespace::{self, Namespace};
use super::protocol::{self, CallCommand, Command, Reply};
use sim_core::explore::{self, ExploreLimits};
use sim_core::lang::ast::{ProcessOutcome, Quantifier, RunEnd};
use sim_core::lang::compile::{Bind, OpKind, OutcomeCondition, Program, ReadBytes, ERRNO_SLOT};
use sim_core::lang::syscalls::{CallId, Mechanism};
use sim_core::linux::{wait, ChildStatus};
use sim_core::present::render::{call_text, status_words};
use sim_core::trace::Args;
use sim_core::user::{self, Settled};
use sim_core::{RunConfig, Simulation};
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long every live process must be seen asleep in its call, twice in a row, before a run counts as
/// deadlocked.
const QUIET: Duration = Duration::from_millis(100);
/// The same while a process sleeps in `connect`: past a TCP SYN's fifth retransmission (5 s), so that a
/// client whose SYN a full accept queue dropped is not taken for a deadlock.
const CONNECT_QUIET: Duration = Duration::from_millis(5500);
/// The longest one free run may take; past it the run is reported as unclear.
const RUN_LIMIT: Duration = Duration::from_secs(60);
/// How long a new process may take to say it is ready.
const READY_LIMIT: Duration = Duration::from_secs(5);

/// The options of `ipclab check --free`.
pub struct FreeArgs {
    pub files: Vec<std::path::PathBuf>,
    pub runs: u64,
    pub seed: u64,
    pub json: bool,
    pub quiet: bool,
    /// The model's exploration stops after this many states (then it says it is incomplete).
    pub max_states: u64,
    /// Test hook: the model forbids every outcome in which the declared outcome of this label happens.
    pub forbid: Option<String>,
}

/// A way a run ends, in terms both arms can give: how the run ended, each process's end by name
/// (sorted: pids of children forked at the same time may differ between two runs), and whether each
/// declared outcome happened.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Ending {
    pub ending: String,
    pub processes: Vec<(String, String)>,
    pub declared: Vec<bool>,
}

impl Ending {
    fn of_model(outcome: &explore::Outcome) -> Ending {
        let mut processes: Vec<(String, String)> =
            outcome.processes.iter().map(|(_, name, end)| (name.clone(), end.clone())).collect();
        processes.sort();
        Ending { ending: outcome.ending.clone(), processes, declared: outcome.declared.clone() }
    }

    /// `all-exited; main exited with status 0, a exited with status 0; sometimes "an update is lost"`
    fn text(&self, program: &Program) -> String {
        let processes: Vec<String> = self.processes.iter().map(|(name, end)| format!("{name} {end}")).collect();
        let mut text = format!("{}; {}", self.ending, processes.join(", "));
        for (declared, happened) in program.outcomes.iter().zip(&self.declared) {
            if *happened {
                text.push_str(&format!("; {}", declared.title()));
            }
        }
        text
    }
}

/// What one free run gives back from its driver.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FreeRun {
    /// `None` when the run's end could not be read (`unclear` says why).
    pub ending: Option<Ending>,
    pub unclear: Option<String>,
    /// The calls in the order they returned on Linux, and how each process ended.
    pub order: Vec<String>,
}

/// How a run is stirred, drawn from its seed.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Stirring {
    pub seed: u64,
    /// The CPUs the processes are spread over, in turn (one CPU: all on it).
    pub cpus: Vec<usize>,
    /// Every CPU the processes may be moved to.
    pub all_cpus: Vec<usize>,
    /// Chance (in percent) of a random delay of up to `delay_most_us` before a command.
    pub delay_percent: u64,
    pub delay_most_us: u64,
    /// Chance of a `sched_yield` made by the process before its next call.
    pub yield_percent: u64,
    /// Chance, after each call, that the process is moved to another CPU.
    pub move_percent: u64,
}

impl Stirring {
    fn draw(seed: u64, allowed: &[usize]) -> Stirring {
        let mut random = SplitMix(seed);
        let first = allowed[random.below(allowed.len() as u64) as usize];
        let cpus = if allowed.len() >= 2 && random.below(2) == 1 {
            let second = allowed.iter().copied().filter(|cpu| *cpu != first).nth(0).unwrap_or(first);
            vec![first, second]
        } else {
            vec![first]
        };
        Stirring {
            seed,
            cpus,
            all_cpus: allowed.to_vec(),
            delay_percent: [0, 10, 30, 60][random.below(4) as usize],
            delay_most_us: [20, 100, 500, 2000][random.below(4) as usize],
            yield_percent: [0, 10, 30][random.below(3) as usize],
            move_percent: [0, 0, 5][random.below(3) as usize],
        }
    }

    fn text(&self) -> String {
        let placement = match self.cpus.as_slice() {
            [cpu] => format!("all on CPU {cpu}"),
            cpus => {
                format!("spread over CPUs {}", cpus.iter().map(|cpu| cpu.to_string()).collect::<Vec<_>>().join(","))
            }
        };
        format!(
            "seed {}: {placement}, delays {}% up to {} µs, yields {}%, moves {}%",
            self.seed, self.delay_percent, self.delay_most_us, self.yield_percent, self.move_percent
        )
    }
}

/// A small generator for the stirring (splitmix64): the same seed, the same stirring.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.next() % bound
        }
    }

    fn percent(&mut self, percent: u64) -> bool {
        percent > 0 && self.below(100) < percent
    }
}

/// Why a scenario cannot be checked free, if it cannot.
pub fn unsupported(program: &Program) -> Option<String> {
    if program.counts_copies() {
        return Some(
            "a declared outcome counts bytes copied (`copied ...`): the model counts them, and a free run on \
             Linux has no counter to read them from; use the lockstep check"
                .to_string(),
        );
    }
    if program.counts_calls() {
        return Some(
            "a declared outcome counts system calls (`calls ...`): the model counts them, and a free run reports \
             only each process's variables and end; use the lockstep check, which compares every call"
                .to_string(),
        );
    }
    if !program.handlers.is_empty() {
        return Some(
            "it has signal handlers: when a handler runs between two calls is not something the free driver can \
             see or reproduce; use the lockstep check"
                .to_string(),
        );
    }
    // Without handlers a signal can only do its default action or be ignored, which Linux does the
    // same however the calls interleave; a timer fires at a moment of real time, which no free run
    // can place between two given calls.
    for op in &program.ops {
        let OpKind::Call(call) = &op.kind else { continue };
        let spec = call.id.spec();
        let timed = spec.mechanism == Mechanism::Time
            || matches!(
                call.id,
                CallId::Semtimedop
                    | CallId::MqTimedsend
                    | CallId::MqTimedreceive
                    | CallId::SemTimedwait
                    | CallId::Sigtimedwait
            );
        if timed {
            return Some(format!(
                "line {}: `{}` sets a timer or waits with a timeout, which a free run does not support (see \
                 docs/conformance.md, \"Free checks\"); use the lockstep check",
                op.span.line, spec.name
            ));
        }
    }
    None
}

/// The model's outcome set for a file.
struct Model {
    /// Each ending with its number of schedules.
    endings: BTreeMap<Ending, u128>,
    schedules: u128,
    incomplete: Option<String>,
    core_deaths: bool,
    /// Whether its schedules stand for every schedule (see `Exploration::every_schedule`).
    every: bool,
}

fn model(program: &Arc<Program>, max_states: u64, forbid: Option<&str>, quiet: bool) -> Result<Model, String> {
    let config = RunConfig { follow_schedule: false, ..RunConfig::default() };
    let mut simulation = Simulation::from_program(program.clone(), config);
    let started = Instant::now();
    let mut last = started;
    let mut progress = |progress: &explore::Progress| {
        if !quiet && last.elapsed() >= Duration::from_secs(2) {
            last = Instant::now();
            note!("  the model: explored {} states ...", progress.nodes);
        }
    };
    let limits = ExploreLimits { max_nodes: max_states, ..ExploreLimits::default() };
    let found = explore::explore(&mut simulation, limits, &mut progress);
    let forbidden = match forbid {
        None => None,
        Some(label) => Some(
            program
                .outcomes
                .iter()
                .position(|declared| declared.label.as_deref() == Some(label))
                .ok_or_else(|| format!("--forbid-outcome: no declared outcome is labelled {label:?}"))?,
        ),
    };
    let mut endings = BTreeMap::new();
    let mut schedules = 0;
    let mut core_deaths = false;
    for (outcome, reached) in &found.outcomes {
        if forbidden.is_some_and(|index| outcome.declared.get(index).copied().unwrap_or(false)) {
            continue;
        }
        core_deaths |= outcome.processes.iter().any(|(_, _, end)| end.contains("core"));
        *endings.entry(Ending::of_model(outcome)).or_insert(0) += reached.schedules;
        schedules += reached.schedules;
    }
    let every = found.every_schedule_ended();
    Ok(Model { endings, schedules, incomplete: found.incomplete, core_deaths, every })
}

/// A count of the model's schedules, in decimal: it may pass what a JSON number holds exactly (the
/// bounded buffer's schedules pass 2^64), as `ipclab explore --format json` writes its counts.
fn decimal<S: serde::Serializer>(count: &u128, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(count)
}

/// One row of the histogram.
#[derive(Clone, Debug, serde::Serialize)]
struct Row {
    outcome: String,
    ending: Ending,
    /// Free runs on Linux that ended so.
    linux: u64,
    /// The model's schedules that end so (0: the model forbids it), in decimal.
    #[serde(serialize_with = "decimal")]
    model: u128,
    allowed: bool,
    /// The first Linux run that ended so: its stirring and the order of its calls (kept for an
    /// outcome the model forbids).
    #[serde(skip_serializing_if = "Option::is_none")]
    first_run: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order: Option<Vec<String>>,
}

#[derive(Clone, Debug, serde::Serialize)]
struct VerdictRow {
    title: String,
    quantifier: &'static str,
    #[serde(serialize_with = "decimal")]
    model_witnesses: u128,
    #[serde(serialize_with = "decimal")]
    model_others: u128,
    model_holds: bool,
    /// Whether the model's verdict is final (see `Verdict::settled`): not when its exploration was cut
    /// and no schedule settles it.
    model_settled: bool,
    linux_witnesses: u64,
    linux_others: u64,
    /// Whether Linux's runs refute it: an `always` one run lacked, a `never` one run showed.
    refuted_by_linux: bool,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
struct FileReport {
    file: String,
    title: Option<String>,
    runs: u64,
    first_seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<String>,
    #[serde(serialize_with = "decimal")]
    model_schedules: u128,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_incomplete: Option<String>,
    rows: Vec<Row>,
    verdicts: Vec<VerdictRow>,
    /// Runs whose end could not be read, and why.
    unclear: Vec<String>,
    /// Every outcome Linux showed is one the model allows, and no declared outcome is refuted.
    agrees: bool,
}

pub fn run(args: FreeArgs) -> ExitCode {
    if args.files.is_empty() {
        note!("ipclab check: name at least one scenario file");
        return ExitCode::from(2);
    }
    if args.runs == 0 {
        note!("ipclab check: --free must be at least 1");
        return ExitCode::from(2);
    }
    let mut loaded = Vec::new();
    for file in &args.files {
        match crate::input::load(file) {
            Ok((_, scenario)) => match Simulation::new(&scenario, RunConfig::default()) {
                Ok(simulation) => loaded.push((file.display().to_string(), simulation.program().clone())),
                Err(diagnostic) => {
                    note!("{}", diagnostic.render(&file.display().to_string()));
                    return ExitCode::from(2);
                }
            },
            Err(code) => return code,
        }
    }
    if let Some(label) = &args.forbid {
        if let Some((file, _)) = loaded
            .iter()
            .find(|(_, program)| !program.outcomes.iter().any(|declared| declared.label.as_deref() == Some(label)))
        {
            note!("ipclab check: --forbid-outcome: {file} declares no outcome labelled {label:?}");
            return ExitCode::from(2);
        }
    }
    for swept in host::sweep_stale_run_dirs(&std::env::temp_dir()) {
        if swept.error.is_none() {
            note!("ipclab check: removed {}, a run directory left behind by an earlier check", swept.path.display());
        }
    }
    let host = match host::probe() {
        Ok(host) => host,
        Err(reason) => {
            note!("ipclab check: this host cannot run the check: {reason}");
            return ExitCode::from(3);
        }
    };
    let allowed = match host::allowed_cpus() {
        Ok(cpus) => cpus,
        Err(reason) => {
            note!("ipclab check: this host cannot run the check: {reason}");
            return ExitCode::from(3);
        }
    };
    crate::stop::install_stop_handlers();
    let mut reports = Vec::new();
    let mut host_error = None;
    'files: for (file, program) in &loaded {
        let mut report = FileReport {
            file: file.clone(),
            title: program.title.clone(),
            runs: args.runs,
            first_seed: args.seed,
            ..FileReport::default()
        };
        if let Some(reason) = unsupported(program) {
            note!("ipclab check: {file}: refused: {reason}");
            report.refused = Some(reason);
            reports.push(report);
            continue;
        }
        if !args.quiet {
            note!("{file}: the model's outcomes ...");
        }
        let model = match model(program, args.max_states, args.forbid.as_deref(), args.quiet) {
            Ok(model) => model,
            Err(message) => {
                note!("ipclab check: {message}");
                return ExitCode::from(2);
            }
        };
        if let Some(reason) = model.core_deaths.then(|| host.info.core_pattern_problem()).flatten() {
            note!("ipclab check: {file}: refused: {reason}");
            report.refused = Some(reason);
            reports.push(report);
            continue;
        }
        report.model_schedules = model.schedules;
        report.model_incomplete = model.incomplete.clone();
        let mut seen: BTreeMap<Ending, (u64, String, Vec<String>)> = BTreeMap::new();
        for index in 0..args.runs {
            if crate::stop::stop_requested().is_some() {
                break;
            }
            let stirring = Stirring::draw(args.seed.wrapping_add(index), &allowed);
            if !args.quiet {
                note_part!("\r[{}/{}] {file} ({}) ...   ", index + 1, args.runs, stirring.text());
            }
            match free_run_on_linux(&host, program, &stirring) {
                // A run a stop signal cut short says nothing.
                Ok(_) if crate::stop::stop_requested().is_some() => break,
                Ok(run) => match run.ending {
                    Some(ending) => {
                        let entry = seen.entry(ending).or_insert_with(|| (0, stirring.text(), run.order.clone()));
                        entry.0 += 1;
                    }
                    None => report.unclear.push(format!(
                        "run {} ({}): {}",
                        index + 1,
                        stirring.text(),
                        run.unclear.unwrap_or_default()
                    )),
                },
                Err(message) => {
                    if !args.quiet {
                        note!("");
                    }
                    note!("ipclab check: this host cannot run the check: {message}");
                    host_error = Some(message);
                    break 'files;
                }
            }
        }
        if !args.quiet {
            note!("");
        }
        // The runs made so far are reported, even when a stop signal cut the file's runs short.
        if seen.is_empty() && !report.unclear.is_empty() && crate::stop::stop_requested().is_none() {
            // Nothing was compared: that is no agreement.
            let reason = format!(
                "none of its {} runs could be compared with the model; the first: {}",
                report.unclear.len(),
                report.unclear[0]
            );
            note!("ipclab check: {file}: refused: {reason}");
            report.refused = Some(reason);
        }
        finish_report(&mut report, program, &model, seen);
        reports.push(report);
        if crate::stop::stop_requested().is_some() {
            break;
        }
    }
    let interrupted = crate::stop::stop_requested();
    if args.json {
        let value = serde_json::json!({
            "host": host.info,
            "mode": "free",
            "files": reports,
            "summary": {
                "files": reports.len(),
                "agree": reports.iter().filter(|report| report.refused.is_none() && report.agrees).count(),
                "disagree": reports.iter().filter(|report| report.refused.is_none() && !report.agrees).count(),
                "refused": reports.iter().filter(|report| report.refused.is_some()).count(),
                "interrupted": interrupted,
                "host_error": host_error,
            },
        });
        let text = serde_json::to_string_pretty(&value).expect("reports serialize");
        if let Err(code) = crate::output::print(&format!("{text}\n")) {
            return code;
        }
    } else if let Err(code) = crate::output::print(&text_report(&host, &reports, interrupted)) {
        return code;
    }
    if let Some(signal) = interrupted {
        ExitCode::from(128 + signal as u8)
    } else if host_error.is_some() {
        ExitCode::from(3)
    } else if reports.iter().any(|report| report.refused.is_some()) {
        ExitCode::from(2)
    } else if reports.iter().any(|report| !report.agrees) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The histogram, the verdicts, and whether Linux agrees with the model.
fn finish_report(
    report: &mut FileReport,
    program: &Program,
    model: &Model,
    seen: BTreeMap<Ending, (u64, String, Vec<String>)>,
) {
    let mut endings: Vec<Ending> = model.endings.keys().cloned().collect();
    endings.extend(seen.keys().filter(|ending| !model.endings.contains_key(*ending)).cloned());
    endings.sort();
    for ending in endings {
        let schedules = model.endings.get(&ending).copied().unwrap_or(0);
        let allowed = schedules > 0;
        let (linux, first_run, order) = match seen.get(&ending) {
            Some((count, stirring, order)) => (*count, Some(stirring.clone()), (!allowed).then(|| order.clone())),
            None => (0, None, None),
        };
        report.rows.push(Row {
            outcome: ending.text(program),
            ending,
            linux,
            model: schedules,
            allowed,
            first_run,
            order,
        });
    }
    for (index, declared) in program.outcomes.iter().enumerate() {
        let happened = |ending: &Ending| ending.declared.get(index).copied().unwrap_or(false);
        let ways = model.endings.iter().map(|(ending, schedules)| (happened(ending), &ending.ending, *schedules));
        let model_verdict = explore::Verdict::of(declared, ways, model.every);
        let (mut linux_witnesses, mut linux_others) = (0u64, 0u64);
        for (ending, (count, _, _)) in &seen {
            if happened(ending) {
                linux_witnesses += count;
            } else {
                linux_others += count;
            }
        }
        let refuted_by_linux = match declared.quantifier {
            Quantifier::Always => linux_others > 0,
            Quantifier::Never => linux_witnesses > 0,
            // One run that shows it would prove it; runs that do not prove nothing.
            Quantifier::Sometimes => false,
        };
        report.verdicts.push(VerdictRow {
            title: declared.title(),
            quantifier: declared.quantifier.word(),
            model_witnesses: model_verdict.witnesses,
            model_others: model_verdict.others,
            model_holds: model_verdict.holds,
            model_settled: model_verdict.settled,
            linux_witnesses,
            linux_others,
            refuted_by_linux,
        });
    }
    report.agrees = report.rows.iter().all(|row| row.allowed || row.linux == 0)
        && report.verdicts.iter().all(|verdict| !verdict.refuted_by_linux);
}

fn text_report(host: &Host, reports: &[FileReport], interrupted: Option<i32>) -> String {
    let mut out = format!(
        "ipclab check --free: {} {} ({}), runs left to Linux's scheduler\n",
        host.info.kernel_name, host.info.kernel, host.info.machine
    );
    for report in reports {
        out.push('\n');
        if let Some(reason) = &report.refused {
            out.push_str(&format!("{}: REFUSED: {reason}\n", report.file));
            continue;
        }
        let linux_runs: u64 = report.rows.iter().map(|row| row.linux).sum();
        out.push_str(&format!(
            "{}: {} free runs (seeds {} to {}); the model: {} outcome{} in {} schedules{}\n",
            report.file,
            linux_runs as usize + report.unclear.len(),
            report.first_seed,
            report.first_seed.wrapping_add(report.runs.saturating_sub(1)),
            report.rows.iter().filter(|row| row.allowed).count(),
            if report.rows.iter().filter(|row| row.allowed).count() == 1 { "" } else { "s" },
            report.model_schedules,
            report.model_incomplete.as_ref().map(|reason| format!(" (INCOMPLETE: {reason})")).unwrap_or_default()
        ));
        out.push_str(&format!("  {:>6}  {:>20}  outcome\n", "linux", "model schedules"));
        for row in &report.rows {
            let mark = if row.allowed { "" } else { "  <- the model forbids it" };
            out.push_str(&format!("  {:>6}  {:>20}  {}{mark}\n", row.linux, row.model, row.outcome));
        }
        if !report.verdicts.is_empty() {
            out.push_str("  declared outcomes:\n");
            for verdict in &report.verdicts {
                let linux = if verdict.refuted_by_linux { "REFUTED by Linux" } else { "not refuted by Linux" };
                out.push_str(&format!(
                    "    {}: {} ({} schedules show it, {} do not); {linux} ({} runs show it, {} do not)\n",
                    verdict.title,
                    match (verdict.model_holds, verdict.model_settled) {
                        (true, true) => "the model holds",
                        (false, true) => "the model fails",
                        (true, false) => "unproven by the model, which did not explore every schedule to its end",
                        (false, false) => "not seen by the model, which did not explore every schedule to its end",
                    },
                    verdict.model_witnesses,
                    verdict.model_others,
                    verdict.linux_witnesses,
                    verdict.linux_others,
                ));
            }
        }
        for row in report.rows.iter().filter(|row| !row.allowed && row.linux > 0) {
            out.push_str(&format!(
                "  Linux showed an outcome the model says cannot happen, in {} run{}: {}\n",
                row.linux,
                if row.linux == 1 { "" } else { "s" },
                row.outcome
            ));
            if report.model_incomplete.is_some() {
                out.push_str(
                    "    (the model's exploration was incomplete: a larger --max-states may find a schedule for it)\n",
                );
            }
            if let Some(first) = &row.first_run {
                out.push_str(&format!("    its first run ({first}), in the order the calls returned:\n"));
            }
            for (index, line) in row.order.iter().flatten().enumerate() {
                out.push_str(&format!("      {:>3}. {line}\n", index + 1));
            }
        }
        let unseen: Vec<&Row> = report.rows.iter().filter(|row| row.allowed && row.linux == 0).collect();
        if !unseen.is_empty() {
            out.push_str("  the model allows, Linux never showed (more runs may):\n");
            for row in unseen {
                out.push_str(&format!("    {} ({} schedules)\n", row.outcome, row.model));
            }
        }
        for unclear in &report.unclear {
            out.push_str(&format!("  unclear: {unclear}\n"));
        }
        out.push_str(if report.agrees {
            "  agrees: every outcome Linux showed is one the model allows, and no declared outcome is refuted\n"
        } else {
            "  DISAGREES with the model\n"
        });
    }
    if let Some(signal) = interrupted {
        out.push_str(&format!(
            "\ninterrupted by {}: the runs made so far are reported\n",
            super::report::signal_name(signal)
        ));
    }
    out
}

/// One free run on Linux, in its own directory and namespace.
fn free_run_on_linux(host: &Host, program: &Arc<Program>, stirring: &Stirring) -> Result<FreeRun, String> {
    let run_dir = host::RunDir::create(host.info.root.then_some(host.info.scenario_uid))?;
    let paths: Vec<Vec<u8>> = program
        .paths
        .iter()
        .enumerate()
        .map(|(index, path)| run_dir.map(index, path).into_os_string().into_encoded_bytes())
        .collect();
    let result = namespace::run_driver(host, &run_dir.path, false, |namespace| {
        Driver::new(namespace, program.clone(), paths, stirring.clone()).run()
    });
    drop(run_dir);
    result
}

/// What a process has been sent and not yet answered.
#[derive(Clone, Copy, Debug)]
enum Pending {
    Call {
        op: u32,
        args: Args,
    },
    Fork {
        op: u32,
    },
    Yield,
    /// `exit`, the implicit `exit(0)` or a division that traps: no answer, the process ends.
    End,
}

struct Proc {
    pid: i32,
    outer: i32,
    name: String,
    vars: Vec<i64>,
    pc: u32,
    end_pc: u32,
    settled: Settled,
    channel: Option<OwnedFd>,
    pending: Option<Pending>,
    /// When its next command may go (a delay the stirring drew).
    due: Option<Instant>,
    /// Whether the stirring has had its say before the next command.
    stirred: bool,
}

struct Driver<'n> {
    namespace: &'n mut Namespace,
    program: Arc<Program>,
    paths: Vec<Vec<u8>>,
    stirring: Stirring,
    random: SplitMix,
    procs: Vec<Proc>,
    name_counts: BTreeMap<String, u32>,
    /// Statuses the scenario's own waits reported, by pid.
    waited: BTreeMap<i32, ChildStatus>,
    order: Vec<String>,
    buffer: Vec<u8>,
}

impl<'n> Driver<'n> {
    fn new(namespace: &'n mut Namespace, program: Arc<Program>, paths: Vec<Vec<u8>>, stirring: Stirring) -> Driver<'n> {
        let random = SplitMix(stirring.seed ^ 0x005e_ed0f_f4ee);
        Driver {
            namespace,
            program,
            paths,
            stirring,
            random,
            procs: Vec::new(),
            name_counts: BTreeMap::new(),
            waited: BTreeMap::new(),
            order: Vec::new(),
            buffer: Vec::new(),
        }
    }

    /// `child`, then `child#2`, ... as the simulator names them.
    fn child_name(&mut self, name: &str) -> String {
        let count = self.name_counts.entry(name.to_string()).or_insert(0);
        *count += 1;
        if *count == 1 {
            name.to_string()
        } else {
            format!("{name}#{count}")
        }
    }

    /// Waits for a new process's `Ready`, which gives its pid outside the namespace, and places it.
    fn ready(&mut self, channel: &OwnedFd, pid: i32) -> Result<i32, String> {
        let mut pollfd = libc::pollfd { fd: channel.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pollfd, 1, READY_LIMIT.as_millis() as i32) } <= 0 {
            return Err(format!("process {pid} did not start"));
        }
        let received = protocol::recv_message(channel.as_raw_fd(), &mut self.buffer)?
            .ok_or_else(|| format!("process {pid} ended before it started"))?;
        match (protocol::decode_reply(&received.bytes), received.sender) {
            (Ok(Reply::Ready { pid: inner }), Some(outer)) if inner == pid && outer > 0 => {
                let cpu = self.stirring.cpus[self.procs.len() % self.stirring.cpus.len()];
                // A process another one has just killed cannot be placed, and needs not be.
                let _ = host::set_affinity(outer, &[cpu]);
                Ok(outer)
            }
            other => Err(format!("process {pid} did not say it was ready: {other:?}")),
        }
    }

    fn start(&mut self) -> Result<(), String> {
        let program = self.program.clone();
        let first_pid = 2;
        for (index, top) in program.processes.iter().enumerate() {
            let handlers = program.handlers.len() as u32;
            let received = self.namespace.ask_init(&Command::SpawnTop { index: index as u32, handlers })?;
            let pid = match protocol::decode_reply(&received.bytes) {
                Ok(Reply::Forked { child }) => child,
                other => return Err(format!("init could not start top-level process {index}: {other:?}")),
            };
            if pid != first_pid + index as i32 {
                return Err(format!("top-level process {index} got pid {pid} in the run's namespace"));
            }
            let channel = received.passed.ok_or("init passed no control socket for its child")?;
            let outer = self.ready(&channel, pid)?;
            let mut vars = vec![-1; program.slots.len()];
            vars[ERRNO_SLOT as usize] = 0;
            for (other_index, other) in program.processes.iter().enumerate() {
                vars[other.slot as usize] = first_pid as i64 + other_index as i64;
            }
            let name = self.child_name(&top.name);
            let mut proc = Proc {
                pid,
                outer,
                name,
                vars,
                pc: top.start,
                end_pc: top.end,
                settled: Settled::AtEnd,
                channel: Some(channel),
                pending: None,
                due: None,
                stirred: false,
            };
            settle(&program, &mut proc);
            self.procs.push(proc);
        }
        match protocol::decode_reply(&self.namespace.ask_init(&Command::NewSession)?.bytes) {
            Ok(Reply::Value(1)) => Ok(()),
            other => Err(format!("init could not start a session of its own: {other:?}")),
        }
    }

    fn send(&mut self, index: usize, command: &Command, pending: Pending) {
        let proc = &mut self.procs[index];
        proc.pending = Some(pending);
        proc.stirred = false;
        if let Some(channel) = &proc.channel {
            // A process that is gone is seen so when its socket says it has closed.
            let _ = protocol::send_command(channel.as_raw_fd(), command);
        }
    }

    /// Sends a process its next command (or, as the stirring draws, a delay or a `sched_yield` first).
    /// `Err` ends the run as unclear.
    fn act(&mut self, index: usize, now: Instant) -> Result<(), String> {
        if !self.procs[index].stirred {
            self.procs[index].stirred = true;
            if self.random.percent(self.stirring.delay_percent) {
                let delay = 1 + self.random.below(self.stirring.delay_most_us);
                self.procs[index].due = Some(now + Duration::from_micros(delay));
                return Ok(());
            }
            if self.random.percent(self.stirring.yield_percent) {
                let command = Command::Call(CallCommand { id: CallId::SchedYield, op: 0, operands: Vec::new() });
                self.send(index, &command, Pending::Yield);
                self.procs[index].stirred = true;
                return Ok(());
            }
        }
        self.procs[index].due = None;
        let program = self.program.clone();
        let proc = &self.procs[index];
        match proc.settled {
            Settled::AtStep => match &program.ops[proc.pc as usize].kind {
                OpKind::Call(call) => {
                    let op = proc.pc;
                    let mut args = Args::default();
                    if sim_core::kernel::resolve_args(call, &proc.vars, proc.pid as u32, &mut args).is_err() {
                        self.send(index, &Command::Fault { op }, Pending::End);
                        return Ok(());
                    }
                    let command = call_command(&program, &self.paths, op, &args)
                        .ok_or_else(|| format!("operation {op} is not a call"))?;
                    let pending = if call.id == CallId::Exit { Pending::End } else { Pending::Call { op, args } };
                    self.send(index, &Command::Call(command), pending);
                }
                OpKind::Fork { .. } => {
                    let op = proc.pc;
                    self.send(index, &Command::Fork { op }, Pending::Fork { op });
                }
                _ => return Err("a process rests on an operation that is not a step".to_string()),
            },
            Settled::AtEnd => self.send(index, &Command::Exit { status: 0 }, Pending::End),
            Settled::Fault { op, .. } => self.send(index, &Command::Fault { op }, Pending::End),
            Settled::OverBudget { op } => {
                return Err(format!(
                    "{} ran more than the simulator's budget of operations without a call, at operation {op}",
                    proc.name
                ))
            }
        }
        Ok(())
    }

    /// A reply from process `index`.
    fn reply(&mut self, index: usize, received: protocol::Received) -> Result<(), String> {
        let reply = protocol::decode_reply(&received.bytes)?;
        let pending = self.procs[index].pending.take();
        match pending {
            Some(Pending::Yield) => Ok(()),
            Some(Pending::Call { op, args }) => self.complete(index, op, &args, reply),
            Some(Pending::Fork { op }) => {
                let Reply::Forked { child } = reply else {
                    return Err(format!("fork in {} gave {reply:?}", self.procs[index].name));
                };
                let channel = received.passed.ok_or("the fork passed no control socket")?;
                let outer = self.ready(&channel, child)?;
                let program = self.program.clone();
                let OpKind::Fork { slot, name, body_end, .. } = &program.ops[op as usize].kind else {
                    return Err(format!("operation {op} is not a fork"));
                };
                let child_name = self.child_name(name);
                let parent = &mut self.procs[index];
                let mut vars = parent.vars.clone();
                vars[*slot as usize] = 0;
                parent.vars[*slot as usize] = child as i64;
                parent.pc = *body_end;
                settle(&program, parent);
                let line = format!("{} (pid {}): fork() = {child} ({child_name})", parent.name, parent.pid);
                self.order.push(line);
                let mut proc = Proc {
                    pid: child,
                    outer,
                    name: child_name,
                    vars,
                    pc: op + 1,
                    end_pc: *body_end,
                    settled: Settled::AtEnd,
                    channel: Some(channel),
                    pending: None,
                    due: None,
                    stirred: false,
                };
                settle(&program, &mut proc);
                self.procs.push(proc);
                Ok(())
            }
            Some(Pending::End) | None => {
                Err(format!("{} answered when nothing was asked: {reply:?}", self.procs[index].name))
            }
        }
    }

    /// A call returned: its result is bound as the simulator binds it, and the process goes on.
    fn complete(&mut self, index: usize, op: u32, args: &Args, reply: Reply) -> Result<(), String> {
        let program = self.program.clone();
        let call = program.call(op).ok_or_else(|| format!("operation {op} is not a call"))?;
        let mut received = None;
        let (value, errno, pair, tag, shown) = match &reply {
            Reply::Value(value) => (*value, None, None, None, value.to_string()),
            Reply::Errno(errno) => {
                (-1, Some(*errno), None, None, format!("-1 {}", sim_core::linux::errno::Errno(*errno as u16).name()))
            }
            Reply::Data(bytes) => (bytes.len() as i64, None, None, None, format!("{} bytes", bytes.len())),
            Reply::Pair { read_fd, write_fd } => {
                (0, None, Some((*read_fd, *write_fd)), None, format!("0 [{read_fd}, {write_fd}]"))
            }
            Reply::Waited { pid, status, via_info } => {
                let status = wait::decode(*status);
                if matches!(status, ChildStatus::Exited(_) | ChildStatus::Killed { .. }) {
                    self.waited.insert(*pid, status);
                }
                let value = if *via_info { 0 } else { *pid as i64 };
                (*pid as i64, None, None, None, format!("{value} (pid {pid} {})", status_words(status)))
            }
            Reply::Out(value) => (*value, None, None, None, format!("0, stored {value}")),
            Reply::Message { tag, bytes } => {
                (bytes.len() as i64, None, None, Some(*tag), format!("{} bytes, tag {tag}", bytes.len()))
            }
            Reply::Array(_) => (0, None, None, None, "0".to_string()),
            Reply::Polled { ready, revents } => {
                (*ready as i64, None, None, None, format!("{ready} (revents {revents:?})"))
            }
            Reply::Epolled { ready, fds, events } => {
                (*ready as i64, None, None, None, format!("{ready} (fds {fds:?}, events {events:?})"))
            }
            Reply::Received { fd, fds, flags, creds, bytes } => {
                let len = bytes.len() as i64;
                received = Some((*fd, *fds, *flags, *creds));
                (len, None, None, None, format!("{len} bytes, {fds} fds from fd {fd}, msg_flags {flags:#x}"))
            }
            other => return Err(format!("a free run does not expect {other:?}")),
        };
        let proc = &mut self.procs[index];
        self.order.push(format!("{} (pid {}): {} = {shown}", proc.name, proc.pid, call_text(&program, op, args)));
        if let Some(errno) = errno {
            proc.vars[ERRNO_SLOT as usize] = errno as i64;
            if call.retry.iter().any(|retry| i32::from(retry.0) == errno) {
                // The call is made again.
                return Ok(());
            }
        }
        match call.bind {
            Bind::None => {}
            Bind::Value(slot) => proc.vars[slot as usize] = value,
            Bind::Pair { read, write } => {
                if let Some((read_fd, write_fd)) = pair {
                    proc.vars[read as usize] = read_fd as i64;
                    proc.vars[write as usize] = write_fd as i64;
                }
            }
            Bind::Message { count, tag: tag_slot } => {
                proc.vars[count as usize] = value;
                if let Some(tag) = tag {
                    proc.vars[tag_slot as usize] = tag;
                }
            }
            Bind::Rights { count, fd, fds, flags, creds } => {
                proc.vars[count as usize] = value;
                if let Some((first, got, set, pid)) = received {
                    proc.vars[fd as usize] = first as i64;
                    proc.vars[fds as usize] = got as i64;
                    proc.vars[flags as usize] = set as i64;
                    proc.vars[creds as usize] = pid as i64;
                }
            }
            Bind::Polled { count, revents, entries } => {
                proc.vars[count as usize] = value;
                if let Reply::Polled { revents: got, .. } = &reply {
                    for at in 0..entries as usize {
                        proc.vars[revents[at] as usize] = got[at] as i64;
                    }
                }
            }
            Bind::Epolled { count, fds, events } => {
                proc.vars[count as usize] = value;
                if let Reply::Epolled { ready, fds: got_fds, events: got } = &reply {
                    for at in 0..fds.len() {
                        let reported = at < *ready as usize;
                        proc.vars[fds[at] as usize] = if reported { got_fds[at] as i64 } else { -1 };
                        proc.vars[events[at] as usize] = if reported { got[at] as i64 } else { 0 };
                    }
                }
            }
            Bind::Bytes { count, first, last, runs } => {
                proc.vars[count as usize] = value;
                if let Reply::Data(bytes) = &reply {
                    let got = ReadBytes::of(bytes);
                    proc.vars[first as usize] = got.first;
                    proc.vars[last as usize] = got.last;
                    proc.vars[runs as usize] = got.runs;
                }
            }
        }
        proc.pc = op + 1;
        settle(&program, proc);
        Ok(())
    }

    /// Drives the run to its end. The result's `unclear` says why an end could not be read.
    fn run(mut self) -> Result<FreeRun, String> {
        self.start()?;
        let started = Instant::now();
        let mut last_activity = Instant::now();
        let mut asleep_since: Option<Instant> = None;
        let unclear = |driver: Driver, why: String| FreeRun { ending: None, unclear: Some(why), order: driver.order };
        let deadlocked = loop {
            if crate::stop::stop_requested().is_some() {
                return Ok(unclear(self, "interrupted".to_string()));
            }
            let now = Instant::now();
            if now.duration_since(started) > RUN_LIMIT {
                return Ok(unclear(self, format!("the run did not end within {} s", RUN_LIMIT.as_secs())));
            }
            // Commands for every process that is waiting for one and whose delay is over.
            for index in 0..self.procs.len() {
                let proc = &self.procs[index];
                if proc.channel.is_some() && proc.pending.is_none() && proc.due.is_none_or(|due| due <= now) {
                    if let Err(why) = self.act(index, now) {
                        return Ok(unclear(self, why));
                    }
                }
            }
            if self.procs.iter().all(|proc| proc.channel.is_none()) {
                break false;
            }
            let wake = self.procs.iter().filter_map(|proc| proc.due).min();
            let timeout = wake.map_or(Duration::from_millis(5), |due| due.saturating_duration_since(Instant::now()));
            let mut pollfds: Vec<libc::pollfd> = Vec::new();
            let mut owners = Vec::new();
            for (index, proc) in self.procs.iter().enumerate() {
                if let Some(channel) = &proc.channel {
                    pollfds.push(libc::pollfd { fd: channel.as_raw_fd(), events: libc::POLLIN, revents: 0 });
                    owners.push(index);
                }
            }
            let spec = libc::timespec { tv_sec: timeout.as_secs() as i64, tv_nsec: timeout.subsec_nanos() as i64 };
            // SAFETY: valid pollfds and timespec.
            let ready =
                unsafe { libc::ppoll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, &spec, std::ptr::null()) };
            if ready > 0 {
                for (pollfd, index) in pollfds.iter().zip(owners) {
                    if pollfd.revents == 0 {
                        continue;
                    }
                    last_activity = Instant::now();
                    asleep_since = None;
                    let fd = self.procs[index].channel.as_ref().map(|channel| channel.as_raw_fd()).unwrap_or(-1);
                    match protocol::recv_message(fd, &mut self.buffer) {
                        Ok(Some(received)) => {
                            if let Err(why) = self.reply(index, received) {
                                return Ok(unclear(self, why));
                            }
                            self.maybe_move(index);
                        }
                        Ok(None) | Err(_) => {
                            let proc = &mut self.procs[index];
                            proc.channel = None;
                            let line = format!("{} (pid {}) ends", proc.name, proc.pid);
                            self.order.push(line);
                        }
                    }
                }
                continue;
            }
            // Nothing answered: a deadlock when every live process is asleep in a call, for a while.
            let all_in_calls = self
                .procs
                .iter()
                .filter(|proc| proc.channel.is_some())
                .all(|proc| matches!(proc.pending, Some(Pending::Call { .. })));
            if !all_in_calls || last_activity.elapsed() < QUIET {
                continue;
            }
            let asleep = self.procs.iter().filter(|proc| proc.channel.is_some()).all(|proc| {
                host::stat(proc.outer).is_none_or(|stat| matches!(stat.state, 'S' | 'T' | 't' | 'Z' | 'X'))
            });
            if !asleep {
                asleep_since = None;
                continue;
            }
            // A TCP client asleep in `connect` may be waiting for Linux's own timer to send its SYN
            // again (1, 2, 3, 4 and 5 s after the first, when an accept queue was full): the run is
            // not quiet until those have had their chance.
            let connecting = self
                .procs
                .iter()
                .filter(|proc| proc.channel.is_some())
                .any(|proc| host::syscall_line(proc.outer).is_some_and(|(number, _)| number == libc::SYS_connect));
            let quiet = if connecting { CONNECT_QUIET } else { QUIET };
            match asleep_since {
                None => asleep_since = Some(Instant::now()),
                Some(since) if since.elapsed() >= quiet => break true,
                Some(_) => {}
            }
        };
        // How each process ended: what a wait of the scenario's reported, or what its zombie says.
        let mut ends: Vec<(String, Option<ChildStatus>, Vec<i64>)> = Vec::new();
        for proc in &self.procs {
            if proc.channel.is_some() {
                ends.push((proc.name.clone(), None, proc.vars.clone()));
                continue;
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            let status = loop {
                if let Some(status) = self.waited.get(&proc.pid) {
                    break Some(*status);
                }
                match host::stat(proc.outer) {
                    Some(stat) if stat.state == 'Z' => break Some(wait::decode(stat.exit_code)),
                    Some(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
                    _ => break None,
                }
            };
            let Some(status) = status else {
                let why = format!(
                    "how {} (pid {}) ended could not be read: no wait of the scenario reported it and it left no \
                     zombie (the kernel reaps a child by itself when its parent ignores SIGCHLD)",
                    proc.name, proc.pid
                );
                return Ok(unclear(self, why));
            };
            self.order.push(format!("{} (pid {}) {}", proc.name, proc.pid, status_words(status)));
            ends.push((proc.name.clone(), Some(status), proc.vars.clone()));
        }
        let ending = if deadlocked { "deadlock" } else { "all-exited" };
        if deadlocked {
            self.order.push("every live process asleep in its call: deadlock".to_string());
        }
        // What the run left behind, read in its IPC namespace, when a declared outcome speaks of it.
        let counts_objects = self.program.outcomes.iter().any(|declared| {
            declared.conditions.iter().any(|(_, condition)| matches!(condition, OutcomeCondition::Left { .. }))
        });
        let left = if counts_objects {
            match leftovers::real() {
                Ok(lines) => lines,
                Err(why) => return Ok(unclear(self, format!("what the run left behind could not be read: {why}"))),
            }
        } else {
            Vec::new()
        };
        let declared = self
            .program
            .outcomes
            .iter()
            .map(|declared| declared.conditions.iter().all(|(_, condition)| holds(ending, &ends, &left, condition)))
            .collect();
        let mut processes: Vec<(String, String)> = ends
            .iter()
            .map(|(name, status, _)| (name.clone(), status.map_or_else(|| "running".to_string(), status_words)))
            .collect();
        processes.sort();
        Ok(FreeRun {
            ending: Some(Ending { ending: ending.to_string(), processes, declared }),
            unclear: None,
            order: self.order,
        })
    }

    /// Now and then, as the stirring draws, moves a process to another CPU.
    fn maybe_move(&mut self, index: usize) {
        if self.stirring.all_cpus.len() < 2 || !self.random.percent(self.stirring.move_percent) {
            return;
        }
        let cpu = self.stirring.all_cpus[self.random.below(self.stirring.all_cpus.len() as u64) as usize];
        let _ = host::set_affinity(self.procs[index].outer, &[cpu]);
    }
}

/// Runs the process's own code up to its next call, fork or end, as the simulator does.
fn settle(program: &Program, proc: &mut Proc) {
    let budget = sim_core::Limits::default().max_user_ops_per_step;
    proc.settled = user::settle(&program.ops, &mut proc.pc, proc.end_pc, &mut proc.vars, proc.pid as u32, budget);
}

/// Whether a declared outcome's condition holds at the end of a free run, as sim-core decides it for a
/// simulated one (`expect::condition_holds`): a condition on a name holds when every process of that
/// name (each copy a `repeat` forks) meets it, and there is at least one.
fn holds(
    ending: &str,
    ends: &[(String, Option<ChildStatus>, Vec<i64>)],
    left: &[String],
    condition: &OutcomeCondition,
) -> bool {
    let named = |name: &str, test: &dyn Fn(Option<ChildStatus>, &[i64]) -> bool| {
        let mut any = false;
        for (process, status, vars) in ends {
            if sim_core::kernel::process::base_name(process) != name {
                continue;
            }
            if !test(*status, vars) {
                return false;
            }
            any = true;
        }
        any
    };
    match condition {
        OutcomeCondition::RunEnds(end) => {
            matches!((end, ending), (RunEnd::AllExited, "all-exited") | (RunEnd::Deadlock, "deadlock"))
        }
        OutcomeCondition::Process { name, end } => named(name, &|status, _| match (end, status) {
            (ProcessOutcome::Running, None) => true,
            (ProcessOutcome::Exited(code), Some(ChildStatus::Exited(got))) => *code == got,
            (
                ProcessOutcome::Killed { signal, core, no_core },
                Some(ChildStatus::Killed { signal: got, core: got_core }),
            ) => *signal == got && (!core || got_core) && !(*no_core && got_core),
            _ => false,
        }),
        OutcomeCondition::Compare { name, slot, op, value, .. } => {
            named(name, &|_, vars| op.holds(vars.get(*slot as usize).copied().unwrap_or(-1), *value))
        }
        OutcomeCondition::Left { kind, op, value } => op.holds(leftovers::count(left, *kind) as i64, *value),
        // Refused before any run (`unsupported`).
        OutcomeCondition::Copied { .. } | OutcomeCondition::Calls { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(text: &str) -> Program {
        Program::compile(&sim_core::parse(text).expect("parses")).expect("compiles")
    }

    #[test]
    fn a_stirring_is_drawn_from_its_seed_alone() {
        let a = Stirring::draw(7, &[0, 1]);
        let b = Stirring::draw(7, &[0, 1]);
        assert_eq!(a.text(), b.text());
        let texts: std::collections::BTreeSet<String> =
            (0..40).map(|seed| Stirring::draw(seed, &[0, 1]).text()).collect();
        assert!(texts.len() > 10, "seeds give different stirrings: {texts:?}");
        assert!(texts.iter().any(|text| text.contains("all on CPU")));
        assert!(texts.iter().any(|text| text.contains("spread over CPUs")));
    }

    #[test]
    fn handlers_and_timers_are_refused_and_default_signal_actions_are_not() {
        let handler = program("handler h {\n}\nprocess a {\n sigaction SIGUSR1 h\n}\n");
        assert!(unsupported(&handler).is_some_and(|reason| reason.contains("signal handlers")));
        let timer = program("process a {\n alarm 1\n}\n");
        assert!(unsupported(&timer).is_some_and(|reason| reason.contains("`alarm`")));
        let timed = program("process a {\n s = semget IPC_PRIVATE 1 IPC_CREAT|0600\n semtimedop s 1000 {0, -1}\n}\n");
        assert!(unsupported(&timed).is_some_and(|reason| reason.contains("`semtimedop`")));
        let pause = program("process a {\n signal SIGPIPE SIG_IGN\n fork c {\n  pause\n }\n kill c SIGTERM\n}\n");
        assert_eq!(unsupported(&pause), None);
        let fine = program("process a {\n p = pipe\n fork c {\n  read p.r 1\n }\n kill c SIGTERM\n wait\n}\n");
        assert_eq!(unsupported(&fine), None);
    }

    #[test]
    fn declared_conditions_read_the_real_ends_and_variables() {
        let program = program(
            "process main {\n total = 2\n fork w {\n }\n}\noutcome sometimes \"two\" {\n all-exited\n main.total == 2\n w exited 0\n}\n",
        );
        let slot = program.slots.iter().position(|name| &**name == "total").unwrap();
        let mut vars = vec![-1; program.slots.len()];
        vars[slot] = 2;
        let ends = vec![
            ("main".to_string(), Some(ChildStatus::Exited(0)), vars.clone()),
            ("w".to_string(), Some(ChildStatus::Exited(0)), vars.clone()),
        ];
        let all = |ending: &str, ends: &[(String, Option<ChildStatus>, Vec<i64>)]| {
            program.outcomes[0].conditions.iter().all(|(_, condition)| holds(ending, ends, &[], condition))
        };
        assert!(all("all-exited", &ends));
        assert!(!all("deadlock", &ends));
        let mut lost = ends.clone();
        lost[0].2[slot] = 1;
        assert!(!all("all-exited", &lost));
        let mut killed = ends.clone();
        killed[1].1 = Some(ChildStatus::Killed { signal: sim_core::linux::Signal(15), core: false });
        assert!(!all("all-exited", &killed));
    }
}
