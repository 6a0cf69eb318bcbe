//! Observations: what one process did in one step, as either arm saw it, and how the simulator's events
//! of a step turn into the observations Linux must match.
//!
//! Both arms are described in the same terms ([`Obs`]): a call returned (with a [`Res`]), blocked, the
//! process died, stopped, continued, or was reaped by `init`. The simulator's side comes from its
//! events ([`expected_of`]); the Linux side from the replies and from `/proc` (the lockstep driver).
//! Everything here is plain data that serializes, because a run is driven in a process of its own and
//! its report travels back to `ipclab check` as JSON.

use super::protocol::{Below, SigInfo};
use serde::{Deserialize, Serialize};
use sim_core::linux::signal::set_text;
use sim_core::linux::ChildStatus;
use sim_core::present::render::{quote_bytes, status_words};
use sim_core::trace::{
    Args, CallInterrupted, CallResult, Delivery, EventKind, ReapCause, SignalEffect, IMPLICIT_EXIT_OP,
    IMPLICIT_SIGRETURN_OP,
};
use sim_core::{Event, Pid, Trace};

/// How many bytes of a read a report shows.
const SHOWN_BYTES: usize = 64;

/// Bytes a read returned. Compared in full while the run is checked; reported as their length, the
/// first [`SHOWN_BYTES`] quoted, and a 64-bit FNV-1a hash of all of them (reads can be megabytes).
#[derive(Clone, Debug)]
pub struct Bytes {
    pub len: u64,
    pub head: Vec<u8>,
    pub fnv64: u64,
    /// All of them, while the step is being compared (never in a report).
    full: Option<Vec<u8>>,
}

impl Bytes {
    pub fn new(bytes: Vec<u8>) -> Bytes {
        let fnv64 = bytes
            .iter()
            .fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| (hash ^ *byte as u64).wrapping_mul(0x100_0000_01b3));
        Bytes {
            len: bytes.len() as u64,
            head: bytes[..bytes.len().min(SHOWN_BYTES)].to_vec(),
            fnv64,
            full: Some(bytes),
        }
    }

    /// Drops the full bytes once they have been compared.
    pub fn forget_full(&mut self) {
        self.full = None;
    }

    /// Quoted for a report: the first `max_bytes`, and `...` when there are more.
    pub fn quoted(&self, max_bytes: usize) -> String {
        let mut text = quote_bytes(&self.head, max_bytes);
        if self.len as usize > max_bytes.min(self.head.len()) && !text.ends_with("...") {
            text.push_str("...");
        }
        text
    }
}

impl PartialEq for Bytes {
    fn eq(&self, other: &Bytes) -> bool {
        match (&self.full, &other.full) {
            (Some(mine), Some(theirs)) => mine == theirs,
            _ => self.len == other.len && self.fnv64 == other.fnv64 && self.head == other.head,
        }
    }
}

impl Eq for Bytes {}

/// The form bytes take in a report: `{"len": 13, "start": "\"hello, child\\n\"", "fnv64": "..."}`.
#[derive(Serialize, Deserialize)]
struct BytesForm {
    len: u64,
    start: String,
    fnv64: String,
}

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        BytesForm { len: self.len, start: self.quoted(SHOWN_BYTES), fnv64: format!("{:016x}", self.fnv64) }
            .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Bytes, D::Error> {
        let form = BytesForm::deserialize(deserializer)?;
        let head = unquote(&form.start).map_err(serde::de::Error::custom)?;
        let fnv64 = u64::from_str_radix(&form.fnv64, 16).map_err(serde::de::Error::custom)?;
        Ok(Bytes { len: form.len, head, fnv64, full: None })
    }
}

/// The bytes of a string that [`quote_bytes`] made (a trailing `...` is not part of them).
fn unquote(text: &str) -> Result<Vec<u8>, String> {
    let inner = text.strip_prefix('"').ok_or("quoted bytes start with a quote")?;
    let mut bytes = Vec::new();
    let mut chars = inner.bytes();
    while let Some(byte) = chars.next() {
        match byte {
            b'"' => return Ok(bytes),
            b'\\' => bytes.push(match chars.next().ok_or("an escape at the end")? {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                b'0' => 0,
                b'\\' => b'\\',
                b'"' => b'"',
                b'x' => {
                    let digits = [chars.next().unwrap_or(b'?'), chars.next().unwrap_or(b'?')];
                    let digits = std::str::from_utf8(&digits).map_err(|error| error.to_string())?;
                    u8::from_str_radix(digits, 16).map_err(|error| error.to_string())?
                }
                other => return Err(format!("unknown escape \\{}", other as char)),
            }),
            other => bytes.push(other),
        }
    }
    Err("quoted bytes end with a quote".to_string())
}

