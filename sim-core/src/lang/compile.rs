//! The compiled form of a scenario: one flat list of operations that every process walks with its own
//! program counter.
//!
//! Names are resolved here, once: every variable becomes a *slot*, and each process keeps an array of
//! slot values (like a C program's local variables, copied by `fork`). Slot 0 is `errno`; the top-level
//! processes' names come next, so that every process knows their pids in the same slots. Control flow
//! (`if`, `while`, `repeat`, `break`, `continue`) becomes jumps, and a `fork` block is a range of
//! operations that the child runs and the parent skips. Control operations and assignments are
//! user-space work: they never take a step (see [`crate::user`]). Payloads stay a pattern and a
//! length; only the bytes a copy needs are ever made.

use super::ast::*;
use super::names::Names;
use super::print;
use super::syscalls::{Binding, CType, CallId, OperandKind, EPOLL_FIELDS, POLL_FIELDS, SELECT_FIELDS};
use crate::diagnostic::Diagnostic;
use crate::linux::{self, Family};
use std::sync::Arc;

/// The value variables (and `errno`) named by the operations `start..end`, skipping `fork` bodies:
/// operands, results kept with `NAME =`, assignments and conditions. Sorted, each once.
fn named_in_block(ops: &[Op], kinds: &[SlotKind], start: u32, end: u32) -> Vec<Slot> {
    /// Adds `slot` in its place, once. A block names few variables, so each goes in where it belongs
    /// rather than all being sorted at the end: the library's sort would cost the WebAssembly bundle a
    /// copy of its code for this one type.
    fn add(slots: &mut Vec<Slot>, slot: Slot) {
        if let Err(place) = slots.binary_search(&slot) {
            slots.insert(place, slot);
        }
    }
    let mut slots = Vec::new();
    let mut op = start;
    while op < end {
        match &ops[op as usize].kind {
            OpKind::Call(call) => {
                for operand in call.operands.iter() {
                    operand.for_each_slot(&mut |slot| add(&mut slots, slot));
                }
                match call.bind {
                    Bind::Value(slot) => add(&mut slots, slot),
                    Bind::Message { count, tag } => {
                        add(&mut slots, count);
                        add(&mut slots, tag);
                    }
                    // What the bytes were shows where the code looks at it, not at every read.
                    Bind::Bytes { count, .. } => add(&mut slots, count),
                    Bind::Rights { count, fds, flags, creds, .. } => {
                        add(&mut slots, count);
                        add(&mut slots, fds);
                        add(&mut slots, flags);
                        add(&mut slots, creds);
                    }
                    Bind::Polled { count, revents, entries } => {
                        add(&mut slots, count);
                        revents[..entries as usize].iter().for_each(|slot| add(&mut slots, *slot));
                    }
                    Bind::Epolled { count, fds, events } => {
                        add(&mut slots, count);
                        fds.iter().chain(&events).for_each(|slot| add(&mut slots, *slot));
                    }
                    Bind::None | Bind::Pair { .. } => {}
                }
            }
            OpKind::Assign { slot, value } => {
                add(&mut slots, *slot);
                value.for_each_slot(&mut |slot| add(&mut slots, slot));
            }
            OpKind::JumpUnless { condition, .. } => condition.for_each_slot(&mut |slot| add(&mut slots, slot)),
            // A child's block is the child's code; the parent goes on after it.
            OpKind::Fork { body_end, .. } => {
                op = (*body_end).max(op + 1);
                continue;
            }
            OpKind::Jump { .. } | OpKind::RepeatNext { .. } => {}
        }
        op += 1;
    }
    slots.retain(|slot| matches!(kinds[*slot as usize], SlotKind::Value | SlotKind::Errno));
    slots
}

/// Index of a variable in [`Program::slots`].
pub type Slot = u32;

/// The slot of `errno`, in every process.
pub const ERRNO_SLOT: Slot = 0;

/// What a slot holds, for pictures and messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotKind {
    Errno,
    Process,
    Descriptor,
    Value,
    /// A `repeat` counter, not visible to the scenario.
    Counter,
}

/// An integer value as the compiled program computes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Const(i64),
    Slot(Slot),
    SelfPid,
    Unary(UnaryOp, Box<Value>),
    Binary(BinaryOp, Box<Value>, Box<Value>),
}

/// How the trace writes an operand's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shown {
    /// A number as written (`100`), or `stdin`-like names, which print as their number.
    Number,
    /// A variable: `p.r=3`.
    Named(Arc<str>),
    /// `self`: `self=4`.
    SelfPid,
    /// A constant or flags: printed in the family's names (`O_WRONLY|O_NONBLOCK`, `SIGTERM`).
    Constant,
    /// A constant of no particular family, printed as written (`O_NONBLOCK` as `fcntl`'s argument).
    Written(Arc<str>),
    /// Anything computed: `(n + 1)=5`.
    Expression(Arc<str>),
}

/// One operand of a compiled call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    Value {
        value: Value,
        shown: Shown,
    },
    Payload(Arc<Payload>),
    /// An index into [`Program::paths`] (a path, or the name of a POSIX IPC object).
    Path(u32),
    /// One `semop` operation, resolved into one number ([`crate::linux::sem::pack_sembuf`]).
    Sembuf {
        num: Value,
        op: Value,
        flags: Value,
        times: u16,
    },
    /// `{V, ...}`, resolved into one number as its call takes it.
    List {
        values: Box<[Value]>,
        kind: ListKind,
    },
}

/// What a `{V, ...}` operand is, which decides how it is packed into one number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// `SETALL`'s `unsigned short` values ([`crate::linux::sem::pack_values`]).
    SemValues,
    /// `mq_open`'s `{MAXMSG, MSGSIZE}` ([`crate::linux::mqueue::pack_attr`]).
    MqAttr,
    /// `sendmsg`'s descriptors, given `times` times ([`crate::linux::socket::pack_rights`]).
    Rights { times: u16 },
    /// `poll`'s `{FD, EVENTS}` ([`crate::linux::poll::pack_pollfd`]).
    PollFd,
    /// A `select` set `{FD, ...}` ([`crate::linux::poll::pack_fdset`]).
    FdSet,
}

impl Value {
    /// Calls `visit` with each variable the value reads.
    pub fn for_each_slot(&self, visit: &mut impl FnMut(Slot)) {
        match self {
            Value::Slot(slot) => visit(*slot),
            Value::Unary(_, inner) => inner.for_each_slot(visit),
            Value::Binary(_, left, right) => {
                left.for_each_slot(visit);
                right.for_each_slot(visit);
            }
            Value::Const(_) | Value::SelfPid => {}
        }
    }
}

