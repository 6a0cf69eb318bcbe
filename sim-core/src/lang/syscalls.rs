//! THE table of system calls: one row per call a scenario can make.
//!
//! Everything that needs to know the calls reads this table: the parser (which words start a call, what
//! operands follow and how they are checked), the printer, the compiler, the trace (how a call is
//! written in C), the property-test generators, the tidy test that every call is used by a library
//! scenario, the conformance runner's protocol (a call travels as its [`CallId`] and a list of
//! operands), and the language reference in `docs/scenario-language.md`, whose call table is generated
//! from here and checked by a test. Adding a call starts with a row here; ARCHITECTURE.md says the rest.

use crate::linux::Family;
use serde::{Deserialize, Serialize};

/// Which part of the kernel performs a call (one module of `kernel/` each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Mechanism {
    /// Descriptor-table calls that work on any open file (`close`, `dup`, `read`, `write`, `fcntl`, ...),
    /// handing the object-specific part to the object's own module.
    Fd,
    Pipe,
    Fifo,
    Process,
    Signal,
    Sched,
    /// System V message queues (`msgget`, `msgsnd`, `msgrcv`, `msgctl`).
    Msg,
    /// System V semaphore sets (`semget`, `semop`, `semctl`).
    Sem,
    /// POSIX message queues (`mq_open`, `mq_send`, ...), reached through descriptors.
    Mqueue,
    /// POSIX semaphores: named ones (`sem_open`, ...) reached through handles, unnamed ones
    /// (`sem_init`) by their address in memory; `sem_wait`, `sem_post`, ... take either.
    NamedSem,
    Time,
    /// System V shared memory segments (`shmget`, `shmat`, `shmdt`, `shmctl`).
    Shm,
    /// Memory mappings (`mmap`, `munmap`, `mprotect`).
    Mm,
    /// Loads, stores and atomic operations on mapped memory: user-space instructions, not system calls,
    /// though each takes a step of its own so that the scheduler can interleave them.
    Memory,
    /// Unix-domain sockets (`socketpair`, `send`, `recv`, `shutdown`), reached through descriptors.
    Socket,
    /// POSIX shared memory objects (`shm_open`, `shm_unlink`) and `ftruncate`, reached through
    /// descriptors and mapped by `mmap`.
    PosixShm,
    /// Waiting for any of several descriptors to become ready (`poll`, `select`, `epoll`).
    Poll,
}

impl Mechanism {
    /// The System V and POSIX IPC objects and shared memory: what the playground's first module leaves
    /// out (`crate::IPC`). Of them, the queues and semaphores are those whose sleepers stay on the
    /// object's queue after a signal or a timer woke them, until they run (memory never sleeps).
    pub fn is_ipc(self) -> bool {
        matches!(
            self,
            Mechanism::Msg
                | Mechanism::Sem
                | Mechanism::Mqueue
                | Mechanism::NamedSem
                | Mechanism::Shm
                | Mechanism::Mm
                | Mechanism::Memory
                | Mechanism::Socket
                | Mechanism::PosixShm
                | Mechanism::Poll
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Fd => "descriptors",
            Mechanism::Pipe => "pipes",
            Mechanism::Fifo => "FIFOs",
            Mechanism::Process => "processes",
            Mechanism::Signal => "signals",
            Mechanism::Sched => "scheduling",
            Mechanism::Msg => "System V message queues",
            Mechanism::Sem => "System V semaphores",
            Mechanism::Mqueue => "POSIX message queues",
            Mechanism::NamedSem => "POSIX semaphores",
            Mechanism::Time => "time",
            Mechanism::Shm => "System V shared memory",
            Mechanism::Mm => "memory mappings",
            Mechanism::Memory => "memory instructions",
            Mechanism::Socket => "Unix-domain sockets",
            Mechanism::PosixShm => "POSIX shared memory",
            Mechanism::Poll => "multiplexing",
        }
    }

    /// Whether its rows are user-space instructions rather than system calls.
    pub fn is_instruction(self) -> bool {
        self == Mechanism::Memory
    }
}

/// A call by number: its index in [`CALLS`], and its number in traces and on the conformance wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(u16)]
pub enum CallId {
    Pipe,
    Pipe2,
    Open,
    Close,
    Dup,
    Dup2,
    Read,
    Write,
    Lseek,
    Pread,
    Pwrite,
    Ioctl,
    Fcntl,
    Mkfifo,
    Unlink,
    Fork,
    Exit,
    Wait,
    Waitpid,
    Waitid,
    Getpid,
    Getppid,
    Getpgid,
    Setpgid,
    Kill,
    Signal,
    Pause,
    SchedYield,
    Msgget,
    Msgsnd,
    Msgrcv,
    Msgctl,
    Semget,
    Semop,
    Semctl,
    MqOpen,
    MqSend,
    MqReceive,
    MqGetattr,
    MqSetattr,
    MqNotify,
    MqClose,
    MqUnlink,
    SemOpen,
    SemWait,
    SemTrywait,
    SemPost,
    SemGetvalue,
    SemClose,
    SemUnlink,
    Sigaction,
    Sigprocmask,
    Sigpending,
    Sigsuspend,
    Sigwaitinfo,
    Sigqueue,
    Raise,
    Killpg,
    Sleep,
    Nanosleep,
    Alarm,
    Sigtimedwait,
    Setrlimit,
    Getrlimit,
    Semtimedop,
    MqTimedsend,
    MqTimedreceive,
    SemTimedwait,
    Shmget,
    Shmat,
    Shmdt,
    Shmctl,
    Mmap,
    Munmap,
    Mprotect,
    Load,
    Store,
    FetchAdd,
    CompareExchange,
    Socketpair,
    Send,
    Recv,
    Shutdown,
    Socket,
    Bind,
    Listen,
    Accept,
    Connect,
    Getsockopt,
    Setsockopt,
    Sendto,
    Recvfrom,
    StoreBytes,
    LoadBytes,
    Futex,
    ShmOpen,
    Ftruncate,
    ShmUnlink,
    SemInit,
    SemDestroy,
    Sendmsg,
    Recvmsg,
    Poll,
    Select,
    EpollCreate1,
    EpollCtl,
    EpollWait,
}

/// What one operand of a call is, which decides how it is parsed, checked and printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperandKind {
    /// A descriptor: an integer expression, usually a name bound by `pipe`, `open` or `dup`.
    Fd,
    /// A process: an integer expression, usually a process name or `self`; `-1` and `0` and negative
    /// process-group ids where the call gives them a meaning.
    Pid,
    /// Any integer expression.
    Int,
    /// A byte count (at most `max_io_bytes`).
    Count,
    /// A signal number (`SIGTERM`); `0` where the call allows it (`kill`'s existence check).
    Signal,
    /// Flags of one family joined by `|`, or `0`.
    Flags(Family),
    /// Exactly one constant of a family (an `fcntl` command, `SIG_IGN`).
    OneOf(Family),
    /// A signal set (`sigset_t`): signal names joined by `|` stand for their bits (`SIGINT|SIGUSR1`),
    /// a number or a variable for a whole mask (`old`, as `sigprocmask` stored it), `0` for none.
    SignalSet,
    /// What a signal should do: `SIG_DFL`, `SIG_IGN`, or the name of a `handler` block.
    Action,
    /// Bytes to write: `"text"` or `N bytes [of "PATTERN"]`.
    Payload,
    /// A path in double quotes.
    Path,
    /// A System V id (`msgget`'s, `semget`'s result) or a named semaphore's handle (`sem_open`'s):
    /// any integer expression, usually a name bound by the call that made it.
    Id,
    /// One `struct sembuf` of a `semop`: `{NUM, OP[, FLAGS]}`, optionally repeated: `{0, -1, 0} * 3`.
    Sembuf,
    /// `semctl`'s fourth argument: a value (`SETVAL`), a field of `struct semid_ds` (`IPC_STAT`,
    /// `IPC_SET`), or an array of up to four values (`SETALL`: `{1, 0, 3}`).
    SemArg,
    /// `mq_open`'s attributes: `{MAXMSG, MSGSIZE}` (left out: the defaults, as a NULL pointer gives).
    MqAttr,
    /// The name of a POSIX message queue or named semaphore, in double quotes (`"/jobs"`).
    Name,
    /// The descriptors an `SCM_RIGHTS` control message carries: `{FD, ...}` (up to five), optionally
    /// repeated: `{f} * 254`. Packed into one number ([`crate::linux::socket::pack_rights`]); 0 when
    /// left out, for no control message at all.
    Rights,
    /// One `struct pollfd` of a `poll`: `{FD, EVENTS}`, packed into one number
    /// ([`crate::linux::poll::pack_pollfd`]); 0 when left out.
    PollFd,
    /// One descriptor set of a `select`: `{FD, ...}` (none to five; `{}` is the empty set, C's `NULL`),
    /// packed into one number ([`crate::linux::poll::pack_fdset`]); 0 when left out.
    FdSet,
}

/// One operand: the word the reference uses for it, its kind, and its value when left out (optional
/// operands come last).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operand {
    pub word: &'static str,
    pub kind: OperandKind,
    pub default: Option<i64>,
    /// An optional operand added to a call after its first form: when left out it is not among the
    /// call's resolved operands at all (the kernel and the trace take its default), so that the
    /// statements written before it existed keep their events and trace hashes (`mmap`'s FD and OFFSET).
    pub dropped_when_left_out: bool,
    /// The C type the call declares for it, where the operand's kind does not say (see
    /// [`Operand::c_type`]).
    pub declared: Option<CType>,
}

/// The C type of an integer operand: the kernel (or the C library function the scenario's C text
/// calls) sees only what fits in it, as a C caller's conversion leaves it (`__SC_CAST` in
/// `include/linux/syscalls.h` casts each register to the declared type at the call's entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CType {
    /// 64 bits: a `long`, a `size_t`, an `off_t`, a pointer, or what the simulator takes as given.
    Long,
    /// An `int` (also `pid_t`, `key_t`): the low 32 bits, signed.
    Int,
    /// An `unsigned int` (also `u32`): the low 32 bits, unsigned.
    UInt,
}

impl Operand {
    /// The C type of the operand: descriptors, pids and signals are `int` in every call that takes them;
    /// flags and constants (`O_NONBLOCK`, `SEEK_SET`, `IPC_CREAT|0600`) are `int` unless the row declares
    /// otherwise (an `unsigned int` such as `lseek`'s WHENCE, a `long` such as `mq_attr`'s `mq_flags`, or
    /// a field of a structure the call reads, which is no C argument at all); any other number is 64
    /// bits unless the row declares it `int` or `unsigned int`.
    pub const fn c_type(&self) -> CType {
        match (self.kind, self.declared) {
            (OperandKind::Fd | OperandKind::Pid | OperandKind::Signal, _) => CType::Int,
            (_, Some(declared)) => declared,
            (OperandKind::Flags(_) | OperandKind::OneOf(_), None) => CType::Int,
            (_, None) => CType::Long,
        }
    }

    /// The same operand, declared `int` in C.
    const fn int(self) -> Operand {
        Operand { declared: Some(CType::Int), ..self }
    }

    /// The same operand, declared `unsigned int` in C.
    const fn uint(self) -> Operand {
        Operand { declared: Some(CType::UInt), ..self }
    }

    /// The same operand, 64 bits wide (a `long`, an `unsigned long` the system call takes whole, or a
    /// selector of the scenario language that is no C argument).
    const fn long(self) -> Operand {
        Operand { declared: Some(CType::Long), ..self }
    }
}

