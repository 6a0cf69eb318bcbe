//! The lockstep driver: one scenario, one schedule, two arms.
//!
//! [`plan`] runs the simulator first, to the end, in `ipclab check` itself, so that its limits hold
//! before anything real starts (a fork bomb never reaches the host) and its schedule and expectations
//! are known. Then [`check`], in the run's driver process, replays the same choices one step at a time
//! in a second simulation while the real processes take exactly the same steps: before each step it
//! reads the call and its operands from the simulated kernel (`next_op`, `next_args`) and sends them as
//! a command; after the step it compares what the simulator's events say happened
//! ([`super::observe::expected_of`]) with what Linux did: the value, errno or bytes a call gave back,
//! whether it blocked, how processes died, stopped or continued, and what `init` collected.

use super::host::{self, HostInfo, ProcStat, ACTIVE_PRIORITY, DORMANT_PRIORITY};
use super::in_flight;
use super::leftovers;
use super::namespace::Namespace;
use super::observe::{self, expected_of, perturb, raw_value, Bytes, Expected, Move, Obs, Res, SignalSet};
use super::protocol::{self, Attachment, Below, CallCommand, Command, Received, Reply, SigInfo, WireOperand};
use super::real;
use super::report::{Expectations, FailedExpectation, Row, RunReport, RunStatus};
use sim_core::kernel::signal::{Action, Queued, SignalState};
use sim_core::kernel::{Kernel, ProcState};
use sim_core::lang::compile::{CallOp, Operand, Program};
use sim_core::lang::syscalls::{CallId, OperandKind};
use sim_core::linux::signal::{BLOCKABLE, SA_SIGINFO};
use sim_core::linux::{wait, ChildStatus, DefaultAction, Signal};
use sim_core::present::render::{call_text, ProcessNames};
use sim_core::trace::{Args, CallInterrupted, Delivery, Event, EventKind, ReapCause, RightsMove};
use sim_core::{Pid, RunConfig, RunOutcome, Scenario, Simulation};
use std::collections::{BTreeMap, VecDeque};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a real call may take to return, or a process to die or stop, before it counts as hung.
const HANG_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a process in uninterruptible sleep (state D: the kernel is still working for it, as when a
/// dying process's memory is torn down on a loaded host) may take beyond `HANG_TIMEOUT`. Seen on this
/// project's 2-core machine while other builds filled it: more than 60 s in `unlink_file_vma_batch_process`.
const KERNEL_BUSY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a process must be seen asleep in its call before the runner believes it blocked, when the
/// simulator says it blocks (and, much longer, when the simulator says the call returns).
const ASLEEP_GRACE_EXPECTED: Duration = Duration::from_millis(1);
const ASLEEP_GRACE_UNEXPECTED: Duration = Duration::from_millis(40);

/// What to check: a scenario under one schedule.
pub struct RunSpec<'a> {
    pub file: String,
    pub scenario: &'a Scenario,
    /// The schedule as the report names it.
    pub label: String,
    /// The first simulation's configuration (policy, seed, whether it follows the scenario's schedule).
    pub config: RunConfig,
    /// A `--schedule` list, taken before the policy.
    pub choices: &'a [crate::Choice],
    /// Test hook: pretend the simulator said something else at this step.
    pub perturb_step: Option<u32>,
}

/// A run the simulator has made, ready to be checked on Linux.
pub struct Plan {
    pub file: String,
    pub label: String,
    pub seed: u64,
    pub program: Arc<Program>,
    /// The pid chosen at each step.
    pub choices: Vec<Pid>,
    pub outcome: RunOutcome,
    pub sim_steps: u64,
    /// The IPC objects the simulated run leaves behind, from its end (the replay in lockstep stops at
    /// its last step, before a run at the step limit is ended and its leftovers are recorded).
    pub leftovers: Vec<String>,
    /// The simulated run's trace hash, as `ipclab sim` prints it.
    pub trace_hash: u64,
    pub expectations: Expectations,
    pub perturb_step: Option<u32>,
    /// Whether a process dies of a signal whose default action dumps core (see
    /// `HostInfo::core_pattern_problem`).
    pub core_deaths: bool,
    /// The largest `SO_SNDBUF` and `SO_RCVBUF` a `setsockopt` of the run asks for, as Linux reads the
    /// int (unsigned), if any does (see `HostInfo::buffer_limit_problem`).
    pub buffer_requests: (Option<u32>, Option<u32>),
    /// Test hook: the driver stalls for this long before this step, as a loaded host would stall it.
    pub stall: Option<(u32, Duration)>,
}

/// Runs the simulator to the end. `Err` says why the run is refused (a limit, a schedule that does
/// not fit the scenario): nothing real is started for it.
pub fn plan(spec: &RunSpec) -> Result<Plan, String> {
    let mut simulation = Simulation::new(spec.scenario, spec.config.clone()).map_err(|d| d.message.clone())?;
    crate::follow_choices(&mut simulation, spec.choices)?;
    let outcome =
        simulation.run().map_err(|error| crate::run_error_text(&spec.file, None, spec.scenario, &error))?.clone();
    if let RunOutcome::LimitReached { limit, detail } = &outcome {
        return Err(format!(
            "the simulator stopped the run at limit {limit} ({detail}); no real process is started for a run that \
             breaks the simulator's limits"
        ));
    }
    if let Some(reason) = timer_outside_a_jump(simulation.trace(), simulation.program()) {
        return Err(reason);
    }
    let real_time = replay_time(simulation.trace(), simulation.kernel().now());
    if real_time > MAX_REAL_TIME {
        return Err(format!(
            "the run lasts {} s of simulated time, which real timers scaled 1/{} (TCP's own timers unscaled) \
             would take {} s to replay; ipclab check replays at most {} s of real time per run",
            seconds_text(simulation.kernel().now()),
            real::time::TIME_DIVISOR,
            real_time.as_secs(),
            MAX_REAL_TIME.as_secs()
        ));
    }
    let program = simulation.program().clone();
    // A scenario that pins its schedule says its expectations assume that interleaving: a run that
    // replaced it lists them, but they do not decide the run.
    let follows = spec.config.follow_schedule && spec.choices.is_empty();
    let counted = program.schedule.is_empty() || follows;
    let expectations = Expectations {
        counted,
        note: (!counted).then(|| {
            "the scenario pins its own `schedule`, which this run replaced; its expectations assume that schedule"
                .to_string()
        }),
        failed: simulation
            .failures()
            .iter()
            .map(|failure| FailedExpectation {
                file: spec.file.clone(),
                line: failure.span.line,
                col: failure.span.col,
                process: failure.process.clone(),
                expected: failure.expected.clone(),
                got: failure.got.clone(),
            })
            .collect(),
    };
    Ok(Plan {
        file: spec.file.clone(),
        label: spec.label.clone(),
        seed: spec.config.seed,
        program,
        choices: simulation.choices(),
        outcome,
        sim_steps: simulation.steps(),
        leftovers: leftovers::simulated(simulation.program(), simulation.trace()),
        trace_hash: simulation.trace().hash(),
        expectations,
        perturb_step: spec.perturb_step,
        core_deaths: simulation.trace().events.iter().any(|event| {
            matches!(
                event.kind,
                EventKind::Delivered { delivery: Delivery::Terminated { core: true } | Delivery::Dumped, .. }
            )
        }),
        buffer_requests: buffer_requests(simulation.trace(), simulation.program()),
        stall: None,
    })
}

/// The largest send and receive buffer sizes the run's successful `setsockopt` calls ask for.
fn buffer_requests(trace: &sim_core::Trace, program: &Program) -> (Option<u32>, Option<u32>) {
    use sim_core::linux::socket::{SOL_SOCKET, SO_RCVBUF, SO_SNDBUF};
    let (mut send, mut receive) = (None, None);
    for event in &trace.events {
        let EventKind::Call { op, args, result: sim_core::trace::CallResult::Value { value: 0 }, .. } = &event.kind
        else {
            continue;
        };
        if program.call(*op).is_none_or(|call| call.id != CallId::Setsockopt) || args.get(1) != SOL_SOCKET {
            continue;
        }
        let asked = args.get(3) as i32 as u32;
        let slot = match args.get(2) {
            SO_SNDBUF => &mut send,
            SO_RCVBUF => &mut receive,
            _ => continue,
        };
        *slot = Some(slot.map_or(asked, |largest: u32| largest.max(asked)));
    }
    (send, receive)
}

/// Why a run's timers cannot be replayed on real timers, if they cannot: a timer that the simulator fires
/// at the end of a step, while processes can still run (its time came one microsecond step at a time,
/// not in a jump of the clock). On Linux the timer would have to fire between two particular real steps,
/// and real steps take no fixed time, so no scaling of durations can place it there. A timer that fires in
/// a jump (every process asleep) has no such problem: the driver waits for it (see `RealTimer`).
fn timer_outside_a_jump(trace: &sim_core::Trace, program: &Program) -> Option<String> {
    // The step of the last jump of the clock: a jump's firings follow its `Clock` event, in that step.
    let mut jump_step = None;
    let mut names = ProcessNames::default();
    for event in &trace.events {
        names.observe(program, event);
        let pid = match event.kind {
            EventKind::Clock { .. } => {
                jump_step = Some(event.step);
                continue;
            }
            EventKind::Alarm { pid } => pid,
            EventKind::Wake { pid, cause: sim_core::trace::WakeCause::Timer, .. } => pid,
            _ => continue,
        };
        if jump_step != Some(event.step) {
            return Some(format!(
                "{} (pid {}): its timer fires at the end of step {} while processes are still running, with \
                 no jump of the simulator's clock; a real timer cannot be made to fire between two given real steps, \
                 so `ipclab check` only replays timers that fire while every process is asleep (see \
                 docs/conformance.md, \"Time\")",
                names.process(pid),
                pid,
                event.step
            ));
        }
    }
    None
}

