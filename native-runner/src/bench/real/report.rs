//! The tables `ipclab bench real` prints, and the seed's claims as measured ratios.

use super::model::Account;
use super::{size_text, CaseResult};

fn find<'a>(
    results: &'a [CaseResult],
    mechanism: &str,
    size: usize,
    placement: &str,
    pattern: &str,
) -> Option<&'a CaseResult> {
    results.iter().find(|case| {
        case.mechanism == mechanism && case.size == size && case.placement == placement && case.pattern == pattern
    })
}

fn micros(ns: f64) -> String {
    if ns >= 100_000.0 {
        format!("{:.0}", ns / 1000.0)
    } else if ns >= 1000.0 {
        format!("{:.1}", ns / 1000.0)
    } else {
        format!("{:.2}", ns / 1000.0)
    }
}

pub fn rate(bytes_per_second: f64) -> String {
    if bytes_per_second >= 1e9 {
        format!("{:.2} GB/s", bytes_per_second / 1e9)
    } else {
        format!("{:.0} MB/s", bytes_per_second / 1e6)
    }
}

/// The (mechanism, size) rows of a pattern, in the order they ran.
fn rows(results: &[CaseResult], pattern: &str) -> Vec<(&'static str, usize)> {
    let mut rows: Vec<(&'static str, usize)> = Vec::new();
    for case in results.iter().filter(|case| case.pattern == pattern) {
        if !rows.contains(&(case.mechanism, case.size)) {
            rows.push((case.mechanism, case.size));
        }
    }
    rows
}

fn cell(case: Option<&CaseResult>, show: impl Fn(&CaseResult) -> String) -> String {
    case.map_or_else(|| "-".to_string(), show)
}

/// The model's four cells: calls, copies, bytes copied and sleeps, or the reason there are none.
fn model_cells(model: Option<&Account>) -> String {
    match model {
        Some(Account {
            calls: Some(calls), copies: Some(copies), copied: Some(copied), sleeps: Some(sleeps), ..
        }) => {
            let decimals =
                |value: f64| if value.fract() == 0.0 { format!("{value:.0}") } else { format!("{value:.2}") };
            format!("{} | {} | {} | {}", decimals(*calls), decimals(*copies), decimals(*copied), decimals(*sleeps))
        }
        Some(account) => format!("{} |  |  | ", account.note),
        None => "- |  |  | ".into(),
    }
}

pub fn text(results: &[CaseResult], models: &[Account], memcpy: f64, check_only: bool, failures: &[String]) -> String {
    let mut out = String::new();
    if check_only {
        if failures.is_empty() {
            out.push_str(
                "Every case below moved its messages and checked every byte at the other end (no timings: --check-only).\n\n",
            );
        } else {
            out.push_str(
                "The cases below moved their messages and checked every byte; those listed after them failed.\n\n",
            );
        }
        out.push_str(
            "| mechanism | size | pattern | placement | messages | bytes checked |\n|---|---:|---|---|---:|---:|\n",
        );
        for case in results {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                case.mechanism,
                size_text(case.size),
                case.pattern,
                case.placement,
                case.messages,
                case.bytes_checked
            ));
        }
    } else {
        let ping = rows(results, "ping-pong");
        if !ping.is_empty() {
            out.push_str(
                "Ping-pong: microseconds per round trip, median (p99), every message checked; context switches\n",
            );
            out.push_str("per round trip measured (both processes, voluntary) beside the simulator's account of the\n");
            out.push_str(
                "same exchange (system calls, copies and bytes the kernel copies, and sleeps per round trip).\n\n",
            );
            out.push_str("| mechanism | size | same CPU | two CPUs | spread, same / two | switches, same / two | model: calls | model: copies | model: bytes copied | model: sleeps |\n");
            out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (mechanism, size) in ping {
                let same = find(results, mechanism, size, "same", "ping-pong");
                let split = find(results, mechanism, size, "split", "ping-pong");
                let model = models.iter().find(|account| {
                    account.mechanism == mechanism && account.size == size && account.pattern == "ping-pong"
                });
                let shown = |case: &CaseResult| format!("{} ({})", micros(case.p50_ns), micros(case.p99_ns));
                let spreads = format!(
                    "{} / {}",
                    cell(same, |case| format!("{:.0}%", case.spread * 100.0)),
                    cell(split, |case| format!("{:.0}%", case.spread * 100.0))
                );
                let switches = format!(
                    "{} / {}",
                    cell(same, |case| format!("{:.1}", case.switches)),
                    cell(split, |case| format!("{:.1}", case.switches))
                );
                let model = model_cells(model);
                out.push_str(&format!(
                    "| {mechanism} | {} | {} | {} | {} | {switches} | {model} |\n",
                    size_text(size),
                    cell(same, shown),
                    cell(split, shown),
                    spreads,
                ));
            }
            out.push('\n');
        }
        let stream = rows(results, "stream");
        if !stream.is_empty() {
            out.push_str(
                "One-way stream: throughput at the median trial, and microseconds per message, median (p99);\n",
            );
            out.push_str("context switches per message measured (both processes, voluntary) beside the simulator's\n");
            out.push_str("account of the same stream, credits included (system calls, copies and bytes the kernel\n");
            out.push_str("copies, and sleeps per message).\n\n");
            out.push_str(
                "| mechanism | size | same CPU | two CPUs | per message, same CPU | per message, two CPUs | switches, same / two | model: calls | model: copies | model: bytes copied | model: sleeps |\n",
            );
            out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (mechanism, size) in stream {
                let same = find(results, mechanism, size, "same", "stream");
                let split = find(results, mechanism, size, "split", "stream");
                let model = models.iter().find(|account| {
                    account.mechanism == mechanism && account.size == size && account.pattern == "stream"
                });
                let shown = |case: &CaseResult| format!("{} ({})", micros(case.p50_ns), micros(case.p99_ns));
                let switches = format!(
                    "{} / {}",
                    cell(same, |case| format!("{:.2}", case.switches)),
                    cell(split, |case| format!("{:.2}", case.switches))
                );
                let model = model_cells(model);
                out.push_str(&format!(
                    "| {mechanism} | {} | {} | {} | {} | {} | {switches} | {model} |\n",
                    size_text(size),
                    cell(same, |case| rate(case.throughput())),
                    cell(split, |case| rate(case.throughput())),
                    cell(same, shown),
                    cell(split, shown),
                ));
            }
            out.push('\n');
        }
        out.push_str(&format!("memcpy of 1 MiB in one process (the bound on shared memory): {}\n\n", rate(memcpy)));
        let claims = claims(results, memcpy);
        if !claims.is_empty() {
            out.push_str("The seed's claims, as measured ratios:\n\n| claim | condition | ratio | figures |\n|---|---|---:|---|\n");
            for claim in claims {
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    claim.claim,
                    claim.condition,
                    claim.ratio_text(),
                    claim.figures
                ));
            }
            out.push('\n');
        }
    }
    if !failures.is_empty() {
        out.push_str(&format!("{} cases failed:\n", failures.len()));
        for failure in failures {
            out.push_str(&format!("  {failure}\n"));
        }
    }
    out
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Claim {
    pub claim: String,
    pub condition: String,
    pub ratio: f64,
    pub figures: String,
    /// For a claim with a goal: whether the ratio meets it.
    pub goal: Option<String>,
}

