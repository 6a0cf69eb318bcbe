//! The parsed form of a scenario (`.ipc` file).
//!
//! The parser (`parse.rs`) builds these types, the canonical printer (`print.rs`) turns them back into
//! text, and the compiler (`program.rs`) flattens them into the instruction list the kernel runs.
//! Every node that can fail at run time carries a [`Span`], so that an expectation that does not hold
//! can say `file:line:col`. Spans are ignored when two scenarios are compared for equality, because the
//! printer is allowed to move things around (that is what makes it canonical).

use serde::{Deserialize, Serialize};

/// A place in the scenario text: 1-based line and column (in characters), and the byte offsets.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Span {
    pub line: u32,
    pub col: u32,
    pub start_byte: u32,
    pub end_byte: u32,
}

impl PartialEq for Span {
    /// Spans never make two syntax trees different: see the module documentation.
    fn eq(&self, _other: &Span) -> bool {
        true
    }
}
impl Eq for Span {}

/// A whole scenario: title, description, processes and the expected way the run ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    pub title: Option<String>,
    pub description: Option<String>,
    /// Top-level processes, in the order they were written. Each is a child of `init` (pid 1).
    pub processes: Vec<ProcessDecl>,
    /// `expect deadlock` and friends, at top level. `None` means "every process exits".
    pub expected_end: Option<Located<RunEnd>>,
}

/// A value together with where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Located<T> {
    pub value: T,
    pub span: Span,
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
    /// `killed SIGNAL [core]`: the process was terminated by a signal.
    Killed { signal: Signal, core: bool },
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
    /// A system call, optionally followed by `-> RESULT`.
    Call(CallStmt),
    /// `fork NAME [expect OUTCOME] { ... }`: create a child that runs the block, then exits 0 at its end.
    /// In the parent, `NAME` holds the child's pid afterwards.
    Fork(ForkStmt),
    /// `repeat N { ... }`
    Repeat(RepeatStmt),
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
pub struct CallStmt {
    pub call: Call,
    /// Where the call's keyword starts.
    pub span: Span,
    pub expect: Option<Located<Expect>>,
}

/// A descriptor operand: a name (`p.r`, `w`, `stdout`) or a literal number (`1`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FdRef {
    /// A descriptor variable. Pipe ends are written `p.r` / `p.w` and are stored with the dot.
    /// `stdin`, `stdout` and `stderr` are names bound to 0, 1 and 2 in every process.
    Name(String),
    Number(i32),
}

/// A process operand: a process name (from `process` or `fork`), or `self`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProcRef {
    Name(String),
    SelfProc,
    /// `-1` in `waitpid -1`: any child.
    AnyChild,
}

/// Bytes to write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    /// `"hello\n"`: the exact bytes (the string's escapes already decoded).
    Bytes(Vec<u8>),
    /// `N bytes [of "PATTERN"]`: N bytes made by repeating PATTERN (default `"x"`).
    Fill { len: u32, pattern: Vec<u8> },
}

/// Open flags for `open` and `pipe2`, and the status flags of `fcntl F_SETFL`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenFlags {
    pub access: Access,
    pub nonblock: bool,
    pub cloexec: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Access {
    #[default]
    ReadOnly,
    WriteOnly,
    ReadWrite,
}

/// `waitpid` options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitOptions {
    pub nohang: bool,
    pub untraced: bool,
    pub continued: bool,
}

/// `fcntl` commands the simulator knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FcntlCmd {
    GetPipeSize,
    SetPipeSize(u32),
    /// `F_GETFL`: returns the status flags (`O_ACCMODE` bits and `O_NONBLOCK`) as a number.
    GetFlags,
    /// `F_SETFL [O_NONBLOCK]`: sets or clears `O_NONBLOCK` (the only status flag modelled).
    SetFlags {
        nonblock: bool,
    },
}

/// A signal disposition that `signal SIG ...` can set (handlers come later).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Disposition {
    Default,
    Ignore,
}

/// A Linux signal by number (x86-64 numbering). Only numbers 1..=31 are valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Signal(pub u8);

/// A Linux errno by number (x86-64 numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Errno(pub u16);

/// A system call as written in the scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Call {
    /// `NAME = pipe` binds `NAME.r` and `NAME.w`.
    Pipe { name: String },
    /// `NAME = pipe2 FLAGS` (`O_NONBLOCK`, `O_CLOEXEC`).
    Pipe2 { name: String, flags: OpenFlags },
    /// `NAME = open "PATH" FLAGS`
    Open { name: String, path: String, flags: OpenFlags },
    /// `NAME = dup FD`
    Dup { name: String, fd: FdRef },
    /// `dup2 FD FD`
    Dup2 { old: FdRef, new: FdRef },
    /// `close FD`
    Close { fd: FdRef },
    /// `write FD PAYLOAD`
    Write { fd: FdRef, payload: Payload },
    /// `read FD COUNT`
    Read { fd: FdRef, count: u32 },
    /// `mkfifo "PATH"`
    Mkfifo { path: String },
    /// `unlink "PATH"`
    Unlink { path: String },
    /// `fcntl FD CMD [ARG]`
    Fcntl { fd: FdRef, cmd: FcntlCmd },
    /// `kill PROC SIGNAL`
    Kill { target: ProcRef, signal: Signal },
    /// `signal SIGNAL SIG_IGN|SIG_DFL`
    SignalDisposition { signal: Signal, disposition: Disposition },
    /// `wait`: `wait(&status)`, any child.
    Wait,
    /// `waitpid PROC|-1 [WNOHANG] [WUNTRACED] [WCONTINUED]`
    Waitpid { target: ProcRef, options: WaitOptions },
    /// `pause`: sleep until a signal arrives.
    Pause,
    /// `sched_yield`: do nothing for one step.
    SchedYield,
    /// `exit N`
    Exit { code: u8 },
}

/// What a call is expected to give back, written after `->`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expect {
    /// `-> 5`: the return value.
    Value(i64),
    /// `-> "hello"`: `read` returned exactly these bytes.
    Data(Vec<u8>),
    /// `-> 70000 bytes`: `read` returned this many bytes.
    ByteCount(u32),
    /// `-> EAGAIN`: the call failed with this errno.
    Error(Errno),
    /// `-> child exited 0` / `-> child killed SIGKILL [core]` / `-> child stopped SIGSTOP` / `-> child continued`:
    /// a `wait`/`waitpid` result.
    Child { name: String, status: ChildStatus },
    /// `-> none`: `waitpid ... WNOHANG` found no child to report (returned 0).
    NoChild,
}

/// The status part of a wait result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChildStatus {
    Exited(u8),
    Killed { signal: Signal, core: bool },
    Stopped(Signal),
    Continued,
}