/// Checks a planned run on Linux, in the run's namespace. `paths` are the real paths standing in for
/// the program's paths. `Err` is a failure of the host, not of the scenario.
pub fn check(namespace: &mut Namespace, info: &HostInfo, plan: &Plan, paths: &[Vec<u8>]) -> Result<RunReport, String> {
    let started = Instant::now();
    let config = RunConfig {
        seed: plan.seed,
        policy: sim_core::Policy::Choices { pids: plan.choices.clone() },
        ..RunConfig::default()
    };
    let mut replay = Simulation::from_program(plan.program.clone(), config);
    let mut runner = Runner {
        procs: BTreeMap::new(),
        sockets_in_flight: 0,
        namespace,
        scenario_cpu: info.scenario_cpu,
        program: plan.program.clone(),
        paths: paths.to_vec(),
        names: ProcessNames::default(),
        sim_statuses: BTreeMap::new(),
        buffer: Vec::new(),
        timers: BTreeMap::new(),
        refusal: None,
        lagged: None,
    };
    let (mut rows, steps_checked, interrupted) = runner.run(&mut replay, plan)?;
    // The IPC objects left behind, once every step matched (after a difference the two arms no longer
    // describe the same system): read before anything is torn down, while the run's processes, even
    // deadlocked ones, are still there.
    if !interrupted && rows.iter().all(|row| row.matches) && steps_checked == plan.sim_steps {
        let mut simulated = plan.leftovers.clone();
        // The test hook, one step past the last: the simulator expects one object more.
        if plan.perturb_step == Some(plan.sim_steps as u32 + 1) {
            simulated.push("message queue 99 (key 99) holding 0 messages".to_string());
        }
        let linux = match leftovers::real() {
            Ok(objects) => Obs::LeftBehind { objects },
            Err(detail) => Obs::Unclear { detail },
        };
        let simulator = Obs::LeftBehind { objects: simulated };
        if simulator != linux || !matches!(&linux, Obs::LeftBehind { objects } if objects.is_empty()) {
            rows.push(Row {
                step: plan.sim_steps as u32,
                pid: 0,
                process: "-".to_string(),
                call: "(the run's end) IPC objects left behind".to_string(),
                matches: simulator == linux,
                simulator,
                linux,
                linux_note: String::new(),
            });
        }
    }
    runner.close_channels();
    let first_difference = rows.iter().position(|row| !row.matches);
    for row in &mut rows {
        row.simulator.forget_full();
        row.linux.forget_full();
    }
    let explanation = first_difference.map(|index| {
        observe::explain(rows[index].step, &rows[index].process, &rows[index].simulator, &rows[index].linux)
    });
    let refusal = runner.refusal.take();
    let status = if refusal.is_some() {
        RunStatus::Refused
    } else {
        RunReport::status_of(first_difference.is_some(), interrupted, &plan.expectations)
    };
    Ok(RunReport {
        file: plan.file.clone(),
        title: plan.program.title.clone(),
        schedule: plan.label.clone(),
        seed: plan.seed,
        status,
        sim_steps: plan.sim_steps,
        trace_hash: Some(format!("{:016x}", plan.trace_hash)),
        steps_checked,
        sim_outcome: plan.outcome.name().to_string(),
        rows,
        first_difference,
        explanation,
        expectations: plan.expectations.clone(),
        refusal,
        lagged: runner.lagged.take(),
        spoiled_tries: Vec::new(),
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// Where a real process is, as far as the runner can tell without asking it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Alive,
    Dead,
    Reaped,
}

/// A reply, with what came along with it.
struct Message {
    reply: Reply,
    passed: Option<OwnedFd>,
    sender: Option<i32>,
}

/// A handler the simulator delivered, as Linux must show it when the handler starts.
#[derive(Clone, Debug)]
struct Frame {
    signal: u8,
    handler: u32,
    /// Its `siginfo_t` (`None` without `SA_SIGINFO`); `None` outside when the simulator's state no
    /// longer holds it (a handler that died before its first call).
    info: Option<Option<SigInfo>>,
    below: Below,
}

/// What a level owes the driver when the real process gets back to it.
#[derive(Clone, Debug)]
enum Owed {
    /// The result of its call, which it reports once the handlers above it have returned (or once it
    /// runs again after a stop).
    /// `cut_short` when a signal interrupted the call (its result is `EINTR`, a partial count, or the
    /// seconds glibc's `sleep` had left).
    Reply { op: u32, args: Args, result: Obs, cut_short: bool },
    /// Its call, which a handler interrupted and Linux rewound: it reports that it starts again.
    Restart { op: u32, args: Args },
}

/// One level of a real process: its own code (the bottom one), or a handler running on top.
#[derive(Clone, Debug, Default)]
struct Level {
    frame: Option<Frame>,
    /// Whether the handler's code has started (Linux runs only the innermost one of a batch of
    /// deliveries; the others start as the ones above them return).
    started: bool,
    /// The call it is inside (asleep in it, or about to be made again by the kernel after a stop).
    in_call: Option<(u32, Args)>,
    owed: Option<Owed>,
}

impl Level {
    fn own_code() -> Level {
        Level { started: true, ..Level::default() }
    }
}

struct RealProc {
    /// Its pid in the driver's namespace, for `/proc` (0 until it has said it is ready).
    outer_pid: i32,
    channel: Option<OwnedFd>,
    phase: Phase,
    replies: VecDeque<Message>,
    /// The real process's levels, as the simulator's events say they must be: its own code, then each
    /// handler running on top of it.
    levels: Vec<Level>,
    stopped: bool,
}

/// What the runner saw while waiting on a process.
enum Seen {
    Reply(Message),
    /// The process no longer exists: something reaped it (a parent that ignores `SIGCHLD` lets the
    /// kernel do so at once), so its status can no longer be read.
    Gone,
    Asleep(String),
    /// Waiting for its next command, with nothing to report.
    Rest,
    Dead(ChildStatus),
    Stopped,
    Running,
    Timeout(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// A message: a call's result, a handler starting or returning, a call starting again.
    Message,
    Block(Option<i64>),
    Death,
    Stop,
    Continue,
    Rest,
}

/// What Linux must show next for the process whose step it is.
#[derive(Clone, Debug)]
enum Await {
    Message(Obs),
    /// Asleep in the call `op`.
    Block(u32),
    Death(ChildStatus),
    Stop,
    Rest,
}

impl Await {
    fn obs(&self) -> Obs {
        match self {
            Await::Message(obs) => obs.clone(),
            Await::Block(_) => Obs::Blocked,
            Await::Death(status) => Obs::Died { status: *status },
            Await::Stop => Obs::Stopped,
            Await::Rest => Obs::Rests,
        }
    }
}

struct Runner<'n> {
    /// By pid, which is the same in the simulator and in the run's namespace.
    procs: BTreeMap<Pid, RealProc>,
    /// Unix-domain sockets held only by messages in flight after the last step, in the simulator.
    sockets_in_flight: u32,
    namespace: &'n mut Namespace,
    scenario_cpu: usize,
    program: Arc<Program>,
    paths: Vec<Vec<u8>>,
    names: ProcessNames,
    /// The status each process died with in the simulator.
    sim_statuses: BTreeMap<Pid, ChildStatus>,
    buffer: Vec<u8>,
    /// The real timers standing for the simulator's, by the simulator's timer: its process, whether it
    /// is an alarm, and when it fires in simulated time.
    timers: BTreeMap<TimerKey, RealTimer>,
    /// Why the run cannot be checked after all (the host was too slow for the time scale).
    refusal: Option<String>,
    /// The first step after which the real run was behind the simulator's clock by more than the
    /// rounding margins assume, with the figures (see [`Runner::measure_lag`]).
    lagged: Option<String>,
}

/// A simulator's timer: its process, whether it is an alarm, and when it fires in simulated time.
type TimerKey = (Pid, bool, u64);

/// The keys of the simulator's pending timers.
fn timer_keys(kernel: &Kernel) -> Vec<TimerKey> {
    kernel
        .timers
        .iter()
        .map(|timer| (timer.pid, timer.kind == sim_core::kernel::time::TimerKind::Alarm, timer.at))
        .collect()
}

/// When a real timer fires, as far as the driver knows: not before `earliest` (its duration after the
/// step that set it began), and not after `latest` (its duration after that step's call was seen made).
#[derive(Clone, Copy, Debug)]
struct RealTimer {
    earliest: Instant,
    latest: Instant,
    /// The step that set it.
    step: u32,
    /// When that step began, in real time and on the simulator's clock.
    set_real: Instant,
    set_sim: u64,
    /// A TCP client's SYN retransmission (Linux's own timer, unscaled).
    syn: bool,
}

impl RealTimer {
    /// A timer that fires at `at` on the simulator's clock, set by step `step`, which began at `started`
    /// (real) and `now_before` (simulated) and whose call was seen made at `seen`. A TCP SYN's timer is
    /// Linux's own, which no scale reaches: its real duration is the simulated one.
    fn set(at: u64, syn: bool, step: u32, started: Instant, now_before: u64, seen: Instant) -> RealTimer {
        let simulated = at.saturating_sub(now_before);
        let duration = if syn { Duration::from_nanos(simulated) } else { real_duration(simulated) };
        RealTimer {
            earliest: started + duration,
            latest: seen + duration,
            step,
            set_real: started,
            set_sim: now_before,
            syn,
        }
    }
}

/// How long after a real timer's latest deadline the driver waits for what it does (waking a sleeper,
/// `SIGALRM`, which Linux does from the timer interrupt) when it cannot see it happen (an ignored
/// `SIGALRM`), and at most when it can.
const TIMER_MARGIN: Duration = Duration::from_millis(5);
/// How long after a SYN retransmission's latest time the driver waits before the next step.
const SYN_TIMER_MARGIN: Duration = Duration::from_millis(30);
/// How long after that the driver waits, at most, to see a process the retransmission woke woken: eight
/// times the latest seen on a loaded host (31 ms), and a quarter of the shortest gap between two of
/// Linux's retransmissions (1 s), so that a model that put one at the wrong time is still caught.
const SYN_EVIDENCE_TIMEOUT: Duration = Duration::from_millis(250);
/// A segment's SYN and ACK bits: a SYN alone is a client's.
const SYN_ONLY: u8 = sim_core::trace::SEGMENT_SYN | sim_core::trace::SEGMENT_ACK;
use sim_core::trace::SEGMENT_SYN;
const TIMER_EVIDENCE_TIMEOUT: Duration = Duration::from_millis(50);

/// How close (in simulated time) a time left may come to the point where its rounding changes before
/// real timers can no longer be trusted to put it on the same side: 0.1 s (10 ms of real time) for the
/// timers themselves, and 0.04 s (4 ms of real time) for each step taken since the timer was set, as a
/// real step takes real time where a simulated one takes a microsecond.
const ROUNDING_MARGIN_NS: u64 = 100_000_000;
const ROUNDING_MARGIN_PER_STEP_NS: u64 = 40_000_000;

/// The times a process's next step may give back rounded: what its alarm has left (`alarm` returns it,
/// rounded to the nearest second) and when the sleep it is in ends (glibc's `sleep` cut short returns
/// the whole seconds left).
struct TimeLeft {
    alarm_at: Option<u64>,
    sleep_until: Option<u64>,
}

impl TimeLeft {
    fn of(kernel: &Kernel, pid: Pid) -> TimeLeft {
        let alarm_at = kernel
            .timers
            .iter()
            .find(|timer| timer.pid == pid && timer.kind == sim_core::kernel::time::TimerKind::Alarm)
            .map(|timer| timer.at);
        let sleep_until = match kernel.process(pid).call.scratch {
            sim_core::kernel::process::Scratch::Until(until) => Some(until),
            _ => None,
        };
        TimeLeft { alarm_at, sleep_until }
    }

    /// The keys of the timers these times left are counted against.
    fn keys(&self, pid: Pid) -> impl Iterator<Item = TimerKey> {
        let alarm = self.alarm_at.map(|at| (pid, true, at));
        let sleep = self.sleep_until.map(|until| (pid, false, until));
        alarm.into_iter().chain(sleep)
    }

    /// Why the step's rounded time left cannot be checked on real timers, if it cannot: the simulated
    /// time left lies within [`ROUNDING_MARGIN_NS`] of a point where its rounding changes. Real time
    /// runs on between a timer's setting and its reading (real steps take milliseconds where simulated
    /// ones take a microsecond), so Linux's time left is the simulator's give or take that much, and
    /// its rounded value could fall on either side. Decided from the simulator's state alone, so the
    /// same run is always refused the same way.
    /// `margins`: for the alarm and for the sleep, how close is too close (see [`ROUNDING_MARGIN_NS`]).
    fn too_close(
        &self,
        events: &[sim_core::Event],
        program: &Program,
        pid: Pid,
        now: u64,
        margins: (u64, u64),
    ) -> Option<String> {
        let id_of = |op: u32| program.call(op).map(|call| call.id);
        for event in events {
            match &event.kind {
                EventKind::Call { pid: caller, op, .. } if *caller == pid && id_of(*op) == Some(CallId::Alarm) => {
                    let left = self.alarm_at?.saturating_sub(now);
                    // `alarm` rounds to the nearest second: its result changes at each half second.
                    let fraction = left % 1_000_000_000;
                    let distance = fraction.abs_diff(500_000_000);
                    if distance < margins.0 {
                        return Some(format!(
                            "the old alarm has {} s left, within {} s of the half second where alarm's rounding \
                             changes; real timers (scaled 1/{}) cannot be trusted to round it the same way, so \
                             this run is not checked further (see docs/conformance.md, \"Time\")",
                            seconds_text(left),
                            seconds_text(margins.0),
                            real::time::TIME_DIVISOR
                        ));
                    }
                }
                EventKind::Interrupted {
                    pid: caller, op, outcome: sim_core::trace::CallInterrupted::Partial, ..
                } if *caller == pid && id_of(*op) == Some(CallId::Sleep) => {
                    let left = self.sleep_until?.saturating_sub(now);
                    // glibc's `sleep` drops the fraction: its result changes at each whole second.
                    let fraction = left % 1_000_000_000;
                    let distance = fraction.min(1_000_000_000 - fraction);
                    if distance < margins.1 {
                        return Some(format!(
                            "the sleep cut short has {} s left, within {} s of a whole second, where the \
                             seconds glibc's sleep returns change; real timers (scaled 1/{}) cannot be trusted \
                             to round it the same way, so this run is not checked further (see \
                             docs/conformance.md, \"Time\")",
                            seconds_text(left),
                            seconds_text(margins.1),
                            real::time::TIME_DIVISOR
                        ));
                    }
                }
                _ => {}
            }
        }
        None
    }
}

/// The command for operation `op` of `program` with operands `args`: each operand's value, plus a
/// payload, or the real path standing in for a scenario path (`paths`, by the program's path index).
pub fn call_command(program: &Program, paths: &[Vec<u8>], op: u32, args: &Args) -> Option<CallCommand> {
    let call: &CallOp = program.call(op)?;
    let kinds = call.id.spec().operands;
    let operands = call
        .operands
        .iter()
        .enumerate()
        .map(|(index, operand)| WireOperand {
            value: args.get(index),
            attachment: match operand {
                Operand::Value { .. } | Operand::Sembuf { .. } | Operand::List { .. } => None,
                Operand::Payload(payload) => Some(Attachment::Payload((**payload).clone())),
                // The name of a POSIX queue or semaphore goes as written: the run's own IPC
                // namespace and `/dev/shm` keep it apart from the host's.
                Operand::Path(path) if kinds[index].kind == OperandKind::Name => {
                    program.paths.get(*path as usize).map(|name| Attachment::Path(name.as_bytes().to_vec()))
                }
                Operand::Path(path) => paths.get(*path as usize).cloned().map(Attachment::Path),
            },
        })
        .collect();
    Some(CallCommand { id: call.id, op, operands })
}

/// Simulated time in seconds, to the microsecond: `6.999998`.
fn seconds_text(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1_000)
}

/// The longest a run's timers may take in real time (10 minutes of simulated time).
const MAX_REAL_TIME: Duration = Duration::from_secs(60);

/// How long a run's timers take to replay in real time: the simulator's clock scaled (see
/// `real::time::TIME_DIVISOR`), but whole in a run where a TCP client's SYN was dropped, whose waits
/// are Linux's own timers (counted whole for the entire run, which errs on the long side).
fn replay_time(trace: &sim_core::Trace, now: u64) -> Duration {
    let dropped = trace.events.iter().any(
        |event| matches!(event.kind, EventKind::Segment { flags, .. } if flags & sim_core::trace::SEGMENT_DROPPED != 0),
    );
    if dropped {
        Duration::from_nanos(now)
    } else {
        real_duration(now)
    }
}

/// A simulated duration as real time (see `real::time::TIME_DIVISOR`).
fn real_duration(simulated_ns: u64) -> Duration {
    Duration::from_nanos(simulated_ns / real::time::TIME_DIVISOR as u64)
}

impl Runner<'_> {
    /// Starts the processes, takes every step, and checks the end. Returns the rows, the steps checked,
    /// and whether a stop signal cut the run short.
    fn run(&mut self, replay: &mut Simulation, plan: &Plan) -> Result<(Vec<Row>, u64, bool), String> {
        let mut rows = Vec::new();
        let setup: Vec<sim_core::Event> = replay.trace().events.clone();
        for event in &setup {
            self.names.observe(&self.program, event);
        }
        // Top-level processes, in the simulator's order: `init`'s children, pids 2, 3, ...
        for event in &setup {
            if let EventKind::Spawn { pid, index } = event.kind {
                self.start_top_level(pid, index)?;
            }
        }
        // `init` leaves the scenario's session, as a real init leads its own.
        match protocol::decode_reply(&self.namespace.ask_init(&Command::NewSession)?.bytes) {
            Ok(Reply::Value(1)) => {}
            other => return Err(format!("init could not start a session of its own: {other:?}")),
        }
        // What happened as they started (a division by zero before the first call).
        let expected = expected_of(&setup, replay.trace(), None);
        if self.aftermath(0, &expected, &mut rows)? {
            return Ok((rows, 0, false));
        }
        let mut steps_checked = 0;
        for (index, actor) in plan.choices.iter().copied().enumerate() {
            if crate::stop::stop_requested().is_some() {
                return Ok((rows, steps_checked, true));
            }
            let step = index as u32 + 1;
            if let Some((_, pause)) = plan.stall.filter(|(at, _)| *at == step) {
                std::thread::sleep(pause);
            }
            // The timers pending before the step, and those whose time left the step may give back: a
            // sleep that a signal cut short no longer has a timer, yet the step that returns from it
            // gives back the time it had left, which a host that kept the woken process from running
            // (a stall after the signal) shortens on Linux alone.
            let mut pending = timer_keys(replay.kernel());
            for key in TimeLeft::of(replay.kernel(), actor).keys(actor) {
                if !pending.contains(&key) {
                    pending.push(key);
                }
            }
            let now_before = replay.kernel().now();
            let step_started = Instant::now();
            let differs = self.step(replay, step, actor, plan.perturb_step == Some(step), &mut rows)?;
            steps_checked += 1;
            if differs || self.refusal.is_some() {
                // Whether the host had stalled the run past the margins by the time the step's call
                // was made: the timers pending before the step, now.
                self.measure_lag(&pending, now_before, step, "during");
                // A timer the step itself set (a timed wait's timeout) is not among them: if the real
                // step took longer than the margin, that timer may have fired on Linux before the
                // driver saw the call asleep, where the simulator fires it in the jump after the step.
                let timed = !pending.is_empty()
                    || !replay.kernel().timers.is_empty()
                    || replay.kernel().now() != now_before + sim_core::kernel::time::STEP_NS;
                let took = step_started.elapsed();
                if timed && took > real_duration(ROUNDING_MARGIN_NS) && self.lagged.is_none() {
                    self.lagged = Some(format!(
                        "step {step} took {:.1} ms of real time in a run with timers (scaled 1/{}), where the time \
                         margins allow {:.1} ms",
                        took.as_secs_f64() * 1000.0,
                        real::time::TIME_DIVISOR,
                        real_duration(ROUNDING_MARGIN_NS).as_secs_f64() * 1000.0,
                    ));
                }
                return Ok((rows, steps_checked, false));
            }
            // The timers pending before the step, now: one the step ended (a signal that cuts a
            // `sleep` short cancels its timer) is no longer pending after it, yet a stall during the step
            // went into the time it left, which a later step returns.
            self.measure_lag(&pending, replay.kernel().now(), step, "after");
        }
        self.check_end(replay, &plan.outcome, plan.sim_steps as u32, &mut rows);
        Ok((rows, steps_checked, false))
    }

    /// `init` forks top-level process `index`, which must get pid `pid` in the namespace.
    fn start_top_level(&mut self, pid: Pid, index: u32) -> Result<(), String> {
        let handlers = self.program.handlers.len() as u32;
        let received = self.namespace.ask_init(&Command::SpawnTop { index, handlers })?;
        let child = match protocol::decode_reply(&received.bytes) {
            Ok(Reply::Forked { child }) => child,
            other => return Err(format!("init could not start top-level process {index}: {other:?}")),
        };
        if child as Pid != pid {
            return Err(format!(
                "top-level process {index} got pid {child} in the run's namespace where the simulator gives it pid \
                 {pid}: something else made a process there"
            ));
        }
        let channel = received.passed.ok_or("init passed no control socket for its child")?;
        self.add(pid, channel);
        self.wait_ready(pid)?;
        self.hold(pid)
    }

    /// Gives a new process the scenario CPU, held back at the dormant priority.
    fn hold(&self, pid: Pid) -> Result<(), String> {
        let outer = self.procs.get(&pid).map_or(0, |proc| proc.outer_pid);
        if outer <= 0 {
            // Never 0: that would move the driver itself onto the scenario CPU, under the spinner.
            return Err(format!("process {pid}'s pid outside the run's namespace is unknown"));
        }
        host::set_affinity(outer, &[self.scenario_cpu])?;
        host::set_fifo(outer, DORMANT_PRIORITY)
    }

    fn add(&mut self, pid: Pid, channel: OwnedFd) {
        self.procs.insert(
            pid,
            RealProc {
                outer_pid: 0,
                channel: Some(channel),
                phase: Phase::Alive,
                replies: VecDeque::new(),
                levels: vec![Level::own_code()],
                stopped: false,
            },
        );
    }

    /// Waits for a new process's first message, which says its pid (inside) and, through the kernel's
    /// credentials, its pid outside; `/proc` must agree that the one is the other.
    fn wait_ready(&mut self, pid: Pid) -> Result<(), String> {
        match self.watch(pid, Want::Message) {
            Seen::Reply(Message { reply: Reply::Ready { pid: inner }, sender: Some(outer), .. }) => {
                if inner as Pid != pid {
                    return Err(format!("process {pid} says its pid is {inner}"));
                }
                let seen = host::namespace_pids(outer);
                if outer <= 0 || seen.last() != Some(&inner) || seen.first() != Some(&outer) {
                    return Err(format!(
                        "process {pid}'s credentials name pid {outer} outside the run's namespace, whose \
                         /proc/{outer}/status says NSpid {seen:?}"
                    ));
                }
                if let Some(proc) = self.procs.get_mut(&pid) {
                    proc.outer_pid = outer;
                }
                Ok(())
            }
            _ => Err(format!("process {pid} did not start")),
        }
    }

    fn set_priority(&self, pid: Pid, priority: i32) {
        if let Some(proc) = self.procs.get(&pid) {
            if proc.phase == Phase::Alive && proc.outer_pid > 0 {
                let _ = host::set_fifo(proc.outer_pid, priority);
            }
        }
    }

    fn call_command(&self, op: u32, args: &Args) -> Option<CallCommand> {
        call_command(&self.program, &self.paths, op, args)
    }

    /// The text of a call as the trace writes it.
    fn call_words(&self, op: u32, args: &Args) -> String {
        call_text(&self.program, op, args)
    }

    fn handler_name(&self, handler: u32) -> String {
        self.program.handlers.get(handler as usize).map_or_else(|| format!("#{handler}"), |code| code.name.to_string())
    }

    /// What Linux must have the code below a new handler doing: the handler's frame saves it. A call
    /// the kernel was to make again (after a stop) becomes a call the handler interrupted.
    fn point_below(&mut self, pid: Pid) -> Below {
        let Some(top) = self.procs.get_mut(&pid).and_then(|proc| proc.levels.last_mut()) else {
            return Below::NotInCall;
        };
        if top.frame.is_some() && !top.started {
            return Below::NotInCall;
        }
        if let Some((op, args)) = top.in_call.take() {
            top.owed = Some(Owed::Restart { op, args });
        }
        match &top.owed {
            // glibc's `sleep` makes the seconds it had left out of the `EINTR` of the system call below,
            // which is what the handler's frame holds.
            Some(Owed::Reply { op, cut_short: true, .. })
                if self.program.call(*op).map(|call| call.id) == Some(CallId::Sleep) =>
            {
                Below::Returned { value: -(libc::EINTR as i64) }
            }
            Some(Owed::Reply { result: Obs::Returned { result }, .. }) => Below::Returned { value: raw_value(result) },
            Some(Owed::Restart { .. }) => Below::Restart,
            _ => Below::NotInCall,
        }
    }

    fn push_frame(&mut self, pid: Pid, frame: Frame) {
        if let Some(proc) = self.procs.get_mut(&pid) {
            proc.levels.push(Level { frame: Some(frame), ..Level::default() });
        }
    }

    /// What the process shows once it returns to user mode at its top level: the handler starting, the
    /// result its level owes, asleep in its call, or nothing. With a label for the report.
    fn flush(&mut self, pid: Pid) -> Option<(String, Await)> {
        let top = self.procs.get_mut(&pid)?.levels.last_mut()?;
        if let Some((op, _)) = top.in_call {
            let args = top.in_call.map(|(_, args)| args).unwrap_or_default();
            let label = format!("({} goes on)", call_text(&self.program, op, &args));
            return Some((label, Await::Block(op)));
        }
        if let (Some(frame), false) = (&top.frame, top.started) {
            top.started = true;
            let frame = frame.clone();
            let label =
                format!("(runs its {} handler {})", signal_words(frame.signal), self.handler_name(frame.handler));
            let info = frame.info.unwrap_or(None);
            return Some((label, Await::Message(Obs::Handler { signal: frame.signal, info, below: frame.below })));
        }
        match top.owed.take() {
            Some(Owed::Reply { op, args, result, .. }) => {
                Some((format!("({} returns)", call_text(&self.program, op, &args)), Await::Message(result)))
            }
            Some(Owed::Restart { op, args }) => {
                Some((format!("({} starts again)", call_text(&self.program, op, &args)), Await::Message(Obs::Restarts)))
            }
            None => Some((String::new(), Await::Rest)),
        }
    }

    /// The `siginfo_t` of a handler delivered before the step's call: the oldest instance of the signal
    /// queued before the step (`dequeue_signal`), with `SA_SIGINFO` as the action said.
    fn info_before(queue: &mut Vec<Queued>, actions: &SignalState, signal: u8) -> Option<Option<SigInfo>> {
        let index = queue.iter().position(|queued| queued.signal.0 == signal)?;
        let queued = queue.remove(index);
        let flags = match actions.action(Signal(signal)) {
            Action::Handler { flags, .. } => flags,
            _ => 0,
        };
        Some((flags & SA_SIGINFO != 0).then_some(SigInfo {
            pid: queued.from as i64,
            value: queued.value,
            code: queued.code,
        }))
    }

    /// The `siginfo_t` of the `index`-th of `count` handlers delivered after the step's call, from the
    /// simulator's state after the step: the innermost one's is in the signal variables, each other's
    /// in the frame above it (which saved them).
    fn info_after(
        kernel: &Kernel,
        before: &SignalState,
        program: &Program,
        pid: Pid,
        signal: u8,
        index: usize,
        count: usize,
    ) -> Option<Option<SigInfo>> {
        let process = kernel.process(pid);
        let frames = &process.sig.frames;
        let slots = program.signal_slots?;
        let at = frames.len().checked_sub(count)? + index;
        let frame = frames.get(at)?;
        if frame.signal.0 != signal {
            return None;
        }
        let values = match frames.get(at + 1) {
            Some(above) => above.saved_info,
            None => [slots.signo, slots.si_pid, slots.si_value, slots.si_code].map(|slot| process.vars[slot as usize]),
        };
        let flags = [&process.sig, before]
            .iter()
            .find_map(|signals| match signals.action(Signal(signal)) {
                Action::Handler { handler, flags, .. } if handler == frame.handler => Some(flags),
                _ => None,
            })
            .unwrap_or(0);
        Some((flags & SA_SIGINFO != 0).then_some(SigInfo { pid: values[1], value: values[2], code: values[3] }))
    }

    /// One step of the schedule on both arms. Returns true when the step differs.
    ///
    /// The simulator's step is read as what the real process must show, in order ([`Await`]): first
    /// what Linux does as soon as the process runs (it takes the signals that came while it was away:
    /// it stops, dies, or starts a handler, or it reports a result it owed since it stopped); then the
    /// command for its call, and what the call and the signals taken as it returns lead to.
    fn step(
        &mut self,
        replay: &mut Simulation,
        step: u32,
        actor: Pid,
        perturb_here: bool,
        rows: &mut Vec<Row>,
    ) -> Result<bool, String> {
        if !self.procs.contains_key(&actor) {
            return Err(format!("step {step}: the simulator's process {actor} has no real process"));
        }
        let signals_before = replay.kernel().process(actor).sig.clone();
        let step_started = Instant::now();
        let now_before = replay.kernel().now();
        let time_left_before = TimeLeft::of(replay.kernel(), actor);
        // A call woken up is tried again before any signal is taken (`Kernel::step`).
        let retrying = replay.kernel().process(actor).call.waited;
        // The call the actor is about to make, if it makes a new one: a `sigsuspend` that lets a pending
        // signal through dies of it in the call, with no event of the call in the trace.
        let next_call = if retrying || replay.kernel().process(actor).call.restart {
            None
        } else {
            replay.kernel().next_op(actor).zip(replay.kernel().next_args(actor))
        };
        let mut queue_before = signals_before.queue.clone();
        let before = replay.trace().events.len();
        replay.step().map_err(|error| error.to_string())?;
        let events = replay.trace().events[before..].to_vec();
        for event in &events {
            self.names.observe(&self.program, event);
        }
        let steps_since = |alarm: bool, at: u64| {
            self.timers.get(&(actor, alarm, at)).map_or(0, |timer| step.saturating_sub(timer.step) as u64)
        };
        let margins = (
            time_left_before.alarm_at.map_or(0, |at| steps_since(true, at)),
            time_left_before.sleep_until.map_or(0, |at| steps_since(false, at)),
        );
        let margins = (
            ROUNDING_MARGIN_NS + ROUNDING_MARGIN_PER_STEP_NS * margins.0,
            ROUNDING_MARGIN_NS + ROUNDING_MARGIN_PER_STEP_NS * margins.1,
        );
        if let Some(reason) = time_left_before.too_close(&events, &self.program, actor, now_before, margins) {
            self.refusal = Some(format!("step {step}, {}: {reason}", self.names.process(actor)));
            return Ok(false);
        }
        let expected = expected_of(&events, replay.trace(), Some(actor));
        let kernel = replay.kernel();
        let moves = expected.moves.clone();
        // A `sigsuspend` woken by a signal its mask no longer lets through starts again to take one its
        // caller's own mask lets through: the handler runs over the call to start again, as the process
        // runs.
        let restarted_for_delivery = retrying
            && matches!(
                (moves.first(), moves.get(1)),
                (Some(Move::Interrupted { op, outcome: CallInterrupted::Restart }), Some(Move::Deliver { .. }))
                    if self.top(actor).and_then(|top| top.in_call).map(|(waiting, _)| waiting) == Some(*op)
            );
        let split = if restarted_for_delivery {
            1 + moves[1..].iter().position(|step| !matches!(step, Move::Deliver { .. })).unwrap_or(moves.len() - 1)
        } else if retrying {
            0
        } else {
            // A call that a stop interrupted and that was to start again ends as a handler is delivered
            // first (`EINTR`, or what glibc's `sleep` had left): that comes with the delivery, before
            // anything the step makes.
            let waiting = self.top(actor).and_then(|top| top.in_call).map(|(op, _)| op);
            let ended_by_delivery = match (moves.first(), moves.get(1), moves.get(2)) {
                (
                    Some(Move::Interrupted { op, .. }),
                    Some(Move::Completed { op: completed, .. }),
                    Some(Move::Deliver { .. }),
                ) => op == completed && waiting == Some(*op),
                _ => false,
            };
            let start = if ended_by_delivery { 2 } else { 0 };
            start
                + moves[start..]
                    .iter()
                    .position(|step| !matches!(step, Move::Deliver { .. }))
                    .unwrap_or(moves.len() - start)
        };
        let (pre, rest) = moves.split_at(split);
        let status_of_death = || {
            moves.iter().find_map(|step| match step {
                Move::Died { status } => Some(*status),
                _ => None,
            })
        };

        // Before the call: what Linux does as soon as the process runs.
        let mut before_command: Vec<(String, Await)> = Vec::new();
        let mut ended = false;
        let mut killed_in_call = None;
        let mut cut_short_before = None;
        for event in pre {
            let (signal, delivery) = match event {
                Move::Deliver { signal, delivery } => (signal, delivery),
                Move::Interrupted { op, .. } => {
                    cut_short_before = Some(*op);
                    continue;
                }
                Move::Completed { op, args, result } => {
                    let cut_short = cut_short_before == Some(*op);
                    if let Some(top) = self.top(actor) {
                        top.in_call = None;
                        top.owed = Some(Owed::Reply { op: *op, args: *args, result: result.clone(), cut_short });
                    }
                    continue;
                }
                _ => continue,
            };
            match delivery {
                Delivery::Handler { handler } => {
                    let info = Self::info_before(&mut queue_before, &signals_before, *signal);
                    let below = self.point_below(actor);
                    self.push_frame(actor, Frame { signal: *signal, handler: *handler, info, below });
                }
                Delivery::Stopped => {
                    ended = true;
                    self.set_stopped(actor, true);
                    before_command.push((format!("(takes {}: stops)", signal_words(*signal)), Await::Stop));
                }
                Delivery::Terminated { .. } | Delivery::Dumped => {
                    if let Some(status) = status_of_death() {
                        ended = true;
                        // A signal the actor's mask held back before the step was let through by its call:
                        // a `sigsuspend` (`rt_sigsuspend` sets the temporary mask, and the signal kills on
                        // the way out of the call). Linux must make the call to die of it.
                        let blocked_before =
                            signals_before.blocked & sim_core::linux::signal::Signal(*signal).mask_bit() != 0;
                        let suspends = next_call
                            .filter(|(op, _)| self.program.call(*op).is_some_and(|call| call.id == CallId::Sigsuspend));
                        match suspends {
                            Some((op, args)) if blocked_before => killed_in_call = Some((op, args, *signal, status)),
                            _ => before_command
                                .push((format!("(takes {}: dies)", signal_words(*signal)), Await::Death(status))),
                        }
                    }
                }
                // Linux sends it to the address, where it faults: the `SIGSEGV` that kills it follows.
                Delivery::Ignored | Delivery::Discarded | Delivery::Stray { .. } => {}
            }
        }
        if !ended {
            self.set_stopped(actor, false);
            let pending = self.procs.get(&actor).and_then(|proc| proc.levels.last()).is_some_and(|top| {
                top.in_call.is_none() && (top.owed.is_some() || (top.frame.is_some() && !top.started))
            });
            if pending {
                if let Some(shown) = self.flush(actor) {
                    before_command.push(shown);
                }
            }
        }

        // The call, and what follows it.
        let mut command = None;
        let mut after_command: Vec<(String, Await)> = Vec::new();
        let mut post_fault = None;
        let mut fault_first = false;
        if !ended {
            let in_call = self.top(actor).is_some_and(|top| top.in_call.is_some());
            let first = rest.iter().find(|step| !matches!(step, Move::Deliver { .. } | Move::Died { .. }));
            let call_label = match first {
                Some(Move::Completed { op, args, .. } | Move::Blocked { op, args }) => {
                    if !in_call {
                        command = self.call_command(*op, args).map(Command::Call);
                    }
                    self.call_words(*op, args)
                }
                Some(Move::Interrupted { op, .. }) => match self.top(actor).and_then(|top| top.in_call) {
                    // A call woken up and tried again.
                    Some((_, args)) => self.call_words(*op, &args),
                    // A new call that would sleep with a signal to take (`sigsuspend` unblocking one):
                    // its operands are those its completion records, or those it is to restart with.
                    None => {
                        let args = rest
                            .iter()
                            .find_map(|step| match step {
                                Move::Completed { op: completed, args, .. } if completed == op => Some(*args),
                                _ => None,
                            })
                            .unwrap_or(kernel.process(actor).call.args);
                        command = self.call_command(*op, &args).map(Command::Call);
                        if let Some(top) = self.top(actor) {
                            top.in_call = Some((*op, args));
                        }
                        self.call_words(*op, &args)
                    }
                },
                Some(Move::Sigreturn { signal }) => {
                    command = Some(Command::Return);
                    format!("rt_sigreturn() at the end of its {} handler", signal_words(*signal))
                }
                Some(Move::Forked { op, .. }) => {
                    command = Some(Command::Fork { op: *op });
                    self.call_words(*op, &Args::default())
                }
                Some(Move::Fault { op }) => match self.program.call(*op) {
                    // A memory instruction or a semaphore call that faults: the real process makes the
                    // access, and takes the real fault. Its operands are what its variables held (a fault
                    // changes none).
                    Some(call) if faults_in_user_space(call.id) => {
                        let mut args = Args::default();
                        let vars = &kernel.process(actor).vars;
                        if sim_core::kernel::resolve_args(call, vars, actor, &mut args).is_ok() {
                            command = self.call_command(*op, &args).map(Command::Call);
                        }
                        fault_first = true;
                        self.fault_text(*op)
                    }
                    _ => {
                        command = Some(Command::Fault { op: *op });
                        self.fault_text(*op)
                    }
                },
                Some(Move::ImplicitExit) => {
                    command = Some(Command::Exit { status: 0 });
                    "exit(0) at the end of its code".to_string()
                }
                // A call woken up, then ended by a signal that kills.
                Some(Move::Deliver { .. } | Move::Died { .. }) | None => {
                    let top_call = self.top(actor).and_then(|top| top.in_call);
                    top_call.map_or_else(String::new, |(op, args)| self.call_words(op, &args))
                }
            };
            fault_first |= matches!(command, Some(Command::Fault { .. }));
            let mut post_index = 0;
            let post_handlers = rest
                .iter()
                .filter(|step| matches!(step, Move::Deliver { delivery: Delivery::Handler { .. }, .. }))
                .count();
            let mut dead = None;
            let mut stopped = false;
            let mut cut_short = None;
            for event in rest {
                match event {
                    Move::Completed { op, args, result } => {
                        let cut_short = cut_short == Some(*op);
                        if let Some(top) = self.top(actor) {
                            top.in_call = None;
                            top.owed = Some(Owed::Reply { op: *op, args: *args, result: result.clone(), cut_short });
                        }
                    }
                    Move::Blocked { op, args } => {
                        if let Some(top) = self.top(actor) {
                            top.in_call = Some((*op, *args));
                            top.owed = None;
                        }
                    }
                    // The call stays in progress: restarted, or completed by the `Completed` that follows.
                    Move::Interrupted { op, .. } => cut_short = Some(*op),
                    Move::ImplicitExit => {}
                    Move::Sigreturn { signal } => {
                        if let Some(proc) = self.procs.get_mut(&actor) {
                            if proc.levels.len() > 1 {
                                proc.levels.pop();
                            }
                        }
                        after_command.push((call_label.clone(), Await::Message(Obs::Sigreturn { signal: *signal })));
                    }
                    Move::Forked { op, child } => {
                        if let Some(top) = self.top(actor) {
                            top.owed = Some(Owed::Reply {
                                op: *op,
                                args: Args::default(),
                                result: Obs::Returned { result: Res::Fork { child: *child } },
                                cut_short: false,
                            });
                        }
                    }
                    Move::Deliver { signal, delivery } => match delivery {
                        Delivery::Handler { handler } => {
                            let info = Self::info_after(
                                kernel,
                                &signals_before,
                                &self.program,
                                actor,
                                *signal,
                                post_index,
                                post_handlers,
                            );
                            post_index += 1;
                            let below = self.point_below(actor);
                            self.push_frame(actor, Frame { signal: *signal, handler: *handler, info, below });
                        }
                        Delivery::Stopped => stopped = true,
                        Delivery::Terminated { .. }
                        | Delivery::Dumped
                        | Delivery::Ignored
                        | Delivery::Discarded
                        | Delivery::Stray { .. } => {}
                    },
                    Move::Died { status } => dead = Some(*status),
                    Move::Fault { op } if !fault_first => post_fault = Some(*op),
                    Move::Fault { .. } => {}
                }
            }
            // A fault kills, or runs a handler (shown as any handler's start is).
            let fault_death = expected.exits.iter().find(|(pid, _)| *pid == actor).map(|(_, status)| *status);
            if let (true, Some(status)) = (fault_first, fault_death) {
                after_command.push((call_label.clone(), Await::Death(status)));
            } else if let Some(status) = dead {
                after_command.push((call_label.clone(), Await::Death(status)));
            } else if stopped {
                self.set_stopped(actor, true);
                after_command.push((call_label.clone(), Await::Stop));
            } else if let Some((label, shown)) = self.flush(actor) {
                // The first thing Linux shows after the command is the step's call's row.
                let label = if after_command.is_empty() { call_label.clone() } else { label };
                after_command.push((label, shown));
            }
        }

        if let Some((op, args, signal, status)) = killed_in_call {
            command = self.call_command(op, &args).map(Command::Call);
            let label = format!("{} (takes {}: dies)", self.call_words(op, &args), signal_words(signal));
            after_command.push((label, Await::Death(status)));
        }

        // Linux's step: let the actor run, send its command, and see each thing it must show.
        self.set_priority(actor, ACTIVE_PRIORITY);
        let mut differs = false;
        let mut forked_ok = false;
        let mut first = true;
        let plan: Vec<(bool, String, Await)> = before_command
            .into_iter()
            .map(|(label, shown)| (false, label, shown))
            .chain(after_command.into_iter().map(|(label, shown)| (true, label, shown)))
            .collect();
        let mut sent = command.is_none();
        for (needs_command, label, shown) in plan {
            if needs_command && !sent {
                if let Some(command) = &command {
                    self.send(actor, command);
                }
                sent = true;
            }
            let mut simulator = shown.obs();
            if perturb_here && first {
                simulator = perturb(&simulator);
            }
            first = false;
            let want = match &shown {
                Await::Message(_) => Want::Message,
                Await::Block(op) => {
                    Want::Block(self.program.call(*op).and_then(|call| real::blocking_syscall(call.id)))
                }
                Await::Death(_) => Want::Death,
                Await::Stop => Want::Stop,
                Await::Rest => Want::Rest,
            };
            let forked = match &simulator {
                Obs::Returned { result: Res::Fork { child } } => Some(*child),
                _ => None,
            };
            let seen = self.watch(actor, want);
            let (mut linux, note) = self.observe(actor, seen, forked);
            accept_gone(&mut linux, &simulator, actor, &expected);
            // A handler whose siginfo the simulator's state no longer holds compares on the rest.
            if let (Obs::Handler { info: expected_info, signal, .. }, Obs::Handler { info: linux_info, .. }) =
                (&mut simulator, &linux)
            {
                if self.unknown_info(actor, *signal) {
                    *expected_info = *linux_info;
                }
            }
            if forked.is_some() && linux == simulator {
                forked_ok = true;
            }
            // Resting after a handler returns is the expected silence: a row only if Linux says more.
            if matches!(shown, Await::Rest) && linux == Obs::Rests {
                continue;
            }
            differs |= self.push(rows, step, actor, label, simulator, linux, note);
            if differs {
                self.set_priority(actor, DORMANT_PRIORITY);
                // A timed wait so short that its real timer had run out before the driver could see the
                // call asleep (a `semtimedop` of 855 microseconds is 85 real ones): the simulator's call
                // sleeps, Linux's has already given up with the call's own timeout result. That is the
                // time scale's doing, not the model's: any other difference still stands.
                if let Some(reason) = self.timed_out_unseen(replay.kernel(), &events, actor, step, rows, now_before) {
                    rows.pop();
                    self.refusal = Some(reason);
                    return Ok(false);
                }
                // A timed wait that a signal ends in the simulator, whose own real timer had run out
                // too by the time the real sleeper took the signal: the host's doing. Tried again.
                if let Some(reason) = self.interrupted_after_its_time(replay.kernel(), actor, step, rows) {
                    rows.pop();
                    self.lagged.get_or_insert_with(|| reason.clone());
                    self.refusal = Some(reason);
                    return Ok(false);
                }
                return Ok(true);
            }
        }
        if let (true, Some(child)) = (forked_ok, expected.forked()) {
            self.wait_ready(child).map_err(|error| format!("the child forked at step {step}: {error}"))?;
            self.set_priority(child, DORMANT_PRIORITY);
        }
        // The actor's own code divided by zero after its call returned: the real process takes the
        // CPU's fault.
        if let Some(op) = post_fault {
            if let Some(status) = expected.exits.iter().find(|(pid, _)| *pid == actor).map(|(_, status)| *status) {
                self.send(actor, &Command::Fault { op });
                let seen = self.watch(actor, Want::Death);
                let (linux, note) = self.observe(actor, seen, None);
                differs |= self.push(rows, step, actor, self.fault_text(op), Obs::Died { status }, linux, note);
            }
        }
        // The actor's part is over: held back again before any timer fires, so that it takes what a
        // timer does (a wake-up, `SIGALRM`) at its next step, as in the simulator.
        self.set_priority(actor, DORMANT_PRIORITY);
        self.follow_timers(replay.kernel(), &events, actor, step, step_started, now_before);
        let collected =
            events.iter().any(|event| matches!(event.kind, EventKind::Rights { moved: RightsMove::Collected, .. }));
        let in_flight = in_flight::simulated(replay.kernel());
        if collected || in_flight > 0 || self.sockets_in_flight > 0 {
            differs |= self.follow_collector(in_flight, collected, step, actor, &events, rows);
        }
        self.sockets_in_flight = in_flight;
        differs |= self.aftermath(step, &expected, rows)?;
        if !differs {
            differs |= self.compare_signals(replay.kernel(), step, actor, &expected, rows);
        }
        if !differs {
            differs |= self.compare_mappings(replay.kernel(), step, actor, &expected, rows);
        }
        self.set_priority(actor, DORMANT_PRIORITY);
        Ok(differs)
    }

    /// After a step that ends (or began) with Unix-domain sockets held only by messages in flight, or in
    /// which the simulator's collector freed some: makes Linux's collector run, and waits until Linux
    /// holds as many sockets in flight as the simulator (`expected`, see [`in_flight`]); then, if the
    /// simulator's collector freed something, until every process the frees woke (a reader whose pipe's
    /// last write end was in a freed message) is awake on Linux too, as Linux's collector closes what it
    /// frees on a workqueue of its own, a little later. Returns true when the counts differ.
    fn follow_collector(
        &mut self,
        expected: u32,
        collected: bool,
        step: u32,
        actor: Pid,
        events: &[Event],
        rows: &mut Vec<Row>,
    ) -> bool {
        let outer: Vec<i32> = self
            .procs
            .values()
            .map(|proc| proc.outer_pid)
            .filter(|&pid| pid > 0)
            .chain(std::iter::once(self.namespace.init))
            .collect();
        let simulator = Obs::InFlight { sockets: expected };
        let linux = match in_flight::settle(expected, &outer, collected) {
            Ok(sockets) => Obs::InFlight { sockets },
            Err(detail) => Obs::Unclear { detail },
        };
        let label = if collected { "(socket garbage collector runs)" } else { "(sockets in flight)" };
        let differs = self.push(rows, step, actor, label.to_string(), simulator, linux, String::new());
        if differs || !collected {
            return differs;
        }
        let deadline = Instant::now() + HANG_TIMEOUT;
        for event in events {
            let EventKind::Wake { pid, .. } = event.kind else { continue };
            let Some(outer) = self.procs.get(&pid).map(|proc| proc.outer_pid).filter(|&outer| outer > 0) else {
                continue;
            };
            while Instant::now() < deadline && host::asleep_in_call(outer) {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        false
    }

    /// Keeps the real timers in step with the simulator's, once Linux has taken the step's call: waits
    /// for the real timers of those the simulator fired as the clock jumped at the end of the step (so
    /// that what they do has happened on Linux too before anything is compared), notes the real
    /// deadlines of the timers the step set, and refuses the run if a real timer may have fired before
    /// its time (the real steps since it was set took longer than its scaled duration).
    fn follow_timers(
        &mut self,
        kernel: &Kernel,
        events: &[sim_core::Event],
        actor: Pid,
        step: u32,
        started: Instant,
        now_before: u64,
    ) {
        let mut clock = None;
        // The processes the simulator wakes in the jump (after its clock moved).
        let mut woken: Vec<Pid> = Vec::new();
        let mut fired: Vec<((Pid, bool), RealTimer)> = Vec::new();
        let mut fired_keys: Vec<TimerKey> = Vec::new();
        for event in events {
            if let EventKind::Wake { pid, .. } = event.kind {
                if clock.is_some() && !woken.contains(&pid) {
                    woken.push(pid);
                }
            }
            let key = match event.kind {
                EventKind::Clock { now } => {
                    clock = Some(now);
                    continue;
                }
                EventKind::Alarm { pid } => ((pid, true), false),
                EventKind::Wake { pid, cause: sim_core::trace::WakeCause::Timer, .. } => ((pid, false), false),
                // A SYN sent in a jump is a TCP client's retransmission timer firing, whether the SYN
                // finds room or is dropped again (when nothing wakes).
                EventKind::Segment { pid, flags, .. } if clock.is_some() && flags & SYN_ONLY == SEGMENT_SYN => {
                    ((pid, false), true)
                }
                _ => continue,
            };
            let (key, syn) = key;
            // `plan` refused every run with a timer that fires outside a jump.
            let Some(at) = clock else { continue };
            if fired.iter().any(|(fired_key, _)| *fired_key == key) {
                continue;
            }
            // A timer set in this very step is not known yet: its real deadline is its duration from now
            // (a SYN's unscaled: Linux's own timer, set by a `connect` whose SYN was dropped in this step).
            fired_keys.push((key.0, key.1, at));
            let real_timer = self
                .timers
                .remove(&(key.0, key.1, at))
                .unwrap_or_else(|| RealTimer::set(at, syn, step, started, now_before, Instant::now()));
            fired.push((key, real_timer));
        }
        // Wait for each, in the order they fire: until Linux shows what it did, or, when nothing can be
        // seen, until its latest time is past.
        let syn_fired = fired.iter().any(|(_, timer)| timer.syn);
        for ((pid, alarm), real_timer) in fired {
            let outer = self.procs.get(&pid).map_or(0, |proc| proc.outer_pid);
            let visible = |outer: i32| -> bool {
                let woken = host::stat(outer).is_some_and(|stat| stat.state != 'S');
                let sets = host::signal_sets(outer);
                let alarm_bit = Signal(sim_core::linux::signal::SIGALRM.0).mask_bit();
                let pending = sets.is_some_and(|sets| (sets.pending | sets.shared_pending) & alarm_bit != 0);
                let ignored = sets.is_some_and(|sets| sets.ignored & alarm_bit != 0);
                if alarm {
                    !ignored && (pending || woken)
                } else {
                    woken
                }
            };
            let give_up = real_timer.latest + TIMER_EVIDENCE_TIMEOUT;
            // Linux's TCP timers run on jiffies, and what a SYN starts is handled as it arrives: a
            // retransmission is over a little after its time, seen or not.
            let margin = if real_timer.syn { SYN_TIMER_MARGIN } else { TIMER_MARGIN };
            loop {
                let now = Instant::now();
                if now >= real_timer.earliest && outer > 0 && visible(outer) && !real_timer.syn {
                    break;
                }
                if now >= real_timer.latest + margin && !(outer > 0 && now < give_up && !real_timer.syn) {
                    break;
                }
                let ignored_alarm = alarm
                    && outer > 0
                    && host::signal_sets(outer)
                        .is_some_and(|sets| sets.ignored & Signal(sim_core::linux::signal::SIGALRM.0).mask_bit() != 0);
                if ignored_alarm && now >= real_timer.latest + TIMER_MARGIN {
                    break;
                }
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        if syn_fired {
            self.await_woken_by_syn(&woken, step);
        }
        let seen = Instant::now();
        for timer in &kernel.timers {
            let key = (timer.pid, timer.kind == sim_core::kernel::time::TimerKind::Alarm, timer.at);
            let syn = matches!(timer.kind, sim_core::kernel::time::TimerKind::SynRetransmit { .. });
            self.timers.entry(key).or_insert_with(|| RealTimer::set(timer.at, syn, step, started, now_before, seen));
        }
        // A sleep that began in this step and that a signal cut short in the jump after it has no timer
        // left, yet the time it had left is given back at a later step, and a stall before then shortens
        // it on Linux alone: it is counted from this step, as its timer would have been. (One that fired
        // in the jump was followed above, and is over.)
        for key in TimeLeft::of(kernel, actor).keys(actor).filter(|key| !fired_keys.contains(key)) {
            self.timers.entry(key).or_insert_with(|| RealTimer::set(key.2, false, step, started, now_before, seen));
        }
        self.measure_lag(&timer_keys(kernel), kernel.now(), step, "after");
        if self.refusal.is_some() {
            return;
        }
        for timer in &kernel.timers {
            let key = (timer.pid, timer.kind == sim_core::kernel::time::TimerKind::Alarm, timer.at);
            let Some(real_timer) = self.timers.get(&key) else { continue };
            if Instant::now() >= real_timer.earliest {
                let reason = self.run_out_reason(key, real_timer.step, step);
                self.lagged.get_or_insert_with(|| reason.clone());
                self.refusal = Some(reason);
                return;
            }
        }
    }

    /// Why a run stops where a real timer may have fired before the simulator's.
    fn run_out_reason(&self, key: TimerKey, set_at: u32, step: u32) -> String {
        format!(
            "this host was too slow for the time scale: the {} that {} set at step {set_at} may have fired on \
             Linux before step {step} ended, while the simulator fires it later, when every process is \
             asleep (real timers run {}x faster than the simulator's clock, see docs/conformance.md, \
             \"Time\"); the steps checked before matched",
            if key.1 { "alarm" } else { "timed wait" },
            self.names.process(key.0),
            real::time::TIME_DIVISOR,
        )
    }

    /// At a step that differs: the reason to refuse the run instead, if the difference is a timed wait
    /// too short to be seen asleep. All of these must hold: the differing row is the actor's own call,
    /// which sleeps in the simulator and has returned on Linux with the result the call gives when its
    /// time is up (0 from `nanosleep`, `EAGAIN` from `semtimedop`, ...); and the actor's own timer, set
    /// by this very step, either still pending or fired in the jump at the end of the step, has passed
    /// the earliest real time it can fire.
    fn timed_out_unseen(
        &self,
        kernel: &Kernel,
        events: &[sim_core::Event],
        actor: Pid,
        step: u32,
        rows: &[Row],
        now_before: u64,
    ) -> Option<String> {
        let row = rows.last().filter(|row| row.pid == actor && row.simulator == Obs::Blocked)?;
        let Obs::Returned { result } = &row.linux else { return None };
        let op = kernel.next_op(actor)?;
        let id = self.program.call(op)?.id;
        let timed_out = match id {
            CallId::Nanosleep | CallId::Sleep => *result == Res::Value { value: 0 },
            // Nothing ready: the count is 0 (and every `revents` with it).
            CallId::Poll | CallId::Select | CallId::EpollWait => {
                matches!(result, Res::Value { value: 0 } | Res::Polled { ready: 0, .. } | Res::Epolled { ready: 0, .. })
            }
            CallId::Semtimedop | CallId::Sigtimedwait => *result == Res::Errno { errno: libc::EAGAIN as u16 },
            CallId::MqTimedsend | CallId::MqTimedreceive | CallId::SemTimedwait => {
                *result == Res::Errno { errno: libc::ETIMEDOUT as u16 }
            }
            _ => false,
        };
        if !timed_out {
            return None;
        }
        // The actor's wake-up timer: pending after the step, or fired in the jump at its end.
        let pending = kernel
            .timers
            .iter()
            .find(|timer| timer.pid == actor && timer.kind == sim_core::kernel::time::TimerKind::Wake);
        let mut clock = None;
        let fired = events.iter().find_map(|event| match event.kind {
            EventKind::Clock { now } => {
                clock = Some(now);
                None
            }
            EventKind::Wake { pid, cause: sim_core::trace::WakeCause::Timer, .. } if pid == actor => clock,
            _ => None,
        });
        let Some(at) = pending.map(|timer| timer.at).or(fired) else {
            return self.restarted_after_its_time(actor, step, rows);
        };
        // Set by this step: not among the timers the driver follows from earlier steps.
        if self.timers.contains_key(&(actor, false, at)) {
            return None;
        }
        let duration = real_duration(at.saturating_sub(now_before));
        Some(format!(
            "the timed wait that {} began at step {step} is too short to check in lockstep: its real timer \
             ({duration:?}, the simulator's time scaled 1/{}) ran out before the call could be seen asleep, and \
             Linux's call returned what it returns when its time is up, where the simulator's sleeps until \
             every process is asleep (see docs/conformance.md, \"Time\"); the steps checked before matched",
            self.names.process(actor),
            real::time::TIME_DIVISOR,
        ))
    }

    /// For [`Runner::timed_out_unseen`], when the simulator has no timer for the actor's wait at the end
    /// of the step: a wait that a signal cut short and that starts again in this step, with the end the
    /// first call set (`restart_syscall`; `hrtimer_nanosleep_restart` sleeps until that absolute time),
    /// which the simulator arms again only at the actor's next step. The driver has followed that wait's
    /// real timer since the step it began, but not while the simulator had no timer for it (between the
    /// signal and the restart), so nothing refused the run when it could have run out. The actor has no
    /// row between that step and this one (the call never returned in between); if the timer can have
    /// run out by now, Linux's restarted call found its time up, and the host was too slow.
    fn restarted_after_its_time(&self, actor: Pid, step: u32, rows: &[Row]) -> Option<String> {
        let earlier = rows[..rows.len() - 1].iter().rev().find(|row| row.pid == actor)?;
        if earlier.simulator != Obs::Blocked {
            return None;
        }
        let (key, timer) = self
            .timers
            .iter()
            .find(|(key, timer)| key.0 == actor && !key.1 && !timer.syn && timer.step == earlier.step)?;
        (Instant::now() >= timer.earliest).then(|| self.run_out_reason(*key, timer.step, step))
    }

    /// At a step that differs: the reason to refuse the run instead, if the difference is a timed wait
    /// that a signal ended in the simulator (`EINTR`, with or without a handler run over it) and that
    /// ended on Linux with the result the call gives when its time is up (0 from `nanosleep`, `EAGAIN`
    /// from `semtimedop`, ...), and its real timer can have run out by now. Linux looks at the wait's
    /// own timer before it looks for a signal (`do_nanosleep` returns 0 when `hrtimer_wakeup` has
    /// cleared `t->task`, whatever is pending), so a sleeper that the host let run only after its timer
    /// too had fired gives the time-up result, where the simulator, whose timers are exact, interrupted
    /// it: two timers a few simulated microseconds apart are a millisecond or so apart on Linux, which a
    /// busy host can blur. The wait is the actor's last call that slept, and its timer the one that step
    /// set, which the simulator no longer has.
    fn interrupted_after_its_time(&self, kernel: &Kernel, actor: Pid, step: u32, rows: &[Row]) -> Option<String> {
        let row = rows.last().filter(|row| row.pid == actor && row.step == step)?;
        let raw = |obs: &Obs| match obs {
            Obs::Handler { below: crate::check::protocol::Below::Returned { value }, .. } => Some(*value),
            Obs::Returned { result: Res::Errno { errno } } => Some(-i64::from(*errno)),
            Obs::Returned { result: Res::Value { value } } => Some(*value),
            _ => None,
        };
        if raw(&row.simulator)? != -i64::from(libc::EINTR) {
            return None;
        }
        let linux = raw(&row.linux)?;
        if ![0, -i64::from(libc::EAGAIN), -i64::from(libc::ETIMEDOUT)].contains(&linux) {
            return None;
        }
        // A handler run over the call: the same handler, for the same signal, on both sides.
        match (&row.simulator, &row.linux) {
            (Obs::Handler { signal, info, .. }, Obs::Handler { signal: linux_signal, info: linux_info, .. })
                if (signal, info) != (linux_signal, linux_info) =>
            {
                return None;
            }
            (Obs::Handler { .. }, Obs::Returned { .. }) | (Obs::Returned { .. }, Obs::Handler { .. }) => return None,
            _ => {}
        }
        let slept = rows.iter().rev().skip(1).find(|row| row.pid == actor && row.simulator == Obs::Blocked)?.step;
        let (key, timer) = self.timers.iter().find(|(key, timer)| {
            key.0 == actor
                && !key.1
                && !timer.syn
                && timer.step == slept
                && !kernel.timers.iter().any(|pending| pending.pid == actor && pending.at == key.2)
        })?;
        if Instant::now() < timer.earliest {
            return None;
        }
        Some(format!(
            "this host was too slow for the time scale: the timed wait that {} began at step {slept} ends at \
             {} on the simulator's clock, after the signal that ends it there, but its real timer (scaled 1/{}) \
             may have run out before the real process took the signal, and Linux then returns what the call \
             returns when its time is up (see docs/conformance.md, \"Time\"); the steps checked before matched",
            self.names.process(actor),
            sim_core::kernel::time::time_text(key.2),
            real::time::TIME_DIVISOR,
        ))
    }

    /// After a SYN sent again in a jump, waits until each process the simulator woke in it is seen woken
    /// on Linux too: back from its call, resting until the driver's next command (or running). The
    /// retransmission is Linux's own timer, on jiffies, and the handshake it starts runs in softirqs
    /// that a loaded host delays; the margin after the timer's latest time is not always enough, and a
    /// step that looked too soon would see the call still asleep where the simulator's returns. Each
    /// process was asleep in a call before the jump (the simulator's, matched), so resting is proof.
    /// A process not seen woken within [`SYN_EVIDENCE_TIMEOUT`] is left to the step to judge, and the
    /// wait is noted as a lag: a difference there may be the host's, and the run is tried again (a
    /// retransmission the model puts at the wrong time differs on every try, and the last try stands).
    fn await_woken_by_syn(&mut self, woken: &[Pid], step: u32) {
        let deadline = Instant::now() + SYN_EVIDENCE_TIMEOUT;
        for &pid in woken {
            let outer = self.procs.get(&pid).map_or(0, |proc| proc.outer_pid);
            if outer <= 0 {
                continue;
            }
            let up = |outer: i32| match host::stat(outer) {
                None => true,
                Some(stat) if stat.state != 'S' => true,
                Some(_) => host::syscall_line(outer).is_some_and(|(number, first)| {
                    number == libc::SYS_recvfrom && first == protocol::CONTROL_FD as i64
                }),
            };
            while !up(outer) {
                if Instant::now() >= deadline {
                    if self.lagged.is_none() {
                        self.lagged = Some(format!(
                            "after step {step}, {} was not seen woken on Linux {:.0} ms after the SYN sent again \
                             that wakes it in the simulator (Linux's own timer and softirqs, which a loaded host \
                             delays)",
                            self.names.process(pid),
                            SYN_EVIDENCE_TIMEOUT.as_secs_f64() * 1000.0,
                        ));
                    }
                    return;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }

    /// Notes the first step after which the real run is behind the simulator's clock by more than the
    /// rounding margins allow. The margins of [`TimeLeft::too_close`] assume that real time since a
    /// timer was set runs ahead of the simulator's (scaled) by at most 0.1 s plus 0.04 s per step
    /// since: a host that stalled the run for longer (a loaded machine preempting it for tens of
    /// milliseconds) breaks that assumption, and a rounded time left, or a timer's moment, may then
    /// differ because of the host. Measured, not assumed: real time since the step that set each
    /// pending timer began, against the simulator's time since then.
    fn measure_lag(&mut self, pending: &[TimerKey], sim_now: u64, step: u32, moment: &str) {
        if self.lagged.is_some() {
            return;
        }
        let now = Instant::now();
        for key in pending {
            let Some(real_timer) = self.timers.get(key) else { continue };
            let real_elapsed = now.saturating_duration_since(real_timer.set_real);
            let simulated = real_duration(sim_now.saturating_sub(real_timer.set_sim));
            let lag = real_elapsed.saturating_sub(simulated);
            let steps = u64::from(step.saturating_sub(real_timer.step));
            let allowed = real_duration(ROUNDING_MARGIN_NS + ROUNDING_MARGIN_PER_STEP_NS * steps);
            if lag > allowed {
                self.lagged = Some(format!(
                    "{moment} step {step}, the real run was {:.1} ms behind the simulator's clock (scaled 1/{}) \
                     since the {} that {} set at step {}, where the time margins allow {:.1} ms",
                    lag.as_secs_f64() * 1000.0,
                    real::time::TIME_DIVISOR,
                    if key.1 { "alarm" } else { "timed wait" },
                    self.names.process(key.0),
                    real_timer.step,
                    allowed.as_secs_f64() * 1000.0,
                ));
                return;
            }
        }
    }

    fn set_stopped(&mut self, pid: Pid, stopped: bool) {
        if let Some(proc) = self.procs.get_mut(&pid) {
            proc.stopped = stopped;
        }
    }

    fn top(&mut self, pid: Pid) -> Option<&mut Level> {
        self.procs.get_mut(&pid).and_then(|proc| proc.levels.last_mut())
    }

    /// Whether the expected `siginfo_t` of the handler for `signal` that starts now could not be read
    /// from the simulator's state.
    fn unknown_info(&self, pid: Pid, signal: u8) -> bool {
        self.procs.get(&pid).is_some_and(|proc| {
            proc.levels
                .iter()
                .rev()
                .filter_map(|level| level.frame.as_ref())
                .find(|frame| frame.signal == signal)
                .is_some_and(|frame| frame.info.is_none())
        })
    }

    /// Sends a command to a process; a process that is gone is seen so by the watch that follows.
    fn send(&mut self, pid: Pid, command: &Command) {
        if let Some(proc) = self.procs.get_mut(&pid) {
            let sent = proc.channel.as_ref().map(|channel| protocol::send_command(channel.as_raw_fd(), command));
            if let Some(Err(_)) = sent {
                proc.channel = None;
            }
        }
    }

    /// The pid outside the namespace of a scenario process alive on both sides, if it is.
    fn live_outer_pid(&self, kernel: &Kernel, pid: Pid) -> Option<i32> {
        let proc = self.procs.get(&pid)?;
        (proc.phase == Phase::Alive && proc.outer_pid > 0 && kernel.process(pid).is_alive()).then_some(proc.outer_pid)
    }

    /// Compares the signal state of the processes the step touched with `/proc/PID/status`: the blocked
    /// mask, the pending signals, the ignored and the handled ones.
    fn compare_signals(
        &mut self,
        kernel: &Kernel,
        step: u32,
        actor: Pid,
        expected: &Expected,
        rows: &mut Vec<Row>,
    ) -> bool {
        let mut pids = vec![actor];
        pids.extend(expected.signalled.iter().copied().filter(|pid| *pid != actor));
        let mut differs = false;
        for pid in pids {
            let Some(outer_pid) = self.live_outer_pid(kernel, pid) else { continue };
            if kernel.process(pid).state == ProcState::Zombie {
                continue;
            }
            let sets = host::signal_sets(outer_pid);
            // Inside `sigwaitinfo` (asleep, or woken and not run yet): the set it waits for.
            let waiting_for = self.procs[&pid].levels.last().and_then(|top| top.in_call).and_then(|(op, args)| {
                let id = self.program.call(op).map(|call| call.id);
                matches!(id, Some(CallId::Sigwaitinfo | CallId::Sigtimedwait)).then(|| args.get(0) as u64)
            });
            let linux_pending = sets.map_or(0, |sets| sets.pending | sets.shared_pending);
            let simulator = expected_signals(kernel, pid, waiting_for, linux_pending);
            let linux = match sets {
                Some(sets) => Obs::Signals {
                    blocked: SignalSet(sets.blocked),
                    pending: SignalSet(sets.pending | sets.shared_pending),
                    ignored: SignalSet(sets.ignored),
                    caught: SignalSet(sets.caught),
                },
                None => Obs::Unclear { detail: "its /proc/PID/status could not be read".to_string() },
            };
            if linux != simulator {
                differs |= self.push(rows, step, pid, "(its signals)".to_string(), simulator, linux, String::new());
            }
        }
        differs
    }

    /// Compares the mappings of the processes whose address space the step changed (the actor of a
    /// mapping call, a child just forked) with `/proc/PID/maps`, in the part of the address space the
    /// scenario's mappings take (from `MAP_BASE` up; the runner's own code, libraries and stack are
    /// far above it).
    fn compare_mappings(
        &mut self,
        kernel: &Kernel,
        step: u32,
        actor: Pid,
        expected: &Expected,
        rows: &mut Vec<Row>,
    ) -> bool {
        use sim_core::lang::syscalls::Mechanism;
        let mapping_call = expected.moves.iter().any(|step| match step {
            Move::Completed { op, .. } => self
                .program
                .call(*op)
                .is_some_and(|call| matches!(call.id.spec().mechanism, Mechanism::Mm | Mechanism::Shm)),
            _ => false,
        });
        let mut pids = Vec::new();
        if mapping_call {
            pids.push(actor);
        }
        pids.extend(expected.forked());
        let mut differs = false;
        for pid in pids {
            let Some(outer_pid) = self.live_outer_pid(kernel, pid) else { continue };
            let (low, high) = SCENARIO_MAPPINGS;
            let linux = match host::mappings(outer_pid, low, high) {
                Some(found) => Obs::Mappings { ranges: joined_ranges(found) },
                None => Obs::Unclear { detail: "its /proc/PID/maps could not be read".to_string() },
            };
            let simulated = kernel
                .process(pid)
                .mm
                .mappings
                .iter()
                .map(|mapping| {
                    let shared = !mapping.backing.is_private();
                    let perms = format!(
                        "{}{}-{}",
                        if mapping.prot & 1 != 0 { 'r' } else { '-' },
                        if mapping.prot & 2 != 0 { 'w' } else { '-' },
                        if shared { 's' } else { 'p' }
                    );
                    (mapping.start, mapping.end(), perms)
                })
                .collect();
            let simulator = Obs::Mappings { ranges: joined_ranges(simulated) };
            if linux != simulator {
                differs |= self.push(rows, step, pid, "(its mappings)".to_string(), simulator, linux, String::new());
            }
        }
        differs
    }

    /// `(division traps on line N)`, `(store faults on line N)`
    fn fault_text(&self, op: u32) -> String {
        let line = self.program.ops.get(op as usize).map_or(0, |op| op.span.line);
        match self.program.call(op).filter(|call| faults_in_user_space(call.id)) {
            Some(call) => format!("({} faults on line {line})", call.id.name()),
            None => format!("(division traps on line {line})"),
        }
    }

    /// Adds a row; true when it differs.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &self,
        rows: &mut Vec<Row>,
        step: u32,
        pid: Pid,
        call: String,
        simulator: Obs,
        linux: Obs,
        note: String,
    ) -> bool {
        let matches = simulator == linux;
        rows.push(Row {
            step,
            pid,
            process: self.names.process(pid),
            call,
            simulator,
            linux,
            linux_note: note,
            matches,
        });
        !matches
    }

    /// What a step did besides the actor's call: other processes that died, stopped or continued,
    /// calls completed on behalf of others, divisions by zero as a process starts, and zombies `init`
    /// collected. Returns true when something differs.
    fn aftermath(&mut self, step: u32, expected: &Expected, rows: &mut Vec<Row>) -> Result<bool, String> {
        let mut differs = false;
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
            accept_gone(&mut linux, &obs, pid, expected);
            self.set_priority(pid, DORMANT_PRIORITY);
            let what = match obs {
                Obs::Died { .. } => "(dies)",
                Obs::Stopped => "(stops)",
                _ => "(continues)",
            };
            if let Some(proc) = self.procs.get_mut(&pid) {
                match obs {
                    Obs::Stopped => proc.stopped = true,
                    Obs::Continued => proc.stopped = false,
                    _ => {}
                }
            }
            differs |= self.push(rows, step, pid, what.to_string(), obs, linux, note);
        }
        for (pid, op, args, obs) in expected.owed.clone() {
            if let Some(top) = self.top(pid) {
                top.in_call = None;
                top.owed = Some(Owed::Reply { op, args, result: obs, cut_short: false });
            }
        }
        // Divisions by zero in a process's code as it starts (a top-level process, or a fork child):
        // the real process takes the CPU's fault.
        for (pid, op, obs) in expected.faults.clone() {
            if !self.procs.contains_key(&pid) {
                continue;
            }
            self.set_priority(pid, ACTIVE_PRIORITY);
            self.send(pid, &Command::Fault { op });
            let seen = self.watch(pid, Want::Death);
            let (linux, note) = self.observe(pid, seen, None);
            self.set_priority(pid, DORMANT_PRIORITY);
            differs |= self.push(rows, step, pid, self.fault_text(op), obs, linux, note);
        }
        // init collects its zombies at once, as the simulator's init does (an orphan may have died steps
        // ago, while its parent was alive).
        self.sim_statuses.extend(expected.exits.iter().copied());
        for pid in expected.reaped_by_init.clone() {
            let Some(status) = self.sim_statuses.get(&pid).copied() else { continue };
            let linux = self.reap_by_init(pid);
            differs |=
                self.push(rows, step, pid, "(init reaps it)".to_string(), Obs::Reaped { status }, linux, String::new());
        }
        // Reaped by a parent's wait, or by the kernel for a parent that ignores SIGCHLD: gone.
        for (pid, cause) in &expected.reaped {
            if *cause != ReapCause::Init {
                if let Some(proc) = self.procs.get_mut(pid) {
                    proc.phase = Phase::Reaped;
                    proc.channel = None;
                }
            }
        }
        Ok(differs)
    }

    /// Asks `init` to collect `pid`, which Linux must have made its zombie child by now.
    fn reap_by_init(&mut self, pid: Pid) -> Obs {
        let phase = self.procs.get(&pid).map(|proc| proc.phase);
        if phase != Some(Phase::Dead) {
            return Obs::Unclear { detail: "not dead on Linux, so init has nothing to reap".to_string() };
        }
        let deadline = Instant::now() + HANG_TIMEOUT;
        loop {
            let answer = self
                .namespace
                .ask_init(&Command::Reap { pid: pid as i32 })
                .map(|received| protocol::decode_reply(&received.bytes));
            let obs = match answer {
                Ok(Ok(Reply::Waited { pid: reaped, status, .. })) if reaped as Pid == pid => {
                    Obs::Reaped { status: wait::decode(status) }
                }
                Ok(Ok(Reply::Errno(errno))) => Obs::Unclear {
                    detail: format!("init cannot reap it: {}", std::io::Error::from_raw_os_error(errno)),
                },
                // Not a zombie yet: its death is still under way.
                Ok(Ok(Reply::Value(0))) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_micros(200));
                    continue;
                }
                other => Obs::Unclear { detail: format!("init's answer: {other:?}") },
            };
            if let (Obs::Reaped { .. }, Some(proc)) = (&obs, self.procs.get_mut(&pid)) {
                proc.phase = Phase::Reaped;
                proc.channel = None;
            }
            return obs;
        }
    }

    /// Waits until the process shows one of the things `want` asks about (or anything decisive).
    fn watch(&mut self, pid: Pid, want: Want) -> Seen {
        let started = Instant::now();
        let deadline = started + HANG_TIMEOUT;
        let mut asleep_since: Option<Instant> = None;
        let mut asleep_checks = 0;
        let mut resting_since: Option<Instant> = None;
        let mut resting_checks = 0;
        loop {
            let Some(proc) = self.procs.get_mut(&pid) else {
                return Seen::Timeout("the runner has no such process".to_string());
            };
            // Any message settles every question but a continue's (a continued process must not run).
            if want != Want::Continue {
                if let Some(message) = proc.replies.pop_front() {
                    return Seen::Reply(message);
                }
            }
            if let Some(channel) = &proc.channel {
                let fd = channel.as_raw_fd();
                let mut pollfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
                // SAFETY: one valid pollfd.
                let ready = unsafe { libc::poll(&mut pollfd, 1, 1) };
                if ready > 0 && pollfd.revents & libc::POLLIN != 0 {
                    match protocol::recv_message(fd, &mut self.buffer) {
                        Ok(Some(Received { bytes, passed, sender })) => match protocol::decode_reply(&bytes) {
                            Ok(reply) => {
                                let message = Message { reply, passed, sender };
                                if want != Want::Continue {
                                    return Seen::Reply(message);
                                }
                                proc.replies.push_back(message);
                            }
                            Err(error) => return Seen::Timeout(format!("a reply that does not decode: {error}")),
                        },
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
            let outer = proc.outer_pid;
            if outer > 0 {
                match host::stat(outer) {
                    None => return Seen::Gone,
                    Some(ProcStat { state: 'Z' | 'X', exit_code }) => return Seen::Dead(wait::decode(exit_code)),
                    Some(ProcStat { state: 'T' | 't', .. }) => {
                        if want != Want::Continue {
                            return Seen::Stopped;
                        }
                    }
                    Some(ProcStat { state, .. }) => {
                        if want == Want::Continue {
                            return Seen::Running;
                        }
                        let call = if state == 'S' { host::syscall_line(outer) } else { None };
                        let resting = call.is_some_and(|(number, first)| {
                            number == libc::SYS_recvfrom && first == protocol::CONTROL_FD as i64
                        });
                        let asleep = match (call, want) {
                            (Some(_), _) if resting => false,
                            // A sleep (or a timed futex wait) that a stop interrupted goes on through
                            // `restart_syscall` (`hrtimer_nanosleep_restart`, `futex_wait_restart`,
                            // with the deadline it started with).
                            (Some((number, _)), Want::Block(Some(expected))) => {
                                number == expected
                                    || (number == libc::SYS_restart_syscall
                                        && matches!(expected, libc::SYS_clock_nanosleep | libc::SYS_futex))
                            }
                            (Some(_), _) => true,
                            (None, _) => false,
                        };
                        if asleep {
                            let since = *asleep_since.get_or_insert_with(Instant::now);
                            asleep_checks += 1;
                            let grace = if matches!(want, Want::Block(_)) {
                                ASLEEP_GRACE_EXPECTED
                            } else {
                                ASLEEP_GRACE_UNEXPECTED
                            };
                            if asleep_checks >= 3 && since.elapsed() >= grace {
                                return Seen::Asleep(host::wchan(outer));
                            }
                        } else {
                            asleep_since = None;
                            asleep_checks = 0;
                        }
                        if resting {
                            let since = *resting_since.get_or_insert_with(Instant::now);
                            resting_checks += 1;
                            let grace =
                                if want == Want::Rest { ASLEEP_GRACE_EXPECTED } else { ASLEEP_GRACE_UNEXPECTED };
                            if resting_checks >= 3 && since.elapsed() >= grace {
                                return Seen::Rest;
                            }
                        } else {
                            resting_since = None;
                            resting_checks = 0;
                        }
                    }
                }
            }
            if Instant::now() > deadline {
                let in_kernel = outer > 0 && host::stat(outer).is_some_and(|stat| stat.state == 'D');
                if in_kernel && started.elapsed() < KERNEL_BUSY_TIMEOUT {
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                }
                let state = if outer > 0 {
                    host::stat(outer).map_or("gone".to_string(), |stat| stat.state.to_string())
                } else {
                    "not started".to_string()
                };
                return Seen::Timeout(format!(
                    "no result after {} s (state {state}, in {})",
                    started.elapsed().as_secs(),
                    if outer > 0 { host::wchan(outer) } else { String::new() }
                ));
            }
        }
    }

    fn mark_dead(&mut self, pid: Pid) {
        if let Some(proc) = self.procs.get_mut(&pid) {
            if proc.phase != Phase::Reaped {
                proc.phase = Phase::Dead;
            }
            proc.channel = None;
        }
    }

    /// Turns what the runner saw into an observation.
    fn observe(&mut self, pid: Pid, seen: Seen, expected_child: Option<Pid>) -> (Obs, String) {
        match seen {
            Seen::Reply(Message { reply, passed, .. }) => {
                let result = match reply {
                    Reply::Value(value) => Res::Value { value },
                    Reply::Errno(errno) => Res::Errno { errno: errno as u16 },
                    Reply::Data(bytes) => Res::Data { bytes: Bytes::new(bytes) },
                    Reply::Pair { read_fd, write_fd } => Res::Pair { read_fd, write_fd },
                    Reply::Forked { child } => {
                        if let (Some(channel), Some(expected)) = (passed, expected_child) {
                            if expected == child as Pid {
                                self.add(expected, channel);
                            }
                        }
                        Res::Fork { child: child as Pid }
                    }
                    Reply::Waited { pid: child, status, via_info: false } => {
                        Res::Waited { child: child as Pid, status: wait::decode(status) }
                    }
                    Reply::Waited { pid: child, status, via_info: true } => {
                        Res::WaitedInfo { child: child as Pid, status: wait::decode(status) }
                    }
                    Reply::Out(value) => Res::Out { value },
                    Reply::Message { tag, bytes } => Res::Message { bytes: Bytes::new(bytes), tag },
                    Reply::Received { fd, fds, flags, creds, bytes } => {
                        Res::Received { bytes: Bytes::new(bytes), fd, fds: fds as u16, flags: flags as u16, creds }
                    }
                    Reply::Polled { ready, revents } => Res::Polled { ready: ready as u16, revents },
                    Reply::Epolled { ready, fds, events } => Res::Epolled {
                        ready: ready as u16,
                        fds: fds.map(|fd| fd as i16),
                        events: events.map(|value| value as u16),
                    },
                    Reply::Array(bytes) => Res::Array {
                        values: bytes.chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]])).collect(),
                    },
                    Reply::Handler { signal, info, below } => {
                        return (Obs::Handler { signal: signal as u8, info, below }, String::new())
                    }
                    Reply::Sigreturn { signal } => return (Obs::Sigreturn { signal: signal as u8 }, String::new()),
                    Reply::Restarted => return (Obs::Restarts, String::new()),
                    Reply::Ready { .. } => {
                        return (Obs::Unclear { detail: "an unexpected ready message".to_string() }, String::new())
                    }
                };
                (Obs::Returned { result }, String::new())
            }
            Seen::Asleep(wchan) => (Obs::Blocked, if wchan.is_empty() { String::new() } else { format!("in {wchan}") }),
            Seen::Rest => (Obs::Rests, String::new()),
            Seen::Dead(status) => {
                self.mark_dead(pid);
                (Obs::Died { status }, String::new())
            }
            Seen::Gone => {
                self.mark_dead(pid);
                if let Some(proc) = self.procs.get_mut(&pid) {
                    proc.phase = Phase::Reaped;
                }
                (Obs::Unclear { detail: "gone (reaped before its status could be read)".to_string() }, String::new())
            }
            Seen::Stopped => (Obs::Stopped, String::new()),
            Seen::Running => (Obs::Continued, String::new()),
            Seen::Timeout(detail) => (Obs::Unclear { detail }, String::new()),
        }
    }

    /// After the last step: in a deadlock every waiting process must really be asleep (or stopped).
    fn check_end(&mut self, replay: &Simulation, outcome: &RunOutcome, last_step: u32, rows: &mut Vec<Row>) {
        let RunOutcome::Deadlock { waiting } = outcome else { return };
        let kernel = replay.kernel();
        for edge in waiting {
            if !self.procs.contains_key(&edge.pid) {
                continue;
            }
            let op = kernel.next_op(edge.pid);
            let call = op.and_then(|op| self.program.call(op));
            let number = call.and_then(|call| real::blocking_syscall(call.id));
            let (simulator, want) = match edge.reason {
                Some(_) => (Obs::Blocked, Want::Block(number)),
                None => (Obs::Stopped, Want::Stop),
            };
            self.set_priority(edge.pid, ACTIVE_PRIORITY);
            let seen = self.watch(edge.pid, want);
            let (linux, note) = self.observe(edge.pid, seen, None);
            self.set_priority(edge.pid, DORMANT_PRIORITY);
            let args = kernel.next_args(edge.pid).unwrap_or_default();
            let text =
                op.map_or("(end)".to_string(), |op| format!("deadlock: {}", call_text(&self.program, op, &args)));
            self.push(rows, last_step, edge.pid, text, simulator, linux, note);
        }
    }

    /// Closes every control socket: a process still waiting for a command ends.
    fn close_channels(&mut self) {
        for proc in self.procs.values_mut() {
            proc.channel = None;
        }
    }
}

/// A signal's name, or its number when it has none.
fn signal_words(signal: u8) -> String {
    match Signal(signal).name() {
        "SIG?" => format!("signal {signal}"),
        name => name.to_string(),
    }
}

/// A process's signals as the simulator holds them, in the terms of `/proc/PID/status`, with the two
/// places where Linux's bookkeeping shows more than the model keeps:
/// - `sigwaitinfo` unblocks the signals it waits for while it sleeps (`do_sigtimedwait` saves the mask
///   in `real_blocked` and clears the set from `blocked`); the simulator keeps the mask and lets the
///   set wake the sleeper instead, to the same effect;
/// - a signal that will kill a process starts its group exit as it is sent (`complete_signal` adds
///   `SIGKILL` to the thread's pending set), where the simulator decides at delivery; the process dies
///   of the signal that was sent either way (`group_exit_code`). Linux's extra `SIGKILL` is taken as
///   agreeing when a signal the simulator holds pending will kill the process when it is delivered.
fn expected_signals(kernel: &Kernel, pid: Pid, waiting_for: Option<u64>, linux_pending: u64) -> Obs {
    let process = kernel.process(pid);
    let signals = &process.sig;
    let mut blocked = signals.blocked;
    if let Some(set) = waiting_for {
        blocked &= !(set & BLOCKABLE);
    }
    let kill = Signal(9).mask_bit();
    let group_exit = sim_core::linux::signal::signals_in(signals.pending & !signals.blocked)
        .into_iter()
        .any(|signal| signals.action(signal) == Action::Default && signal.default_action() == DefaultAction::Terminate);
    let pending = if group_exit && linux_pending & kill != 0 { signals.pending | kill } else { signals.pending };
    Obs::Signals {
        blocked: SignalSet(blocked),
        pending: SignalSet(pending),
        ignored: SignalSet(signals.ignored),
        caught: SignalSet(signals.handled),
    }
}

/// A process the kernel reaped at once (its parent ignores `SIGCHLD`) leaves no status to read: when the
/// simulator has the kernel reap it in the same step, its death is taken as the simulator describes it.
fn accept_gone(linux: &mut Obs, expected_obs: &Obs, pid: Pid, expected: &Expected) {
    let reaped_now = expected.reaped.iter().any(|(reaped, cause)| *reaped == pid && *cause == ReapCause::Ignored);
    if matches!(linux, Obs::Unclear { .. }) && matches!(expected_obs, Obs::Died { .. }) && reaped_now {
        *linux = expected_obs.clone();
    }
}

/// Where a scenario's mappings lie: from `MAP_BASE` (the simulator's lowest address, which the real
/// process asks Linux for) over a terabyte, below where Linux puts the runner's own mappings.
const SCENARIO_MAPPINGS: (u64, u64) = (sim_core::kernel::mm::MAP_BASE, sim_core::kernel::mm::MAP_BASE + (1 << 40));

/// Ranges in address order with neighbours of the same permissions joined, as text: Linux merges two
/// adjacent private anonymous mappings into one area where the model may keep two, and neither can
/// tell them apart.
fn joined_ranges(mut ranges: Vec<(u64, u64, String)>) -> Vec<String> {
    ranges.sort();
    let mut joined: Vec<(u64, u64, String)> = Vec::new();
    for (start, end, perms) in ranges {
        match joined.last_mut() {
            Some(last) if last.1 == start && last.2 == perms => last.1 = end,
            _ => joined.push((start, end, perms)),
        }
    }
    joined.into_iter().map(|(start, end, perms)| format!("{start:x}-{end:x} {perms}")).collect()
}

/// Whether a fault of this call is the real process's own, taken as it makes the call: a memory
/// instruction, or a POSIX semaphore call (glibc's atomic instructions on the semaphore's memory).
/// Any other fault is a division the scenario's user code makes.
fn faults_in_user_space(id: CallId) -> bool {
    let mechanism = id.spec().mechanism;
    mechanism.is_instruction() || mechanism == sim_core::lang::syscalls::Mechanism::NamedSem
}