const fn operand(word: &'static str, kind: OperandKind) -> Operand {
    Operand { word, kind, default: None, dropped_when_left_out: false, declared: None }
}

const fn optional(word: &'static str, kind: OperandKind, default: i64) -> Operand {
    Operand { word, kind, default: Some(default), dropped_when_left_out: false, declared: None }
}

/// An optional operand dropped from the resolved operands when left out (see
/// [`Operand::dropped_when_left_out`]).
const fn added_later(word: &'static str, kind: OperandKind, default: i64) -> Operand {
    Operand { word, kind, default: Some(default), dropped_when_left_out: true, declared: None }
}

/// What `NAME = CALL ...` binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    /// The return value, if the scenario names it (`n = read f 100`).
    Value,
    /// A new descriptor, if named (`f = open "/f" O_RDONLY`).
    Fd,
    /// Two descriptors, `NAME.r` and `NAME.w`; the name is required (`p = pipe`).
    PipeEnds,
    /// Two descriptors, `NAME.0` and `NAME.1`, the two ends of a connected socket pair; the name is
    /// required (`s = socketpair SOCK_STREAM`).
    SocketEnds,
    /// The value the call stores through its pointer argument (`n = ioctl p.r FIONREAD`).
    OutValue,
    /// The count of bytes received, and as `NAME.SUFFIX` the message's type (`msgrcv`: `m.mtype`) or
    /// priority (`mq_receive`: `m.prio`).
    Message(&'static str),
    /// The count of bytes read, and as `NAME.first`, `NAME.last` and `NAME.runs` what the bytes were: the
    /// first and the last byte (-1 when none came) and how many runs of equal bytes they make (`read`).
    Bytes,
    /// The count of bytes received, and as `NAME.fd` the first descriptor received (-1 for none),
    /// `NAME.fds` how many were received, `NAME.flags` the message's `msg_flags` (`recvmsg`).
    Rights,
    /// How many descriptors are ready, and as `NAME.0`, `NAME.1`, ... the `revents` of each entry
    /// written (`poll`).
    Polled,
    /// How many descriptors are ready, counted once per set, and as `NAME.read`, `NAME.write` and
    /// `NAME.except` which of each set's descriptors are: bit 0 for the first written, bit 1 for the
    /// second, ... (`select`: C's `FD_ISSET` after the call).
    Selected,
    /// How many events came, and as `NAME.fd0` to `NAME.fd4` and `NAME.events0` to `NAME.events4`
    /// each event's descriptor (the one its item was added with) and events (`epoll_wait`).
    Epolled,
    /// Nothing can be bound (`exit`).
    Nothing,
}

/// The names a [`Binding::Bytes`] adds after `NAME.`.
pub const BYTES_FIELDS: [&str; 3] = ["first", "last", "runs"];

/// The names a [`Binding::Rights`] adds after `NAME.`: the first descriptor received, how many
/// came, the message's flags, and the pid of its credentials.
pub const RIGHTS_FIELDS: [&str; 4] = ["fd", "fds", "flags", "pid"];

/// The names a [`Binding::Polled`] adds after `NAME.`: the `revents` of each entry, in order (as many
/// as the call lists).
pub const POLL_FIELDS: [&str; crate::linux::poll::MAX_POLL_FDS] = ["0", "1", "2", "3", "4"];

/// The names a [`Binding::Selected`] adds after `NAME.`: which descriptors of the read, write and
/// exception sets are ready, one bit per descriptor in the order the set lists them.
pub const SELECT_FIELDS: [&str; 3] = ["read", "write", "except"];

/// The names a [`Binding::Epolled`] adds after `NAME.`: each event's descriptor, then each event's events.
pub const EPOLL_FIELDS: [&str; 2 * crate::linux::epoll::MAX_EPOLL_EVENTS] =
    ["fd0", "fd1", "fd2", "fd3", "fd4", "events0", "events1", "events2", "events3", "events4"];

/// What a call gives back, which decides the results an expectation may name and how the trace shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultShape {
    /// 0 on success.
    Zero,
    /// A number (a count, a size, a flag word, a pid).
    Number,
    /// A new descriptor.
    Fd,
    /// Bytes read.
    Data,
    /// Two descriptors.
    Pair,
    /// A child's pid (and 0 in the child).
    Fork,
    /// A child's pid and how it changed (`wait`, `waitpid`).
    Child,
    /// 0, with the child and how it changed stored in a `siginfo_t` (`waitid`).
    ChildInfo,
    /// 0, with a number stored through a pointer (`ioctl FIONREAD`).
    Out,
    /// Bytes received with a tag: a System V message's type, a POSIX message's priority.
    Message,
    /// A number; `GETALL` stores an array of values instead (`semctl`).
    Values,
    /// 0, with a signal set stored through a pointer (`sigprocmask`'s old mask, `sigpending`).
    OutSignals,
    /// Never returns (`exit`).
    NoReturn,
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct CallSpec {
    pub id: CallId,
    /// The Linux name, which is also the scenario's keyword.
    pub name: &'static str,
    pub mechanism: Mechanism,
    pub operands: &'static [Operand],
    pub binding: Binding,
    pub result: ResultShape,
    /// Whether the call can put its process to sleep.
    pub may_block: bool,
    /// How the trace writes the call in C: `{N}` is operand N, `{N.len}` the length of a payload
    /// operand, and `[...]` is printed only when the operand inside it was written.
    pub c_text: &'static str,
    /// The manual page.
    pub man: &'static str,
    /// What the call does, in one sentence for the language reference (empty in a WebAssembly build:
    /// see [`reference_text`]).
    pub summary: &'static str,
}

/// A text of the language reference only: `cargo xtask docs` writes it into
/// `docs/scenario-language.md`, which the playground fetches when its reference panel opens, so the
/// playground's WebAssembly build leaves it out (the table is a constant, so the text not chosen is
/// never stored).
macro_rules! reference_text {
    ($text:literal) => {
        if cfg!(target_arch = "wasm32") {
            ""
        } else {
            $text
        }
    };
}

impl CallSpec {
    /// Whether this build runs the call: every call, but the IPC mechanisms' in a build without them.
    pub fn in_this_build(&self) -> bool {
        crate::IPC || !self.mechanism.is_ipc()
    }

    /// The operands a scenario must write.
    pub fn required_operands(&self) -> usize {
        self.operands.iter().filter(|operand| operand.default.is_none()).count()
    }

    /// How a statement is written: `[NAME =] read FD COUNT`.
    /// The C call a statement stands for, with the statement's operand words in place of its values
    /// (the trace's template, `c_text`, with `{N}` as operand N's word, `{N.len}` as its length, and
    /// `{ops}` as the count of `semop` operations; parts in `[...]` are there when the operand is given).
    pub fn c_form(&self) -> String {
        let mut text = String::new();
        let mut rest = self.c_text;
        while let Some(character) = rest.chars().next() {
            if rest.starts_with("{{") || rest.starts_with("}}") {
                text.push(character);
                rest = &rest[2..];
                continue;
            }
            if character == '{' {
                let end = rest.find('}').expect("a placeholder ends");
                let field = &rest[1..end];
                let (index, suffix) = field.split_once('.').unwrap_or((field, ""));
                match (index.parse::<usize>().ok().and_then(|index| self.operands.get(index)), suffix) {
                    (Some(operand), "") => text.push_str(operand.word),
                    // `select`'s milliseconds as the `struct timeval` C passes.
                    (Some(operand), "timeval") => {
                        let ms = operand.word;
                        text.push_str(&format!("&{{{ms} / 1000, {ms} % 1000 * 1000}}"));
                    }
                    (Some(operand), "len") => {
                        text.push_str("len(");
                        text.push_str(operand.word);
                        text.push(')');
                    }
                    _ if field == "nfds" => text.push_str("nfds"),
                    _ => text.push_str("nsops"),
                }
                rest = &rest[end + 1..];
                continue;
            }
            text.push(character);
            rest = &rest[character.len_utf8()..];
        }
        text
    }

    pub fn usage(&self) -> String {
        let mut text = match self.binding {
            Binding::PipeEnds | Binding::SocketEnds => "NAME = ".to_string(),
            Binding::Nothing => String::new(),
            Binding::Value
            | Binding::Fd
            | Binding::OutValue
            | Binding::Message(_)
            | Binding::Bytes
            | Binding::Rights
            | Binding::Polled
            | Binding::Selected
            | Binding::Epolled => "[NAME =] ".to_string(),
        };
        text.push_str(self.name);
        if self.id == CallId::Socket {
            // DOMAIN is written first (see the parser).
            text.push_str(" [DOMAIN] TYPE");
            return text;
        }
        if self.id == CallId::Fork {
            text.push_str(" NAME [expect OUTCOME] { ... }");
            return text;
        }
        for operand in self.operands {
            text.push(' ');
            if operand.default.is_some() {
                text.push('[');
                text.push_str(operand.word);
                text.push(']');
            } else {
                text.push_str(operand.word);
            }
        }
        text
    }
}

use Binding as B;
use OperandKind as K;
use ResultShape as R;

const FD: Operand = operand("FD", K::Fd);
const COUNT: Operand = operand("COUNT", K::Count);
const PAYLOAD: Operand = operand("PAYLOAD", K::Payload);
const PATH: Operand = operand("PATH", K::Path);
const PROC: Operand = operand("PROC", K::Pid);
const ID: Operand = operand("ID", K::Id);
const SEM: Operand = operand("SEM", K::Id);
const NAME: Operand = operand("NAME", K::Name);
const KEY: Operand = operand("KEY", K::OneOf(Family::IpcKey));
const IPC_FLAGS: Operand = operand("FLAGS", K::Flags(Family::IpcGetFlag));
const SOP: Operand = operand("OP", K::Sembuf);
const MORE_SOP: Operand = optional("OP", K::Sembuf, 0);
/// A timed call's timeout, in (simulated) nanoseconds from the call's start.
const TIMEOUT: Operand = operand("NS", K::Int);
const MODE: Operand = optional("MODE", K::OneOf(Family::Mode), 0o600).uint();

