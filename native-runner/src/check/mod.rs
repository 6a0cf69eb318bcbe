//! `ipclab check`: replays scenarios on real Linux system calls, in lockstep with the simulator, and
//! reports every difference and every expectation of the scenario that does not hold.
//!
//! - [`host`]: what the runner needs from Linux (`/proc`, real-time scheduling, namespaces, `uname`).
//! - [`namespace`]: each run in a driver process of its own, in a fresh PID and IPC namespace.
//! - [`lockstep`]: one scenario under one schedule, on both arms, compared step by step.
//! - [`observe`]: what each arm says happened in a step; [`report`]: the report and the exit status.
//! - [`free`]: `--free N`, the scenario run N times with Linux choosing the interleavings, its
//!   outcomes compared with the model's outcome set.
//! - [`protocol`]: commands (a call's id and operands) and replies between the driver and the real
//!   processes; [`real`]: the real processes, one module per mechanism.
//!
//! Exit status: 0 when every run matches Linux and every expectation it counts holds; 1 when a run
//! differs from Linux or an expectation fails; 2 for usage or parse errors and when a run was refused
//! (the simulator stopped it at a limit; the other runs are still checked and reported); 3 when the
//! host cannot run the check (the message says why); 128 + signal when interrupted by `SIGINT` or
//! `SIGTERM` (after the partial report).

pub mod free;
mod host;
mod in_flight;
mod leftovers;
mod lockstep;
mod namespace;
mod observe;
mod protocol;
mod real;
mod report;

use lockstep::RunSpec;
use report::{Outcome, RunReport, RunStatus};
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

/// The options of `ipclab check`.
pub struct CheckArgs {
    pub files: Vec<std::path::PathBuf>,
    /// A share link to replay instead of files.
    pub link: Option<String>,
    pub seed: u64,
    pub runs: u64,
    pub schedule: String,
    /// The step limit of each run, if not the simulator's.
    pub max_steps: Option<u64>,
    pub json: bool,
    pub perturb_step: Option<u32>,
    /// Test hook: on a run's first try only, the driver stalls for 200 ms before this step.
    pub stall_first_try: Option<u32>,
    pub quiet: bool,
}

