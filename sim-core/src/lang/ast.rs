//! The parsed form of a scenario (`.ipc` file).
//!
//! The parser builds these types, the canonical printer turns them back into text, and the compiler
//! flattens them into the operations the kernel runs. Every node that can fail at run time carries a
//! [`Span`], so that an expectation that does not hold can say `file:line:col`. Spans take part in
//! equality like any other field; tests that compare a tree with its reprinted form compare them
//! without their spans.

use super::syscalls::CallId;
pub use crate::linux::{ChildStatus, Errno, Signal};
use serde::{Deserialize, Serialize};

/// A place in the scenario text: 1-based line and column (in characters), and the byte offsets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    pub line: u32,
    pub col: u32,
    pub start_byte: u32,
    pub end_byte: u32,
}

impl Span {
    /// The start of the file, for messages about the scenario as a whole.
    pub const START: Span = Span { line: 1, col: 1, start_byte: 0, end_byte: 0 };
}

/// A whole scenario: title, description, how the run should end, a pinned schedule, and processes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    pub title: Option<String>,
    pub description: Option<String>,
    /// `expect deadlock` and friends, at top level. `None` means "every process exits".
    pub expected_end: Option<Located<RunEnd>>,
    /// `schedule a b b*3 ...`: the interleaving this scenario pins on purpose (a probe), which the run
    /// follows by default before going on round-robin.
    pub schedule: Option<Located<Vec<ScheduleEntry>>>,
    /// Top-level processes, in the order they were written. Each is a child of `init` (pid 1).
    pub processes: Vec<ProcessDecl>,
    /// Signal handlers (`handler NAME { ... }`), which `sigaction` and `signal` install by name. A
    /// handler runs in the process that takes the signal, with that process's variables.
    #[serde(default)]
    pub handlers: Vec<HandlerDecl>,
    /// Declared outcomes (`outcome always|sometimes|never ["LABEL"] { CONDITION ... }`): conditions on
    /// how a run ends, with how often they may hold. `ipclab sim` checks them on its run,
    /// `ipclab explore` over every schedule.
    #[serde(default)]
    pub outcomes: Vec<OutcomeDecl>,
}

/// `outcome always|sometimes|never ["LABEL"] { ... }`: the run ends so on every schedule, on at least
/// one, or on none. The conditions, one per line, must all hold for the run to end so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeDecl {
    pub quantifier: Quantifier,
    pub label: Option<String>,
    /// The `outcome` keyword's place (where a failed `always` or `never` is reported).
    pub span: Span,
    pub conditions: Vec<Located<Condition>>,
}

/// How often a declared outcome may happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Quantifier {
    Always,
    Sometimes,
    Never,
}

impl Quantifier {
    pub fn word(self) -> &'static str {
        match self {
            Quantifier::Always => "always",
            Quantifier::Sometimes => "sometimes",
            Quantifier::Never => "never",
        }
    }
}

/// One line of an `outcome` block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Condition {
    /// `all-exited`, `deadlock` or `step-limit`: how the run ended.
    RunEnds(RunEnd),
    /// `NAME exited N`, `NAME killed SIGNAL`, `NAME running`: how every process of that name ended.
    Process { name: String, end: ProcessOutcome },
    /// `NAME.VARIABLE OP N`: a variable of every process of that name, when the run ends, compared with
    /// a number (`==`, `!=`, `<`, `<=`, `>`, `>=`).
    Compare { name: String, variable: String, op: Compare, value: i64 },
    /// `left KIND OP N`: how many IPC objects of a kind are still in the system when the run ends
    /// (what `ipcs`, `/dev/mqueue` and `/dev/shm` would list), compared with a number.
    Left { kind: Leftover, op: Compare, value: i64 },
    /// `copied MECHANISM DIRECTION OP N`: how many bytes the run copied between processes' memory and
    /// the kernel's objects of a mechanism, in one direction or both, compared with a number.
    Copied { mechanism: Copier, toward: Toward, op: Compare, value: i64 },
    /// `calls NAME OP N`: how many system calls every process of that name made (each that returned,
    /// and its `exit`; memory instructions and C library calls that stay in user space are none),
    /// compared with a number.
    Calls { name: String, op: Compare, value: i64 },
}

/// The mechanisms whose calls copy bytes between a process's memory and the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Copier {
    /// Pipes and FIFOs (`write`, `read`).
    Pipes,
    /// System V message queues (`msgsnd`, `msgrcv`).
    MsgQueues,
    /// POSIX message queues (`mq_send`, `mq_receive`).
    Mqueues,
    /// Sockets (`send`, `recv`, and `write`/`read` on a socket).
    Sockets,
    /// All of them.
    All,
}

