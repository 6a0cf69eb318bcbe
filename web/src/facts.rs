//! Plain facts about a run, read from sim-core's events and compiled program in this one module.
//!
//! A [`Snapshot`](sim_core::Snapshot) pictures the kernel at one step; the playground also needs a few
//! things only the events say: which line a step ran, what a call gave back, when an expectation failed,
//! whether a challenge's goal happened, and at which step a tour stop's line runs. Everything that reads
//! events or operations is here, so a change in sim-core's event types is met in one file, and the rest
//! of the playground works with the small types below.

use crate::engine::Engine;
use sim_core::lang::compile::Program;
use sim_core::lang::syscalls::CallId;
use sim_core::linux::{ChildStatus, Signal};
use sim_core::present::explain::{self, EventLine};
use sim_core::present::render;
use sim_core::trace::{BlockReason, CallResult, Delivery, Event, EventKind, SignalEffect, SignalOrigin};
use sim_core::{Pid, RunOutcome};

/// The events recorded in `step` of the engine's run.
fn events_of(engine: &Engine, step: u64) -> &[Event] {
    explain::events_of_step(&engine.simulation().trace().events, step)
}

/// The name a process was given in the scenario (`worker` for a second `worker#2`).
fn base(name: &str) -> &str {
    name.split('#').next().unwrap_or(name)
}

/// Whether `pid` was called `name` in the scenario.
fn is_named(engine: &Engine, pid: Pid, name: &str) -> bool {
    engine.process_names().iter().any(|(candidate, full)| *candidate == pid && base(full) == name)
}

/// The call a step ran: who made it, and the line it is written on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ran {
    pub pid: Pid,
    pub line: u32,
}

/// The operation and the process of the first call (finished or blocked) in `events`.
fn first_call(events: &[Event]) -> Option<(Pid, u32)> {
    events.iter().find_map(|event| match event.kind {
        EventKind::Call { pid, op, .. } | EventKind::Block { pid, op, .. } => Some((pid, op)),
        _ => None,
    })
}

/// The line the call of `step` is written on (none before the first step, or for the exit at the end
/// of a block, which has no line of its own).
pub fn ran(engine: &Engine, step: u64) -> Option<Ran> {
    if step == 0 {
        return None;
    }
    let (pid, op) = first_call(events_of(engine, step))?;
    let line = engine.simulation().program().ops.get(op as usize)?.span.line;
    Some(Ran { pid, line })
}

/// An expectation of the scenario that did not hold: where it is written, and when it failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub step: u64,
    pub line: u32,
    pub col: u32,
    /// In plain words: `child expected "hello", and got 0`.
    pub text: String,
    /// The same, short, for the mark on its line: `expected "hello", got 0`.
    pub short: String,
}

/// Every failed expectation of the whole run, in the order they failed. The location is the
/// expectation's own (the `-> ...` or `expect ...` part), the same in the list and in the editor.
pub fn failures(engine: &Engine) -> Vec<Failure> {
    let simulation = engine.simulation();
    // Most runs have none: then there is no need to look through every event (a long run has millions).
    if simulation.failures().is_empty() {
        return Vec::new();
    }
    let steps = simulation.trace().events.iter().filter_map(|event| match event.kind {
        EventKind::ExpectFailed { .. } => Some(event.step as u64),
        _ => None,
    });
    simulation
        .failures()
        .iter()
        .zip(steps)
        .map(|(failure, step)| {
            let (text, short) = if failure.process == "the run" {
                let (expected, got) = (end_words(&failure.expected), end_word(&failure.got));
                (
                    format!("the run was expected to end {expected}, and ended {got}"),
                    format!("expected to end {expected}, ended {got}"),
                )
            } else {
                (
                    format!("{} expected {}, and got {}", failure.process, failure.expected, failure.got),
                    format!("expected {}, got {}", failure.expected, failure.got),
                )
            };
            Failure { step, line: failure.span.line, col: failure.span.col, text, short }
        })
        .collect()
}

/// `the run to end: deadlock` in plain words.
fn end_words(expected: &str) -> String {
    end_word(expected.rsplit(": ").next().unwrap_or(expected))
}

fn end_word(name: &str) -> String {
    match name {
        "all-exited" => "with every process exited".to_string(),
        "deadlock" => "in a deadlock".to_string(),
        "step-limit" => "at the step limit".to_string(),
        "limit-reached" => "at one of the simulator's limits".to_string(),
        other => other.to_string(),
    }
}

/// The failures recorded in `step`, for the list of that step's events.
fn failures_in(engine: &Engine, step: u64) -> Vec<Failure> {
    failures(engine).into_iter().filter(|failure| failure.step == step).collect()
}

