//! The report of `ipclab check`: one [`RunReport`] per run, the text and JSON forms of the whole check,
//! and its exit status.
//!
//! A run's status is `differ` when any step differs from Linux (whatever its expectations), else
//! `expectations_failed` when an expectation the run counts does not hold, else `match`; a run stopped
//! by `SIGINT`/`SIGTERM` is `interrupted` and one never run on Linux is `refused`. A run counts the
//! scenario's expectations unless it replaced the scenario's own `schedule` line with another schedule
//! (`--schedule round-robin|random|LIST` on a scenario that pins one): the scenario says its
//! expectations assume its interleaving, so under another one they are listed but not counted.

use super::host::HostInfo;
use super::observe::{obs_text, Obs};
use serde::{Deserialize, Serialize};
use sim_core::Pid;
use std::process::ExitCode;

/// One line of the side-by-side table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    pub step: u32,
    pub pid: Pid,
    pub process: String,
    pub call: String,
    pub simulator: Obs,
    pub linux: Obs,
    /// Extra words about the Linux side (the kernel function a process sleeps in).
    pub linux_note: String,
    pub matches: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Match,
    Differ,
    /// Linux did what the simulator did at every step checked, but an expectation of the scenario that
    /// the run counts does not hold.
    ExpectationsFailed,
    Interrupted,
    /// Not run on Linux at all: the simulator stopped it at a limit, or the schedule does not fit it.
    Refused,
}

/// An expectation of the scenario that did not hold in the run, where it is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedExpectation {
    pub file: String,
    pub line: u32,
    pub col: u32,
    pub process: String,
    pub expected: String,
    pub got: String,
}

impl FailedExpectation {
    /// `FILE:LINE:COL: expectation failed in PROCESS: expected ..., got ...`, as `ipclab sim` says it.
    pub fn text(&self) -> String {
        format!(
            "{}:{}:{}: expectation failed in {}: expected {}, got {}",
            self.file, self.line, self.col, self.process, self.expected, self.got
        )
    }
}

/// The scenario's expectations in one run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Expectations {
    /// Whether they count towards the run's status (see the module's documentation).
    pub counted: bool,
    /// Why they do not count, when they do not.
    pub note: Option<String>,
    pub failed: Vec<FailedExpectation>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunReport {
    pub file: String,
    pub title: Option<String>,
    pub schedule: String,
    pub seed: u64,
    pub status: RunStatus,
    pub sim_steps: u64,
    /// The simulated run's trace hash (16 hex digits), as `ipclab sim` prints it; none for a refused run.
    pub trace_hash: Option<String>,
    pub steps_checked: u64,
    pub sim_outcome: String,
    pub rows: Vec<Row>,
    /// Index into `rows` of the first difference.
    pub first_difference: Option<usize>,
    pub explanation: Option<String>,
    pub expectations: Expectations,
    /// Why a refused run was not run on Linux.
    pub refusal: Option<String>,
    /// The first step where the real run fell behind the simulator's clock by more than the time
    /// margins allow (see `docs/conformance.md`, "Time"): a difference or refusal of such a run may be
    /// the host's, not the simulator's, so the run is tried again.
    #[serde(default)]
    pub lagged: Option<String>,
    /// Earlier tries of this same run (same plan, same schedule) that the host's timing spoiled, each
    /// with what went wrong; empty for a run checked on its first try.
    #[serde(default)]
    pub spoiled_tries: Vec<String>,
    pub elapsed_ms: u64,
}

impl RunReport {
    /// The entry of a run that was refused before anything real started.
    pub fn refused(file: &str, title: Option<String>, schedule: &str, seed: u64, reason: String) -> RunReport {
        RunReport {
            file: file.to_string(),
            title,
            schedule: schedule.to_string(),
            seed,
            status: RunStatus::Refused,
            sim_steps: 0,
            trace_hash: None,
            steps_checked: 0,
            sim_outcome: String::new(),
            rows: Vec::new(),
            first_difference: None,
            explanation: None,
            expectations: Expectations::default(),
            refusal: Some(reason),
            lagged: None,
            spoiled_tries: Vec::new(),
            elapsed_ms: 0,
        }
    }

