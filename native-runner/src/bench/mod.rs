//! `ipclab bench`: simulated system calls per second on a pipe ping-pong, beside the same ping-pong on
//! real Linux pipes between two real processes, measured in the same run.

use sim_core::{RunConfig, RunOutcome, Simulation};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::ExitCode;
use std::time::Instant;

pub use sim_core::bench::ping_pong_scenario;

pub mod real;

/// How the simulator stores its trace during a measurement.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Storage {
    /// Every event kept as an `Event` value.
    Events,
    /// Every event kept in the packed log (a few bytes each).
    Packed,
    /// Every event built and hashed, none kept.
    HashOnly,
}

struct SimMeasure {
    /// The fastest of the repetitions (the least disturbed by other work on the machine).
    best_seconds: f64,
    trace_bytes: u64,
    steps: u64,
    calls: u64,
    events: u64,
    seconds: f64,
    trace_hash: u64,
}

fn measure_sim(messages: u32, storage: Storage) -> Result<SimMeasure, String> {
    let scenario = sim_core::parse(&ping_pong_scenario(messages)).map_err(|errors| format!("{errors:?}"))?;
    let config = RunConfig {
        keep_events: storage == Storage::Events,
        pack_events: storage == Storage::Packed,
        check_invariants: false,
        max_steps: sim_core::Limits::DEFAULT.max_steps_ceiling,
        // The benchmark measures what storing a long trace costs; the budget that protects a person's
        // machine from a runaway scenario would end its run early.
        memory_budget: u64::MAX,
        ..RunConfig::default()
    };
    let mut simulation = Simulation::new(&scenario, config).map_err(|error| error.message)?;
    let started = Instant::now();
    let outcome = simulation.run().map_err(|error| error.to_string())?.clone();
    let seconds = started.elapsed().as_secs_f64();
    if outcome != RunOutcome::AllExited {
        return Err(format!("the ping-pong run ended with {}", outcome.name()));
    }
    let calls = simulation.kernel().calls_completed;
    let trace = simulation.trace();
    let trace_bytes = match storage {
        Storage::Events => (trace.events.len() * std::mem::size_of::<sim_core::Event>() + trace.data.len()) as u64,
        Storage::Packed => (trace.packed().map_or(0, |packed| packed.size_bytes() as usize) + trace.data.len()) as u64,
        Storage::HashOnly => 0,
    };
    Ok(SimMeasure {
        best_seconds: seconds,
        trace_bytes,
        steps: simulation.steps(),
        calls,
        events: simulation.trace().event_count(),
        seconds,
        trace_hash: simulation.trace().hash(),
    })
}

fn read_exact(fd: &OwnedFd, buffer: &mut [u8]) -> nix::Result<()> {
    let mut done = 0;
    while done < buffer.len() {
        let count = nix::unistd::read(fd.as_raw_fd(), &mut buffer[done..])?;
        if count == 0 {
            return Err(nix::errno::Errno::EPIPE);
        }
        done += count;
    }
    Ok(())
}

/// The same ping-pong between two real processes over two real pipes. Returns (system calls, seconds).
fn measure_linux(messages: u32) -> Result<(u64, f64), String> {
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::{fork, pipe, write, ForkResult};
    let (ping_read, ping_write) = pipe().map_err(|error| format!("pipe: {error}"))?;
    let (pong_read, pong_write) = pipe().map_err(|error| format!("pipe: {error}"))?;
    // SAFETY: the child only makes system calls on descriptors it owns and then calls _exit.
    match unsafe { fork() }.map_err(|error| format!("fork: {error}"))? {
        ForkResult::Child => {
            drop(ping_write);
            drop(pong_read);
            let mut buffer = [0u8; 4];
            let mut status = 0;
            for _ in 0..messages {
                if read_exact(&ping_read, &mut buffer).is_err() || write(&pong_write, b"pong") != Ok(4) {
                    status = 1;
                    break;
                }
            }
            // SAFETY: _exit is async-signal-safe and skips the parent's atexit handlers and buffers.
            unsafe { nix::libc::_exit(status) }
        }
        ForkResult::Parent { child } => {
            drop(ping_read);
            drop(pong_write);
            let mut buffer = [0u8; 4];
            let started = Instant::now();
            for _ in 0..messages {
                write(&ping_write, b"ping").map_err(|error| format!("write: {error}"))?;
                read_exact(&pong_read, &mut buffer).map_err(|error| format!("read: {error}"))?;
            }
            let seconds = started.elapsed().as_secs_f64();
            match waitpid(child, None).map_err(|error| format!("waitpid: {error}"))? {
                WaitStatus::Exited(_, 0) => Ok((messages as u64 * 4, seconds)),
                other => Err(format!("the ping-pong child ended with {other:?}")),
            }
        }
    }
}

