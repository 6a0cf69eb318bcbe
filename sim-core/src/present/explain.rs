//! One plain sentence per step, for people watching a run (the playground's caption).
//!
//! [`event_text`] says what each event is; this module reads all the events of one step together and
//! says what the step *meant*: "parent writes 13 bytes into pipe 1, which now holds 13 of 65536 bytes,
//! and that wakes child". Pure functions of a trace and its program: no kernel is read.

use super::render::{byte_count, event_actor, event_text, reason_text, status_words, ProcessNames};
use crate::lang::compile::{OpKind, Program};
use crate::lang::syscalls::CallId;
use crate::trace::{
    BlockReason, CallInterrupted, CallResult, CopyDirection, Event, EventKind, ObjectRef, Pid, ReapCause, RunOutcome,
    SignalEffect, SignalOrigin, Trace, WaitEdge, IMPLICIT_EXIT_OP, IMPLICIT_SIGRETURN_OP,
};

/// One event of a step, as the trace prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventLine {
    pub actor: String,
    pub text: String,
    /// The event's kind in one word (`call`, `block`, `wake`, `copy`, `signal`, ...), for styling.
    pub kind: &'static str,
}

/// What one step did: one sentence, and every event behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepStory {
    pub step: u64,
    pub sentence: String,
    pub lines: Vec<EventLine>,
}

/// The events recorded in `step` (events are stored in step order, so this is a binary search).
pub fn events_of_step(events: &[Event], step: u64) -> &[Event] {
    let start = events.partition_point(|event| (event.step as u64) < step);
    let end = events.partition_point(|event| (event.step as u64) <= step);
    &events[start..end]
}

fn kind_word(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Spawn { .. } => "spawn",
        EventKind::Switch { .. } => "switch",
        EventKind::Call { .. } => "call",
        EventKind::Block { .. } => "block",
        EventKind::Wake { .. } => "wake",
        EventKind::Copy { .. } => "copy",
        EventKind::Fork { .. } => "fork",
        EventKind::Signal { .. } => "signal",
        EventKind::Exit { .. } => "exit",
        EventKind::Reap { .. } => "reap",
        EventKind::Reparent { .. } => "reparent",
        EventKind::Interrupted { .. } | EventKind::Fault { .. } => "signal",
        EventKind::LastEnd { .. } => "last end",
        EventKind::Delivered { .. } | EventKind::Alarm { .. } => "signal",
        EventKind::Clock { .. } => "clock",
        EventKind::Orphaned { .. } => "orphaned group",
        EventKind::ExpectFailed { .. } => "failure",
        EventKind::Undo { .. } => "undo",
        EventKind::PageCopied { .. } => "copy on write",
        EventKind::Rights { .. } => "descriptor passing",
        EventKind::Segment { .. } => "TCP segment",
        EventKind::Leftover { .. } => "leftover",
        EventKind::End { .. } => "end",
    }
}

fn join_names(names: &[String]) -> String {
    match names.len() {
        0 => String::new(),
        1 => names[0].clone(),
        _ => format!("{} and {}", names[..names.len() - 1].join(", "), names[names.len() - 1]),
    }
}

fn object_name(object: &ObjectRef) -> String {
    object.words()
}

/// Tells the story of `step` of a run, whose trace must still hold that step's events. `names` are the
/// run's process names ([`ProcessNames::from_events`] over its whole trace serves every step).
pub fn step_story(program: &Program, trace: &Trace, names: &ProcessNames, step: u64) -> StepStory {
    let events = events_of_step(&trace.events, step);
    let lines = events
        .iter()
        .map(|event| EventLine {
            actor: event_actor(names, event),
            text: event_text(program, trace, names, event),
            kind: kind_word(&event.kind),
        })
        .collect();
    StepStory { step, sentence: sentence(program, trace, names, step, events), lines }
}

fn call_of(program: &Program, op: u32) -> Option<CallId> {
    match program.ops.get(op as usize).map(|op| &op.kind) {
        Some(OpKind::Call(call)) => Some(call.id),
        _ => None,
    }
}