/// Every call, indexed by [`CallId`].
pub const CALLS: &[CallSpec] = &[
    CallSpec {
        id: CallId::Pipe,
        name: "pipe",
        mechanism: Mechanism::Pipe,
        operands: &[],
        binding: B::PipeEnds,
        result: R::Pair,
        may_block: false,
        c_text: "pipe()",
        man: "pipe(2)",
        summary: reference_text!("Creates a pipe; its read end is named `NAME.r` and its write end `NAME.w`."),
    },
    CallSpec {
        id: CallId::Pipe2,
        name: "pipe2",
        mechanism: Mechanism::Pipe,
        operands: &[operand("FLAGS", K::Flags(Family::PipeFlag))],
        binding: B::PipeEnds,
        result: R::Pair,
        may_block: false,
        c_text: "pipe2({0})",
        man: "pipe2(2)",
        summary: reference_text!("The same with flags: `O_NONBLOCK`, `O_CLOEXEC`, joined by `|`, or `0`."),
    },
    CallSpec {
        id: CallId::Open,
        name: "open",
        mechanism: Mechanism::Fifo,
        operands: &[PATH, operand("FLAGS", K::Flags(Family::OpenFlag))],
        binding: B::Fd,
        result: R::Fd,
        may_block: true,
        c_text: "open({0}, {1})",
        man: "open(2)",
        summary: reference_text!("Opens a path (a FIFO made by `mkfifo`) with `O_RDONLY`, `O_WRONLY` or `O_RDWR`, optionally `|O_NONBLOCK` and `|O_CLOEXEC`."),
    },
    CallSpec {
        id: CallId::Close,
        name: "close",
        mechanism: Mechanism::Fd,
        operands: &[FD],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "close({0})",
        man: "close(2)",
        summary: reference_text!("Closes a descriptor; the open file goes when its last descriptor does."),
    },
    CallSpec {
        id: CallId::Dup,
        name: "dup",
        mechanism: Mechanism::Fd,
        operands: &[FD],
        binding: B::Fd,
        result: R::Fd,
        may_block: false,
        c_text: "dup({0})",
        man: "dup(2)",
        summary: reference_text!("Copies a descriptor to the lowest free number; both refer to one open file."),
    },
    CallSpec {
        id: CallId::Dup2,
        name: "dup2",
        mechanism: Mechanism::Fd,
        operands: &[operand("OLD", K::Fd), operand("NEW", K::Fd)],
        binding: B::Fd,
        result: R::Fd,
        may_block: false,
        c_text: "dup2({0}, {1})",
        man: "dup2(2)",
        summary: reference_text!("Makes descriptor NEW refer to what OLD refers to, closing NEW first (`dup2 p.w stdout`)."),
    },
    CallSpec {
        id: CallId::Read,
        name: "read",
        mechanism: Mechanism::Fd,
        operands: &[FD, COUNT],
        binding: B::Bytes,
        result: R::Data,
        may_block: true,
        c_text: "read({0}, {1})",
        man: "read(2)",
        summary: reference_text!("Reads at most COUNT bytes; returns how many, 0 at end of file. `NAME =` names the count, and `NAME.first`, `NAME.last` and `NAME.runs` what came (see [Variables](#variables))."),
    },
    CallSpec {
        id: CallId::Write,
        name: "write",
        mechanism: Mechanism::Fd,
        operands: &[FD, PAYLOAD],
        binding: B::Value,
        result: R::Number,
        may_block: true,
        c_text: "write({0}, {1}, {1.len})",
        man: "write(2)",
        summary: reference_text!("Writes the bytes of a string, or `N bytes [of \"PATTERN\"]`; returns how many were written."),
    },
    CallSpec {
        id: CallId::Lseek,
        name: "lseek",
        mechanism: Mechanism::Fd,
        operands: &[FD, operand("OFFSET", K::Int), operand("WHENCE", K::OneOf(Family::Whence)).uint()],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "lseek({0}, {1}, {2})",
        man: "lseek(2)",
        summary: reference_text!("Moves a file offset; a pipe or FIFO has none (`ESPIPE`)."),
    },
    CallSpec {
        id: CallId::Pread,
        name: "pread",
        mechanism: Mechanism::Fd,
        operands: &[FD, COUNT, operand("OFFSET", K::Int)],
        binding: B::Value,
        result: R::Data,
        may_block: true,
        c_text: "pread({0}, {1}, {2})",
        man: "pread(2)",
        summary: reference_text!("Reads at an offset without moving the file offset; `ESPIPE` on a pipe."),
    },
    CallSpec {
        id: CallId::Pwrite,
        name: "pwrite",
        mechanism: Mechanism::Fd,
        operands: &[FD, PAYLOAD, operand("OFFSET", K::Int)],
        binding: B::Value,
        result: R::Number,
        may_block: true,
        c_text: "pwrite({0}, {1}, {1.len}, {2})",
        man: "pwrite(2)",
        summary: reference_text!("Writes at an offset without moving the file offset; `ESPIPE` on a pipe."),
    },
    CallSpec {
        id: CallId::Ioctl,
        name: "ioctl",
        mechanism: Mechanism::Fd,
        operands: &[FD, operand("REQUEST", K::OneOf(Family::IoctlRequest)).uint()],
        binding: B::OutValue,
        result: R::Out,
        may_block: false,
        c_text: "ioctl({0}, {1}, &n)",
        man: "ioctl(2)",
        summary: reference_text!("`FIONREAD`: how many bytes a read could take now; `NAME = ioctl FD FIONREAD` names the count."),
    },
    CallSpec {
        id: CallId::Fcntl,
        name: "fcntl",
        mechanism: Mechanism::Fd,
        operands: &[FD, operand("CMD", K::OneOf(Family::FcntlCommand)).uint(), optional("ARG", K::Int, 0).int()],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "fcntl({0}, {1}[, {2}])",
        man: "fcntl(2)",
        summary: reference_text!("`F_GETFL`/`F_SETFL` (`O_NONBLOCK`), `F_GETFD`/`F_SETFD` (`FD_CLOEXEC`), `F_DUPFD`, `F_GETPIPE_SZ`/`F_SETPIPE_SZ`."),
    },
    CallSpec {
        id: CallId::Mkfifo,
        name: "mkfifo",
        mechanism: Mechanism::Fifo,
        operands: &[PATH],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "mkfifo({0})",
        man: "mkfifo(3)",
        summary: reference_text!("Creates a named pipe (FIFO) at PATH."),
    },
    CallSpec {
        id: CallId::Unlink,
        name: "unlink",
        mechanism: Mechanism::Fifo,
        operands: &[PATH],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "unlink({0})",
        man: "unlink(2)",
        summary: reference_text!("Removes the name PATH; a FIFO that is open stays usable through its descriptors."),
    },
    CallSpec {
        id: CallId::Fork,
        name: "fork",
        mechanism: Mechanism::Process,
        operands: &[],
        binding: B::Nothing,
        result: R::Fork,
        may_block: false,
        c_text: "fork()",
        man: "fork(2)",
        summary: reference_text!("Creates a child that runs the block and then exits 0; in the parent, NAME holds the child's pid."),
    },
    CallSpec {
        id: CallId::Exit,
        name: "exit",
        mechanism: Mechanism::Process,
        operands: &[operand("STATUS", K::Int).int()],
        binding: B::Nothing,
        result: R::NoReturn,
        may_block: false,
        c_text: "exit({0})",
        man: "_exit(2)",
        summary: reference_text!("Ends the process; its parent sees the low 8 bits of STATUS."),
    },
    CallSpec {
        id: CallId::Wait,
        name: "wait",
        mechanism: Mechanism::Process,
        operands: &[],
        binding: B::Value,
        result: R::Child,
        may_block: true,
        c_text: "wait(&status)",
        man: "wait(2)",
        summary: reference_text!("Waits for any child to end, and reaps it."),
    },
    CallSpec {
        id: CallId::Waitpid,
        name: "waitpid",
        mechanism: Mechanism::Process,
        operands: &[PROC, optional("OPTIONS", K::Flags(Family::WaitOption), 0)],
        binding: B::Value,
        result: R::Child,
        may_block: true,
        c_text: "waitpid({0}, &status, {1})",
        man: "waitpid(2)",
        summary: reference_text!("Waits for one child (`-1`: any; `0`: any in the caller's group; `-PGID`: any in that group); OPTIONS `WNOHANG`, `WUNTRACED`, `WCONTINUED`."),
    },
    CallSpec {
        id: CallId::Waitid,
        name: "waitid",
        mechanism: Mechanism::Process,
        operands: &[
            operand("IDTYPE", K::OneOf(Family::IdType)),
            operand("ID", K::Pid),
            operand("OPTIONS", K::Flags(Family::WaitidOption)),
        ],
        binding: B::Value,
        result: R::ChildInfo,
        may_block: true,
        c_text: "waitid({0}, {1}, &info, {2})",
        man: "waitid(2)",
        summary: reference_text!("Waits for a child chosen by `P_PID`, `P_PGID` or `P_ALL`; OPTIONS `WEXITED`, `WSTOPPED`, `WCONTINUED`, `WNOHANG`, `WNOWAIT`."),
    },
    CallSpec {
        id: CallId::Getpid,
        name: "getpid",
        mechanism: Mechanism::Process,
        operands: &[],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "getpid()",
        man: "getpid(2)",
        summary: reference_text!("Returns the caller's pid."),
    },
    CallSpec {
        id: CallId::Getppid,
        name: "getppid",
        mechanism: Mechanism::Process,
        operands: &[],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "getppid()",
        man: "getppid(2)",
        summary: reference_text!("Returns the parent's pid (1 once the parent has died and init adopted the caller)."),
    },
    CallSpec {
        id: CallId::Getpgid,
        name: "getpgid",
        mechanism: Mechanism::Process,
        operands: &[PROC],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "getpgid({0})",
        man: "getpgid(2)",
        summary: reference_text!("Returns the process group of a process (`0`: the caller)."),
    },
    CallSpec {
        id: CallId::Setpgid,
        name: "setpgid",
        mechanism: Mechanism::Process,
        operands: &[PROC, operand("PGID", K::Pid)],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "setpgid({0}, {1})",
        man: "setpgid(2)",
        summary: reference_text!("Moves the caller or one of its children into a process group (`0` for PGID: a new group led by it)."),
    },
    CallSpec {
        id: CallId::Kill,
        name: "kill",
        mechanism: Mechanism::Signal,
        operands: &[PROC, operand("SIGNAL", K::Signal)],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "kill({0}, {1})",
        man: "kill(2)",
        summary: reference_text!("Sends a signal to a process, to the caller's group (`0`) or to a group (`-PGID`); signal `0` only checks that the target exists."),
    },
    CallSpec {
        id: CallId::Signal,
        name: "signal",
        mechanism: Mechanism::Signal,
        operands: &[operand("SIGNAL", K::Signal), operand("ACTION", K::Action)],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "signal({0}, {1})",
        man: "signal(2)",
        summary: reference_text!("Sets what a signal does: `SIG_DFL`, `SIG_IGN` or a handler (which stays installed, with `SA_RESTART`, as glibc's `signal` does); returns the previous one. Any other number is an address (`SIG_ERR`, -1, is `EINVAL`)."),
    },
    CallSpec {
        id: CallId::Pause,
        name: "pause",
        mechanism: Mechanism::Signal,
        operands: &[],
        binding: B::Value,
        result: R::Zero,
        may_block: true,
        c_text: "pause()",
        man: "pause(2)",
        summary: reference_text!("Sleeps until a signal runs a handler (then returns `EINTR`) or ends the process."),
    },
    CallSpec {
        id: CallId::SchedYield,
        name: "sched_yield",
        mechanism: Mechanism::Sched,
        operands: &[],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "sched_yield()",
        man: "sched_yield(2)",
        summary: reference_text!("Gives up the processor for one step."),
    },
    CallSpec {
        id: CallId::Msgget,
        name: "msgget",
        mechanism: Mechanism::Msg,
        operands: &[KEY, IPC_FLAGS],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "msgget({0}, {1})",
        man: "msgget(2)",
        summary: reference_text!("Returns the id of the message queue of KEY (`IPC_PRIVATE`: always a new one); FLAGS `IPC_CREAT`, `IPC_EXCL` and permission bits (`IPC_CREAT|0600`)."),
    },
    CallSpec {
        id: CallId::Msgsnd,
        name: "msgsnd",
        mechanism: Mechanism::Msg,
        operands: &[ID, operand("TYPE", K::Int), PAYLOAD, optional("FLAGS", K::Flags(Family::MsgsndFlag), 0)],
        binding: B::Value,
        result: R::Zero,
        may_block: true,
        c_text: "msgsnd({0}, {{{1}, {2}}}, {2.len}, {3})",
        man: "msgsnd(2)",
        summary: reference_text!("Sends a message of TYPE (at least 1) holding PAYLOAD; sleeps while the queue has no room, unless `IPC_NOWAIT`."),
    },
    CallSpec {
        id: CallId::Msgrcv,
        name: "msgrcv",
        mechanism: Mechanism::Msg,
        operands: &[ID, COUNT, operand("TYPE", K::Int), optional("FLAGS", K::Flags(Family::MsgrcvFlag), 0)],
        binding: B::Message("mtype"),
        result: R::Message,
        may_block: true,
        c_text: "msgrcv({0}, &msg, {1}, {2}, {3})",
        man: "msgrcv(2)",
        summary: reference_text!("Takes a message of at most COUNT bytes: TYPE 0 the first, TYPE > 0 the first of that type, TYPE < 0 the lowest type up to -TYPE; FLAGS `IPC_NOWAIT`, `MSG_NOERROR`, `MSG_EXCEPT`. `NAME =` names the count, and `NAME.mtype` the type."),
    },
    CallSpec {
        id: CallId::Msgctl,
        name: "msgctl",
        mechanism: Mechanism::Msg,
        operands: &[
            ID,
            operand("CMD", K::OneOf(Family::MsgctlCommand)),
            optional("FIELD", K::OneOf(Family::MsqField), 0).long(),
            optional("VALUE", K::Int, 0),
        ],
        binding: B::OutValue,
        result: R::Number,
        may_block: false,
        c_text: "msgctl({0}, {1}, &ds)[ with ds.{2} = {3}]",
        man: "msgctl(2)",
        summary: reference_text!("`IPC_RMID` removes the queue; `IPC_STAT FIELD` reads a field (`msg_qnum`, `msg_cbytes`, `msg_qbytes`, `msg_lspid`, `msg_lrpid`, `msg_perm.mode`), which `NAME =` names; `IPC_SET FIELD VALUE` sets `msg_qbytes` or `msg_perm.mode`."),
    },
    CallSpec {
        id: CallId::Semget,
        name: "semget",
        mechanism: Mechanism::Sem,
        operands: &[KEY, operand("NSEMS", K::Int).int(), IPC_FLAGS],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "semget({0}, {1}, {2})",
        man: "semget(2)",
        summary: reference_text!("Returns the id of the set of NSEMS semaphores (each 0 at first) of KEY; FLAGS as for `msgget`."),
    },
    CallSpec {
        id: CallId::Semop,
        name: "semop",
        mechanism: Mechanism::Sem,
        operands: &[ID, SOP, MORE_SOP, MORE_SOP, MORE_SOP, MORE_SOP],
        binding: B::Value,
        result: R::Zero,
        may_block: true,
        c_text: "semop({0}, {{{1}[, {2}][, {3}][, {4}][, {5}]}}, {ops})",
        man: "semop(2)",
        summary: reference_text!("Applies every OP `{NUM, OP, FLAGS}` at once or none: OP < 0 waits until semaphore NUM can be lowered by -OP, 0 waits for it to be 0, > 0 adds; FLAGS `IPC_NOWAIT`, `SEM_UNDO`; `* N` repeats an OP."),
    },
    CallSpec {
        id: CallId::Semctl,
        name: "semctl",
        mechanism: Mechanism::Sem,
        operands: &[
            ID,
            operand("NUM", K::Int).int(),
            operand("CMD", K::OneOf(Family::SemctlCommand)),
            optional("ARG", K::SemArg, 0),
            optional("VALUE", K::Int, 0),
        ],
        binding: B::OutValue,
        result: R::Values,
        may_block: false,
        c_text: "semctl({0}, {1}, {2}[, {3}][ = {4}])",
        man: "semctl(2)",
        summary: reference_text!("`GETVAL`, `GETPID`, `GETNCNT`, `GETZCNT` of semaphore NUM; `SETVAL` to ARG; `GETALL`; `SETALL` to ARG `{V0, V1, ...}`; `IPC_STAT FIELD` (`sem_nsems`, `sem_perm.mode`); `IPC_SET sem_perm.mode VALUE`; `IPC_RMID`."),
    },
    CallSpec {
        id: CallId::MqOpen,
        name: "mq_open",
        mechanism: Mechanism::Mqueue,
        operands: &[NAME, operand("FLAGS", K::Flags(Family::MqOpenFlag)), MODE, optional("ATTR", K::MqAttr, 0)],
        binding: B::Fd,
        result: R::Fd,
        may_block: false,
        c_text: "mq_open({0}, {1}[, {2}][, {3}])",
        man: "mq_open(3)",
        summary: reference_text!("Opens the POSIX message queue NAME (`\"/jobs\"`) with `O_RDONLY`, `O_WRONLY` or `O_RDWR`, and `O_CREAT`, `O_EXCL`, `O_NONBLOCK`; MODE (0600 if left out) and ATTR `{MAXMSG, MSGSIZE}` for a new queue."),
    },
    CallSpec {
        id: CallId::MqSend,
        name: "mq_send",
        mechanism: Mechanism::Mqueue,
        operands: &[FD, PAYLOAD, optional("PRIO", K::Int, 0).uint()],
        binding: B::Value,
        result: R::Zero,
        may_block: true,
        c_text: "mq_send({0}, {1}, {1.len}, {2})",
        man: "mq_send(3)",
        summary: reference_text!("Sends PAYLOAD with priority PRIO (0 to 32767); sleeps while the queue is full, unless the descriptor is `O_NONBLOCK`."),
    },
    CallSpec {
        id: CallId::MqReceive,
        name: "mq_receive",
        mechanism: Mechanism::Mqueue,
        operands: &[FD, COUNT],
        binding: B::Message("prio"),
        result: R::Message,
        may_block: true,
        c_text: "mq_receive({0}, buf, {1}, &prio)",
        man: "mq_receive(3)",
        summary: reference_text!("Takes the oldest message of the highest priority; COUNT must be at least the queue's `mq_msgsize`. `NAME =` names the count, and `NAME.prio` the priority."),
    },
    CallSpec {
        id: CallId::MqGetattr,
        name: "mq_getattr",
        mechanism: Mechanism::Mqueue,
        operands: &[FD, operand("FIELD", K::OneOf(Family::MqAttrField)).long()],
        binding: B::OutValue,
        result: R::Out,
        may_block: false,
        c_text: "mq_getattr({0}, &attr)",
        man: "mq_getattr(3)",
        summary: reference_text!("Reads one attribute (`mq_flags`, `mq_maxmsg`, `mq_msgsize`, `mq_curmsgs`), which `NAME =` names."),
    },
    CallSpec {
        id: CallId::MqSetattr,
        name: "mq_setattr",
        mechanism: Mechanism::Mqueue,
        operands: &[FD, operand("FLAGS", K::Flags(Family::MqFlag)).long()],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "mq_setattr({0}, &{{.mq_flags = {1}}}, NULL)",
        man: "mq_setattr(3)",
        summary: reference_text!("Sets `O_NONBLOCK` on the descriptor, or clears it with `0`."),
    },
    CallSpec {
        id: CallId::MqNotify,
        name: "mq_notify",
        mechanism: Mechanism::Mqueue,
        operands: &[FD, operand("SIGNAL", K::Signal)],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "mq_notify({0}, {1})",
        man: "mq_notify(3)",
        summary: reference_text!("Asks for SIGNAL when a message arrives in the empty queue and nobody waits in `mq_receive` (one process at a time, once); `0` cancels the request."),
    },
    CallSpec {
        id: CallId::MqClose,
        name: "mq_close",
        mechanism: Mechanism::Mqueue,
        operands: &[FD],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "mq_close({0})",
        man: "mq_close(3)",
        summary: reference_text!("Closes a message queue descriptor (and cancels the caller's `mq_notify`)."),
    },
    CallSpec {
        id: CallId::MqUnlink,
        name: "mq_unlink",
        mechanism: Mechanism::Mqueue,
        operands: &[NAME],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "mq_unlink({0})",
        man: "mq_unlink(3)",
        summary: reference_text!("Removes the name; the queue itself goes when its last descriptor closes."),
    },
    CallSpec {
        id: CallId::SemOpen,
        name: "sem_open",
        mechanism: Mechanism::NamedSem,
        operands: &[NAME, operand("FLAGS", K::Flags(Family::SemOpenFlag)), MODE, optional("VALUE", K::Int, 0).uint()],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "sem_open({0}, {1}[, {2}][, {3}])",
        man: "sem_open(3)",
        summary: reference_text!("Opens the named semaphore NAME (`O_CREAT`, `O_EXCL`; MODE and initial VALUE for a new one) and returns a handle for the calls below."),
    },
    CallSpec {
        id: CallId::SemWait,
        name: "sem_wait",
        mechanism: Mechanism::NamedSem,
        operands: &[SEM],
        binding: B::Value,
        result: R::Zero,
        may_block: true,
        c_text: "sem_wait({0})",
        man: "sem_wait(3)",
        summary: reference_text!("Lowers the semaphore by one, sleeping while it is 0 (P)."),
    },
    CallSpec {
        id: CallId::SemTrywait,
        name: "sem_trywait",
        mechanism: Mechanism::NamedSem,
        operands: &[SEM],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "sem_trywait({0})",
        man: "sem_trywait(3)",
        summary: reference_text!("Lowers the semaphore by one, or fails with `EAGAIN` if it is 0."),
    },
    CallSpec {
        id: CallId::SemPost,
        name: "sem_post",
        mechanism: Mechanism::NamedSem,
        operands: &[SEM],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "sem_post({0})",
        man: "sem_post(3)",
        summary: reference_text!("Raises the semaphore by one, waking one sleeper (V)."),
    },
    CallSpec {
        id: CallId::SemGetvalue,
        name: "sem_getvalue",
        mechanism: Mechanism::NamedSem,
        operands: &[SEM],
        binding: B::OutValue,
        result: R::Out,
        may_block: false,
        c_text: "sem_getvalue({0}, &n)",
        man: "sem_getvalue(3)",
        summary: reference_text!("Reads the semaphore's value, which `NAME =` names."),
    },
    CallSpec {
        id: CallId::SemClose,
        name: "sem_close",
        mechanism: Mechanism::NamedSem,
        operands: &[SEM],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "sem_close({0})",
        man: "sem_close(3)",
        summary: reference_text!("Gives up the handle (after as many `sem_close` as `sem_open` of the same name); the semaphore stays."),
    },
    CallSpec {
        id: CallId::SemUnlink,
        name: "sem_unlink",
        mechanism: Mechanism::NamedSem,
        operands: &[NAME],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "sem_unlink({0})",
        man: "sem_unlink(3)",
        summary: reference_text!("Removes the name; the semaphore goes when no process has it open."),
    },
    CallSpec {
        id: CallId::Sigaction,
        name: "sigaction",
        mechanism: Mechanism::Signal,
        operands: &[
            operand("SIGNAL", K::Signal),
            operand("ACTION", K::Action),
            optional("FLAGS", K::Flags(Family::SigactionFlag), 0).long(),
            optional("MASK", K::SignalSet, 0),
        ],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "sigaction({0}, {1}[, {2}][, {3}])",
        man: "sigaction(2)",
        summary: reference_text!("Sets what a signal does (`SIG_DFL`, `SIG_IGN`, a handler, or any other number as an address with no code), with `SA_RESTART`, `SA_NODEFER`, `SA_RESETHAND`, `SA_SIGINFO`, `SA_NOCLDSTOP`, and the signals to block while the handler runs."),
    },
    CallSpec {
        id: CallId::Sigprocmask,
        name: "sigprocmask",
        mechanism: Mechanism::Signal,
        operands: &[operand("HOW", K::OneOf(Family::MaskHow)), operand("SET", K::SignalSet)],
        binding: B::OutValue,
        result: R::OutSignals,
        may_block: false,
        c_text: "sigprocmask({0}, {1}, &old)",
        man: "sigprocmask(2)",
        summary: reference_text!("Blocks (`SIG_BLOCK`), unblocks (`SIG_UNBLOCK`) or sets (`SIG_SETMASK`) the signals held back from delivery; `NAME = sigprocmask ...` names the mask before."),
    },
    CallSpec {
        id: CallId::Sigpending,
        name: "sigpending",
        mechanism: Mechanism::Signal,
        operands: &[],
        binding: B::OutValue,
        result: R::OutSignals,
        may_block: false,
        c_text: "sigpending(&set)",
        man: "sigpending(2)",
        summary: reference_text!("The signals sent to the process and not delivered yet (because they are blocked), as a set."),
    },
    CallSpec {
        id: CallId::Sigsuspend,
        name: "sigsuspend",
        mechanism: Mechanism::Signal,
        operands: &[operand("SET", K::SignalSet)],
        binding: B::Value,
        result: R::Number,
        may_block: true,
        c_text: "sigsuspend({0})",
        man: "sigsuspend(2)",
        summary: reference_text!("Blocks exactly SET and sleeps until a signal runs a handler, in one step with no gap; returns `EINTR` and restores the mask."),
    },
    CallSpec {
        id: CallId::Sigwaitinfo,
        name: "sigwaitinfo",
        mechanism: Mechanism::Signal,
        operands: &[operand("SET", K::SignalSet)],
        binding: B::Value,
        result: R::Number,
        may_block: true,
        c_text: "sigwaitinfo({0}, &info)",
        man: "sigwaitinfo(2)",
        summary: reference_text!("Takes a pending signal of SET (blocked, so no handler runs) or sleeps until one comes; returns its number."),
    },
    CallSpec {
        id: CallId::Sigqueue,
        name: "sigqueue",
        mechanism: Mechanism::Signal,
        operands: &[PROC, operand("SIGNAL", K::Signal), operand("VALUE", K::Int)],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "sigqueue({0}, {1}, {2})",
        man: "sigqueue(3)",
        summary: reference_text!("Sends a signal with a value, which a `SA_SIGINFO` handler reads as `si_value`; real-time signals queue, one delivery each."),
    },
    CallSpec {
        id: CallId::Raise,
        name: "raise",
        mechanism: Mechanism::Signal,
        operands: &[operand("SIGNAL", K::Signal)],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "raise({0})",
        man: "raise(3)",
        summary: reference_text!("Sends a signal to the caller itself; it is delivered before `raise` returns."),
    },
    CallSpec {
        id: CallId::Killpg,
        name: "killpg",
        mechanism: Mechanism::Signal,
        operands: &[operand("PGRP", K::Pid), operand("SIGNAL", K::Signal)],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "killpg({0}, {1})",
        man: "killpg(3)",
        summary: reference_text!("Sends a signal to every process of a group (`0`: the caller's)."),
    },
    CallSpec {
        id: CallId::Sleep,
        name: "sleep",
        mechanism: Mechanism::Time,
        operands: &[operand("SECONDS", K::Int)],
        binding: B::Value,
        result: R::Number,
        may_block: true,
        c_text: "sleep({0})",
        man: "sleep(3)",
        summary: reference_text!("Sleeps SECONDS of virtual time; returns 0, or the seconds left if a handler cut it short."),
    },
    CallSpec {
        id: CallId::Nanosleep,
        name: "nanosleep",
        mechanism: Mechanism::Time,
        operands: &[operand("NS", K::Int)],
        binding: B::Value,
        result: R::Zero,
        may_block: true,
        c_text: "nanosleep({0} ns)",
        man: "nanosleep(2)",
        summary: reference_text!("Sleeps NS nanoseconds of virtual time; a handler makes it fail with `EINTR`."),
    },
    CallSpec {
        id: CallId::Alarm,
        name: "alarm",
        mechanism: Mechanism::Time,
        operands: &[operand("SECONDS", K::Int)],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "alarm({0})",
        man: "alarm(2)",
        summary: reference_text!("Sends the caller `SIGALRM` in SECONDS (`0` cancels); returns the seconds the previous alarm had left."),
    },
    CallSpec {
        id: CallId::Sigtimedwait,
        name: "sigtimedwait",
        mechanism: Mechanism::Time,
        operands: &[operand("SET", K::SignalSet), operand("NS", K::Int)],
        binding: B::Value,
        result: R::Number,
        may_block: true,
        c_text: "sigtimedwait({0}, &info, {1} ns)",
        man: "sigtimedwait(2)",
        summary: reference_text!("`sigwaitinfo` with a timeout: `EAGAIN` if no signal of SET comes within NS nanoseconds."),
    },
    CallSpec {
        id: CallId::Setrlimit,
        name: "setrlimit",
        mechanism: Mechanism::Process,
        operands: &[
            operand("RESOURCE", K::OneOf(Family::Resource)),
            operand("SOFT", K::OneOf(Family::Limit)).long(),
            operand("HARD", K::OneOf(Family::Limit)).long(),
        ],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "setrlimit({0}, &(struct rlimit){{{1}, {2}}})",
        man: "setrlimit(2)",
        summary: reference_text!("Sets the caller's limit (`RLIMIT_CORE`: the largest core file; 0 for none, `RLIM_INFINITY` for no limit); a child inherits it. `EINVAL` if SOFT is above HARD, `EPERM` to raise HARD."),
    },
    CallSpec {
        id: CallId::Getrlimit,
        name: "getrlimit",
        mechanism: Mechanism::Process,
        operands: &[operand("RESOURCE", K::OneOf(Family::Resource))],
        binding: B::OutValue,
        result: R::Out,
        may_block: false,
        c_text: "getrlimit({0}, &rl)",
        man: "getrlimit(2)",
        summary: reference_text!("Stores the caller's limit; `NAME = getrlimit RLIMIT_CORE` names its soft limit (`rlim_cur`)."),
    },
    CallSpec {
        id: CallId::Semtimedop,
        name: "semtimedop",
        mechanism: Mechanism::Sem,
        operands: &[ID, TIMEOUT, SOP, MORE_SOP, MORE_SOP, MORE_SOP],
        binding: B::Value,
        result: R::Zero,
        may_block: true,
        c_text: "semtimedop({0}, {{{2}[, {3}][, {4}][, {5}]}}, {ops}, {1} ns)",
        man: "semop(2)",
        summary: reference_text!("`semop` with a timeout: fails with `EAGAIN` if its operations cannot all be done within NS nanoseconds (a relative timeout, as Linux takes it)."),
    },
    CallSpec {
        id: CallId::MqTimedsend,
        name: "mq_timedsend",
        mechanism: Mechanism::Mqueue,
        operands: &[FD, PAYLOAD, operand("PRIO", K::Int).uint(), TIMEOUT],
        binding: B::Value,
        result: R::Zero,
        may_block: true,
        c_text: "mq_timedsend({0}, {1}, {1.len}, {2}, now + {3} ns)",
        man: "mq_send(3)",
        summary: reference_text!("`mq_send` with a timeout: fails with `ETIMEDOUT` if the queue has no room within NS nanoseconds (C passes the absolute time `now + NS` on `CLOCK_REALTIME`)."),
    },
    CallSpec {
        id: CallId::MqTimedreceive,
        name: "mq_timedreceive",
        mechanism: Mechanism::Mqueue,
        operands: &[FD, COUNT, TIMEOUT],
        binding: B::Message("prio"),
        result: R::Message,
        may_block: true,
        c_text: "mq_timedreceive({0}, buf, {1}, &prio, now + {2} ns)",
        man: "mq_receive(3)",
        summary: reference_text!("`mq_receive` with a timeout: fails with `ETIMEDOUT` if no message comes within NS nanoseconds (C passes the absolute time `now + NS`)."),
    },
    CallSpec {
        id: CallId::SemTimedwait,
        name: "sem_timedwait",
        mechanism: Mechanism::NamedSem,
        operands: &[SEM, TIMEOUT],
        binding: B::Value,
        result: R::Zero,
        may_block: true,
        c_text: "sem_timedwait({0}, now + {1} ns)",
        man: "sem_timedwait(3)",
        summary: reference_text!("`sem_wait` with a timeout: fails with `ETIMEDOUT` if the semaphore stays 0 for NS nanoseconds (C passes the absolute time `now + NS`; a time already past still takes a semaphore above 0)."),
    },
    CallSpec {
        id: CallId::Shmget,
        name: "shmget",
        mechanism: Mechanism::Shm,
        operands: &[KEY, operand("SIZE", K::Int), IPC_FLAGS],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "shmget({0}, {1}, {2})",
        man: "shmget(2)",
        summary: reference_text!("Returns the id of the shared memory segment of KEY, of SIZE bytes rounded up to whole pages of zeros (`IPC_PRIVATE`: always a new one); FLAGS as for `msgget`."),
    },
    CallSpec {
        id: CallId::Shmat,
        name: "shmat",
        mechanism: Mechanism::Shm,
        operands: &[ID, optional("FLAGS", K::Flags(Family::ShmatFlag), 0)],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "shmat({0}, NULL, {1})",
        man: "shmat(2)",
        summary: reference_text!("Maps the segment into the caller's memory at an address the kernel picks, and returns that address (`SHM_RDONLY`: for reading only); the pages are the segment's own frames, not copies."),
    },
    CallSpec {
        id: CallId::Shmdt,
        name: "shmdt",
        mechanism: Mechanism::Shm,
        operands: &[operand("ADDR", K::Int)],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "shmdt({0})",
        man: "shmdt(2)",
        summary: reference_text!("Unmaps the segment attached at ADDR; a segment removed with `IPC_RMID` goes with its last detach."),
    },
    CallSpec {
        id: CallId::Shmctl,
        name: "shmctl",
        mechanism: Mechanism::Shm,
        operands: &[ID, operand("CMD", K::OneOf(Family::ShmctlCommand)), optional("FIELD", K::OneOf(Family::ShmField), 0).long()],
        binding: B::OutValue,
        result: R::Number,
        may_block: false,
        c_text: "shmctl({0}, {1}, &ds)",
        man: "shmctl(2)",
        summary: reference_text!("`IPC_STAT FIELD` reads a field (`shm_segsz`, `shm_nattch`, `shm_cpid`, `shm_lpid`, `shm_perm.mode`), which `NAME =` names; `IPC_RMID` removes the segment's key at once and the segment at its last detach."),
    },
    CallSpec {
        id: CallId::Mmap,
        name: "mmap",
        mechanism: Mechanism::Mm,
        operands: &[
            operand("LENGTH", K::Int),
            operand("PROT", K::Flags(Family::Prot)),
            operand("FLAGS", K::Flags(Family::MapFlag)),
            added_later("FD", K::Fd, -1),
            added_later("OFFSET", K::Int, 0),
        ],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "mmap(NULL, {0}, {1}, {2}, {3}, {4})",
        man: "mmap(2)",
        summary: reference_text!("Maps LENGTH bytes (whole pages) at an address the kernel picks and returns it; FLAGS `MAP_SHARED|MAP_ANONYMOUS` (zeros; a child's writes are seen by its parent) or `MAP_PRIVATE|MAP_ANONYMOUS` (copy-on-write after `fork`); PROT `PROT_READ|PROT_WRITE`, `PROT_READ` or `PROT_NONE`. Without `MAP_ANONYMOUS`, the pages of the POSIX shared memory object open on FD from OFFSET (a multiple of 4096): `MAP_SHARED` maps its very pages, `MAP_PRIVATE` maps them copy-on-write; a page past the object's size may be mapped, but touching it is `SIGBUS`. `EACCES` for `MAP_SHARED` with `PROT_WRITE` on a descriptor opened `O_RDONLY` (or any mapping of one opened for writing only), `ENODEV` for a pipe or a socket, `EBADF` for no descriptor."),
    },
    CallSpec {
        id: CallId::Munmap,
        name: "munmap",
        mechanism: Mechanism::Mm,
        operands: &[operand("ADDR", K::Int), operand("LENGTH", K::Int)],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "munmap({0}, {1})",
        man: "munmap(2)",
        summary: reference_text!("Unmaps the pages from ADDR (a page boundary) for LENGTH bytes; pages not mapped are skipped."),
    },
    CallSpec {
        id: CallId::Mprotect,
        name: "mprotect",
        mechanism: Mechanism::Mm,
        operands: &[operand("ADDR", K::Int), operand("LENGTH", K::Int), operand("PROT", K::Flags(Family::Prot))],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "mprotect({0}, {1}, {2})",
        man: "mprotect(2)",
        summary: reference_text!("Changes the protection of the pages from ADDR for LENGTH bytes, mapping by mapping: `ENOMEM` at a page not mapped, `EACCES` at a segment attached `SHM_RDONLY` asked for writing, and the mappings before it keep their new protection (none if ADDR itself is not mapped). PROT may also hold `PROT_SEM` (no effect); any bit but these is `EINVAL`, and so are `PROT_GROWSDOWN` and `PROT_GROWSUP`, as no mapping here grows (`ENOMEM` where there is none)."),
    },
    CallSpec {
        id: CallId::Load,
        name: "load",
        mechanism: Mechanism::Memory,
        operands: &[operand("ADDR", K::Int), operand("OFFSET", K::Int)],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "*(int64_t *)({0} + {1})",
        man: "",
        summary: reference_text!("A user-space instruction, not a system call: reads the 64-bit integer at ADDR + OFFSET (little-endian). Outside every mapping, or in a page mapped `PROT_NONE`: `SIGSEGV`."),
    },
    CallSpec {
        id: CallId::Store,
        name: "store",
        mechanism: Mechanism::Memory,
        operands: &[operand("ADDR", K::Int), operand("OFFSET", K::Int), operand("VALUE", K::Int)],
        binding: B::Nothing,
        result: R::Zero,
        may_block: false,
        c_text: "*(int64_t *)({0} + {1}) = {2}",
        man: "",
        summary: reference_text!("A user-space instruction: writes VALUE as a 64-bit integer at ADDR + OFFSET. Outside every mapping, or in a page not mapped for writing: `SIGSEGV`; in a private page shared since a `fork`: the page is copied first (copy-on-write)."),
    },
    CallSpec {
        id: CallId::FetchAdd,
        name: "fetch_add",
        mechanism: Mechanism::Memory,
        operands: &[operand("ADDR", K::Int), operand("OFFSET", K::Int), operand("VALUE", K::Int)],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "__atomic_fetch_add((int64_t *)({0} + {1}), {2}, __ATOMIC_SEQ_CST)",
        man: "",
        summary: reference_text!("A user-space instruction (`lock xadd`): adds VALUE to the integer at ADDR + OFFSET in one indivisible step and returns the value before."),
    },
    CallSpec {
        id: CallId::CompareExchange,
        name: "compare_exchange",
        mechanism: Mechanism::Memory,
        operands: &[operand("ADDR", K::Int), operand("OFFSET", K::Int), operand("EXPECTED", K::Int), operand("NEW", K::Int)],
        binding: B::Value,
        result: R::Number,
        may_block: false,
        c_text: "__sync_val_compare_and_swap((int64_t *)({0} + {1}), {2}, {3})",
        man: "",
        summary: reference_text!("A user-space instruction (`lock cmpxchg`): if the integer at ADDR + OFFSET is EXPECTED, writes NEW, in one indivisible step; returns the value before either way."),
    },
    CallSpec {
        id: CallId::Socketpair,
        name: "socketpair",
        mechanism: Mechanism::Socket,
        operands: &[operand("TYPE", K::Flags(Family::SockType))],
        binding: B::SocketEnds,
        result: R::Pair,
        may_block: false,
        c_text: "socketpair(AF_UNIX, {0}, 0, sv)",
        man: "socketpair(2)",
        summary: reference_text!("Creates two connected Unix-domain sockets, named `NAME.0` and `NAME.1`: what one sends the other receives. TYPE `SOCK_STREAM` (bytes, no message boundaries), `SOCK_DGRAM` or `SOCK_SEQPACKET` (messages, each received whole or cut short), optionally `|SOCK_NONBLOCK` and `|SOCK_CLOEXEC`; an unknown type is `ESOCKTNOSUPPORT` (`EINVAL` past the highest type number, or for an unknown flag)."),
    },
    CallSpec {
        id: CallId::Send,
        name: "send",
        mechanism: Mechanism::Socket,
        operands: &[FD, PAYLOAD, optional("FLAGS", K::Flags(Family::SendFlag), 0)],
        binding: B::Value,
        result: R::Number,
        may_block: true,
        c_text: "send({0}, {1}, {1.len}[, {2}])",
        man: "send(2)",
        summary: reference_text!("Sends bytes to the socket's peer; returns how many were sent. FLAGS `MSG_DONTWAIT` (`EAGAIN` rather than block), `MSG_NOSIGNAL` (`EPIPE` without `SIGPIPE`)."),
    },
    CallSpec {
        id: CallId::Recv,
        name: "recv",
        mechanism: Mechanism::Socket,
        operands: &[FD, COUNT, optional("FLAGS", K::Flags(Family::RecvFlag), 0)],
        binding: B::Value,
        result: R::Data,
        may_block: true,
        c_text: "recv({0}, buf, {1}[, {2}])",
        man: "recv(2)",
        summary: reference_text!("Receives at most COUNT bytes (a stream's bytes, or one message, the rest of which is lost); 0 at end of file. FLAGS `MSG_PEEK` (leave them queued), `MSG_DONTWAIT`, `MSG_TRUNC` (return a message's real length, which shows as a number without the bytes; on TCP, take the bytes without copying them: their count alone)."),
    },
    CallSpec {
        id: CallId::Shutdown,
        name: "shutdown",
        mechanism: Mechanism::Socket,
        operands: &[FD, operand("HOW", K::OneOf(Family::ShutdownHow))],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "shutdown({0}, {1})",
        man: "shutdown(2)",
        summary: reference_text!("Closes one direction of a connected socket for both ends: `SHUT_WR` (the peer reads to end of file, a send here fails with `EPIPE`), `SHUT_RD`, `SHUT_RDWR`."),
    },
    CallSpec {
        id: CallId::Socket,
        name: "socket",
        mechanism: Mechanism::Socket,
        // DOMAIN is written first, as C writes it (`socket AF_INET SOCK_STREAM`), and may be left out
        // for `AF_UNIX`; it is the second operand so that the statements written before it existed keep
        // their events (the parser reads it ahead of TYPE).
        operands: &[operand("TYPE", K::Flags(Family::SockType)), added_later("DOMAIN", K::OneOf(Family::SockDomain), crate::linux::socket::AF_UNIX)],
        binding: B::Fd,
        result: R::Fd,
        may_block: false,
        c_text: "socket({1}, {0}, 0)",
        man: "socket(2)",
        summary: reference_text!("Creates an unconnected socket of TYPE (`SOCK_STREAM`, `SOCK_DGRAM`, `SOCK_SEQPACKET`, with the flags and errors of `socketpair`) in DOMAIN, written before TYPE: `AF_UNIX` when left out (a Unix-domain socket, named by a path), or `AF_INET` (`socket AF_INET SOCK_STREAM`: TCP over the loopback, `SOCK_DGRAM`: UDP, each named by an address and port such as `\"127.0.0.1:7000\"`; `SOCK_SEQPACKET` is `ESOCKTNOSUPPORT` there)."),
    },
    CallSpec {
        id: CallId::Bind,
        name: "bind",
        mechanism: Mechanism::Socket,
        operands: &[FD, PATH],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "bind({0}, {{AF_UNIX, {1}}}, len)",
        man: "bind(2)",
        summary: reference_text!("Gives the socket a name: a socket file at PATH (`EADDRINUSE` if the path exists; `unlink` removes it), or, for a PATH that starts with `\\0` (`\"\\0echo\"`), a name in the abstract namespace: no file, `EADDRINUSE` while a live socket of the same type holds it, free again as soon as that socket is closed. `EINVAL` for a socket already bound. A TCP socket binds an address and port instead (`\"127.0.0.1:7000\"`, port 0 for one the kernel chooses): `EADDRINUSE` while another socket holds the port, unless both have `SO_REUSEADDR` and that one is not listening; `EADDRNOTAVAIL` for an address off this host."),
    },
    CallSpec {
        id: CallId::Listen,
        name: "listen",
        mechanism: Mechanism::Socket,
        operands: &[FD, operand("BACKLOG", K::Int).int()],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "listen({0}, {1})",
        man: "listen(2)",
        summary: reference_text!("Makes a bound stream or seqpacket socket accept connections; up to BACKLOG + 1 wait to be accepted, and a `connect` past that sleeps. A TCP socket not yet bound listens on a port the kernel chooses."),
    },
    CallSpec {
        id: CallId::Accept,
        name: "accept",
        mechanism: Mechanism::Socket,
        operands: &[FD],
        binding: B::Fd,
        result: R::Fd,
        may_block: true,
        c_text: "accept({0}, NULL, NULL)",
        man: "accept(2)",
        summary: reference_text!("Takes the oldest connection waiting on a listening socket and returns a new descriptor for the server's end of it; sleeps while none waits."),
    },
    CallSpec {
        id: CallId::Connect,
        name: "connect",
        mechanism: Mechanism::Socket,
        operands: &[FD, PATH],
        binding: B::Value,
        result: R::Zero,
        may_block: true,
        c_text: "connect({0}, {{AF_UNIX, {1}}}, len)",
        man: "connect(2)",
        summary: reference_text!("Connects a stream or seqpacket socket to the socket listening at PATH, at once (the connection waits in the listener's queue until `accept`); `ENOENT` for no such path, `ECONNREFUSED` for nobody listening (and for an abstract name no socket of this type holds); sleeps while the queue is full. A datagram socket gets the socket bound at PATH as its default destination, for `send`, and takes datagrams from it alone; that socket is not told (`EPERM` if it is connected to another). `connect FD AF_UNSPEC` takes a datagram socket's destination away again (what it had received from it is dropped, as when it connects to another); a stream or seqpacket socket refuses it (`EINVAL`). A TCP socket connects to an address and port (`\"127.0.0.1:7000\"`): `ECONNREFUSED` if nobody listens there (the socket may try again), else the handshake is over when the call returns and the server's end waits in the accept queue."),
    },
    CallSpec {
        id: CallId::Getsockopt,
        name: "getsockopt",
        mechanism: Mechanism::Socket,
        operands: &[FD, operand("LEVEL", K::OneOf(Family::SockLevel)), operand("OPTION", K::OneOf(Family::SockOption))],
        binding: B::OutValue,
        result: R::Out,
        may_block: false,
        c_text: "getsockopt({0}, {1}, {2}, &value, &len)",
        man: "getsockopt(2)",
        summary: reference_text!("Reads a socket option of LEVEL `SOL_SOCKET` and stores it: `SO_SNDBUF`, `SO_RCVBUF` (the buffer sizes, as the kernel keeps them: twice what was set), `SO_TYPE`, `SO_PEERCRED`, whose `struct ucred` is given by its `pid`: the process that made the pair, called `connect` (seen from the server's end) or `listen` (seen from the client's end), 0 for none; `SO_ERROR`, the socket's pending error (`ECONNRESET` is 104), which reading clears; `SO_ACCEPTCONN` (1 once `listen` has run), `SO_DOMAIN` (`AF_UNIX`, 1; `AF_INET`, 2), `SO_PROTOCOL` (0; 6, `IPPROTO_TCP`), `SO_SNDLOWAT` (always 1), `SO_PASSCRED` or `SO_REUSEADDR` (1 when set). A new TCP socket's buffers are 16384 and 131072 bytes, not doubled. `n = getsockopt s.0 SOL_SOCKET SO_SNDBUF` binds the value."),
    },
    CallSpec {
        id: CallId::Setsockopt,
        name: "setsockopt",
        mechanism: Mechanism::Socket,
        operands: &[FD, operand("LEVEL", K::OneOf(Family::SockLevel)), operand("OPTION", K::OneOf(Family::SockOption)), operand("VALUE", K::Int).int()],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "setsockopt({0}, {1}, {2}, &(int){{{3}}}, sizeof(int))",
        man: "setsockopt(2)",
        summary: reference_text!("Sets the int option `SO_SNDBUF` or `SO_RCVBUF` of LEVEL `SOL_SOCKET`: the kernel keeps twice VALUE, at most twice `wmem_max`/`rmem_max` (212992 by default) and at least 4608 (send) or 2304 (receive). The send buffer bounds what a socket may have queued unread at its peer, so a smaller one makes a sender wait (or fail with `EAGAIN`) sooner, and a datagram longer than it less 32 bytes fails with `EMSGSIZE`. `SO_PASSCRED` (any VALUE but 0 sets it) makes messages to the socket carry their senders' credentials: a stream read on it stops where the sender changes, and a socket with it and no name binds itself to a name the kernel chooses before it connects or sends a datagram. `SO_REUSEADDR` (any VALUE but 0 sets it) lets a TCP socket bind a port that connections which are not listening hold, if they have it too. The options that only report (`SO_TYPE`, `SO_ERROR`, `SO_PEERCRED`, `SO_ACCEPTCONN`, `SO_DOMAIN`, `SO_PROTOCOL`, `SO_SNDLOWAT`) cannot be set (`ENOPROTOOPT`)."),
    },
    CallSpec {
        id: CallId::Sendto,
        name: "sendto",
        mechanism: Mechanism::Socket,
        operands: &[FD, PAYLOAD, PATH, optional("FLAGS", K::Flags(Family::SendFlag), 0)],
        binding: B::Value,
        result: R::Number,
        may_block: true,
        c_text: "sendto({0}, {1}, {1.len}, {3}, {{AF_UNIX, {2}}}, len)",
        man: "send(2)",
        summary: reference_text!("Sends one datagram to the datagram socket bound at PATH, connected or not: `ENOENT` for no such path, `ECONNREFUSED` for a path whose socket is gone, `EPERM` if that socket is connected to another; sleeps while the receiver holds more than 10 datagrams of senders it is not connected to (`max_dgram_qlen`). A stream socket refuses an address (`EISCONN`, `EOPNOTSUPP`), a seqpacket socket ignores it."),
    },
    CallSpec {
        id: CallId::Recvfrom,
        name: "recvfrom",
        mechanism: Mechanism::Socket,
        operands: &[FD, COUNT, optional("FLAGS", K::Flags(Family::RecvFlag), 0)],
        binding: B::Value,
        result: R::Data,
        may_block: true,
        c_text: "recvfrom({0}, buf, {1}, {2}, &from, &fromlen)",
        man: "recv(2)",
        summary: reference_text!("`recv` that also asks who sent the message: the trace shows the path the sender's socket is bound to (as it is when the message is received), or that it is unnamed. On an unconnected datagram socket, one datagram of any sender."),
    },
    CallSpec {
        id: CallId::StoreBytes,
        name: "store_bytes",
        mechanism: Mechanism::Memory,
        operands: &[operand("ADDR", K::Int), operand("OFFSET", K::Int), PAYLOAD],
        binding: B::Nothing,
        result: R::Zero,
        may_block: false,
        c_text: "memcpy((char *)({0}) + {1}, {2}, {2.len})",
        man: "",
        summary: reference_text!("User-space code, not a system call: copies the payload into memory at ADDR + OFFSET, in one step (on Linux another CPU could see the copy half done: synchronise). The copy goes forward page by page: at the first page not mapped for writing the process gets `SIGSEGV`, and what went to the pages before it stays there; a private page shared since a `fork` is copied first (copy-on-write). The kernel copies nothing: the bytes are in the frames every process mapping them sees."),
    },
    CallSpec {
        id: CallId::LoadBytes,
        name: "load_bytes",
        mechanism: Mechanism::Memory,
        operands: &[operand("ADDR", K::Int), operand("OFFSET", K::Int), COUNT],
        binding: B::Bytes,
        result: R::Data,
        may_block: false,
        c_text: "memcpy(buf, (char *)({0}) + {1}, {2})",
        man: "",
        summary: reference_text!("User-space code, not a system call: copies COUNT bytes from memory at ADDR + OFFSET, in one step, and returns COUNT. Every page it touches must be mapped readable, or the process gets `SIGSEGV`. `NAME =` names the count, and `NAME.first`, `NAME.last` and `NAME.runs` what came, as for `read`."),
    },
    CallSpec {
        id: CallId::Futex,
        name: "futex",
        mechanism: Mechanism::Mm,
        operands: &[operand("ADDR", K::Int), operand("OP", K::OneOf(Family::FutexOp)), operand("VAL", K::Int)],
        binding: B::Value,
        result: R::Number,
        may_block: true,
        c_text: "syscall(SYS_futex, {0}, {1}, {2}, NULL)",
        man: "futex(2)",
        summary: reference_text!("`FUTEX_WAIT`: if the 32-bit word at ADDR (a multiple of 4, else `EINVAL`; unmapped: `EFAULT`) still holds VAL, sleeps until a `FUTEX_WAKE` on the same word, and returns 0; otherwise fails with `EAGAIN` at once. `FUTEX_WAKE`: wakes up to VAL sleepers of the word (at least one), first asleep first, and returns how many. In a shared mapping the word is the same for every process that maps its frame; in a private one, or with the `_PRIVATE` forms, only the process's own sleepers match."),
    },
    CallSpec {
        id: CallId::ShmOpen,
        name: "shm_open",
        mechanism: Mechanism::PosixShm,
        operands: &[NAME, operand("FLAGS", K::Flags(Family::ShmOpenFlag)), MODE],
        binding: B::Fd,
        result: R::Fd,
        may_block: false,
        c_text: "shm_open({0}, {1}[, {2}])",
        man: "shm_open(3)",
        summary: reference_text!("Opens the POSIX shared memory object NAME (`\"/board\"`, the file `/dev/shm/board`) with `O_RDONLY` or `O_RDWR`, and `O_CREAT` (a new object is empty: size 0), `O_EXCL`, `O_TRUNC`; MODE (0600 if left out) for a new object. `ENOENT` for no such object, `EEXIST` with `O_CREAT|O_EXCL`, `EACCES` when the mode refuses the access, `EINVAL` for a name glibc refuses (empty, or with a `/` past the leading ones). The descriptor is close-on-exec."),
    },
    CallSpec {
        id: CallId::Ftruncate,
        name: "ftruncate",
        mechanism: Mechanism::PosixShm,
        operands: &[FD, operand("LENGTH", K::Int)],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "ftruncate({0}, {1})",
        man: "ftruncate(2)",
        summary: reference_text!("Sets the size of the shared memory object open on FD: growing adds pages of zeros, which mappings past the old end may then touch; shrinking frees the pages past the new end and unmaps them from every mapping (private copies too), so touching them is `SIGBUS` again. `EINVAL` for a negative LENGTH or a descriptor not open for writing or not on a regular file (a pipe, a socket), `EBADF` for no descriptor."),
    },
    CallSpec {
        id: CallId::ShmUnlink,
        name: "shm_unlink",
        mechanism: Mechanism::PosixShm,
        operands: &[NAME],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "shm_unlink({0})",
        man: "shm_unlink(3)",
        summary: reference_text!("Removes the name (`ENOENT` if there is none); the object itself lives on while a descriptor or a mapping holds it."),
    },
    CallSpec {
        id: CallId::SemInit,
        name: "sem_init",
        mechanism: Mechanism::NamedSem,
        operands: &[operand("ADDR", K::Int), operand("PSHARED", K::Int).int(), operand("VALUE", K::Int).uint()],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "sem_init((sem_t *){0}, {1}, {2})",
        man: "sem_init(3)",
        summary: reference_text!("Makes the 32 bytes at ADDR an unnamed semaphore holding VALUE (`EINVAL` above `SEM_VALUE_MAX`), in user space: the value and a count of waiters in the 8 bytes at ADDR, and at ADDR + 8 whether its futex is shared (PSHARED not 0: 128) or private to the process (0). Then `sem_wait ADDR`, `sem_post ADDR`, ... use it; between processes it must be in a shared mapping and PSHARED not 0, or a `sem_post` never wakes a sleeper of another process."),
    },
    CallSpec {
        id: CallId::SemDestroy,
        name: "sem_destroy",
        mechanism: Mechanism::NamedSem,
        operands: &[operand("ADDR", K::Int)],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "sem_destroy((sem_t *){0})",
        man: "sem_destroy(3)",
        summary: reference_text!("Returns 0 without touching memory, as glibc does: the semaphore's bytes stay as they were."),
    },
    CallSpec {
        id: CallId::Sendmsg,
        name: "sendmsg",
        mechanism: Mechanism::Socket,
        operands: &[
            FD,
            PAYLOAD,
            optional("RIGHTS", K::Rights, 0),
            optional("FLAGS", K::Flags(Family::SendFlag), 0),
            added_later("CREDS", K::Pid, 0),
        ],
        binding: B::Value,
        result: R::Number,
        may_block: true,
        c_text: "sendmsg({0}, &{{{1}, {1.len}[, SCM_CREDENTIALS {{{4}, uid, gid}}][, SCM_RIGHTS {2}]}}[, {3}])",
        man: "sendmsg(2)",
        summary: reference_text!("`send` with descriptors: RIGHTS `{FD, ...}` (up to five, `{FD} * N` repeats them) travel with the bytes as an `SCM_RIGHTS` control message, each holding its open file until the message is received, or dropped unread when the receiving socket closes. `EBADF` for a descriptor that is not open, `EINVAL` for more than 253 (`SCM_MAX_FD`); on a stream socket the descriptors go with the first buffer of the send, and a send of no bytes sends none. CREDS, a pid, sends an `SCM_CREDENTIALS` control message (before the rights) with the process's own uid and gid: only the sender's own pid is allowed (`EPERM` for any other, even `self`'s parent), and every message of the send then carries credentials, whether or not either socket has `SO_PASSCRED`. Write RIGHTS as `{}` to send credentials alone."),
    },
    CallSpec {
        id: CallId::Recvmsg,
        name: "recvmsg",
        mechanism: Mechanism::Socket,
        operands: &[FD, COUNT, optional("NFDS", K::Int, 253), optional("FLAGS", K::Flags(Family::RecvFlag), 0)],
        binding: B::Rights,
        result: R::Message,
        may_block: true,
        c_text: "recvmsg({0}, &{{buf, {1}[, room for {2} fds]}}[, {3}])",
        man: "recvmsg(2)",
        summary: reference_text!("`recv` that also takes the descriptors a message carries, with room for NFDS of them (253, `SCM_MAX_FD`, if left out): each becomes a new descriptor of the receiver, the lowest free, on the same open file as the sender's. Those past NFDS, or past a full table, are closed and the message's flags say `MSG_CTRUNC`; `MSG_CMSG_CLOEXEC` makes the new descriptors close-on-exec. `NAME =` names the count, `NAME.fd` the first new descriptor (-1 for none), `NAME.fds` how many came, `NAME.flags` the flags, `NAME.pid` the pid of the message's `SCM_CREDENTIALS` on a socket with `SO_PASSCRED` (0 for a message that carried none; -1 on a socket without the option, which gets no credentials; the buffer then has room for them as well). A stream socket's receive stops after the bytes of a send that carried descriptors."),
    },
    CallSpec {
        id: CallId::Poll,
        name: "poll",
        mechanism: Mechanism::Poll,
        operands: &[
            operand("MS", K::Int).int(),
            operand("PFD", K::PollFd),
            optional("PFD", K::PollFd, 0),
            optional("PFD", K::PollFd, 0),
            optional("PFD", K::PollFd, 0),
            optional("PFD", K::PollFd, 0),
        ],
        binding: B::Polled,
        result: R::Number,
        may_block: true,
        c_text: "poll({{{1}[, {2}][, {3}][, {4}][, {5}]}}, {nfds}, {0})",
        man: "poll(2)",
        summary: reference_text!("Waits until one of the descriptors is ready for what its entry `{FD, EVENTS}` asks (`POLLIN`, `POLLOUT`, ...), or MS milliseconds pass (-1: no limit, 0: just look). Returns how many entries have events; `NAME.0`, `NAME.1`, ... are each entry's `revents`, which may also hold `POLLERR`, `POLLHUP` and `POLLNVAL` unasked. A negative FD is skipped. Restarted after a stop; a handler makes it fail with `EINTR`, even with `SA_RESTART`."),
    },
    CallSpec {
        id: CallId::Select,
        name: "select",
        mechanism: Mechanism::Poll,
        operands: &[
            operand("MS", K::Int),
            operand("READFDS", K::FdSet),
            optional("WRITEFDS", K::FdSet, 0),
            optional("EXCEPTFDS", K::FdSet, 0),
        ],
        binding: B::Selected,
        result: R::Number,
        may_block: true,
        c_text: "select({nfds}, {1}, {2}, {3}, {0.timeval})",
        man: "select(2)",
        summary: reference_text!("Waits until a descriptor of READFDS can be read without blocking (or is at end of file, or has an error), one of WRITEFDS written, or one of EXCEPTFDS has urgent data, or MS milliseconds pass (-1: no limit, 0: just look). Each set is `{FD, ...}`, up to five descriptors, `{}` for none; a negative FD is left out of its set. Returns how many descriptors are ready, a descriptor ready in two sets counting twice; `NAME.read`, `NAME.write` and `NAME.except` say which, one bit per descriptor in the order its set lists them (1 for the first, 2 for the second, 4 for the third, ...). `EBADF` if a descriptor is not open (or is 1024 or more). Restarted after a stop; a handler makes it fail with `EINTR`, even with `SA_RESTART`."),
    },
    CallSpec {
        id: CallId::EpollCreate1,
        name: "epoll_create1",
        mechanism: Mechanism::Poll,
        operands: &[optional("FLAGS", K::Flags(Family::EpollFlag), 0)],
        binding: B::Fd,
        result: R::Fd,
        may_block: false,
        c_text: "epoll_create1({0})",
        man: "epoll_create1(2)",
        summary: reference_text!("Makes an epoll instance, an object in the kernel that watches open files for its users, on the lowest free descriptor (`EPOLL_CLOEXEC`: close it on exec). `EINVAL` for any other flag."),
    },
    CallSpec {
        id: CallId::EpollCtl,
        name: "epoll_ctl",
        mechanism: Mechanism::Poll,
        operands: &[
            operand("EPFD", K::Fd),
            operand("OP", K::OneOf(Family::EpollOp)),
            FD,
            optional("EVENTS", K::Flags(Family::EpollEvent), 0).uint(),
        ],
        binding: B::Value,
        result: R::Zero,
        may_block: false,
        c_text: "epoll_ctl({0}, {1}, {2}, &{{{3}, {{.fd = {2}}}}})",
        man: "epoll_ctl(2)",
        summary: reference_text!("`EPOLL_CTL_ADD` makes the instance EPFD watch the open file behind FD for EVENTS (`EPOLLIN`, `EPOLLOUT`, `EPOLLRDHUP`, ...; `EPOLLERR` and `EPOLLHUP` are always watched), level-triggered unless `EPOLLET` (edge-triggered) or `EPOLLONESHOT` (once, then disabled until `EPOLL_CTL_MOD`); `EPOLL_CTL_MOD` changes what it watches, `EPOLL_CTL_DEL` stops (EVENTS ignored). The item belongs to the open file, not the descriptor: it stays while a duplicate keeps the file open, reporting FD. `EBADF` for a descriptor not open, `EPERM` for a file that cannot be polled (`/dev/null`, a shared memory object), `EINVAL` if EPFD is no epoll instance or is FD, `ELOOP` for instances that would watch each other, `EEXIST`, `ENOENT`. `EPOLLEXCLUSIVE` is not modelled."),
    },
    CallSpec {
        id: CallId::EpollWait,
        name: "epoll_wait",
        mechanism: Mechanism::Poll,
        operands: &[operand("EPFD", K::Fd), operand("MAXEVENTS", K::Int).int(), operand("MS", K::Int).int()],
        binding: B::Epolled,
        result: R::Number,
        may_block: true,
        c_text: "epoll_wait({0}, events, {1}, {2})",
        man: "epoll_wait(2)",
        summary: reference_text!("Waits until the instance EPFD has events to report, or MS milliseconds pass (-1: no limit, 0: just look), and returns how many it reports, at most MAXEVENTS (1 to 5 here: a run that would report more ends at a limit), oldest ready first; `NAME.fd0`, `NAME.fd1`, ... are their descriptors and `NAME.events0`, ... their events. A level-triggered item is reported again while it stays ready, an edge-triggered one after its file is woken again. `EINVAL` for MAXEVENTS 0 or less, or a descriptor that is no epoll instance. A signal makes it fail with `EINTR`, with or without a handler, even after a stop."),
    },
];

