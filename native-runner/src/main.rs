//! `ipclab`: the command line.
//!
//! `ipclab sim` runs a scenario in the simulator and prints its trace; `ipclab check` replays scenarios on
//! real Linux system calls in lockstep with the simulator and reports every difference; `ipclab fmt`
//! prints a scenario in canonical form; `ipclab parse` prints its syntax tree as JSON; `ipclab bench`
//! measures the simulator against real Linux pipes; `ipclab serve` serves the playground.
//! Exit status: 0 success, 1 an expectation failed (for `check`, also a difference from Linux), 2 usage or input
//! error, 3 the host cannot run `check`, 74 standard output could not be written, 128 + signal when
//! `check` or `explore` was interrupted (by `SIGINT` or `SIGTERM`, after reporting what it had done). A standard output closed by its reader only ends the output (see [`output`]).

#[macro_use]
mod output;
mod bench;
mod check;
mod explore;
mod input;
mod serve;
mod stop;

use clap::{Parser, Subcommand, ValueEnum};
use sim_core::present::{json, render};
use sim_core::{Policy, RunConfig, Simulation, StepStatus};
use std::process::ExitCode;

/// The explorer copies, hashes and drops a kernel at every state it reaches: millions of short-lived
/// allocations of many sizes, which took some 40% of an exploration's time with the C library's
/// allocator (see ARCHITECTURE.md on the explorer's cost per state).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "ipclab", version, about = "Watch and check Inter-Process Communication, one system call at a time")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Every IPC mechanism measured on this host: ping-pong round trips and one-way streams, at each
    /// message size, with both processes on one CPU and on two, every transfer checked; beside each, the
    /// simulator's account of the same exchange; then the seed's claims as measured ratios.
    Real(bench::real::RealArgs),
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario in the simulator and print its trace.
    Sim {
        /// The scenario file (`.ipc`).
        file: std::path::PathBuf,
        /// Seed for the random scheduler.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// `scenario` (the default): the scenario's own `schedule` line, if it has one, then round-robin.
        /// `round-robin`, `random`, or a comma-separated list of pids or process names, one per step
        /// (round-robin after the list runs out), replace the scenario's `schedule` line.
        #[arg(long, default_value = "scenario")]
        schedule: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Stop after this many steps.
        #[arg(long)]
        max_steps: Option<u64>,
    },
    /// Replay scenarios on real Linux system calls in lockstep with the simulator and report every difference.
    Check {
        /// Scenario files (`.ipc`).
        #[arg(required_unless_present = "link")]
        files: Vec<std::path::PathBuf>,
        /// A playground share link (the whole address, or what follows its `#`): its scenario replayed
        /// on Linux with the link's choices, then its policy and seed, as the playground ran it.
        #[arg(long, conflicts_with_all = ["files", "schedule", "runs", "seed"])]
        link: Option<String>,
        /// Seed for the random scheduler (the first seed when `--runs` is more than 1).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Check each file this many times, with seeds `seed`, `seed + 1`, ...
        #[arg(long, default_value_t = 1)]
        runs: u64,
        /// `scenario` (the default): the scenario's own `schedule` line, if it has one, then round-robin.
        /// `round-robin`, `random`, or a comma-separated list of pids or process names replace it.
        #[arg(long, default_value = "scenario")]
        schedule: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// No progress lines on stderr.
        #[arg(long)]
        quiet: bool,
        /// Stop each run after this many steps (a run that loops for ever is checked up to there; the
        /// default is the simulator's step limit).
        #[arg(long, conflicts_with_all = ["link", "free"], value_parser = clap::value_parser!(u64).range(1..))]
        max_steps: Option<u64>,
        /// Test hook: make the simulator's expectation at this step deliberately wrong.
        #[arg(long, hide = true)]
        perturb_step: Option<u32>,
        /// Test hook: stall the driver for 200 ms before this step, on each run's first try only.
        #[arg(long, hide = true)]
        stall_first_try: Option<u32>,
        /// Run each file N times as real processes without lockstep, Linux choosing the interleavings
        /// (stirred by `--seed`), and compare the outcomes seen with the model's outcome set.
        #[arg(long, value_name = "N", conflicts_with_all = ["link", "schedule", "runs", "perturb_step", "stall_first_try"])]
        free: Option<u64>,
        /// With `--free`: the most states the model's exploration may visit (at least 1).
        #[arg(long, default_value_t = 100_000, requires = "free", value_parser = clap::value_parser!(u64).range(1..))]
        max_states: u64,
        /// Test hook (with `--free`): the model forbids every outcome in which the declared outcome of
        /// this label happens.
        #[arg(long, hide = true, requires = "free")]
        forbid_outcome: Option<String>,
    },
    /// Run a scenario under every schedule and list every distinct way it ends, with how many schedules
    /// lead to each and the shortest; exit status 1 if any schedule fails an expectation. Ctrl-C stops
    /// it and reports what it found so far (exit status 130).
    Explore {
        /// The scenario file (`.ipc`).
        file: std::path::PathBuf,
        /// Distinct states to explore at most (the exploration then stops and says it is incomplete); each
        /// costs some 230 bytes.
        #[arg(long, default_value_t = 5_000_000)]
        max_states: u64,
        /// Steps in one schedule at most (a schedule that reaches it ends as `depth-limit`); 10000 by
        /// default when exploring every schedule, and no limit but the simulator's step limit for
        /// `--strategy random` or `pct`.
        #[arg(long)]
        max_depth: Option<u64>,
        /// Only schedules with at most this many preemptions (switches away from a process that could go
        /// on): far fewer schedules, and most bugs need only a few.
        #[arg(long)]
        max_preemptions: Option<u32>,
        /// Partial-order reduction: `sleep` (sleep sets: of the schedules that differ only in the order of
        /// independent steps, representatives; every outcome is still found, and the counts are of
        /// classes) or `none` (every schedule counted). Default: `sleep`, or `none` with
        /// `--max-preemptions`, which sleep sets cannot be combined with.
        #[arg(long, value_enum)]
        reduction: Option<explore::ReductionArg>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// No progress lines on stderr.
        #[arg(long)]
        quiet: bool,
        /// The playground's address, for the links of outcomes that go wrong.
        #[arg(long, default_value = "http://127.0.0.1:8000/")]
        playground: String,
        /// `exhaustive` (every schedule), or `random` or `pct` (probabilistic concurrency testing) runs of
        /// one schedule each, for scenarios whose every schedule is out of reach.
        #[arg(long, value_enum, default_value_t = explore::StrategyArg::Exhaustive)]
        strategy: explore::StrategyArg,
        /// Runs of `random` and `pct`.
        #[arg(long, default_value_t = 1000)]
        runs: u64,
        /// Seed of `random` and `pct`.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// `pct`'s depth: the number of orderings a bug needs (priority changes are one fewer).
        #[arg(long, default_value_t = 3)]
        pct_depth: u32,
        /// Show each bad outcome by its shortest schedule only, without looking for the schedule with
        /// the fewest preemptions (explorations bounded to 0, 1, 2, ... preemptions in turn).
        #[arg(long)]
        no_shrink: bool,
    },
    /// Print a scenario in canonical form.
    Fmt { file: std::path::PathBuf },
    /// Print a scenario's syntax tree as JSON.
    Parse { file: std::path::PathBuf },
    /// Measure simulated system calls per second on a pipe ping-pong, beside real Linux pipes.
    #[command(args_conflicts_with_subcommands = true)]
    Bench {
        /// `real`: every IPC mechanism measured on this host (without it: the simulator's speed).
        #[command(subcommand)]
        what: Option<BenchWhat>,
        /// Round trips (each is four system calls: two writes and two reads).
        #[arg(long, default_value_t = 1_000_000)]
        messages: u32,
        /// How many rounds of the simulator arms run, the arms taking turns (the table shows the median
        /// and the best of each).
        #[arg(long, default_value_t = 7)]
        repeat: u32,
        /// Also write the results as JSON to this file.
        #[arg(long)]
        json: Option<std::path::PathBuf>,
    },
    /// Serve the playground (built by `cargo xtask dist`) on 127.0.0.1, until SIGTERM or SIGINT.
    Serve {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Directory of the built playground.
        #[arg(long, default_value = "dist")]
        dir: std::path::PathBuf,
        /// Most connections open at once (lowered to what the limit on open files allows); at the cap a
        /// new client closes the connection that has gone longest without sending or receiving.
        #[arg(long, default_value_t = 4096)]
        max_connections: u32,
        /// Seconds a connection may go without sending or receiving (or take to send a request head)
        /// before it is closed.
        #[arg(long, default_value_t = 30)]
        idle_timeout: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Sim { file, seed, schedule, format, max_steps } => run_sim(&file, seed, &schedule, format, max_steps),
        Command::Check { files, seed, format, quiet, free: Some(free), max_states, forbid_outcome, .. } => {
            check::free::run(check::free::FreeArgs {
                files,
                runs: free,
                seed,
                json: format == Format::Json,
                quiet,
                max_states,
                forbid: forbid_outcome,
            })
        }
        Command::Check {
            files,
            link,
            seed,
            runs,
            schedule,
            format,
            quiet,
            max_steps,
            perturb_step,
            stall_first_try,
            ..
        } => {
            if let Some(max_steps) = max_steps {
                let ceiling = sim_core::Limits::DEFAULT.max_steps_ceiling;
                if max_steps > ceiling {
                    note!("ipclab: --max-steps {max_steps} is above the limit of {ceiling} steps (max_steps_ceiling)");
                    return ExitCode::from(2);
                }
            }
            check::run(check::CheckArgs {
                files,
                link,
                seed,
                runs,
                schedule,
                max_steps,
                json: format == Format::Json,
                perturb_step,
                stall_first_try,
                quiet,
            })
        }
        Command::Fmt { file } => match input::load(&file) {
            Ok((_, scenario)) => match output::print(&sim_core::print(&scenario)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(code) => code,
            },
            Err(code) => code,
        },
        Command::Parse { file } => match input::load(&file) {
            Ok((_, scenario)) => {
                let tree = serde_json::to_string_pretty(&scenario).expect("syntax trees serialize");
                match output::print(&format!("{tree}\n")) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(code) => code,
                }
            }
            Err(code) => code,
        },
        Command::Bench { what: Some(BenchWhat::Real(args)), .. } => bench::real::run(&args),
        Command::Bench { what: None, messages, repeat, json } => bench::run(messages, repeat, json.as_deref()),
        Command::Explore {
            file,
            max_states,
            max_depth,
            max_preemptions,
            reduction,
            format,
            quiet,
            playground,
            strategy,
            runs,
            seed,
            pct_depth,
            no_shrink,
        } => explore::run(explore::ExploreArgs {
            file: &file,
            max_nodes: max_states,
            max_depth,
            max_preemptions,
            reduction,
            format,
            quiet,
            playground: &playground,
            strategy,
            runs,
            seed,
            pct_depth,
            shrink: !no_shrink,
        }),
        Command::Serve { port, dir, max_connections, idle_timeout } => {
            serve::run(serve::ServeArgs { port, dir, max_connections, idle_timeout_seconds: idle_timeout })
        }
    }
}