impl Operand {
    /// Calls `visit` with each variable the operand reads.
    pub fn for_each_slot(&self, visit: &mut impl FnMut(Slot)) {
        match self {
            Operand::Value { value, .. } => value.for_each_slot(visit),
            Operand::Sembuf { num, op, flags, .. } => {
                for value in [num, op, flags] {
                    value.for_each_slot(visit);
                }
            }
            Operand::List { values, .. } => values.iter().for_each(|value| value.for_each_slot(visit)),
            Operand::Payload(_) | Operand::Path(_) => {}
        }
    }

    /// The number this operand stands for in a process with these variables.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn resolve(&self, vars: &[i64], pid: crate::trace::Pid) -> Result<i64, crate::user::Fault> {
        use crate::user::evaluate;
        Ok(match self {
            Operand::Value { value, .. } => evaluate(value, vars, pid)?,
            Operand::Payload(payload) => payload.len() as i64,
            Operand::Path(index) => *index as i64,
            Operand::Sembuf { num, op, flags, times } if crate::IPC => crate::linux::sem::pack_sembuf(
                evaluate(num, vars, pid)?,
                evaluate(op, vars, pid)?,
                evaluate(flags, vars, pid)?,
                *times,
            ),
            Operand::List { values, kind } if crate::IPC => {
                let mut resolved = Vec::with_capacity(values.len());
                for value in values.iter() {
                    resolved.push(evaluate(value, vars, pid)?);
                }
                match kind {
                    ListKind::SemValues => crate::linux::sem::pack_values(&resolved),
                    ListKind::MqAttr => crate::linux::mqueue::pack_attr(resolved[0], resolved[1]),
                    ListKind::Rights { times } => crate::linux::socket::pack_rights(&resolved, *times as u32),
                    ListKind::PollFd => crate::linux::poll::pack_pollfd(resolved[0], resolved[1]),
                    ListKind::FdSet => crate::linux::poll::pack_fdset(&resolved),
                }
            }
            Operand::Sembuf { .. } | Operand::List { .. } => unreachable!("IPC operands need the IPC mechanisms"),
        })
    }
}

/// Where a call's result goes, if the scenario named it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bind {
    None,
    /// The return value (or the value stored through the call's pointer).
    Value(Slot),
    /// `pipe`'s two descriptors.
    Pair {
        read: Slot,
        write: Slot,
    },
    /// A received message's byte count and its type or priority (`NAME` and `NAME.mtype`).
    Message {
        count: Slot,
        tag: Slot,
    },
    /// A read's byte count, and its first byte, last byte and runs of equal bytes (`NAME`, `NAME.first`,
    /// `NAME.last`, `NAME.runs`).
    Bytes {
        count: Slot,
        first: Slot,
        last: Slot,
        runs: Slot,
    },
    /// A `recvmsg`'s byte count, the first descriptor it received, how many, the message's flags and
    /// the pid of its credentials (`NAME`, `NAME.fd`, `NAME.fds`, `NAME.flags`, `NAME.pid`).
    Rights {
        count: Slot,
        fd: Slot,
        fds: Slot,
        flags: Slot,
        creds: Slot,
    },
    /// A `poll`'s count of ready entries and each written entry's `revents` (`NAME`, `NAME.0`, ...).
    Polled {
        count: Slot,
        /// The first `entries` are the written entries' slots.
        revents: [Slot; crate::linux::poll::MAX_POLL_FDS],
        entries: u8,
    },
    /// An `epoll_wait`'s count of events, and each event's descriptor and events (`NAME`,
    /// `NAME.fd0`, ..., `NAME.events0`, ...).
    Epolled {
        count: Slot,
        fds: [Slot; crate::linux::epoll::MAX_EPOLL_EVENTS],
        events: [Slot; crate::linux::epoll::MAX_EPOLL_EVENTS],
    },
}

/// What a read's bytes were, as a scenario sees them in `NAME.first`, `NAME.last` and `NAME.runs`: a C
/// program would look at `buf[0]` and `buf[n - 1]`, and count with a loop where each byte differs from
/// the one before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadBytes {
    /// The first byte, -1 when none came.
    pub first: i64,
    /// The last byte, -1 when none came.
    pub last: i64,
    /// How many runs of equal bytes the bytes make: 0 for none, 1 for `AAAA`, 3 for `AABBA`.
    pub runs: i64,
}

impl ReadBytes {
    pub fn of(bytes: &[u8]) -> ReadBytes {
        let runs = match bytes {
            [] => 0,
            [_, rest @ ..] => 1 + bytes.iter().zip(rest).filter(|(before, after)| before != after).count() as i64,
        };
        ReadBytes {
            first: bytes.first().map_or(-1, |&byte| byte as i64),
            last: bytes.last().map_or(-1, |&byte| byte as i64),
            runs,
        }
    }
}

/// A system call ready to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOp {
    pub id: CallId,
    /// One per operand of the call's row in the table, the ones left out as their defaults.
    pub operands: Box<[Operand]>,
    /// How many operands the scenario wrote (the trace prints only those).
    pub written: u8,
    pub bind: Bind,
    /// Errnos on which the call is made again, as a new step.
    pub retry: Box<[Errno]>,
    /// The operands (bit `i` for operand `i`) that the C call takes as an `int` (a descriptor, a pid,
    /// a signal, a count such as `semget`'s NSEMS: [`crate::lang::syscalls::CType::Int`]), whose value
    /// the kernel sees as its low 32 bits, signed, as a C caller passes it: `kill(4294967298, 0)` is
    /// `kill(2, 0)`.
    pub int_operands: u8,
    /// The operands that the C call takes as an `unsigned int` (`mq_send`'s PRIO, `lseek`'s WHENCE):
    /// their low 32 bits, unsigned.
    pub uint_operands: u8,
}

// `CallOp::int_operands` and `uint_operands` have a bit for each operand a call can have.
const _: () = assert!(crate::trace::event::MAX_ARGS <= u8::BITS as usize);

