//! The lockstep driver: one scenario, one schedule, two arms.
//!
//! The simulator runs first, to the end, so that its limits hold before anything real starts (a fork
//! bomb never reaches the host). Then a second simulation replays the same choices one step at a time
//! while the runner makes the real processes take exactly the same steps: before each step it reads the
//! operands from the simulated kernel, sends the command, and after the step it compares what the
//! simulator's events say happened with what Linux did ([`Obs`]): the value, errno or bytes a call gave
//! back, whether it blocked, how processes died, stopped or continued, and what `wait` reported.

use super::host::{self, ProcStat, ACTIVE_PRIORITY, DORMANT_PRIORITY};
use super::real::{self, Command, Context, Reply};
use sim_core::ast::ChildStatus;
use sim_core::kernel::IMPLICIT_EXIT_OP;
use sim_core::linux::wait_status;
use sim_core::program::{CallOp, FdArg, OpKind, ProcArg};
use sim_core::render::{call_text, quote_bytes, status_words, Names};
use sim_core::sched::Policy;
use sim_core::trace::{CallResult, EventKind, SignalEffect};
use sim_core::{Pid, RunConfig, RunOutcome, Scenario, Simulation};
use std::collections::{BTreeMap, VecDeque};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// How long a real call may take to return, or a process to die or stop, before it counts as hung.
const HANG_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a process must be seen asleep in its call before the runner believes it blocked, when the
/// simulator says it blocks (and, much longer, when the simulator says the call returns).
const ASLEEP_GRACE_EXPECTED: Duration = Duration::from_millis(1);
const ASLEEP_GRACE_UNEXPECTED: Duration = Duration::from_millis(40);

/// A call's result, with real pids already mapped to the simulator's.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Res {
    Value {
        value: i64,
    },
    Errno {
        errno: u16,
    },
    /// Compared byte for byte; reported as a length, the first bytes and a hash (reads can be megabytes).
    Data {
        #[serde(serialize_with = "serialize_bytes")]
        bytes: Vec<u8>,
    },
    Pipe {
        read_fd: i32,
        write_fd: i32,
    },
    Fork {
        child: Pid,
    },
    Waited {
        child: Pid,
        status: ChildStatus,
    },
}

fn serialize_bytes<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    // FNV-1a, 64 bits: enough to tell two reads apart in a report.
    let hash =
        bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| (hash ^ *byte as u64).wrapping_mul(0x100_0000_01b3));
    let mut state = serializer.serialize_struct("Bytes", 3)?;
    state.serialize_field("len", &bytes.len())?;
    state.serialize_field("start", &quote_bytes(bytes, 64))?;
    state.serialize_field("fnv64", &format!("{hash:016x}"))?;
    state.end()
}

/// What one process did in one step, as either arm saw it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Obs {
    Returned {
        result: Res,
    },
    Blocked,
    Died {
        status: ChildStatus,
    },
    Stopped,
    Continued,
    /// Only Linux: nothing decisive happened in time, or the runner could not tell.
    Unclear {
        detail: String,
    },
}

/// One line of the side-by-side table.
#[derive(Clone, Debug, serde::Serialize)]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Match,
    Differ,
    Interrupted,
    /// Not run on Linux at all: the simulator stopped it at a limit, or the schedule does not fit it.
    Refused,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct RunReport {
    pub file: String,
    pub title: Option<String>,
    pub schedule: String,
    pub seed: u64,
    pub status: RunStatus,
    pub sim_steps: u64,
    pub steps_checked: u64,
    pub sim_outcome: String,
    pub rows: Vec<Row>,
    /// Index into `rows` of the first difference.
    pub first_difference: Option<usize>,
    pub explanation: Option<String>,
    /// Why a refused run was not run on Linux.
    pub refusal: Option<String>,
    pub elapsed_ms: u64,
}

impl RunReport {
    /// The entry of a run that was refused before anything real started.
    pub fn refused(file: &str, scenario: &Scenario, policy: &Policy, seed: u64, reason: String) -> RunReport {
        RunReport {
            file: file.to_string(),
            title: scenario.title.clone(),
            schedule: policy.name().to_string(),
            seed,
            status: RunStatus::Refused,
            sim_steps: 0,
            steps_checked: 0,
            sim_outcome: String::new(),
            rows: Vec::new(),
            first_difference: None,
            explanation: None,
            refusal: Some(reason),
            elapsed_ms: 0,
        }
    }
}

/// Why a run could not be checked at all.
pub enum RunError {
    /// The scenario or the schedule is not acceptable: the run is refused (exit status 2).
    Usage(String),
    /// The host failed us (exit status 3).
    Host(String),
}

