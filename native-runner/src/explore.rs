//! `ipclab explore`: every schedule of a scenario (sim-core's explorer), each distinct outcome with how
//! many schedules lead to it (with sleep sets, the default, how many classes of schedules that differ
//! only in the order of independent steps), and for each bad one its shortest schedule as a
//! `--schedule` list and as a playground link that opens where it goes wrong. `SIGINT` (Ctrl-C) or
//! `SIGTERM` stops it where it has got: what it found so far is reported, marked incomplete, and it
//! exits with 128 + the signal's number.

use crate::Format;
use sim_core::explore::{self, Exploration, ExploreLimits, Outcome, Progress, Reduction};
use sim_core::present::with_commas;
use sim_core::share::{encode, SharedRun};
use sim_core::{Pid, Policy, RunConfig, Simulation};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How often a progress line is printed on stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// `--strategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyArg {
    Exhaustive,
    Random,
    Pct,
}

/// `--reduction`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReductionArg {
    None,
    Sleep,
}

pub struct ExploreArgs<'a> {
    pub file: &'a std::path::Path,
    pub max_nodes: u64,
    /// `None`: the exhaustive exploration's default; a sampled run goes on to the step limit.
    pub max_depth: Option<u64>,
    pub max_preemptions: Option<u32>,
    /// `None`: sleep sets, unless preemptions are bounded or the strategy samples.
    pub reduction: Option<ReductionArg>,
    pub format: Format,
    pub quiet: bool,
    /// The playground's address, for the links of bad outcomes.
    pub playground: &'a str,
    pub strategy: StrategyArg,
    pub runs: u64,
    pub seed: u64,
    pub pct_depth: u32,
    /// Look for each bad outcome's schedule with the fewest preemptions.
    pub shrink: bool,
}

/// The step where a schedule first goes wrong, and that schedule as a playground link opening there.
fn replay_link(source: &str, scenario: &sim_core::Scenario, schedule: &[Pid], playground: &str) -> (u64, String) {
    let step = explore::first_bad_step(scenario, schedule);
    let run = SharedRun {
        scenario: source.to_string(),
        seed: 0,
        policy: Policy::RoundRobin,
        forced: schedule.to_vec(),
        step,
    };
    (step, format!("{playground}#{}", encode(&run)))
}

fn schedule_list(schedule: &[Pid]) -> String {
    schedule.iter().map(|pid| pid.to_string()).collect::<Vec<_>>().join(",")
}

fn outcome_line(outcome: &Outcome) -> String {
    let verdict = match outcome.failures.len() {
        0 => "every expectation holds".to_string(),
        1 => "1 expectation fails".to_string(),
        count => format!("{count} expectations fail"),
    };
    format!("{}; {verdict}", outcome.ending)
}

/// What the report is made of: the command's arguments, the scenario, what the explorer found and
/// how long it took.
struct Found<'a> {
    args: &'a ExploreArgs<'a>,
    source: &'a str,
    scenario: &'a sim_core::Scenario,
    found: &'a Exploration,
    /// The bad outcomes' schedules with the fewest preemptions, and that number.
    shrunk: &'a BTreeMap<Outcome, (u32, Vec<Pid>)>,
    /// Where each bad outcome's shown schedule sealed its fate.
    sealed: &'a BTreeMap<Outcome, explore::Sealed>,
    seconds: f64,
    /// The signal that interrupted the command, and the phase it cut (see [`interrupted_words`]).
    cut: Option<(i32, &'static str)>,
}

/// What an interrupt seen at the end of `phase` left undone, in words, for an exploration that did or
/// did not reach its end and found bad runs or none.
fn interrupted_words(signal: i32, phase: &str, found: &Exploration) -> String {
    let bad = found.outcomes.iter().any(|(outcome, _)| outcome.goes_wrong());
    let undone = match phase {
        "exploring" => {
            let how = if found.incomplete.is_some() {
                "the exploration stopped where it had got"
            } else {
                "the exploration had reached its end"
            };
            let after = if bad { ", and no bad run was shrunk or searched for the step that sealed it" } else { "" };
            format!("{how}{after}")
        }
        "shrinking" => "some bad runs were not shrunk to their fewest preemptions, and none was searched for the step \
                        that sealed it"
            .to_string(),
        _ => "some bad runs were not searched for the step that sealed them".to_string(),
    };
    format!("INTERRUPTED by {} while {phase}: {undone}\n", crate::stop::signal_name(signal))
}

