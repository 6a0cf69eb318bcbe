//! Every schedule of a scenario: each distinct way a run can end, how many schedules end that way, and
//! the shortest schedule that does.
//!
//! The explorer walks the tree of scheduling choices depth first, with a stack of its own rather than
//! the thread's (a schedule can be thousands of steps deep): at each step, every runnable process is
//! tried in turn from a [`Checkpoint`]. Two schedules that reach the same *node* have the same
//! futures, so a node's summary (its outcomes, with the number of complete schedules from it to each and
//! the shortest) is computed once and reused. A node is the kernel's canonical state
//! ([`crate::kernel::Kernel::state_hash`], which decides the rest of the run) together with what the
//! run has already shown that the state no longer holds: the expectations that failed so far and the
//! end of each process that has ended. The counts are exact: the number of schedules from a node is the
//! sum over its children, whether or not a child was reached before (without reduction).
//!
//! A node's summary stands for a later visit only where the depth limit cuts the same schedules: each
//! summary keeps its height (the longest schedule below it), a visit reuses it only if that schedule
//! still fits below the limit, and a summary holding schedules the limit cut is kept for visits at its
//! own depth alone (a node revisited deeper, where its schedules would be cut, is explored again there
//! and counted again as a node).
//!
//! With [`Reduction::SleepSets`], partial-order reduction by sleep sets (Godefroid, 1996): two steps of
//! different processes are independent when their footprints ([`crate::kernel::Footprint`], the
//! objects each read and wrote; a System V semaphore set is one object) do not conflict, and then
//! either order leads to the same state. A step tried from a node goes to sleep in its later siblings'
//! subtrees and stays asleep down a path as long as the steps taken are independent of it: trying it
//! there would only reach, in another order, states already reached. Every distinct outcome is still
//! found; a count is then of the schedules explored, each standing for a class of schedules that differ
//! only in the order of independent steps (not an exact count of classes: a reused node adds its
//! count however it was reached).
//!
//! Sleep sets with state caching are sound only with care: a node explored with some steps asleep
//! did not try them, so its summary stands for a later visit only if those steps are asleep on that
//! visit too. The memo keeps, for each node, the runnable processes never tried from it; a visit on
//! which one of them is awake tries just those, and the node's summary grows by what they find
//! (Godefroid's algorithm with stored sleep sets). A cycle back to a node on the path is cut as
//! without reduction, and the node on the path wakes the steps asleep there but not at the cut, so
//! that it answers for the cut visit's futures. Each (state, process) step is so taken at most once
//! (once per depth, where the depth limit cuts schedules below the state):
//! the reduction never explores more states or steps than the full exploration, and with every state
//! cached it saves steps, not states. Bounded preemption and sleep sets together could miss outcomes
//! and are refused ([`refused`]).
//!
//! States are also left out, by ample sets in scenarios that are [`quiet`]: a process returning a
//! result another handed it, or a process whose next step touches only pipes and files that no other
//! process can reach before it moves ([`alone`]), is the one step tried from its node; failing those,
//! the group of every process whose next step may touch a pipe or a file, when no other can reach one
//! or touch the group, has its steps tried in place of all ([`alone::Gates::group`]). Each with the
//! cycle proviso.
//!
//! States are identified by a 64-bit hash: two different nodes with the same hash would be merged
//! (about one chance in 10^10 for a million nodes).

use crate::expect::ExpectationFailure;
use crate::kernel::Footprint;
use crate::present::render::status_words;
use crate::sim::{Checkpoint, Simulation, StepStatus};
use crate::trace::{ObjectRef, Pid, TraceHasher};
use std::collections::BTreeMap;
use std::rc::Rc;

mod alone;

/// How far the explorer may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExploreLimits {
    /// Distinct nodes at most; past it the exploration stops and says it is incomplete.
    pub max_nodes: u64,
    /// Steps in one schedule at most; a schedule that reaches it ends with the outcome `depth limit`.
    pub max_depth: u64,
    /// Only schedules with at most this many preemptions (a switch away from a process that could have
    /// gone on), as context bounding does (Musuvathi and Qadeer, PLDI 2007): most bugs need few, and the
    /// schedules with few are far fewer. `None`: every schedule.
    pub max_preemptions: Option<u32>,
    /// Partial-order reduction, if any (see [`Reduction`]).
    pub reduction: Reduction,
}

impl Default for ExploreLimits {
    fn default() -> ExploreLimits {
        ExploreLimits { max_nodes: 1_000_000, max_depth: 10_000, max_preemptions: None, reduction: Reduction::None }
    }
}

/// How many of the schedules that differ only in the order of independent steps are explored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reduction {
    /// Every schedule: the counts are numbers of schedules.
    #[default]
    None,
    /// Sleep sets (Godefroid, 1996): a step that was tried from a node is not tried again after
    /// steps independent of it, where it would only lead to the same states in another order. Two
    /// steps are independent when their [`crate::kernel::Footprint`]s do not conflict. Every
    /// distinct outcome is still found; the counts are numbers of schedules explored, each standing
    /// for the schedules that differ from it only in the order of independent steps.
    SleepSets,
}

impl Reduction {
    /// `none` or `sleep-sets`.
    pub fn name(self) -> &'static str {
        match self {
            Reduction::None => "none",
            Reduction::SleepSets => "sleep-sets",
        }
    }
}

/// Why a combination of limits cannot be explored soundly, if it cannot.
pub fn refused(limits: &ExploreLimits) -> Option<String> {
    (limits.reduction != Reduction::None && limits.max_preemptions.is_some()).then(|| {
        "sleep sets and a bound on preemptions together could miss outcomes (a step put to sleep may be \
         the one that keeps a schedule within the bound): use one or the other"
            .to_string()
    })
}

/// One way a run ends: how, each process's end, and the expectations that failed (in words).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Outcome {
    /// `all-exited`, `deadlock`, `step-limit`, `depth-limit`, ...
    pub ending: String,
    /// Every process but `init`, by pid: its name and how it ended (`running` if it had not).
    pub processes: Vec<(Pid, String, String)>,
    /// `line:col name: expected X, got Y`, in the order they failed.
    pub failures: Vec<String>,
    /// Whether each of the scenario's declared outcomes (`outcome ... { }`) happened, in their order.
    pub declared: Vec<bool>,
}

impl Outcome {
    /// Whether every expectation held.
    pub fn holds(&self) -> bool {
        self.failures.is_empty()
    }

    /// The kind of end, for telling good runs from bad ones: `good` (every process exited and every
    /// expectation held), `fails` (they exited, and an expectation failed), or the ending itself
    /// (`deadlock`, `step-limit`, `cycle`, ...).
    pub fn category(&self) -> &str {
        if self.ending != "all-exited" {
            &self.ending
        } else if self.holds() {
            "good"
        } else {
            "fails"
        }
    }

    /// Whether the run went wrong: a failed expectation, or an end other than every process exiting.
    pub fn goes_wrong(&self) -> bool {
        self.category() != "good"
    }
}

/// Schedules that end one way: how many, and the shortest (the first found among the shortest, in
/// pid order).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Reached {
    pub schedules: u128,
    /// The pid that runs each step.
    pub shortest: Vec<Pid>,
}

/// What an exploration found.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Exploration {
    /// Every outcome with its schedules, in the order of [`Outcome`].
    pub outcomes: Vec<(Outcome, Reached)>,
    /// Distinct nodes explored.
    pub nodes: u64,
    /// Times a node's summary was reused instead of explored again.
    pub reused: u64,
    /// Steps simulated.
    pub steps: u64,
    /// Why the exploration stopped before its end, if it did (then the counts cover what was explored).
    pub incomplete: Option<String>,
    /// Times a schedule came back to a state it had passed (a cycle: the same choices again would run
    /// forever). Such a schedule is cut there and ends `cycle`; with cycles, a reused node's counts are
    /// those of its first exploration, so the counts are approximate (the outcomes found are all real,
    /// and every outcome the root can reach is found).
    pub cycles: u64,
    /// The reduction used: with one, each outcome's `schedules` counts the schedules explored, each
    /// standing for a class of schedules that differ only in the order of independent steps.
    pub reduction: Reduction,
    /// Whether the schedules explored stand for every schedule: an exhaustive exploration that reached
    /// its end with no bound on preemptions. Sampling, a bound and a cut leave schedules out, so that a
    /// declared outcome none of them refutes is not yet shown to hold ([`Verdict::settled`]).
    pub every_schedule: bool,
}

/// A declared outcome's verdict over the schedules explored: how many show it (witnesses) and how
/// many do not, and whether that is what its quantifier asks.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// `always "label"`, `never { deadlock }`, ...
    pub title: String,
    pub quantifier: &'static str,
    pub witnesses: u128,
    pub others: u128,
    /// `always`: no schedule without it; `never`: no schedule with it; `sometimes`: one with it.
    pub holds: bool,
    /// Whether the verdict is final: a schedule that ended and refutes `always` or `never` or shows
    /// `sometimes` settles it on its own; the other way round takes every schedule, explored to its end
    /// (none cut at the depth limit, whose continuations were not explored). A schedule cut at the depth
    /// limit counts among the witnesses or the others but refutes or shows nothing.
    pub settled: bool,
}

impl Verdict {
    /// The verdict on `declared` from ways schedules end: whether they show it, how they end, and how
    /// many; `every`: whether they stand for every schedule (see [`Verdict::settled`]).
    pub fn of(
        declared: &crate::lang::compile::DeclaredOutcome,
        ways: impl Iterator<Item = (bool, impl AsRef<str>, u128)>,
        every: bool,
    ) -> Verdict {
        use crate::lang::ast::Quantifier;
        let (mut witnesses, mut others) = (0u128, 0u128);
        // Whether a schedule that ended shows it, and whether one does not. A schedule cut at the
        // depth limit did not end: what it shows is not what its continuations would.
        let (mut shown, mut missed) = (false, false);
        for (shows, ending, schedules) in ways {
            if shows {
                witnesses = witnesses.saturating_add(schedules);
            } else {
                others = others.saturating_add(schedules);
            }
            if ending.as_ref() != "depth-limit" {
                shown |= shows;
                missed |= !shows;
            }
        }
        // One schedule that ended refutes `always` or `never`, or shows `sometimes`; the other way
        // round (an `always` or a `never` that holds, a `sometimes` that cannot happen) takes every one.
        let (holds, decided) = match declared.quantifier {
            Quantifier::Always => (!missed, missed),
            Quantifier::Never => (!shown, shown),
            Quantifier::Sometimes => (shown, shown),
        };
        Verdict {
            title: declared.title(),
            quantifier: declared.quantifier.word(),
            witnesses,
            others,
            holds,
            settled: decided || every,
        }
    }

    /// The verdict in a word: `holds`, `REFUTED` (both settled), `unproven` (no schedule explored
    /// refutes it, but not every schedule was explored) or `not seen` (`sometimes`, not shown by the
    /// schedules explored, nor ruled out).
    pub fn word(&self) -> &'static str {
        match (self.holds, self.settled) {
            (true, true) => "holds",
            (false, true) => "REFUTED",
            (true, false) => "unproven",
            (false, false) => "not seen",
        }
    }
}

impl Exploration {
    /// The verdict on each of `program`'s declared outcomes, over the schedules explored.
    pub fn verdicts(&self, program: &crate::lang::compile::Program) -> Vec<Verdict> {
        let every = self.every_schedule_ended();
        (0..program.outcomes.len())
            .map(|index| {
                let ways = self.outcomes.iter().map(|(outcome, reached)| {
                    (outcome.declared.get(index).copied().unwrap_or(false), outcome.ending.as_str(), reached.schedules)
                });
                Verdict::of(&program.outcomes[index], ways, every)
            })
            .collect()
    }

    /// The schedules explored in all ([`u128::MAX`] standing for that many or more: with state caching, a
    /// long run of several processes can reach more than a `u128` counts).
    pub fn schedules(&self) -> u128 {
        self.outcomes.iter().fold(0u128, |sum, (_, reached)| sum.saturating_add(reached.schedules))
    }

    /// Whether the schedules explored stand for every schedule, each explored to its end (none cut at
    /// the depth limit): what settles every verdict.
    pub fn every_schedule_ended(&self) -> bool {
        self.every_schedule && !self.outcomes.iter().any(|(outcome, _)| outcome.ending == "depth-limit")
    }

    /// Whether every explored schedule met every expectation.
    pub fn holds(&self) -> bool {
        self.outcomes.iter().all(|(outcome, _)| outcome.holds())
    }
}

/// How far an exploration has got, for progress lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub nodes: u64,
    pub reused: u64,
    pub steps: u64,
    pub depth: u64,
}

/// An outcome's number in the exploration's table of outcomes.
type OutcomeId = u32;

/// The schedules from a node that end one way: how many, and the shortest, kept as its length, its
/// first step and the node that step leads to (`None` when it ends the run), so that a node costs a few
/// words per outcome however long its schedules are; the whole shortest schedule is read back by
/// following the nodes from the root.
#[derive(Clone, Copy, Debug)]
struct Way {
    schedules: u128,
    /// The outcome these schedules end in.
    outcome: OutcomeId,
    len: u32,
    first: Pid,
    /// The node the first step leads to, or [`NO_ENTRY`] when it ends the run.
    next: Entry,
}

/// A [`Way`]'s `next` when its first step ends the run.
const NO_ENTRY: Entry = Entry::MAX;

/// A node's outcomes: a way for each, sorted by outcome number, in an allocation of just its size (most
/// nodes have one or two outcomes, and an ordered map would take a node of room for eleven: with
/// millions of nodes, most of the explorer's memory).
type Summary = Rc<[Way]>;

/// A node's summary's number in [`Explorer::entries`].
type Entry = u32;

/// A sleep set: the processes whose next step need not be tried from a node, each with the footprint
/// that step had where it was tried (it is the same step here: every step since was independent of
/// it), by pid.
type Sleep = Vec<(Pid, Rc<Footprint>)>;

/// A map of nodes that is only ever looked up, never walked: a hash map with a fixed hasher (the keys
/// are hashes already), which with millions of nodes is several times faster than an ordered map, and
/// as deterministic, since nothing can see its order (it offers no iteration).
struct Lookup<V>(rustc_hash::FxHashMap<Key, V>);

impl<V> Default for Lookup<V> {
    fn default() -> Self {
        Lookup(rustc_hash::FxHashMap::default())
    }
}

impl<V> Lookup<V> {
    fn get(&self, key: &Key) -> Option<&V> {
        self.0.get(key)
    }