pub fn run(args: CheckArgs) -> ExitCode {
    if args.files.is_empty() && args.link.is_none() {
        note!("ipclab check: name at least one scenario file");
        return ExitCode::from(2);
    }
    if args.runs == 0 {
        note!("ipclab check: --runs must be at least 1");
        return ExitCode::from(2);
    }
    let schedule = match crate::parse_schedule(&args.schedule) {
        Ok(parsed) => parsed,
        Err(message) => {
            note!("ipclab check: {message}");
            return ExitCode::from(2);
        }
    };
    // Everything is read and parsed before anything real starts.
    let mut scenarios = Vec::new();
    for file in &args.files {
        match crate::input::load(file) {
            Ok((_, scenario)) => scenarios.push((file.display().to_string(), scenario)),
            Err(code) => return code,
        }
    }
    // A link: its scenario, its choices, then its policy and seed.
    let mut linked: Option<sim_core::share::SharedRun> = None;
    if let Some(link) = &args.link {
        match crate::input::load_link(link, LINK_NAME) {
            Ok((run, scenario)) => {
                scenarios.push((LINK_NAME.to_string(), scenario));
                linked = Some(run);
            }
            Err(code) => return code,
        }
    }
    // Run directories of earlier checks that were killed before they could remove them.
    for swept in host::sweep_stale_run_dirs(&std::env::temp_dir()) {
        let owner = swept.owner_pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default();
        match swept.error {
            None => note!(
                "ipclab check: removed {}, a run directory left behind by a check{owner} that ended without removing it",
                swept.path.display()
            ),
            Some(error) => note!(
                "ipclab check: cannot remove {}, a run directory left behind by a check{owner} that ended without \
                 removing it: {error}",
                swept.path.display()
            ),
        }
    }
    let host = match host::probe() {
        Ok(host) => host,
        Err(reason) => {
            note!("ipclab check: this host cannot run the check: {reason}");
            return ExitCode::from(3);
        }
    };
    if let Err(error) = host::set_affinity(0, &host.runner_cpus) {
        note!("ipclab check: this host cannot run the check: cannot pin the runner to its CPUs: {error}");
        return ExitCode::from(3);
    }
    crate::stop::install_stop_handlers();
    // One lockstep check at a time on a host (see `host::LockstepTurn`).
    let _turn = match host::lockstep_turn(|holder| {
        let holder = holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default();
        note!("ipclab check: waiting for another lockstep check{holder} to finish: checks take turns on a host");
    }) {
        Ok(Some(turn)) => Some(turn),
        // Asked to stop while waiting: no run starts, and the report says so.
        Ok(None) => None,
        Err(reason) => {
            note!("ipclab check: this host cannot run the check: {reason}");
            return ExitCode::from(3);
        }
    };

    let total = scenarios.len() as u64 * args.runs;
    let mut reports: Vec<RunReport> = Vec::new();
    let mut host_error: Option<String> = None;
    let mut index = 0;
    let started = Instant::now();
    'outer: for (file, scenario) in &scenarios {
        for run in 0..args.runs {
            if crate::stop::stop_requested().is_some() {
                break 'outer;
            }
            index += 1;
            let (seed, label, config, choices) = match &linked {
                Some(link) => {
                    let label = format!(
                        "the link's {} choice{}, then {}",
                        link.forced.len(),
                        if link.forced.len() == 1 { "" } else { "s" },
                        link.policy.name()
                    );
                    // As the playground builds the run: the forced choices, then the policy.
                    let config =
                        sim_core::RunConfig { seed: link.seed, policy: link.policy.clone(), ..Default::default() };
                    (link.seed, label, config, link.forced.iter().map(|pid| crate::Choice::Pid(*pid)).collect())
                }
                None => (
                    args.seed + run,
                    schedule_label(&schedule, &args.schedule, scenario),
                    schedule.config(args.seed + run),
                    schedule.choices().to_vec(),
                ),
            };
            if !args.quiet {
                let shown = if label == "random" { format!("random, seed {seed}") } else { label.clone() };
                note_part!("[{index}/{total}] {file} ({shown}) ... ");
                let _ = std::io::stderr().flush();
            }
            let mut config = config;
            if let Some(max_steps) = args.max_steps {
                config.max_steps = max_steps;
            }
            let spec = RunSpec {
                file: file.clone(),
                scenario,
                label: label.clone(),
                config,
                choices: &choices,
                perturb_step: args.perturb_step,
            };
            let mut plan = match lockstep::plan(&spec) {
                Ok(plan) => plan,
                Err(reason) => {
                    if !args.quiet {
                        note!("refused");
                    }
                    note!("ipclab check: {file}: {reason}");
                    reports.push(RunReport::refused(file, scenario.title.clone(), &label, seed, reason));
                    continue;
                }
            };
            let host_problem = plan
                .core_deaths
                .then(|| host.info.core_pattern_problem())
                .flatten()
                .or_else(|| host.info.buffer_limit_problem(plan.buffer_requests));
            if let Some(reason) = host_problem {
                if !args.quiet {
                    note!("refused");
                }
                note!("ipclab check: {file}: {reason}");
                reports.push(RunReport::refused(file, scenario.title.clone(), &label, seed, reason));
                continue;
            }
            plan.stall = args.stall_first_try.map(|step| (step, std::time::Duration::from_millis(200)));
            match check_with_retries(&host, &mut plan, args.quiet) {
                Ok(report) => {
                    if !args.quiet {
                        let word = match report.status {
                            RunStatus::Match => "ok",
                            RunStatus::Differ => "DIFFERS",
                            RunStatus::ExpectationsFailed => "EXPECTATIONS FAIL",
                            RunStatus::Interrupted => "interrupted",
                            RunStatus::Refused => "refused",
                        };
                        note!("{word} ({} steps, {} ms)", report.steps_checked, report.elapsed_ms);
                    }
                    reports.push(report);
                }
                Err(message) => {
                    // The runs so far are still reported; the rest would fail the same way.
                    if !args.quiet {
                        note!("failed");
                    }
                    note!("ipclab check: this host cannot run the check: {message}");
                    host_error = Some(message);
                    break 'outer;
                }
            }
        }
    }
    let interrupted = crate::stop::stop_requested();
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let outcome = Outcome { total, elapsed_ms, interrupted, host_error };
    // A link checked on Linux: the same link with the verdict in it, for the playground to show.
    let checked = match (&args.link, reports.as_slice()) {
        (Some(link), [report]) => checked_link(link, &host.info, report),
        _ => None,
    };
    if args.json {
        let value = serde_json::json!({
            "host": host.info,
            "runs": reports,
            "summary": report::summary(&reports, &outcome),
            "checked_link": checked,
        });
        let text = serde_json::to_string_pretty(&value).expect("reports serialize");
        if let Err(code) = crate::output::print(&format!("{text}\n")) {
            return code;
        }
    } else {
        let mut text = report::text_report(&host.info, &reports, &outcome);
        if let Some(link) = &checked {
            text.push_str(&format!("\nthe link with this verdict (the playground shows it with the run):\n{link}\n"));
        }
        if let Err(code) = crate::output::print(&text) {
            return code;
        }
    }
    report::exit_status(&reports, &outcome)
}