/// Where a bad run's fate was sealed, in words.
fn sealed_words(outcome: &Outcome, fate: &explore::Sealed) -> String {
    let ends = match outcome.category() {
        "fails" => "fails an expectation".to_string(),
        ending => format!("ends `{ending}`"),
    };
    let name = |pid: Pid| {
        outcome
            .processes
            .iter()
            .find(|(p, ..)| *p == pid)
            .map_or(format!("pid {pid}"), |(_, name, _)| format!("{name} (pid {pid})"))
    };
    match fate.chosen {
        None => format!("sealed from the start: every schedule {ends}"),
        Some(chosen) => {
            let others: Vec<String> = fate.avoid.iter().map(|pid| name(*pid)).collect();
            format!(
                "sealed at step {}, when {} ran: from there every continuation {ends}; {} instead could still avoid it",
                fate.step,
                name(chosen),
                if others.is_empty() { "nothing".to_string() } else { others.join(" or ") }
            )
        }
    }
}

fn text_report(report: &Found) -> String {
    let Found { args, source, scenario, found, shrunk, sealed, seconds, cut } = *report;
    let name = args.file.display();
    let interrupted = cut.map_or(String::new(), |(signal, phase)| interrupted_words(signal, phase, found));
    if args.strategy != StrategyArg::Exhaustive {
        let how = if args.strategy == StrategyArg::Pct {
            format!("PCT (depth {})", args.pct_depth)
        } else {
            "random".to_string()
        };
        let mut out = format!(
            "{name}: {} outcome{} in {} {how} runs from seed {} ({} steps simulated, {seconds:.2} s); other outcomes may exist\n",
            found.outcomes.len(),
            if found.outcomes.len() == 1 { "" } else { "s" },
            with_commas(found.schedules()),
            args.seed,
            with_commas(found.steps as u128),
        );
        if let Some(why) = &found.incomplete {
            out.push_str(&format!(
                "INCOMPLETE: {why}, after {} of {} runs\n",
                with_commas(found.nodes as u128),
                with_commas(args.runs as u128)
            ));
        }
        out.push_str(&interrupted);
        out.push_str(&outcome_table(args, source, scenario, found, shrunk, sealed, "runs"));
        return out;
    }
    let within = args
        .max_preemptions
        .map_or(String::new(), |most| format!(" with at most {most} preemption{}", if most == 1 { "" } else { "s" }));
    let (counted, by) = match found.reduction {
        Reduction::None => ("schedules", ""),
        Reduction::SleepSets => ("classes of schedules", ", by sleep sets"),
    };
    let mut out = format!(
        "{name}: {} outcome{} in {} {counted}{within}{by} ({} states explored, {} reached again and reused, {} steps simulated, {seconds:.2} s)\n",
        found.outcomes.len(),
        if found.outcomes.len() == 1 { "" } else { "s" },
        with_commas(found.schedules()),
        with_commas(found.nodes as u128),
        with_commas(found.reused as u128),
        with_commas(found.steps as u128),
    );
    if found.reduction != Reduction::None {
        out.push_str(
            "each class stands for the schedules that differ only in the order of independent steps (steps whose \
             footprints do not conflict); every outcome is found, and --reduction none counts every schedule\n",
        );
    }
    if let Some(why) = &found.incomplete {
        out.push_str(&format!("INCOMPLETE: {why}; the counts cover the schedules explored\n"));
    }
    out.push_str(&interrupted);
    if found.cycles > 0 {
        out.push_str(&format!(
            "{} time{} a schedule came back to a state it had passed: each is cut there and ends `cycle` (the same choices again would run forever); with cycles the counts are approximate, the outcomes exact\n",
            with_commas(found.cycles as u128),
            if found.cycles == 1 { "" } else { "s" },
        ));
    }
    let counted = if found.reduction == Reduction::None { "schedules" } else { "classes" };
    out.push_str(&outcome_table(args, source, scenario, found, shrunk, sealed, counted));
    out
}