    fn insert(&mut self, key: Key, value: V) {
        self.0.insert(key, value);
    }

    fn remove(&mut self, key: &Key) {
        self.0.remove(key);
    }
}

struct Explorer<'a> {
    limits: ExploreLimits,
    /// For each node explored, the runnable processes not tried from it on any visit (all asleep) and
    /// its summary's entry. Without reduction there are none.
    memo: Lookup<(Vec<Pid>, Entry)>,
    entries: Vec<Summary>,
    /// Each entry's height: the steps of the longest schedule from its node to an end (a cut cycle or
    /// a reused node's end included). A node explored at depth `d` with height `h` where `d + h` is
    /// below the depth limit met no cut by it, and its summary stands for a visit at any depth `d'`
    /// with `d' + h` below the limit too; otherwise its schedules were cut where depth `d` put the
    /// limit, and only a visit at depth `d` may reuse it.
    heights: Vec<u32>,
    /// The summary of a run's end, by outcome, made once.
    leaves: Vec<Option<Summary>>,
    outcomes: Vec<Outcome>,
    ids: BTreeMap<Outcome, OutcomeId>,
    progress: Progress,
    incomplete: Option<String>,
    /// The keys of the nodes on the stack, the path from the root to the node being explored, with
    /// their place on the stack.
    path: Lookup<usize>,
    cycles: u64,
    /// With reduction: whether the scenario is [`quiet`], so that a handed result's return may stand
    /// for the other steps of its node.
    quiet: bool,
    /// Whether the node [`Explorer::arrive`] last arrived at is on the path from the root.
    on_path: bool,
    /// With reduction in a quiet scenario: the program read for steps no other process can meet.
    gates: Option<alone::Gates>,
    report: &'a mut dyn FnMut(&Progress),
    stop: Stop<'a>,
    /// An outcome that, once reached, answers the caller's question: the exploration then stops as
    /// incomplete (see [`sealed`], which only asks whether some continuation ends well).
    settles: Option<&'a dyn Fn(&Outcome) -> bool>,
}

/// Asked before each new node (and, when sampling, before each run) whether to stop where the
/// exploration has got: the reason to stop (the exploration then ends as incomplete, with what it has
/// found and this reason), or `None` to go on. The command line stops so on an interrupt (`SIGINT`).
pub type Stop<'a> = &'a dyn Fn() -> Option<String>;

/// Never stops.
pub fn never() -> Option<String> {
    None
}

/// A [`Stop`] that remembers whether it said stop (a stop may be said once, and then the caller of
/// several explorations must not start another).
struct Remembered<'a> {
    stop: Stop<'a>,
    said: std::cell::Cell<bool>,
}

impl<'a> Remembered<'a> {
    fn new(stop: Stop<'a>) -> Remembered<'a> {
        Remembered { stop, said: std::cell::Cell::new(false) }
    }

    fn ask(&self) -> Option<String> {
        let why = (self.stop)();
        if why.is_some() {
            self.said.set(true);
        }
        why
    }
}

/// Explores every schedule of `simulation` from where it stands (normally its start; its own
/// `schedule` line and policy play no part), calling `report` every few thousand nodes. With
/// [`ExploreLimits::reduction`], only representatives of the schedules that differ in the order of
/// independent steps; a combination [`refused`] gives an incomplete exploration that says why.
pub fn explore(simulation: &mut Simulation, limits: ExploreLimits, report: &mut dyn FnMut(&Progress)) -> Exploration {
    explore_until(simulation, limits, report, &never)
}

/// [`explore`], stopped early when `stop` says so (see [`Stop`]): the exploration is then incomplete,
/// its outcomes and counts those of the schedules explored so far.
pub fn explore_until(
    simulation: &mut Simulation,
    limits: ExploreLimits,
    report: &mut dyn FnMut(&Progress),
    stop: Stop,
) -> Exploration {
    explore_settled(simulation, limits, report, stop, None)
}

/// [`explore_until`], which also stops, as incomplete, at the first run to end in an outcome
/// `settles` accepts.
fn explore_settled(
    simulation: &mut Simulation,
    limits: ExploreLimits,
    report: &mut dyn FnMut(&Progress),
    stop: Stop,
    settles: Option<&dyn Fn(&Outcome) -> bool>,
) -> Exploration {
    if let Some(why) = refused(&limits) {
        return Exploration {
            outcomes: Vec::new(),
            nodes: 0,
            reused: 0,
            steps: 0,
            incomplete: Some(why),
            cycles: 0,
            reduction: limits.reduction,
            every_schedule: false,
        };
    }
    let tracked = simulation.config().track_footprints;
    let reduce = limits.reduction != Reduction::None;
    if reduce && !tracked {
        simulation.track_footprints(true);
    }
    let quiet = reduce && quiet(&simulation.kernel().program);
    let mut explorer = Explorer {
        limits,
        memo: Lookup::default(),
        entries: Vec::new(),
        heights: Vec::new(),
        leaves: Vec::new(),
        outcomes: Vec::new(),
        ids: BTreeMap::new(),
        progress: Progress::default(),
        incomplete: None,
        path: Lookup::default(),
        cycles: 0,
        quiet,
        on_path: false,
        gates: quiet.then(|| alone::Gates::of(&simulation.kernel().program)),
        report,
        stop,
        settles,
    };
    let summary = explorer.run(simulation);
    if reduce && !tracked {
        simulation.track_footprints(false);
    }
    let mut outcomes: Vec<(Outcome, Reached)> = summary
        .iter()
        .map(|way| {
            let reached = Reached { schedules: way.schedules, shortest: explorer.shortest(way.outcome, *way) };
            (explorer.outcomes[way.outcome as usize].clone(), reached)
        })
        .collect();
    outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    Exploration {
        outcomes,
        nodes: explorer.progress.nodes,
        reused: explorer.progress.reused,
        steps: explorer.progress.steps,
        every_schedule: explorer.incomplete.is_none() && limits.max_preemptions.is_none(),
        incomplete: explorer.incomplete,
        cycles: explorer.cycles,
        reduction: limits.reduction,
    }
}

/// Whether no process of `program` can send a signal or set a timer: each of its calls is one of
/// these, and it has no handlers. Then the step by which a process returns a result another process
/// handed it (a `semop` finished for it, its `mq_send` done by a receiver) commutes
/// with every step any other process can take before it. The return only hands the process its result;
/// the hand-over itself already took it off the wait queues and recorded its pid where Linux does. The
/// others' steps that touch the process (its parent's exit changing its parent, `setpgid`, a `wait`
/// or `getpgid` reading it) do not touch what the return uses, and the only ones that would (a
/// signal: a `kill`, a timer's, `SIGCHLD` from a child of its own, which is why it must have none) or
/// that would see the order of steps (a timer fires after a number of steps, whoever takes them) are
/// what a quiet scenario cannot do. So from a node where such a step can be taken, it alone is tried
/// (an ample set of one step, as in Peled's and Godefroid's partial-order reduction), provided it was
/// seen to touch nothing but its own process and closes no cycle back to the path: states between the
/// hand-over and the return are left out. In such a scenario nothing stops a process or wakes another
/// except the steps the program shows, which is also what [`alone`] reads the program for.
fn quiet(program: &crate::lang::compile::Program) -> bool {
    use crate::lang::compile::OpKind;
    use crate::lang::syscalls::CallId::*;
    program.handlers.is_empty()
        && program.ops.iter().all(|op| match &op.kind {
            OpKind::Call(call) => matches!(
                call.id,
                Pipe | Open
                    | Close
                    | Dup
                    | Read
                    | Write
                    | Lseek
                    | Pread
                    | Pwrite
                    | Ioctl
                    | Fcntl
                    | Mkfifo
                    | Unlink
                    | Fork
                    | Exit
                    | Wait
                    | Waitpid
                    | Waitid
                    | Getpid
                    | Getppid
                    | Getpgid
                    | Setpgid
                    | SchedYield
                    | Msgget
                    | Msgsnd
                    | Msgrcv
                    | Msgctl
                    | Semget
                    | Semop
                    | Semctl
                    | MqOpen
                    | MqSend
                    | MqReceive
                    | MqGetattr
                    | MqSetattr
                    | MqClose
                    | MqUnlink
                    | SemOpen
                    | SemWait
                    | SemTrywait
                    | SemPost
                    | SemGetvalue
                    | SemClose
                    | SemUnlink
                    | Shmget
                    | Shmat
                    | Shmdt
                    | Shmctl
                    | Mmap
                    | Munmap
                    | Mprotect
                    | Load
                    | Store
                    | FetchAdd
                    | CompareExchange
                    | StoreBytes
                    | LoadBytes
                    | ShmOpen
                    | Ftruncate
                    | ShmUnlink
                    | SemInit
                    | SemDestroy
            ),
            _ => true,
        })
}

/// What the run has shown that its state no longer holds: the failed expectations and each ended
/// process's end.
fn history_hash(simulation: &Simulation) -> u64 {
    let mut hasher = TraceHasher::default();
    for failure in simulation.failures() {
        hasher.word(failure.span.line as u64);
        hasher.word(failure.span.col as u64);
        hasher.bytes(failure.got.as_bytes());
    }
    for process in &simulation.kernel().procs {
        if let Some(status) = process.status {
            hasher.word(process.pid as u64);
            hasher.bytes(status_words(status).as_bytes());
        }
    }
    hasher.finish()
}

fn failure_text(failure: &ExpectationFailure) -> String {
    format!(
        "{}:{} {}: expected {}, got {}",
        failure.span.line, failure.span.col, failure.process, failure.expected, failure.got
    )
}

/// The outcome of a run that has ended, in the explorer's terms.
pub fn ended(simulation: &Simulation) -> Outcome {
    outcome_of(simulation, None)
}

/// The outcome of a run that has ended (or that the explorer cut at its depth limit).
fn outcome_of(simulation: &Simulation, cut: Option<&str>) -> Outcome {
    let ending = match (simulation.outcome(), cut) {
        (_, Some(cut)) => cut.to_string(),
        (Some(outcome), None) => outcome.name().to_string(),
        (None, None) => "running".to_string(),
    };
    let processes = simulation
        .kernel()
        .procs
        .iter()
        .filter(|process| process.pid != 1)
        .map(|process| {
            let end = process.status.map_or_else(|| "running".to_string(), status_words);
            (process.pid, process.name.to_string(), end)
        })
        .collect();
    Outcome {
        ending,
        processes,
        failures: simulation.failures().iter().map(failure_text).collect(),
        declared: simulation.declared_outcomes().to_vec(),
    }
}

/// A node being explored: its key, the checkpoint its children start from, its runnable processes,
/// those tried so far, its sleep set and the steps tried with their footprints (with reduction), and
/// the summary of the children explored so far.
struct Frame {
    key: Key,
    /// `None` for a node with one runnable process, which has one child and never goes back to itself
    /// (except the root, which the exploration leaves where it found it).
    here: Option<Checkpoint>,
    runnable: Vec<Pid>,
    /// The processes tried from here, in order; the last is the one whose subtree is being explored.
    tried: Vec<Pid>,
    /// The steps not to try from here (see [`Sleep`]). A cycle back to this node may wake some of them.
    sleep: Sleep,
    /// The processes tried from this node on an earlier visit, whose outcomes the summary starts with.
    skip: Vec<Pid>,
    /// The ample set, tried first: a process whose next step only returns the result another process
    /// handed it (see [`quiet`]), or processes whose next steps no other process can meet ([`alone`];
    /// then `files` is set). Once each of them is seen to touch only what it was allowed, and none
    /// closes a cycle, the node's other children are not tried ([`Frame::reduced`]); `ample_broken`
    /// says one did not.
    ample: Vec<Pid>,
    /// With `files`, the processes whose objects the ample steps may touch (see [`alone::Gates::group`]).
    members: Vec<Pid>,
    files: bool,
    ample_broken: bool,
    /// The steps tried from here, with their footprints (with reduction only).
    done: Sleep,
    depth: u64,
    /// The longest schedule from here to an end among the children explored so far (see
    /// [`Explorer::heights`]).
    height: u32,
    /// The process that ran the step before this node, and the preemptions so far (when bounded).
    last: Option<Pid>,
    preemptions: u32,
    summary: Vec<Way>,
}

impl Frame {
    fn asleep(&self, pid: &Pid) -> bool {
        self.sleep.iter().any(|(asleep, _)| asleep == pid)
    }

    /// Whether the ample set was tried in full (but for its steps asleep here) and stands for the
    /// node's other children.
    fn reduced(&self) -> bool {
        !self.ample.is_empty()
            && !self.ample_broken
            && self.ample.iter().all(|pid| self.tried.contains(pid) || self.asleep(pid))
    }