impl Copier {
    /// Every mechanism that copies, without `All`: the rows of the counters.
    pub const EACH: [Copier; 4] = [Copier::Pipes, Copier::MsgQueues, Copier::Mqueues, Copier::Sockets];

    pub fn word(self) -> &'static str {
        match self {
            Copier::Pipes => "pipes",
            Copier::MsgQueues => "msg_queues",
            Copier::Mqueues => "mqueues",
            Copier::Sockets => "sockets",
            Copier::All => "all",
        }
    }

    pub fn from_word(word: &str) -> Option<Copier> {
        Copier::EACH.into_iter().chain([Copier::All]).find(|copier| copier.word() == word)
    }

    /// Its row in [`Copier::EACH`].
    pub fn index(self) -> usize {
        match self {
            Copier::Pipes => 0,
            Copier::MsgQueues => 1,
            Copier::Mqueues => 2,
            Copier::Sockets | Copier::All => 3,
        }
    }
}

/// Which way the bytes a `copied` condition counts went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Toward {
    /// From a process's memory into the kernel (a write, a send).
    Kernel,
    /// From the kernel into a process's memory (a read, a receive).
    User,
    /// Both ways.
    Both,
}

impl Toward {
    pub const ALL: [Toward; 3] = [Toward::Kernel, Toward::User, Toward::Both];

    pub fn word(self) -> &'static str {
        match self {
            Toward::Kernel => "to_kernel",
            Toward::User => "to_user",
            Toward::Both => "both_ways",
        }
    }

    pub fn from_word(word: &str) -> Option<Toward> {
        Toward::ALL.into_iter().find(|toward| toward.word() == word)
    }
}

/// A kind of IPC object that outlives the processes that made it, counted by a `left` condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Leftover {
    /// System V message queues.
    MsgQueues,
    /// System V semaphore sets.
    SemSets,
    /// System V shared memory segments.
    ShmSegments,
    /// POSIX message queues that still have a name.
    Mqueues,
    /// POSIX named semaphores that still have a name.
    NamedSems,
    /// POSIX shared memory objects that still have a name.
    ShmObjects,
    /// All of them.
    IpcObjects,
}

impl Leftover {
    pub const ALL: [Leftover; 7] = [
        Leftover::MsgQueues,
        Leftover::SemSets,
        Leftover::ShmSegments,
        Leftover::Mqueues,
        Leftover::NamedSems,
        Leftover::ShmObjects,
        Leftover::IpcObjects,
    ];

    pub fn word(self) -> &'static str {
        match self {
            Leftover::MsgQueues => "msg_queues",
            Leftover::SemSets => "sem_sets",
            Leftover::ShmSegments => "shm_segments",
            Leftover::Mqueues => "mqueues",
            Leftover::NamedSems => "named_sems",
            Leftover::IpcObjects => "ipc_objects",
            Leftover::ShmObjects => "shm_objects",
        }
    }

    pub fn from_word(word: &str) -> Option<Leftover> {
        Leftover::ALL.into_iter().find(|kind| kind.word() == word)
    }

    /// Whether an object of kind `object` counts for this kind.
    pub fn counts(self, object: Leftover) -> bool {
        self == Leftover::IpcObjects || self == object
    }
}

/// A comparison in an `outcome` condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compare {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Compare {
    pub fn symbol(self) -> &'static str {
        match self {
            Compare::Eq => "==",
            Compare::Ne => "!=",
            Compare::Lt => "<",
            Compare::Le => "<=",
            Compare::Gt => ">",
            Compare::Ge => ">=",
        }
    }

    pub fn holds(self, left: i64, right: i64) -> bool {
        match self {
            Compare::Eq => left == right,
            Compare::Ne => left != right,
            Compare::Lt => left < right,
            Compare::Le => left <= right,
            Compare::Gt => left > right,
            Compare::Ge => left >= right,
        }
    }
}

/// `handler NAME { ... }`: the body runs when a signal it is installed for is delivered, then the
/// process goes back to what it was doing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerDecl {
    pub name: String,
    pub name_span: Span,
    pub body: Vec<Stmt>,
}

/// A value together with where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Located<T> {
    pub value: T,
    pub span: Span,
}

/// One entry of a `schedule` line: who takes the next step(s).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleEntry {
    pub target: ScheduleTarget,
    /// `name*3`: this many steps in a row.
    pub times: u32,
    /// Where the entry is written (`name*3` whole).
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScheduleTarget {
    /// The runnable process with this name (a fork's name stands for its only runnable child).
    Name(String),
    Pid(u32),
}

/// `process NAME [expect OUTCOME] { ... }`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessDecl {
    pub name: String,
    pub name_span: Span,
    pub expect: Option<Located<ProcessOutcome>>,
    pub body: Vec<Stmt>,
}