impl CallOp {
    /// The Linux name of the call, as the trace prints it.
    pub fn name(&self) -> &'static str {
        self.id.name()
    }

    /// The payload operand, if the call has one.
    pub fn payload(&self) -> Option<&Arc<Payload>> {
        self.operands.iter().find_map(|operand| match operand {
            Operand::Payload(payload) => Some(payload),
            _ => None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpKind {
    Call(CallOp),
    /// Create a child that runs `self_index + 1 .. body_end`; the parent continues at `body_end`.
    Fork {
        slot: Slot,
        name: Arc<str>,
        body_end: u32,
        expect: Option<Located<ProcessOutcome>>,
    },
    /// `NAME = EXPR`.
    Assign {
        slot: Slot,
        value: Value,
    },
    /// Go on at `target`.
    Jump {
        target: u32,
    },
    /// Go on at `target` when the condition is 0 (the false branch of an `if`, the end of a `while`).
    JumpUnless {
        condition: Value,
        target: u32,
    },
    /// The end of a `repeat` round: count down, and go back to `body` while rounds remain.
    RepeatNext {
        counter: Slot,
        body: u32,
    },
}

impl OpKind {
    /// Whether running the operation takes a step (a system call or a fork).
    #[inline]
    pub fn takes_step(&self) -> bool {
        matches!(self, OpKind::Call(_) | OpKind::Fork { .. })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    pub kind: OpKind,
    pub span: Span,
    pub expect: Option<Located<Expect>>,
}

/// A top-level process: its name, where its code lives, and how it is expected to end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopProcess {
    pub name: Arc<str>,
    pub slot: Slot,
    pub start: u32,
    pub end: u32,
    pub expect: Option<Located<ProcessOutcome>>,
    pub span: Span,
}

/// A compiled `handler` block: the operations `start..end`, which a process runs on top of what it was
/// doing when a signal it is installed for is delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerCode {
    pub name: Arc<str>,
    pub start: u32,
    pub end: u32,
}

/// The value of a handler as an action operand: after `SIG_DFL` (0) and `SIG_IGN` (1), handler `i` is `2 + i`.
pub const FIRST_HANDLER: i64 = 2;

/// The slots of [`crate::lang::names::SIGNAL_VARIABLES`], which a delivery sets for the handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalSlots {
    pub signo: Slot,
    pub si_pid: Slot,
    pub si_value: Slot,
    pub si_code: Slot,
}

/// A compiled scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub title: Option<String>,
    pub description: Option<String>,
    pub ops: Vec<Op>,
    /// Slot number to name (`errno`, `p.r`, `child`, ...).
    pub slots: Vec<Arc<str>>,
    pub slot_kinds: Vec<SlotKind>,
    /// Every path the scenario names, in order of first appearance (events refer to them by index).
    pub paths: Vec<Arc<str>>,
    pub processes: Vec<TopProcess>,
    pub expected_end: Option<Located<RunEnd>>,
    /// The schedule the scenario pins, if any.
    pub schedule: Vec<ScheduleEntry>,
    /// For each block a process runs (a top-level process's, a `fork` body), by its first operation:
    /// the plain-value variables (and `errno`) its own code names, nested `fork` bodies left out. A
    /// process holds every variable of the scenario, but only these are its business to show.
    pub block_variables: Vec<(u32, Vec<Slot>)>,
    /// The `handler` blocks, in the order they were written.
    pub handlers: Vec<HandlerCode>,
    /// Where `signo`, `si_pid`, `si_value` and `si_code` live (a scenario with handlers has them).
    pub signal_slots: Option<SignalSlots>,
    /// The declared outcomes, their names resolved.
    pub outcomes: Vec<DeclaredOutcome>,
    /// Which variables each operation may still read ([`super::live`]), for the state hash.
    pub live: super::live::Liveness,
}

/// An `outcome` block, compiled: its conditions with process names checked and variables as slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredOutcome {
    pub quantifier: Quantifier,
    pub label: Option<String>,
    pub span: Span,
    pub conditions: Vec<(Span, OutcomeCondition)>,
}

impl DeclaredOutcome {
    /// `never "label"` or `never { deadlock; main exited 1 }`: how it is named in reports.
    pub fn title(&self) -> String {
        match &self.label {
            Some(label) => format!("{} \"{label}\"", self.quantifier.word()),
            None => format!(
                "{} {{ {} }}",
                self.quantifier.word(),
                self.conditions.iter().map(|(_, condition)| condition.text()).collect::<Vec<_>>().join("; ")
            ),
        }
    }
}

/// A condition of a declared outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutcomeCondition {
    RunEnds(RunEnd),
    Process { name: Arc<str>, end: ProcessOutcome },
    Compare { name: Arc<str>, variable: Arc<str>, slot: Slot, op: Compare, value: i64 },
    Left { kind: Leftover, op: Compare, value: i64 },
    Copied { mechanism: Copier, toward: Toward, op: Compare, value: i64 },
    Calls { name: Arc<str>, op: Compare, value: i64 },
}

impl OutcomeCondition {
    pub fn text(&self) -> String {
        let condition = match self {
            OutcomeCondition::RunEnds(end) => Condition::RunEnds(*end),
            OutcomeCondition::Process { name, end } => Condition::Process { name: name.to_string(), end: end.clone() },
            OutcomeCondition::Compare { name, variable, op, value, .. } => {
                Condition::Compare { name: name.to_string(), variable: variable.to_string(), op: *op, value: *value }
            }
            OutcomeCondition::Left { kind, op, value } => Condition::Left { kind: *kind, op: *op, value: *value },
            OutcomeCondition::Copied { mechanism, toward, op, value } => {
                Condition::Copied { mechanism: *mechanism, toward: *toward, op: *op, value: *value }
            }
            OutcomeCondition::Calls { name, op, value } => {
                Condition::Calls { name: name.to_string(), op: *op, value: *value }
            }
        };
        crate::lang::print::condition_text(&condition)
    }
}

impl Program {
    /// Whether a declared outcome counts the bytes copied (`copied ...`).
    pub fn counts_copies(&self) -> bool {
        self.outcomes.iter().any(|declared| {
            declared.conditions.iter().any(|(_, condition)| matches!(condition, OutcomeCondition::Copied { .. }))
        })
    }

    /// Whether a declared outcome counts the system calls of processes (`calls ...`).
    pub fn counts_calls(&self) -> bool {
        self.outcomes.iter().any(|declared| {
            declared.conditions.iter().any(|(_, condition)| matches!(condition, OutcomeCondition::Calls { .. }))
        })
    }

    /// Whether a `semctl` may read who last changed a semaphore (`GETPID`, or a command computed at
    /// run time): otherwise that pid decides nothing the scenario can see.
    pub fn observes_sempid(&self) -> bool {
        self.ops.iter().any(|op| match &op.kind {
            OpKind::Call(call) if call.id == CallId::Semctl => !matches!(
                call.operands.get(2),
                Some(Operand::Value { value: Value::Const(command), .. })
                    if crate::linux::sem::semctl_command(*command) != crate::linux::sem::GETPID
            ),
            _ => false,
        })
    }