/// The table of outcomes, then each outcome in detail (`counted`: "schedules", "classes" or "runs").
fn outcome_table(
    args: &ExploreArgs,
    source: &str,
    scenario: &sim_core::Scenario,
    found: &Exploration,
    shrunk: &BTreeMap<Outcome, (u32, Vec<Pid>)>,
    sealed: &BTreeMap<Outcome, explore::Sealed>,
    counted: &str,
) -> String {
    let name = args.file.display();
    let mut out = String::new();
    let verdicts = found.verdicts(&sim_core::lang::compile::Program::compile(scenario).expect("compiled before"));
    if !verdicts.is_empty() {
        out.push_str("\ndeclared outcomes:\n");
        for verdict in &verdicts {
            out.push_str(&format!(
                "  {:<9} {}  ({} {counted} show it, {} do not){}\n",
                verdict.word(),
                verdict.title,
                with_commas(verdict.witnesses),
                with_commas(verdict.others),
                match (verdict.holds, verdict.settled, verdict.quantifier) {
                    (false, true, "sometimes") => "  <- never seen".to_string(),
                    (false, true, _) => "  <- fails".to_string(),
                    (true, false, _) =>
                        format!("  <- none of the {counted} that ended refutes it; not every schedule was explored"),
                    (false, false, _) =>
                        format!("  <- none of the {counted} that ended shows it; not every schedule was explored"),
                    (true, true, _) => String::new(),
                }
            ));
        }
    }
    out.push_str(&format!("\n{:>3}  {:>14}  {:>8}  outcome\n", "#", counted, "shortest"));
    for (index, (outcome, reached)) in found.outcomes.iter().enumerate() {
        out.push_str(&format!(
            "{:>3}  {:>14}  {:>8}  {}{}\n",
            index + 1,
            with_commas(reached.schedules),
            reached.shortest.len(),
            outcome_line(outcome),
            if outcome.holds() { "" } else { "  <- fails" }
        ));
    }
    for (index, (outcome, reached)) in found.outcomes.iter().enumerate() {
        out.push_str(&format!("\noutcome {}: {}\n", index + 1, outcome_line(outcome)));
        let processes: Vec<String> =
            outcome.processes.iter().map(|(pid, name, end)| format!("{name} (pid {pid}) {end}")).collect();
        out.push_str(&format!("  processes: {}\n", processes.join("; ")));
        if !verdicts.is_empty() {
            let shown: Vec<&str> = verdicts
                .iter()
                .zip(&outcome.declared)
                .filter(|(_, &shows)| shows)
                .map(|(verdict, _)| verdict.title.as_str())
                .collect();
            if shown.is_empty() {
                out.push_str("  declared: shows none of the declared outcomes\n");
            } else {
                out.push_str(&format!("  declared: shows {}\n", shown.join(", ")));
            }
        }
        for failure in &outcome.failures {
            out.push_str(&format!("  failed: {failure}\n"));
        }
        out.push_str(&format!(
            "  shortest schedule ({} steps): ipclab sim {name} --schedule {}\n",
            reached.shortest.len(),
            schedule_list(&reached.shortest)
        ));
        if outcome.goes_wrong() {
            let mut shown = &reached.shortest;
            if let Some((fewest, schedule)) = shrunk.get(outcome) {
                out.push_str(&format!(
                    "  fewest preemptions ({fewest}), {} steps: ipclab sim {name} --schedule {}\n",
                    schedule.len(),
                    schedule_list(schedule)
                ));
                shown = schedule;
            }
            let (step, link) = replay_link(source, scenario, shown, args.playground);
            out.push_str(&format!("  in the playground, at step {step}: {link}\n"));
            if let Some(fate) = sealed.get(outcome) {
                out.push_str(&format!("  {}\n", sealed_words(outcome, fate)));
            }
        } else {
            // A good outcome is worth a look too (which interleaving gave these values?): its shortest run.
            let (step, link) = replay_link(source, scenario, &reached.shortest, args.playground);
            out.push_str(&format!("  in the playground, at step {step}: {link}\n"));
        }
    }
    out
}