impl Claim {
    fn ratio_text(&self) -> String {
        let ratio = format!("{:.2}x", self.ratio);
        match &self.goal {
            Some(goal) => format!("{ratio} ({goal})"),
            None => ratio,
        }
    }
}

/// The ratios the seed's claims turn into, for every condition the run measured.
pub fn claims(results: &[CaseResult], memcpy: f64) -> Vec<Claim> {
    let mut claims = Vec::new();
    let placements = [("split", "two CPUs"), ("same", "one CPU")];
    // Shared memory (the ring) against a pipe, moving data one way.
    for size in [4 << 10, 1 << 20] {
        for (placement, where_) in placements {
            if let (Some(ring), Some(pipe)) =
                (find(results, "shm-ring", size, placement, "stream"), find(results, "pipe", size, placement, "stream"))
            {
                claims.push(Claim {
                    claim: "shared memory beats a pipe".into(),
                    condition: format!("stream of {} messages, {where_}", size_text(size)),
                    ratio: ring.throughput() / pipe.throughput(),
                    figures: format!("ring {} / pipe {}", rate(ring.throughput()), rate(pipe.throughput())),
                    goal: None,
                });
            }
        }
    }
    for (placement, where_) in placements {
        if let Some(ring) = find(results, "shm-ring", 1 << 20, placement, "stream") {
            // The memcpy timed beside the case if the run has it (a run saved before has only the one
            // timed after every case).
            let (bound, when) = match ring.memcpy_beside {
                Some(beside) => (beside, "timed between its trials"),
                None => (memcpy, "timed after the run"),
            };
            if bound > 0.0 {
                let ratio = ring.throughput() / bound;
                claims.push(Claim {
                    claim: "the ring buffer comes near memcpy".into(),
                    condition: format!("stream of 1 MiB messages, {where_}"),
                    ratio,
                    figures: format!("ring {} / memcpy {} ({when})", rate(ring.throughput()), rate(bound)),
                    goal: Some(if ratio >= 0.8 { "goal 0.80: met".into() } else { "goal 0.80: NOT met".into() }),
                });
            }
        }
    }
    // Unix-domain against TCP on the loopback: round trips, blocking and busy-polling.
    for size in [64, 64 << 10] {
        for (unix, tcp, how) in [("unix-stream", "tcp", "blocking"), ("unix-stream-busy", "tcp-busy", "busy-polling")] {
            for (placement, where_) in placements {
                if let (Some(unix_case), Some(tcp_case)) = (
                    find(results, unix, size, placement, "ping-pong"),
                    find(results, tcp, size, placement, "ping-pong"),
                ) {
                    claims.push(Claim {
                        claim: "Unix-domain sockets beat TCP on one host".into(),
                        condition: format!("round trip of {}, {how}, {where_}", size_text(size)),
                        ratio: tcp_case.p50_ns / unix_case.p50_ns,
                        figures: format!("TCP {} µs / Unix {} µs", micros(tcp_case.p50_ns), micros(unix_case.p50_ns)),
                        goal: None,
                    });
                }
            }
        }
    }
    // The audit's large payload (scenarios/large-payload-ring.ipc): 32 KiB slots, ring against pipe.
    for (placement, where_) in placements {
        if let (Some(ring), Some(pipe)) = (
            find(results, "shm-ring", 32 << 10, placement, "stream"),
            find(results, "pipe", 32 << 10, placement, "stream"),
        ) {
            claims.push(Claim {
                claim: "a large payload belongs in a ring, not a pipe".into(),
                condition: format!("32 KiB pieces, as in large-payload-ring, {where_}"),
                ratio: ring.throughput() / pipe.throughput(),
                figures: format!("ring {} / pipe {}", rate(ring.throughput()), rate(pipe.throughput())),
                goal: None,
            });
        }
    }
    claims
}