fn sentence(program: &Program, trace: &Trace, names: &ProcessNames, step: u64, events: &[Event]) -> String {
    if step == 0 {
        let started: Vec<String> = events
            .iter()
            .filter_map(|event| match event.kind {
                EventKind::Spawn { pid, .. } => Some(format!("{} (pid {pid})", names.process(pid))),
                _ => None,
            })
            .collect();
        if started.is_empty() {
            return "Nothing has happened yet.".to_string();
        }
        return format!(
            "Before the first step: {} {} ready to run, {} fds 0, 1 and 2 open on /dev/null.",
            join_names(&started),
            if started.len() == 1 { "is" } else { "are" },
            if started.len() == 1 { "with" } else { "each with" }
        );
    }
    let mut parts: Vec<String> = Vec::new();
    let mut copies: Vec<&EventKind> = Vec::new();
    let mut woken: Vec<String> = Vec::new();
    let mut tail: Vec<String> = Vec::new();
    for event in events {
        match &event.kind {
            EventKind::Copy { .. } => copies.push(&event.kind),
            EventKind::Wake { pid, .. } => woken.push(names.process(*pid)),
            EventKind::Call { pid, op, result, .. } => {
                let who = names.process(*pid);
                let call = call_of(program, *op);
                let copy = copies.pop();
                let text = match (call, result, copy) {
                    (
                        Some(CallId::Write),
                        CallResult::Value { value },
                        Some(EventKind::Copy { object, used_bytes, capacity_bytes, .. }),
                    ) => format!(
                        "{who} writes {} into {}, which now holds {used_bytes} of {capacity_bytes} bytes",
                        byte_count(*value as u64),
                        object_name(object)
                    ),
                    (Some(CallId::Read), CallResult::Data { len: 0, .. }, _) => {
                        format!("{who}'s read returns 0: end of file, because no write end is open any more")
                    }
                    (
                        Some(CallId::Read),
                        CallResult::Data { offset, len },
                        Some(EventKind::Copy { object, used_bytes, .. }),
                    ) => format!(
                        "{who} reads {} from {} ({}), leaving {} in it",
                        byte_count(*len as u64),
                        object_name(object),
                        super::render::describe_bytes(trace.read_data(*offset, *len), 24),
                        byte_count(*used_bytes as u64)
                    ),
                    (Some(call), CallResult::Error { errno }, _) if timeout_errno(call) == Some(*errno) => {
                        let waited_for = match call {
                            CallId::Semtimedop => "its operations could all be done",
                            CallId::MqTimedsend => "the queue had room",
                            CallId::MqTimedreceive => "a message came",
                            _ => "the semaphore rose above 0",
                        };
                        format!("{who}'s {} gives up with {}: its time ran out before {waited_for}", call.name(), errno.name())
                    }
                    (_, CallResult::Error { errno }, _) => {
                        let text = event_text(program, trace, names, event);
                        format!("{who}'s call fails with {}: {text}", errno.name())
                    }
                    (
                        Some(CallId::Msgsnd | CallId::MqSend | CallId::MqTimedsend),
                        CallResult::Value { .. },
                        Some(EventKind::Copy { object, bytes, .. }),
                    ) => format!("{who} sends a message of {} to {}", byte_count(*bytes as u64), object_name(object)),
                    (
                        Some(call @ (CallId::Msgrcv | CallId::MqReceive | CallId::MqTimedreceive)),
                        CallResult::Message { offset, len, tag, skipped },
                        copy,
                    ) => {
                        let from = match copy {
                            Some(EventKind::Copy { object, .. }) => format!(" from {}", object_name(object)),
                            _ => String::new(),
                        };
                        let tag = if call == CallId::Msgrcv { format!("type {tag}") } else { format!("priority {tag}") };
                        let passed = match skipped {
                            0 => String::new(),
                            1 => ", passing over 1 earlier message that it did not ask for".to_string(),
                            count => format!(", passing over {count} earlier messages that it did not ask for"),
                        };
                        format!(
                            "{who} receives a message of {tag}{from} ({}){passed}",
                            super::render::describe_bytes(trace.read_data(*offset, *len), 24)
                        )
                    }
                    (Some(call @ (CallId::Semop | CallId::Semtimedop)), CallResult::Value { value: 0 }, _) => {
                        format!("{who}'s {} goes through: {}", call.name(), event_text(program, trace, names, event))
                    }
                    (Some(CallId::Socketpair), CallResult::Pair { read_fd, write_fd }, _) => format!(
                        "{who} creates a pair of connected sockets: fd {read_fd} and fd {write_fd}, each receiving what the other sends"
                    ),
                    (Some(CallId::Pipe | CallId::Pipe2), CallResult::Pair { read_fd, write_fd }, _) => {
                        format!("{who} creates a pipe: fd {read_fd} is its read end and fd {write_fd} its write end")
                    }
                    (Some(CallId::Close), CallResult::Value { value: 0 }, _) => {
                        format!("{who} closes a descriptor: {}", event_text(program, trace, names, event))
                    }
                    // The exit event that follows says it better.
                    _ if *op == IMPLICIT_EXIT_OP => continue,
                    _ if *op == IMPLICIT_SIGRETURN_OP => {
                        format!("{who} returns from its handler: {}", event_text(program, trace, names, event))
                    }
                    (Some(CallId::Exit), _, _) => continue,
                    (
                        Some(CallId::Wait | CallId::Waitpid | CallId::Waitid),
                        CallResult::Waited { child, status } | CallResult::WaitedInfo { child, status },
                        _,
                    ) => format!("{who}'s wait returns: {} {}", names.process(*child), status_words(*status)),
                    (None, CallResult::Fork { .. }, _) => continue,
                    (Some(call), _, _) if call.spec().mechanism.is_instruction() => {
                        let text = event_text(program, trace, names, event);
                        let text = text.strip_prefix(super::render::INSTRUCTION).unwrap_or(&text).to_string();
                        if matches!(call, CallId::StoreBytes | CallId::LoadBytes) {
                            format!("{who} copies bytes in user space (a memcpy), without entering the kernel: {text}")
                        } else {
                            format!("{who} runs one instruction in user space, without entering the kernel: {text}")
                        }
                    }
                    _ => format!("{who} calls {}", event_text(program, trace, names, event)),
                };
                parts.push(text);
            }
            EventKind::Block { pid, reason, .. } => {
                let who = names.process(*pid);
                let text = match reason {
                    BlockReason::PipeFull { pipe, written } => {
                        let capacity = copies.iter().rev().find_map(|copy| match copy {
                            EventKind::Copy { used_bytes, capacity_bytes, .. } => Some((*used_bytes, *capacity_bytes)),
                            _ => None,
                        });
                        let held = match capacity {
                            Some((used, capacity)) => format!("pipe {pipe} holds {used} of {capacity} bytes"),
                            None => format!("pipe {pipe} is full"),
                        };
                        if *written > 0 {
                            format!(
                                "{who} blocks in write: {held}, with {written} bytes of its write in so far; \
                                 it sleeps until a reader makes room"
                            )
                        } else {
                            format!("{who} blocks in write: {held}; it sleeps until a reader makes room")
                        }
                    }
                    BlockReason::PipeEmpty { pipe } => format!(
                        "{who} blocks in read: pipe {pipe} is empty, and a write end is still open, so more data may come"
                    ),
                    BlockReason::Child { .. } | BlockReason::ChildInGroup { .. } => {
                        format!("{who} blocks in wait: {}", reason_text(program, reason))
                    }
                    BlockReason::Signal => format!("{who} sleeps in pause() until a signal arrives"),
                    BlockReason::SemOp { .. } => format!(
                        "{who} blocks in semop: {}; it sleeps until another process's change lets it go on, and that process does the operation for it",
                        reason_text(program, reason)
                    ),
                    BlockReason::MsgEmpty { .. } => format!("{who} blocks in msgrcv: {}", reason_text(program, reason)),
                    BlockReason::MsgFull { .. } => format!("{who} blocks in msgsnd: {}", reason_text(program, reason)),
                    BlockReason::MqEmpty { .. } => format!("{who} blocks in mq_receive: {}", reason_text(program, reason)),
                    BlockReason::MqFull { .. } => format!("{who} blocks in mq_send: {}", reason_text(program, reason)),
                    BlockReason::NamedSem { .. } => format!("{who} blocks in sem_wait: {}", reason_text(program, reason)),
                    BlockReason::SocketEmpty { .. } => {
                        format!("{who} blocks receiving: {}; it sleeps until data comes", reason_text(program, reason))
                    }
                    BlockReason::SocketFull { .. } => format!(
                        "{who} blocks sending: {}; it sleeps until the peer receives some",
                        reason_text(program, reason)
                    ),
                    BlockReason::SocketAccept { .. } => {
                        format!("{who} blocks in accept: {}; it sleeps until a client connects", reason_text(program, reason))
                    }
                    BlockReason::SocketBacklog { .. } => format!(
                        "{who} blocks in connect: {}; it sleeps until the server accepts one",
                        reason_text(program, reason)
                    ),
                    BlockReason::SocketReceiverFull { .. } => format!(
                        "{who} blocks sending a datagram: {}; it sleeps until the receiver takes one",
                        reason_text(program, reason)
                    ),
                    BlockReason::Futex { .. } => {
                        format!("{who} enters the kernel to sleep in futex: {}", reason_text(program, reason))
                    }
                    _ => format!("{who} blocks: {}", reason_text(program, reason)),
                };
                parts.push(text);
            }
            EventKind::Fork { parent, child, .. } => parts.push(format!(
                "{} forks {} (pid {child}), which starts with copies of all its descriptors",
                names.process(*parent),
                names.process(*child)
            )),
            EventKind::Exit { pid, status } => parts.push(format!(
                "{} {} and is a zombie until it is reaped",
                names.process(*pid),
                status_words(*status)
            )),
            EventKind::Reap { pid, cause: ReapCause::Ignored, .. } => tail
                .push(format!("the kernel reaps {} at once, because its parent ignores SIGCHLD", names.process(*pid))),
            EventKind::Reap { pid, by, .. } => {
                let reported_by_wait = events.iter().any(|other| {
                    matches!(other.kind, EventKind::Call { pid: caller, result: CallResult::Waited { child, .. } | CallResult::WaitedInfo { child, .. }, .. }
                        if caller == *by && child == *pid)
                });
                if !reported_by_wait {
                    tail.push(format!("{} reaps {}", names.process(*by), names.process(*pid)))
                }
            }
            EventKind::Signal { from, to, signal, effect, origin } => {
                let target = names.process(*to);
                let effect = match effect {
                    SignalEffect::Ignored => "which ignores it".to_string(),
                    SignalEffect::Pending if from == to => "and takes it as the call returns".to_string(),
                    SignalEffect::Pending => "where it is pending until the target runs".to_string(),
                    SignalEffect::Blocked => "which blocks it, so it stays pending".to_string(),
                    SignalEffect::WhileStopped => "which is stopped, so it stays pending until SIGCONT".to_string(),
                    SignalEffect::Coalesced => "which has one pending already, so this one is lost".to_string(),
                    SignalEffect::Continued => "which continues".to_string(),
                    SignalEffect::NoEffect => "with no effect".to_string(),
                };
                let name = signal.name();
                tail.push(match origin {
                    SignalOrigin::Call => format!("{} sends {name} to {target}, {effect}", names.process(*from)),
                    SignalOrigin::ChildChanged => {
                        format!("the kernel sends {name} to {target} about {}, {effect}", names.process(*from))
                    }
                    SignalOrigin::NoReader => format!("the kernel sends {name} to {target} (no reader), {effect}"),
                    SignalOrigin::Alarm | SignalOrigin::OrphanedGroup => {
                        format!("the kernel sends {name} to {target}, {effect}")
                    }
                    SignalOrigin::MessageArrived => {
                        format!("the kernel sends {name} to {target} (a message arrived), {effect}")
                    }
                });
            }
            EventKind::Reparent { pid, new_parent } => {
                tail.push(format!("{} is orphaned and adopted by {}", names.process(*pid), names.process(*new_parent)))
            }
            EventKind::LastEnd { object, end, .. } => tail.push(super::render::last_end_text(object, end)),
            EventKind::Rights { pid, socket, fd, object, access, moved } => tail.push(format!(
                "{}: {}",
                names.process(*pid),
                super::render::rights_text(*socket, *fd, object, *access, *moved)
            )),
            EventKind::Segment { from, from_port, to, to_port, flags, bytes, .. } => {
                tail.push(super::render::segment_text(*from, *from_port, *to, *to_port, *flags, *bytes))
            }
            EventKind::Orphaned { pid, pgid } => tail.push(format!(
                "{}'s exit leaves process group {pgid} orphaned with a stopped member, so the kernel sends the group SIGHUP and then SIGCONT",
                names.process(*pid)
            )),
            EventKind::Interrupted { pid, signal, gone: true, .. } => tail.push(format!(
                "{}'s call ends early: {} woke it and is gone, but the call still sees a signal pending",
                names.process(*pid),
                signal.name()
            )),
            EventKind::Interrupted { pid, signal, outcome, .. } => {
                let what = match outcome {
                    CallInterrupted::Partial => "cut short: it returns early",
                    CallInterrupted::Eintr => "interrupted: it fails with EINTR",
                    CallInterrupted::Restart => "interrupted, to start again later",
                };
                tail.push(format!("{}'s call is {what} ({})", names.process(*pid), signal.name()))
            }
            EventKind::Clock { .. } => tail.push(event_text(program, trace, names, event)),
            EventKind::Alarm { pid } => tail.push(format!("{}'s alarm goes off", names.process(*pid))),
            EventKind::Delivered { .. } => tail.push(format!(
                "{} {}",
                names.process(event.kind.actor().expect("a delivery has a process")),
                event_text(program, trace, names, event)
            )),
            EventKind::Fault { pid, op, signal }
                if *signal == crate::linux::signal::SIGSEGV
                    && program.call(*op).is_some_and(|call| call.id.spec().mechanism.is_instruction()) =>
            {
                tail.push(format!(
                    "{} touches memory that no mapping lets it touch that way, and the CPU raises {} for it",
                    names.process(*pid),
                    signal.name()
                ))
            }
            EventKind::Fault { pid, signal, .. } if *signal == crate::linux::signal::SIGBUS => tail.push(format!(
                "{} touches a page past the end of the shared memory object it maps, and the kernel raises {} for it",
                names.process(*pid),
                signal.name()
            )),
            EventKind::Fault { pid, signal, .. } if *signal == crate::linux::signal::SIGSEGV => tail.push(format!(
                "{}'s semaphore call touches memory it may not (not mapped, not for writing, or a handle that is not open), and the CPU raises {} for it",
                names.process(*pid),
                signal.name()
            )),
            EventKind::Fault { pid, signal, .. } => tail.push(format!(
                "{}'s division traps (by zero, or i64::MIN by -1), and the CPU raises {} for it",
                names.process(*pid),
                signal.name()
            )),
            EventKind::Undo { pid, object, num, adjust, value } => tail.push(format!(
                "{}'s SEM_UNDO adjustment {adjust:+} goes to semaphore {num} of {}, which is now {value}",
                names.process(*pid),
                object_name(object)
            )),
            EventKind::PageCopied { pid, address, from, to } => tail.push(format!(
                "{}'s write to page {address:#x} faults: frame {from} is shared copy-on-write, so it gets a copy of its own, frame {to}",
                names.process(*pid)
            )),
            EventKind::Leftover { object, label, count } => {
                tail.push(super::render::leftover_text(program, object, *label, *count))
            }
            EventKind::ExpectFailed { .. } => tail.push(event_text(program, trace, names, event)),
            EventKind::End { outcome } => tail.push(outcome_sentence(program, names, outcome)),
            EventKind::Spawn { .. } | EventKind::Switch { .. } => {}
        }
    }
    // A write that blocked part-way still copied bytes: say so before the block.
    if parts.is_empty() && !copies.is_empty() {
        for copy in copies {
            if let EventKind::Copy { pid, direction, bytes, object, used_bytes, capacity_bytes } = copy {
                let verb = match direction {
                    CopyDirection::UserToKernel => "copies",
                    CopyDirection::KernelToUser => "takes",
                };
                parts.push(format!(
                    "{} {verb} {bytes} bytes ({} now holds {used_bytes} of {capacity_bytes})",
                    names.process(*pid),
                    object_name(object)
                ));
            }
        }
    }
    let mut text = parts.join("; ");
    if !woken.is_empty() {
        woken.dedup();
        let woken = join_names(&woken);
        if text.is_empty() {
            text = format!("{woken} wakes up");
        } else {
            text.push_str(&format!(", and that wakes {woken}"));
        }
    }
    for extra in tail {
        if text.is_empty() {
            text = extra;
        } else {
            text.push_str("; ");
            text.push_str(&extra);
        }
    }
    if text.is_empty() {
        return "Nothing visible happens in this step.".to_string();
    }
    // A sentence that starts with a process's name keeps the name as it is written.
    let starts_with_name = events.iter().filter_map(|event| event.kind.actor()).any(|pid| {
        let name = names.process(pid);
        text.starts_with(&name) && text[name.len()..].starts_with([' ', '\'', ','])
    });
    if starts_with_name {
        return format!("{text}.");
    }
    // The sentence starts with the simulator's own words, which are ASCII (a process name, which may
    // not be, was handled above): no Unicode case tables needed.
    let mut characters = text.chars();
    let first = characters.next().map(|first| first.to_ascii_uppercase().to_string()).unwrap_or_default();
    format!("{first}{}.", characters.as_str())
}