/// The sentence for the step on screen, without the failure notes sim-core appends (the playground
/// marks failures on their lines and in the verdict instead); a step that had some says how many.
pub fn caption(engine: &Engine) -> String {
    let step = engine.position();
    let story = engine.story();
    let simulation = engine.simulation();
    let mut sentence = story.sentence.clone();
    let mut removed = 0;
    for event in events_of(engine, step) {
        if !matches!(event.kind, EventKind::ExpectFailed { .. }) {
            continue;
        }
        let text = render::event_text(simulation.program(), simulation.trace(), engine.story_names(), event);
        let inner = format!("; {text}");
        if let Some(at) = sentence.find(&inner) {
            sentence.replace_range(at..at + inner.len(), "");
            removed += 1;
        } else if sentence.starts_with(&text) {
            sentence.replace_range(..text.len(), "");
            sentence = sentence.trim_start_matches("; ").to_string();
            removed += 1;
        }
    }
    if removed == 0 {
        return sentence;
    }
    let sentence = sentence.trim_end_matches('.').trim().to_string();
    let mut characters = sentence.chars();
    let mut text = match characters.next() {
        // Sentences start with an ASCII word or a process name (an identifier).
        Some(first) => format!("{}{}.", first.to_ascii_uppercase(), characters.as_str()),
        None => String::new(),
    };
    if !text.is_empty() {
        text.push(' ');
    }
    text.push_str(if removed == 1 {
        "An expectation does not hold here; it is marked in the editor."
    } else {
        "Some expectations do not hold here; they are marked in the editor."
    });
    text
}

/// One event of a step, as the step's list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepLine {
    /// Who it is about (`kernel` for the run itself).
    pub actor: String,
    /// sim-core's sentence for the event.
    pub text: String,
    /// The event's kind in one word, for styling (`call`, `block`, `wake`, ...).
    pub kind: &'static str,
}

/// The events of the step on screen as lines, failures in plain words, context switches left out.
pub fn event_lines(engine: &Engine) -> Vec<StepLine> {
    event_lines_of(engine, engine.position())
}

/// The events of `step` as lines, as [`event_lines`] gives them for the step on screen.
pub fn event_lines_of(engine: &Engine, step: u64) -> Vec<StepLine> {
    let mut failures = failures_in(engine, step).into_iter();
    let story: Vec<EventLine> = engine.story_of(step).lines;
    story
        .into_iter()
        .filter(|line| line.kind != "switch")
        .map(|line| {
            let mut text = line.text;
            if line.kind == "failure" {
                if let Some(failure) = failures.next() {
                    text = format!("line {}: {}", failure.line, failure.text);
                }
            }
            let actor = if line.actor == "-" { "kernel".to_string() } else { line.actor };
            StepLine { actor, text, kind: line.kind }
        })
        .collect()
}

/// Signals generated up to the step on screen (sent, or raised by the CPU for a fault), newest last:
/// (step, sentence).
pub fn signals_so_far(engine: &Engine, most: usize) -> Vec<(u64, String)> {
    let position = engine.position();
    let simulation = engine.simulation();
    let events = &simulation.trace().events;
    let end = events.partition_point(|event| (event.step as u64) <= position);
    let names = engine.story_names();
    let mut found: Vec<(u64, String)> = events[..end]
        .iter()
        .rev()
        .filter(|event| matches!(event.kind, EventKind::Signal { .. } | EventKind::Fault { .. }))
        .take(most)
        .map(|event| {
            let actor = render::event_actor(names, event);
            let text = render::event_text(simulation.program(), simulation.trace(), names, event);
            (event.step as u64, format!("{actor} {text}"))
        })
        .collect();
    found.reverse();
    found
}

/// Who sent a signal: a process's own call (`kill`, `killpg`, `raise`, `sigqueue`), or the kernel on its
/// own account (`SIGCHLD` to a parent, `SIGPIPE`, an orphaned group's `SIGHUP` and `SIGCONT`, a message
/// queue's notification), or the clock (`SIGALRM` when an alarm goes off).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    Process(Pid),
    Kernel,
    Clock,
}

/// What a step did with a signal: sent it (and what became of it at the targets), took it (as it
/// returned to user mode), or took it with `sigwaitinfo` or `sigtimedwait` (no handler runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    Sent(SignalEffect),
    Taken(Delivery),
    Waited(CallId),
}

impl Move {
    /// Whether the signal was taken (rather than sent).
    pub fn is_taken(self) -> bool {
        !matches!(self, Move::Sent(_))
    }
}

/// A signal to draw for one step: who sent it to whom, or who took it (then `from` is the process
/// itself and `to` is only that process).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalMove {
    pub signal: Signal,
    pub from: Sender,
    pub to: Vec<Pid>,
    pub kind: Move,
}