    pub fn compile(scenario: &Scenario) -> Result<Program, Diagnostic> {
        let mut compiler = Compiler {
            ops: Vec::new(),
            slots: Names::new(),
            slot_names: Vec::new(),
            slot_kinds: Vec::new(),
            paths: Vec::new(),
            loops: Vec::new(),
            handler_names: scenario.handlers.iter().map(|handler| handler.name.clone()).collect(),
        };
        compiler.slot(crate::lang::names::ERRNO_VARIABLE, SlotKind::Errno);
        // Process names first, so that their slots are the same in every process.
        for process in &scenario.processes {
            compiler.slot(&process.name, SlotKind::Process);
        }
        let mut processes = Vec::new();
        for process in &scenario.processes {
            let start = compiler.ops.len() as u32;
            compiler.block(&process.body);
            let end = compiler.ops.len() as u32;
            processes.push(TopProcess {
                name: Arc::from(process.name.as_str()),
                slot: compiler.slot(&process.name, SlotKind::Process),
                start,
                end,
                expect: process.expect.clone(),
                span: process.name_span,
            });
        }
        if processes.is_empty() {
            return Err(Diagnostic::new(Span::START, "a scenario needs at least one `process`"));
        }
        let mut handlers = Vec::new();
        for handler in &scenario.handlers {
            let start = compiler.ops.len() as u32;
            compiler.block(&handler.body);
            let end = compiler.ops.len() as u32;
            handlers.push(HandlerCode { name: Arc::from(handler.name.as_str()), start, end });
        }
        // The signal variables come last, so that they take no slot numbers from the scenario's own; a
        // scenario without handlers needs them only if its code names them.
        let signal_slots = (!handlers.is_empty()).then(|| {
            let [signo, si_pid, si_value, si_code] =
                crate::lang::names::SIGNAL_VARIABLES.map(|name| compiler.slot(name, SlotKind::Value));
            SignalSlots { signo, si_pid, si_value, si_code }
        });
        // Every block's start and end, in order, as the ops are laid out: the top-level processes one
        // after another, then the handlers, and a fork's body right after its fork. Walking the ops
        // gives them in order without a sort, which would cost the WebAssembly bundle a copy of the
        // library's sort code.
        let mut starts: Vec<(u32, u32)> = Vec::new();
        let blocks: Vec<(u32, u32)> = processes
            .iter()
            .map(|process| (process.start, process.end))
            .chain(handlers.iter().map(|handler| (handler.start, handler.end)))
            .collect();
        let mut top_level = blocks.iter().copied().peekable();
        for (index, op) in compiler.ops.iter().enumerate() {
            while let Some(block) = top_level.next_if(|(start, _)| *start <= index as u32) {
                starts.push(block);
            }
            if let OpKind::Fork { body_end, .. } = op.kind {
                starts.push((index as u32 + 1, body_end));
            }
        }
        starts.extend(top_level);
        debug_assert!(starts.is_sorted(), "blocks in order: {starts:?}");
        let block_variables = starts
            .into_iter()
            .map(|(start, end)| (start, named_in_block(&compiler.ops, &compiler.slot_kinds, start, end)))
            .collect();
        let outcomes = compile_outcomes(scenario, &compiler)?;
        let mut program = Program {
            title: scenario.title.clone(),
            description: scenario.description.clone(),
            ops: compiler.ops,
            slots: compiler.slot_names,
            slot_kinds: compiler.slot_kinds,
            paths: compiler.paths,
            processes,
            expected_end: scenario.expected_end.clone(),
            schedule: scenario.schedule.as_ref().map(|schedule| schedule.value.clone()).unwrap_or_default(),
            block_variables,
            handlers,
            signal_slots,
            outcomes,
            live: super::live::Liveness::default(),
        };
        program.live = super::live::Liveness::of(&program);
        Ok(program)
    }

    /// The plain-value variables the block starting at `start` names (see [`Program::block_variables`]).
    pub fn variables_of_block(&self, start: u32) -> &[Slot] {
        match self.block_variables.binary_search_by_key(&start, |(first, _)| *first) {
            Ok(index) => &self.block_variables[index].1,
            Err(_) => &[],
        }
    }

    /// The call at `op`, if that operation is one.
    pub fn call(&self, op: u32) -> Option<&CallOp> {
        match self.ops.get(op as usize).map(|op| &op.kind) {
            Some(OpKind::Call(call)) => Some(call),
            _ => None,
        }
    }
}

/// The jumps of the loop being compiled: where `continue` goes, and the `break`s to patch at its end.
struct LoopLabels {
    continue_target: Option<u32>,
    continues: Vec<usize>,
    breaks: Vec<usize>,
}

struct Compiler {
    ops: Vec<Op>,
    /// Each name's slot. The map type is the one the name check and the kernel use (see
    /// [`crate::lang::names::Names`]), so the bundle holds one B-tree for them all.
    slots: Names,
    slot_names: Vec<Arc<str>>,
    slot_kinds: Vec<SlotKind>,
    paths: Vec<Arc<str>>,
    loops: Vec<LoopLabels>,
    /// Handler names, by their number among the handlers.
    handler_names: Vec<String>,
}

impl Compiler {
    fn path(&mut self, path: &str) -> u32 {
        if let Some(index) = self.paths.iter().position(|known| &**known == path) {
            return index as u32;
        }
        self.paths.push(Arc::from(path));
        self.paths.len() as u32 - 1
    }

    fn slot(&mut self, name: &str, kind: SlotKind) -> Slot {
        if let Some(slot) = self.slots.get(name) {
            // A name first met in an expression learns what it holds from its binding.
            if self.slot_kinds[*slot as usize] == SlotKind::Value && kind != SlotKind::Value {
                self.slot_kinds[*slot as usize] = kind;
            }
            return *slot;
        }
        let slot = self.slot_names.len() as Slot;
        let name: Arc<str> = Arc::from(name);
        self.slots.insert(name.clone(), slot);
        self.slot_names.push(name);
        self.slot_kinds.push(kind);
        slot
    }

    /// A slot of its own for a `repeat` counter (a name no scenario can write).
    fn counter(&mut self) -> Slot {
        let name = format!("#repeat{}", self.ops.len());
        self.slot(&name, SlotKind::Counter)
    }

    fn push(&mut self, kind: OpKind, span: Span) -> usize {
        self.ops.push(Op { kind, span, expect: None });
        self.ops.len() - 1
    }

    fn here(&self) -> u32 {
        self.ops.len() as u32
    }

    fn patch(&mut self, index: usize, target: u32) {
        match &mut self.ops[index].kind {
            OpKind::Jump { target: at } | OpKind::JumpUnless { target: at, .. } => *at = target,
            // Not formatted with `{:?}`: that would link the Debug code of every operation type into the
            // WebAssembly bundle for a message no run can reach.
            _ => unreachable!("only jumps are patched"),
        }
    }