    /// The next process to try: the first of the ample set not tried yet; then, unless the ample set
    /// stands for the rest, the first runnable one neither tried (now or before) nor asleep.
    fn next(&self) -> Option<Pid> {
        if !self.ample_broken {
            if let Some(pid) = self.ample.iter().copied().find(|pid| !self.tried.contains(pid) && !self.asleep(pid)) {
                return Some(pid);
            }
        }
        if self.reduced() {
            return None;
        }
        self.runnable
            .iter()
            .copied()
            .find(|pid| !self.tried.contains(pid) && !self.skip.contains(pid) && !self.asleep(pid))
    }
}

/// A node: the canonical state, the history the state no longer holds, when preemptions are bounded,
/// who ran last and the preemptions so far (the same state with fewer left has fewer futures), and the
/// depth at which it was explored when its summary holds schedules cut by the depth limit, which only
/// a visit at that depth may reuse ([`ANY_DEPTH`] otherwise: see [`Explorer::heights`]).
type Key = (u64, u64, Option<Pid>, u32, u64);

/// A [`Key`]'s depth when its node's summary stands for a visit at any depth that leaves room for its
/// longest schedule.
const ANY_DEPTH: u64 = u64::MAX;

/// What arriving at a node gives: its summary at once (an end, a limit, a node seen before), or a frame
/// to explore.
enum Arrived {
    /// The summary, and its entry if it is a node's (a run's end is not: [`NO_ENTRY`]).
    Known(Entry, Summary),
    /// Back to the node at this place on the stack, with these processes asleep: the schedule is cut
    /// there (its summary made by [`Explorer::cycle`], which needs the path), and the node's sleep set
    /// loses the processes not asleep here.
    Cycle(usize, Vec<Pid>),
    New(Box<Frame>),
}

impl Explorer<'_> {
    /// Explores the tree below the simulation's current state, depth first with a stack of its own (a
    /// schedule may be thousands of steps deep), and returns the root's summary.
    fn run(&mut self, simulation: &mut Simulation) -> Summary {
        let reduce = self.limits.reduction != Reduction::None;
        let mut stack = match self.arrive(simulation, 0, None, 0, Vec::new(), 0) {
            Arrived::Known(_, summary) => return summary,
            // The path is empty at the root: no cycle can close there.
            Arrived::Cycle(..) => return self.cycle(simulation, &[]),
            Arrived::New(frame) => vec![*frame],
        };
        let mut finished: Option<(Entry, Summary)> = None;
        loop {
            let height = stack.len();
            let frame = stack.last_mut().expect("a frame is being explored");
            if let Some((entry, child)) = finished.take() {
                merge(&mut frame.summary, *frame.tried.last().expect("a child was tried"), entry, &child);
                // A child outside the bound on preemptions, or not explored at all, ends no schedule.
                if !child.is_empty() {
                    let below = self.heights.get(entry as usize).copied().unwrap_or(0);
                    frame.height = frame.height.max(below.saturating_add(1));
                }
            }
            if let Some(pid) = frame.next() {
                let first = frame.tried.is_empty();
                frame.tried.push(pid);
                let preempts = frame.last.is_some_and(|last| last != pid && frame.runnable.contains(&last));
                let preemptions = frame.preemptions + preempts as u32;
                if self.limits.max_preemptions.is_some_and(|most| preemptions > most) {
                    // Outside the bound: this child is not explored (and adds no schedules).
                    finished = Some((NO_ENTRY, Rc::from([])));
                    continue;
                }
                if !first {
                    // The last child of a node below the root moves the checkpoint in rather than copy
                    // it, unless a cycle could yet wake a step asleep here, another child, or the
                    // ample set could yet be found not to stand for the other children.
                    let ample_pending = !frame.ample.is_empty() && !frame.ample_broken;
                    if frame.sleep.is_empty() && !ample_pending && height > 1 && frame.next().is_none() {
                        simulation
                            .restore_owned(frame.here.take().expect("a node with a second child has its checkpoint"));
                    } else {
                        simulation.restore(frame.here.as_ref().expect("a node with a second child has its checkpoint"));
                    }
                }
                let depth = frame.depth + 1;
                self.progress.steps += 1;
                match simulation.step_as(pid) {
                    Ok(StepStatus::Ran(_)) | Ok(StepStatus::Finished) => {
                        // The child's sleep set: the steps asleep here or tried before this one that
                        // are independent of it (they lead to the same states after it as before).
                        let sleep = if reduce {
                            let footprint = Rc::new(simulation.footprint().clone());
                            if frame.ample.contains(&pid) {
                                let allowed = if frame.files {
                                    alone::touched_files_only(&footprint, &frame.members)
                                } else {
                                    let own = ObjectRef::process(pid);
                                    !footprint.everything
                                        && footprint.reads.iter().chain(&footprint.writes).all(|object| *object == own)
                                };
                                frame.ample_broken |= !allowed;
                            }
                            let sleep: Sleep = frame
                                .sleep
                                .iter()
                                .chain(frame.done.iter())
                                .filter(|(_, other)| !other.conflicts_with(&footprint))
                                .cloned()
                                .collect();
                            frame.done.push((pid, footprint));
                            sleep
                        } else {
                            Vec::new()
                        };
                        match self.arrive(simulation, depth, Some(pid), preemptions, sleep, height) {
                            Arrived::Known(entry, summary) => {
                                // A node on the path answered from the memo (an earlier visit's
                                // summary): a cycle too, for the proviso.
                                if self.on_path {
                                    stack[height - 1].ample_broken = true;
                                }
                                finished = Some((entry, summary))
                            }
                            Arrived::Cycle(at, asleep) => {
                                let summary = self.cycle(simulation, &stack[at..]);
                                // The cycle proviso: a step that closes a cycle does not stand for the
                                // others, which might otherwise never be taken.
                                stack[height - 1].ample_broken = true;
                                let before = stack[at].sleep.len();
                                stack[at].sleep.retain(|(pid, _)| asleep.contains(pid));
                                // Steps woken at a reduced node on the path are tried from it.
                                if stack[at].sleep.len() < before {
                                    stack[at].ample_broken = true;
                                }
                                finished = Some((NO_ENTRY, summary));
                            }
                            Arrived::New(frame) => stack.push(*frame),
                        }
                    }
                    // A pid the simulator offered as runnable always runs; a refusal is a model bug.
                    Err(failure) => {
                        let outcome = Outcome {
                            ending: format!("error: {failure}"),
                            processes: Vec::new(),
                            failures: vec![failure.to_string()],
                            declared: Vec::new(),
                        };
                        finished = Some((NO_ENTRY, self.leaf(outcome)))
                    }
                }
            } else {
                let frame = stack.pop().expect("the frame just looked at");
                // Its parent restores its own state before it tries another child; only the root
                // leaves the simulation where the exploration found it.
                if stack.is_empty() {
                    simulation.restore(frame.here.as_ref().expect("the root has its checkpoint"));
                }
                let reduced = frame.reduced();
                let summary: Summary = Rc::from(frame.summary);
                self.path.remove(&frame.key);
                let entry = self.entries.len() as Entry;
                self.entries.push(summary.clone());
                self.heights.push(frame.height);
                // Cut by the depth limit below: its summary is this depth's only.
                let mut key = frame.key;
                if frame.depth.saturating_add(frame.height as u64) >= self.limits.max_depth {
                    key.4 = frame.depth;
                }
                // A reduced node's ample step stands for the steps that were awake here, not for those
                // asleep: a later visit that has one of them awake tries it.
                let asleep = |pid: &Pid| frame.sleep.iter().any(|(other, _)| other == pid);
                let untried =
                    frame.runnable.iter().copied().filter(|pid| {
                        !frame.tried.contains(pid) && !frame.skip.contains(pid) && (!reduced || asleep(pid))
                    });
                self.memo.insert(key, (untried.collect(), entry));
                if stack.is_empty() {
                    return summary;
                }
                finished = Some((entry, summary));
            }
        }
    }

    /// The end of a schedule cut where it came back to a state it had passed, along `path` (the nodes
    /// from that state on, each with the step it took). If every process that could run at each of
    /// those nodes took a step in the loop, a fair scheduler could go round it forever: the run never
    /// ends, and it is judged as a run stopped at its step limit is (it fails the default end, meets
    /// `expect step-limit`, and a declared `step-limit` happened). Otherwise the loop starves a process
    /// that could have run, which no fair scheduler does forever: the schedule is only cut, and
    /// its expectations are left as they stood.
    fn cycle(&mut self, simulation: &mut Simulation, path: &[Frame]) -> Summary {
        let stepped = |pid: &Pid| path.iter().any(|frame| frame.tried.last() == Some(pid));
        let starved = |pid: &Pid| !stepped(pid) && path.iter().all(|frame| frame.runnable.contains(pid));
        let fair = path.first().is_some_and(|first| !first.runnable.iter().any(starved));
        if fair {
            simulation.end_running_forever();
        }
        self.leaf(outcome_of(simulation, Some("cycle")))
    }

    /// A run's end: one schedule (the empty one from here) to `outcome`.
    fn leaf(&mut self, outcome: Outcome) -> Summary {
        let next_id = self.outcomes.len() as OutcomeId;
        let id = *self.ids.entry(outcome.clone()).or_insert(next_id);
        if id == next_id {
            if self.incomplete.is_none() && self.settles.is_some_and(|settles| settles(&outcome)) {
                self.incomplete = Some("stopped at the first run whose end answers the question".to_string());
            }
            self.outcomes.push(outcome);
        }
        // One summary for each outcome's runs' ends, shared by every end that shows it.
        if self.leaves.len() <= id as usize {
            self.leaves.resize(id as usize + 1, None);
        }
        self.leaves[id as usize]
            .get_or_insert_with(|| Rc::from([Way { schedules: 1, outcome: id, len: 0, first: 0, next: NO_ENTRY }]))
            .clone()
    }

    /// The shortest schedule to outcome `id` that starts with `way`, read back node by node.
    fn shortest(&self, id: OutcomeId, way: Way) -> Vec<Pid> {
        let mut schedule = Vec::with_capacity(way.len as usize);
        let mut way = way;
        while way.len > 0 {
            schedule.push(way.first);
            let next = self
                .entries
                .get(way.next as usize)
                .and_then(|summary| summary.binary_search_by_key(&id, |kept| kept.outcome).ok().map(|at| summary[at]));
            match next {
                Some(next) => way = next,
                None => break,
            }
        }
        schedule
    }

    /// Arriving at the simulation's current state, `depth` steps into a schedule, `last` having run the
    /// step before, after `preemptions` preemptions, with sleep set `sleep`, to be explored (if it is
    /// new) at `height` on the stack.
    fn arrive(
        &mut self,
        simulation: &mut Simulation,
        depth: u64,
        last: Option<Pid>,
        preemptions: u32,
        sleep: Sleep,
        height: usize,
    ) -> Arrived {
        self.on_path = false;
        // A run with nobody left to run ends when it is next stepped (all exited, or a deadlock).
        if simulation.outcome().is_none() && simulation.runnable().is_empty() {
            let _ = simulation.step();
        }
        if simulation.is_finished() {
            return Arrived::Known(NO_ENTRY, self.leaf(outcome_of(simulation, None)));
        }
        if depth >= self.limits.max_depth {
            return Arrived::Known(NO_ENTRY, self.leaf(outcome_of(simulation, Some("depth-limit"))));
        }
        let bounded = self.limits.max_preemptions.is_some();
        let key = (
            simulation.kernel().state_hash(),
            history_hash(simulation),
            last.filter(|_| bounded),
            if bounded { preemptions } else { 0 },
            ANY_DEPTH,
        );
        // A node explored before answers for this visit if every step it left untried is asleep here
        // too; otherwise those steps are tried now, and its summary grows by what they find (with
        // state caching, sleep sets are sound only so).
        let asleep = |pid: &Pid| sleep.iter().any(|(other, _)| other == pid);
        let on_path = self.path.get(&key).copied();
        self.on_path = on_path.is_some();
        let mut before: Option<(Vec<Pid>, Entry)> = None;
        // A node cut by the depth limit when explored at this very depth (the latest word on it), or
        // one whose longest schedule fits below the limit from here.
        let fits = |entry: &Entry| depth.saturating_add(self.heights[*entry as usize] as u64) < self.limits.max_depth;
        let known = self
            .memo
            .get(&(key.0, key.1, key.2, key.3, depth))
            .or_else(|| self.memo.get(&key).filter(|found| fits(&found.1)));
        if let Some((untried, entry)) = known {
            self.progress.reused += 1;
            if untried.iter().all(asleep) {
                return Arrived::Known(*entry, self.entries[*entry as usize].clone());
            }
            before = Some((untried.clone(), *entry));
        }
        // Back to a state on the path from the root (a loop that changes nothing, two processes
        // passing a token back and forth): the same choices again would never end. The schedule is cut
        // here as one way of running forever. The node on the path then answers for this visit's
        // futures too: a step asleep there but not here is woken there, to be tried from it.
        if let Some(at) = on_path {
            self.cycles += 1;
            return Arrived::Cycle(at, sleep.iter().map(|(pid, _)| *pid).collect());
        }
        let runnable = simulation.runnable().to_vec();
        // Not one step before the depth limit, where every child ends the schedule its own way.
        let ample = if self.quiet && before.is_none() && runnable.len() > 1 && depth + 1 < self.limits.max_depth {
            let kernel = simulation.kernel();
            let handed = runnable.iter().copied().find(|pid| {
                let process = kernel.process(*pid);
                process.handed.is_some() && process.children.is_empty() && !asleep(pid)
            });
            let gates = self.gates.as_mut();
            handed.map(|pid| (vec![pid], Vec::new(), false)).or_else(|| {
                let gates = gates?;
                let single = runnable
                    .iter()
                    .copied()
                    .find(|pid| kernel.process(*pid).children.is_empty() && !asleep(pid) && gates.alone(kernel, *pid));
                match single {
                    Some(pid) => Some((vec![pid], vec![pid], true)),
                    // A member asleep here is not tried, so not checked as the others are: the step
                    // it took where it fell asleep, the same step by the sleep set's rule, must
                    // have touched only what a member's may.
                    None => gates
                        .group(kernel, &runnable)
                        .filter(|(_, members)| {
                            sleep
                                .iter()
                                .filter(|(pid, _)| members.contains(pid))
                                .all(|(_, footprint)| alone::touched_files_only(footprint, members))
                        })
                        .map(|(ample, members)| (ample, members, true)),
                }
            })
        } else {
            None
        };
        let (ample, members, files) = ample.unwrap_or_default();
        let (skip, summary, below) = match before {
            Some((untried, entry)) => (
                runnable.iter().copied().filter(|pid| !untried.contains(pid)).collect(),
                self.entries[entry as usize].to_vec(),
                self.heights[entry as usize],
            ),
            None => {
                // Past the node limit, or asked to stop: no new node is explored, and the nodes on the
                // stack finish with what their children found so far.
                if self.incomplete.is_none() {
                    if self.progress.nodes >= self.limits.max_nodes {
                        self.incomplete = Some(format!("stopped at the limit of {} nodes", self.limits.max_nodes));
                    } else {
                        self.incomplete = (self.stop)();
                    }
                }
                if self.incomplete.is_some() {
                    return Arrived::Known(NO_ENTRY, Rc::from([]));
                }
                self.progress.nodes += 1;
                self.progress.depth = self.progress.depth.max(depth);
                // Once per 4,096 new nodes (a node visited again with steps still untried is not new).
                if self.progress.nodes.is_multiple_of(4096) {
                    (self.report)(&self.progress);
                }
                (Vec::new(), Vec::new(), 0)
            }
        };
        self.path.insert(key, height);
        self.progress.depth = self.progress.depth.max(depth);
        Arrived::New(Box::new(Frame {
            key,
            here: (runnable.len() > 1 || height == 0).then(|| simulation.checkpoint()),
            runnable,
            tried: Vec::new(),
            sleep,
            skip,
            ample,
            members,
            files,
            ample_broken: false,
            done: Vec::new(),
            depth,
            height: below,
            last,
            preemptions,
            summary,
        }))
    }
}