/// One entry of a `--schedule` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Choice {
    Pid(u32),
    Name(String),
}

/// What `--schedule` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Schedule {
    /// The scenario's own `schedule` line, if it has one, then round-robin (the default).
    Scenario,
    RoundRobin,
    Random,
    /// Pids or names, one per step, then round-robin.
    List(Vec<Choice>),
}

impl Schedule {
    /// The run's configuration: an explicit schedule replaces the scenario's `schedule` line.
    pub(crate) fn config(&self, seed: u64) -> RunConfig {
        let (policy, follow_schedule) = match self {
            Schedule::Scenario => (Policy::RoundRobin, true),
            Schedule::RoundRobin | Schedule::List(_) => (Policy::RoundRobin, false),
            Schedule::Random => (Policy::Random, false),
        };
        RunConfig { seed, policy, follow_schedule, ..RunConfig::default() }
    }

    pub(crate) fn choices(&self) -> &[Choice] {
        match self {
            Schedule::List(choices) => choices,
            _ => &[],
        }
    }
}

pub(crate) fn parse_schedule(text: &str) -> Result<Schedule, String> {
    match text {
        "scenario" => return Ok(Schedule::Scenario),
        "round-robin" => return Ok(Schedule::RoundRobin),
        "random" => return Ok(Schedule::Random),
        _ => {}
    }
    let mut choices = Vec::new();
    for (index, part) in text.split(',').enumerate() {
        let part = part.trim();
        if part.is_empty() {
            return Err(format!("--schedule: choice {} is empty (expected a pid or a process name)", index + 1));
        }
        if part.bytes().all(|byte| byte.is_ascii_digit()) {
            let pid =
                part.parse::<u32>().map_err(|_| format!("--schedule: choice {} ({part}) is too large", index + 1))?;
            choices.push(Choice::Pid(pid));
        } else if sim_core::lang::is_name(part.split('#').next().unwrap_or(part)) || part == "init" {
            choices.push(Choice::Name(part.to_string()));
        } else {
            return Err(format!(
                "--schedule: choice {} ({part:?}) is neither a pid nor a process name; use scenario, round-robin, \
                 random, or a list like 2,3,parent",
                index + 1
            ));
        }
    }
    Ok(Schedule::List(choices))
}