/// What to check: a scenario under one schedule.
pub struct RunSpec<'a> {
    pub file: String,
    pub scenario: &'a Scenario,
    pub policy: Policy,
    pub seed: u64,
    /// A fixed list of pids (from `--schedule 2,3,...`), followed by round-robin.
    pub choices: Vec<Pid>,
    /// Test hook: pretend the simulator said something else at this step.
    pub perturb_step: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for its next command.
    Idle,
    /// Inside a real call that has not returned yet.
    InCall {
        op: u32,
    },
    Dead,
    Reaped,
}

struct RealProc {
    pid: i32,
    channel: Option<OwnedFd>,
    phase: Phase,
    replies: VecDeque<Reply>,
    /// Results the simulator recorded for calls that end while the process is held (a write cut short
    /// by a stop signal): Linux reports them when the process runs again.
    owed: VecDeque<(u32, Obs)>,
}

/// What the runner saw while waiting on a process.
enum Seen {
    Reply(Reply),
    /// The process no longer exists: something reaped it (a parent that ignores `SIGCHLD` lets the
    /// kernel do so at once), so its status can no longer be read.
    Gone,
    Asleep(String),
    Dead(ChildStatus),
    Stopped,
    Running,
    Timeout(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Return,
    Block(Option<i64>),
    Death,
    Stop,
    Continue,
}

struct Runner {
    procs: BTreeMap<Pid, RealProc>,
    by_real: BTreeMap<i32, Pid>,
    group: i32,
}

pub fn check_run(host_info: &host::Host, spec: &RunSpec) -> Result<RunReport, RunError> {
    let started = Instant::now();
    // Arm one, in full: limits first.
    let config = RunConfig { seed: spec.seed, policy: spec.policy.clone(), ..RunConfig::default() };
    let mut simulation =
        Simulation::new(spec.scenario, config).map_err(|diagnostic| RunError::Usage(diagnostic.message.clone()))?;
    for (index, pid) in spec.choices.iter().enumerate() {
        if simulation.is_finished() {
            return Err(RunError::Usage(format!("--schedule: choice {} comes after the run has ended", index + 1)));
        }
        simulation.step_as(*pid).map_err(|error| RunError::Usage(format!("--schedule: {error}")))?;
    }
    let outcome = simulation.run().map_err(|error| RunError::Usage(error.to_string()))?.clone();
    if let RunOutcome::LimitReached { limit, detail } = &outcome {
        return Err(RunError::Usage(format!(
            "the simulator stopped the run at limit {limit} ({detail}); no real process is started for a run that \
             breaks the simulator's limits"
        )));
    }
    let choices = simulation.choices();
    let sim_steps = simulation.steps();
    let program = simulation.program().clone();

    // Arm two: the same choices, step by step, beside real processes.
    let replay_config =
        RunConfig { seed: spec.seed, policy: Policy::Choices { pids: choices.clone() }, ..RunConfig::default() };
    let mut replay = Simulation::new(spec.scenario, replay_config).map_err(|d| RunError::Usage(d.message.clone()))?;

    let run_dir =
        host::RunDir::create(host_info.info.root.then_some(host_info.info.scenario_uid)).map_err(RunError::Host)?;
    let paths: Vec<CString> = program
        .paths
        .iter()
        .enumerate()
        .map(|(index, path)| {
            CString::new(run_dir.map(index, path).to_string_lossy().as_bytes()).expect("mapped paths have no NUL")
        })
        .collect();
    let context = Context {
        program: program.clone(),
        paths,
        drop_to_uid: host_info.info.root.then_some(host_info.info.scenario_uid),
        runner_pid: std::process::id() as i32,
    };
    let spinner = real::spawn_spinner(context.runner_pid).map_err(RunError::Host)?;
    let mut runner = Runner { procs: BTreeMap::new(), by_real: BTreeMap::new(), group: spinner };
    let result = (|| -> Result<(Vec<Row>, u64, bool), String> {
        // Affinity first: a real-time spinner on the runner's CPU would starve the runner.
        host::set_affinity(spinner, &[host_info.info.scenario_cpu])?;
        host::set_fifo(spinner, host::SPINNER_PRIORITY)?;
        // Top-level processes, pids 2, 3, ... in the simulator.
        for top in 0..program.processes.len() {
            let sim_pid = 2 + top as Pid;
            let (pid, channel) = real::spawn_top_level(&context, spinner)?;
            runner.add(sim_pid, pid, channel);
            match runner.watch(sim_pid, Want::Return) {
                Seen::Reply(Reply::Ready { .. }) => {}
                _ => return Err(format!("top-level process {sim_pid} did not start")),
            }
            host::set_affinity(pid, &[host_info.info.scenario_cpu])?;
            host::set_fifo(pid, DORMANT_PRIORITY)?;
        }
        let mut rows = Vec::new();
        let mut interrupted = false;
        let mut steps_checked = 0;
        for (index, actor) in choices.iter().copied().enumerate() {
            if host::stop_requested().is_some() {
                interrupted = true;
                break;
            }
            let step = index as u32 + 1;
            let differs = runner.step(&mut replay, step, actor, spec.perturb_step == Some(step), &mut rows)?;
            steps_checked += 1;
            if differs {
                return Ok((rows, steps_checked, false));
            }
        }
        if !interrupted {
            runner.check_end(&replay, &outcome, sim_steps as u32, &mut rows);
        }
        Ok((rows, steps_checked, interrupted))
    })();
    runner.cleanup();
    drop(run_dir);
    let (rows, steps_checked, interrupted) = result.map_err(RunError::Host)?;
    let first_difference = rows.iter().position(|row| !row.matches);
    let status = if first_difference.is_some() {
        RunStatus::Differ
    } else if interrupted {
        RunStatus::Interrupted
    } else {
        RunStatus::Match
    };
    let explanation = first_difference.map(|index| explain(&rows[index]));
    Ok(RunReport {
        file: spec.file.clone(),
        title: program.title.clone(),
        schedule: spec.policy.name().to_string(),
        seed: spec.seed,
        status,
        sim_steps,
        steps_checked,
        sim_outcome: outcome.name().to_string(),
        rows,
        first_difference,
        explanation,
        refusal: None,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// Why a difference matters, in a sentence.
pub fn explain(row: &Row) -> String {
    let what = match (&row.simulator, &row.linux) {
        (Obs::Blocked, Obs::Returned { .. }) => {
            "Linux completed the call where the simulator puts the process to sleep".to_string()
        }
        (Obs::Returned { .. }, Obs::Blocked) => {
            "Linux put the process to sleep where the simulator's call returns".to_string()
        }
        (Obs::Returned { .. }, Obs::Returned { .. }) => "the call gave back a different result on Linux".to_string(),
        (Obs::Died { .. }, Obs::Died { .. }) => "the process ended differently on Linux".to_string(),
        (Obs::Died { .. }, _) => "the simulator says the process ends here; on Linux it did not".to_string(),
        (_, Obs::Died { .. }) => "the process died on Linux where the simulator says it goes on".to_string(),
        (_, Obs::Unclear { .. }) => "Linux did not do what the simulator says in time".to_string(),
        _ => "the process's state differs".to_string(),
    };
    format!(
        "step {}, {}: {what} (simulator: {}; Linux: {})",
        row.step,
        row.process,
        obs_text(&row.simulator),
        obs_text(&row.linux)
    )
}

/// An observation in the words of the trace.
pub fn obs_text(obs: &Obs) -> String {
    match obs {
        Obs::Returned { result } => match result {
            Res::Value { value } => format!("= {value}"),
            Res::Errno { errno } => format!("= -1 {}", sim_core::ast::Errno(*errno).name()),
            Res::Data { bytes } if bytes.is_empty() => "= 0 (end of file)".to_string(),
            Res::Data { bytes } => format!("= {} {}", bytes.len(), quote_bytes(bytes, 20)),
            Res::Pipe { read_fd, write_fd } => format!("= 0 [{read_fd}, {write_fd}]"),
            Res::Fork { child } => format!("= pid {child}"),
            Res::Waited { child, status } => format!("= pid {child} ({})", status_words(*status)),
        },
        Obs::Blocked => "blocks".to_string(),
        Obs::Died { status } => status_words(*status),
        Obs::Stopped => "stopped".to_string(),
        Obs::Continued => "continued".to_string(),
        Obs::Unclear { detail } => detail.clone(),
    }
}

fn sim_result(trace: &sim_core::Trace, result: &CallResult) -> Res {
    match *result {
        CallResult::Value { value } => Res::Value { value: value as i64 },
        CallResult::Error { errno } => Res::Errno { errno: errno.0 },
        CallResult::Data { offset, len } => Res::Data { bytes: trace.read_data(offset, len).to_vec() },
        CallResult::Pipe { read_fd, write_fd } => Res::Pipe { read_fd, write_fd },
        CallResult::Fork { child } => Res::Fork { child },
        CallResult::Waited { child, status } => Res::Waited { child, status },
    }
}

/// A deliberately wrong expectation, for the test that proves differences are caught.
fn perturb(obs: &Obs) -> Obs {
    match obs {
        Obs::Returned { result: Res::Value { value } } => Obs::Returned { result: Res::Value { value: value + 1 } },
        Obs::Returned { result: Res::Data { bytes } } => {
            let mut bytes = bytes.clone();
            bytes.push(b'!');
            Obs::Returned { result: Res::Data { bytes } }
        }
        Obs::Blocked => Obs::Returned { result: Res::Value { value: 0 } },
        _ => Obs::Blocked,
    }
}

/// A process the kernel reaped at once (its parent ignores `SIGCHLD`) leaves no status to read: when the
/// simulator reaps it in the same step, its death is taken as the simulator describes it.
fn accept_gone(linux: &mut Obs, expected: &Obs, pid: Pid, events: &[sim_core::Event]) {
    let reaped_now =
        events.iter().any(|event| matches!(event.kind, EventKind::Reap { pid: reaped, .. } if reaped == pid));
    if matches!(linux, Obs::Unclear { .. }) && matches!(expected, Obs::Died { .. }) && reaped_now {
        *linux = expected.clone();
    }
}

/// The simulator's side of one step: what the actor did, and what happened to everyone else.
struct Expected {
    actor: Obs,
    /// The actor's call as the trace shows it (op, fd, arg), for the table.
    call: Option<(u32, i32, i64)>,
    /// The actor's call result when the actor stops before Linux lets it return.
    actor_owed: Option<(u32, Obs)>,
    others: Vec<(Pid, Obs)>,
    owed: Vec<(Pid, u32, Obs)>,
    forked: Option<Pid>,
    reaped_by_init: Vec<Pid>,
}

fn expected_of(events: &[sim_core::Event], trace: &sim_core::Trace, actor: Pid) -> Expected {
    let mut call = None;
    let mut actor_result = None;
    let mut blocked = false;
    let mut died = None;
    let mut stopped = false;
    let mut expected = Expected {
        actor: Obs::Blocked,
        call: None,
        actor_owed: None,
        others: Vec::new(),
        owed: Vec::new(),
        forked: None,
        reaped_by_init: Vec::new(),
    };
    for event in events {
        match &event.kind {
            EventKind::Call { pid, op, fd, arg, result } if *pid == actor && actor_result.is_none() => {
                call = Some((*op, *fd, *arg));
                actor_result = Some(Obs::Returned { result: sim_result(trace, result) });
            }
            EventKind::Call { pid, op, result, .. } if *pid != actor => {
                expected.owed.push((*pid, *op, Obs::Returned { result: sim_result(trace, result) }));
            }
            EventKind::Block { pid, op, fd, .. } if *pid == actor => {
                call = Some((*op, *fd, -1));
                blocked = true;
            }
            EventKind::Fork { parent, child } if *parent == actor => expected.forked = Some(*child),
            EventKind::Exit { pid, status } if *pid == actor => died = Some(*status),
            EventKind::Exit { pid, status } => expected.others.push((*pid, Obs::Died { status: *status })),
            EventKind::Signal { to, effect: SignalEffect::Stopped, .. } if *to == actor => stopped = true,
            EventKind::Signal { to, effect: SignalEffect::Stopped, .. } => expected.others.push((*to, Obs::Stopped)),
            EventKind::Signal { to, effect: SignalEffect::Continued, .. } => {
                expected.others.push((*to, Obs::Continued))
            }
            EventKind::Reap { pid, by: 1 } => expected.reaped_by_init.push(*pid),
            _ => {}
        }
    }
    // A process that continues and dies in the same step (a signal left pending while it was stopped)
    // is simply seen dead.
    let dying: Vec<Pid> =
        expected.others.iter().filter(|(_, obs)| matches!(obs, Obs::Died { .. })).map(|(pid, _)| *pid).collect();
    expected.others.retain(|(pid, obs)| matches!(obs, Obs::Died { .. }) || !dying.contains(pid));
    expected.call = call;
    expected.actor = if let Some(status) = died {
        Obs::Died { status }
    } else if stopped {
        if let (Some(result), Some((op, _, _))) = (actor_result.clone(), call) {
            expected.actor_owed = Some((op, result));
        }
        Obs::Stopped
    } else if let Some(result) = actor_result {
        result
    } else if blocked {
        Obs::Blocked
    } else {
        Obs::Unclear { detail: "the simulator recorded no call".to_string() }
    };
    expected
}

impl Runner {
    fn add(&mut self, sim_pid: Pid, pid: i32, channel: OwnedFd) {
        self.procs.insert(
            sim_pid,
            RealProc {
                pid,
                channel: Some(channel),
                phase: Phase::Idle,
                replies: VecDeque::new(),
                owed: VecDeque::new(),
            },
        );
        self.by_real.insert(pid, sim_pid);
    }

    fn set_priority(&self, sim_pid: Pid, priority: i32) {
        if let Some(proc) = self.procs.get(&sim_pid) {
            if matches!(proc.phase, Phase::Idle | Phase::InCall { .. }) {
                let _ = host::set_fifo(proc.pid, priority);
            }
        }
    }

    /// Waits until the process shows one of the things `want` asks about (or anything decisive).
    fn watch(&mut self, sim_pid: Pid, want: Want) -> Seen {
        let deadline = Instant::now() + HANG_TIMEOUT;
        let mut asleep_since: Option<Instant> = None;
        let mut asleep_checks = 0;
        loop {
            let proc = self.procs.get_mut(&sim_pid).expect("known process");
            // A reply settles every question but a stop's or a continue's (a call cut short by a stop
            // reports only after the process runs again).
            let reply_decides = matches!(want, Want::Return | Want::Block(_) | Want::Death);
            if reply_decides {
                if let Some(reply) = proc.replies.pop_front() {
                    return Seen::Reply(reply);
                }
            }
            if let Some(channel) = &proc.channel {
                let fd = channel.as_raw_fd();
                let mut pollfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
                // SAFETY: one valid pollfd.
                let ready = unsafe { libc::poll(&mut pollfd, 1, 1) };
                if ready > 0 && pollfd.revents & libc::POLLIN != 0 {
                    match real::recv_reply(fd) {
                        Ok(Some(reply)) => {
                            if reply_decides {
                                return Seen::Reply(reply);
                            }
                            proc.replies.push_back(reply);
                        }
                        Ok(None) | Err(_) => proc.channel = None,
                    }
                    continue;
                }
                if ready > 0 && pollfd.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                    proc.channel = None;
                }
            } else {
                std::thread::sleep(Duration::from_micros(500));
            }
            let pid = proc.pid;
            match host::stat(pid) {
                None => return Seen::Gone,
                Some(ProcStat { state: 'Z' | 'X', exit_code }) => return Seen::Dead(wait_status::decode(exit_code)),
                Some(ProcStat { state: 'T' | 't', .. }) => {
                    if want != Want::Continue {
                        return Seen::Stopped;
                    }
                }
                Some(ProcStat { state, .. }) => {
                    if want == Want::Continue {
                        return Seen::Running;
                    }
                    if state == 'S' {
                        if matches!(want, Want::Block(_) | Want::Return) {
                            let in_call = match want {
                                Want::Block(Some(nr)) => host::syscall_number(pid) == Some(nr),
                                _ => {
                                    let number = host::syscall_number(pid);
                                    number.is_some() && number != Some(libc::SYS_recvmsg)
                                }
                            };
                            if in_call {
                                let since = *asleep_since.get_or_insert_with(Instant::now);
                                asleep_checks += 1;
                                let grace =
                                    if want == Want::Return { ASLEEP_GRACE_UNEXPECTED } else { ASLEEP_GRACE_EXPECTED };
                                if asleep_checks >= 3 && since.elapsed() >= grace {
                                    return Seen::Asleep(host::wchan(pid));
                                }
                            } else {
                                asleep_since = None;
                                asleep_checks = 0;
                            }
                        }
                    } else {
                        asleep_since = None;
                        asleep_checks = 0;
                    }
                }
            }
            if Instant::now() > deadline {
                let state = host::stat(pid).map_or("gone".to_string(), |stat| stat.state.to_string());
                return Seen::Timeout(format!(
                    "no result after {} s (state {state}, in {})",
                    HANG_TIMEOUT.as_secs(),
                    host::wchan(pid)
                ));
            }
        }
    }

    fn mark_dead(&mut self, sim_pid: Pid) {
        if let Some(proc) = self.procs.get_mut(&sim_pid) {
            if proc.phase != Phase::Reaped {
                proc.phase = Phase::Dead;
            }
            proc.channel = None;
        }
    }

    /// Turns what the runner saw into an observation, mapping real pids to the simulator's.
    fn observe(&mut self, sim_pid: Pid, seen: Seen, expected_child: Option<Pid>) -> (Obs, String) {
        match seen {
            Seen::Reply(reply) => {
                let result = match reply {
                    Reply::Value(value) => Res::Value { value },
                    Reply::Errno(errno) => Res::Errno { errno: errno as u16 },
                    Reply::Data(bytes) => Res::Data { bytes },
                    Reply::Pipe { read_fd, write_fd } => Res::Pipe { read_fd, write_fd },
                    Reply::Fork { child, channel } => {
                        let sim_child = expected_child.unwrap_or(0);
                        if let (Some(channel), Some(sim_child)) = (channel, expected_child) {
                            self.add(sim_child, child, real::own(channel));
                        }
                        Res::Fork { child: sim_child }
                    }
                    Reply::Waited { pid, status } => {
                        let child = self.by_real.get(&pid).copied().unwrap_or(0);
                        Res::Waited { child, status: wait_status::decode(status) }
                    }
                    Reply::Ready { .. } => {
                        return (Obs::Unclear { detail: "an unexpected ready message".to_string() }, String::new())
                    }
                };
                if let Some(proc) = self.procs.get_mut(&sim_pid) {
                    proc.phase = Phase::Idle;
                }
                (Obs::Returned { result }, String::new())
            }
            Seen::Asleep(wchan) => (Obs::Blocked, if wchan.is_empty() { String::new() } else { format!("in {wchan}") }),
            Seen::Dead(status) => {
                self.mark_dead(sim_pid);
                (Obs::Died { status }, String::new())
            }
            Seen::Gone => {
                self.mark_dead(sim_pid);
                (Obs::Unclear { detail: "gone (reaped before its status could be read)".to_string() }, String::new())
            }
            Seen::Stopped => (Obs::Stopped, String::new()),
            Seen::Running => (Obs::Continued, String::new()),
            Seen::Timeout(detail) => (Obs::Unclear { detail }, String::new()),
        }
    }

    /// One step of the schedule on both arms. Returns true when the step differs.
    fn step(
        &mut self,
        replay: &mut Simulation,
        step: u32,
        actor: Pid,
        perturb_here: bool,
        rows: &mut Vec<Row>,
    ) -> Result<bool, String> {
        // Operands, read from the simulated kernel before the step, as the simulated process sees them.
        let kernel = replay.kernel();
        let program = replay.program().clone();
        let next_op = kernel.next_op(actor);
        // The command the process gets if it is not still inside an earlier call (decided after any
        // result it still owes has arrived).
        let command = match next_op {
            None => Some(Command::Exit),
            Some(op) => match &program.ops[op as usize].kind {
                OpKind::Fork { .. } => Some(Command::Fork { op }),
                OpKind::Call(call) => {
                    let fd_of = |fd: &FdArg| kernel.fd_operand(actor, *fd);
                    let target_of = |target: &ProcArg| match target {
                        ProcArg::SelfProc => actor as i64,
                        ProcArg::AnyChild => -1,
                        ProcArg::Slot(slot) => kernel.process(actor).vars[*slot as usize] as i64,
                    };
                    let (fd, arg) = match call {
                        CallOp::Dup { fd, .. } | CallOp::Close { fd } => (fd_of(fd), -1),
                        CallOp::Write { fd, .. } | CallOp::Read { fd, .. } | CallOp::Fcntl { fd, .. } => {
                            (fd_of(fd), -1)
                        }
                        CallOp::Dup2 { old, new } => (fd_of(old), fd_of(new) as i64),
                        CallOp::Kill { target, .. } => (-1, self.real_target(target_of(target), false)),
                        CallOp::Waitpid { target: ProcArg::AnyChild, .. } => (-1, -1),
                        CallOp::Waitpid { target, .. } => (-1, self.real_target(target_of(target), true)),
                        _ => (-1, -1),
                    };
                    Some(Command::Call { op, fd, arg })
                }
                OpKind::RepeatStart { .. } | OpKind::RepeatEnd { .. } => {
                    return Err("the simulator points at loop bookkeeping".to_string())
                }
            },
        };
        // The second operand as the trace prints it (a blocked call's event does not carry it).
        let display_arg = next_op.map_or(-1, |op| match &program.ops[op as usize].kind {
            OpKind::Call(CallOp::Read { count, .. }) => *count as i64,
            OpKind::Call(CallOp::Write { data, .. }) => data.len() as i64,
            OpKind::Call(CallOp::Waitpid { target: ProcArg::Slot(slot), .. }) => {
                kernel.process(actor).vars[*slot as usize] as i64
            }
            _ => -1,
        });
        let blocking_nr = next_op.and_then(|op| match &program.ops[op as usize].kind {
            OpKind::Call(call) => real::syscall_of(call),
            _ => None,
        });

        // The simulator's step.
        let before = replay.trace().events.len();
        replay.step().map_err(|error| error.to_string())?;
        let events = replay.trace().events[before..].to_vec();
        let mut expected = expected_of(&events, replay.trace(), actor);
        if perturb_here {
            expected.actor = perturb(&expected.actor);
        }
        let kernel = replay.kernel();
        let names = Names { kernel };
        let call = match expected.call {
            Some((op, _, _)) if op == IMPLICIT_EXIT_OP => "exit(0) at the end of its code".to_string(),
            Some((op, fd, arg)) => call_text(&program, &names, op, fd, if arg == -1 { display_arg } else { arg }),
            None => next_op.map_or("exit(0)".to_string(), |op| call_text(&program, &names, op, -1, -1)),
        };
        let mut differs = false;
        let mut push = |rows: &mut Vec<Row>, pid: Pid, call: String, simulator: Obs, linux: Obs, note: String| {
            let matches = simulator == linux;
            differs |= !matches;
            rows.push(Row {
                step,
                pid,
                process: names.process(pid),
                call,
                simulator,
                linux,
                linux_note: note,
                matches,
            });
        };

        // Linux's step: let the actor run.
        self.set_priority(actor, ACTIVE_PRIORITY);
        while let Some((_, owed)) = self.procs.get_mut(&actor).and_then(|proc| proc.owed.pop_front()) {
            let seen = self.watch(actor, Want::Return);
            let (linux, note) = self.observe(actor, seen, None);
            push(rows, actor, "(the call cut short earlier returns)".to_string(), owed, linux, note);
        }
        let in_call = matches!(self.procs.get(&actor).map(|proc| proc.phase), Some(Phase::InCall { .. }));
        if let (Some(command), false) = (command, in_call) {
            let proc = self.procs.get_mut(&actor).ok_or("the actor has no real process")?;
            if let Command::Call { op, .. } | Command::Fork { op } = command {
                proc.phase = Phase::InCall { op };
            }
            let sent = proc.channel.as_ref().map(|channel| real::send_command(channel.as_raw_fd(), command));
            if let Some(Err(_)) = sent {
                // The process is gone; watching it will say how.
                proc.channel = None;
            }
        }
        let want = match &expected.actor {
            Obs::Died { .. } => Want::Death,
            Obs::Stopped => Want::Stop,
            Obs::Blocked => Want::Block(blocking_nr),
            _ => Want::Return,
        };
        let seen = self.watch(actor, want);
        let (mut linux, note) = self.observe(actor, seen, expected.forked);
        accept_gone(&mut linux, &expected.actor, actor, &events);
        let forked_ok = matches!(linux, Obs::Returned { result: Res::Fork { .. } });
        push(rows, actor, call, expected.actor.clone(), linux, note);
        if let Some((op, owed)) = expected.actor_owed.take() {
            if let Some(proc) = self.procs.get_mut(&actor) {
                proc.owed.push_back((op, owed));
            }
        }
        if forked_ok {
            if let Some(child) = expected.forked {
                match self.watch(child, Want::Return) {
                    Seen::Reply(Reply::Ready { .. }) => {}
                    _ => return Err(format!("the child forked at step {step} did not start")),
                }
                self.set_priority(child, DORMANT_PRIORITY);
            }
        }

        // Everyone else the step touched: deaths, stops, continues (each must really happen now).
        for (pid, obs) in expected.others.clone() {
            if !self.procs.contains_key(&pid) {
                continue;
            }
            let want = match obs {
                Obs::Died { .. } => Want::Death,
                Obs::Stopped => Want::Stop,
                _ => Want::Continue,
            };
            // Dying and stopping happen in the target's own context, so it must run; continuing only
            // makes it runnable, and it must not run (and restart its call) before its turn.
            if want != Want::Continue {
                self.set_priority(pid, ACTIVE_PRIORITY);
            }
            let seen = self.watch(pid, want);
            let (mut linux, note) = self.observe(pid, seen, None);
            accept_gone(&mut linux, &obs, pid, &events);
            self.set_priority(pid, DORMANT_PRIORITY);
            let what = match obs {
                Obs::Died { .. } => "(dies)",
                Obs::Stopped => "(stops)",
                _ => "(continues)",
            };
            push(rows, pid, what.to_string(), obs, linux, note);
        }
        for (pid, op, obs) in expected.owed.clone() {
            if let Some(proc) = self.procs.get_mut(&pid) {
                proc.owed.push_back((op, obs));
            }
        }
        // init (the runner) reaps at once, as the simulator's init does.
        for pid in expected.reaped_by_init.clone() {
            if let Some(proc) = self.procs.get_mut(&pid) {
                let mut status = 0;
                let deadline = Instant::now() + HANG_TIMEOUT;
                loop {
                    // SAFETY: waitpid on a known child with a valid pointer.
                    let result = unsafe { libc::waitpid(proc.pid, &mut status, libc::WNOHANG) };
                    if result != 0 || Instant::now() > deadline {
                        break;
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
                proc.phase = Phase::Reaped;
                proc.channel = None;
            }
        }
        // Reaped by a parent's wait: the pid is no longer ours.
        for event in &events {
            if let EventKind::Reap { pid, by } = event.kind {
                if by != 1 {
                    if let Some(proc) = self.procs.get_mut(&pid) {
                        proc.phase = Phase::Reaped;
                        proc.channel = None;
                    }
                }
            }
        }
        self.set_priority(actor, DORMANT_PRIORITY);
        Ok(differs)
    }

    /// The real pid for a simulated target, or a pid that cannot exist (so that the real call fails
    /// the way the simulated one does, and never signals a process outside the run).
    fn real_target(&self, sim_target: i64, for_wait: bool) -> i64 {
        const NO_SUCH_PID: i64 = i32::MAX as i64;
        if sim_target <= 1 || sim_target > u32::MAX as i64 {
            return NO_SUCH_PID;
        }
        match self.procs.get(&(sim_target as Pid)) {
            Some(proc) if proc.phase != Phase::Reaped => proc.pid as i64,
            Some(proc) if for_wait => proc.pid as i64,
            _ => NO_SUCH_PID,
        }
    }

    /// After the last step: in a deadlock every waiting process must really be asleep (or stopped).
    fn check_end(&mut self, replay: &Simulation, outcome: &RunOutcome, last_step: u32, rows: &mut Vec<Row>) {
        let RunOutcome::Deadlock { waiting } = outcome else { return };
        let kernel = replay.kernel();
        let program = replay.program().clone();
        let names = Names { kernel };
        for edge in waiting {
            if !self.procs.contains_key(&edge.pid) {
                continue;
            }
            let op = kernel.next_op(edge.pid);
            let nr = op.and_then(|op| match &program.ops[op as usize].kind {
                OpKind::Call(call) => real::syscall_of(call),
                _ => None,
            });
            let (simulator, want) = match edge.reason {
                Some(_) => (Obs::Blocked, Want::Block(nr)),
                None => (Obs::Stopped, Want::Stop),
            };
            self.set_priority(edge.pid, ACTIVE_PRIORITY);
            let seen = self.watch(edge.pid, want);
            let (linux, note) = self.observe(edge.pid, seen, None);
            self.set_priority(edge.pid, DORMANT_PRIORITY);
            let call =
                op.map_or("(end)".to_string(), |op| format!("deadlock: {}", call_text(&program, &names, op, -1, -1)));
            rows.push(Row {
                step: last_step,
                pid: edge.pid,
                process: names.process(edge.pid),
                call,
                matches: simulator == linux,
                simulator,
                linux,
                linux_note: note,
            });
        }
    }

    /// Kills every process of the run and reaps what the runner can: nothing is left behind.
    fn cleanup(&mut self) {
        // SAFETY: signals our own process group (the spinner leads it; scenario processes cannot leave it).
        unsafe {
            libc::kill(-self.group, libc::SIGKILL);
        }
        for proc in self.procs.values_mut() {
            proc.channel = None;
        }
        let deadline = Instant::now() + HANG_TIMEOUT;
        loop {
            let mut status = 0;
            // SAFETY: reaps any child of the runner (top-level processes, adopted orphans, the spinner).
            let result = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if result < 0 {
                break;
            }
            if result == 0 {
                // SAFETY: plain signal, in case a process escaped the first one.
                unsafe {
                    libc::kill(-self.group, libc::SIGKILL);
                }
                if Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perturbed_expectation_differs() {
        let value = Obs::Returned { result: Res::Value { value: 3 } };
        assert_ne!(perturb(&value), value);
        let data = Obs::Returned { result: Res::Data { bytes: b"hi".to_vec() } };
        assert_ne!(perturb(&data), data);
        assert_ne!(perturb(&Obs::Blocked), Obs::Blocked);
    }

    fn event(kind: EventKind) -> sim_core::Event {
        sim_core::Event { step: 4, kind }
    }

    #[test]
    fn a_step_reads_as_what_each_process_did() {
        use sim_core::ast::{Errno, Signal};
        let trace = sim_core::Trace::new(true);
        let killed = ChildStatus::Killed { signal: Signal(13), core: false };
        // The actor's write fails with EPIPE and SIGPIPE kills it: Linux shows only the death.
        let events = vec![
            event(EventKind::Call { pid: 3, op: 2, fd: 4, arg: 5, result: CallResult::Error { errno: Errno(32) } }),
            event(EventKind::Signal { from: 3, to: 3, signal: Signal(13), effect: SignalEffect::Terminated }),
            event(EventKind::Exit { pid: 3, status: killed }),
            event(EventKind::Reap { pid: 3, by: 1 }),
        ];
        let expected = expected_of(&events, &trace, 3);
        assert_eq!(expected.actor, Obs::Died { status: killed });
        assert_eq!(expected.reaped_by_init, vec![3]);
        // Another process continues and dies of a pending SIGTERM in the same step: it is seen dead.
        let terminated = ChildStatus::Killed { signal: Signal(15), core: false };
        let events = vec![
            event(EventKind::Call { pid: 2, op: 7, fd: -1, arg: 3, result: CallResult::Value { value: 0 } }),
            event(EventKind::Signal { from: 2, to: 3, signal: Signal(18), effect: SignalEffect::Continued }),
            event(EventKind::Signal { from: 3, to: 3, signal: Signal(15), effect: SignalEffect::Terminated }),
            event(EventKind::Exit { pid: 3, status: terminated }),
        ];
        let expected = expected_of(&events, &trace, 2);
        assert_eq!(expected.actor, Obs::Returned { result: Res::Value { value: 0 } });
        assert_eq!(expected.others, vec![(3, Obs::Died { status: terminated })]);
        // A call that blocks.
        let events = vec![event(EventKind::Block {
            pid: 2,
            op: 1,
            fd: 3,
            reason: sim_core::trace::BlockReason::PipeEmpty { pipe: 1 },
        })];
        assert_eq!(expected_of(&events, &trace, 2).actor, Obs::Blocked);
    }

    #[test]
    fn explanations_name_the_step_and_both_sides() {
        let row = Row {
            step: 7,
            pid: 3,
            process: "child".to_string(),
            call: "read(p.r=3, 100)".to_string(),
            simulator: Obs::Blocked,
            linux: Obs::Returned { result: Res::Data { bytes: b"x".to_vec() } },
            linux_note: String::new(),
            matches: false,
        };
        let text = explain(&row);
        assert!(text.contains("step 7"), "{text}");
        assert!(text.contains("Linux completed the call"), "{text}");
        assert!(text.contains("= 1 \"x\""), "{text}");
    }
}
