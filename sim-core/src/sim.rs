//! The driver: one run of one scenario under one schedule.
//!
//! It owns the kernel, the scheduler and the trace, steps them in lockstep, decides when the run is
//! over, and checks the scenario's expectations. Front ends call [`Simulation::step`] (or
//! [`Simulation::step_as`] when a person plays the scheduler) and read [`Simulation::snapshot`].
//! A scenario's own `schedule` line is followed first (unless the caller gives its own choices), then
//! the policy takes over.

use crate::diagnostic::Diagnostic;
use crate::expect::{self, ExpectationFailure};
use crate::kernel::{Footprint, Kernel};
use crate::lang::ast::{Scenario, ScheduleEntry, ScheduleTarget};
use crate::lang::compile::Program;
use crate::limits::Limits;
use crate::sched::{ChoiceError, Policy, Scheduler};
use crate::trace::{Event, EventKind, Pid, RunOutcome, Trace, TraceMark};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Everything besides the scenario that decides a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunConfig {
    pub seed: u64,
    pub policy: Policy,
    /// Follow the scenario's own `schedule` line before the policy (ignored when the policy is
    /// [`Policy::Choices`]: explicit choices replace the scenario's).
    #[serde(default = "yes")]
    pub follow_schedule: bool,
    /// Steps before the run ends with [`RunOutcome::StepLimit`]; capped at `Limits::max_steps_ceiling`.
    pub max_steps: u64,
    /// Keep every event in memory (off only for very long benchmark runs; the hash is kept either way).
    pub keep_events: bool,
    /// With `keep_events` off: store every event in a compact [`crate::trace::packed::PackedLog`]
    /// instead (a few bytes per event; for runs of millions of steps).
    pub pack_events: bool,
    /// Check kernel invariants after every step. An optimized WebAssembly build (the playground's)
    /// never checks: the playground does not ask for it, and the checks would only add to its bundle.
    /// The WebAssembly tests are built with debug assertions, and check.
    pub check_invariants: bool,
    /// Record which kernel objects each step read and changed ([`Simulation::footprint`]).
    #[serde(default)]
    pub track_footprints: bool,
    /// The run's memory budget in bytes ([`Limits::max_memory_bytes`] unless a caller that measures
    /// storage itself, like `ipclab bench`, lifts it).
    #[serde(default = "default_memory_budget")]
    pub memory_budget: u64,
}

fn default_memory_budget() -> u64 {
    Limits::DEFAULT.max_memory_bytes
}

fn yes() -> bool {
    true
}

/// Whether this build can check kernel invariants: all but an optimized WebAssembly build (see
/// [`RunConfig::check_invariants`]), whose bundle then carries none of the checks' code.
const CAN_CHECK_INVARIANTS: bool = cfg!(any(debug_assertions, not(target_arch = "wasm32")));

impl Default for RunConfig {
    fn default() -> RunConfig {
        RunConfig {
            seed: 0,
            policy: Policy::RoundRobin,
            follow_schedule: true,
            max_steps: Limits::DEFAULT.default_max_steps,
            keep_events: true,
            pack_events: false,
            check_invariants: cfg!(debug_assertions),
            track_footprints: false,
            memory_budget: Limits::DEFAULT.max_memory_bytes,
        }
    }
}

/// Why a step could not be taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimError {
    /// A schedule choice named a process that is not runnable at that step.
    InvalidChoice(ChoiceError),
    /// An entry of the scenario's `schedule` line names no runnable process at its step.
    Schedule { step: u64, entry: usize, message: String },
    /// A kernel invariant broke: a bug in the model, never the scenario's fault.
    InvariantBroken { step: u64, message: String },
}

impl std::fmt::Display for SimError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::InvalidChoice(choice) => write!(
                formatter,
                "pid {} is not runnable at step {} (runnable: {})",
                choice.wanted,
                choice.step,
                choice.runnable.iter().map(|pid| pid.to_string()).collect::<Vec<_>>().join(", ")
            ),
            SimError::Schedule { step, entry, message } => {
                write!(formatter, "the scenario's schedule, entry {entry}, at step {step}: {message}")
            }
            SimError::InvariantBroken { step, message } => {
                write!(formatter, "kernel invariant broken after step {step}: {message} (this is a bug in ipclab)")
            }
        }
    }
}

impl std::error::Error for SimError {}

/// What a call to [`Simulation::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepStatus {
    Ran(Pid),
    Finished,
}

/// A saved position in a run, for stepping back without replaying from the start.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    kernel: Kernel,
    scheduler: Scheduler,
    outcome: Option<RunOutcome>,
    trace: TraceMark,
    failures: usize,
    declared: Vec<bool>,
    pinned: PinnedPosition,
}

impl Checkpoint {
    pub fn step(&self) -> u64 {
        self.kernel.step
    }

