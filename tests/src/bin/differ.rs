//! `cargo xtask differ`: draws scenarios, checks each against Linux with `ipclab check`, shrinks every
//! one that differs, and prints a table (see `ipclab_tests::differ`).
//!
//! Usage: `differ --ipclab PATH [--cases N] [--seed S] [--kind calls|memory|sockets|signals]
//! [--shrink N] [--max-steps N]` (200 cases from seed 1, shrinking with at most 300 checks, runs of at
//! most 2,000 steps, by default). Shrunk scenarios that differ go to `target/differ/findings/` with the check's report
//! beside them, and make the exit status 1.

use ipclab_tests::differ::{self, Case, Checker, Kind, Verdict};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

struct Options {
    ipclab: PathBuf,
    cases: u64,
    seed: u64,
    kind: Option<Kind>,
    shrink: u32,
    max_steps: u64,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options { ipclab: PathBuf::new(), cases: 200, seed: 1, kind: None, shrink: 300, max_steps: 2000 };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let number = |name: &str, text: &str| -> Result<u64, String> {
            text.parse().map_err(|_| format!("{name} {text}: not a whole number"))
        };
        match arg.as_str() {
            "--ipclab" => options.ipclab = PathBuf::from(value("--ipclab")?),
            "--cases" => options.cases = number("--cases", value("--cases")?)?,
            "--seed" => options.seed = number("--seed", value("--seed")?)?,
            "--max-steps" => {
                options.max_steps = number("--max-steps", value("--max-steps")?)?;
                if options.max_steps == 0 {
                    return Err("--max-steps: at least 1".to_string());
                }
            }
            "--shrink" => {
                options.shrink = u32::try_from(number("--shrink", value("--shrink")?)?)
                    .map_err(|_| "--shrink: at most 4294967295 checks".to_string())?
            }
            "--kind" => {
                let text = value("--kind")?;
                options.kind = Some(
                    Kind::from_name(text)
                        .ok_or_else(|| format!("--kind {text}: one of calls, memory, sockets, signals"))?,
                );
            }
            other => {
                return Err(format!(
                    "unknown option `{other}` (--ipclab PATH, --cases N, --seed S, --kind K, --shrink N, --max-steps N)"
                ))
            }
        }
    }
    if options.ipclab.as_os_str().is_empty() {
        return Err("--ipclab PATH: the ipclab command line to check with".to_string());
    }
    Ok(options)
}

#[derive(Default)]
struct Tally {
    cases: u64,
    same: u64,
    differ: u64,
    refused: u64,
}