    fn value(&mut self, expr: &Expr) -> Value {
        match &expr.kind {
            ExprKind::Int(value) => Value::Const(*value),
            ExprKind::SelfPid => Value::SelfPid,
            ExprKind::Name(name) => match linux::lookup(name) {
                Some(constant) => Value::Const(constant.value),
                None => {
                    let kind = self.slots.get(name.as_str()).map(|slot| self.slot_kinds[*slot as usize]);
                    Value::Slot(self.slot(name, kind.unwrap_or(SlotKind::Value)))
                }
            },
            ExprKind::Unary { op, operand } => {
                let operand = self.value(operand);
                match (op, operand) {
                    (UnaryOp::Neg, Value::Const(value)) => Value::Const(value.wrapping_neg()),
                    (UnaryOp::Not, Value::Const(value)) => Value::Const((value == 0) as i64),
                    (op, operand) => Value::Unary(*op, Box::new(operand)),
                }
            }
            ExprKind::Binary { op, left, right } => {
                let (left, right) = (self.value(left), self.value(right));
                match (&left, &right) {
                    (Value::Const(a), Value::Const(b)) => match crate::user::binary(*op, *a, *b) {
                        Some(value) => Value::Const(value),
                        // Division by zero stays for run time, where it is a fault of the process.
                        None => Value::Binary(*op, Box::new(left), Box::new(right)),
                    },
                    _ => Value::Binary(*op, Box::new(left), Box::new(right)),
                }
            }
        }
    }

    /// A signal-set operand: a signal's name stands for its bit, `|` joins sets, and anything else (a
    /// number, a variable) is a mask already.
    fn set_value(&mut self, expr: &Expr) -> Value {
        match &expr.kind {
            ExprKind::Name(name) => match crate::linux::Signal::from_name(name).filter(|_| name.starts_with("SIG")) {
                Some(signal) => Value::Const(signal.mask_bit() as i64),
                None => self.value(expr),
            },
            ExprKind::Binary { op: BinaryOp::BitOr, left, right } => {
                match (self.set_value(left), self.set_value(right)) {
                    (Value::Const(a), Value::Const(b)) => Value::Const(a | b),
                    (left, right) => Value::Binary(BinaryOp::BitOr, Box::new(left), Box::new(right)),
                }
            }
            _ => self.value(expr),
        }
    }

    /// An action operand: a handler's name stands for its number ([`FIRST_HANDLER`] on).
    fn action_value(&mut self, expr: &Expr) -> Value {
        if let ExprKind::Name(name) = &expr.kind {
            if let Some(index) = self.handler_names.iter().position(|handler| handler == name) {
                return Value::Const(FIRST_HANDLER + index as i64);
            }
        }
        self.value(expr)
    }

    fn shown(&self, expr: &Expr, kind: OperandKind) -> Shown {
        if let (OperandKind::Action, ExprKind::Name(name)) = (kind, &expr.kind) {
            if self.handler_names.contains(name) {
                return Shown::Written(Arc::from(name.as_str()));
            }
        }
        let has_family = matches!(
            kind,
            OperandKind::Flags(_)
                | OperandKind::OneOf(_)
                | OperandKind::Signal
                | OperandKind::SignalSet
                | OperandKind::Action
        );
        match &expr.kind {
            ExprKind::SelfPid => Shown::SelfPid,
            ExprKind::Name(name) if linux::lookup(name).is_none() => Shown::Named(Arc::from(name.as_str())),
            ExprKind::Name(name) if linux::lookup(name).is_some_and(|c| c.is_in(Family::StandardFd)) => Shown::Number,
            _ if is_constant(expr) && has_family => Shown::Constant,
            _ if is_constant(expr) && mentions_name(expr) => Shown::Written(Arc::from(print::operand(expr))),
            _ if is_constant(expr) => Shown::Number,
            _ => Shown::Expression(Arc::from(print::operand(expr))),
        }
    }

    fn block(&mut self, body: &[Stmt]) {
        for stmt in body {
            match stmt {
                Stmt::Call(call) => {
                    let op = self.call(call);
                    self.ops.push(Op { kind: OpKind::Call(op), span: call.span, expect: call.expect.clone() });
                }
                Stmt::Assign(assign) => {
                    let value = self.value(&assign.value);
                    let slot = self.slot(&assign.name, SlotKind::Value);
                    self.push(OpKind::Assign { slot, value }, assign.name_span);
                }
                Stmt::Fork(fork) => {
                    let slot = self.slot(&fork.name, SlotKind::Process);
                    let index = self.push(
                        OpKind::Fork {
                            slot,
                            name: Arc::from(fork.name.as_str()),
                            body_end: 0,
                            expect: fork.expect.clone(),
                        },
                        fork.span,
                    );
                    // The child's code is a process of its own: loops around the fork are not its loops.
                    let outer_loops = std::mem::take(&mut self.loops);
                    self.block(&fork.body);
                    self.loops = outer_loops;
                    let body_end = self.here();
                    if let OpKind::Fork { body_end: end, .. } = &mut self.ops[index].kind {
                        *end = body_end;
                    }
                }
                Stmt::Repeat(repeat) => {
                    let counter = self.counter();
                    let start = self.ops.len();
                    self.push(OpKind::Assign { slot: counter, value: Value::Const(repeat.count as i64) }, repeat.span);
                    let body = self.here();
                    self.loops.push(LoopLabels { continue_target: None, continues: Vec::new(), breaks: Vec::new() });
                    self.block(&repeat.body);
                    let labels = self.loops.pop().expect("pushed above");
                    if self.here() == body {
                        // An empty loop does nothing, however often: leave it out.
                        self.ops.truncate(start);
                        continue;
                    }
                    let next = self.here();
                    self.push(OpKind::RepeatNext { counter, body }, repeat.span);
                    for index in labels.continues {
                        self.patch(index, next);
                    }
                    let end = self.here();
                    for index in labels.breaks {
                        self.patch(index, end);
                    }
                }
                Stmt::If(stmt) => {
                    let condition = self.value(&stmt.condition);
                    let branch = self.push(OpKind::JumpUnless { condition, target: 0 }, stmt.span);
                    self.block(&stmt.then_body);
                    if stmt.else_body.is_empty() {
                        let end = self.here();
                        self.patch(branch, end);
                    } else {
                        let skip = self.push(OpKind::Jump { target: 0 }, stmt.span);
                        let else_start = self.here();
                        self.patch(branch, else_start);
                        self.block(&stmt.else_body);
                        let end = self.here();
                        self.patch(skip, end);
                    }
                }
                Stmt::While(stmt) => {
                    let top = self.here();
                    let condition = self.value(&stmt.condition);
                    let exit = self.push(OpKind::JumpUnless { condition, target: 0 }, stmt.span);
                    self.loops.push(LoopLabels {
                        continue_target: Some(top),
                        continues: Vec::new(),
                        breaks: Vec::new(),
                    });
                    self.block(&stmt.body);
                    let labels = self.loops.pop().expect("pushed above");
                    self.push(OpKind::Jump { target: top }, stmt.span);
                    let end = self.here();
                    self.patch(exit, end);
                    for index in labels.breaks {
                        self.patch(index, end);
                    }
                    for index in labels.continues {
                        self.patch(index, top);
                    }
                }
                Stmt::Break(span) => {
                    let index = self.push(OpKind::Jump { target: 0 }, *span);
                    self.loops.last_mut().expect("the parser allows `break` only inside a loop").breaks.push(index);
                }
                Stmt::Continue(span) => {
                    let labels = self.loops.last().expect("the parser allows `continue` only inside a loop");
                    let target = labels.continue_target;
                    let index = self.push(OpKind::Jump { target: target.unwrap_or(0) }, *span);
                    if target.is_none() {
                        self.loops.last_mut().expect("checked").continues.push(index);
                    }
                }
            }
        }
    }