    /// Bytes the checkpoint holds of its own, for the memory budget: its copy of the list of choices and
    /// of the kernel's tables (1 KiB a process, 4 KiB besides). Pipe pages are shared with the run and
    /// counted there (see [`Kernel::held_bytes`]).
    pub fn held_bytes(&self) -> u64 {
        self.scheduler.taken.size_bytes() + 4096 + 1024 * self.kernel.procs.len() as u64
    }
}

/// The summary of a finished run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub outcome: RunOutcome,
    pub steps: u64,
    pub trace_hash: u64,
    pub failures: Vec<ExpectationFailure>,
    pub choices: Vec<Pid>,
}

/// How far the scenario's `schedule` line has been followed: the entry, and the steps taken of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct PinnedPosition {
    entry: usize,
    taken: u32,
}

#[derive(Clone, Debug)]
pub struct Simulation {
    /// The same program as `kernel.program`, held here so a step can borrow it beside the kernel.
    program: Arc<Program>,
    kernel: Kernel,
    scheduler: Scheduler,
    trace: Trace,
    outcome: Option<RunOutcome>,
    failures: Vec<ExpectationFailure>,
    /// Once the run has ended: whether each declared outcome (`outcome ... { }`) happened.
    declared: Vec<bool>,
    /// The scenario's pinned schedule, if it is followed.
    pinned: Arc<[ScheduleEntry]>,
    pinned_at: PinnedPosition,
    config: RunConfig,
    /// Bytes the caller keeps for this run (the playground's checkpoints), for the memory budget.
    held_outside: u64,
}

/// Steps between two checks of the memory budget (reads check it before they copy).
const MEMORY_CHECK_INTERVAL: u64 = 64;

impl Simulation {
    /// Compiles `scenario` and sets up its processes. Fails only when the scenario cannot run at all.
    pub fn new(scenario: &Scenario, config: RunConfig) -> Result<Simulation, Diagnostic> {
        let program = Program::compile(scenario)?;
        Ok(Simulation::from_program(Arc::new(program), config))
    }

    pub fn from_program(program: Arc<Program>, mut config: RunConfig) -> Simulation {
        let limits = Limits { max_memory_bytes: config.memory_budget, ..Limits::DEFAULT };
        config.max_steps = config.max_steps.min(limits.max_steps_ceiling);
        let mut trace = if !config.keep_events && config.pack_events {
            Trace::new_packed()
        } else {
            Trace::new(config.keep_events)
        };
        let scheduler = Scheduler::new(config.policy.clone(), config.seed);
        // Too many processes to even start: run a kernel with only init, and end the run at once.
        let (program, mut kernel, limit_hit) = match Kernel::new(program.clone(), limits, &mut trace) {
            Ok(kernel) => (program, kernel, None),
            Err(hit) => {
                let mut empty = (*program).clone();
                empty.processes.clear();
                let empty = Arc::new(empty);
                let mut fresh = Trace::new(config.keep_events);
                if !config.keep_events && config.pack_events {
                    fresh = Trace::new_packed();
                }
                trace = fresh;
                let kernel = Kernel::new(empty.clone(), limits, &mut trace).expect("no processes fit every limit");
                (empty, kernel, Some(hit))
            }
        };
        kernel.footprint.enabled = config.track_footprints;
        let follow = config.follow_schedule && !matches!(config.policy, Policy::Choices { .. });
        let pinned: Arc<[ScheduleEntry]> = if follow { program.schedule.clone().into() } else { Arc::from([]) };
        let mut simulation = Simulation {
            program,
            kernel,
            scheduler,
            trace,
            outcome: None,
            failures: Vec::new(),
            declared: Vec::new(),
            pinned,
            pinned_at: PinnedPosition::default(),
            config,
            held_outside: 0,
        };
        simulation.refresh_read_ceiling(simulation.held_bytes());
        if let Some(hit) = limit_hit {
            simulation.finish(RunOutcome::LimitReached { limit: hit.limit.to_string(), detail: hit.detail });
        }
        simulation
    }