/// Folds one more run of an arm into its measure: `seconds` becomes the median of the runs so far and
/// `best_seconds` the fastest.
fn add_run(runs: &mut Vec<f64>, measure: &mut Option<SimMeasure>, run: SimMeasure) {
    runs.push(run.seconds);
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let merged = measure.get_or_insert(run);
    merged.seconds = sorted[sorted.len() / 2];
    merged.best_seconds = sorted[0];
}

/// Whether `--json PATH` can be written, asked before a run rather than after it: its directory
/// exists and the path is not a directory itself.
pub(crate) fn json_path_ok(path: &std::path::Path) -> Result<(), String> {
    let parent = path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    if !parent.is_dir() {
        return Err(format!("--json {}: no such directory {}", path.display(), parent.display()));
    }
    if path.is_dir() {
        return Err(format!("--json {}: this is a directory; give the path of a file to write", path.display()));
    }
    Ok(())
}

/// Written whole to a new file beside it, then renamed over it: an interrupted run never leaves a
/// half-written file in place of what was there.
pub(crate) fn write_json(path: &std::path::Path, value: &serde_json::Value) -> Result<(), String> {
    let partial = path.with_extension("json.partial");
    std::fs::File::create(&partial)
        .and_then(|mut file| {
            std::io::Write::write_all(&mut file, serde_json::to_string_pretty(value).expect("json").as_bytes())
        })
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|error| {
            let _ = std::fs::remove_file(&partial);
            format!("cannot write {}: {error}", path.display())
        })
}