fn json_report(report: &Found) -> String {
    let Found { args, source, scenario, found, shrunk, sealed, seconds, .. } = *report;
    let outcomes: Vec<serde_json::Value> = found
        .outcomes
        .iter()
        .map(|(outcome, reached)| {
            let fewest = shrunk.get(outcome);
            let shown = fewest.map_or(&reached.shortest, |(_, schedule)| schedule);
            let (step, link) = replay_link(source, scenario, shown, args.playground);
            let fate = sealed.get(outcome);
            serde_json::json!({
                "sealed_at_step": fate.map(|fate| fate.step),
                "sealed_by": fate.and_then(|fate| fate.chosen),
                "avoided_by": fate.map(|fate| &fate.avoid),
                "ending": outcome.ending,
                "holds": outcome.holds(),
                "processes": outcome.processes.iter().map(|(pid, name, end)| serde_json::json!({"pid": pid, "name": name, "end": end})).collect::<Vec<_>>(),
                "failures": outcome.failures,
                // A count of schedules can pass 2^64 on large scenarios: written as a string of digits.
                "schedules": reached.schedules.to_string(),
                "shortest": reached.shortest,
                "fewest_preemptions": fewest.map(|(count, _)| count),
                "fewest_preemptions_schedule": fewest.map(|(_, schedule)| schedule),
                "first_bad_step": step,
                "link": link,
            })
        })
        .collect();
    let strategy = match args.strategy {
        StrategyArg::Exhaustive => "exhaustive",
        StrategyArg::Random => "random",
        StrategyArg::Pct => "pct",
    };
    let value = serde_json::json!({
        "file": args.file.display().to_string(),
        "strategy": strategy,
        "max_preemptions": args.max_preemptions,
        // With a reduction, `schedules` (here and in each outcome) counts classes of schedules.
        "reduction": found.reduction.name(),
        "counts": match (args.strategy, found.reduction) {
            (StrategyArg::Random | StrategyArg::Pct, _) => "runs",
            (_, Reduction::None) => "schedules",
            (_, Reduction::SleepSets) => "classes",
        },
        "holds": found.holds(),
        "complete": found.incomplete.is_none(),
        "incomplete": found.incomplete,
        // `SIGINT` or `SIGTERM` when one cut the command short, and the phase it cut: `exploring`,
        // `shrinking` or `sealing` (`complete` says whether the exploration itself reached its end: a cut
        // while shrinking or sealing leaves it whole).
        "interrupted_by": report.cut.map(|(signal, _)| crate::stop::signal_name(signal)),
        "interrupted_while": report.cut.map(|(_, phase)| phase),
        "schedules": found.schedules().to_string(),
        "states": found.nodes,
        "reused": found.reused,
        "cycles": found.cycles,
        "steps": found.steps,
        "seconds": seconds,
        "outcomes": outcomes,
        // Counts can pass 2^64: strings of digits, as for the outcomes.
        "declared": found
            .verdicts(&sim_core::lang::compile::Program::compile(scenario).expect("compiled before"))
            .iter()
            .map(|verdict| serde_json::json!({
                "title": verdict.title,
                "quantifier": verdict.quantifier,
                "holds": verdict.holds,
                // False when not every schedule was explored and no schedule explored settles it.
                "settled": verdict.settled,
                "witnesses": verdict.witnesses.to_string(),
                "others": verdict.others.to_string(),
            }))
            .collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&value).expect("json");
    text.push('\n');
    text
}

pub fn run(args: ExploreArgs) -> ExitCode {
    if args.max_nodes == 0 || args.max_depth == Some(0) {
        note!("ipclab: explore: --max-states and --max-depth must be at least 1");
        return ExitCode::from(2);
    }
    if args.strategy != StrategyArg::Exhaustive && (args.runs == 0 || args.runs > 100_000_000) {
        note!("ipclab: explore: --runs must be from 1 to 100000000");
        return ExitCode::from(2);
    }
    if args.strategy == StrategyArg::Pct && !(1..=100).contains(&args.pct_depth) {
        note!("ipclab: explore: --pct-depth must be from 1 to 100");
        return ExitCode::from(2);
    }
    let (source, scenario) = match crate::input::load(args.file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    // Every schedule is the explorer's to choose: the scenario's own `schedule` line plays no part.
    let config = RunConfig { follow_schedule: false, ..RunConfig::default() };
    let mut simulation = match Simulation::new(&scenario, config) {
        Ok(simulation) => simulation,
        Err(diagnostic) => {
            note!("{}", diagnostic.render(&args.file.display().to_string()));
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let mut last = started;
    let quiet = args.quiet;
    // What the explorations reporting progress are for: the first explores, the later ones (each bound
    // of preemptions, each prefix of a bad run) start their counts again from zero.
    // The rate is over the time since the last line, or since the phase began (a count that went
    // down began a new exploration of the phase, counted from 0).
    let phase = Cell::new("");
    let last_nodes = Cell::new(0);
    let mut progress = |progress: &Progress| {
        if !quiet && last.elapsed() >= PROGRESS_EVERY {
            let seconds = last.elapsed().as_secs_f64();
            let new = progress.nodes.checked_sub(last_nodes.get()).unwrap_or(progress.nodes);
            last = Instant::now();
            last_nodes.set(progress.nodes);
            note!(
                "  {}explored {} states ({:.0} a second), {} reused, {} steps simulated, depth {} ...",
                phase.get(),
                with_commas(progress.nodes as u128),
                new as f64 / seconds,
                with_commas(progress.reused as u128),
                with_commas(progress.steps as u128),
                progress.depth
            );
        }
    };
    if args.max_preemptions.is_some() && args.strategy != StrategyArg::Exhaustive {
        note!("ipclab: explore: --max-preemptions bounds the exhaustive exploration, not --strategy random or pct");
        return ExitCode::from(2);
    }
    let exhaustive = args.strategy == StrategyArg::Exhaustive;
    if args.reduction == Some(ReductionArg::Sleep) && !exhaustive {
        note!("ipclab: explore: --reduction reduces the exhaustive exploration, not --strategy random or pct");
        return ExitCode::from(2);
    }
    let reduction = match args.reduction {
        Some(ReductionArg::Sleep) => Reduction::SleepSets,
        Some(ReductionArg::None) => Reduction::None,
        None if exhaustive && args.max_preemptions.is_none() => Reduction::SleepSets,
        None => Reduction::None,
    };
    let limits = ExploreLimits {
        max_nodes: args.max_nodes,
        max_depth: args.max_depth.unwrap_or(ExploreLimits::default().max_depth),
        max_preemptions: args.max_preemptions,
        reduction,
    };
    if let Some(why) = explore::refused(&limits) {
        note!("ipclab: explore: --reduction sleep with --max-preemptions: {why}");
        return ExitCode::from(2);
    }
    // `SIGINT` (Ctrl-C) or `SIGTERM` stops the exploration where it has got: what it found so far is
    // reported, marked incomplete, and the command exits with 128 + the signal's number. Every phase
    // (exploring, shrinking, sealing) asks the flag as it goes, so the report comes at once.
    crate::stop::install_stop_handlers();
    let stop =
        || crate::stop::stop_requested().map(|signal| format!("interrupted by {}", crate::stop::signal_name(signal)));
    let found = match args.strategy {
        StrategyArg::Exhaustive => explore::explore_until(&mut simulation, limits, &mut progress, &stop),
        StrategyArg::Random => explore::sample_until(
            &mut simulation,
            explore::Strategy::Random,
            args.runs,
            args.seed,
            args.max_depth.unwrap_or(u64::MAX),
            &mut progress,
            &stop,
        ),
        StrategyArg::Pct => explore::sample_until(
            &mut simulation,
            explore::Strategy::Pct { depth: args.pct_depth },
            args.runs,
            args.seed,
            args.max_depth.unwrap_or(u64::MAX),
            &mut progress,
            &stop,
        ),
    };
    // Where an interrupt cut the work: the flag is read once at the end of each phase, and the first
    // reading that finds it raised decides the report's words and the exit status.
    let seen = |phase: &'static str| crate::stop::stop_requested().map(|signal| (signal, phase));
    let mut cut = seen("exploring");
    // Each bad outcome again by the schedule with the fewest preemptions, no more than its shortest
    // schedule's: explorations bounded to 0, 1, 2, ... preemptions (and the same node limit).
    let mut shrunk = BTreeMap::new();
    let bad: Vec<Outcome> =
        found.outcomes.iter().filter(|(outcome, _)| outcome.goes_wrong()).map(|(outcome, _)| outcome.clone()).collect();
    if args.shrink && !bad.is_empty() && cut.is_none() {
        let most = found
            .outcomes
            .iter()
            .filter(|(outcome, _)| outcome.goes_wrong())
            .filter_map(|(_, reached)| explore::preemptions(&mut simulation, &reached.shortest))
            .max()
            .unwrap_or(0);
        if !quiet && started.elapsed() >= PROGRESS_EVERY {
            note!("  looking for the fewest preemptions of {} outcome(s), at most {most} ...", bad.len());
        }
        phase.set("fewest preemptions: ");
        last_nodes.set(0);
        let unbounded = ExploreLimits { max_preemptions: None, ..limits };
        shrunk = explore::fewest_preemptions(&mut simulation, &bad, most, unbounded, &mut progress, &stop);
        cut = seen("shrinking");
    }
    // Where each bad run shown sealed its fate, which takes every continuation of its prefixes: not for
    // sampled runs nor with a bound on preemptions, both for spaces out of reach.
    let mut sealed = BTreeMap::new();
    if args.strategy == StrategyArg::Exhaustive
        && args.max_preemptions.is_none()
        && found.incomplete.is_none()
        && cut.is_none()
        && !bad.is_empty()
    {
        // A schedule cut at the depth limit met the explorer's limit, not a fate of its own.
        let fated = |outcome: &Outcome| outcome.goes_wrong() && outcome.ending != "depth-limit";
        let fates = found.outcomes.iter().filter(|(outcome, _)| fated(outcome)).count();
        if !quiet && fates > 0 && started.elapsed() >= PROGRESS_EVERY {
            note!("  looking for the step that sealed the fate of {fates} bad run(s) ...");
        }
        phase.set("sealed step: ");
        last_nodes.set(0);
        for (outcome, reached) in found.outcomes.iter().filter(|(outcome, _)| fated(outcome)) {
            let shown = shrunk.get(outcome).map_or(&reached.shortest, |(_, schedule)| schedule);
            let kind = outcome.category().to_string();
            let bad = |other: &Outcome| other.category() == kind;
            if let Some(fate) = explore::sealed_until(&mut simulation, shown, &bad, limits, &mut progress, &stop) {
                sealed.insert(outcome.clone(), fate);
            }
        }
        cut = seen("sealing");
    }
    if let (Some((signal, phase)), false) = (cut, quiet) {
        note!(
            "ipclab: explore: interrupted by {} while {phase}, after {} {}: reporting what was found so far",
            crate::stop::signal_name(signal),
            with_commas(found.nodes as u128),
            if exhaustive { "states" } else { "runs" }
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    let report = Found {
        args: &args,
        source: &source,
        scenario: &scenario,
        found: &found,
        shrunk: &shrunk,
        sealed: &sealed,
        seconds,
        cut,
    };
    let text = match args.format {
        Format::Text => text_report(&report),
        Format::Json => json_report(&report),
    };
    if let Err(code) = crate::output::print(&text) {
        return code;
    }
    if let Some((signal, _)) = cut {
        return ExitCode::from(128 + signal as u8);
    }
    let program = simulation.program().clone();
    if found.holds() && found.verdicts(&program).iter().all(|verdict| verdict.holds) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