/// A call's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Res {
    Value {
        value: i64,
    },
    Errno {
        errno: u16,
    },
    Data {
        bytes: Bytes,
    },
    Pair {
        read_fd: i32,
        write_fd: i32,
    },
    Fork {
        child: Pid,
    },
    /// `wait`/`waitpid`: the child's pid and its status.
    Waited {
        child: Pid,
        status: ChildStatus,
    },
    /// `waitid`: 0, and the child and its status in the `siginfo_t`.
    WaitedInfo {
        child: Pid,
        status: ChildStatus,
    },
    /// 0, and this value stored through the call's pointer.
    Out {
        value: i64,
    },
    /// A message received, with its type or priority.
    Message {
        bytes: Bytes,
        tag: i64,
    },
    /// 0, and these `unsigned short`s stored in the call's array (`semctl GETALL`).
    Array {
        values: Vec<u16>,
    },
    /// `recvmsg`: the bytes, the descriptors received (how many, and the number of the first, which
    /// must be the simulator's), `msg_flags`, and the pid of its credentials (-1 for none).
    Received {
        bytes: Bytes,
        fd: i32,
        fds: u16,
        flags: u16,
        creds: i32,
    },
    /// `poll`: how many entries had events, and each entry's `revents`.
    Polled {
        ready: u16,
        revents: [u16; sim_core::linux::poll::MAX_POLL_FDS],
    },
    Epolled {
        ready: u16,
        fds: [i16; sim_core::linux::epoll::MAX_EPOLL_EVENTS],
        events: [u16; sim_core::linux::epoll::MAX_EPOLL_EVENTS],
    },
}

/// What one process did in one step, or what happened to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Obs {
    Returned {
        result: Res,
    },
    Blocked,
    Died {
        status: ChildStatus,
    },
    Stopped,
    Continued,
    /// `init` collected it, with this status.
    Reaped {
        status: ChildStatus,
    },
    /// It started running its handler for `signal`: what the handler's `siginfo_t` says (when the
    /// handler was installed with `SA_SIGINFO`), and what the code it interrupted was doing.
    Handler {
        signal: u8,
        info: Option<SigInfo>,
        below: Below,
    },
    /// It returned from its handler for `signal` (`rt_sigreturn`).
    Sigreturn {
        signal: u8,
    },
    /// The call a handler interrupted starts again (made again at the process's next step).
    Restarts,
    /// It waits for its next step, with nothing to report.
    Rests,
    /// Its signals as `/proc/PID/status` shows them (`SigBlk`, `SigPnd` and `ShdPnd` together,
    /// `SigIgn`, `SigCgt`), or as the simulator holds them.
    Signals {
        blocked: SignalSet,
        pending: SignalSet,
        ignored: SignalSet,
        caught: SignalSet,
    },
    /// The mappings of its address space in the scenario's part of it, as `/proc/PID/maps` lists them
    /// (`start-end perms`, hexadecimal), neighbours with the same permissions joined.
    Mappings {
        ranges: Vec<String>,
    },
    /// The IPC objects still there when the run ends, one line each, sorted.
    LeftBehind {
        objects: Vec<String>,
    },
    /// How many Unix-domain sockets only messages in flight hold, once the garbage collector has run.
    InFlight {
        sockets: u32,
    },
    /// Only Linux: nothing decisive happened in time, or the runner could not tell.
    Unclear {
        detail: String,
    },
}

/// A set of signals, written as strace writes one (`[SIGINT SIGUSR1]`) in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SignalSet(pub u64);

impl Obs {
    /// Drops the full bytes of a read once they have been compared.
    pub fn forget_full(&mut self) {
        if let Obs::Returned {
            result: Res::Data { bytes } | Res::Message { bytes, .. } | Res::Received { bytes, .. },
        } = self
        {
            bytes.forget_full();
        }
    }
}