/// Adds a child's outcomes, reached by running `pid` first (leading to node `child`), to a node's
/// summary.
fn merge(summary: &mut Vec<Way>, pid: Pid, child: Entry, outcomes: &[Way]) {
    for way in outcomes {
        let through = Way { len: way.len + 1, first: pid, next: child, ..*way };
        match summary.binary_search_by_key(&way.outcome, |kept| kept.outcome) {
            Ok(at) => {
                let entry = &mut summary[at];
                entry.schedules = entry.schedules.saturating_add(way.schedules);
                // Strictly shorter: among equals, the first found (lowest pids first) stays.
                if through.len < entry.len {
                    *entry = Way { schedules: entry.schedules, ..through };
                }
            }
            Err(at) => summary.insert(at, through),
        }
    }
}

/// How [`sample`] picks each run's schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Each step to a runnable process drawn uniformly.
    Random,
    /// Probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi and Nagarakatte, ASPLOS 2010):
    /// each process gets a random priority as it appears, the highest-priority runnable process runs,
    /// and at `depth - 1` steps drawn at random the running process drops below every other. A bug that
    /// needs `depth` particular orderings is found by one run with probability at least
    /// 1 / (n k^(depth-1)) for n processes and k steps.
    Pct { depth: u32 },
}

/// Runs `runs` schedules of the simulation (from where it stands, normally its start) picked by
/// `strategy` from `seed`, and sums them up as [`explore`] does: each distinct outcome with the number
/// of runs that ended so and the shortest of them. For scenarios whose every schedule is out of reach.
/// A run is cut at the default depth limit ([`ExploreLimits::max_depth`]).
pub fn sample(
    simulation: &mut Simulation,
    strategy: Strategy,
    runs: u64,
    seed: u64,
    report: &mut dyn FnMut(&Progress),
) -> Exploration {
    sample_until(simulation, strategy, runs, seed, ExploreLimits::default().max_depth, report, &never)
}

/// [`sample`], each run cut at `max_depth` steps (it ends `depth-limit` there, as in [`explore`]),
/// asking `stop` before each run (see [`Stop`]): once it says stop, the table covers the runs made so
/// far, and the exploration is incomplete.
pub fn sample_until(
    simulation: &mut Simulation,
    strategy: Strategy,
    runs: u64,
    seed: u64,
    max_depth: u64,
    report: &mut dyn FnMut(&Progress),
    stop: Stop,
) -> Exploration {
    let mut incomplete = None;
    let start = simulation.checkpoint();
    let mut rng = crate::sched::SplitMix64::new(seed);
    let mut progress = Progress::default();
    // PCT draws its change points among the steps of a run: the length of a first, round-robin run.
    let typical_steps = {
        let mut steps = 0;
        while simulation.outcome().is_none() && steps < 1_000_000 {
            match simulation.runnable().first().copied() {
                Some(pid) if simulation.step_as(pid).is_ok() => steps += 1,
                _ => {
                    let _ = simulation.step();
                    break;
                }
            }
        }
        steps.max(1)
    };
    let mut found: BTreeMap<Outcome, Reached> = BTreeMap::new();
    for _ in 0..runs {
        if let Some(why) = stop() {
            incomplete = Some(why);
            break;
        }
        simulation.restore(&start);
        let (changes, mut priorities): (Vec<u64>, BTreeMap<Pid, u64>) = match strategy {
            Strategy::Random => (Vec::new(), BTreeMap::new()),
            Strategy::Pct { depth } => {
                ((0..depth.saturating_sub(1)).map(|_| 1 + rng.next_u64() % typical_steps).collect(), BTreeMap::new())
            }
        };
        let mut schedule = Vec::new();
        let mut cut = None;
        loop {
            if simulation.outcome().is_none() && simulation.runnable().is_empty() {
                let _ = simulation.step();
            }
            if simulation.is_finished() {
                break;
            }
            if schedule.len() as u64 >= max_depth {
                cut = Some("depth-limit");
                break;
            }
            let runnable = simulation.runnable();
            let pid = match strategy {
                Strategy::Random => runnable[rng.below(runnable.len() as u32) as usize],
                Strategy::Pct { depth } => {
                    for pid in runnable {
                        // Initial priorities are above every change point's (which count from 1).
                        priorities.entry(*pid).or_insert_with(|| depth as u64 + (rng.next_u64() >> 1));
                    }
                    let pid = *runnable.iter().max_by_key(|pid| (priorities[pid], **pid)).expect("someone runs");
                    let step = schedule.len() as u64 + 1;
                    if let Some(index) = changes.iter().position(|change| *change == step) {
                        priorities.insert(pid, index as u64 + 1);
                    }
                    pid
                }
            };
            schedule.push(pid);
            progress.steps += 1;
            if simulation.step_as(pid).is_err() {
                break;
            }
        }
        progress.nodes += 1;
        if progress.nodes.is_multiple_of(256) {
            report(&progress);
        }
        let outcome = outcome_of(simulation, cut);
        match found.get_mut(&outcome) {
            Some(reached) => {
                reached.schedules += 1;
                if schedule.len() < reached.shortest.len() {
                    reached.shortest = schedule;
                }
            }
            None => {
                found.insert(outcome, Reached { schedules: 1, shortest: schedule });
            }
        }
    }
    simulation.restore(&start);
    Exploration {
        outcomes: found.into_iter().collect(),
        nodes: progress.nodes,
        reused: 0,
        steps: progress.steps,
        incomplete,
        cycles: 0,
        reduction: Reduction::None,
        every_schedule: false,
    }
}

/// "What else?": from where the simulation stands, for each process that could run next, every way
/// the run can still end if it does (an exploration of the schedules that start with it). The
/// simulation is put back where it stood.
pub fn what_else(simulation: &mut Simulation, limits: ExploreLimits) -> Vec<(Pid, Exploration)> {
    // The futures split by the next process add up to the whole: counts of schedules, not of classes.
    // Every continuation: a bound on preemptions would leave some out.
    let limits = ExploreLimits { reduction: Reduction::None, max_preemptions: None, ..limits };
    let here = simulation.checkpoint();
    let mut by_next = Vec::new();
    for pid in simulation.runnable().to_vec() {
        simulation.restore(&here);
        if simulation.step_as(pid).is_err() {
            continue;
        }
        by_next.push((pid, explore(simulation, limits, &mut |_| {})));
    }
    simulation.restore(&here);
    by_next
}

/// The preemptions in `schedule` run from where the simulation stands (switches away from a process
/// that could have gone on); the simulation is put back where it stood. `None` if the schedule names
/// a process that cannot run.
pub fn preemptions(simulation: &mut Simulation, schedule: &[Pid]) -> Option<u32> {
    let start = simulation.checkpoint();
    let mut count = 0;
    let mut last: Option<Pid> = None;
    let mut ok = true;
    for pid in schedule {
        if last.is_some_and(|last| last != *pid && simulation.runnable().contains(&last)) {
            count += 1;
        }
        if simulation.step_as(*pid).is_err() {
            ok = false;
            break;
        }
        last = Some(*pid);
    }
    simulation.restore(&start);
    ok.then_some(count)
}

/// For each of `wanted`, a schedule that reaches it with the fewest preemptions, at most `most`: the
/// explorations bounded to 0, 1, 2, ... preemptions in turn (each exact, see
/// [`ExploreLimits::max_preemptions`]) until each outcome has appeared. A bug that needs one
/// preemption is then shown with one switch, however long the shortest schedule's detour. Outcomes not
/// reached within `most` (or the node limit), or before `stop` says stop, are left out.
pub fn fewest_preemptions(
    simulation: &mut Simulation,
    wanted: &[Outcome],
    most: u32,
    limits: ExploreLimits,
    report: &mut dyn FnMut(&Progress),
    stop: Stop,
) -> BTreeMap<Outcome, (u32, Vec<Pid>)> {
    let stop = Remembered::new(stop);
    let mut found = BTreeMap::new();
    for bound in 0..=most {
        if wanted.iter().all(|outcome| found.contains_key(outcome)) {
            break;
        }
        // Bounded, so without reduction (see [`refused`]).
        let bounded = ExploreLimits { max_preemptions: Some(bound), reduction: Reduction::None, ..limits };
        let explored = explore_until(simulation, bounded, report, &|| stop.ask());
        for (outcome, reached) in explored.outcomes {
            if wanted.contains(&outcome) && !found.contains_key(&outcome) {
                found.insert(outcome, (bound, reached.shortest));
            }
        }
        // Stopped: what was found so far (an outcome found at this bound has no schedule with fewer).
        if stop.said.get() {
            break;
        }
    }
    found
}

/// Where a run's fate was sealed: after `step` steps of its schedule every continuation ends as it
/// did; before that step, another choice could still avoid it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Sealed {
    /// Steps of the schedule run when the fate is sealed (0: sealed from the start, every schedule
    /// ends so).
    pub step: u64,
    /// The process the schedule ran at that step (none when `step` is 0).
    pub chosen: Option<Pid>,
    /// The processes that could have run at that step instead and still avoided the end.
    pub avoid: Vec<Pid>,
}

/// The first point of `schedule` (run from where the simulation stands) after which every
/// continuation ends in a way `bad` accepts: a binary search over its prefixes (once every
/// continuation is bad, every later one is too), exploring the schedules from each prefix within
/// `limits`, but every one of them: with no bound on preemptions, whatever `limits` says. `None` if the schedule does not replay or an exploration it needed was cut short (then
/// nothing can be said). The simulation is put back where it stood.
pub fn sealed(
    simulation: &mut Simulation,
    schedule: &[Pid],
    bad: &dyn Fn(&Outcome) -> bool,
    limits: ExploreLimits,
) -> Option<Sealed> {
    sealed_until(simulation, schedule, bad, limits, &mut |_| {}, &never)
}

/// [`sealed`], whose explorations tell `report` how far each has got (see [`explore_until`]) and ask
/// `stop` (see [`Stop`]); `None` once it says stop.
pub fn sealed_until(
    simulation: &mut Simulation,
    schedule: &[Pid],
    bad: &dyn Fn(&Outcome) -> bool,
    limits: ExploreLimits,
    report: &mut dyn FnMut(&Progress),
    stop: Stop,
) -> Option<Sealed> {
    let stop = Remembered::new(stop);
    let start = simulation.checkpoint();
    // Every continuation: a bound on preemptions would leave some out.
    let limits = ExploreLimits { reduction: Reduction::None, max_preemptions: None, ..limits };
    // An end that is not bad, reached (not cut at the depth limit, which says nothing of what follows).
    let ends_well = |outcome: &Outcome| !bad(outcome) && outcome.ending != "depth-limit";
    // Whether every schedule from the state after `len` steps ends badly (`None`: cannot tell).
    let all_bad = |simulation: &mut Simulation, len: usize, report: &mut dyn FnMut(&Progress)| -> Option<bool> {
        simulation.restore(&start);
        for pid in &schedule[..len] {
            simulation.step_as(*pid).ok()?;
        }
        let found = explore_settled(simulation, limits, report, &|| stop.ask(), Some(&ends_well));
        if stop.said.get() {
            return None;
        }
        // A good end found settles it even in a cut exploration (and stops it); "all bad" needs every schedule, each
        // to its end (a continuation cut at the depth limit might yet end well or badly).
        if found.outcomes.iter().any(|(outcome, _)| ends_well(outcome)) {
            return Some(false);
        }
        (found.every_schedule && found.outcomes.iter().all(|(outcome, _)| bad(outcome))).then_some(true)
    };
    let result = (|| {
        if !all_bad(simulation, schedule.len(), report)? {
            return None;
        }
        let (mut low, mut high) = (0, schedule.len());
        if !all_bad(simulation, 0, report)? {
            // Invariant: from `low` steps some continuation is good, from `high` none is.
            while high - low > 1 {
                let middle = (low + high) / 2;
                if all_bad(simulation, middle, report)? {
                    high = middle;
                } else {
                    low = middle;
                }
            }
        } else {
            high = 0;
        }
        if high == 0 {
            return Some(Sealed { step: 0, chosen: None, avoid: Vec::new() });
        }
        // At step `high` (after `high - 1` steps), which other choices avoid the end.
        simulation.restore(&start);
        for pid in &schedule[..high - 1] {
            simulation.step_as(*pid).ok()?;
        }
        let before = simulation.checkpoint();
        let chosen = schedule[high - 1];
        let mut avoid = Vec::new();
        for pid in simulation.runnable().to_vec() {
            if pid == chosen {
                continue;
            }
            simulation.restore(&before);
            simulation.step_as(pid).ok()?;
            let found = explore_settled(simulation, limits, report, &|| stop.ask(), Some(&ends_well));
            if stop.said.get() {
                return None;
            }
            if found.outcomes.iter().any(|(outcome, _)| ends_well(outcome)) {
                avoid.push(pid);
            }
        }
        Some(Sealed { step: high as u64, chosen: Some(chosen), avoid })
    })();
    simulation.restore(&start);
    result
}