/// Where a link without an address is opened: the playground as `ipclab serve` serves it.
const PLAYGROUND: &str = "http://127.0.0.1:8000/";

/// `link` again, carrying the verdict of `report`, its check on this host (none for a run that was
/// refused or interrupted). The link's other branches stay in it.
fn checked_link(link: &str, host: &host::HostInfo, report: &RunReport) -> Option<String> {
    let words = match report.status {
        RunStatus::Match => "every step matches Linux and every expectation holds",
        RunStatus::ExpectationsFailed => "every step matches Linux, and an expectation fails as in the model",
        RunStatus::Differ => "Linux differs from the model",
        RunStatus::Interrupted | RunStatus::Refused => return None,
    };
    let trace_hash = u64::from_str_radix(report.trace_hash.as_deref()?, 16).ok()?;
    let (base, fragment) = match link.rsplit_once('#') {
        Some((base, fragment)) => (base.to_string(), fragment),
        None => (PLAYGROUND.to_string(), link),
    };
    let mut tree = sim_core::share::decode_tree(fragment.trim()).ok()?;
    let verdict = format!(
        "Checked in lockstep on {} {} ({}) by ipclab {}: {words}; trace {trace_hash:016x}.",
        host.kernel_name,
        host.kernel,
        host.machine,
        env!("CARGO_PKG_VERSION")
    );
    tree.checked = Some(sim_core::share::Checked { trace_hash, verdict });
    Some(format!("{base}#{}", sim_core::share::encode_tree(&tree)))
}

/// What a link's scenario is called in messages and reports.
const LINK_NAME: &str = "the link's scenario";

/// How many times a run is tried when the host's timing spoils it.
const TRIES: usize = 3;

/// Checks a planned run, and tries it again (up to [`TRIES`] times in all) while it differs or is
/// refused after the real run fell behind the simulator's clock by more than the time margins allow:
/// such a difference may be the host's (a loaded machine stalled the run), not the simulator's. The
/// plan, and so the schedule, is the same each time; the last try's report stands, whatever it says,
/// and lists the tries before it, so nothing is hidden: a difference that is the simulator's comes
/// back on every try.
fn check_with_retries(host: &host::Host, plan: &mut lockstep::Plan, quiet: bool) -> Result<RunReport, String> {
    let mut spoiled = Vec::new();
    loop {
        let mut report = check_on_linux(host, plan)?;
        plan.stall = None;
        let retry = matches!(report.status, RunStatus::Differ | RunStatus::Refused)
            && report.lagged.is_some()
            && spoiled.len() + 1 < TRIES
            && crate::stop::stop_requested().is_none();
        if !retry {
            report.spoiled_tries = spoiled;
            return Ok(report);
        }
        let what = match report.status {
            RunStatus::Differ => report.explanation.clone().unwrap_or_else(|| "it differed".to_string()),
            _ => report.refusal.clone().unwrap_or_else(|| "it was refused".to_string()),
        };
        let lagged = report.lagged.clone().unwrap_or_default();
        if !quiet {
            note_part!("host too slow, trying again ... ");
            let _ = std::io::stderr().flush();
        }
        spoiled.push(format!("{lagged}; then: {what}"));
    }
}

/// Runs a planned run on Linux: its private directory (owned by this process, removed at the end
/// however the run ends), and its driver in a namespace of its own.
fn check_on_linux(host: &host::Host, plan: &lockstep::Plan) -> Result<RunReport, String> {
    let run_dir = host::RunDir::create(host.info.root.then_some(host.info.scenario_uid))?;
    let paths: Vec<Vec<u8>> = plan
        .program
        .paths
        .iter()
        .enumerate()
        .map(|(index, path)| run_dir.map(index, path).into_os_string().into_encoded_bytes())
        .collect();
    let report = namespace::run(host, plan, &paths, &run_dir.path);
    drop(run_dir);
    report
}

/// How the report names a run's schedule.
fn schedule_label(schedule: &crate::Schedule, written: &str, scenario: &sim_core::Scenario) -> String {
    match schedule {
        crate::Schedule::Scenario if scenario.schedule.is_some() => {
            "the scenario's schedule, then round-robin".to_string()
        }
        crate::Schedule::Scenario | crate::Schedule::RoundRobin => "round-robin".to_string(),
        crate::Schedule::Random => "random".to_string(),
        crate::Schedule::List(_) => format!("schedule {written}"),
    }
}