    fn call(&mut self, call: &CallStmt) -> CallOp {
        let spec = call.call.spec();
        let mut operands = Vec::with_capacity(spec.operands.len());
        let mut int_operands = 0;
        let mut uint_operands = 0;
        for (index, operand) in spec.operands.iter().enumerate() {
            if operand.dropped_when_left_out && call.args.get(index).is_none() {
                break;
            }
            match operand.c_type() {
                CType::Int => int_operands |= 1 << index,
                CType::UInt => uint_operands |= 1 << index,
                CType::Long => {}
            }
            let compiled = match call.args.get(index) {
                Some(Arg::Expr(expr)) => {
                    let value = match operand.kind {
                        OperandKind::SignalSet => self.set_value(expr),
                        OperandKind::Action => self.action_value(expr),
                        _ => self.value(expr),
                    };
                    Operand::Value { value, shown: self.shown(expr, operand.kind) }
                }
                Some(Arg::Payload(payload)) => Operand::Payload(Arc::new(payload.clone())),
                Some(Arg::Path(path)) => Operand::Path(self.path(&path.value)),
                Some(Arg::Sembuf(sembuf)) if crate::IPC => Operand::Sembuf {
                    num: self.value(&sembuf.num),
                    op: self.value(&sembuf.op),
                    flags: sembuf.flags.as_ref().map_or(Value::Const(0), |flags| self.value(flags)),
                    times: sembuf.times.min(u16::MAX as u32) as u16,
                },
                Some(Arg::List(values)) if crate::IPC => Operand::List {
                    values: values.value.iter().map(|value| self.value(value)).collect(),
                    kind: match operand.kind {
                        OperandKind::MqAttr => ListKind::MqAttr,
                        OperandKind::PollFd => ListKind::PollFd,
                        OperandKind::FdSet => ListKind::FdSet,
                        _ => ListKind::SemValues,
                    },
                },
                Some(Arg::Rights(rights)) if crate::IPC => Operand::List {
                    values: rights.fds.iter().map(|fd| self.value(fd)).collect(),
                    kind: ListKind::Rights { times: rights.times as u16 },
                },
                Some(Arg::Sembuf(_) | Arg::List(_) | Arg::Rights(_)) => {
                    unreachable!("IPC operands need the IPC mechanisms")
                }
                None => Operand::Value {
                    value: Value::Const(operand.default.expect("the parser requires operands without a default")),
                    shown: Shown::Constant,
                },
            };
            operands.push(compiled);
        }
        let bind = match (&call.bind, spec.binding) {
            (None, _) | (_, Binding::Nothing) => Bind::None,
            (Some(name), Binding::PipeEnds) => Bind::Pair {
                read: self.slot(&format!("{}.r", name.value), SlotKind::Descriptor),
                write: self.slot(&format!("{}.w", name.value), SlotKind::Descriptor),
            },
            (Some(name), Binding::SocketEnds) => Bind::Pair {
                read: self.slot(&format!("{}.0", name.value), SlotKind::Descriptor),
                write: self.slot(&format!("{}.1", name.value), SlotKind::Descriptor),
            },
            (Some(name), Binding::Fd) => Bind::Value(self.slot(&name.value, SlotKind::Descriptor)),
            (Some(name), Binding::Value | Binding::OutValue) => Bind::Value(self.slot(&name.value, SlotKind::Value)),
            (Some(name), Binding::Message(suffix)) => Bind::Message {
                count: self.slot(&name.value, SlotKind::Value),
                tag: self.slot(&format!("{}.{suffix}", name.value), SlotKind::Value),
            },
            (Some(name), Binding::Rights) => Bind::Rights {
                count: self.slot(&name.value, SlotKind::Value),
                fd: self.slot(&format!("{}.fd", name.value), SlotKind::Descriptor),
                fds: self.slot(&format!("{}.fds", name.value), SlotKind::Value),
                flags: self.slot(&format!("{}.flags", name.value), SlotKind::Value),
                creds: self.slot(&format!("{}.pid", name.value), SlotKind::Value),
            },
            (Some(name), Binding::Polled) => {
                let count = self.slot(&name.value, SlotKind::Value);
                let entries = call.args.len().saturating_sub(1).min(POLL_FIELDS.len());
                let mut revents = [count; crate::linux::poll::MAX_POLL_FDS];
                for (at, suffix) in POLL_FIELDS.iter().take(entries).enumerate() {
                    revents[at] = self.slot(&format!("{}.{suffix}", name.value), SlotKind::Value);
                }
                Bind::Polled { count, revents, entries: entries as u8 }
            }
            // `select`'s three sets, each as a `revents` of its own.
            (Some(name), Binding::Selected) => {
                let count = self.slot(&name.value, SlotKind::Value);
                let mut revents = [count; crate::linux::poll::MAX_POLL_FDS];
                for (at, suffix) in SELECT_FIELDS.iter().enumerate() {
                    revents[at] = self.slot(&format!("{}.{suffix}", name.value), SlotKind::Value);
                }
                Bind::Polled { count, revents, entries: SELECT_FIELDS.len() as u8 }
            }
            (Some(name), Binding::Epolled) => {
                let count = self.slot(&name.value, SlotKind::Value);
                let mut fds = [count; crate::linux::epoll::MAX_EPOLL_EVENTS];
                let mut events = [count; crate::linux::epoll::MAX_EPOLL_EVENTS];
                let (fd_fields, event_fields) = EPOLL_FIELDS.split_at(crate::linux::epoll::MAX_EPOLL_EVENTS);
                for (at, suffix) in fd_fields.iter().enumerate() {
                    fds[at] = self.slot(&format!("{}.{suffix}", name.value), SlotKind::Descriptor);
                }
                for (at, suffix) in event_fields.iter().enumerate() {
                    events[at] = self.slot(&format!("{}.{suffix}", name.value), SlotKind::Value);
                }
                Bind::Epolled { count, fds, events }
            }
            (Some(name), Binding::Bytes) => Bind::Bytes {
                count: self.slot(&name.value, SlotKind::Value),
                first: self.slot(&format!("{}.first", name.value), SlotKind::Value),
                last: self.slot(&format!("{}.last", name.value), SlotKind::Value),
                runs: self.slot(&format!("{}.runs", name.value), SlotKind::Value),
            },
        };
        CallOp {
            id: call.call,
            operands: operands.into_boxed_slice(),
            written: call.args.len() as u8,
            bind,
            retry: call.retry.clone().into_boxed_slice(),
            int_operands,
            uint_operands,
        }
    }
}