/// The simulator's result in the terms both arms share.
pub fn sim_result(trace: &Trace, result: &CallResult) -> Res {
    match *result {
        CallResult::Value { value } => Res::Value { value },
        CallResult::Error { errno } => Res::Errno { errno: errno.0 },
        CallResult::Data { offset, len } => Res::Data { bytes: Bytes::new(trace.read_data(offset, len).to_vec()) },
        CallResult::Pair { read_fd, write_fd } => Res::Pair { read_fd, write_fd },
        CallResult::Fork { child } => Res::Fork { child },
        CallResult::Waited { child, status } => Res::Waited { child, status },
        CallResult::WaitedInfo { child, status } => Res::WaitedInfo { child, status },
        CallResult::Out { value } => Res::Out { value },
        CallResult::Message { offset, len, tag, .. } => {
            Res::Message { bytes: Bytes::new(trace.read_data(offset, len).to_vec()), tag }
        }
        CallResult::Received { offset, len, fd, fds, flags, creds } => {
            Res::Received { bytes: Bytes::new(trace.read_data(offset, len).to_vec()), fd, fds, flags, creds }
        }
        CallResult::Polled { ready, revents } => Res::Polled { ready, revents },
        CallResult::Epolled { ready, fds, events } => Res::Epolled { ready, fds, events },
        CallResult::Array { offset, len } => Res::Array {
            values: trace
                .read_data(offset, len)
                .chunks_exact(2)
                .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                .collect(),
        },
    }
}

/// How a process ended, in the trace's words; a signal the simulator has no name for (a real-time
/// signal) by its number.
fn status_text(status: ChildStatus) -> String {
    let named = |signal: sim_core::linux::Signal| signal.name() != "SIG?";
    match status {
        ChildStatus::Killed { signal, .. } if !named(signal) => format!("killed by signal {}", signal.0),
        ChildStatus::Stopped(signal) if !named(signal) => format!("stopped by signal {}", signal.0),
        status => status_words(status),
    }
}

fn errno_text(errno: u16) -> String {
    match sim_core::linux::Errno(errno).name() {
        "E?" => format!("errno {errno}"),
        name => name.to_string(),
    }
}

/// The number a call returned as the kernel gives it (`-errno` for an error), as a handler's saved
/// registers show it.
pub fn raw_value(result: &Res) -> i64 {
    match result {
        Res::Value { value } => *value,
        Res::Errno { errno } => -(*errno as i64),
        Res::Data { bytes } | Res::Message { bytes, .. } | Res::Received { bytes, .. } => bytes.len as i64,
        Res::Pair { .. } | Res::WaitedInfo { .. } | Res::Out { .. } | Res::Array { .. } => 0,
        Res::Fork { child } => *child as i64,
        Res::Waited { child, .. } => *child as i64,
        Res::Polled { ready, .. } | Res::Epolled { ready, .. } => *ready as i64,
    }
}

fn signal_name(signal: u8) -> String {
    match sim_core::linux::Signal(signal).name() {
        "SIG?" => format!("signal {signal}"),
        name => name.to_string(),
    }
}

fn code_text(code: i64) -> String {
    match code {
        0 => "SI_USER".to_string(),
        -1 => "SI_QUEUE".to_string(),
        -6 => "SI_TKILL".to_string(),
        -3 => "SI_MESGQ".to_string(),
        0x80 => "SI_KERNEL".to_string(),
        1 => "CLD_EXITED".to_string(),
        2 => "CLD_KILLED".to_string(),
        5 => "CLD_STOPPED".to_string(),
        6 => "CLD_CONTINUED".to_string(),
        other => other.to_string(),
    }
}

