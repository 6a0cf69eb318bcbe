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
use super::namespace::Namespace;
use super::observe::{self, expected_of, perturb, Bytes, Expected, Obs, Res};
use super::protocol::{self, Attachment, CallCommand, Command, Received, Reply, WireOperand};
use super::real;
use super::report::{Expectations, FailedExpectation, Row, RunReport};
use sim_core::kernel::Kernel;
use sim_core::lang::compile::{CallOp, OpKind, Operand, Program};
use sim_core::linux::{wait, ChildStatus};
use sim_core::present::render::{call_text, ProcessNames};
use sim_core::trace::{Args, EventKind, ReapCause, IMPLICIT_EXIT_OP};
use sim_core::{Pid, RunConfig, RunOutcome, Scenario, Simulation};
use std::collections::{BTreeMap, VecDeque};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a real call may take to return, or a process to die or stop, before it counts as hung.
const HANG_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a process in uninterruptible sleep (state D: the kernel is still working for it, as when a
/// dying process's memory is torn down on a loaded host) may take beyond `HANG_TIMEOUT`.
const KERNEL_BUSY_TIMEOUT: Duration = Duration::from_secs(60);
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
    pub expectations: Expectations,
    pub perturb_step: Option<u32>,
}

/// Runs the simulator to the end. `Err` says why the run is refused (a limit, a schedule that does
/// not fit the scenario): nothing real is started for it.
pub fn plan(spec: &RunSpec) -> Result<Plan, String> {
    let mut simulation = Simulation::new(spec.scenario, spec.config.clone()).map_err(|d| d.message.clone())?;
    crate::follow_choices(&mut simulation, spec.choices)?;
    let outcome = simulation.run().map_err(|error| crate::run_error_text(&spec.file, spec.scenario, &error))?.clone();
    if let RunOutcome::LimitReached { limit, detail } = &outcome {
        return Err(format!(
            "the simulator stopped the run at limit {limit} ({detail}); no real process is started for a run that \
             breaks the simulator's limits"
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
        expectations,
        perturb_step: spec.perturb_step,
    })
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
        namespace,
        scenario_cpu: info.scenario_cpu,
        program: plan.program.clone(),
        paths: paths.to_vec(),
        names: ProcessNames::default(),
        sim_statuses: BTreeMap::new(),
        buffer: Vec::new(),
    };
    let (rows, steps_checked, interrupted) = runner.run(&mut replay, plan)?;
    runner.close_channels();
    let mut rows = rows;
    let first_difference = rows.iter().position(|row| !row.matches);
    for row in &mut rows {
        row.simulator.forget_full();
        row.linux.forget_full();
    }
    let explanation = first_difference.map(|index| {
        observe::explain(rows[index].step, &rows[index].process, &rows[index].simulator, &rows[index].linux)
    });
    let status = RunReport::status_of(first_difference.is_some(), interrupted, &plan.expectations);
    Ok(RunReport {
        file: plan.file.clone(),
        title: plan.program.title.clone(),
        schedule: plan.label.clone(),
        seed: plan.seed,
        status,
        sim_steps: plan.sim_steps,
        steps_checked,
        sim_outcome: plan.outcome.name().to_string(),
        rows,
        first_difference,
        explanation,
        expectations: plan.expectations.clone(),
        refusal: None,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for its next command.
    Idle,
    /// Inside a real call that has not returned yet.
    InCall,
    Dead,
    Reaped,
}

/// A reply, with what came along with it.
struct Message {
    reply: Reply,
    passed: Option<OwnedFd>,
    sender: Option<i32>,
}

struct RealProc {
    /// Its pid in the driver's namespace, for `/proc` (0 until it has said it is ready).
    outer_pid: i32,
    channel: Option<OwnedFd>,
    phase: Phase,
    replies: VecDeque<Message>,
    /// Results the simulator recorded for calls that end while the process is held (a write cut short
    /// by a stop signal): Linux reports them when the process runs again.
    owed: VecDeque<(u32, Obs)>,
}

/// What the runner saw while waiting on a process.
enum Seen {
    Reply(Message),
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

struct Runner<'n> {
    /// By pid, which is the same in the simulator and in the run's namespace.
    procs: BTreeMap<Pid, RealProc>,
    namespace: &'n mut Namespace,
    scenario_cpu: usize,
    program: Arc<Program>,
    paths: Vec<Vec<u8>>,
    names: ProcessNames,
    /// The status each process died with in the simulator.
    sim_statuses: BTreeMap<Pid, ChildStatus>,
    buffer: Vec<u8>,
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
            if host::stop_requested().is_some() {
                return Ok((rows, steps_checked, true));
            }
            let step = index as u32 + 1;
            let differs = self.step(replay, step, actor, plan.perturb_step == Some(step), &mut rows)?;
            steps_checked += 1;
            if differs {
                return Ok((rows, steps_checked, false));
            }
        }
        self.check_end(replay, &plan.outcome, plan.sim_steps as u32, &mut rows);
        Ok((rows, steps_checked, false))
    }

    /// `init` forks top-level process `index`, which must get pid `pid` in the namespace.
    fn start_top_level(&mut self, pid: Pid, index: u32) -> Result<(), String> {
        let received = self.namespace.ask_init(&Command::SpawnTop { index })?;
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
                phase: Phase::Idle,
                replies: VecDeque::new(),
                owed: VecDeque::new(),
            },
        );
    }

    /// Waits for a new process's first message, which says its pid (inside) and, through the kernel's
    /// credentials, its pid outside; `/proc` must agree that the one is the other.
    fn wait_ready(&mut self, pid: Pid) -> Result<(), String> {
        match self.watch(pid, Want::Return) {
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
            if matches!(proc.phase, Phase::Idle | Phase::InCall) && proc.outer_pid > 0 {
                let _ = host::set_fifo(proc.outer_pid, priority);
            }
        }
    }

    /// The command that makes the real process take the step the simulated one takes next.
    fn command_for(&self, kernel: &Kernel, actor: Pid) -> Result<Command, String> {
        let Some(op) = kernel.next_op(actor) else { return Ok(Command::Exit { status: 0 }) };
        match &self.program.ops[op as usize].kind {
            OpKind::Fork { .. } => Ok(Command::Fork { op }),
            OpKind::Call(call) => Ok(match kernel.next_args(actor) {
                Some(args) => Command::Call(self.call_command(call, op, &args)),
                // An operand divides by zero: the step is the fault.
                None => Command::Fault { op },
            }),
            _ => Err(format!("the simulator's process {actor} rests on user-space code, not on a call")),
        }
    }

    fn call_command(&self, call: &CallOp, op: u32, args: &Args) -> CallCommand {
        let operands = call
            .operands
            .iter()
            .enumerate()
            .map(|(index, operand)| WireOperand {
                value: args.get(index),
                attachment: match operand {
                    Operand::Value { .. } => None,
                    Operand::Payload(payload) => Some(Attachment::Payload((**payload).clone())),
                    Operand::Path(path) => self.paths.get(*path as usize).cloned().map(Attachment::Path),
                },
            })
            .collect();
        CallCommand { id: call.id, op, operands }
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
        let command = self.command_for(replay.kernel(), actor)?;
        let blocking_nr = match &command {
            Command::Call(call) => real::blocking_syscall(call.id),
            _ => None,
        };
        // The simulator's step.
        let before = replay.trace().events.len();
        replay.step().map_err(|error| error.to_string())?;
        let events = replay.trace().events[before..].to_vec();
        for event in &events {
            self.names.observe(&self.program, event);
        }
        let mut expected = expected_of(&events, replay.trace(), Some(actor));
        let mut actor_expected = expected.actor.clone().expect("a step has an actor");
        if perturb_here {
            actor_expected = perturb(&actor_expected);
        }
        let call = match (&command, expected.call) {
            (_, Some((op, _))) if op == IMPLICIT_EXIT_OP => "exit(0) at the end of its code".to_string(),
            (_, Some((op, args))) => call_text(&self.program, op, &args),
            (Command::Fault { op }, None) => self.fault_text(*op),
            (Command::Exit { .. }, None) => "exit(0) at the end of its code".to_string(),
            (Command::Fork { op } | Command::Call(CallCommand { op, .. }), None) => {
                call_text(&self.program, *op, &Args::default())
            }
            _ => "(no call)".to_string(),
        };
        let mut differs = false;

        // Linux's step: let the actor run; first the results it owes from calls cut short earlier.
        self.set_priority(actor, ACTIVE_PRIORITY);
        while let Some((_, owed)) = self.procs.get_mut(&actor).and_then(|proc| proc.owed.pop_front()) {
            let seen = self.watch(actor, Want::Return);
            let (linux, note) = self.observe(actor, seen, None);
            differs |=
                self.push(rows, step, actor, "(the call cut short earlier returns)".to_string(), owed, linux, note);
        }
        let in_call = matches!(self.procs.get(&actor).map(|proc| proc.phase), Some(Phase::InCall));
        if !in_call {
            let proc = self.procs.get_mut(&actor).ok_or("the actor has no real process")?;
            proc.phase = Phase::InCall;
            let sent = proc.channel.as_ref().map(|channel| protocol::send_command(channel.as_raw_fd(), &command));
            if let Some(Err(_)) = sent {
                // The process is gone; watching it will say how.
                proc.channel = None;
            }
        }
        let want = match &actor_expected {
            Obs::Died { .. } => Want::Death,
            Obs::Stopped => Want::Stop,
            Obs::Blocked => Want::Block(blocking_nr),
            _ => Want::Return,
        };
        let seen = self.watch(actor, want);
        let (mut linux, note) = self.observe(actor, seen, expected.forked);
        accept_gone(&mut linux, &actor_expected, actor, &expected);
        // A child to wait for only when Linux's fork made the very child the simulator's did.
        let forked_ok =
            matches!(&linux, Obs::Returned { result: Res::Fork { child } } if Some(*child) == expected.forked);
        differs |= self.push(rows, step, actor, call, actor_expected, linux, note);
        if let Some((op, owed)) = expected.actor_owed.take() {
            if let Some(proc) = self.procs.get_mut(&actor) {
                proc.owed.push_back((op, owed));
            }
        }
        if let (true, Some(child)) = (forked_ok, expected.forked) {
            self.wait_ready(child).map_err(|error| format!("the child forked at step {step}: {error}"))?;
            self.set_priority(child, DORMANT_PRIORITY);
        }
        differs |= self.aftermath(step, &expected, rows)?;
        self.set_priority(actor, DORMANT_PRIORITY);
        Ok(differs)
    }

    /// `(division traps on line N)`
    fn fault_text(&self, op: u32) -> String {
        let line = self.program.ops.get(op as usize).map_or(0, |op| op.span.line);
        format!("(division traps on line {line})")
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
    /// calls completed on behalf of others, divisions by zero after a call, and zombies `init`
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
            differs |= self.push(rows, step, pid, what.to_string(), obs, linux, note);
        }
        for (pid, op, obs) in expected.owed.clone() {
            if let Some(proc) = self.procs.get_mut(&pid) {
                proc.owed.push_back((op, obs));
            }
        }
        // Divisions by zero in the scenario's own code, after a call returned (or as a process starts):
        // the real process takes the CPU's fault.
        for (pid, op, obs) in expected.faults.clone() {
            if !self.procs.contains_key(&pid) {
                continue;
            }
            self.set_priority(pid, ACTIVE_PRIORITY);
            if let Some(proc) = self.procs.get_mut(&pid) {
                if let Some(channel) = &proc.channel {
                    if protocol::send_command(channel.as_raw_fd(), &Command::Fault { op }).is_err() {
                        proc.channel = None;
                    }
                }
            }
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
        let mut replied_since: Option<Instant> = None;
        let queued_before = self.procs.get(&pid).map_or(0, |proc| proc.replies.len());
        loop {
            let Some(proc) = self.procs.get_mut(&pid) else {
                return Seen::Timeout("the runner has no such process".to_string());
            };
            // A reply settles every question but a stop's or a continue's (a call cut short by a stop
            // reports only after the process runs again).
            let reply_decides = matches!(want, Want::Return | Want::Block(_) | Want::Death);
            if reply_decides {
                if let Some(message) = proc.replies.pop_front() {
                    return Seen::Reply(message);
                }
            }
            // A process that should stop but replied went back to user space without stopping (a stop
            // signal Linux discarded): once it has not stopped for a while, its reply is the answer.
            if want == Want::Stop && proc.replies.len() > queued_before {
                let since = *replied_since.get_or_insert_with(Instant::now);
                let stopped = proc.outer_pid > 0
                    && host::stat(proc.outer_pid).is_some_and(|stat| matches!(stat.state, 'T' | 't'));
                if !stopped && since.elapsed() >= ASLEEP_GRACE_UNEXPECTED {
                    let message = proc.replies.pop_back().expect("a reply arrived");
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
                                if reply_decides {
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
                        let asleep_in_call = state == 'S'
                            && match want {
                                Want::Block(Some(number)) => host::syscall_number(outer) == Some(number),
                                Want::Block(None) | Want::Return => {
                                    let number = host::syscall_number(outer);
                                    number.is_some() && number != Some(libc::SYS_recvmsg)
                                }
                                _ => false,
                            };
                        if asleep_in_call {
                            let since = *asleep_since.get_or_insert_with(Instant::now);
                            asleep_checks += 1;
                            let grace =
                                if want == Want::Return { ASLEEP_GRACE_UNEXPECTED } else { ASLEEP_GRACE_EXPECTED };
                            if asleep_checks >= 3 && since.elapsed() >= grace {
                                return Seen::Asleep(host::wchan(outer));
                            }
                        } else {
                            asleep_since = None;
                            asleep_checks = 0;
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
                    Reply::Ready { .. } => {
                        return (Obs::Unclear { detail: "an unexpected ready message".to_string() }, String::new())
                    }
                };
                if let Some(proc) = self.procs.get_mut(&pid) {
                    proc.phase = Phase::Idle;
                }
                (Obs::Returned { result }, String::new())
            }
            Seen::Asleep(wchan) => (Obs::Blocked, if wchan.is_empty() { String::new() } else { format!("in {wchan}") }),
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

/// A process the kernel reaped at once (its parent ignores `SIGCHLD`) leaves no status to read: when the
/// simulator has the kernel reap it in the same step, its death is taken as the simulator describes it.
fn accept_gone(linux: &mut Obs, expected_obs: &Obs, pid: Pid, expected: &Expected) {
    let reaped_now = expected.reaped.iter().any(|(reaped, cause)| *reaped == pid && *cause == ReapCause::Ignored);
    if matches!(linux, Obs::Unclear { .. }) && matches!(expected_obs, Obs::Died { .. }) && reaped_now {
        *linux = expected_obs.clone();
    }
}