/// The signals one step's events sent and took, in the order they happened. Each `Signal` event says
/// who sent it (`SignalOrigin`): a process's own `kill`-like call, the clock (an alarm), or the kernel.
/// Consecutive sends of one signal from one sender with one effect (a signal to a group, or to every
/// process) are one move with several targets.
pub fn signal_moves(program: &Program, events: &[Event]) -> Vec<SignalMove> {
    let mut moves: Vec<SignalMove> = Vec::new();
    for event in events {
        match event.kind {
            EventKind::Call { pid, op, ref result, .. } => {
                let id = program.call(op).map(|call| call.id);
                if let (Some(id @ (CallId::Sigwaitinfo | CallId::Sigtimedwait)), CallResult::Value { value }) =
                    (id, result)
                {
                    if let Some(signal) = Signal::from_number(*value) {
                        moves.push(SignalMove {
                            signal,
                            from: Sender::Process(pid),
                            to: vec![pid],
                            kind: Move::Waited(id),
                        });
                    }
                }
            }
            EventKind::Signal { from, to, signal, effect, origin } => {
                let sender = match origin {
                    SignalOrigin::Call => Sender::Process(from),
                    SignalOrigin::Alarm => Sender::Clock,
                    SignalOrigin::ChildChanged
                    | SignalOrigin::NoReader
                    | SignalOrigin::OrphanedGroup
                    | SignalOrigin::MessageArrived => Sender::Kernel,
                };
                let kind = Move::Sent(effect);
                match moves.last_mut() {
                    Some(last) if last.signal == signal && last.from == sender && last.kind == kind => last.to.push(to),
                    _ => moves.push(SignalMove { signal, from: sender, to: vec![to], kind }),
                }
            }
            EventKind::Delivered { pid, signal, delivery } => moves.push(SignalMove {
                signal,
                from: Sender::Process(pid),
                to: vec![pid],
                kind: Move::Taken(delivery),
            }),
            _ => {}
        }
    }
    moves
}

/// The signals the step on screen sent and took.
pub fn signal_moves_now(engine: &Engine) -> Vec<SignalMove> {
    signal_moves(engine.simulation().program(), events_of(engine, engine.position()))
}

/// A page that the step on screen moved to a fresh frame: a write to a copy-on-write page whose frame
/// another page table still maps, so the writer's page now maps a copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageMove {
    pub pid: Pid,
    /// The page's virtual address.
    pub page: u64,
    /// The frame it mapped before the copy.
    pub from: u32,
    /// The frame holding the copy.
    pub to: u32,
}

/// The pages the step on screen moved to a copy of their frame.
pub fn page_moves_now(engine: &Engine) -> Vec<PageMove> {
    events_of(engine, engine.position())
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::PageCopied { pid, address, from, to } => Some(PageMove { pid, page: address, from, to }),
            _ => None,
        })
        .collect()
}

/// A descriptor that the step on screen installed in a process's table from a message (`recvmsg` of
/// an `SCM_RIGHTS` message): the new number, and the socket it came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub pid: Pid,
    pub fd: i32,
    pub socket: u32,
}

/// The descriptors the step on screen installed from messages.
pub fn received_now(engine: &Engine) -> Vec<Received> {
    events_of(engine, engine.position())
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::Rights { pid, socket, fd, moved: sim_core::trace::RightsMove::Received, .. } => {
                Some(Received { pid, fd, socket })
            }
            _ => None,
        })
        .collect()
}

/// What became of a signal, in a few words: `pending`, `ignored`, `runs its handler finish`.
pub fn move_words(program: &Program, kind: Move) -> String {
    match kind {
        Move::Sent(effect) => match effect {
            SignalEffect::Ignored => "ignored",
            SignalEffect::Pending => "pending",
            SignalEffect::Blocked => "blocked, stays pending",
            SignalEffect::WhileStopped => "pending until SIGCONT",
            SignalEffect::Coalesced => "lost, already pending",
            SignalEffect::Continued => "continues",
            SignalEffect::NoEffect => "no effect",
        }
        .to_string(),
        Move::Taken(delivery) => match delivery {
            Delivery::Ignored => "taken, ignored".to_string(),
            Delivery::Discarded => "taken, discarded".to_string(),
            Delivery::Stopped => "taken, stops".to_string(),
            Delivery::Terminated { .. } => "taken, terminated".to_string(),
            Delivery::Dumped => "taken, terminated, dumps core".to_string(),
            Delivery::Handler { handler } => {
                let name = program.handlers.get(handler as usize).map_or("?", |code| &*code.name);
                format!("taken, runs its handler {name}")
            }
            Delivery::Stray { address } => format!("taken, sent to address {address}, where it faults"),
        },
        Move::Waited(id) => format!("taken by {}", id.name()),
    }
}