/// How a process is expected to end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProcessOutcome {
    /// `exited N`: the process called `exit(N)` (or fell off the end of its block: `exited 0`).
    Exited(u8),
    /// `killed SIGNAL [core | no core]`: the process was terminated by a signal (`core`: and dumped
    /// core; `no_core`: and wrote none; neither said: either).
    Killed { signal: Signal, core: bool, no_core: bool },
    /// `running`: the process is still alive (blocked or stopped) when the run ends.
    Running,
}

/// How the whole run is expected to end: `expect all-exited | deadlock | step-limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunEnd {
    AllExited,
    Deadlock,
    StepLimit,
}

/// One line (or block) inside a process body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stmt {
    /// A system call, optionally binding its result and followed by `retry ...` and `-> RESULT`.
    Call(CallStmt),
    /// `NAME = EXPR`: a computation in the process's own memory (no system call, no step).
    Assign(AssignStmt),
    /// `fork NAME [expect OUTCOME] { ... }`: create a child that runs the block, then exits 0 at its end.
    /// In the parent, `NAME` holds the child's pid afterwards; in the child, 0.
    Fork(ForkStmt),
    /// `repeat N { ... }`
    Repeat(RepeatStmt),
    /// `if COND { ... } [else { ... }]`
    If(IfStmt),
    /// `while COND { ... }`
    While(WhileStmt),
    /// `break`: leave the innermost `while` or `repeat`.
    Break(Span),
    /// `continue`: go on with the next round of the innermost `while` or `repeat`.
    Continue(Span),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallStmt {
    /// `NAME =` before the call.
    pub bind: Option<Located<String>>,
    pub call: CallId,
    /// One per operand the scenario wrote (optional operands may be left out).
    pub args: Vec<Arg>,
    /// `retry EAGAIN|EINTR`: make the call again, as a new step, while it fails with one of these.
    pub retry: Vec<Errno>,
    /// Where the call's keyword (or its `NAME =`) starts.
    pub span: Span,
    pub expect: Option<Located<Expect>>,
}

/// One operand of a call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arg {
    Expr(Expr),
    Payload(Payload),
    /// A path, or the name of a POSIX message queue or named semaphore.
    Path(Located<String>),
    /// `{NUM, OP[, FLAGS]} [* N]`: one `struct sembuf` of a `semop`, given N times.
    Sembuf(SembufArg),
    /// `{V, V, ...}`: a small array of values (`semctl`'s `SETALL`, `mq_open`'s attributes).
    List(Located<Vec<Expr>>),
    /// `{FD, ...} [* N]`: the descriptors of an `SCM_RIGHTS` control message (`sendmsg`).
    Rights(RightsArg),
}

/// `{FD, ...} [* N]`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsArg {
    pub fds: Vec<Expr>,
    /// How many times the list is given (`* N`; 1 when not written).
    pub times: u32,
    pub span: Span,
}