pub fn run(messages: u32, repeats: u32, json: Option<&std::path::Path>) -> ExitCode {
    if messages == 0 || repeats == 0 {
        note!("ipclab: bench: --messages and --repeat must be at least 1");
        return ExitCode::from(2);
    }
    if let Some(Err(error)) = json.map(json_path_ok) {
        note!("ipclab: bench: {error}");
        return ExitCode::from(2);
    }
    note!("ipclab bench: pipe ping-pong, {messages} round trips (4 system calls each)");
    let arms = [
        (Storage::Packed, "simulator, trace stored packed", "every event stored in the packed log"),
        (Storage::Events, "simulator, trace stored as events", "every event stored as an Event value"),
        (Storage::HashOnly, "simulator, trace hashed only", "every event built and hashed, none stored"),
    ];
    // The arms take turns, round after round, so that a slow spell of the machine falls on all of them
    // alike rather than on whichever arm happened to be running.
    for (_, label, meaning) in &arms {
        note!("  {label}: {meaning}");
    }
    let mut measures: Vec<Option<SimMeasure>> = arms.iter().map(|_| None).collect();
    let mut times: Vec<Vec<f64>> = arms.iter().map(|_| Vec::new()).collect();
    for round in 1..=repeats {
        note!("  [{round}/{repeats}] one run of each simulator arm ...");
        for (index, (storage, _, _)) in arms.iter().enumerate() {
            match measure_sim(messages, *storage) {
                Ok(run) => {
                    if run.trace_hash != measures[0].as_ref().map_or(run.trace_hash, |first| first.trace_hash) {
                        note!("ipclab: bench: the simulator runs gave different trace hashes (a determinism bug)");
                        return ExitCode::from(1);
                    }
                    add_run(&mut times[index], &mut measures[index], run);
                }
                Err(message) => {
                    note!("ipclab: bench: simulator: {message}");
                    return ExitCode::from(1);
                }
            }
        }
    }
    let sims: Vec<(&str, SimMeasure)> = arms
        .iter()
        .zip(measures)
        .map(|((_, label, _), measure)| (*label, measure.expect("at least one round")))
        .collect();
    if sims.iter().any(|(_, measure)| measure.trace_hash != sims[0].1.trace_hash) {
        note!("ipclab: bench: the simulator runs gave different trace hashes (a determinism bug)");
        return ExitCode::from(1);
    }
    let sim = &sims[0].1;
    note!("  real Linux pipes between two processes ...");
    let (linux_calls, linux_seconds) = match measure_linux(messages) {
        Ok(measure) => measure,
        Err(message) => {
            note!("ipclab: bench: linux: {message}");
            return ExitCode::from(1);
        }
    };
    let sim_calls_per_second = sim.calls as f64 / sim.seconds;
    let linux_calls_per_second = linux_calls as f64 / linux_seconds;
    let best_calls_per_second = sim.calls as f64 / sim.best_seconds;
    let mut out = String::new();
    out.push_str(&format!(
        "pipe ping-pong, {messages} round trips; simulator arms: median and best of {repeats} runs, taken in turns; Linux: one run\n\n"
    ));
    out.push_str("| arm | system calls | steps | events | seconds (median) | calls per second (median) | calls per second (best) | trace bytes |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (label, measure) in &sims {
        out.push_str(&format!(
            "| {label} | {} | {} | {} | {:.3} | {:.0} | {:.0} | {} |\n",
            measure.calls,
            measure.steps,
            measure.events,
            measure.seconds,
            measure.calls as f64 / measure.seconds,
            measure.calls as f64 / measure.best_seconds,
            measure.trace_bytes
        ));
    }
    out.push_str(&format!(
        "| linux pipes, two processes | {} | - | - | {:.3} | {:.0} | - | - |\n",
        linux_calls, linux_seconds, linux_calls_per_second
    ));
    out.push_str(&format!(
        "\nsimulator (trace stored packed, median) / linux: {:.2}x calls per second; trace hash {:016x} in every simulator run\n",
        sim_calls_per_second / linux_calls_per_second,
        sim.trace_hash
    ));
    let verdict = |rate: f64| if rate >= 10_000_000.0 { "met" } else { "NOT met" };
    out.push_str(&format!(
        "target, at least 10,000,000 simulated calls per second with the trace stored: median {:.0} ({}), best {:.0} ({})\n",
        sim_calls_per_second,
        verdict(sim_calls_per_second),
        best_calls_per_second,
        verdict(best_calls_per_second)
    ));
    if let Err(code) = crate::output::print(&out) {
        return code;
    }
    if let Some(path) = json {
        let simulator: Vec<serde_json::Value> = sims
            .iter()
            .map(|(label, measure)| {
                serde_json::json!({
                    "arm": label, "calls": measure.calls, "steps": measure.steps, "events": measure.events,
                    "seconds": measure.seconds, "calls_per_second": measure.calls as f64 / measure.seconds,
                    "best_seconds": measure.best_seconds, "best_calls_per_second": measure.calls as f64 / measure.best_seconds,
                    "trace_bytes": measure.trace_bytes, "trace_hash": format!("{:016x}", measure.trace_hash),
                })
            })
            .collect();
        let value = serde_json::json!({
            "messages": messages,
            "simulator": simulator,
            "linux": { "calls": linux_calls, "seconds": linux_seconds, "calls_per_second": linux_calls_per_second },
            "ratio": sim_calls_per_second / linux_calls_per_second,
        });
        if let Err(error) = write_json(path, &value) {
            note!("ipclab: bench: {error}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