/// Takes the steps a `--schedule` list names, resolving each name among the processes runnable at its
/// step. The error says which choice failed and why.
pub(crate) fn follow_choices(simulation: &mut Simulation, choices: &[Choice]) -> Result<Vec<u32>, String> {
    let mut pids = Vec::new();
    for (index, choice) in choices.iter().enumerate() {
        if simulation.is_finished() {
            return Err(format!(
                "--schedule: choice {} comes after the run has ended (step {})",
                index + 1,
                simulation.steps()
            ));
        }
        let pid = match choice {
            Choice::Pid(pid) => *pid,
            Choice::Name(name) => simulation.runnable_named(name).map_err(|message| {
                format!("--schedule: choice {} ({name}) at step {}: {message}", index + 1, simulation.steps() + 1)
            })?,
        };
        match simulation.step_as(pid) {
            Ok(StepStatus::Ran(_)) => pids.push(pid),
            Ok(StepStatus::Finished) => {
                return Err(format!("--schedule: choice {} comes after the run has ended", index + 1))
            }
            Err(error) => return Err(format!("--schedule: choice {}: {error}", index + 1)),
        }
    }
    Ok(pids)
}

/// Why a run could not go on, located at the scenario's `schedule` line when that is the reason.
/// With the scenario's `source`, the line is shown with a caret under the entry, as a parse error is.
pub(crate) fn run_error_text(
    file: &str,
    source: Option<&str>,
    scenario: &sim_core::Scenario,
    error: &sim_core::SimError,
) -> String {
    match (error, &scenario.schedule) {
        (sim_core::SimError::Schedule { entry, .. }, Some(schedule)) => {
            // `entry` counts from 1; the entry's own place, or the line's if it is somehow out of range.
            let span = schedule.value.get(entry.wrapping_sub(1)).map_or(schedule.span, |written| written.span);
            match source {
                Some(source) => {
                    input::render_with_source(file, source, &sim_core::Diagnostic::new(span, error.to_string()))
                }
                None => format!("{file}:{}:{}: error: {error}", span.line, span.col),
            }
        }
        _ => format!("ipclab: {file}: {error}"),
    }
}