impl CallId {
    pub fn spec(self) -> &'static CallSpec {
        &CALLS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Where a `semop`'s operations start among its operands (after the timeout, for `semtimedop`).
    pub fn first_sembuf(self) -> usize {
        if self == CallId::Semtimedop {
            2
        } else {
            1
        }
    }

    /// The call with this number on the wire, if there is one.
    pub fn from_number(number: u16) -> Option<CallId> {
        CALLS.get(number as usize).map(|spec| spec.id)
    }

    /// The call a scenario keyword names (not the IPC mechanisms' calls in a build without them: see
    /// [`crate::IPC`]).
    pub fn from_name(name: &str) -> Option<CallId> {
        CALLS.iter().find(|spec| spec.name == name && spec.in_this_build()).map(|spec| spec.id)
    }
}

/// Linux calls a scenario might reach for that the simulator does not model yet, so that the parser
/// can say so instead of "expected a statement".
pub const NOT_MODELLED: &[&str] = &[
    "accept4",
    "ppoll",
    "epoll_create",
    "setsid",
    "getsid",
    "execve",
    "vfork",
    "clone",
    "eventfd",
    "readv",
    "writev",
    "splice",
    "tee",
    "vmsplice",
    "fstat",
    "stat",
    "creat",
    "openat",
    "rename",
    "mknod",
];