/// A process's name in the scenario (`init` for pid 1).
pub fn process_name(names: &[(Pid, String)], pid: Pid) -> String {
    match names.iter().find(|(candidate, _)| *candidate == pid) {
        Some((_, name)) => name.clone(),
        None if pid == 1 => "init".to_string(),
        None => format!("pid {pid}"),
    }
}

/// Who sent a signal, in one word: the process's name, `kernel` or `clock`.
pub fn sender_name(names: &[(Pid, String)], from: Sender) -> String {
    match from {
        Sender::Process(pid) => process_name(names, pid),
        Sender::Kernel => "kernel".to_string(),
        Sender::Clock => "clock".to_string(),
    }
}

/// A move's targets by name: `editor, compiler`.
pub fn target_names(names: &[(Pid, String)], signal_move: &SignalMove) -> String {
    signal_move.to.iter().map(|pid| process_name(names, *pid)).collect::<Vec<_>>().join(", ")
}

/// A move in words, for the announcement and the drawing's text alternative:
/// `SIGTERM: orchestrator → worker, pending`, `SIGCHLD: kernel → parent, ignored`,
/// `SIGTERM: polite, taken, runs its handler finish`.
pub fn move_sentence(program: &Program, names: &[(Pid, String)], signal_move: &SignalMove) -> String {
    let from = match signal_move.kind {
        Move::Sent(_) => format!("{} → ", sender_name(names, signal_move.from)),
        Move::Taken(_) | Move::Waited(_) => String::new(),
    };
    format!(
        "{}: {from}{}, {}",
        signal_move.signal.name(),
        target_names(names, signal_move),
        move_words(program, signal_move.kind)
    )
}

/// Whether any pipe, FIFO or IPC object was made at or before `step` (to tell "none yet" from "all gone").
pub fn made_an_object_by(engine: &Engine, step: u64) -> bool {
    let simulation = engine.simulation();
    let program = simulation.program();
    simulation.trace().events.iter().take_while(|event| (event.step as u64) <= step).any(|event| match &event.kind {
        EventKind::Call { op, result, .. } => {
            let made = matches!(
                program.call(*op).map(|call| call.id),
                Some(
                    CallId::Pipe
                        | CallId::Pipe2
                        | CallId::Mkfifo
                        | CallId::Open
                        | CallId::Msgget
                        | CallId::Semget
                        | CallId::MqOpen
                        | CallId::SemOpen
                )
            );
            made && !matches!(result, CallResult::Error { .. })
        }
        _ => false,
    })
}

/// The kind of call a prediction is asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    Read,
    Write,
    Open,
    Wait,
}

/// What a call did, in the categories a visitor predicts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Happened {
    /// `read` returned some bytes.
    Data,
    /// `read` returned 0.
    EndOfFile,
    /// `write` wrote everything it was given.
    WroteAll,
    /// `write` returned fewer bytes than it was given.
    WrotePart,
    /// `open` returned a descriptor.
    Opened,
    /// `wait`/`waitpid` reported a child.
    Reported,
    /// `waitpid ... WNOHANG` returned 0 at once.
    NothingYet,
    /// The call could not finish and the process sleeps.
    Blocks,
    /// The call failed with this errno.
    Fails(&'static str),
    /// The process died of this signal during the call (`SIGPIPE` for a write).
    Killed(&'static str),
}

/// The call taken in one step and what it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepCall {
    pub pid: Pid,
    pub asked: Asked,
    pub happened: Happened,
}

/// The call `step` makes, when it is one worth predicting (a read, write, open or wait), and what it did.
pub fn step_call(engine: &Engine, step: u64) -> Option<StepCall> {
    if step == 0 || step > engine.total_steps() {
        return None;
    }
    let events = events_of(engine, step);
    let simulation = engine.simulation();
    let (pid, op) = first_call(events)?;
    let call = simulation.program().call(op)?;
    let asked = match call.id {
        CallId::Read => Asked::Read,
        CallId::Write => Asked::Write,
        CallId::Open => Asked::Open,
        CallId::Wait | CallId::Waitpid | CallId::Waitid => Asked::Wait,
        _ => return None,
    };
    let killed = events.iter().find_map(|event| match event.kind {
        EventKind::Exit { pid: dead, status: ChildStatus::Killed { signal, .. } } if dead == pid => Some(signal.name()),
        _ => None,
    });
    let blocked = events.iter().any(|event| matches!(event.kind, EventKind::Block { pid: who, .. } if who == pid));
    let result = events.iter().find_map(|event| match event.kind {
        EventKind::Call { pid: who, result, .. } if who == pid => Some(result),
        _ => None,
    });
    let happened = match (killed, blocked, result) {
        (Some(signal), _, _) => Happened::Killed(signal),
        (None, true, _) => Happened::Blocks,
        (None, false, Some(CallResult::Error { errno })) => Happened::Fails(errno.name()),
        (None, false, Some(CallResult::Data { len: 0, .. })) => Happened::EndOfFile,
        (None, false, Some(CallResult::Data { .. })) => Happened::Data,
        (None, false, Some(CallResult::Waited { .. } | CallResult::WaitedInfo { .. })) => Happened::Reported,
        (None, false, Some(CallResult::Value { value })) => match (asked, call.payload()) {
            (Asked::Write, Some(payload)) if value < payload.len() as i64 => Happened::WrotePart,
            (Asked::Write, _) => Happened::WroteAll,
            (Asked::Open, _) => Happened::Opened,
            (Asked::Wait, _) if value == 0 => Happened::NothingYet,
            (Asked::Wait, _) => Happened::Reported,
            (Asked::Read, _) => Happened::Data,
        },
        (None, false, _) => return None,
    };
    Some(StepCall { pid, asked, happened })
}