    pub fn program(&self) -> &Arc<Program> {
        &self.kernel.program
    }

    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Takes the events recorded since the last call out of the trace, for a caller that shows a run as
    /// it goes and keeps none of it (`ipclab sim`): the trace's memory then stays flat however long the
    /// run. The hash is unaffected (every event is hashed as it is recorded); checkpoints taken before
    /// no longer restore the events taken.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.trace.events)
    }

    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    pub fn outcome(&self) -> Option<&RunOutcome> {
        self.outcome.as_ref()
    }

    pub fn is_finished(&self) -> bool {
        self.outcome.is_some()
    }

    /// Processes that may take the next step, ascending by pid.
    pub fn runnable(&self) -> &[Pid] {
        if self.outcome.is_some() {
            &[]
        } else {
            self.kernel.runnable()
        }
    }

    /// The pid chosen at every step so far: replaying them as [`Policy::Choices`] repeats the run.
    pub fn choices(&self) -> Vec<Pid> {
        self.scheduler.taken.to_vec()
    }

    pub fn steps(&self) -> u64 {
        self.kernel.step
    }

    /// Once the run has ended, whether each of the scenario's declared outcomes happened (in the order
    /// they are written); empty before.
    pub fn declared_outcomes(&self) -> &[bool] {
        &self.declared
    }

    pub fn failures(&self) -> &[ExpectationFailure] {
        &self.failures
    }

    /// What the last step read and changed (empty unless [`RunConfig::track_footprints`] is on).
    pub fn footprint(&self) -> &Footprint {
        &self.kernel.footprint
    }

    /// Starts or stops recording each step's footprint (see [`RunConfig::track_footprints`]).
    pub fn track_footprints(&mut self, on: bool) {
        self.config.track_footprints = on;
        self.kernel.footprint.enabled = on;
    }

    /// Whether the scenario's pinned schedule still has choices to make.
    pub fn following_schedule(&self) -> bool {
        self.pinned_at.entry < self.pinned.len()
    }

    /// Takes one step with the scheduler's own choice.
    pub fn step(&mut self) -> Result<StepStatus, SimError> {
        self.scheduled_step()
    }

    /// The body of [`Simulation::step`], inlined into [`Simulation::run`]'s loop as well: that loop is
    /// the simulator's hot path, and whether it pays for a call per step must not be left to chance.
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn scheduled_step(&mut self) -> Result<StepStatus, SimError> {
        if self.outcome.is_some() {
            return Ok(StepStatus::Finished);
        }
        if self.end_if_over() {
            return Ok(StepStatus::Finished);
        }
        if self.pinned_at.entry < self.pinned.len() {
            return self.pinned_step();
        }
        let pid = self
            .scheduler
            .choose(self.kernel.step + 1, self.kernel.runnable())
            .map_err(|error| SimError::InvalidChoice(*error))?;
        self.run_one(pid)
    }

    /// The next step of the scenario's `schedule` line.
    #[cold]
    fn pinned_step(&mut self) -> Result<StepStatus, SimError> {
        let entry = &self.pinned[self.pinned_at.entry];
        let step = self.kernel.step + 1;
        let pid = match &entry.target {
            ScheduleTarget::Pid(pid) => *pid,
            ScheduleTarget::Name(name) => self.runnable_named(name).map_err(|message| SimError::Schedule {
                step,
                entry: self.pinned_at.entry + 1,
                message,
            })?,
        };
        if !self.kernel.runnable().contains(&pid) {
            return Err(SimError::Schedule {
                step,
                entry: self.pinned_at.entry + 1,
                message: format!("pid {pid} is not runnable (runnable: {})", self.runnable_text()),
            });
        }
        self.pinned_at.taken += 1;
        if self.pinned_at.taken >= entry.times {
            self.pinned_at = PinnedPosition { entry: self.pinned_at.entry + 1, taken: 0 };
        }
        self.scheduler.record(pid);
        self.run_one(pid)
    }

    fn runnable_text(&self) -> String {
        let runnable: Vec<String> =
            self.kernel.runnable().iter().map(|pid| format!("{} ({})", self.kernel.process(*pid).name, pid)).collect();
        if runnable.is_empty() {
            "none".to_string()
        } else {
            runnable.join(", ")
        }
    }

    /// The runnable process a name stands for: the one with exactly that name (`child#2`), or else the
    /// only runnable one forked from that line.
    pub fn runnable_named(&self, name: &str) -> Result<Pid, String> {
        let runnable = self.kernel.runnable();
        if let Some(pid) = runnable.iter().find(|pid| &*self.kernel.process(**pid).name == name) {
            return Ok(*pid);
        }
        let same_line: Vec<Pid> = runnable
            .iter()
            .copied()
            .filter(|pid| crate::kernel::base_name(&self.kernel.process(*pid).name) == name)
            .collect();
        match same_line.as_slice() {
            [pid] => Ok(*pid),
            [] => Err(format!("no runnable process is named {name} (runnable: {})", self.runnable_text())),
            _ => Err(format!(
                "several runnable processes come from `{name}` ({}); name one of them",
                same_line.iter().map(|pid| self.kernel.process(*pid).name.to_string()).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// Takes one step with `pid`, chosen from outside (a person playing the scheduler).
    pub fn step_as(&mut self, pid: Pid) -> Result<StepStatus, SimError> {
        if self.outcome.is_some() {
            return Ok(StepStatus::Finished);
        }
        if self.end_if_over() {
            return Ok(StepStatus::Finished);
        }
        if !self.kernel.runnable().contains(&pid) {
            return Err(SimError::InvalidChoice(ChoiceError {
                step: self.kernel.step + 1,
                wanted: pid,
                runnable: self.kernel.runnable().to_vec(),
            }));
        }
        // A choice from outside ends the scenario's pinned schedule: the person decides from now on.
        self.pinned_at.entry = self.pinned.len();
        self.scheduler.record(pid);
        self.run_one(pid)
    }

    /// Steps until the run ends.
    pub fn run(&mut self) -> Result<&RunOutcome, SimError> {
        while self.scheduled_step()? != StepStatus::Finished {}
        Ok(self.outcome.as_ref().expect("a finished run has an outcome"))
    }

    #[inline]
    fn end_if_over(&mut self) -> bool {
        if !self.kernel.runnable().is_empty() && self.kernel.step < self.config.max_steps {
            return false;
        }
        self.end_now()
    }

    #[cold]
    fn end_now(&mut self) -> bool {
        // Nobody can run, but a timer can fire: time jumps to it (see `kernel::time`).
        while self.kernel.runnable().is_empty() && self.kernel.step < self.config.max_steps {
            if !self.kernel.jump_to_next_timer(&mut self.trace) {
                break;
            }
        }
        // At the step limit, nobody can run but a timer is still to fire: the run is not stuck (time
        // would wake someone), the limit ended it.
        let timed = !self.kernel.timers.is_empty() && !self.kernel.all_exited();
        if self.kernel.runnable().is_empty() && !(timed && self.kernel.step >= self.config.max_steps) {
            let outcome = self.kernel.stuck_outcome();
            self.finish(outcome);
            return true;
        }
        if self.kernel.step >= self.config.max_steps {
            self.finish(RunOutcome::StepLimit { steps: self.kernel.step });
            return true;
        }
        false
    }

    #[cfg_attr(not(feature = "small"), inline(always))]
    fn run_one(&mut self, pid: Pid) -> Result<StepStatus, SimError> {
        let previous = self.scheduler.before_last();
        if previous != Some(pid) {
            self.trace.record_switch((self.kernel.step + 1) as u32, previous, pid);
        }
        let watched = self.kernel.footprint.enabled.then_some((self.failures.len(), !self.kernel.timers.is_empty()));
        let stepped = self.kernel.step(&self.program, pid, &mut self.trace);
        if !self.kernel.completions.is_empty() {
            self.check_step_expectations();
        }
        if let Some(before) = watched {
            self.watch_footprint(before);
        }
        if let Err(hit) = stepped {
            self.finish(RunOutcome::LimitReached { limit: hit.limit.to_string(), detail: hit.detail });
            if watched.is_some() {
                self.kernel.footprint.everything();
            }
            return Ok(StepStatus::Ran(pid));
        }
        if CAN_CHECK_INVARIANTS && self.config.check_invariants {
            self.kernel
                .check_invariants()
                .map_err(|message| SimError::InvariantBroken { step: self.kernel.step, message })?;
        }
        if self.kernel.runnable().is_empty() {
            // End at once, so that the outcome is known as soon as the last step is shown.
            self.end_if_over();
        }
        if self.kernel.step.is_multiple_of(MEMORY_CHECK_INTERVAL) && self.outcome.is_none() {
            self.check_memory();
        }
        if watched.is_some() && self.outcome.is_some() {
            self.kernel.footprint.everything();
        }
        Ok(StepStatus::Ran(pid))
    }

    /// What the kernel's lists of objects cannot say about a step: whether it fell while a timer was set
    /// (or set one), or failed an expectation (see [`Footprint::everything`]).
    #[cold]
    #[inline(never)]
    fn watch_footprint(&mut self, (failures, timers): (usize, bool)) {
        if timers || !self.kernel.timers.is_empty() || self.failures.len() != failures {
            self.kernel.footprint.everything();
        }
    }

    /// Ends the run when it holds more than [`Limits::max_memory_bytes`].
    #[cold]
    #[inline(never)]
    fn check_memory(&mut self) {
        let held = self.held_bytes();
        let budget = self.kernel.limits.max_memory_bytes;
        self.refresh_read_ceiling(held);
        if held > budget {
            let detail = format!(
                "the run holds {} MiB (pipes, trace, schedule and checkpoints), more than its memory budget of {} MiB",
                held >> 20,
                budget >> 20
            );
            self.finish(RunOutcome::LimitReached { limit: "max_memory_bytes".to_string(), detail });
        }
    }

    /// Until the next check, reads may add what the budget leaves (when the trace keeps their bytes).
    fn refresh_read_ceiling(&mut self, held: u64) {
        let limits = &self.kernel.limits;
        let room = limits.max_memory_bytes.saturating_sub(held);
        self.kernel.read_ceiling = if self.trace.keeps_data() {
            limits.max_trace_data_bytes.min(self.trace.data_len().saturating_add(room))
        } else {
            limits.max_trace_data_bytes
        };
    }

    /// Bytes the run holds, as [`Limits::max_memory_bytes`] counts them: the kernel's pipe pages, the
    /// trace, the list of choices, and what the caller said it keeps for the run.
    pub fn held_bytes(&self) -> u64 {
        self.kernel.held_bytes() + self.trace.held_bytes() + self.scheduler.taken.size_bytes() + self.held_outside
    }

    /// Tells the run how many bytes its caller keeps for it (the playground's checkpoints), so that the
    /// memory budget counts them.
    pub fn set_held_outside(&mut self, bytes: u64) {
        self.held_outside = bytes;
    }

    #[cold]
    #[inline(never)]
    fn check_step_expectations(&mut self) {
        let completions = self.kernel.take_completions();
        expect::check_completions(&self.kernel, &completions, &mut self.failures, &mut self.trace);
    }

    /// Ends a run that would go on forever (the explorer found a schedule that comes back to a state it
    /// had passed, every process that could run taking part): its expectations are checked as at a
    /// step limit, which is where such a run stops.
    pub fn end_running_forever(&mut self) {
        if self.outcome.is_none() {
            self.finish(RunOutcome::StepLimit { steps: self.kernel.step });
        }
    }

    fn finish(&mut self, outcome: RunOutcome) {
        let expected_end = self.kernel.program.expected_end.clone();
        expect::check_end(&self.kernel, expected_end.as_ref(), &outcome, &mut self.failures, &mut self.trace);
        self.declared = expect::check_outcomes(&self.kernel, &outcome, &mut self.failures, &mut self.trace);
        // The IPC objects that outlive the run, as a real program would leave them behind.
        if crate::IPC {
            self.kernel.record_leftovers(&mut self.trace);
        }
        self.trace.record(Event {
            step: self.kernel.step as u32,
            kind: EventKind::End { outcome: Box::new(outcome.clone()) },
        });
        self.outcome = Some(outcome);
    }

    pub fn report(&self) -> Option<Report> {
        Some(Report {
            outcome: self.outcome.clone()?,
            steps: self.kernel.step,
            trace_hash: self.trace.hash(),
            failures: self.failures.clone(),
            choices: self.scheduler.taken.to_vec(),
        })
    }

    /// A plain picture of the kernel now, for user interfaces.
    pub fn snapshot(&self) -> crate::present::snapshot::Snapshot {
        crate::present::snapshot::Snapshot::of(
            &self.kernel,
            self.runnable(),
            self.scheduler.last(),
            self.outcome.as_ref(),
        )
    }

    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            kernel: self.kernel.clone(),
            scheduler: self.scheduler.clone(),
            outcome: self.outcome.clone(),
            trace: self.trace.mark(),
            failures: self.failures.len(),
            declared: self.declared.clone(),
            pinned: self.pinned_at,
        }
    }

    /// Goes back to a checkpoint taken earlier in this same run, which is not needed again: its kernel
    /// is moved in, not copied.
    pub fn restore_owned(&mut self, checkpoint: Checkpoint) {
        self.kernel = checkpoint.kernel;
        self.scheduler = checkpoint.scheduler;
        self.outcome = checkpoint.outcome;
        self.trace.rewind(&checkpoint.trace);
        self.failures.truncate(checkpoint.failures);
        self.declared = checkpoint.declared;
        self.pinned_at = checkpoint.pinned;
    }

    /// Goes back to a checkpoint taken earlier in this same run.
    pub fn restore(&mut self, checkpoint: &Checkpoint) {
        self.restore_owned(checkpoint.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simulation(text: &str, config: RunConfig) -> Simulation {
        Simulation::new(&crate::parse(text).expect("parses"), config).expect("compiles")
    }

    /// Going back to a checkpoint gives the checkpoint's kernel, every field of it, from a later point
    /// of the run and from an earlier, and again after going back from the end.
    #[test]
    fn a_restored_checkpoint_is_the_kernel_it_kept() {
        let text = "process main {
  p = pipe
  s = semget IPC_PRIVATE 1 IPC_CREAT|0600
  fork child {
    write p.w \"hello\" -> 5
    semop s {0, 1}
  }
  semop s {0, -1}
  read p.r 5 -> \"hello\"
  wait
  semctl s 0 IPC_RMID
}
";
        let mut simulation = simulation(text, RunConfig::default());
        let start = simulation.checkpoint();
        for _ in 0..4 {
            simulation.step().unwrap();
        }
        let middle = simulation.checkpoint();
        while !simulation.is_finished() {
            simulation.step().unwrap();
        }
        let end = simulation.checkpoint();
        for checkpoint in [&middle, &start, &end, &middle] {
            simulation.restore(checkpoint);
            assert_eq!(format!("{:?}", simulation.kernel()), format!("{:?}", checkpoint.kernel));
            assert_eq!(simulation.kernel().state_hash(), checkpoint.kernel.state_hash());
        }
    }

    /// The state hash reads the bytes waiting in a pipe, every one of them: two runs that differ only in
    /// one byte (the first, one in the middle, the last of twelve) stand in different states.
    #[test]
    fn the_state_hash_sees_every_byte_waiting_in_a_pipe() {
        let hash = |payload: &str| {
            let text = format!("process main {{\n  p = pipe\n  write p.w \"{payload}\"\n  sched_yield\n}}\n");
            let mut simulation = simulation(&text, RunConfig::default());
            for _ in 0..2 {
                simulation.step().unwrap();
            }
            assert_eq!(simulation.kernel().pipes.iter().flatten().map(|pipe| pipe.buffer.len_bytes()).sum::<u32>(), 12);
            simulation.kernel().state_hash()
        };
        let base = hash("abcdefghijkl");
        assert_eq!(hash("abcdefghijkl"), base);
        for other in ["Xbcdefghijkl", "abcdefXhijkl", "abcdefghijkX"] {
            assert_ne!(hash(other), base, "{other}");
        }
    }

    #[test]
    fn left_counts_the_ipc_objects_a_run_leaves_behind() {
        let text = "process main {
  q = msgget IPC_PRIVATE IPC_CREAT|0600
  gone = msgget IPC_PRIVATE IPC_CREAT|0600
  msgctl gone IPC_RMID
  s = semget IPC_PRIVATE 1 IPC_CREAT|0600
  m = shmget IPC_PRIVATE 4096 IPC_CREAT|0600
  shmctl m IPC_RMID
}
process left {
  exit 3
}
outcome always \"what ipcs shows\" {
  left msg_queues == 1
  left sem_sets == 1
  left shm_segments == 0
  left mqueues == 0
  left named_sems == 0
  left ipc_objects == 2
  left exited 3
}
outcome never \"nothing is left\" {
  left ipc_objects < 1
}
";
        let scenario = crate::parse(text).expect("parses");
        let printed = crate::print(&scenario);
        assert!(printed.contains("  left msg_queues == 1\n") && printed.contains("  left exited 3\n"), "{printed}");
        assert_eq!(crate::print(&crate::parse(&printed).expect("the printed form parses")), printed);
        let mut run = simulation(text, RunConfig::default());
        run.run().unwrap();
        assert_eq!(run.declared_outcomes(), [true, false]);
        assert!(run.report().unwrap().failures.is_empty());
        let error = crate::parse("process a {\n}\noutcome never {\n  left pipes > 0\n}\n").unwrap_err();
        assert!(format!("{error:?}").contains("the kinds are `msg_queues`"), "{error:?}");
    }

    #[test]
    fn copied_counts_bytes_by_mechanism_and_direction() {
        let text = "process main {
  p = pipe
  write p.w \"hello\"
  read p.r 2
  s = socketpair SOCK_STREAM
  send s.0 \"abc\"
}
outcome always \"what crossed\" {
  copied pipes to_kernel == 5
  copied pipes to_user == 2
  copied pipes both_ways == 7
  copied sockets to_kernel == 3
  copied sockets to_user == 0
  copied msg_queues both_ways == 0
  copied all to_kernel == 8
}
outcome always \"a wrong count\" {
  copied pipes to_user > 2
}
";
        let scenario = crate::parse(text).expect("parses");
        let printed = crate::print(&scenario);
        assert!(printed.contains("  copied pipes both_ways == 7\n"), "{printed}");
        assert_eq!(crate::print(&crate::parse(&printed).expect("the printed form parses")), printed);
        let mut run = simulation(text, RunConfig::default());
        run.run().unwrap();
        assert_eq!(run.declared_outcomes(), [true, false]);
        // The `always` that did not happen is the run's one failed expectation.
        assert_eq!(run.report().unwrap().failures.len(), 1);
        let snapshot = run.snapshot();
        let rows: Vec<(&str, u64, u64)> =
            snapshot.copies.iter().map(|row| (row.mechanism.as_str(), row.to_kernel, row.to_user)).collect();
        assert_eq!(rows, [("pipes", 5, 2), ("sockets", 3, 0)]);
        assert_eq!((snapshot.copied_to_kernel, snapshot.copied_to_user), (8, 2));
        let error = crate::parse("process a {\n}\noutcome never {\n  copied pipes sideways == 0\n}\n").unwrap_err();
        assert!(format!("{error:?}").contains("the directions are `to_kernel`"), "{error:?}");
    }

    #[test]
    fn calls_counts_each_process_s_system_calls_and_not_its_instructions() {
        // main: pipe, mmap, two forks, write, two waits (each may sleep, and counts once) and its exit: 8
        // calls; its store and load are instructions, none. Each child makes its read and its exit.
        let text = "process main {
  p = pipe
  m = mmap 4096 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS
  store m 0 1
  repeat 2 {
    fork child {
      read p.r 1
    }
  }
  x = load m 0
  write p.w \"ab\"
  wait
  wait
}
outcome always \"what each made\" {
  calls main == 8
  calls child == 2
}
outcome always \"a wrong count\" {
  calls main < 8
}
";
        let scenario = crate::parse(text).expect("parses");
        let printed = crate::print(&scenario);
        assert!(printed.contains("  calls main == 8\n"), "{printed}");
        assert_eq!(crate::print(&crate::parse(&printed).expect("the printed form parses")), printed);
        let mut run = simulation(text, RunConfig::default());
        run.run().unwrap();
        assert_eq!(run.declared_outcomes(), [true, false]);
        let scenario = crate::parse("process a {\n}\noutcome never {\n  calls b == 0\n}\n").expect("parses");
        let error = crate::lang::compile::Program::compile(&scenario).unwrap_err();
        assert!(format!("{error:?}").contains("no process is called `b`"), "{error:?}");
    }

    #[test]
    fn a_named_semaphore_enters_the_kernel_only_to_sleep_or_to_wake_a_sleeper() {
        // main: sem_open, fork, sched_yield, the sem_post that wakes the waiter, wait, sem_unlink and its
        // exit: 7. Its sem_wait above 0, failed sem_trywait, second sem_post and sem_getvalue stay in
        // user space. The waiter's sem_wait sleeps in the kernel (one futex wait), then its exit: 2.
        let text = "process main {
  s = sem_open \"/c\" O_CREAT 0600 1
  sem_wait s
  sem_trywait s
  fork waiter {
    sem_wait s
  }
  sched_yield
  sem_post s
  sem_post s
  sem_getvalue s
  wait
  sem_unlink \"/c\"
}
outcome always \"counted\" {
  calls main == 7
  calls waiter == 2
}
";
        let mut run = simulation(text, RunConfig::default());
        run.run().unwrap();
        assert_eq!(run.declared_outcomes(), [true]);
    }

    #[test]
    fn a_named_read_keeps_its_first_and_last_byte_and_its_runs() {
        // Each check that fails exits with its own status; a failed read leaves the fields as they were.
        let text = "process a expect exited 0 {
  p = pipe
  write p.w \"AABBA\"
  r = read p.r 3
  if r != 3 || r.first != 65 || r.last != 66 || r.runs != 2 { exit 1 }
  r = read p.r 10
  if r != 2 || r.first != 66 || r.last != 65 || r.runs != 2 { exit 2 }
  r = read 99 10
  if r != -1 || r.first != 66 || r.runs != 2 { exit 3 }
  close p.w
  r = read p.r 10
  if r != 0 || r.first != -1 || r.last != -1 || r.runs != 0 { exit 4 }
}
";
        let mut run = simulation(text, RunConfig::default());
        run.run().unwrap();
        let report = run.report().unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert!(matches!(report.outcome, RunOutcome::AllExited), "{:?}", report.outcome);
    }

    #[test]
    fn a_run_past_its_memory_budget_ends_with_that_limit() {
        // Reads keep what they return: 64 KiB a read reaches a budget of 4 MiB by the 64th read.
        let text = "process a {\n p = pipe\n fork w {\n  repeat 1000 {\n   write p.w 65536 bytes\n  }\n }\n repeat 1000 {\n  read p.r 65536\n }\n}\n";
        let config = RunConfig { memory_budget: 4 << 20, ..RunConfig::default() };
        let mut run = simulation(text, config.clone());
        let outcome = run.run().unwrap().clone();
        let RunOutcome::LimitReached { limit, detail } = outcome else { panic!("{outcome:?}") };
        assert_eq!(limit, "max_memory_bytes");
        assert!(detail.contains("memory budget of 4 MiB"), "{detail}");
        // Checked every 64 steps: the run may pass the budget by what 64 steps add (here their events
        // and a pipe's pages).
        assert!(run.held_bytes() <= (4 << 20) + (128 << 10), "held {} bytes", run.held_bytes());
        assert!(run.trace().data_len() > 3 << 20, "the run went on until it was close to the budget");
        // Kept events count too: a loop of yields with a budget of 64 KiB ends within 64 steps of it.
        let mut yields = simulation(
            "process a {\n repeat 100000 {\n  sched_yield\n }\n}\n",
            RunConfig { memory_budget: 64 << 10, ..RunConfig::default() },
        );
        let outcome = yields.run().unwrap().clone();
        assert!(
            matches!(&outcome, RunOutcome::LimitReached { limit, .. } if limit == "max_memory_bytes"),
            "{outcome:?}"
        );
        let steps_at_budget = (64 << 10) / crate::trace::EVENT_BYTES;
        assert!(yields.steps() <= steps_at_budget + 64, "{} steps", yields.steps());
        // The same budget gives the same run: where it ends is part of the trace.
        let mut again = simulation(text, config);
        again.run().unwrap();
        assert_eq!(again.trace().hash(), run.trace().hash());
    }

    #[test]
    fn a_choice_of_a_process_that_cannot_run_is_refused_and_changes_nothing() {
        let mut run =
            simulation("process a {\n p = pipe\n read p.r 1\n}\nprocess b {\n exit 0\n}\n", RunConfig::default());
        assert_eq!(run.runnable(), &[2, 3]);
        let error = run.step_as(7).unwrap_err();
        assert_eq!(error, SimError::InvalidChoice(ChoiceError { step: 1, wanted: 7, runnable: vec![2, 3] }));
        assert_eq!(run.steps(), 0);
        assert_eq!(run.step_as(3), Ok(StepStatus::Ran(3)));
        assert_eq!(run.choices(), vec![3]);
    }

    #[test]
    fn a_run_that_reaches_its_step_limit_with_only_a_timer_to_wait_for_ends_at_the_limit_not_in_a_deadlock() {
        let text = "process a {\n nanosleep 1000000\n}\nprocess b {\n n = 1\n}\n";
        let config = RunConfig { max_steps: 2, ..RunConfig::default() };
        let mut run = simulation(text, config);
        assert_eq!(run.run().unwrap(), &RunOutcome::StepLimit { steps: 2 });
        // One step more and the timer fires: the sleeper runs again, to the end.
        let mut run = simulation(text, RunConfig { max_steps: 4, ..RunConfig::default() });
        assert_eq!(run.run().unwrap(), &RunOutcome::AllExited);
        // Nothing left to wake anyone: a deadlock, at the limit or not.
        let stuck = "process a {\n p = pipe\n read p.r 1\n}\n";
        for max_steps in [2, 10] {
            let mut run = simulation(stuck, RunConfig { max_steps, ..RunConfig::default() });
            assert!(matches!(run.run().unwrap(), RunOutcome::Deadlock { .. }), "{max_steps}");
        }
    }

    #[test]
    fn a_run_ends_at_its_step_limit_and_says_so() {
        let config = RunConfig { max_steps: 10, ..RunConfig::default() };
        let mut run = simulation("expect step-limit\nprocess a {\n repeat 100 {\n  sched_yield\n }\n}\n", config);
        assert_eq!(run.run().unwrap(), &RunOutcome::StepLimit { steps: 10 });
        assert!(run.failures().is_empty());
        assert_eq!(run.step(), Ok(StepStatus::Finished));
    }

    #[test]
    fn the_end_is_known_as_soon_as_the_last_step_is_taken() {
        let mut run = simulation("process a {\n exit 3\n}\n", RunConfig::default());
        assert_eq!(run.step(), Ok(StepStatus::Ran(2)));
        assert!(run.is_finished());
        assert_eq!(run.report().unwrap().outcome, RunOutcome::AllExited);
    }

    #[test]
    fn too_many_processes_to_start_is_a_limit_not_a_crash() {
        let mut text = String::new();
        for index in 0..70 {
            text.push_str(&format!("process p{index} {{\n exit 0\n}}\n"));
        }
        let run = simulation(&text, RunConfig::default());
        match run.outcome() {
            Some(RunOutcome::LimitReached { limit, .. }) => assert_eq!(limit, "max_processes"),
            other => panic!("expected the process limit, got {other:?}"),
        }
    }

    #[test]
    fn a_scenario_s_schedule_is_followed_then_the_policy_takes_over() {
        let text =
            "schedule b*2 a\nprocess a {\n sched_yield\n sched_yield\n}\nprocess b {\n sched_yield\n sched_yield\n}\n";
        let mut run = simulation(text, RunConfig::default());
        run.run().unwrap();
        assert_eq!(run.choices(), vec![3, 3, 2, 3, 2, 2]);
        // Explicit choices replace the scenario's schedule.
        let mut replay =
            simulation(text, RunConfig { policy: Policy::Choices { pids: vec![2] }, ..RunConfig::default() });
        replay.step().unwrap();
        assert_eq!(replay.choices(), vec![2]);
    }

    #[test]
    fn a_schedule_line_names_the_second_child_of_a_line_as_child_2() {
        // Two children from one `fork` line are `child` and `child#2`; `#` right before a digit does not
        // start a comment there, so the line's order is followed, not cut short.
        let text =
            "schedule main*2 child#2 child\nprocess main {\n repeat 2 {\n  fork child {\n   exit 0\n  }\n }\n}\n";
        let mut run = simulation(text, RunConfig::default());
        for _ in 0..4 {
            run.step().unwrap();
        }
        assert_eq!(run.choices(), vec![2, 2, 4, 3]);
        // Anywhere else a name with `#2` is no name the scenario gave: an error, not a comment.
        let diagnostics = crate::lang::parse("process main {\n kill child#2 SIGTERM\n}\n").unwrap_err();
        assert!(diagnostics.iter().any(|diag| diag.message.contains("child#2")), "{diagnostics:?}");
        // A comment still starts at a `#` with a space before it, or with no digit after it.
        assert!(crate::lang::parse("process main { # child#2\n exit 0 #2\n}#x\n").is_ok());
    }

    #[test]
    fn a_schedule_that_names_no_runnable_process_is_an_error_that_says_where() {
        let text = "schedule c\nprocess a {\n fork c {\n  exit 0\n }\n}\n";
        let mut run = simulation(text, RunConfig::default());
        let error = run.step().unwrap_err();
        assert!(error.to_string().contains("entry 1, at step 1: no runnable process is named c"), "{error}");
    }

    #[test]
    fn a_loop_that_never_calls_anything_ends_the_run_with_a_limit() {
        let mut run =
            simulation("process a {\n sched_yield\n n = 0\n while 1 {\n  n = n + 1\n }\n}\n", RunConfig::default());
        match run.run().unwrap() {
            RunOutcome::LimitReached { limit, detail } => {
                assert_eq!(limit, "max_user_ops_per_step");
                assert!(detail.contains("line 4"), "{detail}");
            }
            other => panic!("expected the user-space limit, got {other:?}"),
        }
    }
}