/// The language reference's table of calls, generated from [`CALLS`] (checked against
/// `docs/scenario-language.md` by a test).
pub fn reference_table() -> String {
    let mut text = String::from("| Statement | In C | Linux call | What it does |\n| --- | --- | --- | --- |\n");
    for spec in CALLS {
        text.push_str(&format!(
            "| `{}` | `{}` | `{}` | {} |\n",
            spec.usage().replace('|', "\\|"),
            spec.c_form().replace('|', "\\|"),
            spec.man,
            spec.summary.replace('|', "\\|")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_indexed_by_call_id() {
        for (index, spec) in CALLS.iter().enumerate() {
            assert_eq!(spec.id as usize, index, "{} is out of place", spec.name);
            assert_eq!(CallId::from_number(index as u16), Some(spec.id));
            assert_eq!(CallId::from_name(spec.name), Some(spec.id));
        }
        assert_eq!(CallId::from_number(CALLS.len() as u16), None);
    }

    #[test]
    fn optional_operands_come_last_and_modelled_calls_are_not_listed_as_missing() {
        for spec in CALLS {
            let first_optional = spec.operands.iter().position(|operand| operand.default.is_some());
            if let Some(first) = first_optional {
                assert!(spec.operands[first..].iter().all(|operand| operand.default.is_some()), "{}", spec.name);
            }
            assert!(!NOT_MODELLED.contains(&spec.name), "{} is modelled", spec.name);
            // An operand dropped when left out is optional, and so is every one after it.
            if let Some(first) = spec.operands.iter().position(|operand| operand.dropped_when_left_out) {
                assert!(spec.operands[first..].iter().all(|operand| operand.dropped_when_left_out), "{}", spec.name);
            }
            for (index, operand) in spec.operands.iter().enumerate() {
                // A field a control call reads is named with its result (`ds.msg_qnum is 3`).
                if operand.word == "FIELD" {
                    continue;
                }
                let placeholder = format!("{{{index}");
                assert!(spec.c_text.contains(&placeholder), "{} does not print operand {}", spec.name, operand.word);
            }
        }
    }

    #[test]
    fn the_c_form_puts_operand_words_in_the_template() {
        assert_eq!(CallId::Write.spec().c_form(), "write(FD, PAYLOAD, len(PAYLOAD))");
        assert_eq!(CallId::Msgsnd.spec().c_form(), "msgsnd(ID, {TYPE, PAYLOAD}, len(PAYLOAD), FLAGS)");
        assert_eq!(CallId::Semop.spec().c_form(), "semop(ID, {OP[, OP][, OP][, OP][, OP]}, nsops)");
    }

    #[test]
    fn usage_reads_like_the_statement() {
        assert_eq!(CallId::Read.spec().usage(), "[NAME =] read FD COUNT");
        assert_eq!(CallId::Pipe.spec().usage(), "NAME = pipe");
        assert_eq!(CallId::Waitpid.spec().usage(), "[NAME =] waitpid PROC [OPTIONS]");
        assert_eq!(CallId::Exit.spec().usage(), "exit STATUS");
    }
}