/// An observation in the words of the trace.
pub fn obs_text(obs: &Obs) -> String {
    match obs {
        Obs::Returned { result } => match result {
            Res::Value { value } => format!("= {value}"),
            Res::Errno { errno } => format!("= -1 {}", errno_text(*errno)),
            Res::Data { bytes } if bytes.len == 0 => "= 0 (end of file)".to_string(),
            Res::Data { bytes } => format!("= {} {}", bytes.len, bytes.quoted(20)),
            Res::Pair { read_fd, write_fd } => format!("= 0 [{read_fd}, {write_fd}]"),
            Res::Fork { child } => format!("= pid {child}"),
            Res::Waited { child, status } => format!("= pid {child} ({})", status_text(*status)),
            Res::WaitedInfo { child, status } => format!("= 0 (pid {child}, {})", status_text(*status)),
            Res::Out { value } => format!("= 0, stores {value}"),
            Res::Message { bytes, tag } => format!("= {} {} (tag {tag})", bytes.len, bytes.quoted(20)),
            Res::Received { bytes, fd, fds, flags, creds: -1 } => {
                format!("= {} {} ({fds} fds from fd {fd}, msg_flags {flags:#x})", bytes.len, bytes.quoted(20))
            }
            Res::Received { bytes, fd, fds, flags, creds } => format!(
                "= {} {} ({fds} fds from fd {fd}, credentials of pid {creds}, msg_flags {flags:#x})",
                bytes.len,
                bytes.quoted(20)
            ),
            Res::Polled { ready, revents } => format!(
                "= {ready} (revents {})",
                revents.iter().map(|value| format!("{value:#x}")).collect::<Vec<_>>().join(", ")
            ),
            Res::Epolled { ready, fds, events } => format!(
                "= {ready} ({})",
                fds.iter()
                    .zip(events)
                    .take(*ready as usize)
                    .map(|(fd, value)| format!("fd {fd} events {value:#x}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Res::Array { values } => format!(
                "= 0, stores {{{}}}",
                values.iter().map(|value| value.to_string()).collect::<Vec<_>>().join(", ")
            ),
        },
        Obs::Blocked => "blocks".to_string(),
        Obs::Died { status } => status_text(*status),
        Obs::Stopped => "stopped".to_string(),
        Obs::Continued => "continued".to_string(),
        Obs::Reaped { status } => format!("reaped ({})", status_text(*status)),
        Obs::Mappings { ranges } if ranges.is_empty() => "no mappings".to_string(),
        Obs::Mappings { ranges } => ranges.join(", "),
        Obs::LeftBehind { objects } if objects.is_empty() => "none".to_string(),
        Obs::LeftBehind { objects } => objects.join("; "),
        Obs::InFlight { sockets } => format!("{sockets} Unix-domain sockets only in flight"),
        Obs::Handler { signal, info, below } => {
            let mut text = format!("runs its {} handler", signal_name(*signal));
            if let Some(info) = info {
                text.push_str(&format!(
                    " (si_pid {}, si_value {}, si_code {})",
                    info.pid,
                    info.value,
                    code_text(info.code)
                ));
            }
            match below {
                Below::NotInCall => {}
                Below::Restart => text.push_str(" over a call to start again"),
                Below::Returned { value } if *value < 0 => {
                    text.push_str(&format!(" over a call that failed with {}", errno_text((-value) as u16)))
                }
                Below::Returned { value } => text.push_str(&format!(" over a call that returned {value}")),
            }
            text
        }
        Obs::Sigreturn { signal } => format!("returns from its {} handler", signal_name(*signal)),
        Obs::Restarts => "starts again".to_string(),
        Obs::Rests => "waits for its next step".to_string(),
        Obs::Signals { blocked, pending, ignored, caught } => format!(
            "blocked {} pending {} ignored {} caught {}",
            set_text(blocked.0),
            set_text(pending.0),
            set_text(ignored.0),
            set_text(caught.0)
        ),
        Obs::Unclear { detail } => detail.clone(),
    }
}

/// Why a difference matters, in a sentence: `step 7, child: ... (simulator: ...; Linux: ...)`.
pub fn explain(step: u32, process: &str, simulator: &Obs, linux: &Obs) -> String {
    let what = match (simulator, linux) {
        (Obs::Blocked, Obs::Returned { .. }) => {
            "Linux completed the call where the simulator puts the process to sleep".to_string()
        }
        (Obs::Returned { .. }, Obs::Blocked) => {
            "Linux put the process to sleep where the simulator's call returns".to_string()
        }
        (Obs::Returned { .. }, Obs::Returned { .. }) => "the call gave back a different result on Linux".to_string(),
        (Obs::Died { .. }, Obs::Died { .. }) => "the process ended differently on Linux".to_string(),
        (Obs::Died { .. }, _) => "the simulator says the process ends here; on Linux it did not".to_string(),
        (_, Obs::Died { .. }) => "the process died on Linux where the simulator says it goes on".to_string(),
        (Obs::Mappings { .. }, Obs::Mappings { .. }) => {
            "the process's mappings differ on Linux (/proc/PID/maps)".to_string()
        }
        (Obs::LeftBehind { .. }, Obs::LeftBehind { .. }) => {
            "the run leaves other IPC objects behind on Linux".to_string()
        }
        (Obs::InFlight { .. }, Obs::InFlight { .. }) => {
            "the garbage collector of Unix-domain sockets freed other sockets on Linux".to_string()
        }
        (Obs::Reaped { .. }, _) => "the simulator's init reaps the process here; Linux's init could not".to_string(),
        (Obs::Handler { .. }, Obs::Handler { .. }) => "Linux ran the handler differently".to_string(),
        (Obs::Handler { .. }, _) => "the simulator runs a handler here; Linux did not".to_string(),
        (_, Obs::Handler { .. }) => "Linux ran a handler where the simulator does not".to_string(),
        (Obs::Signals { .. }, Obs::Signals { .. }) => {
            "the process's signal mask, pending set or actions differ on Linux (/proc/PID/status)".to_string()
        }
        (_, Obs::Unclear { .. }) => "Linux did not do what the simulator says in time".to_string(),
        _ => "the process's state differs".to_string(),
    };
    format!("step {step}, {process}: {what} (simulator: {}; Linux: {})", obs_text(simulator), obs_text(linux))
}

/// A deliberately wrong expectation, for the test that proves differences are caught.
pub fn perturb(obs: &Obs) -> Obs {
    match obs {
        Obs::Returned { result: Res::Value { value } } => Obs::Returned { result: Res::Value { value: value + 1 } },
        Obs::Returned { result: Res::Data { bytes } } => {
            let mut more = bytes.full.clone().unwrap_or_else(|| bytes.head.clone());
            more.push(b'!');
            Obs::Returned { result: Res::Data { bytes: Bytes::new(more) } }
        }
        Obs::Blocked => Obs::Returned { result: Res::Value { value: 0 } },
        Obs::Handler { signal, info, below } => {
            Obs::Handler { signal: signal.wrapping_add(1), info: *info, below: *below }
        }
        _ => Obs::Blocked,
    }
}

/// What the process that ran did in its step, in order, as the simulator's events say it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Move {
    /// It took a signal (before its call, or as it returned from it).
    Deliver { signal: u8, delivery: Delivery },
    /// Its call completed (`op` is its operation; an interrupted call completes with `EINTR` or a
    /// partial count).
    Completed { op: u32, args: Args, result: Obs },
    /// Its call went to sleep.
    Blocked { op: u32, args: Args },
    /// A signal interrupted the call it was woken in.
    Interrupted { op: u32, outcome: CallInterrupted },
    /// The implicit `rt_sigreturn()` at the end of a handler.
    Sigreturn { signal: u8 },
    /// `fork` made this child.
    Forked { op: u32, child: Pid },
    /// The implicit `exit(0)` at the end of its code (its death follows).
    ImplicitExit,
    /// It ended (its own `exit`, the end of its code, or a signal's default action).
    Died { status: ChildStatus },
    /// Its own code divided by zero (operation `op`): before its call (in an operand), or after it.
    Fault { op: u32 },
}

/// The simulator's side of one step: what the process that ran did, and what happened to the others.
#[derive(Clone, Debug, Default)]
pub struct Expected {
    /// What the process that ran did, in order (empty in the set-up before the first step).
    pub moves: Vec<Move>,
    /// Other processes that died, stopped or continued.
    pub others: Vec<(Pid, Obs)>,
    /// Calls of other processes that completed on their behalf.
    pub owed: Vec<(Pid, u32, Args, Obs)>,
    /// Processes whose own code divided by zero as they start, or a fork child's right after `fork`.
    pub faults: Vec<(Pid, u32, Obs)>,
    /// Zombies `init` collected, in order.
    pub reaped_by_init: Vec<Pid>,
    /// Every process reaped in the step, and how.
    pub reaped: Vec<(Pid, ReapCause)>,
    /// Exit statuses recorded in the step.
    pub exits: Vec<(Pid, ChildStatus)>,
    /// Processes a signal was sent to in the step (their pending sets changed).
    pub signalled: Vec<Pid>,
}

impl Expected {
    /// The child a `fork` made.
    pub fn forked(&self) -> Option<Pid> {
        self.moves.iter().find_map(|step| match step {
            Move::Forked { child, .. } => Some(*child),
            _ => None,
        })
    }
}

/// Reads the events of one step (or of the set-up, with no actor).
pub fn expected_of(events: &[Event], trace: &Trace, actor: Option<Pid>) -> Expected {
    let is_actor = |pid: Pid| Some(pid) == actor;
    let faulting: Vec<(Pid, u32)> = events
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::Fault { pid, op, .. } => Some((pid, op)),
            _ => None,
        })
        .collect();
    let faults = |pid: Pid| faulting.iter().any(|(faulted, _)| *faulted == pid);
    let mut expected = Expected::default();
    for event in events {
        match &event.kind {
            EventKind::Call { pid, op, args, .. } if is_actor(*pid) && *op == IMPLICIT_SIGRETURN_OP => {
                expected.moves.push(Move::Sigreturn { signal: args.get(0) as u8 })
            }
            // The end of its code: its death follows.
            EventKind::Call { pid, op, .. } if is_actor(*pid) && *op == IMPLICIT_EXIT_OP => {
                expected.moves.push(Move::ImplicitExit)
            }
            EventKind::Call { pid, result: CallResult::Fork { .. }, .. } if is_actor(*pid) => {}
            EventKind::Call { pid, op, args, result } if is_actor(*pid) => expected.moves.push(Move::Completed {
                op: *op,
                args: *args,
                result: Obs::Returned { result: sim_result(trace, result) },
            }),
            EventKind::Call { pid, op, args, result } => {
                expected.owed.push((*pid, *op, *args, Obs::Returned { result: sim_result(trace, result) }));
            }
            EventKind::Block { pid, op, args, .. } if is_actor(*pid) => {
                expected.moves.push(Move::Blocked { op: *op, args: *args })
            }
            EventKind::Interrupted { pid, op, outcome, .. } if is_actor(*pid) => {
                expected.moves.push(Move::Interrupted { op: *op, outcome: *outcome })
            }
            EventKind::Fork { parent, child, op } if is_actor(*parent) => {
                expected.moves.push(Move::Forked { op: *op, child: *child })
            }
            EventKind::Fault { pid, op, .. } if is_actor(*pid) => expected.moves.push(Move::Fault { op: *op }),
            EventKind::Delivered { pid, signal, delivery } if is_actor(*pid) => {
                // A fault's own delivery is the fault.
                let the_fault_s_own =
                    faults(*pid) && matches!(delivery, Delivery::Terminated { .. } | Delivery::Dumped);
                if !the_fault_s_own {
                    expected.moves.push(Move::Deliver { signal: signal.0, delivery: *delivery });
                }
            }
            EventKind::Delivered { pid, delivery: Delivery::Stopped, .. } => expected.others.push((*pid, Obs::Stopped)),
            EventKind::Exit { pid, status } => {
                expected.exits.push((*pid, *status));
                if faults(*pid) {
                    // Its death is the fault's.
                } else if is_actor(*pid) {
                    expected.moves.push(Move::Died { status: *status });
                } else {
                    expected.others.push((*pid, Obs::Died { status: *status }));
                }
            }
            EventKind::Signal { to, effect, .. } => {
                if *effect == SignalEffect::Continued {
                    expected.others.push((*to, Obs::Continued));
                }
                if !expected.signalled.contains(to) {
                    expected.signalled.push(*to);
                }
            }
            EventKind::Reap { pid, cause, .. } => {
                expected.reaped.push((*pid, *cause));
                if *cause == ReapCause::Init {
                    expected.reaped_by_init.push(*pid);
                }
            }
            _ => {}
        }
    }
    // A process that continues and dies in the same step is simply seen dead.
    let dying: Vec<Pid> =
        expected.others.iter().filter(|(_, obs)| matches!(obs, Obs::Died { .. })).map(|(pid, _)| *pid).collect();
    expected.others.retain(|(pid, obs)| matches!(obs, Obs::Died { .. }) || !dying.contains(pid));
    for (pid, op) in &faulting {
        if is_actor(*pid) {
            continue;
        }
        let status = expected.exits.iter().find(|(dead, _)| dead == pid).map(|(_, status)| *status);
        if let Some(status) = status {
            expected.faults.push((*pid, *op, Obs::Died { status }));
        }
    }
    expected
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::linux::{Errno, Signal};
    use sim_core::trace::{BlockReason, SignalOrigin};

    fn event(kind: EventKind) -> Event {
        Event { step: 4, kind }
    }

    fn args(values: &[i64]) -> Args {
        Args::new(values)
    }

    #[test]
    fn bytes_compare_in_full_and_report_their_start() {
        let long: Vec<u8> = (0..100u8).collect();
        let mut one = Bytes::new(long.clone());
        let mut changed = long.clone();
        changed[99] ^= 1;
        assert_ne!(one, Bytes::new(changed));
        assert_eq!(one, Bytes::new(long));
        let json = serde_json::to_value(&one).unwrap();
        assert_eq!(json["len"], 100);
        assert!(json["start"].as_str().unwrap().ends_with("..."), "{json}");
        one.forget_full();
        let back: Bytes = serde_json::from_value(json).unwrap();
        assert_eq!(back, one, "a report read back equals what was written");
        assert_eq!(back.head, one.head);
        let text = Bytes::new(b"hi\n\"\\\x00\xff".to_vec());
        let back: Bytes = serde_json::from_value(serde_json::to_value(&text).unwrap()).unwrap();
        assert_eq!(back.head, b"hi\n\"\\\x00\xff");
    }

    #[test]
    fn a_perturbed_expectation_differs() {
        let value = Obs::Returned { result: Res::Value { value: 3 } };
        assert_ne!(perturb(&value), value);
        let data = Obs::Returned { result: Res::Data { bytes: Bytes::new(b"hi".to_vec()) } };
        assert_ne!(perturb(&data), data);
        assert_ne!(perturb(&Obs::Blocked), Obs::Blocked);
        let handler = Obs::Handler { signal: 10, info: None, below: Below::NotInCall };
        assert_ne!(perturb(&handler), handler);
    }

    #[test]
    fn a_step_reads_as_what_each_process_did() {
        let trace = Trace::new(true);
        let killed = ChildStatus::Killed { signal: Signal(13), core: false };
        // The actor's write fails with EPIPE and SIGPIPE, raised for itself, kills it as it returns.
        let events = vec![
            event(EventKind::Call {
                pid: 3,
                op: 2,
                args: args(&[4, 5]),
                result: CallResult::Error { errno: Errno(32) },
            }),
            event(EventKind::Signal {
                from: 3,
                to: 3,
                signal: Signal(13),
                effect: SignalEffect::Pending,
                origin: SignalOrigin::NoReader,
            }),
            event(EventKind::Delivered { pid: 3, signal: Signal(13), delivery: Delivery::Terminated { core: false } }),
            event(EventKind::Exit { pid: 3, status: killed }),
            event(EventKind::Reap { pid: 3, by: 1, cause: ReapCause::Init }),
        ];
        let expected = expected_of(&events, &trace, Some(3));
        assert_eq!(
            expected.moves,
            vec![
                Move::Completed {
                    op: 2,
                    args: args(&[4, 5]),
                    result: Obs::Returned { result: Res::Errno { errno: 32 } }
                },
                Move::Deliver { signal: 13, delivery: Delivery::Terminated { core: false } },
                Move::Died { status: killed },
            ]
        );
        assert_eq!(expected.reaped_by_init, vec![3]);
        assert_eq!(expected.signalled, vec![3]);
        // A kill only makes the signal pending; the target takes it at its own step, before its call:
        // here it runs a handler, whose first call is the step's call.
        let events = vec![
            event(EventKind::Call { pid: 2, op: 7, args: args(&[3, 10]), result: CallResult::Value { value: 0 } }),
            event(EventKind::Signal {
                from: 2,
                to: 3,
                signal: Signal(10),
                effect: SignalEffect::Pending,
                origin: SignalOrigin::Call,
            }),
        ];
        let expected = expected_of(&events, &trace, Some(2));
        assert!(expected.others.is_empty(), "nothing happens to the target in the sender's step");
        assert_eq!(expected.signalled, vec![3]);
        let events = vec![
            event(EventKind::Delivered { pid: 3, signal: Signal(10), delivery: Delivery::Handler { handler: 0 } }),
            event(EventKind::Call { pid: 3, op: 9, args: args(&[]), result: CallResult::Value { value: 3 } }),
        ];
        let moves = expected_of(&events, &trace, Some(3)).moves;
        assert!(matches!(moves[0], Move::Deliver { signal: 10, delivery: Delivery::Handler { handler: 0 } }));
        assert!(matches!(moves[1], Move::Completed { op: 9, .. }));
        // A woken read that a handler interrupts, and the end of the handler.
        let events = vec![
            event(EventKind::Interrupted {
                pid: 3,
                op: 4,
                signal: Signal(10),
                outcome: CallInterrupted::Eintr,
                gone: false,
            }),
            event(EventKind::Call {
                pid: 3,
                op: 4,
                args: args(&[3, 10]),
                result: CallResult::Error { errno: Errno(4) },
            }),
            event(EventKind::Delivered { pid: 3, signal: Signal(10), delivery: Delivery::Handler { handler: 0 } }),
        ];
        let moves = expected_of(&events, &trace, Some(3)).moves;
        assert_eq!(moves[0], Move::Interrupted { op: 4, outcome: CallInterrupted::Eintr });
        let events = vec![event(EventKind::Call {
            pid: 3,
            op: IMPLICIT_SIGRETURN_OP,
            args: args(&[10]),
            result: CallResult::Value { value: 0 },
        })];
        assert_eq!(expected_of(&events, &trace, Some(3)).moves, vec![Move::Sigreturn { signal: 10 }]);
        // A call that blocks.
        let events = vec![event(EventKind::Block {
            pid: 2,
            op: 1,
            args: args(&[3, 100]),
            reason: BlockReason::PipeEmpty { pipe: 1 },
        })];
        assert_eq!(expected_of(&events, &trace, Some(2)).moves, vec![Move::Blocked { op: 1, args: args(&[3, 100]) }]);
        assert_eq!(raw_value(&Res::Errno { errno: 4 }), -4);
    }

    #[test]
    fn a_division_by_zero_is_a_death_after_the_call_or_instead_of_it() {
        let trace = Trace::new(true);
        let fpe = ChildStatus::Killed { signal: Signal(8), core: false };
        let fault = |pid| {
            vec![
                event(EventKind::Fault { pid, op: 5, signal: Signal(8) }),
                event(EventKind::Delivered { pid, signal: Signal(8), delivery: Delivery::Terminated { core: true } }),
                event(EventKind::Exit { pid, status: fpe }),
            ]
        };
        // After a read that returned: the read's result, then the fault.
        let mut events =
            vec![event(EventKind::Call { pid: 2, op: 4, args: args(&[0, 1]), result: CallResult::Value { value: 9 } })];
        events.extend(fault(2));
        let expected = expected_of(&events, &trace, Some(2));
        assert!(matches!(expected.moves[0], Move::Completed { op: 4, .. }));
        assert_eq!(expected.moves[1], Move::Fault { op: 5 });
        assert_eq!(expected.moves.len(), 2, "the fault's death is the fault: {:?}", expected.moves);
        assert_eq!(expected.exits, vec![(2, fpe)]);
        // In an operand, before any call: the fault is the step.
        let expected = expected_of(&fault(2), &trace, Some(2));
        assert_eq!(expected.moves, vec![Move::Fault { op: 5 }]);
        // As a top-level process starts, before the first step.
        let expected = expected_of(&fault(3), &trace, None);
        assert!(expected.moves.is_empty());
        assert_eq!(expected.faults, vec![(3, 5, Obs::Died { status: fpe })]);
    }

    #[test]
    fn explanations_name_the_step_and_both_sides() {
        let linux = Obs::Returned { result: Res::Data { bytes: Bytes::new(b"x".to_vec()) } };
        let text = explain(7, "child", &Obs::Blocked, &linux);
        assert!(text.contains("step 7, child"), "{text}");
        assert!(text.contains("Linux completed the call"), "{text}");
        assert!(text.contains("= 1 \"x\""), "{text}");
        assert_eq!(obs_text(&Obs::Returned { result: Res::Errno { errno: 11 } }), "= -1 EAGAIN");
        assert_eq!(obs_text(&Obs::Returned { result: Res::Errno { errno: 200 } }), "= -1 errno 200");
        let realtime = ChildStatus::Killed { signal: sim_core::linux::Signal(34), core: false };
        assert_eq!(obs_text(&Obs::Died { status: realtime }), "killed by SIGRTMIN");
        let handler = Obs::Handler {
            signal: 34,
            info: Some(SigInfo { pid: 3, value: 7, code: -1 }),
            below: Below::Returned { value: -4 },
        };
        assert_eq!(
            obs_text(&handler),
            "runs its SIGRTMIN handler (si_pid 3, si_value 7, si_code SI_QUEUE) over a call that failed with EINTR"
        );
        let text = explain(3, "main", &handler, &Obs::Rests);
        assert!(text.contains("the simulator runs a handler here; Linux did not"), "{text}");
        let sets = Obs::Signals {
            blocked: SignalSet(1 << 9),
            pending: SignalSet(0),
            ignored: SignalSet(0),
            caught: SignalSet(1 << 33),
        };
        assert_eq!(obs_text(&sets), "blocked [SIGUSR1] pending [] ignored [] caught [SIGRTMIN]");
    }
}