/// How a run ended, in one sentence.
pub fn outcome_sentence(program: &Program, names: &ProcessNames, outcome: &RunOutcome) -> String {
    match outcome {
        RunOutcome::AllExited => "the run is over: every process has exited".to_string(),
        RunOutcome::StepLimit { steps } => format!("the run stops at its limit of {steps} steps"),
        RunOutcome::LimitReached { limit, detail } => format!("the run stops: limit {limit} reached ({detail})"),
        RunOutcome::Deadlock { waiting } => {
            format!("deadlock: nobody can move. {}", deadlock_lines(program, names, waiting).join("; "))
        }
    }
}

/// Who waits for whom in a deadlock, one line per waiting process.
pub fn deadlock_lines(program: &Program, names: &ProcessNames, waiting: &[WaitEdge]) -> Vec<String> {
    waiting
        .iter()
        .map(|edge| {
            let who = format!("{} (pid {})", names.process(edge.pid), edge.pid);
            let mut why = match &edge.reason {
                Some(reason) => reason_text(program, reason),
                None => "it is stopped".to_string(),
            };
            if let Some(detail) = &edge.detail {
                why.push_str("; ");
                why.push_str(&super::render::detail_text(names, edge.reason.as_ref(), detail));
            }
            let others: Vec<String> = edge
                .waits_for
                .iter()
                .map(|pid: &Pid| if *pid == edge.pid { "itself".to_string() } else { names.process(*pid) })
                .collect();
            if others.is_empty() {
                format!("{who} waits forever: {why}")
            } else {
                format!("{who} waits for {}: {why}", join_names(&others))
            }
        })
        .collect()
}