/// The step where a complete schedule of `scenario` first goes wrong: its first failed expectation, or
/// its last step when none fails (a deadlock, a limit). Where a link to it should open.
pub fn first_bad_step(scenario: &crate::Scenario, schedule: &[Pid]) -> u64 {
    let config = crate::RunConfig {
        policy: crate::Policy::Choices { pids: schedule.to_vec() },
        follow_schedule: false,
        ..crate::RunConfig::default()
    };
    let Ok(mut simulation) = Simulation::new(scenario, config) else { return 0 };
    let _ = simulation.run();
    simulation
        .trace()
        .events
        .iter()
        .find(|event| matches!(event.kind, crate::trace::EventKind::ExpectFailed { .. }))
        .map_or(schedule.len() as u64, |event| event.step as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Policy, RunConfig};

    fn simulation(text: &str) -> Simulation {
        let config = RunConfig { policy: Policy::RoundRobin, follow_schedule: false, ..RunConfig::default() };
        Simulation::new(&crate::parse(text).expect("parses"), config).expect("compiles")
    }

    /// Every complete schedule, enumerated one by one (no reuse): the outcomes and their counts.
    pub(super) fn brute_force(simulation: &mut Simulation, out: &mut BTreeMap<Outcome, u128>) {
        if simulation.outcome().is_none() && simulation.runnable().is_empty() {
            let _ = simulation.step();
        }
        if simulation.is_finished() {
            *out.entry(outcome_of(simulation, None)).or_default() += 1;
            return;
        }
        let here = simulation.checkpoint();
        for pid in simulation.runnable().to_vec() {
            simulation.restore(&here);
            simulation.step_as(pid).expect("a runnable pid runs");
            brute_force(simulation, out);
        }
        simulation.restore(&here);
    }

    /// [`brute_force`] with every schedule cut at `max_depth` steps, as the explorer cuts it.
    fn brute_force_to(simulation: &mut Simulation, depth: u64, max_depth: u64, out: &mut BTreeMap<Outcome, u128>) {
        if simulation.outcome().is_none() && simulation.runnable().is_empty() {
            let _ = simulation.step();
        }
        if simulation.is_finished() || depth >= max_depth {
            let cut = (!simulation.is_finished()).then_some("depth-limit");
            *out.entry(outcome_of(simulation, cut)).or_default() += 1;
            return;
        }
        let here = simulation.checkpoint();
        for pid in simulation.runnable().to_vec() {
            simulation.restore(&here);
            simulation.step_as(pid).expect("a runnable pid runs");
            brute_force_to(simulation, depth + 1, max_depth, out);
        }
        simulation.restore(&here);
    }

    /// A state reached at two depths has fewer steps left before the depth limit at the deeper one:
    /// a summary made at the shallower one, whose schedules fit, must not be reused where they would be
    /// cut, nor one cut by the limit where it would cut elsewhere. At every depth limit, the outcomes
    /// and their counts are those of enumerating every schedule cut at that depth.
    #[test]
    fn a_node_reached_again_deeper_is_cut_where_the_depth_limit_falls_for_it() {
        let (_, text) =
            crate::test_library().into_iter().find(|(name, _)| name == "sem-mutex.ipc").expect("in the library");
        let mut compared = 0;
        for max_depth in 1..28 {
            let limits = ExploreLimits { max_depth, reduction: Reduction::None, ..ExploreLimits::default() };
            let explored = explore(&mut simulation(&text), limits, &mut |_| {});
            let mut counted = BTreeMap::new();
            brute_force_to(&mut simulation(&text), 0, max_depth, &mut counted);
            let found: BTreeMap<Outcome, u128> =
                explored.outcomes.iter().map(|(outcome, reached)| (outcome.clone(), reached.schedules)).collect();
            assert_eq!(found, counted, "cut at {max_depth} steps");
            compared += (counted.len() > 1) as usize;
        }
        assert!(compared >= 5, "some limits cut some schedules and not others ({compared})");
    }

    fn both(text: &str) -> (Exploration, BTreeMap<Outcome, u128>) {
        let explored = explore(&mut simulation(text), ExploreLimits::default(), &mut |_| {});
        let mut counted = BTreeMap::new();
        brute_force(&mut simulation(text), &mut counted);
        (explored, counted)
    }

    /// Reuse of nodes changes nothing: the outcomes and their exact counts are those of enumerating
    /// every schedule one by one, on scenarios with a race, a deadlock on some schedules only, and a
    /// failed expectation on some schedules only.
    #[test]
    fn reusing_nodes_finds_the_outcomes_and_counts_of_every_schedule() {
        let race = "process a expect exited 0 {\n  p = pipe\n  fork b expect exited 0 {\n    write p.w \"b\" -> 1\n  }\n  \
                    fork c expect exited 0 {\n    write p.w \"c\" -> 1\n  }\n  read p.r 1 -> \"b\"\n  wait\n  wait\n}\n";
        let deadlock = "process main expect exited 0 {\n  s = semget IPC_PRIVATE 2 IPC_CREAT|0600\n  semctl s 0 SETALL {1, 1} -> 0\n  \
                        fork x {\n    semop s {0, -1}\n    semop s {1, -1}\n    semop s {1, 1}\n    semop s {0, 1}\n  }\n  \
                        fork y {\n    semop s {1, -1}\n    semop s {0, -1}\n    semop s {0, 1}\n    semop s {1, 1}\n  }\n  \
                        wait\n  wait\n}\n";
        for text in [race, deadlock] {
            let (explored, counted) = both(text);
            assert!(explored.incomplete.is_none());
            let found: BTreeMap<Outcome, u128> =
                explored.outcomes.iter().map(|(outcome, reached)| (outcome.clone(), reached.schedules)).collect();
            assert_eq!(found, counted, "{text}");
            assert!(explored.reused > 0, "nodes are reached twice and reused");
            assert!(found.len() >= 2, "the scenario has several outcomes: {found:?}");
        }
        // The race: b's byte or c's byte first; the expectation fails on the schedules where c wins.
        let (explored, _) = both(race);
        assert!(explored.outcomes.iter().any(|(outcome, _)| outcome.holds()));
        assert!(explored.outcomes.iter().any(|(outcome, _)| !outcome.holds()));
        // The deadlock is found, with the shortest schedule that reaches it.
        let (explored, _) = both(deadlock);
        let (_, reached) =
            explored.outcomes.iter().find(|(outcome, _)| outcome.ending == "deadlock").expect("a deadlock");
        let mut replay = simulation(deadlock);
        for pid in &reached.shortest {
            replay.step_as(*pid).expect("the shortest schedule replays");
        }
        let _ = replay.step();
        assert_eq!(replay.outcome().map(|outcome| outcome.name()), Some("deadlock"));
    }

    /// Sampling finds only outcomes that exist, counts every run once, and replays: with enough runs
    /// it finds the race's both outcomes, and the same seed gives the same table.
    #[test]
    fn random_and_pct_runs_find_outcomes_that_exhaustive_exploration_lists() {
        let race = "process a expect exited 0 {\n  p = pipe\n  fork b expect exited 0 {\n    write p.w \"b\" -> 1\n  }\n  \
                    fork c expect exited 0 {\n    write p.w \"c\" -> 1\n  }\n  read p.r 1 -> \"b\"\n  wait\n  wait\n}\n";
        let all = explore(&mut simulation(race), ExploreLimits::default(), &mut |_| {});
        for strategy in [Strategy::Random, Strategy::Pct { depth: 2 }, Strategy::Pct { depth: 3 }] {
            let sampled = sample(&mut simulation(race), strategy, 200, 7, &mut |_| {});
            assert_eq!(sampled.schedules(), 200, "{strategy:?}");
            assert_eq!(sampled, sample(&mut simulation(race), strategy, 200, 7, &mut |_| {}), "{strategy:?}");
            for (outcome, reached) in &sampled.outcomes {
                assert!(all.outcomes.iter().any(|(known, _)| known == outcome), "{strategy:?}: {outcome:?}");
                let mut replay = simulation(race);
                for pid in &reached.shortest {
                    replay.step_as(*pid).expect("the schedule replays");
                }
                let _ = replay.step();
                assert_eq!(&outcome_of(&replay, None), outcome);
            }
            assert_eq!(sampled.outcomes.len(), all.outcomes.len(), "{strategy:?} finds both outcomes in 200 runs");
        }
    }

    /// With preemptions bounded, only the schedules within the bound are counted, their number grows
    /// with the bound up to every schedule, and a bug that needs one preemption is found with a bound
    /// of 1 but not 0.
    #[test]
    fn a_bound_on_preemptions_counts_only_the_schedules_within_it() {
        let race = "process a expect exited 0 {\n  p = pipe\n  fork b expect exited 0 {\n    write p.w \"b\" -> 1\n  }\n  \
                    fork c expect exited 0 {\n    write p.w \"c\" -> 1\n  }\n  read p.r 1 -> \"b\"\n  wait\n  wait\n}\n";
        let all = explore(&mut simulation(race), ExploreLimits::default(), &mut |_| {});
        let mut previous = 0;
        for bound in 0..8 {
            let limits = ExploreLimits { max_preemptions: Some(bound), ..ExploreLimits::default() };
            let found = explore(&mut simulation(race), limits, &mut |_| {});
            assert!(found.schedules() >= previous && found.schedules() <= all.schedules(), "bound {bound}");
            previous = found.schedules();
            for (outcome, reached) in &found.outcomes {
                // Each shortest schedule keeps to the bound.
                let mut replay = simulation(race);
                let mut preemptions = 0;
                let mut last: Option<Pid> = None;
                for pid in &reached.shortest {
                    if last.is_some_and(|last| last != *pid && replay.runnable().contains(&last)) {
                        preemptions += 1;
                    }
                    replay.step_as(*pid).expect("replays");
                    last = Some(*pid);
                }
                assert!(preemptions <= bound, "bound {bound}: {outcome:?} by {:?}", reached.shortest);
            }
        }
        assert_eq!(previous, all.schedules(), "a bound as long as the run counts every schedule");
        // Round-robin with no preemption lets b write first; c's byte first needs a preemption.
        let fails = |bound| {
            let limits = ExploreLimits { max_preemptions: Some(bound), ..ExploreLimits::default() };
            !explore(&mut simulation(race), limits, &mut |_| {}).holds()
        };
        assert!(fails(1));
    }

    #[test]
    fn the_limits_cut_the_exploration_and_say_so() {
        let text =
            "process a {\n  repeat 3 {\n    sched_yield\n  }\n}\nprocess b {\n  repeat 3 {\n    sched_yield\n  }\n}\n";
        let explored = explore(
            &mut simulation(text),
            ExploreLimits { max_nodes: 3, max_depth: 100, ..ExploreLimits::default() },
            &mut |_| {},
        );
        assert!(explored.incomplete.as_deref().is_some_and(|why| why.contains("3 nodes")));
        let explored = explore(
            &mut simulation(text),
            ExploreLimits { max_nodes: 1000, max_depth: 2, ..ExploreLimits::default() },
            &mut |_| {},
        );
        assert!(explored.incomplete.is_none());
        assert!(explored.outcomes.iter().all(|(outcome, _)| outcome.ending == "depth-limit"));
        assert_eq!(explored.schedules(), 4, "two choices at each of two steps");
    }

    #[test]
    fn an_exploration_asked_to_stop_ends_with_what_it_found_and_says_why() {
        use std::cell::Cell;
        let text = "process a {\n  repeat 4 {\n    sched_yield\n  }\n}\nprocess b {\n  repeat 4 {\n    sched_yield\n  }\n}\nprocess c {\n  repeat 4 {\n    sched_yield\n  }\n}\n";
        // Without reduction and with sleep sets (whose nodes keep the steps they left untried).
        for reduction in [Reduction::None, Reduction::SleepSets] {
            let limits = ExploreLimits { reduction, ..ExploreLimits::default() };
            let all = explore(&mut simulation(text), limits, &mut |_| {});
            assert!(all.incomplete.is_none() && all.nodes > 40, "{} nodes", all.nodes);
            // Asked before each new node: it says stop at the 21st.
            let asked = Cell::new(0u64);
            let stop = || {
                asked.set(asked.get() + 1);
                (asked.get() > 20).then(|| "interrupted by SIGINT".to_string())
            };
            let mut run = simulation(text);
            let before = run.kernel().state_hash();
            let stopped = explore_until(&mut run, limits, &mut |_| {}, &stop);
            assert_eq!(stopped.incomplete.as_deref(), Some("interrupted by SIGINT"));
            assert_eq!(stopped.nodes, 20, "{reduction:?}: no new node after the answer");
            assert_eq!(asked.get(), 21, "{reduction:?}: asked once, not again, after it said stop");
            let schedules = stopped.schedules();
            assert!(schedules > 0 && schedules < all.schedules(), "{reduction:?}: {schedules}");
            // What it found is what there is: every outcome, with a schedule that replays to it.
            for (outcome, reached) in &stopped.outcomes {
                assert!(all.outcomes.iter().any(|(found, _)| found == outcome), "{outcome:?}");
                let mut replay = simulation(text);
                for pid in &reached.shortest {
                    replay.step_as(*pid).expect("replays");
                }
                assert_eq!(ended(&replay), *outcome);
            }
            assert_eq!(run.kernel().state_hash(), before, "the simulation is left where it stood");
        }
        // Sampling stops between runs.
        let runs = Cell::new(0u64);
        let stop = || {
            runs.set(runs.get() + 1);
            (runs.get() > 7).then(|| "interrupted by SIGTERM".to_string())
        };
        let sampled = sample_until(&mut simulation(text), Strategy::Random, 100, 1, 10_000, &mut |_| {}, &stop);
        assert_eq!(sampled.incomplete.as_deref(), Some("interrupted by SIGTERM"));
        assert_eq!((sampled.nodes, sampled.schedules()), (7, 7), "seven runs made, each counted");
        assert!(sample(&mut simulation(text), Strategy::Random, 100, 1, &mut |_| {}).incomplete.is_none());
    }

    #[test]
    fn shrinking_and_sealing_stop_when_asked_even_if_asked_once() {
        // b and c race to write into one pipe; a reads both bytes. "cb" needs c to preempt b.
        let text = "process a {\n  p = pipe\n  fork b {\n    sched_yield\n    sched_yield\n    write p.w \"b\" -> 1\n  }\n  fork c {\n    write p.w \"c\" -> 1\n  }\n  read p.r 2 -> \"bc\"\n}\n";
        let mut run = simulation(text);
        let all = explore(&mut run, ExploreLimits::default(), &mut |_| {});
        let (bad, reached): (Vec<Outcome>, Vec<Vec<Pid>>) =
            all.outcomes.iter().filter(|(o, _)| !o.holds()).map(|(o, r)| (o.clone(), r.shortest.clone())).unzip();
        assert!(!bad.is_empty());
        let limits = ExploreLimits::default();
        assert!(!fewest_preemptions(&mut run, &bad, 10, limits, &mut |_| {}, &never).is_empty());
        // A stop said once, at the first question: no bound goes on after it.
        let said = std::cell::Cell::new(false);
        let once = || (!said.replace(true)).then(|| "interrupted by SIGINT".to_string());
        assert!(fewest_preemptions(&mut run, &bad, 10, limits, &mut |_| {}, &once).is_empty());
        let wrong = |outcome: &Outcome| !outcome.holds();
        assert!(sealed(&mut run, &reached[0], &wrong, limits).is_some(), "this bad run has a sealed step");
        said.set(false);
        assert_eq!(sealed_until(&mut run, &reached[0], &wrong, limits, &mut |_| {}, &once), None);
        assert!(said.get(), "asked");
    }

    #[test]
    fn a_schedule_that_comes_back_to_a_state_it_passed_ends_as_a_cycle() {
        // The spinner yields forever unless main gets to kill it: on the schedules that keep running the
        // spinner, the state repeats after one step and the exploration must not go on down them.
        let text = "process main {\n  fork spinner {\n    while 1 {\n      sched_yield\n    }\n  }\n  kill spinner SIGKILL -> 0\n  waitpid spinner -> spinner killed SIGKILL\n}\n";
        let explored = explore(&mut simulation(text), ExploreLimits::default(), &mut |_| {});
        assert!(explored.incomplete.is_none());
        assert!(explored.cycles > 0);
        assert!(explored.nodes < 50, "{} nodes: the loop is not unrolled", explored.nodes);
        let endings: Vec<&str> = explored.outcomes.iter().map(|(outcome, _)| outcome.ending.as_str()).collect();
        assert_eq!(endings, ["all-exited", "cycle"]);
        // The shortest cycle: main forks, the spinner yields, comes back to the yield: a real schedule.
        let (_, reached) = &explored.outcomes[1];
        let mut replay = simulation(text);
        for pid in &reached.shortest {
            replay.step_as(*pid).expect("the cycle's schedule replays");
        }
        assert!(replay.outcome().is_none(), "the cycle's schedule does not end the run");
    }

    #[test]
    fn a_cycle_every_process_that_could_run_takes_part_in_never_ends_and_is_judged_so() {
        let spinner = "process spinner {\n  while 1 {\n    sched_yield\n  }\n}\n";
        let cycles = |text: &str| {
            let explored = explore(&mut simulation(text), ExploreLimits::default(), &mut |_| {});
            assert!(explored.incomplete.is_none() && explored.cycles > 0, "{text}");
            explored.outcomes.into_iter().map(|(outcome, _)| outcome).collect::<Vec<_>>()
        };
        // Alone, the spinner goes round its loop on the only schedule there is: the run never ends, which
        // fails the default end (every process exits), as `ipclab sim` stopping at its step limit does.
        let alone = cycles(spinner);
        assert_eq!(alone.len(), 1);
        assert_eq!(alone[0].ending, "cycle");
        assert_eq!(alone[0].failures, ["1:1 the run: expected the run to end: all-exited, got step-limit"]);
        // A scenario that says it runs forever holds, and a declared `step-limit` happened.
        let declared =
            cycles(&format!("expect step-limit\n{spinner}outcome always \"it never ends\" {{\n  step-limit\n}}\n"));
        assert!(declared.iter().all(|outcome| outcome.holds() && outcome.declared == [true]), "{declared:?}");
        // Two processes passing a byte back and forth forever: both take part in the loop.
        let token = "process a {\n  p = pipe\n  q = pipe\n  fork b {\n    while 1 {\n      read p.r 1\n      write q.w \"y\"\n    }\n  }\n  while 1 {\n    write p.w \"x\"\n    read q.r 1\n  }\n}\n";
        let passing = cycles(token);
        assert!(passing.iter().all(|outcome| outcome.ending == "cycle" && !outcome.holds()), "{passing:?}");
        // A loop that starves a process that could run (the spinner yields while main, which would kill
        // it, waits its turn) is no fair scheduler's forever: it is only cut, and holds.
        let starving = cycles(&format!(
            "process main {{\n  fork {}  kill spinner SIGKILL\n  wait\n}}\n",
            spinner.trim_start_matches("process ")
        ));
        assert!(starving.iter().any(|outcome| outcome.ending == "cycle" && outcome.holds()), "{starving:?}");
        assert!(starving.iter().all(Outcome::holds), "{starving:?}");
    }

    #[test]
    fn a_bad_outcome_is_shrunk_to_its_fewest_preemptions() {
        // b and c race to write into one pipe; a reads both bytes. "cb" needs c to preempt b.
        let text = "process a {\n  p = pipe\n  fork b {\n    sched_yield\n    sched_yield\n    write p.w \"b\" -> 1\n  }\n  fork c {\n    write p.w \"c\" -> 1\n  }\n  read p.r 2 -> \"bc\"\n}\n";
        let mut run = simulation(text);
        let all = explore(&mut run, ExploreLimits::default(), &mut |_| {});
        let bad: Vec<Outcome> = all.outcomes.iter().filter(|(o, _)| !o.holds()).map(|(o, _)| o.clone()).collect();
        assert!(!bad.is_empty(), "{:?}", all.outcomes);
        let shrunk = fewest_preemptions(&mut run, &bad, 10, ExploreLimits::default(), &mut |_| {}, &never);
        for outcome in &bad {
            let (bound, schedule) = &shrunk[outcome];
            assert_eq!(preemptions(&mut run, schedule), Some(*bound), "{schedule:?}");
            // The schedule reproduces the outcome.
            let mut replay = simulation(text);
            for pid in schedule {
                replay.step_as(*pid).unwrap();
            }
            if replay.outcome().is_none() && replay.runnable().is_empty() {
                let _ = replay.step();
            }
            assert_eq!(&outcome_of(&replay, None), outcome);
            // And no schedule with fewer preemptions reaches it.
            if *bound > 0 {
                let fewer = ExploreLimits { max_preemptions: Some(bound - 1), ..ExploreLimits::default() };
                assert!(explore(&mut run, fewer, &mut |_| {}).outcomes.iter().all(|(o, _)| o != outcome));
            }
        }
    }

    #[test]
    fn the_step_that_seals_a_deadlock_is_found_with_the_choices_that_avoid_it() {
        // Two processes take two semaphores in opposite orders: once each holds its first, every
        // continuation deadlocks; before the second one takes its first, the other could go on.
        let text = "process main {\n  s = semget IPC_PRIVATE 2 IPC_CREAT|0600\n  semctl s 0 SETALL {1, 1} -> 0\n  fork a {\n    semop s {0, -1}\n    semop s {1, -1}\n    semop s {1, 1}\n    semop s {0, 1}\n  }\n  fork b {\n    semop s {1, -1}\n    semop s {0, -1}\n    semop s {0, 1}\n    semop s {1, 1}\n  }\n}\n";
        let mut run = simulation(text);
        let all = explore(&mut run, ExploreLimits::default(), &mut |_| {});
        let (deadlock, reached) =
            all.outcomes.iter().find(|(outcome, _)| outcome.ending == "deadlock").expect("a deadlock");
        let bad = |outcome: &Outcome| outcome.ending == deadlock.ending;
        let found = sealed(&mut run, &reached.shortest, &bad, ExploreLimits::default()).expect("sealed");
        let step = found.step as usize;
        assert!(step > 0 && step <= reached.shortest.len());
        assert_eq!(found.chosen, Some(reached.shortest[step - 1]));
        assert!(!found.avoid.is_empty(), "another process could have run instead: {found:?}");
        // Every continuation, whatever bound the exploration that found the run had.
        let bounded = ExploreLimits { max_preemptions: Some(0), ..ExploreLimits::default() };
        assert_eq!(sealed(&mut run, &reached.shortest, &bad, bounded).as_ref(), Some(&found));
        // Checked directly: from the sealed prefix every schedule deadlocks; one step earlier, not.
        let from = |len: usize| {
            let mut replay = simulation(text);
            for pid in &reached.shortest[..len] {
                replay.step_as(*pid).unwrap();
            }
            explore(&mut replay, ExploreLimits::default(), &mut |_| {})
        };
        assert!(from(step).outcomes.iter().all(|(outcome, _)| bad(outcome)));
        assert!(from(step - 1).outcomes.iter().any(|(outcome, _)| !bad(outcome)));
        // A run that is bad on every schedule is sealed from the start.
        let stuck = "process main {\n  p = pipe\n  read p.r 1\n}\n";
        let mut run = simulation(stuck);
        let all = explore(&mut run, ExploreLimits::default(), &mut |_| {});
        let (_, reached) = &all.outcomes[0];
        let found =
            sealed(&mut run, &reached.shortest, &|o: &Outcome| o.ending == "deadlock", ExploreLimits::default());
        assert_eq!(found, Some(Sealed { step: 0, chosen: None, avoid: Vec::new() }));
    }

    #[test]
    fn what_else_splits_the_futures_by_the_process_that_runs_next() {
        // Two writers race for the pipe: whoever runs first decides what the reader gets.
        let text = "process a {\n  p = pipe\n  fork b {\n    write p.w \"b\" -> 1\n  }\n  fork c {\n    write p.w \"c\" -> 1\n  }\n  read p.r 2 -> \"bc\"\n}\n";
        let mut run = simulation(text);
        // a pipes and forks both children; then a, b and c may run.
        for _ in 0..3 {
            run.step_as(2).unwrap();
        }
        let whole = explore(&mut run, ExploreLimits::default(), &mut |_| {});
        let by_next = what_else(&mut run, ExploreLimits::default());
        assert_eq!(by_next.iter().map(|(pid, _)| *pid).collect::<Vec<_>>(), run.runnable());
        // The futures split exactly: the schedules add up to the whole, outcome by outcome.
        assert_eq!(by_next.iter().map(|(_, found)| found.schedules()).sum::<u128>(), whole.schedules());
        for (outcome, reached) in &whole.outcomes {
            let parts: u128 = by_next
                .iter()
                .flat_map(|(_, found)| found.outcomes.iter())
                .filter(|(other, _)| other == outcome)
                .map(|(_, reached)| reached.schedules)
                .sum();
            assert_eq!(parts, reached.schedules, "{outcome:?}");
        }
        // If c writes first, the reader can only get "cb": every such schedule fails.
        let (_, after_c) = by_next.iter().find(|(pid, _)| *pid == 4).expect("c may run");
        assert!(after_c.outcomes.iter().all(|(outcome, _)| !outcome.holds()));
        // And the simulation is where it was.
        assert_eq!(run.steps(), 3);
    }

    #[test]
    fn a_session_finds_where_its_bad_run_was_sealed() {
        use crate::session::{Engine, RunSetup};
        let text = "process a {\n  p = pipe\n  fork b {\n    write p.w \"b\" -> 1\n  }\n  fork c {\n    write p.w \"c\" -> 1\n  }\n  read p.r 2 -> \"bc\"\n}\n";
        let setup = |forced: Vec<Pid>| RunSetup {
            source: text.to_string(),
            seed: 0,
            policy: crate::sched::Policy::RoundRobin,
            forced,
        };
        // c writes before b: the reader gets "cb", and the run fails from the moment c wrote.
        let engine = Engine::build(setup(vec![2, 2, 2, 4])).expect("builds");
        let (outcome, fate) = engine.sealed(ExploreLimits::default()).expect("a bad run with a sealed step");
        assert_eq!(outcome.category(), "fails");
        assert_eq!(fate.step, 4);
        assert_eq!(fate.chosen, Some(4));
        // a (whose read would wait) or b (writing first) instead could still have avoided it.
        assert_eq!(fate.avoid, vec![2, 3]);
        // A run that ends well has nothing sealed.
        let good = Engine::build(setup(vec![2, 2, 2, 3])).expect("builds");
        assert!(good.sealed(ExploreLimits::default()).is_none());
    }
}