    /// The status a run with these results has.
    pub fn status_of(differs: bool, interrupted: bool, expectations: &Expectations) -> RunStatus {
        if differs {
            RunStatus::Differ
        } else if interrupted {
            RunStatus::Interrupted
        } else if expectations.counted && !expectations.failed.is_empty() {
            RunStatus::ExpectationsFailed
        } else {
            RunStatus::Match
        }
    }
}

/// How the whole check ended, beside the reports of its runs.
pub struct Outcome {
    /// Runs planned (files times `--runs`).
    pub total: u64,
    pub elapsed_ms: u64,
    /// The signal that stopped the check early.
    pub interrupted: Option<i32>,
    /// Why the host could not run the check, when it failed part-way.
    pub host_error: Option<String>,
}

/// Interrupted: 128 + signal; the host failed: 3; a run was refused: 2 (an incomplete check is trouble,
/// as for `diff`, even when a difference was found too); a difference or a failed expectation: 1; else 0.
pub fn exit_status(reports: &[RunReport], outcome: &Outcome) -> ExitCode {
    let any = |status: RunStatus| reports.iter().any(|report| report.status == status);
    if let Some(signal) = outcome.interrupted {
        ExitCode::from(128 + signal as u8)
    } else if outcome.host_error.is_some() {
        ExitCode::from(3)
    } else if any(RunStatus::Refused) {
        ExitCode::from(2)
    } else if any(RunStatus::Differ) || any(RunStatus::ExpectationsFailed) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn count(reports: &[RunReport], status: RunStatus) -> usize {
    reports.iter().filter(|report| report.status == status).count()
}

pub use crate::stop::signal_name;

/// The JSON summary: each run is counted under exactly one status.
pub fn summary(reports: &[RunReport], outcome: &Outcome) -> serde_json::Value {
    let refused = count(reports, RunStatus::Refused);
    serde_json::json!({
        "runs_planned": outcome.total,
        "runs_checked": reports.len() - refused,
        "matched": count(reports, RunStatus::Match),
        "differ": count(reports, RunStatus::Differ),
        "expectations_failed": count(reports, RunStatus::ExpectationsFailed),
        "refused": refused,
        "interrupted_by": outcome.interrupted.map(signal_name),
        "host_error": outcome.host_error,
        "elapsed_ms": outcome.elapsed_ms,
    })
}

/// The header line: where the check ran.
pub fn header(info: &HostInfo) -> String {
    format!(
        "ipclab check: {} {} {} {}; runner {}root; scenario processes run as uid {} on CPU {}; each run in a PID \
         namespace, an IPC namespace and a mount namespace (with a /dev/shm) of its own; RLIMIT_CORE 0 (hard: \
         unlimited) to start, core_pattern {:?}\n",
        info.kernel_name,
        info.kernel,
        info.kernel_version,
        info.machine,
        if info.root { "" } else { "not " },
        info.scenario_uid,
        info.scenario_cpu,
        info.core_pattern,
    )
}

/// The tries of a run that the host's timing spoiled, one line each.
fn spoiled_tries(report: &RunReport) -> String {
    let mut out = String::new();
    for (index, spoiled) in report.spoiled_tries.iter().enumerate() {
        out.push_str(&format!("try {} was spoiled by the host's timing and tried again: {spoiled}\n", index + 1));
    }
    out
}

/// The report for people: a header, then per run one line, its failed expectations, and the
/// side-by-side table of every run that differs (or of the only run), with the first difference marked
/// and explained. A refused run says why it was refused.
pub fn text_report(info: &HostInfo, reports: &[RunReport], outcome: &Outcome) -> String {
    let mut out = header(info);
    for report in reports {
        let show_table =
            report.status == RunStatus::Differ || (reports.len() == 1 && report.status != RunStatus::Refused);
        let title = report.title.as_deref().map(|title| format!(" \"{title}\"")).unwrap_or_default();
        let schedule =
            if report.schedule == "random" { format!("random, seed {}", report.seed) } else { report.schedule.clone() };
        if let Some(reason) = &report.refusal {
            out.push_str(&format!("\n{}{title} ({schedule}): REFUSED, not run on Linux: {reason}\n", report.file));
            out.push_str(&spoiled_tries(report));
            continue;
        }
        let failed = report.expectations.failed.len();
        let verdict = match report.status {
            RunStatus::Match if failed == 0 => "every step matches; every expectation holds".to_string(),
            RunStatus::Match => {
                format!("every step matches; {failed} expectation{} not counted", if failed == 1 { "" } else { "s" })
            }
            RunStatus::Differ => "DIFFERS".to_string(),
            RunStatus::ExpectationsFailed => format!(
                "EXPECTATIONS FAIL ({failed} of the scenario's expectations do not hold; Linux did what the \
                 simulator did at every step)"
            ),
            RunStatus::Interrupted => "interrupted (partial)".to_string(),
            RunStatus::Refused => "refused".to_string(),
        };
        out.push_str(&format!(
            "\n{}{title} ({schedule}): {verdict}; {} of {} steps checked; simulator outcome: {}{}\n",
            report.file,
            report.steps_checked,
            report.sim_steps,
            report.sim_outcome,
            report.trace_hash.as_ref().map_or(String::new(), |hash| format!("; trace hash {hash}"))
        ));
        if failed > 0 {
            if let Some(note) = &report.expectations.note {
                out.push_str(&format!("expectations not counted: {note}\n"));
            }
            for failure in &report.expectations.failed {
                out.push_str(&format!("{}\n", failure.text()));
            }
        }
        out.push_str(&spoiled_tries(report));
        if show_table {
            out.push_str(&table(report));
        }
        if let Some(explanation) = &report.explanation {
            out.push_str(&format!("first difference: {explanation}\n"));
        }
    }
    let refused = count(reports, RunStatus::Refused);
    let expectations_failed = count(reports, RunStatus::ExpectationsFailed);
    out.push_str(&format!(
        "\n{} of {} runs checked: {} match, {} differ{}{} ({:.1} s)\n",
        reports.len() - refused,
        outcome.total,
        count(reports, RunStatus::Match),
        count(reports, RunStatus::Differ),
        if expectations_failed > 0 {
            format!(", {expectations_failed} match Linux but fail their expectations")
        } else {
            String::new()
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> Expectations {
        Expectations {
            counted: true,
            note: None,
            failed: vec![FailedExpectation {
                file: "a.ipc".to_string(),
                line: 3,
                col: 22,
                process: "a".to_string(),
                expected: "4".to_string(),
                got: "3".to_string(),
            }],
        }
    }

    #[test]
    fn a_difference_outranks_a_failed_expectation_which_outranks_a_match() {
        let none = Expectations { counted: true, ..Expectations::default() };
        assert_eq!(RunReport::status_of(false, false, &none), RunStatus::Match);
        assert_eq!(RunReport::status_of(false, false, &failed()), RunStatus::ExpectationsFailed);
        assert_eq!(RunReport::status_of(true, false, &failed()), RunStatus::Differ);
        assert_eq!(RunReport::status_of(false, true, &failed()), RunStatus::Interrupted);
        let not_counted = Expectations { counted: false, note: Some("replaced".to_string()), ..failed() };
        assert_eq!(RunReport::status_of(false, false, &not_counted), RunStatus::Match);
        assert_eq!(failed().failed[0].text(), "a.ipc:3:22: expectation failed in a: expected 4, got 3");
    }

    #[test]
    fn exit_statuses_rank_as_documented() {
        let outcome = Outcome { total: 2, elapsed_ms: 0, interrupted: None, host_error: None };
        let run = |status| RunReport { status, ..RunReport::refused("a.ipc", None, "round-robin", 0, String::new()) };
        let code = |reports: &[RunReport], outcome: &Outcome| format!("{:?}", exit_status(reports, outcome));
        assert_eq!(code(&[run(RunStatus::Match)], &outcome), format!("{:?}", ExitCode::SUCCESS));
        assert_eq!(code(&[run(RunStatus::ExpectationsFailed)], &outcome), format!("{:?}", ExitCode::from(1)));
        assert_eq!(
            code(&[run(RunStatus::Differ), run(RunStatus::Match)], &outcome),
            format!("{:?}", ExitCode::from(1))
        );
        assert_eq!(
            code(&[run(RunStatus::Differ), run(RunStatus::Refused)], &outcome),
            format!("{:?}", ExitCode::from(2))
        );
        let stopped = Outcome { interrupted: Some(15), ..outcome };
        assert_eq!(code(&[run(RunStatus::Differ)], &stopped), format!("{:?}", ExitCode::from(143)));
    }
}