/// What a challenge asks the visitor to make happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// The run ends in a deadlock with this process among those waiting.
    WaitsForever { process: &'static str },
    /// This process is killed by this signal.
    KilledBy { process: &'static str, signal: &'static str },
    /// This process sleeps in a write on a full pipe.
    SleepsOnFullPipe { process: &'static str },
    /// One read of this process returns exactly these bytes.
    ReadGets { process: &'static str, bytes: &'static str },
}

/// The first step at which `goal` has happened in the run, if it does.
pub fn goal_step(engine: &Engine, goal: Goal) -> Option<u64> {
    let simulation = engine.simulation();
    let trace = simulation.trace();
    match goal {
        Goal::WaitsForever { process } => match simulation.outcome() {
            Some(RunOutcome::Deadlock { waiting }) => {
                waiting.iter().any(|edge| is_named(engine, edge.pid, process)).then_some(engine.total_steps())
            }
            _ => None,
        },
        Goal::KilledBy { process, signal } => trace.events.iter().find_map(|event| match event.kind {
            EventKind::Exit { pid, status: ChildStatus::Killed { signal: got, .. } }
                if got.name() == signal && is_named(engine, pid, process) =>
            {
                Some(event.step as u64)
            }
            _ => None,
        }),
        Goal::SleepsOnFullPipe { process } => trace.events.iter().find_map(|event| match &event.kind {
            EventKind::Block { pid, reason: BlockReason::PipeFull { .. }, .. } if is_named(engine, *pid, process) => {
                Some(event.step as u64)
            }
            _ => None,
        }),
        Goal::ReadGets { process, bytes } => trace.events.iter().find_map(|event| match event.kind {
            EventKind::Call { pid, result: CallResult::Data { offset, len }, .. }
                if trace.read_data(offset, len) == bytes.as_bytes() && is_named(engine, pid, process) =>
            {
                Some(event.step as u64)
            }
            _ => None,
        }),
    }
}

/// The step at which `process` runs, for the `occurrence`-th time (counting from 1), the call written on
/// `line` of `source`. The line is looked up in `source` and the call found by its place in the compiled
/// program, so the answer stays right when the run's own text has comments or blank lines added (the
/// same program, its lines moved).
pub fn step_running_line(engine: &Engine, source: &str, process: &str, line: u32, occurrence: u32) -> Option<u64> {
    let scenario = sim_core::parse(source).ok()?;
    let program = Program::compile(&scenario).ok()?;
    let wanted: Vec<u32> =
        (0..program.ops.len() as u32).filter(|op| program.ops[*op as usize].span.line == line).collect();
    let mut seen = 0;
    let mut last_step = 0;
    for event in &engine.simulation().trace().events {
        let (EventKind::Call { pid, op, .. } | EventKind::Block { pid, op, .. }) = event.kind else { continue };
        let step = event.step as u64;
        if step == last_step || !wanted.contains(&op) {
            continue;
        }
        if is_named(engine, pid, process) {
            last_step = step;
            seen += 1;
            if seen == occurrence {
                return Some(step);
            }
        }
    }
    None
}

/// Whether the scenario's code sleeps, sets an alarm or waits with a timeout: then the page shows the clock.
pub fn uses_time(engine: &Engine) -> bool {
    use sim_core::lang::syscalls::Mechanism;
    engine
        .simulation()
        .program()
        .ops
        .iter()
        .any(|op| matches!(&op.kind, sim_core::lang::compile::OpKind::Call(call) if call.id.spec().mechanism == Mechanism::Time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RunSetup;
    use sim_core::Policy;

    fn engine(text: &str) -> Engine {
        Engine::build(RunSetup { source: text.to_string(), seed: 0, policy: Policy::RoundRobin, forced: Vec::new() })
            .expect("the scenario runs")
    }

    fn library(name: &str) -> &'static str {
        crate::library::LIBRARY.iter().find(|(stem, _, _)| *stem == name).expect("a library scenario").1
    }

    #[test]
    fn the_line_each_step_ran_is_the_line_of_its_call() {
        let engine = engine(library("pipe-parent-child"));
        assert_eq!(ran(&engine, 0), None);
        // Step 1: the parent's `p = pipe` on line 5.
        assert_eq!(ran(&engine, 1), Some(Ran { pid: 2, line: 5 }));
        // Step 2: the fork on line 6.
        assert_eq!(ran(&engine, 2), Some(Ran { pid: 2, line: 6 }));
    }

    #[test]
    fn failures_carry_their_step_and_the_expectations_own_place() {
        let text = "process a {\n  p = pipe\n  write p.w \"hi\" -> 3\n  read p.r 10 -> \"hi\"\n}\n";
        let mut engine = engine(text);
        let failures = failures(&engine);
        assert_eq!(failures.len(), 1);
        assert_eq!((failures[0].step, failures[0].line), (2, 3));
        // The column of the expected value, after `->`.
        assert_eq!(failures[0].col, text.lines().nth(2).unwrap().find("-> 3").unwrap() as u32 + 4);
        assert!(failures[0].text.contains("expected 3, and got 2"), "{}", failures[0].text);
        engine.goto(2);
        let caption = caption(&engine);
        assert!(!caption.contains("EXPECTATION"), "{caption}");
        assert!(caption.contains("An expectation does not hold here"), "{caption}");
        let lines = event_lines(&engine);
        assert!(lines.iter().any(|line| line.kind == "failure" && line.text.starts_with("line 3: a expected 3")));
    }

    #[test]
    fn an_unexpected_end_is_a_failure_in_plain_words() {
        let engine = engine("process a {\n  p = pipe\n  read p.r 1\n}\n");
        let failures = failures(&engine);
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].text, "the run was expected to end with every process exited, and ended in a deadlock");
    }

    #[test]
    fn calls_worth_predicting_say_what_they_did() {
        let engine = engine(library("pipe-parent-child"));
        let calls: Vec<(u64, StepCall)> =
            (1..=engine.total_steps()).filter_map(|step| step_call(&engine, step).map(|call| (step, call))).collect();
        let happened: Vec<&Happened> = calls.iter().map(|(_, call)| &call.happened).collect();
        // The child's first read blocks, the parent's write wakes it, it reads the data, then end of
        // file; the parent's wait blocks, then reports the child.
        assert!(happened.contains(&&Happened::Blocks));
        assert!(happened.contains(&&Happened::Data));
        assert!(happened.contains(&&Happened::EndOfFile));
        assert!(happened.contains(&&Happened::WroteAll));
        assert!(happened.contains(&&Happened::Reported));
        let sigpipe = engine_of("sigpipe-no-reader");
        let killed = (1..=sigpipe.total_steps())
            .filter_map(|step| step_call(&sigpipe, step))
            .any(|call| call.asked == Asked::Write && call.happened == Happened::Killed("SIGPIPE"));
        assert!(killed, "the writer's write kills it with SIGPIPE");
    }

    fn engine_of(name: &str) -> Engine {
        engine(library(name))
    }

    #[cfg(feature = "full")]
    #[test]
    fn a_copy_on_write_fault_is_a_page_move_of_its_step_only() {
        let mut engine = engine_of("mmap-private-cow");
        // Step 8: the child's store to its private page, copy-on-write since the fork, faults.
        engine.goto(8);
        assert_eq!(page_moves_now(&engine), [PageMove { pid: 3, page: 0x6000_0000_0000, from: 0, to: 2 }]);
        for step in [6, 7, 9] {
            engine.goto(step);
            assert_eq!(page_moves_now(&engine), [], "step {step}");
        }
    }

    #[cfg(feature = "full")]
    #[test]
    fn a_passed_descriptor_is_received_in_its_step_only() {
        let mut engine = engine_of("scm-rights-pipe-handoff");
        let step = (1..=engine.total_steps())
            .find(|step| {
                engine.goto(*step);
                !received_now(&engine).is_empty()
            })
            .expect("the worker receives the pipe's read end");
        engine.goto(step);
        assert_eq!(received_now(&engine), [Received { pid: 3, fd: 4, socket: 2 }]);
        engine.goto(step - 1);
        assert_eq!(received_now(&engine), [], "the step before");
    }

    #[test]
    fn a_wake_up_says_why() {
        let engine = engine_of("pipe-parent-child");
        // Step 6: the parent's write wakes the child asleep in read.
        let lines = event_lines_of(&engine, 6);
        let wake = lines.iter().find(|line| line.kind == "wake").expect("a wake-up");
        assert_eq!(wake.actor, "child");
        assert!(wake.text.contains("(parent put data into pipe 1)"), "{}", wake.text);
    }

    #[test]
    fn a_fault_is_in_the_signal_log() {
        let mut engine =
            engine("process a expect killed SIGFPE {\n  n = 0\n  sched_yield\n  n = 1 / n\n  sched_yield\n}\n");
        engine.goto(engine.total_steps());
        let signals = signals_so_far(&engine, 6);
        assert!(signals.iter().any(|(_, text)| text.contains("SIGFPE")), "{signals:?}");
    }

    /// The moves of `step` of `engine`'s run, through the pure function on that step's events.
    fn moves_of(engine: &Engine, step: u64) -> Vec<SignalMove> {
        signal_moves(engine.simulation().program(), events_of(engine, step))
    }

    fn sent(signal: Signal, from: Sender, to: &[Pid], effect: SignalEffect) -> SignalMove {
        SignalMove { signal, from, to: to.to_vec(), kind: Move::Sent(effect) }
    }

    fn taken(signal: Signal, pid: Pid, delivery: Delivery) -> SignalMove {
        SignalMove { signal, from: Sender::Process(pid), to: vec![pid], kind: Move::Taken(delivery) }
    }

    #[test]
    fn a_kill_goes_from_the_caller_and_the_kernel_sends_sigchld() {
        use sim_core::linux::signal::{SIGCHLD, SIGKILL};
        const SIGTERM: Signal = Signal(15);
        let engine = engine_of("graceful-shutdown");
        // Orchestrator 2, polite 3, stubborn 4. Step 16: `kill polite SIGTERM` (polite asleep in pause).
        assert_eq!(moves_of(&engine, 16), vec![sent(SIGTERM, Sender::Process(2), &[3], SignalEffect::Pending)]);
        // Step 17: polite takes it and runs its handler `finish`.
        assert_eq!(moves_of(&engine, 17), vec![taken(SIGTERM, 3, Delivery::Handler { handler: 0 })]);
        // Step 18: stubborn ignores SIGTERM.
        assert_eq!(moves_of(&engine, 18), vec![sent(SIGTERM, Sender::Process(2), &[4], SignalEffect::Ignored)]);
        // Step 21: polite exits; the kernel tells its parent with SIGCHLD, which it ignores by default.
        assert_eq!(moves_of(&engine, 21), vec![sent(SIGCHLD, Sender::Kernel, &[2], SignalEffect::Ignored)]);
        let kill = (1..=engine.total_steps())
            .flat_map(|step| moves_of(&engine, step))
            .find(|signal_move| signal_move.signal == SIGKILL)
            .expect("a SIGKILL");
        assert_eq!(kill, sent(SIGKILL, Sender::Process(2), &[4], SignalEffect::Pending));
        let names = engine.process_names();
        let program = engine.simulation().program();
        let words: Vec<String> = [16, 17, 21]
            .iter()
            .flat_map(|step| moves_of(&engine, *step))
            .map(|m| move_sentence(program, &names, &m))
            .collect();
        assert_eq!(
            words,
            [
                "SIGTERM: orchestrator → polite, pending",
                "SIGTERM: polite, taken, runs its handler finish",
                "SIGCHLD: kernel → orchestrator, ignored",
            ]
        );
        // Nothing moves before the first step or in a step without signals.
        assert_eq!(moves_of(&engine, 0), Vec::new());
        assert_eq!(moves_of(&engine, 1), Vec::new());
    }

    #[test]
    fn a_signal_to_a_group_is_one_move_to_every_member() {
        use sim_core::linux::signal::SIGCHLD;
        const SIGINT: Signal = Signal(2);
        let engine = engine_of("ctrl-c");
        // Shell 2, editor 3, compiler 4. Step 17: `killpg editor SIGINT` reaches both.
        assert_eq!(moves_of(&engine, 17), vec![sent(SIGINT, Sender::Process(2), &[3, 4], SignalEffect::Pending)]);
        // Step 19: the compiler dies of it (default action), and the kernel sends SIGCHLD to the shell.
        assert_eq!(
            moves_of(&engine, 19),
            vec![
                taken(SIGINT, 4, Delivery::Terminated { core: false }),
                sent(SIGCHLD, Sender::Kernel, &[2], SignalEffect::Ignored),
            ]
        );
    }

    #[test]
    fn the_clock_sends_sigalrm_and_the_kernel_sigpipe() {
        use sim_core::linux::signal::{SIGALRM, SIGPIPE};
        let alarm = engine_of("alarm-timeout");
        assert_eq!(moves_of(&alarm, 4), vec![sent(SIGALRM, Sender::Clock, &[2], SignalEffect::Pending)]);
        let pipe = engine_of("sigpipe-no-reader");
        let moves = moves_of(&pipe, 10);
        assert_eq!(moves[0], sent(SIGPIPE, Sender::Kernel, &[moves[0].to[0]], SignalEffect::Pending));
        assert_eq!(moves[1], taken(SIGPIPE, moves[0].to[0], Delivery::Terminated { core: false }));
    }

    #[test]
    fn a_raise_is_the_process_own_and_the_sigchld_after_it_the_kernels() {
        use sim_core::linux::signal::SIGCHLD;
        const SIGTERM: Signal = Signal(15);
        let engine = engine(
            "process a {\n  fork c expect killed SIGTERM {\n    raise SIGTERM\n  }\n  wait -> c killed SIGTERM\n}\n",
        );
        let step = (1..=engine.total_steps())
            .find(|step| moves_of(&engine, *step).iter().any(|m| m.signal == SIGTERM))
            .expect("the raise");
        assert_eq!(
            moves_of(&engine, step),
            vec![
                sent(SIGTERM, Sender::Process(3), &[3], SignalEffect::Pending),
                taken(SIGTERM, 3, Delivery::Terminated { core: false }),
                sent(SIGCHLD, Sender::Kernel, &[2], SignalEffect::Ignored),
            ]
        );
    }

    #[test]
    fn a_kill_of_every_process_is_one_move_with_every_target() {
        const SIGTERM: Signal = Signal(15);
        let mut text = String::from("process boss {\n");
        for index in 0..6 {
            text.push_str(&format!("  fork w{index} expect killed SIGTERM {{\n    pause\n  }}\n"));
        }
        text.push_str("  sched_yield\n  kill -1 SIGTERM -> 0\n}\n");
        let engine = engine(&text);
        let step = (1..=engine.total_steps())
            .find(|step| moves_of(&engine, *step).iter().any(|m| m.signal == SIGTERM))
            .expect("the kill");
        let moves = moves_of(&engine, step);
        assert_eq!(moves.len(), 1, "{moves:?}");
        assert_eq!(moves[0].from, Sender::Process(2));
        assert_eq!(moves[0].to, (3..=8).collect::<Vec<Pid>>());
        let words = move_sentence(engine.simulation().program(), &engine.process_names(), &moves[0]);
        assert!(words.starts_with("SIGTERM: boss → w0, w1, w2, w3, w4, w5, "), "{words}");
    }

    #[test]
    fn a_signal_taken_by_sigwaitinfo_is_taken_by_the_call() {
        const SIGUSR1: Signal = Signal(10);
        const SIGUSR2: Signal = Signal(12);
        let engine = engine_of("waiting-for-signals");
        // Shell 2, worker 3: SIGUSR2 blocked and pending at step 11, taken by sigwaitinfo at 12.
        assert_eq!(moves_of(&engine, 11), vec![sent(SIGUSR2, Sender::Process(2), &[3], SignalEffect::Blocked)]);
        let waited = SignalMove {
            signal: SIGUSR2,
            from: Sender::Process(3),
            to: vec![3],
            kind: Move::Waited(CallId::Sigwaitinfo),
        };
        assert_eq!(moves_of(&engine, 12), vec![waited.clone()]);
        let words = move_sentence(engine.simulation().program(), &engine.process_names(), &waited);
        assert_eq!(words, "SIGUSR2: worker, taken by sigwaitinfo");
        assert_eq!(moves_of(&engine, 14)[0].signal, SIGUSR1);
    }

    #[test]
    fn objects_are_none_yet_before_the_first_pipe() {
        let engine = engine_of("pipe-parent-child");
        assert!(!made_an_object_by(&engine, 0));
        assert!(made_an_object_by(&engine, 1));
    }

    #[test]
    fn the_line_a_process_runs_is_found_by_occurrence() {
        let text = library("pipe-parent-child");
        let run = engine_of("pipe-parent-child");
        // The child's first read (line 8) blocks, and runs again when the parent's write wakes it.
        let first = step_running_line(&run, text, "child", 8, 1).expect("the child reads");
        let again = step_running_line(&run, text, "child", 8, 2).expect("the child reads again");
        assert!(again > first);
        assert_eq!(step_running_line(&run, text, "child", 8, 3), None);
        // The same program with comments added above: the lines of the library text still find the steps.
        let commented = engine(&format!("# one\n# two\n{text}"));
        assert_eq!(step_running_line(&commented, text, "child", 8, 1), Some(first));
        assert_eq!(step_running_line(&commented, text, "child", 8, 2), Some(again));
    }
}