/// `{NUM, OP[, FLAGS]} [* N]`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SembufArg {
    pub num: Expr,
    pub op: Expr,
    pub flags: Option<Expr>,
    /// How many times the operation is given (`* N`; 1 when not written).
    pub times: u32,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignStmt {
    pub name: String,
    pub name_span: Span,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkStmt {
    pub name: String,
    pub span: Span,
    /// `expect OUTCOME` on the fork line: how the child is expected to end.
    pub expect: Option<Located<ProcessOutcome>>,
    pub body: Vec<Stmt>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatStmt {
    pub count: u32,
    pub span: Span,
    pub body: Vec<Stmt>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IfStmt {
    pub condition: Expr,
    pub span: Span,
    pub then_body: Vec<Stmt>,
    /// The `else` block; an `else if` is an `else` block holding just that `if`.
    pub else_body: Vec<Stmt>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhileStmt {
    pub condition: Expr,
    pub span: Span,
    pub body: Vec<Stmt>,
}

/// An integer expression: 64-bit, two's complement, wrapping as the machine does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExprKind {
    Int(i64),
    /// A variable (`n`, `p.r`, a process name, `errno`) or a Linux constant (`O_NONBLOCK`, `EAGAIN`).
    Name(String),
    /// `self`: the pid of the process evaluating it.
    SelfPid,
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `!x`: 1 if x is 0, else 0.
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinaryOp {
    Or,
    And,
    BitOr,
    BitAnd,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitAnd => "&",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    /// Binding strength, as in C: `||` binds loosest, `*` tightest.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            // Unlike C, the bitwise operators bind tighter than comparisons: `flags & O_NONBLOCK == 0`
            // means what it reads as.
            BinaryOp::Eq | BinaryOp::Ne => 3,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => 4,
            BinaryOp::BitOr => 5,
            BinaryOp::BitAnd => 6,
            BinaryOp::Add | BinaryOp::Sub => 7,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 8,
        }
    }
}

/// Bytes to write.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Payload {
    /// `"hello\n"`: the exact bytes (the string's escapes already decoded).
    Bytes(Vec<u8>),
    /// `N bytes [of "PATTERN"]`: N bytes made by repeating PATTERN (default `"x"`), never built whole.
    Fill { len: u32, pattern: Vec<u8> },
}

impl Payload {
    pub fn len(&self) -> u32 {
        match self {
            Payload::Bytes(bytes) => bytes.len() as u32,
            Payload::Fill { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The byte at `offset` (which must be below the length).
    fn byte_at(pattern: &[u8], offset: usize) -> u8 {
        pattern[offset % pattern.len()]
    }

    fn pattern(&self) -> &[u8] {
        match self {
            Payload::Bytes(bytes) => bytes,
            Payload::Fill { pattern, .. } if pattern.is_empty() => b"x",
            Payload::Fill { pattern, .. } => pattern,
        }
    }

    /// Appends the bytes `offset..offset + count` to `out`: only as much as a copy needs is ever made.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn copy_to(&self, offset: u32, count: u32, out: &mut Vec<u8>) {
        match self {
            Payload::Bytes(bytes) => out.extend_from_slice(&bytes[offset as usize..(offset + count) as usize]),
            Payload::Fill { .. } => self.fill_to(offset, count, out),
        }
    }

    /// Writes the bytes `offset..offset + out.len()` into `out`.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn copy_into(&self, offset: u32, out: &mut [u8]) {
        match self {
            Payload::Bytes(bytes) => {
                crate::bytes::copy_bytes(out, &bytes[offset as usize..offset as usize + out.len()])
            }
            Payload::Fill { .. } => self.fill_into(offset, out),
        }
    }

    #[inline(never)]
    fn fill_into(&self, offset: u32, out: &mut [u8]) {
        let pattern = self.pattern();
        if pattern.len() == 1 {
            out.fill(pattern[0]);
        } else {
            for (index, byte) in out.iter_mut().enumerate() {
                *byte = Self::byte_at(pattern, offset as usize + index);
            }
        }
    }

    #[inline(never)]
    fn fill_to(&self, offset: u32, count: u32, out: &mut Vec<u8>) {
        let pattern = self.pattern();
        if pattern.len() == 1 {
            out.resize(out.len() + count as usize, pattern[0]);
        } else {
            out.extend((offset as usize..(offset + count) as usize).map(|at| Self::byte_at(pattern, at)));
        }
    }

    /// The bytes, whole (for tests and small payloads).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() as usize);
        self.copy_to(0, self.len(), &mut out);
        out
    }

    /// Runs of equal bytes from the start, as `(byte, count)`, stopping after `max_runs` runs (the last
    /// one is then cut). The work is bounded by `max_runs` passes over the pattern, whatever the length.
    pub fn runs(&self, max_runs: usize) -> Vec<(u8, u64)> {
        let pattern = self.pattern();
        let total = self.len() as u64;
        let mut runs: Vec<(u8, u64)> = Vec::new();
        if pattern.iter().all(|byte| *byte == pattern[0]) && total > 0 {
            return vec![(pattern[0], total)];
        }
        let mut offset = 0u64;
        while offset < total && runs.len() <= max_runs {
            let byte = Self::byte_at(pattern, offset as usize);
            match runs.last_mut() {
                Some((last, count)) if *last == byte => *count += 1,
                _ => runs.push((byte, 1)),
            }
            offset += 1;
        }
        runs.truncate(max_runs + 1);
        runs
    }
}

/// What a call is expected to give back, written after `->`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expect {
    /// `-> 5`: the return value.
    Value(i64),
    /// `-> ok`: the call succeeded, whatever it returned.
    Ok,
    /// `-> "hello"`: `read` returned exactly these bytes.
    Data(Vec<u8>),
    /// `-> 70000 bytes`: `read` returned this many bytes.
    ByteCount(u32),
    /// `-> EAGAIN`: the call failed with this errno.
    Error(Errno),
    /// `-> child exited 0` / `-> child killed SIGKILL [core]` / `-> child stopped SIGSTOP` /
    /// `-> child continued`: a `wait`/`waitpid`/`waitid` result.
    /// (`no_core`: `killed SIGNAL no core`, the wait status must not have the core flag.)
    Child { name: String, status: ChildStatus, no_core: bool },
    /// `-> none`: `waitpid ... WNOHANG` (or `waitid`) found no child to report.
    NoChild,
    /// `-> {1, 0, 3}`: `semctl ... GETALL` stored exactly these values.
    Values(Vec<i64>),
    /// `-> 5 | EAGAIN`: any one of these.
    AnyOf(Vec<Expect>),
}