/// The footprints are complete enough for the reduction: on every library scenario, at many reachable
/// states, two steps of different processes whose footprints do not conflict commute.
#[cfg(test)]
mod footprints {
    use crate::sim::Simulation;
    use crate::trace::{EventKind, Pid};
    use crate::{Policy, RunConfig};
    use std::collections::BTreeSet;

    /// States looked at per scenario at most.
    const STATES: usize = 1000;

    /// A `semop` its waker finished only returns the result handed to it: its step touches the process
    /// alone, so it commutes with a `semctl` that changes the set family's namespace.
    #[test]
    fn a_handed_result_is_returned_without_touching_its_family() {
        let mut simulation = tracked(
            "process main {\n  s = semget IPC_PRIVATE 1 IPC_CREAT|0600\n  fork poster {\n    semop s {0, 1}\n  }\n  \
             semop s {0, -1}\n  wait\n}\n",
        );
        // main: semget, fork, then its semop sleeps; the poster's semop does main's for it.
        for pid in [2, 2, 2, 3] {
            simulation.step_as(pid).expect("runnable");
        }
        assert!(simulation.kernel().process(2).handed.is_some(), "the poster finished main's semop");
        simulation.step_as(2).expect("main returns");
        let footprint = simulation.footprint();
        let own = crate::trace::ObjectRef::process(2);
        assert_eq!((footprint.writes.as_slice(), footprint.reads.as_slice()), (&[own][..], &[][..]));
    }

    fn tracked(text: &str) -> Simulation {
        let config = RunConfig {
            policy: Policy::RoundRobin,
            follow_schedule: false,
            track_footprints: true,
            ..RunConfig::default()
        };
        Simulation::new(&crate::parse(text).expect("parses"), config).expect("compiles")
    }

    /// What two steps in one order leave: the canonical state, the run's history, its failures as a set,
    /// its end, who may run, and the events of the two steps as a set (not the switches between them).
    #[derive(Debug, PartialEq, Eq)]
    struct After {
        state: u64,
        history: u64,
        failures: BTreeSet<String>,
        ending: Option<String>,
        runnable: Vec<Pid>,
        events: BTreeSet<String>,
    }

    fn after(simulation: &Simulation, events_from: usize) -> After {
        After {
            state: simulation.kernel().state_hash(),
            history: super::history_hash(simulation),
            failures: simulation.failures().iter().map(super::failure_text).collect(),
            ending: simulation.outcome().map(|outcome| outcome.name().to_string()),
            runnable: simulation.runnable().to_vec(),
            events: simulation.trace().events[events_from..]
                .iter()
                .filter(|event| !matches!(event.kind, EventKind::Switch { .. }))
                // Where a call's bytes sit in the trace's data depends on the order; what they are does not.
                .map(|event| {
                    let text = format!("{:?}", event.kind);
                    match text.find("offset: ") {
                        Some(at) => {
                            let rest = &text[at + 8..];
                            let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
                            format!("{}offset: _{}", &text[..at], &rest[end..])
                        }
                        None => text,
                    }
                })
                .collect(),
        }
    }

    fn sorted(
        footprint: &crate::kernel::Footprint,
    ) -> (Vec<crate::trace::ObjectRef>, Vec<crate::trace::ObjectRef>, bool) {
        let mut reads = footprint.reads.clone();
        let mut writes = footprint.writes.clone();
        reads.sort();
        writes.sort();
        (reads, writes, footprint.everything)
    }

