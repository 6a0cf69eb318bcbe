//! `ipclab check`: replays scenarios on real Linux system calls, in lockstep with the simulator, and
//! reports every difference.
//!
//! - [`host`]: what the runner needs from Linux (`/proc`, real-time scheduling, isolation).
//! - [`real`]: the real processes and their control protocol.
//! - [`lockstep`]: one scenario under one schedule, on both arms, compared step by step.
//!
//! Exit status: 0 when every run matches, 1 on any difference, 2 for usage or parse errors and when a run
//! was refused (the simulator stopped it at a limit; the other runs are still checked and reported), 3 when
//! the host cannot run the check (the message says why), 128 + signal when interrupted by `SIGINT` or
//! `SIGTERM` (after the partial report).

mod host;
mod lockstep;
mod real;

use lockstep::{obs_text, RunError, RunReport, RunSpec, RunStatus};
use sim_core::sched::Policy;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

/// The options of `ipclab check`.
pub struct CheckArgs {
    pub files: Vec<std::path::PathBuf>,
    pub seed: u64,
    pub runs: u64,
    pub schedule: String,
    pub json: bool,
    pub perturb_step: Option<u32>,
    pub quiet: bool,
}

pub fn run(args: CheckArgs) -> ExitCode {
    if args.files.is_empty() {
        note!("ipclab check: name at least one scenario file");
        return ExitCode::from(2);
    }
    if args.runs == 0 {
        note!("ipclab check: --runs must be at least 1");
        return ExitCode::from(2);
    }
    let (policy, choices) = match crate::parse_schedule(&args.schedule) {
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
    let mut host = match host::probe() {
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
    host::install_stop_handlers();
    host::become_subreaper();

    let total = scenarios.len() as u64 * args.runs;
    let mut reports: Vec<RunReport> = Vec::new();
    let mut host_error: Option<String> = None;
    let mut index = 0;
    let started = Instant::now();
    'outer: for (file, scenario) in &scenarios {
        for run in 0..args.runs {
            if host::stop_requested().is_some() {
                break 'outer;
            }
            index += 1;
            let seed = args.seed + run;
            let label = match policy {
                Policy::Random => format!("{file} (random, seed {seed})"),
                _ => format!("{file} ({})", policy_label(&args.schedule)),
            };
            if !args.quiet {
                note_part!("[{index}/{total}] {label} ... ");
                let _ = std::io::stderr().flush();
            }
            let pids = match resolve_choices(scenario, &choices) {
                Ok(pids) => pids,
                Err(reason) => {
                    refuse(&mut reports, args.quiet, file, scenario, &policy, seed, reason);
                    continue;
                }
            };
            host.info.ipc_namespace = host::new_ipc_namespace();
            let spec = RunSpec {
                file: file.clone(),
                scenario,
                policy: policy.clone(),
                seed,
                choices: pids,
                perturb_step: args.perturb_step,
            };
            match lockstep::check_run(&host, &spec) {
                Ok(report) => {
                    if !args.quiet {
                        let word = match report.status {
                            RunStatus::Match => "ok",
                            RunStatus::Differ => "DIFFERS",
                            RunStatus::Interrupted => "interrupted",
                            RunStatus::Refused => "refused",
                        };
                        note!("{word} ({} steps, {} ms)", report.steps_checked, report.elapsed_ms);
                    }
                    reports.push(report);
                }
                Err(RunError::Usage(reason)) => refuse(&mut reports, args.quiet, file, scenario, &policy, seed, reason),
                Err(RunError::Host(message)) => {
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
    let interrupted = host::stop_requested();
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let outcome = Outcome { total, elapsed_ms, interrupted, host_error };
    if args.json {
        let value = serde_json::json!({
            "host": host.info,
            "runs": reports,
            "summary": summary(&reports, &outcome),
        });
        let text = serde_json::to_string_pretty(&value).expect("reports serialize");
        if let Err(code) = crate::output::print(&format!("{text}\n")) {
            return code;
        }
    } else if let Err(code) = crate::output::print(&text_report(&host.info, &reports, &outcome)) {
        return code;
    }
    exit_status(&reports, &outcome)
}

/// How the whole check ended, beside the reports of its runs.
struct Outcome {
    /// Runs planned (files times `--runs`).
    total: u64,
    elapsed_ms: u64,
    /// The signal that stopped the check early.
    interrupted: Option<i32>,
    /// Why the host could not run the check, when it failed part-way.
    host_error: Option<String>,
}

/// Interrupted: 128 + signal; the host failed: 3; a run was refused: 2 (an incomplete check is trouble,
/// as for `diff`, even when a difference was found too); a difference: 1; else 0.
fn exit_status(reports: &[RunReport], outcome: &Outcome) -> ExitCode {
    if let Some(signal) = outcome.interrupted {
        ExitCode::from(128 + signal as u8)
    } else if outcome.host_error.is_some() {
        ExitCode::from(3)
    } else if reports.iter().any(|report| report.status == RunStatus::Refused) {
        ExitCode::from(2)
    } else if reports.iter().any(|report| report.status == RunStatus::Differ) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Records a run that is not run on Linux, and says why on stderr.
fn refuse(
    reports: &mut Vec<RunReport>,
    quiet: bool,
    file: &str,
    scenario: &sim_core::Scenario,
    policy: &Policy,
    seed: u64,
    reason: String,
) {
    if !quiet {
        note!("refused");
    }
    note!("ipclab check: {file}: {reason}");
    reports.push(RunReport::refused(file, scenario, policy, seed, reason));
}

fn policy_label(schedule: &str) -> String {
    if schedule == "round-robin" || schedule == "random" {
        schedule.to_string()
    } else {
        format!("schedule {schedule}")
    }
}

/// `--schedule 2,3,parent`: names are looked up in a throwaway simulation, step by step.
fn resolve_choices(scenario: &sim_core::Scenario, choices: &[crate::Choice]) -> Result<Vec<u32>, String> {
    if choices.is_empty() {
        return Ok(Vec::new());
    }
    let mut simulation =
        sim_core::Simulation::new(scenario, sim_core::RunConfig::default()).map_err(|d| d.message.clone())?;
    let mut pids = Vec::new();
    for (index, choice) in choices.iter().enumerate() {
        let pid =
            match choice {
                crate::Choice::Pid(pid) => *pid,
                crate::Choice::Name(name) => {
                    let kernel = simulation.kernel();
                    *simulation.runnable().iter().find(|pid| &*kernel.process(**pid).name == name.as_str()).ok_or(
                        format!("--schedule: choice {} ({name}): no runnable process has that name", index + 1),
                    )?
                }
            };
        simulation.step_as(pid).map_err(|error| format!("--schedule: choice {}: {error}", index + 1))?;
        pids.push(pid);
    }
    Ok(pids)
}

fn count(reports: &[RunReport], status: RunStatus) -> usize {
    reports.iter().filter(|report| report.status == status).count()
}

fn summary(reports: &[RunReport], outcome: &Outcome) -> serde_json::Value {
    let refused = count(reports, RunStatus::Refused);
    serde_json::json!({
        "runs_planned": outcome.total,
        "runs_checked": reports.len() - refused,
        "matched": count(reports, RunStatus::Match),
        "differ": count(reports, RunStatus::Differ),
        "refused": refused,
        "interrupted_by": outcome.interrupted.map(signal_name),
        "host_error": outcome.host_error,
        "elapsed_ms": outcome.elapsed_ms,
    })
}

fn signal_name(signal: i32) -> &'static str {
    sim_core::ast::Signal(signal as u8).name()
}

/// The report for people: a header, then per run one line, and the side-by-side table of every run
/// that differs (or of the only run), with the first difference marked and explained. A refused run
/// says why it was refused.
fn text_report(info: &host::HostInfo, reports: &[RunReport], outcome: &Outcome) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "ipclab check: Linux {}; runner {}root; scenario processes run as uid {} on CPU {}; System V IPC namespace: {}\n",
        info.kernel,
        if info.root { "" } else { "not " },
        info.scenario_uid,
        info.scenario_cpu,
        if info.ipc_namespace { "private" } else { "shared with the host (not permitted)" }
    ));
    for report in reports {
        let show_table =
            report.status == RunStatus::Differ || (reports.len() == 1 && report.status != RunStatus::Refused);
        let title = report.title.as_deref().map(|title| format!(" \"{title}\"")).unwrap_or_default();
        let schedule =
            if report.schedule == "random" { format!("random, seed {}", report.seed) } else { report.schedule.clone() };
        if let Some(reason) = &report.refusal {
            out.push_str(&format!("\n{}{title} ({schedule}): REFUSED, not run on Linux: {reason}\n", report.file));
            continue;
        }
        let verdict = match report.status {
            RunStatus::Match => "every step matches".to_string(),
            RunStatus::Differ => "DIFFERS".to_string(),
            RunStatus::Interrupted => "interrupted (partial)".to_string(),
            RunStatus::Refused => "refused".to_string(),
        };
        out.push_str(&format!(
            "\n{}{title} ({schedule}): {verdict}; {} of {} steps checked; simulator outcome: {}\n",
            report.file, report.steps_checked, report.sim_steps, report.sim_outcome
        ));
        if show_table {
            out.push_str(&table(report));
        }
        if let Some(explanation) = &report.explanation {
            out.push_str(&format!("first difference: {explanation}\n"));
        }
    }
    let refused = count(reports, RunStatus::Refused);
    out.push_str(&format!(
        "\n{} of {} runs checked: {} match, {} differ{} ({:.1} s)\n",
        reports.len() - refused,
        outcome.total,
        count(reports, RunStatus::Match),
        count(reports, RunStatus::Differ),
        if refused > 0 { format!("; {refused} refused, not run on Linux") } else { String::new() },
        outcome.elapsed_ms as f64 / 1000.0
    ));
    if let Some(signal) = outcome.interrupted {
        out.push_str(&format!(
            "interrupted by {}: the remaining runs were not started; every real process and file was cleaned up\n",
            signal_name(signal)
        ));
    }
    if let Some(message) = &outcome.host_error {
        out.push_str(&format!("stopped: this host cannot run the check: {message}\n"));
    }
    out
}

fn table(report: &RunReport) -> String {
    let mut out = String::new();
    let call_width = report.rows.iter().map(|row| row.call.chars().count()).max().unwrap_or(4).clamp(4, 56);
    let sim_width =
        report.rows.iter().map(|row| obs_text(&row.simulator).chars().count()).max().unwrap_or(9).clamp(9, 40);
    out.push_str(&format!(
        "    {:>5}  {:<10} {:<call_width$}  {:<sim_width$}  {}\n",
        "step", "process", "call", "simulator", "linux"
    ));
    for (index, row) in report.rows.iter().enumerate() {
        let marker = if Some(index) == report.first_difference {
            ">>> "
        } else if row.matches {
            "    "
        } else {
            " !  "
        };
        let call: String = row.call.chars().take(call_width).collect();
        let mut linux = obs_text(&row.linux);
        if !row.linux_note.is_empty() {
            linux.push_str(&format!(" ({})", row.linux_note));
        }
        out.push_str(&format!(
            "{marker}{:>5}  {:<10} {:<call_width$}  {:<sim_width$}  {}{}\n",
            row.step,
            row.process,
            call,
            obs_text(&row.simulator),
            linux,
            if row.matches { "" } else { "   <-- differs" }
        ));
    }
    out
}