/// How much of a trace `sim` gathers before it writes it out.
const OUTPUT_CHUNK: usize = 1 << 16;

fn run_sim(file: &std::path::Path, seed: u64, schedule: &str, format: Format, max_steps: Option<u64>) -> ExitCode {
    let schedule = match parse_schedule(schedule) {
        Ok(parsed) => parsed,
        Err(message) => {
            note!("ipclab: {message}");
            return ExitCode::from(2);
        }
    };
    let (source, scenario) = match input::load(file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let mut config = schedule.config(seed);
    if let Some(max_steps) = max_steps {
        let ceiling = sim_core::Limits::DEFAULT.max_steps_ceiling;
        if max_steps > ceiling {
            note!("ipclab: --max-steps {max_steps} is above the limit of {ceiling} steps (max_steps_ceiling)");
            return ExitCode::from(2);
        }
        config.max_steps = max_steps;
    }
    let mut simulation = match Simulation::new(&scenario, config) {
        Ok(simulation) => simulation,
        Err(diagnostic) => {
            note!("{}", diagnostic.render(&file.display().to_string()));
            return ExitCode::from(2);
        }
    };
    if let Err(message) = follow_choices(&mut simulation, schedule.choices()) {
        note!("ipclab: {message}");
        return ExitCode::from(2);
    }
    // The trace is shown as the run goes, a chunk at a time, and each step's events are dropped once
    // shown: memory stays flat however many steps the run takes (the bytes reads returned are kept, up
    // to `max_trace_data_bytes`, because a read's result points into them).
    let program = simulation.program().clone();
    let file_name = file.display().to_string();
    let mut names = render::ProcessNames::default();
    let mut out = String::new();
    loop {
        let events = simulation.take_events();
        if !output::closed() {
            let trace = simulation.trace();
            for event in &events {
                names.observe(&program, event);
                match format {
                    Format::Text => {
                        out.push_str(&render::event_line(&program, trace, &names, event));
                        out.push('\n');
                    }
                    Format::Json => {
                        out.push_str(&json::event_record_json(&render::event_record(&program, trace, &names, event)));
                        out.push('\n');
                    }
                }
            }
            if out.len() >= OUTPUT_CHUNK {
                if let Err(code) = output::print(&out) {
                    return code;
                }
                out.clear();
            }
        }
        if simulation.is_finished() {
            break;
        }
        if let Err(error) = simulation.step() {
            let _ = output::print(&out);
            note!("{}", run_error_text(&file_name, Some(&source), &scenario, &error));
            return ExitCode::from(match error {
                sim_core::SimError::Schedule { .. } => 2,
                _ => 70,
            });
        }
    }
    // The text ends with a summary that needs no list of choices (a report would copy them, four bytes
    // a step); the JSON summary lists them.
    let failures = simulation.failures();
    match format {
        Format::Text => {
            for failure in failures {
                out.push_str(&format!(
                    "{}:{}:{}: expectation failed in {}: expected {}, got {}\n",
                    file_name, failure.span.line, failure.span.col, failure.process, failure.expected, failure.got
                ));
            }
            let program = simulation.program().clone();
            for (declared, happened) in program.outcomes.iter().zip(simulation.declared_outcomes()) {
                out.push_str(&format!(
                    "declared outcome {}: {} on this run{}\n",
                    declared.title(),
                    if *happened { "happened" } else { "did not happen" },
                    if declared.quantifier == sim_core::lang::ast::Quantifier::Sometimes {
                        " (`ipclab explore` looks at every schedule)"
                    } else {
                        ""
                    }
                ));
            }
            out.push_str(&format!(
                "outcome: {}; steps: {}; expectations: {}; trace hash: {:016x}\n",
                simulation.outcome().expect("the run has finished").name(),
                simulation.steps(),
                if failures.is_empty() { "all hold".to_string() } else { format!("{} failed", failures.len()) },
                simulation.trace().hash()
            ));
        }
        Format::Json => {
            let report = simulation.report().expect("the run has finished");
            out.push_str(&json::run_summary_json(&render::RunSummary::of(&report)));
            out.push('\n');
        }
    }
    if let Err(code) = output::print(&out) {
        return code;
    }
    if simulation.failures().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_and_an_explicit_one_replaces_the_scenario_s() {
        assert_eq!(parse_schedule("scenario"), Ok(Schedule::Scenario));
        assert!(Schedule::Scenario.config(0).follow_schedule);
        assert!(!parse_schedule("round-robin").unwrap().config(0).follow_schedule);
        let random = parse_schedule("random").unwrap().config(7);
        assert_eq!((random.policy, random.seed, random.follow_schedule), (Policy::Random, 7, false));
        assert_eq!(
            parse_schedule("2, parent,child#2"),
            Ok(Schedule::List(vec![
                Choice::Pid(2),
                Choice::Name("parent".to_string()),
                Choice::Name("child#2".to_string())
            ]))
        );
        assert!(parse_schedule("2,,3").unwrap_err().contains("choice 2 is empty"));
        assert!(parse_schedule("2,-x").unwrap_err().contains("neither a pid nor a process name"));
    }
}