    #[test]
    fn steps_whose_footprints_do_not_conflict_commute_on_every_library_scenario() {
        let mut problems = Vec::new();
        let (mut pairs, mut independent) = (0u64, 0u64);
        for (name, text) in crate::test_library() {
            let mut simulation = tracked(&text);
            let mut seen = BTreeSet::new();
            let mut stack = vec![simulation.checkpoint()];
            while let Some(here) = stack.pop() {
                if seen.len() >= STATES {
                    break;
                }
                simulation.restore(&here);
                if simulation.outcome().is_none() && simulation.runnable().is_empty() {
                    let _ = simulation.step();
                }
                if simulation.is_finished()
                    || !seen.insert((simulation.kernel().state_hash(), super::history_hash(&simulation)))
                {
                    continue;
                }
                let here = simulation.checkpoint();
                let events_from = simulation.trace().events.len();
                let mut firsts = Vec::new();
                for pid in simulation.runnable().to_vec() {
                    simulation.restore(&here);
                    simulation.step_as(pid).expect("a runnable pid runs");
                    firsts.push((pid, simulation.footprint().clone(), simulation.checkpoint()));
                    simulation.restore(&here);
                }
                for (i, (p, fp, _)) in firsts.iter().enumerate() {
                    for (q, fq, _) in &firsts[i + 1..] {
                        pairs += 1;
                        if fp.conflicts_with(fq) {
                            continue;
                        }
                        independent += 1;
                        let mut both = Vec::new();
                        for (first, second, second_alone) in [(p, q, fq), (q, p, fp)] {
                            // From `here` again: a checkpoint of a sibling branch has the right kernel
                            // but no longer the events of its step.
                            simulation.restore(&here);
                            simulation.step_as(*first).expect("runs");
                            if !simulation.runnable().contains(second) {
                                problems.push(format!("{name}: {first} disables {second} ({fp:?} / {fq:?})"));
                                both.push(None);
                                continue;
                            }
                            simulation.step_as(*second).expect("runs");
                            let (mut now, mut alone) = (sorted(simulation.footprint()), sorted(second_alone));
                            if simulation.is_finished() {
                                // The step that ends the run conflicts with every other, in either order.
                                (now.2, alone.2) = (false, false);
                            }
                            if now != alone {
                                problems.push(format!(
                                    "{name}: {second}'s footprint after {first} is {:?}, alone {:?}",
                                    simulation.footprint(),
                                    second_alone
                                ));
                            }
                            both.push(Some(after(&simulation, events_from)));
                        }
                        if both[0] != both[1] {
                            problems.push(format!(
                                "{name}: {p} then {q} differs from {q} then {p}\n  {fp:?}\n  {fq:?}\n  {:?}\n  {:?}",
                                both[0], both[1]
                            ));
                        }
                    }
                }
                for (_, _, child) in firsts.into_iter().rev() {
                    stack.push(child);
                }
            }
        }
        eprintln!("{pairs} pairs of steps, {independent} independent by their footprints");
        // One line per scenario and kind of problem is enough to go on.
        let mut kinds = BTreeSet::new();
        problems.retain(|problem| {
            kinds.insert(problem.split(" is ").next().unwrap_or(problem).chars().take(60).collect::<String>())
        });
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        assert!(independent > 4000, "the footprints find independent steps ({independent} of {pairs})");
    }
}

/// Sleep sets against the full exploration: the same outcomes, in fewer nodes and steps.
#[cfg(test)]
mod reduction {
    use super::*;
    use crate::{Policy, RunConfig};
    use std::collections::BTreeSet;

    /// Nodes at most for the exploration without reduction; scenarios it does not finish are left out.
    const NODES: u64 = 2_500;

    fn simulation(text: &str) -> Simulation {
        let config = RunConfig { policy: Policy::RoundRobin, follow_schedule: false, ..RunConfig::default() };
        Simulation::new(&crate::parse(text).expect("parses"), config).expect("compiles")
    }

    fn limits(reduction: Reduction) -> ExploreLimits {
        ExploreLimits { max_nodes: NODES, reduction, ..ExploreLimits::default() }
    }

    /// The outcomes other than `cycle` (whose processes' states depend on where the loop was entered,
    /// which depends on the order of exploration with or without reduction), and whether a cycle was
    /// found at all.
    fn ends(found: &Exploration) -> (BTreeSet<Outcome>, bool) {
        let all = found.outcomes.iter().map(|(outcome, _)| outcome.clone());
        (
            all.clone().filter(|outcome| outcome.ending != "cycle").collect(),
            all.into_iter().any(|o| o.ending == "cycle"),
        )
    }

    #[test]
    fn sleep_sets_find_every_outcome_of_every_library_scenario_in_no_more_nodes() {
        let mut compared = 0;
        let (mut full_steps, mut reduced_steps) = (0u64, 0u64);
        let mut table = String::new();
        for (name, text) in crate::test_library() {
            let none = explore(&mut simulation(&text), limits(Reduction::None), &mut |_| {});
            if none.incomplete.is_some() {
                table.push_str(&format!("{name:<48} (not finished in {NODES} nodes without reduction)\n"));
                continue;
            }
            let sleep = explore(&mut simulation(&text), limits(Reduction::SleepSets), &mut |_| {});
            assert!(sleep.incomplete.is_none(), "{name}: {:?}", sleep.incomplete);
            assert_eq!(ends(&sleep), ends(&none), "{name}: the same outcomes with sleep sets");
            assert!(sleep.nodes <= none.nodes, "{name}: {} nodes with sleep sets, {} without", sleep.nodes, none.nodes);
            assert!(sleep.steps <= none.steps, "{name}: {} steps with sleep sets, {} without", sleep.steps, none.steps);
            assert!(sleep.schedules() <= none.schedules(), "{name}");
            assert_eq!(sleep.reduction, Reduction::SleepSets);
            // Each shortest schedule replays to its outcome.
            for (outcome, reached) in sleep.outcomes.iter().filter(|(outcome, _)| outcome.ending != "cycle") {
                let mut replay = simulation(&text);
                for pid in &reached.shortest {
                    replay.step_as(*pid).expect("the schedule replays");
                }
                if replay.outcome().is_none() && replay.runnable().is_empty() {
                    let _ = replay.step();
                }
                let cut =
                    (reached.shortest.len() as u64 >= ExploreLimits::default().max_depth).then_some("depth-limit");
                assert_eq!(&outcome_of(&replay, cut), outcome, "{name}: {:?}", reached.shortest);
            }
            compared += 1;
            full_steps += none.steps;
            reduced_steps += sleep.steps;
            table.push_str(&format!(
                "{name:<48} nodes {:>6} -> {:>6}   steps {:>7} -> {:>7}   schedules {} -> classes {}   outcomes {}\n",
                none.nodes,
                sleep.nodes,
                none.steps,
                sleep.steps,
                none.schedules(),
                sleep.schedules(),
                none.outcomes.len()
            ));
        }
        eprintln!(
            "{table}{compared} scenarios compared: {full_steps} steps simulated without reduction, {reduced_steps} with sleep sets"
        );
        assert!(compared >= 40, "most of the library is compared ({compared})");
        // With every state cached, sleep sets save steps (transitions), not states; the states left out
        // are those between a handed result and its return (see `quiet`).
        assert!(reduced_steps < full_steps, "sleep sets reduce ({reduced_steps} of {full_steps} steps)");
    }

    /// The state hash looks away from variables no one reads again, from the operands of calls that
    /// returned and, when no `semctl GETPID` can see it, from who last changed each semaphore
    /// (`lang::live`). On every library scenario, without
    /// reduction, that changes nothing an exploration reports: the same outcomes with the same number
    /// of schedules each (when no cycle makes the counts approximate), in no more states.
    #[test]
    fn looking_away_from_what_no_one_reads_changes_no_outcome_of_the_library() {
        let config = RunConfig { policy: Policy::RoundRobin, follow_schedule: false, ..RunConfig::default() };
        let (mut compared, mut merged) = (0, 0);
        let (mut states_all, mut states_live) = (0u64, 0u64);
        for (name, text) in crate::test_library() {
            let program =
                crate::lang::compile::Program::compile(&crate::parse(&text).expect("parses")).expect("compiles");
            let mut everything = program.clone();
            everything.live = crate::lang::live::Liveness::default();
            let limits = ExploreLimits { max_nodes: 8_000, ..limits(Reduction::None) };
            let all = explore(
                &mut Simulation::from_program(std::sync::Arc::new(everything), config.clone()),
                limits,
                &mut |_| {},
            );
            if all.incomplete.is_some() {
                continue;
            }
            let live = explore(
                &mut Simulation::from_program(std::sync::Arc::new(program), config.clone()),
                limits,
                &mut |_| {},
            );
            assert!(live.incomplete.is_none(), "{name}: {:?}", live.incomplete);
            assert_eq!(ends(&live), ends(&all), "{name}: the same outcomes");
            if !ends(&all).1 {
                let counts = |found: &Exploration| -> Vec<(Outcome, u128)> {
                    found.outcomes.iter().map(|(outcome, reached)| (outcome.clone(), reached.schedules)).collect()
                };
                assert_eq!(counts(&live), counts(&all), "{name}: the same schedules to each outcome");
            }
            assert!(live.nodes <= all.nodes, "{name}: {} states, {} hashing every variable", live.nodes, all.nodes);
            merged += (live.nodes < all.nodes) as usize;
            states_all += all.nodes;
            states_live += live.nodes;
            compared += 1;
        }
        eprintln!("{compared} scenarios, {merged} with fewer states: {states_all} states -> {states_live}");
        assert!(compared >= 60, "most of the library is compared ({compared})");
        assert!(merged >= 10, "the reduction merges states somewhere ({merged} scenarios)");
    }

    /// On small scenarios with a race, a deadlock on some schedules and a loop, the outcomes with sleep
    /// sets are those of enumerating every schedule one by one, each class of schedules that differ in
    /// the order of independent steps counted once.
    #[test]
    fn sleep_sets_find_the_outcomes_of_every_schedule() {
        let race = "process a expect exited 0 {\n  p = pipe\n  fork b expect exited 0 {\n    write p.w \"b\" -> 1\n  }\n  \
                    fork c expect exited 0 {\n    write p.w \"c\" -> 1\n  }\n  read p.r 1 -> \"b\"\n  wait\n  wait\n}\n";
        let deadlock = "process main expect exited 0 {\n  s = semget IPC_PRIVATE 2 IPC_CREAT|0600\n  semctl s 0 SETALL {1, 1} -> 0\n  \
                        fork x {\n    semop s {0, -1}\n    semop s {1, -1}\n    semop s {1, 1}\n    semop s {0, 1}\n  }\n  \
                        fork y {\n    semop s {1, -1}\n    semop s {0, -1}\n    semop s {0, 1}\n    semop s {1, 1}\n  }\n  \
                        wait\n  wait\n}\n";
        // Two writers on pipes of their own.
        let apart = "process a {\n  p = pipe\n  repeat 3 {\n    write p.w \"x\" -> 1\n  }\n}\nprocess b {\n  q = pipe\n  repeat 3 {\n    write q.w \"y\" -> 1\n  }\n}\n";
        for text in [race, deadlock, apart] {
            let mut every = BTreeMap::new();
            super::tests::brute_force(&mut simulation(text), &mut every);
            let found = explore(&mut simulation(text), limits(Reduction::SleepSets), &mut |_| {});
            let outcomes: BTreeSet<Outcome> = found.outcomes.iter().map(|(outcome, _)| outcome.clone()).collect();
            assert_eq!(outcomes, every.keys().cloned().collect(), "{text}");
            let all: u128 = every.values().sum();
            assert!(found.schedules() <= all, "{text}");
            assert!(
                text == race || found.schedules() < all,
                "{} classes of {all} schedules: {text}",
                found.schedules()
            );
        }
        // The writes of the two interleave freely; the two exits both change init (which reaps them)
        // and stay ordered with what they touch: of 252 schedules, a handful of classes remain.
        let found = explore(&mut simulation(apart), limits(Reduction::SleepSets), &mut |_| {});
        assert!(found.schedules() <= 4, "{:?}", found.outcomes);
        let mut every = BTreeMap::new();
        super::tests::brute_force(&mut simulation(apart), &mut every);
        assert_eq!(every.values().sum::<u128>(), 252);
    }