/// Whether an expression mentions a name (a constant, here).
fn mentions_name(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Int(_) | ExprKind::SelfPid => false,
        ExprKind::Name(_) => true,
        ExprKind::Unary { operand, .. } => mentions_name(operand),
        ExprKind::Binary { left, right, .. } => mentions_name(left) || mentions_name(right),
    }
}

/// Whether an expression names no variable (its value is known before the run).
fn is_constant(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Int(_) => true,
        ExprKind::Name(name) => linux::lookup(name).is_some(),
        ExprKind::SelfPid => false,
        ExprKind::Unary { operand, .. } => is_constant(operand),
        ExprKind::Binary { left, right, .. } => is_constant(left) && is_constant(right),
    }
}

/// The `outcome` blocks with their names checked: a process name must name a `process` or a `fork`,
/// and a variable one the scenario's code names.
fn compile_outcomes(scenario: &Scenario, compiler: &Compiler) -> Result<Vec<DeclaredOutcome>, Diagnostic> {
    let mut process_names: Vec<&str> = scenario.processes.iter().map(|process| process.name.as_str()).collect();
    for op in &compiler.ops {
        if let OpKind::Fork { name, .. } = &op.kind {
            process_names.push(name);
        }
    }
    let known = |name: &str, span: Span| -> Result<Arc<str>, Diagnostic> {
        if process_names.contains(&name) {
            return Ok(Arc::from(name));
        }
        let mut diagnostic = Diagnostic::new(span, format!("no process is called `{name}`"));
        if let Some(close) = crate::lang::names::closest(name, process_names.iter().copied()) {
            diagnostic = diagnostic.with_help(format!("did you mean `{close}`?"));
        }
        Err(diagnostic)
    };
    let mut outcomes = Vec::new();
    for declared in &scenario.outcomes {
        let mut conditions = Vec::new();
        for condition in &declared.conditions {
            let compiled = match &condition.value {
                Condition::RunEnds(end) => OutcomeCondition::RunEnds(*end),
                Condition::Process { name, end } => {
                    OutcomeCondition::Process { name: known(name, condition.span)?, end: end.clone() }
                }
                Condition::Compare { name, variable, op, value } => {
                    let name = known(name, condition.span)?;
                    let Some(slot) = compiler.slots.get(variable.as_str()).copied() else {
                        return Err(Diagnostic::new(
                            condition.span,
                            format!("no code of the scenario names a variable `{variable}`"),
                        ));
                    };
                    OutcomeCondition::Compare {
                        name,
                        variable: Arc::from(variable.as_str()),
                        slot,
                        op: *op,
                        value: *value,
                    }
                }
                Condition::Left { kind, op, value } => OutcomeCondition::Left { kind: *kind, op: *op, value: *value },
                Condition::Copied { mechanism, toward, op, value } => {
                    OutcomeCondition::Copied { mechanism: *mechanism, toward: *toward, op: *op, value: *value }
                }
                Condition::Calls { name, op, value } => {
                    OutcomeCondition::Calls { name: known(name, condition.span)?, op: *op, value: *value }
                }
            };
            conditions.push((condition.span, compiled));
        }
        outcomes.push(DeclaredOutcome {
            quantifier: declared.quantifier,
            label: declared.label.clone(),
            span: declared.span,
            conditions,
        });
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(text: &str) -> Program {
        Program::compile(&crate::parse(text).expect("parses")).expect("compiles")
    }

    #[test]
    fn a_read_s_bytes_are_summed_up_as_a_c_loop_would() {
        let of = |bytes: &[u8]| {
            let got = ReadBytes::of(bytes);
            (got.first, got.last, got.runs)
        };
        assert_eq!(of(b""), (-1, -1, 0));
        assert_eq!(of(b"A"), (65, 65, 1));
        assert_eq!(of(b"AAAA"), (65, 65, 1));
        assert_eq!(of(b"AABBA"), (65, 65, 3));
        assert_eq!(of(b"ABAB"), (65, 66, 4));
        assert_eq!(of(&[0xff, 0]), (255, 0, 2));
    }

    #[test]
    fn a_nul_byte_starts_an_abstract_socket_name_and_goes_nowhere_else() {
        let first_error = |text: &str| {
            let errors = crate::parse(text).expect_err("refused");
            (errors[0].span.line, errors[0].span.col, errors[0].message.clone())
        };
        let program = compile("process main {\n  s = socket SOCK_DGRAM\n  bind s \"\\0echo\"\n}\n");
        assert_eq!(program.paths.iter().map(|path| &**path).collect::<Vec<_>>(), ["\0echo"]);
        let (line, col, message) = first_error("process main {\n  s = socket SOCK_DGRAM\n  bind s \"a\\0b\"\n}\n");
        assert_eq!((line, col), (3, 10));
        assert!(message.contains("may only come first in a socket's address"), "{message}");
        let (_, _, message) = first_error("process main {\n  s = socket SOCK_DGRAM\n  connect s \"\\0a\\0\"\n}\n");
        assert!(message.contains("one NUL byte, the first"), "{message}");
        let program = compile("process main {\n  s = socket SOCK_DGRAM\n  connect s AF_UNSPEC\n}\n");
        assert_eq!(program.paths.iter().map(|path| &**path).collect::<Vec<_>>(), [""], "AF_UNSPEC");
        let (line, _, message) = first_error("process main {\n  s = socket SOCK_DGRAM\n  bind s AF_UNSPEC\n}\n");
        assert_eq!(line, 3);
        assert!(message.contains("path"), "only connect takes AF_UNSPEC: {message}");
        let (line, _, message) = first_error("process main {\n  mkfifo \"\\0f\"\n}\n");
        assert_eq!(line, 2);
        assert!(message.contains("a path cannot contain a NUL byte"), "{message}");
    }

    #[test]
    fn names_become_slots_shared_by_every_process() {
        let program =
            compile("process a {\n p = pipe\n fork c {\n  close p.w\n }\n}\nprocess b {\n kill a SIGTERM\n}\n");
        let names: Vec<&str> = program.slots.iter().map(|name| &**name).collect();
        assert_eq!(names, ["errno", "a", "b", "p.r", "p.w", "c"]);
        assert_eq!(program.slot_kinds[3], SlotKind::Descriptor);
        assert_eq!(program.processes.len(), 2);
    }

    #[test]
    fn a_fork_block_is_a_range_the_parent_skips() {
        let program = compile("process a {\n fork c {\n  sched_yield\n  sched_yield\n }\n pause\n}\n");
        let OpKind::Fork { body_end, .. } = &program.ops[0].kind else { panic!("first op is the fork") };
        assert_eq!(*body_end, 3);
        assert_eq!(program.call(3).map(|call| call.id), Some(CallId::Pause));
        assert_eq!((program.processes[0].start, program.processes[0].end), (0, 4));
    }

    #[test]
    fn repeat_counts_down_in_a_hidden_slot_and_empty_loops_vanish() {
        let program = compile("process a {\n repeat 3 {\n  sched_yield\n }\n repeat 5 {\n }\n exit 0\n}\n");
        assert_eq!(program.ops.len(), 4);
        let OpKind::Assign { slot, value: Value::Const(3) } = program.ops[0].kind else { panic!("counter set") };
        assert_eq!(program.slot_kinds[slot as usize], SlotKind::Counter);
        assert_eq!(program.ops[2].kind, OpKind::RepeatNext { counter: slot, body: 1 });
        assert_eq!(program.call(3).map(|call| call.id), Some(CallId::Exit));
    }

    #[test]
    fn if_else_and_while_become_jumps_and_break_leaves_the_loop() {
        let program = compile(
            "process a {\n n = 3\n while n > 0 {\n  if n == 2 {\n   break\n  } else {\n   sched_yield\n  }\n  n = n - 1\n }\n}\n",
        );
        let kinds: Vec<&OpKind> = program.ops.iter().map(|op| &op.kind).collect();
        // 0 n = 3; 1 while; 2 if; 3 break; 4 jump over else; 5 sched_yield; 6 n = n - 1; 7 jump back; (8 end)
        assert!(matches!(kinds[1], OpKind::JumpUnless { target: 8, .. }));
        assert!(matches!(kinds[2], OpKind::JumpUnless { target: 5, .. }));
        assert_eq!(kinds[3], &OpKind::Jump { target: 8 });
        assert_eq!(kinds[4], &OpKind::Jump { target: 6 });
        assert_eq!(kinds[7], &OpKind::Jump { target: 1 });
    }

    #[test]
    fn constants_fold_and_operands_remember_how_to_print() {
        let program = compile("process a {\n p = pipe\n read p.r (4 * 1024)\n kill self SIGTERM\n}\n");
        let read = program.call(1).expect("read");
        assert_eq!(read.operands[0], Operand::Value { value: Value::Slot(2), shown: Shown::Named(Arc::from("p.r")) });
        assert_eq!(read.operands[1], Operand::Value { value: Value::Const(4096), shown: Shown::Number });
        let kill = program.call(2).expect("kill");
        assert_eq!(kill.operands[1], Operand::Value { value: Value::Const(15), shown: Shown::Constant });
    }
    #[test]
    fn declared_outcomes_parse_print_back_and_name_real_processes_and_variables() {
        let text = "process main {\n  n = 1\n  fork child {\n    exit 3\n  }\n}\n\noutcome never \"a bad end\" {\n  deadlock\n  child killed SIGKILL no core\n  main.n >= -2\n}\n\noutcome sometimes {\n  all-exited\n  child exited 3\n}\n";
        let scenario = crate::parse(text).expect("parses");
        assert_eq!(crate::print(&scenario), text, "the canonical form is the text");
        let program = Program::compile(&scenario).expect("compiles");
        assert_eq!(program.outcomes.len(), 2);
        assert_eq!(program.outcomes[0].title(), "never \"a bad end\"");
        assert_eq!(program.outcomes[1].title(), "sometimes { all-exited; child exited 3 }");
        let OutcomeCondition::Compare { slot, op, value, .. } = &program.outcomes[0].conditions[2].1 else {
            panic!("a comparison")
        };
        assert_eq!((&*program.slots[*slot as usize], *op, *value), ("n", Compare::Ge, -2));
        // Names that do not exist are located errors, with the nearest name offered.
        let wrong = |condition: &str| {
            let text = format!("process main {{\n  n = 1\n}}\noutcome always {{\n  {condition}\n}}\n");
            Program::compile(&crate::parse(&text).expect("parses")).expect_err("refused")
        };
        let error = wrong("mian exited 0");
        assert_eq!((error.span.line, error.message.as_str()), (5, "no process is called `mian`"));
        assert_eq!(error.help.as_deref(), Some("did you mean `main`?"));
        assert!(wrong("main.m == 1").message.contains("variable `m`"));
        // And the syntax: a quantifier, a condition per line, at least one.
        for bad in ["outcome often {\n  deadlock\n}\n", "outcome always {\n}\n", "outcome never {\n  main.n 3\n}\n"] {
            assert!(crate::parse(&format!("process main {{\n  n = 1\n}}\n{bad}")).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_run_says_which_declared_outcomes_happened_and_fails_a_broken_always_or_never() {
        let text = "process main {\n  n = 7\n  fork child {\n    exit 3\n  }\n  wait\n}\n\noutcome always {\n  main.n == 7\n}\n\noutcome never \"child fails\" {\n  child exited 3\n}\n\noutcome sometimes {\n  deadlock\n}\n";
        let mut simulation = crate::Simulation::new(&crate::parse(text).unwrap(), crate::RunConfig::default()).unwrap();
        simulation.run().unwrap();
        assert_eq!(simulation.declared_outcomes(), [true, true, false]);
        // The `never` happened: one failure, of the run, at the `outcome` keyword; the others none.
        let failures = simulation.failures();
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert_eq!((failures[0].span.line, failures[0].process.as_str()), (13, "the run"));
        assert_eq!(failures[0].expected, "outcome never \"child fails\"");
        assert_eq!(failures[0].got, "it happened: child exited 3");
    }
}