/// The error a timed call on an IPC object gives when its time runs out (`semtimedop`: `EAGAIN`, as
/// with `IPC_NOWAIT`, which it may also mean).
fn timeout_errno(call: CallId) -> Option<crate::linux::Errno> {
    use crate::linux::errno::{EAGAIN, ETIMEDOUT};
    match call {
        CallId::Semtimedop => Some(EAGAIN),
        CallId::MqTimedsend | CallId::MqTimedreceive | CallId::SemTimedwait => Some(ETIMEDOUT),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{RunConfig, Simulation};

    fn run(text: &str) -> Simulation {
        let scenario = crate::parse(text).expect("test scenarios parse");
        let mut simulation = Simulation::new(&scenario, RunConfig::default()).expect("test scenarios compile");
        simulation.run().expect("test scenarios finish");
        simulation
    }

    fn stories(simulation: &Simulation, from: u64) -> Vec<String> {
        let program = simulation.program();
        let names = ProcessNames::from_events(program, &simulation.trace().events);
        (from..=simulation.steps()).map(|step| step_story(program, simulation.trace(), &names, step).sentence).collect()
    }

    #[test]
    fn memory_instructions_copy_on_write_and_faults_in_words() {
        let simulation = run("process main {\n  m = mmap 4096 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS\n  \
             store m 0 5\n  fork child {\n    store m 0 6\n    load m 4096\n  }\n  wait\n}\n");
        let stories = stories(&simulation, 1);
        let has = |text: &str| stories.iter().any(|story| story.contains(text));
        assert!(has("main runs one instruction in user space, without entering the kernel: *(int64_t *)(m=0x600000000000 + 0) = 5"), "{stories:#?}");
        assert!(has("child's write to page 0x600000000000 faults: frame 0 is shared copy-on-write, so it gets a copy of its own, frame 1"), "{stories:#?}");
        assert!(
            has("child touches memory that no mapping lets it touch that way, and the CPU raises SIGSEGV"),
            "{stories:#?}"
        );
    }

    #[test]
    fn a_full_pipe_blocks_its_writer_in_words() {
        let simulation = run("process w {\n  p = pipe\n  write p.w 70000 bytes\n}\n");
        let stories = stories(&simulation, 0);
        assert!(stories[0].starts_with("Before the first step: w (pid 2)"), "{}", stories[0]);
        assert!(stories[1].contains("creates a pipe"), "{}", stories[1]);
        assert!(
            stories.iter().any(|story| story.contains("w blocks in write: pipe 1 holds 65536 of 65536 bytes")),
            "{stories:#?}"
        );
        assert!(stories.last().unwrap().contains("deadlock"), "{stories:#?}");
    }

    #[test]
    fn reads_writes_wakes_and_end_of_file() {
        let simulation = run(concat!(
            "process parent {\n  p = pipe\n  fork child {\n    close p.w\n    read p.r 100\n    read p.r 100\n  }\n",
            "  close p.r\n  write p.w \"hi\"\n  close p.w\n  wait\n}\n"
        ));
        let stories = stories(&simulation, 1);
        let all = stories.join("\n");
        assert!(all.contains("child blocks in read: pipe 1 is empty"), "{all}");
        assert!(all.contains("\nparent writes 2 bytes"), "a sentence that starts with a name keeps its case: {all}");
        assert!(
            all.contains("parent writes 2 bytes into pipe 1, which now holds 2 of 65536 bytes, and that wakes child"),
            "{all}"
        );
        assert!(all.contains("child reads 2 bytes from pipe 1 (\"hi\")"), "{all}");
        assert!(all.contains("child's read returns 0: end of file"), "{all}");
        assert!(all.contains("every process has exited"), "{all}");
        let names = ProcessNames::from_events(simulation.program(), &simulation.trace().events);
        let story = step_story(simulation.program(), simulation.trace(), &names, 2);
        assert!(story.lines.iter().any(|line| line.kind == "fork"), "{story:?}");
    }

    #[test]
    fn a_child_reaped_by_the_kernel_is_told_so_whatever_the_parent_does_later() {
        // The parent ignores SIGCHLD when a exits, then restores the default before b: a is reaped by the
        // kernel, b by the parent's wait. The words must follow what happened then, not the state now.
        let forward = run(concat!(
            "process parent {\n  signal SIGCHLD SIG_IGN\n  fork a {\n    exit 0\n  }\n  sched_yield\n  sched_yield\n",
            "  signal SIGCHLD SIG_DFL\n  fork b {\n    exit 0\n  }\n  waitpid b\n}\n"
        ));
        let text = crate::present::render::trace_text(forward.program(), forward.trace());
        assert!(text.contains("the kernel reaps a at once (its parent ignores SIGCHLD)"), "{text}");
        assert!(text.contains("reaps b: its exit status is collected"), "{text}");
        assert!(!text.contains("reaps a: its exit status"), "{text}");
        assert!(!text.contains("the kernel reaps b"), "{text}");
        let reverse = run(concat!(
            "process parent {\n  fork a {\n    exit 0\n  }\n  waitpid a\n  signal SIGCHLD SIG_IGN\n",
            "  fork b {\n    exit 0\n  }\n  sched_yield\n  sched_yield\n}\n"
        ));
        let text = crate::present::render::trace_text(reverse.program(), reverse.trace());
        assert!(text.contains("reaps a: its exit status is collected"), "{text}");
        assert!(text.contains("the kernel reaps b at once (its parent ignores SIGCHLD)"), "{text}");
        assert!(!text.contains("the kernel reaps a"), "{text}");
    }

    #[test]
    fn events_of_step_finds_exact_ranges() {
        let simulation = run("process a {\n  sched_yield\n  sched_yield\n}\n");
        let events = &simulation.trace().events;
        for step in 0..=simulation.steps() + 1 {
            let found = events_of_step(events, step);
            assert!(found.iter().all(|event| event.step as u64 == step));
            assert_eq!(found.len(), events.iter().filter(|event| event.step as u64 == step).count());
        }
    }
}