    /// Numbers below `n` drawn from a xorshift generator started at `state`, for the random scenarios.
    fn drawer(state: u64) -> impl FnMut(u64) -> u64 {
        let mut state = state | 1;
        move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        }
    }

    /// A small random scenario that sends no signal: a semaphore set of two, a pipe, and three children
    /// each taking a few steps on them (a `P` or `V` on either semaphore, a write of its own letter, a
    /// read that expects the letter of the child after it, a count of the bytes in the pipe that
    /// expects 0 or 1, a loop of `P` and `V` that never ends and so comes back to states on the path),
    /// and a parent that may raise a semaphore, wait for children and count the bytes in the pipe once
    /// all three are made, from `seed`.
    fn quiet_scenario(seed: u64) -> String {
        let mut draw = drawer(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut text = format!(
            "process main {{\n  s = semget IPC_PRIVATE 2 IPC_CREAT|0600\n  semctl s 0 SETALL {{{}, {}}}\n  p = pipe\n",
            draw(2),
            draw(2)
        );
        let letters = ["a", "b", "c"];
        for child in 0..3 {
            text.push_str(&format!("  fork c{child} {{\n"));
            for _ in 0..2 + draw(2) {
                text.push_str(&match draw(6) {
                    5 => format!("    ioctl p.r FIONREAD -> {}\n", draw(2)),
                    4 => {
                        let sem = draw(2);
                        format!("    while 1 {{\n      semop s {{{sem}, -1}}\n      semop s {{{sem}, 1}}\n    }}\n")
                    }
                    0 => format!("    semop s {{{}, -1}}\n", draw(2)),
                    1 => format!("    semop s {{{}, 1}}\n", draw(2)),
                    2 => format!("    write p.w \"{}\" -> 1\n", letters[child]),
                    _ => format!("    read p.r 1 -> \"{}\"\n", letters[(child + 1) % 3]),
                });
            }
            text.push_str("  }\n");
        }
        // Half of them raise a semaphore once every child is made, and collect children.
        if draw(2) == 1 {
            text.push_str(&format!("  semop s {{{}, 1}}\n", draw(2)));
            for _ in 0..draw(4) {
                text.push_str("  wait\n");
            }
            text.push_str(&format!("  ioctl p.r FIONREAD -> {}\n", draw(2)));
        }
        text.push_str("}\n");
        text
    }

    /// Random scenarios the next test explores.
    const SEEDS: u64 = 600;

    /// On small random scenarios where the ample step applies, the reduction finds the outcomes of the
    /// full exploration (which the tests above check against every schedule).
    #[test]
    fn the_reduction_finds_every_outcome_of_random_quiet_scenarios() {
        let mut reduced = 0;
        for seed in 0..SEEDS {
            let text = quiet_scenario(seed);
            let none = explore(&mut simulation(&text), limits(Reduction::None), &mut |_| {});
            if none.incomplete.is_some() {
                continue;
            }
            let sleep = explore(&mut simulation(&text), limits(Reduction::SleepSets), &mut |_| {});
            assert_eq!(ends(&sleep), ends(&none), "seed {seed}:\n{text}");
            reduced += (sleep.nodes < none.nodes) as u32;
        }
        assert!(reduced >= SEEDS as u32 / 10, "the reduction left out states in {reduced} of {SEEDS} scenarios");
    }

    /// A small random scenario of two groups, from `seed`: two children pass a word through shared
    /// memory under a semaphore (a `P` or `V`, a store, a load that expects a value, a store past the
    /// mapping that faults and ends the child), while a third child and the parent move letters
    /// through a pipe (writes, reads that expect a letter, counts of the bytes in the pipe, closes of
    /// either end, so that a write may meet no reader and die of `SIGPIPE`, and the parent's look at
    /// whether the third has ended yet), and the parent may collect children. In half of them the pipe is made
    /// before the first two children, which then hold its ends and may also count its bytes or write
    /// to it: the pipe's side is then a group only while the memory's side cannot reach the pipe.
    fn grouped_scenario(seed: u64) -> String {
        let mut draw = drawer(seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut text = format!(
            "process main {{\n  m = mmap 4096 PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS\n  \
             s = semget IPC_PRIVATE 2 IPC_CREAT|0600\n  semctl s 0 SETALL {{{}, {}}}\n",
            draw(2),
            draw(2)
        );
        let pipe_first = draw(2) == 1;
        if pipe_first {
            text.push_str("  p = pipe\n");
        }
        for child in 0..2 {
            text.push_str(&format!("  fork m{child} {{\n"));
            for _ in 0..2 + draw(3) {
                text.push_str(&match draw(if pipe_first { 9 } else { 7 }) {
                    7 => format!("    ioctl p.r FIONREAD -> {}\n", draw(2)),
                    8 => "    write p.w \"x\" -> 1\n".to_string(),
                    0 | 1 => format!("    semop s {{{}, -1}}\n", draw(2)),
                    2 => format!("    semop s {{{}, 1}}\n", draw(2)),
                    3 => format!("    store m {} {}\n", 8 * draw(2), 1 + child),
                    4 => format!("    load m {} -> {}\n", 8 * draw(2), draw(3)),
                    5 if draw(3) == 0 => "    store m 8192 1\n".to_string(),
                    _ => format!("    store m 0 {}\n", 1 + child),
                });
            }
            text.push_str("  }\n");
        }
        if !pipe_first {
            text.push_str("  p = pipe\n");
        }
        text.push_str("  fork w {\n");
        for _ in 0..1 + draw(3) {
            text.push_str(&match draw(5) {
                0 => format!("    ioctl p.r FIONREAD -> {}\n", draw(2)),
                1 => "    read p.r 1 -> \"m\"\n".to_string(),
                2 => "    close p.r\n".to_string(),
                _ => "    write p.w \"w\" -> 1\n".to_string(),
            });
        }
        text.push_str("  }\n");
        if draw(2) == 1 {
            text.push_str("  close p.w\n");
        }
        for _ in 0..1 + draw(3) {
            text.push_str(&match draw(6) {
                0 => format!("  ioctl p.r FIONREAD -> {}\n", draw(2)),
                1 => "  write p.w \"m\" -> 1\n".to_string(),
                2 => "  close p.r\n".to_string(),
                3 => "  waitpid w WNOHANG -> 0\n".to_string(),
                _ => "  read p.r 1 -> \"w\"\n".to_string(),
            });
        }
        for _ in 0..draw(4) {
            text.push_str("  wait\n");
        }
        text.push_str("}\n");
        text
    }

    /// On small random scenarios of two groups (see [`grouped_scenario`]), the reduction finds the
    /// outcomes of the full exploration (which the tests above check against every schedule), and the
    /// group of processes on the pipe, tried in place of all, leaves out states in many of them.
    #[test]
    fn a_group_no_other_process_can_meet_is_tried_alone_and_loses_no_outcome() {
        const GROUPED: u64 = 300;
        let (mut compared, mut reduced) = (0, 0);
        for seed in 0..GROUPED {
            let text = grouped_scenario(seed);
            let none = explore(&mut simulation(&text), limits(Reduction::None), &mut |_| {});
            if none.incomplete.is_some() {
                continue;
            }
            compared += 1;
            let sleep = explore(&mut simulation(&text), limits(Reduction::SleepSets), &mut |_| {});
            assert_eq!(ends(&sleep), ends(&none), "seed {seed}:\n{text}");
            reduced += (sleep.nodes < none.nodes) as u32;
        }
        eprintln!("{compared} of {GROUPED} scenarios explored both ways, {reduced} with fewer states");
        assert!(compared >= GROUPED as u32 / 2, "only {compared} of {GROUPED} scenarios explored in full");
        assert!(reduced >= compared / 2, "the reduction left out states in {reduced} of {compared} scenarios");
    }

    /// The other process loads the id of the set it waits on from memory: the walk of its future must
    /// forget what it knew of that variable, or it judges the gate on the wrong set (one that stays at
    /// 0) and takes `main`'s pipe calls as a group, losing the schedule where the child writes first.
    #[test]
    fn a_group_is_not_taken_on_a_set_id_loaded_from_memory() {
        let loaded = "process main {\n  m = mmap 4096 PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS\n  \
                      a = semget IPC_PRIVATE 1 IPC_CREAT|0600\n  b = semget IPC_PRIVATE 1 IPC_CREAT|0600\n  \
                      semctl b 0 SETALL {1}\n  store m 0 b\n  p = pipe\n  fork n {\n    s = a\n    \
                      s = load m 0\n    semop s {0, -1}\n    write p.w \"n\" -> 1\n  }\n  \
                      write p.w \"m\" -> 1\n  read p.r 1 -> \"m\"\n}\n";
        let none = explore(&mut simulation(loaded), limits(Reduction::None), &mut |_| {});
        assert!(none.incomplete.is_none());
        assert_eq!(none.outcomes.len(), 2, "the read gets either letter: {:?}", none.outcomes);
        let sleep = explore(&mut simulation(loaded), limits(Reduction::SleepSets), &mut |_| {});
        assert_eq!(ends(&sleep), ends(&none));
    }

    /// A process about to write to a pipe is the one step tried from a node when no other process can
    /// touch the pipe before it: here the other one is held by a semaphore. In the first scenario the
    /// writer itself raises that semaphore before writing, in the second a third process does: the
    /// other may then count the bytes in the pipe before the write, and the exploration must keep the
    /// schedules where it does (a count of 0 that the writer's step alone would lose). The counting
    /// process then waits for good, so that its end does not hide its count.
    #[test]
    fn a_step_no_other_process_can_meet_is_taken_alone_and_loses_no_outcome() {
        let raised_by_writer = "process main {\n  s = semget IPC_PRIVATE 3 IPC_CREAT|0600\n  \
                                semctl s 0 SETALL {1, 0, 0}\n  p = pipe\n  fork a {\n    semop s {0, -1}\n    \
                                semop s {1, 1}\n    write p.w \"a\" -> 1\n    semop s {0, 1}\n  }\n  fork b {\n    \
                                semop s {1, -1}\n    ioctl p.r FIONREAD -> 0\n    semop s {2, -1}\n  }\n  wait\n  wait\n}\n";
        let raised_by_third = "process main {\n  s = semget IPC_PRIVATE 2 IPC_CREAT|0600\n  p = pipe\n  \
                               fork a {\n    write p.w \"a\" -> 1\n  }\n  fork b {\n    semop s {0, -1}\n    \
                               ioctl p.r FIONREAD -> 0\n    semop s {1, -1}\n  }\n  fork d {\n    semop s {0, 1}\n    \
                               semop s {1, -1}\n  }\n  wait\n  wait\n  wait\n}\n";
        // The other one's `semop` names a semaphore the set does not have: it fails at once (`EFBIG`)
        // rather than wait, and the writer's step is not taken alone.
        let no_such_semaphore = "process main {\n  s = semget IPC_PRIVATE 1 IPC_CREAT|0600\n  p = pipe\n  \
                                 fork a {\n    write p.w \"a\" -> 1\n  }\n  fork b {\n    semop s {1, -1}\n    \
                                 ioctl p.r FIONREAD -> 0\n    semop s {0, -1}\n  }\n  wait\n  wait\n}\n";
        for (text, prunes) in [(raised_by_writer, true), (raised_by_third, true), (no_such_semaphore, false)] {
            let mut every = BTreeMap::new();
            super::tests::brute_force(&mut simulation(text), &mut every);
            let counts: BTreeSet<bool> = every
                .keys()
                .map(|outcome| outcome.failures.iter().any(|failure| failure.contains("b: expected 0, got 1")))
                .collect();
            assert_eq!(counts.len(), 2, "the count is 0 on some schedules and 1 on others: {:?}", every.keys());
            let none = explore(&mut simulation(text), limits(Reduction::None), &mut |_| {});
            let sleep = explore(&mut simulation(text), limits(Reduction::SleepSets), &mut |_| {});
            let outcomes: BTreeSet<Outcome> = sleep.outcomes.iter().map(|(outcome, _)| outcome.clone()).collect();
            assert_eq!(outcomes, every.keys().cloned().collect(), "{text}");
            if prunes {
                assert!(sleep.nodes < none.nodes, "{} nodes with reduction, {} without", sleep.nodes, none.nodes);
            }
        }
    }

    /// Two consumers that sleep in `semop` are handed their items by the producer's `V`s; from then on
    /// a woken consumer's return is the only step tried from each state until it is taken, which leaves
    /// out states, and still finds every outcome of every schedule (which consumer reads which item, and
    /// whose expectation fails). A scenario with a call that is not quiet (`signal`, here) keeps every
    /// state.
    #[test]
    fn a_handed_result_returned_alone_leaves_out_states_and_no_outcome() {
        let quiet = "process main expect exited 0 {\n  s = semget IPC_PRIVATE 1 IPC_CREAT|0600\n  p = pipe\n  \
                     fork first expect exited 0 {\n    semop s {0, -1}\n    read p.r 1 -> \"a\"\n  }\n  \
                     fork second expect exited 0 {\n    semop s {0, -1}\n    read p.r 1 -> \"b\"\n  }\n  \
                     fork producer expect exited 0 {\n    write p.w \"a\" -> 1\n    semop s {0, 1}\n    \
                     write p.w \"b\" -> 1\n    semop s {0, 1}\n  }\n}\n";
        let loud = quiet.replace("  p = pipe", "  p = pipe\n  signal SIGUSR1 SIG_IGN");
        for (text, prunes) in [(quiet, true), (loud.as_str(), false)] {
            let mut every = BTreeMap::new();
            super::tests::brute_force(&mut simulation(text), &mut every);
            assert!(every.len() >= 2, "outcomes to tell apart: {:?}", every.keys());
            let none = explore(&mut simulation(text), limits(Reduction::None), &mut |_| {});
            let sleep = explore(&mut simulation(text), limits(Reduction::SleepSets), &mut |_| {});
            let outcomes: BTreeSet<Outcome> = sleep.outcomes.iter().map(|(outcome, _)| outcome.clone()).collect();
            assert_eq!(outcomes, every.keys().cloned().collect(), "{text}");
            assert_eq!(ends(&sleep), ends(&none), "{text}");
            if prunes {
                assert!(sleep.nodes < none.nodes, "{} nodes with reduction, {} without", sleep.nodes, none.nodes);
            } else {
                assert_eq!(sleep.nodes, none.nodes, "sleep sets alone reach every state");
            }
        }
    }

    /// Loops that come back to states on the path, with steps independent of the loop's around them:
    /// cut as cycles both ways, and the other outcomes the same. In the token passed back and forth,
    /// `c`'s write conflicts with the loop's steps on the same pipe: a cycle's cut then has `c` awake
    /// where the node on the path has it asleep, and wakes it there.
    #[test]
    fn sleep_sets_with_cycles_find_the_same_outcomes() {
        let spinner = "process main {\n  fork spinner {\n    while 1 {\n      sched_yield\n    }\n  }\n  \
                       fork other {\n    p = pipe\n    write p.w \"x\" -> 1\n    read p.r 1 -> \"x\"\n  }\n  \
                       kill spinner SIGKILL -> 0\n  waitpid spinner -> spinner killed SIGKILL\n  waitpid other -> other exited 0\n}\n";
        let two = "process main {\n  fork a {\n    while 1 {\n      sched_yield\n    }\n  }\n  fork b {\n    while 1 {\n      \
                   sched_yield\n    }\n  }\n  kill a SIGKILL -> 0\n  kill b SIGKILL -> 0\n  wait\n  wait\n}\n";
        let token = "process main {\n  p = pipe\n  q = pipe\n  fork a {\n    while 1 {\n      write p.w \"t\" -> 1\n      read q.r 1\n    }\n  }\n  \
                     fork b {\n    while 1 {\n      read p.r 1\n      write q.w \"t\" -> 1\n    }\n  }\n  \
                     fork c {\n    write p.w \"c\" -> 1\n  }\n  waitpid c\n  kill a SIGKILL -> 0\n  kill b SIGKILL -> 0\n  wait\n  wait\n}\n";
        for text in [spinner, two, token] {
            let limits = |reduction| ExploreLimits { max_nodes: 20_000, reduction, ..ExploreLimits::default() };
            let none = explore(&mut simulation(text), limits(Reduction::None), &mut |_| {});
            let sleep = explore(&mut simulation(text), limits(Reduction::SleepSets), &mut |_| {});
            assert!(none.incomplete.is_none() && sleep.incomplete.is_none(), "{text}");
            assert!(none.cycles > 0 && sleep.cycles > 0, "{text}");
            assert_eq!(ends(&sleep), ends(&none), "{text}");
            assert!(ends(&none).0.iter().any(|outcome| outcome.ending == "all-exited"), "{text}");
            assert!(sleep.steps <= none.steps && sleep.nodes <= none.nodes, "{text}");
        }
    }

    #[test]
    fn sleep_sets_and_a_bound_on_preemptions_are_refused_together() {
        let text = "process a {\n  sched_yield\n}\nprocess b {\n  sched_yield\n}\n";
        let both =
            ExploreLimits { max_preemptions: Some(1), reduction: Reduction::SleepSets, ..ExploreLimits::default() };
        let found = explore(&mut simulation(text), both, &mut |_| {});
        assert!(found.outcomes.is_empty());
        assert!(found.incomplete.as_deref().is_some_and(|why| why.contains("sleep sets and a bound on preemptions")));
        assert!(refused(&both).is_some());
        assert!(refused(&ExploreLimits { max_preemptions: Some(1), ..ExploreLimits::default() }).is_none());
    }
}