/// A refusal's reason without its step, process and figures, so that like reasons count together:
/// "the timed wait that N began at step N is too short to check in lockstep".
fn reason_kind(reason: &str) -> String {
    let reason = match reason.strip_prefix("step ") {
        Some(rest) => rest.split_once(": ").map_or(rest, |(_, after)| after),
        None => reason,
    };
    // And the process a refusal names first, as in `main (pid 2): its timer fires ...`.
    let reason = match reason.split_once("): ") {
        Some((name, after)) if name.split_once(" (pid ").is_some_and(|(process, _)| !process.contains(' ')) => after,
        _ => reason,
    };
    let head = reason.split([':', '(', ';']).next().unwrap_or("").trim();
    let mut kind = String::new();
    let mut in_number = false;
    for word in head.split(' ') {
        let numeric = word.chars().next().is_some_and(|c| c.is_ascii_digit());
        if !(kind.is_empty() || (numeric && in_number)) {
            kind.push(' ');
        }
        if numeric {
            if !in_number {
                kind.push('N');
            }
        } else {
            kind.push_str(word);
        }
        in_number = numeric;
    }
    kind.chars().take(90).collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_options(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("differ: {message}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(message) => {
            eprintln!("differ: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(options: &Options) -> Result<u64, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("target").join("differ");
    let cases_dir = root.join("cases");
    let findings = root.join("findings");
    for dir in [&cases_dir, &findings] {
        std::fs::create_dir_all(dir).map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    }
    let checker = Checker { ipclab: options.ipclab.clone(), max_steps: options.max_steps };
    let started = Instant::now();
    let mut tallies: BTreeMap<Kind, Tally> = BTreeMap::new();
    let mut refusals: BTreeMap<String, u64> = BTreeMap::new();
    let mut found = 0;
    for number in 0..options.cases {
        let mut case = Case::draw(options.seed, number, options.kind);
        let file = cases_dir.join(format!("{number}.ipc"));
        std::fs::write(&file, case.text()).map_err(|error| format!("cannot write {}: {error}", file.display()))?;
        let verdict = differ::check(&checker, &file, case.seed)?;
        let tally = tallies.entry(case.kind).or_default();
        tally.cases += 1;
        match verdict {
            Verdict::Same => tally.same += 1,
            Verdict::Refused(reason) => {
                tally.refused += 1;
                *refusals.entry(reason_kind(&reason)).or_default() += 1;
            }
            Verdict::Differs(report) => {
                tally.differ += 1;
                found += 1;
                let stem = format!("{}-{}-{}", case.kind.name(), options.seed, number);
                // The case as drawn, kept at once: shrinking a long run can take a while.
                let drawn = findings.join(format!("{stem}-drawn.ipc"));
                std::fs::write(&drawn, case.text())
                    .map_err(|error| format!("cannot write {}: {error}", drawn.display()))?;
                let drawn_report = findings.join(format!("{stem}-drawn.txt"));
                std::fs::write(
                    &drawn_report,
                    format!("ipclab check {}\n\n{report}", checker.options(case.seed).join(" ")),
                )
                .map_err(|error| format!("cannot write {}: {error}", drawn_report.display()))?;
                eprintln!("\ncase {number} ({}) differs from Linux: {}; shrinking", case.kind.name(), drawn.display());
                let (text, report, checks) = differ::shrink(&checker, &mut case, &root, options.shrink, report)?;
                let shrunk = findings.join(format!("{stem}.ipc"));
                std::fs::write(&shrunk, &text)
                    .map_err(|error| format!("cannot write {}: {error}", shrunk.display()))?;
                let report_file = findings.join(format!("{stem}.txt"));
                std::fs::write(
                    &report_file,
                    format!("ipclab check {}\n\n{report}", checker.options(case.seed).join(" ")),
                )
                .map_err(|error| format!("cannot write {}: {error}", report_file.display()))?;
                eprintln!(
                    "  shrunk in {checks} checks to {} lines: {} (seed {})",
                    text.lines().count(),
                    shrunk.display(),
                    case.seed
                );
            }
        }
        let _ = std::fs::remove_file(&file);
        eprint!("\r{}/{} cases, {} differ, {:.0} s", number + 1, options.cases, found, started.elapsed().as_secs_f64());
        let _ = std::io::stderr().flush();
    }
    eprintln!();
    println!("{:<10} {:>7} {:>7} {:>7} {:>8}", "kind", "cases", "same", "differ", "refused");
    let mut total = Tally::default();
    for (kind, tally) in &tallies {
        println!("{:<10} {:>7} {:>7} {:>7} {:>8}", kind.name(), tally.cases, tally.same, tally.differ, tally.refused);
        total.cases += tally.cases;
        total.same += tally.same;
        total.differ += tally.differ;
        total.refused += tally.refused;
    }
    println!("{:<10} {:>7} {:>7} {:>7} {:>8}", "all", total.cases, total.same, total.differ, total.refused);
    if !refusals.is_empty() {
        println!("\nrefused, by reason:");
        for (reason, count) in &refusals {
            println!("  {count:>5}  {reason}");
        }
    }
    println!("\n{} cases in {:.0} s (seed {})", options.cases, started.elapsed().as_secs_f64(), options.seed);
    if found > 0 {
        println!("{found} differ from Linux: shrunk scenarios and reports in {}", findings.display());
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::reason_kind;

    #[test]
    fn refusals_are_grouped_by_what_they_say_not_by_whom_or_which_numbers() {
        let timer = |who: &str, pid: u32, step: u32| {
            reason_kind(&format!(
                "{who} (pid {pid}): its timer fires at the end of step {step} while processes are still running"
            ))
        };
        assert_eq!(timer("main", 2, 25), timer("helper", 3, 44));
        assert_eq!(timer("main", 2, 25), "its timer fires at the end of step N while processes are still running");
        assert_eq!(
            reason_kind("step 7, main: the sleep cut short has 0.5 s left; more"),
            "the sleep cut short has N s left"
        );
        assert_eq!(
            reason_kind("the simulator stopped the run at limit max_processes (64)"),
            "the simulator stopped the run at limit max_processes"
        );
    }
}
