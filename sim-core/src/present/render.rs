//! Events in plain words: one line per event, the way the command line and golden files show a trace.
//!
//! The words follow the system calls (`read(p.r=3, 100) = 5 "hello"`) and then say what the kernel did
//! in a sentence a student can follow. The text comes from the events and the program only (the
//! program for the names and text the scenario wrote); it never reads the kernel, so it says what
//! happened then, not what is true now.

use crate::lang::ast::Payload;
use crate::lang::compile::{Bind, CallOp, ListKind, OpKind, Operand, Program, Shown};
use crate::lang::print::quote;
use crate::lang::syscalls::{CallId, OperandKind, ResultShape};
use crate::linux::{self, ChildStatus, Family};
use crate::trace::{
    Args, BlockReason, CallInterrupted, CallResult, CopyDirection, Delivery, Event, EventKind, LastEnd, ObjectRef, Pid,
    ReapCause, RightsMove, RunOutcome, SignalEffect, SignalOrigin, Trace, WakeCause, IMPLICIT_EXIT_OP,
    IMPLICIT_SIGRETURN_OP,
};
use std::sync::Arc;

/// `"hello\n"` with C escapes, cut after `max_bytes` bytes with `...`.
pub fn quote_bytes(bytes: &[u8], max_bytes: usize) -> String {
    let mut text = String::from("\"");
    for &byte in bytes.iter().take(max_bytes) {
        match byte {
            b'\n' => text.push_str("\\n"),
            b'\t' => text.push_str("\\t"),
            b'\r' => text.push_str("\\r"),
            0 => text.push_str("\\0"),
            b'\\' => text.push_str("\\\\"),
            b'"' => text.push_str("\\\""),
            0x20..=0x7e => text.push(byte as char),
            _ => text.push_str(&format!("\\x{byte:02x}")),
        }
    }
    text.push('"');
    if bytes.len() > max_bytes {
        text.push_str("...");
    }
    text
}

/// Runs of equal bytes as `"B"x368 + "A"x3728`, which shows how writes interleaved; `None` past six runs.
fn runs_text(runs: &[(u8, u64)]) -> Option<String> {
    if runs.len() > 6 {
        return None;
    }
    Some(
        runs.iter()
            .map(|(byte, count)| format!("{}x{count}", quote_bytes(&[*byte], 4)))
            .collect::<Vec<_>>()
            .join(" + "),
    )
}

/// Bytes as a reader wants to see them: short data quoted whole, long data of a few repeated bytes as
/// runs, anything else quoted and cut.
pub fn describe_bytes(bytes: &[u8], max_bytes: usize) -> String {
    if bytes.len() <= max_bytes {
        return quote_bytes(bytes, max_bytes);
    }
    let mut runs: Vec<(u8, u64)> = Vec::new();
    for &byte in bytes {
        match runs.last_mut() {
            Some((last, count)) if *last == byte => *count += 1,
            _ => {
                if runs.len() == 6 {
                    return quote_bytes(bytes, max_bytes);
                }
                runs.push((byte, 1));
            }
        }
    }
    runs_text(&runs).unwrap_or_else(|| quote_bytes(bytes, max_bytes))
}

/// A payload described like [`describe_bytes`] would describe its bytes, without making them: the work
/// is bounded by the text shown, whatever the payload's length.
pub fn describe_payload(payload: &Payload, max_bytes: usize) -> String {
    if payload.len() as usize <= max_bytes {
        return quote_bytes(&payload.to_bytes(), max_bytes);
    }
    if let Some(text) = runs_text(&payload.runs(6)) {
        return text;
    }
    let mut head = Vec::with_capacity(max_bytes);
    payload.copy_to(0, max_bytes as u32, &mut head);
    let mut text = quote_bytes(&head, max_bytes);
    text.push_str("...");
    text
}

/// Names of processes by pid, learnt from the events that create them (`Spawn`, `Fork`). Pids are never
/// reused, so the names of a whole run serve for any step of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessNames {
    /// Indexed by `pid - 1`; init first.
    names: Vec<Option<Arc<str>>>,
    counts: std::collections::BTreeMap<Arc<str>, u32>,
}

impl ProcessNames {
    pub fn from_events<'a>(program: &Program, events: impl IntoIterator<Item = &'a Event>) -> ProcessNames {
        let mut names = ProcessNames::default();
        for event in events {
            names.observe(program, event);
        }
        names
    }

    fn set(&mut self, pid: Pid, name: Arc<str>) {
        let index = pid as usize - 1;
        if self.names.len() <= index {
            self.names.resize(index + 1, None);
        }
        self.names[index] = Some(name);
    }

    /// Learns from one event (in the order the run recorded them).
    pub fn observe(&mut self, program: &Program, event: &Event) {
        let (pid, base) = match &event.kind {
            EventKind::Spawn { pid, index } => match program.processes.get(*index as usize) {
                Some(top) => (*pid, top.name.clone()),
                None => return,
            },
            EventKind::Fork { child, op, .. } => match program.ops.get(*op as usize).map(|op| &op.kind) {
                Some(OpKind::Fork { name, .. }) => (*child, name.clone()),
                _ => return,
            },
            _ => return,
        };
        let count = self.counts.entry(base.clone()).or_insert(0);
        *count += 1;
        let name = if *count == 1 { base } else { Arc::from(format!("{base}#{count}")) };
        self.set(pid, name);
    }

    pub fn process(&self, pid: Pid) -> String {
        match pid {
            0 => "run".to_string(),
            1 => "init".to_string(),
            pid => match self.names.get(pid as usize - 1) {
                Some(Some(name)) => name.to_string(),
                _ => format!("pid {pid}"),
            },
        }
    }
}

/// One operand's value as the trace shows it.
fn operand_text(program: &Program, call: &CallOp, index: usize, value: i64, len: bool) -> String {
    let kind = call.id.spec().operands[index].kind;
    match &call.operands[index] {
        Operand::Payload(payload) if len => payload.len().to_string(),
        Operand::Payload(payload) => describe_payload(payload, 24),
        Operand::Path(path) => match program.paths.get(*path as usize) {
            Some(path) => quote_bytes(path.as_bytes(), 64),
            None => value.to_string(),
        },
        Operand::Sembuf { .. } if crate::IPC => {
            let (sembuf, times) = linux::sem::unpack_sembuf(value);
            let text = format!(
                "{{{}, {}, {}}}",
                sembuf.num,
                sembuf.op,
                linux::value_text(Family::SemopFlag, sembuf.flg as i64)
            );
            if times == 1 {
                text
            } else {
                format!("{text} x{times}")
            }
        }
        Operand::List { values, kind: ListKind::SemValues } if crate::IPC => {
            let shown: Vec<String> =
                (0..values.len()).map(|at| linux::sem::unpack_value(value, at).to_string()).collect();
            format!("{{{}}}", shown.join(", "))
        }
        Operand::List { kind: ListKind::MqAttr, .. } if crate::IPC => match linux::mqueue::unpack_attr(value) {
            Some((maxmsg, msgsize)) => format!("&{{.mq_maxmsg = {maxmsg}, .mq_msgsize = {msgsize}}}"),
            None => "NULL".to_string(),
        },
        Operand::List { kind: ListKind::Rights { .. }, .. } if crate::IPC => {
            let (fds, times) = linux::socket::rights_written(value);
            let shown: Vec<String> = fds.iter().map(|fd| fd.to_string()).collect();
            let text = format!("{{{}}}", shown.join(", "));
            if times == 1 {
                text
            } else {
                format!("{text} x{times}")
            }
        }
        Operand::List { kind: ListKind::PollFd, .. } if crate::IPC => match linux::poll::unpack_pollfd(value) {
            Some((fd, events)) => format!("{{{fd}, {}}}", linux::value_text(Family::PollEvent, events as i64)),
            None => "{}".to_string(),
        },
        Operand::List { kind: ListKind::FdSet, .. } if crate::IPC => fdset_text(value),
        Operand::Sembuf { .. } | Operand::List { .. } => unreachable!("IPC operands need the IPC mechanisms"),
        // A `select` set left out.
        Operand::Value { .. } if kind == OperandKind::FdSet => fdset_text(value),
        Operand::Value { shown, .. } => {
            // Sets and actions read better in their own words than as numbers, even from a variable.
            let worded = match kind {
                OperandKind::SignalSet => linux::signal::set_text(value as u64),
                OperandKind::Action => action_text(program, value),
                // An address, as C programs print pointers.
                OperandKind::Int if call.id.spec().operands[index].word == "ADDR" => format!("{value:#x}"),
                // A semaphore by its address (`sem_init`'s), not by a handle.
                OperandKind::Id
                    if call.id.spec().operands[index].word == "SEM" && value as u64 >= crate::kernel::mm::MAP_BASE =>
                {
                    format!("{value:#x}")
                }
                _ => value.to_string(),
            };
            match shown {
                Shown::Number => value.to_string(),
                Shown::Named(name) => format!("{name}={worded}"),
                Shown::SelfPid => format!("self={value}"),
                Shown::Written(text) => text.to_string(),
                Shown::Expression(text) => format!("{text}={worded}"),
                Shown::Constant => match kind {
                    OperandKind::Flags(family) | OperandKind::OneOf(family) => linux::value_text(family, value),
                    OperandKind::Signal => linux::value_text(Family::Signal, value),
                    _ => worded,
                },
            }
        }
    }
}

/// A signal action in words: `SIG_DFL`, `SIG_IGN`, or the handler's name.
pub fn action_text(program: &Program, value: i64) -> String {
    match value {
        0 => "SIG_DFL".to_string(),
        1 => "SIG_IGN".to_string(),
        other => match usize::try_from(other - crate::lang::compile::FIRST_HANDLER)
            .ok()
            .and_then(|i| program.handlers.get(i))
        {
            Some(handler) => handler.name.to_string(),
            None => other.to_string(),
        },
    }
}

/// Fills a call's C template (`write({0}, {1}, {1.len})`, with `[...]` for optional operands) with the
/// operand values of one call.
fn fill_template(program: &Program, call: &CallOp, args: &Args) -> String {
    let template = call.id.spec().c_text;
    let mut out = String::new();
    let mut skipping = false;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // `{{` and `}}` are the braces themselves (a C initializer).
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                if !skipping {
                    out.push('{');
                }
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                if !skipping {
                    out.push('}');
                }
            }
            '[' => {
                // An optional part: printed when every operand it holds was written.
                let rest: String = chars.clone().take_while(|c| *c != ']').collect();
                skipping = rest
                    .split('{')
                    .skip(1)
                    .filter_map(|tail| tail.split(['}', '.']).next())
                    .filter_map(|n| n.parse::<usize>().ok())
                    .any(|index| index >= call.written as usize);
            }
            ']' => skipping = false,
            '{' => {
                let mut spec = String::new();
                for next in chars.by_ref() {
                    if next == '}' {
                        break;
                    }
                    spec.push(next);
                }
                if skipping {
                    continue;
                }
                if spec == "nfds" && call.id == CallId::Select {
                    // `select`'s `nfds`: the highest descriptor in a set, plus one.
                    let highest = (1..args.len().min(4))
                        .flat_map(|at| linux::poll::unpack_fdset(args.get(at)))
                        .filter_map(|entry| match entry {
                            linux::poll::SetEntry::Fd(fd) => Some(fd as i64),
                            linux::poll::SetEntry::TooHigh => Some(linux::poll::FD_SETSIZE),
                            linux::poll::SetEntry::Skipped => None,
                        })
                        .max();
                    out.push_str(&highest.map_or(0, |fd| fd + 1).to_string());
                    continue;
                }
                if spec == "0.timeval" {
                    // `select`'s timeout in milliseconds, as the `struct timeval` C passes (`NULL`
                    // for no limit).
                    let ms = args.get(0);
                    if ms < 0 {
                        out.push_str("NULL");
                    } else {
                        out.push_str(&format!("&{{{}, {}}}", ms / 1000, ms % 1000 * 1000));
                    }
                    continue;
                }
                if spec == "nfds" {
                    // `poll`'s `nfds`: the entries written (after the timeout).
                    out.push_str(&(call.written as usize).saturating_sub(1).to_string());
                    continue;
                }
                if spec == "ops" {
                    // `semop`'s `nsops`: every operation, each as many times as it is given.
                    let count: u64 = (call.id.first_sembuf()..args.len())
                        .map(|index| linux::sem::unpack_sembuf(args.get(index)).1 as u64)
                        .sum();
                    out.push_str(&count.to_string());
                    continue;
                }
                let (number, len) = match spec.split_once('.') {
                    Some((number, _)) => (number, true),
                    None => (spec.as_str(), false),
                };
                let index: usize = number.parse().expect("templates in the table name operands by number");
                if index >= call.operands.len() {
                    // An operand left out and dropped from the call: its default.
                    let operand = call.id.spec().operands[index];
                    let default = operand.default.unwrap_or(0);
                    match operand.kind {
                        OperandKind::OneOf(family) => out.push_str(&linux::value_text(family, default)),
                        _ => out.push_str(&default.to_string()),
                    }
                    continue;
                }
                out.push_str(&operand_text(program, call, index, args.get(index), len));
            }
            other if !skipping => out.push(other),
            _ => {}
        }
    }
    out
}

/// A packet over the loopback in words: `TCP segment SYN from socket 4 (port 32768) to socket 2 (port
/// 7000), over the loopback device`, a UDP datagram, or the ICMP port unreachable the kernel answers
/// for a port nobody is bound to.
pub fn segment_text(from: u32, from_port: u16, to: u32, to_port: u16, flags: u8, bytes: u32) -> String {
    let what = if flags & crate::trace::SEGMENT_UDP != 0 {
        "UDP datagram".to_string()
    } else if flags & crate::trace::SEGMENT_ICMP_UNREACHABLE != 0 {
        "ICMP port unreachable".to_string()
    } else {
        format!("TCP segment {}", crate::trace::segment_flags_text(flags))
    };
    let data = match bytes {
        0 => String::new(),
        1 => " with 1 byte of data".to_string(),
        bytes => format!(" with {bytes} bytes of data"),
    };
    match (from, to) {
        (0, to) => {
            format!("the kernel answers for port {from_port}, where nobody listens: {what} to socket {to} (port {to_port})")
        }
        (from, 0) => format!("{what}{data} from socket {from} (port {from_port}) to port {to_port}, where nobody listens"),
        (from, to) if flags & crate::trace::SEGMENT_DROPPED != 0 => format!(
            "TCP segment SYN from socket {from} (port {from_port}) to socket {to} (port {to_port}): its accept queue \
             is full, so the SYN is dropped, and the client's timer will send it again"
        ),
        (from, to) => format!(
            "{what}{data} from socket {from} (port {from_port}) to socket {to} (port {to_port}), over the loopback device"
        ),
    }
}

/// How the trace starts the line of a memory instruction, which is no system call.
pub const INSTRUCTION: &str = "user-space instruction (no system call): ";

/// The call as C would write it, with the values its operands had: `write(p.w=4, "hello", 5)`, with
/// the name it binds in front (`p = pipe()`).
pub fn call_text(program: &Program, op: u32, args: &Args) -> String {
    if op == IMPLICIT_EXIT_OP {
        return "exit(0)".to_string();
    }
    if op == IMPLICIT_SIGRETURN_OP {
        return "rt_sigreturn()".to_string();
    }
    let Some(call) = program.call(op) else {
        return "fork()".to_string();
    };
    let mut text = fill_template(program, call, args);
    if call.id == CallId::Connect {
        // `connect FD AF_UNSPEC` (the one empty path): an address of that family alone.
        text = text.replace("{AF_UNIX, \"\"}, len", "{AF_UNSPEC}, sizeof(struct sockaddr)");
    }
    if matches!(call.id, CallId::Bind | CallId::Connect | CallId::Sendto) {
        // An address and port (`"127.0.0.1:7000"`) is a `struct sockaddr_in`.
        let at = if call.id == CallId::Sendto { 2 } else { 1 };
        let path = usize::try_from(args.get(at)).ok().and_then(|index| program.paths.get(index));
        if let Some((address, port)) = path.and_then(|path| linux::socket::parse_inet(path)) {
            let quoted = quote(path.expect("parsed above").as_bytes());
            text = text.replace(
                &format!("{{AF_UNIX, {quoted}}}, len"),
                &format!(
                    "{{AF_INET, htons({port}), inet_addr(\"{}\")}}, sizeof(struct sockaddr_in)",
                    linux::socket::inet_text(address)
                ),
            );
        }
    }
    match call.bind {
        Bind::None => text,
        Bind::Value(slot)
        | Bind::Message { count: slot, .. }
        | Bind::Bytes { count: slot, .. }
        | Bind::Rights { count: slot, .. }
        | Bind::Polled { count: slot, .. }
        | Bind::Epolled { count: slot, .. } => format!("{} = {text}", program.slots[slot as usize]),
        Bind::Pair { read, .. } => format!("{} = {text}", program.slots[read as usize].trim_end_matches(".r")),
    }
}

pub fn status_words(status: ChildStatus) -> String {
    match status {
        ChildStatus::Exited(code) => format!("exited with status {code}"),
        ChildStatus::Killed { signal, core: false } => format!("killed by {}", signal.name()),
        ChildStatus::Killed { signal, core: true } => format!("killed by {} with a core dump", signal.name()),
        ChildStatus::Stopped(signal) => format!("stopped by {}", signal.name()),
        ChildStatus::Continued => "continued".to_string(),
    }
}

fn result_text(
    trace: &Trace,
    paths: &[Arc<str>],
    names: &ProcessNames,
    result: &CallResult,
    shape: Option<ResultShape>,
    call: Option<CallId>,
    args: &Args,
) -> String {
    match result {
        _ if shape.is_none() || shape == Some(ResultShape::NoReturn) => String::new(),
        // An address, as C programs print pointers.
        CallResult::Value { value } if matches!(call, Some(CallId::Shmat | CallId::Mmap)) => format!(" = {value:#x}"),
        CallResult::Value { value } => format!(" = {value}"),
        CallResult::Error { errno } => format!(" = -1 {} ({})", errno.name(), errno.meaning()),
        CallResult::Data { len: 0, .. } => " = 0 (end of file)".to_string(),
        CallResult::Data { offset, len } => {
            if trace.keeps_data() {
                format!(" = {len} {}", describe_bytes(trace.read_data(*offset, *len), 32))
            } else {
                format!(" = {len}")
            }
        }
        CallResult::Pair { read_fd, write_fd } if call == Some(CallId::Socketpair) => {
            format!(" = 0: sockets fd {read_fd} and fd {write_fd}")
        }
        CallResult::Pair { read_fd, write_fd } => format!(" = 0: read end fd {read_fd}, write end fd {write_fd}"),
        CallResult::Fork { child } => format!(" = {child} ({})", names.process(*child)),
        CallResult::Waited { child, status } => {
            format!(" = {child} ({} {})", names.process(*child), status_words(*status))
        }
        CallResult::WaitedInfo { child, status } => {
            format!(" = 0 (pid {child}, {} {})", names.process(*child), status_words(*status))
        }
        CallResult::Out { value } if shape == Some(ResultShape::OutSignals) => {
            format!(" = 0, and stores {}", linux::signal::set_text(*value as u64))
        }
        CallResult::Out { value } => format!(" = 0, and stores {value}"),
        // `recvfrom`: the tag is the sender's path's number plus one, 0 for an unnamed sender.
        CallResult::Message { len: 0, tag: 0, .. } if call == Some(CallId::Recvfrom) => {
            " = 0 (end of file)".to_string()
        }
        CallResult::Message { offset, len, tag, .. } if call == Some(CallId::Recvfrom) => {
            let bytes = if trace.keeps_data() {
                format!(" {}", describe_bytes(trace.read_data(*offset, *len), 32))
            } else {
                String::new()
            };
            let from = match (linux::socket::inet_sender_port(*tag), paths.get((*tag as usize).wrapping_sub(1))) {
                (Some(Some(port)), _) => format!("from port {port}"),
                (Some(None), _) => "from a port the kernel chose".to_string(),
                (None, Some(path)) => format!("from {path:?}"),
                (None, None) => "from an unnamed socket".to_string(),
            };
            format!(" = {len}{bytes} ({from})")
        }
        CallResult::Message { offset, len, tag, skipped } => {
            let bytes = if trace.keeps_data() {
                format!(" {}", describe_bytes(trace.read_data(*offset, *len), 32))
            } else {
                String::new()
            };
            let tag = if matches!(call, Some(CallId::MqReceive | CallId::MqTimedreceive)) {
                format!("priority {tag}")
            } else {
                format!("type {tag}")
            };
            let skipped = match skipped {
                0 => String::new(),
                1 => ", passing over 1 earlier message".to_string(),
                count => format!(", passing over {count} earlier messages"),
            };
            format!(" = {len}{bytes} ({tag}{skipped})")
        }
        // `select`: which descriptors of each set are ready.
        CallResult::Polled { ready, revents } if call == Some(CallId::Select) => {
            let mut parts = Vec::new();
            for (at, word) in ["read", "write", "except"].iter().enumerate() {
                let fds: Vec<String> = linux::poll::unpack_fdset(args.get(at + 1))
                    .iter()
                    .enumerate()
                    .filter(|(place, _)| revents[at] & (1 << place) != 0)
                    .filter_map(|(_, entry)| match entry {
                        linux::poll::SetEntry::Fd(fd) => Some(format!("fd {fd}")),
                        _ => None,
                    })
                    .collect();
                if !fds.is_empty() {
                    parts.push(format!("{word}: {}", fds.join(", ")));
                }
            }
            if parts.is_empty() {
                format!(" = {ready} (none ready)")
            } else {
                format!(" = {ready} ({})", parts.join("; "))
            }
        }
        CallResult::Epolled { ready: 0, .. } => " = 0 (no events)".to_string(),
        CallResult::Epolled { ready, fds, events } => {
            let shown: Vec<String> = fds
                .iter()
                .zip(events)
                .take(*ready as usize)
                .map(|(fd, value)| format!("fd {fd} {}", linux::value_text(Family::EpollEvent, *value as i64)))
                .collect();
            format!(" = {ready} ({})", shown.join(", "))
        }
        CallResult::Polled { ready, revents } => {
            let shown: Vec<String> = revents
                .iter()
                .take((1..args.len()).filter(|at| linux::poll::unpack_pollfd(args.get(*at)).is_some()).count())
                .map(|value| linux::value_text(Family::PollEvent, *value as i64))
                .collect();
            format!(" = {ready} (revents {})", shown.join(", "))
        }
        CallResult::Array { offset, len } => {
            if trace.keeps_data() {
                format!(" = 0, and stores {}", values_text(trace.read_data(*offset, *len)))
            } else {
                " = 0, and stores an array".to_string()
            }
        }
        CallResult::Received { offset, len, fd, fds, flags, creds } => {
            let bytes = match len {
                0 => " (no bytes)".to_string(),
                _ if trace.keeps_data() => format!(" {}", describe_bytes(trace.read_data(*offset, *len), 32)),
                _ => String::new(),
            };
            let rights = match fds {
                0 => String::new(),
                1 => format!(", SCM_RIGHTS fd {fd}"),
                count => format!(", SCM_RIGHTS {count} fds from fd {fd}"),
            };
            let flags = if *flags == 0 {
                String::new()
            } else {
                format!(", msg_flags {}", linux::value_text(Family::RecvFlag, *flags as i64))
            };
            let creds = match creds {
                -1 => String::new(),
                0 => ", SCM_CREDENTIALS pid 0 (the message carried none)".to_string(),
                pid => format!(", SCM_CREDENTIALS pid {pid} ({})", names.process(*pid as Pid)),
            };
            format!(" = {len}{bytes}{rights}{creds}{flags}")
        }
    }
}

/// What became of a descriptor passed over a socket, in words.
pub fn rights_text(socket: u32, fd: i32, object: &ObjectRef, access: u8, moved: RightsMove) -> String {
    let end = match (object.kind, access) {
        (crate::trace::ObjectKind::Pipe, 1) => " (read end)",
        (crate::trace::ObjectKind::Pipe, 2) => " (write end)",
        _ => "",
    };
    let object = object.words();
    match moved {
        RightsMove::Sent => format!(
            "fd {fd} goes in the message on socket {socket}'s queue: its open file on {object}{end} is held in flight"
        ),
        RightsMove::Received => {
            format!("the message from socket {socket} installs fd {fd} on the same open file, {object}{end}")
        }
        RightsMove::Truncated => format!(
            "no room for the descriptor of {object}{end} in the message from socket {socket}: its reference is closed (MSG_CTRUNC)"
        ),
        RightsMove::Unread => format!(
            "socket {socket} goes with a message nobody received: the reference it held to {object}{end} is closed"
        ),
        RightsMove::Collected => format!(
            "the garbage collector of Unix-domain sockets empties socket {socket}'s queue, which no process can \
             ever receive: the reference a message there held to {object}{end} is closed"
        ),
    }
}

/// The field of a structure a control call reads (`ds.msg_qnum`, `attr.mq_curmsgs`), if it names one.
fn field_read(call: &CallOp, args: &Args) -> Option<String> {
    let (index, family, structure) = match call.id {
        CallId::Msgctl => (2, Family::MsqField, "ds"),
        CallId::Semctl => (3, Family::SemField, "ds"),
        CallId::MqGetattr => (1, Family::MqAttrField, "attr"),
        CallId::Shmctl => (2, Family::ShmField, "ds"),
        _ => return None,
    };
    (index < call.written as usize).then(|| format!("{structure}.{}", linux::value_text(family, args.get(index))))
}

/// `GETALL`'s array (`unsigned short`s, little-endian) as C writes an initializer: `{1, 0, 3}`.
pub fn values_text(bytes: &[u8]) -> String {
    let values: Vec<String> =
        bytes.chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]]).to_string()).collect();
    format!("{{{}}}", values.join(", "))
}

/// A System V key as `ipcs` and C write it.
pub fn key_text(key: i64) -> String {
    if key == 0 {
        "IPC_PRIVATE".to_string()
    } else {
        format!("{key} (0x{:08x})", key as i32 as u32)
    }
}

/// `1 byte`, `5 bytes`.
pub fn byte_count(count: u64) -> String {
    if count == 1 {
        "1 byte".to_string()
    } else {
        format!("{count} bytes")
    }
}

/// What the closing of a pipe's last read or write end means, in words.
pub fn last_end_text(object: &ObjectRef, end: &LastEnd) -> String {
    let object = object.words();
    match end {
        LastEnd::Write => {
            format!("that was the last write end of {object}: once it is empty, a read returns 0 (end of file)")
        }
        LastEnd::Read => {
            format!("that was the last read end of {object}: a write to it now fails with EPIPE and raises SIGPIPE")
        }
        LastEnd::Both { unread: 0 } => format!("that was the last end of {object}: the pipe is freed"),
        LastEnd::Both { unread } => {
            format!(
                "that was the last end of {object}: the pipe is freed with {} nobody read",
                byte_count(*unread as u64)
            )
        }
    }
}

/// Why a process sleeps, in words.
pub fn reason_text(program: &Program, reason: &BlockReason) -> String {
    let path = |index: u32| program.paths.get(index as usize).map_or("?".to_string(), |path| path.to_string());
    match reason {
        BlockReason::PipeEmpty { pipe } => format!("pipe {pipe} is empty and its write end is still open"),
        BlockReason::PipeFull { pipe, written: 0 } => format!("pipe {pipe} has no room for this write"),
        BlockReason::PipeFull { pipe, written } => {
            format!("pipe {pipe} is full after {} of this write went in", byte_count(*written as u64))
        }
        BlockReason::FifoNoWriter { path: index, .. } => {
            format!("no process has FIFO {} open for writing yet", path(*index))
        }
        BlockReason::FifoNoReader { path: index, .. } => {
            format!("no process has FIFO {} open for reading yet", path(*index))
        }
        BlockReason::Child { target: Some(pid) } => format!("child {pid} has not changed state yet"),
        BlockReason::Child { target: None } => "no child has changed state yet".to_string(),
        BlockReason::ChildInGroup { pgid } => format!("no child in process group {pgid} has changed state yet"),
        BlockReason::Signal => "it waits for a signal".to_string(),
        BlockReason::MsgEmpty { queue, held: 0, .. } => format!("message queue {queue} is empty"),
        BlockReason::MsgEmpty { queue, msgtype, except, held } => {
            let holds = if *held == 1 { "1 message".to_string() } else { format!("{held} messages") };
            let wanted = match (*msgtype, *except) {
                (msgtype, true) => format!("of a type other than {msgtype}"),
                (msgtype, false) if msgtype < 0 => format!("of a type up to {}", msgtype.unsigned_abs()),
                (msgtype, false) => format!("of type {msgtype}"),
            };
            format!("message queue {queue} holds {holds}, but none {wanted}")
        }
        BlockReason::MsgFull { queue, bytes, used, capacity } if *used as u64 + *bytes as u64 <= *capacity as u64 => {
            format!("message queue {queue} already holds as many messages as its msg_qbytes ({capacity}) allows")
        }
        BlockReason::MsgFull { queue, bytes, used, capacity } => format!(
            "message queue {queue} holds {used} of its {capacity} bytes: no room for {} more",
            byte_count(*bytes as u64)
        ),
        BlockReason::SemOp { set, num, op, value } if *op == 0 => {
            format!("semaphore {num} of set {set} is {value}, and this operation waits for it to be 0")
        }
        BlockReason::SemOp { set, num, op, value } => format!(
            "semaphore {num} of set {set} is {value}, and taking {} needs it to be at least {}",
            op.unsigned_abs(),
            op.unsigned_abs()
        ),
        BlockReason::MqEmpty { mq } => format!("POSIX message queue {mq} is empty"),
        BlockReason::MqFull { mq, held } => format!("POSIX message queue {mq} is full ({held} messages)"),
        BlockReason::NamedSem { sem } => format!("named semaphore {sem} is 0"),
        BlockReason::SignalWait { set } => {
            format!("it waits for one of {} to be pending", crate::linux::signal::set_text(*set))
        }
        BlockReason::Sleep { until, .. } => format!("it sleeps until {}", crate::kernel::time::time_text(*until)),
        BlockReason::SocketEmpty { socket } => {
            format!("socket {socket}'s receive queue is empty, and its peer may still send")
        }
        BlockReason::SocketAccept { socket } => format!("no connection waits on listening socket {socket}"),
        BlockReason::SocketBacklog { socket } => {
            format!("listening socket {socket}'s queue of connections waiting for accept is full")
        }
        BlockReason::SocketReceiverFull { socket } => {
            format!("socket {socket}'s receive queue is full of datagrams it has not received")
        }
        BlockReason::SocketFull { socket, written: 0 } => {
            format!("socket {socket}'s send buffer is full of bytes its peer has not received")
        }
        BlockReason::SocketFull { socket, written } => format!(
            "socket {socket}'s send buffer is full of bytes its peer has not received, with {} of this call's in",
            byte_count(*written as u64)
        ),
        BlockReason::Futex { address, value } => {
            format!("the futex word at {address:#x} still holds {value}, so it sleeps until a FUTEX_WAKE on it")
        }
        BlockReason::Poll { entries, until: u64::MAX } => {
            format!("none of its {entries} descriptors is ready for what it asks")
        }
        BlockReason::Poll { entries, until } => format!(
            "none of its {entries} descriptors is ready for what it asks, until {}",
            crate::kernel::time::time_text(*until)
        ),
        BlockReason::Epoll { epoll, until: u64::MAX } => {
            format!("epoll instance {epoll} has no event to report")
        }
        BlockReason::Epoll { epoll, until } => {
            format!("epoll instance {epoll} has no event to report, until {}", crate::kernel::time::time_text(*until))
        }
    }
}

/// A `select` set: its descriptors as written, `NULL` for none.
fn fdset_text(value: i64) -> String {
    let entries = linux::poll::unpack_fdset(value);
    if entries.is_empty() {
        return "NULL".to_string();
    }
    let shown: Vec<String> = entries
        .iter()
        .map(|entry| match entry {
            linux::poll::SetEntry::Fd(fd) => fd.to_string(),
            linux::poll::SetEntry::Skipped => "(left out)".to_string(),
            linux::poll::SetEntry::TooHigh => "(past FD_SETSIZE)".to_string(),
        })
        .collect();
    format!("{{{}}}", shown.join(", "))
}

/// What a deadlocked process's object holds, in words (`its value is 0, last changed by parent`); the
/// value is left out where `reason` (the words before it) has said it already.
pub fn detail_text(names: &ProcessNames, reason: Option<&BlockReason>, detail: &crate::trace::WaitDetail) -> String {
    match detail {
        crate::trace::WaitDetail::Semaphore { value, last_pid } => {
            let said = match reason {
                Some(BlockReason::SemOp { value: seen, .. }) => *seen as i64 == *value,
                Some(BlockReason::NamedSem { .. }) => *value == 0,
                _ => false,
            };
            let changed = match last_pid {
                0 => "nobody changed it".to_string(),
                pid => format!("last changed by {} (pid {pid})", names.process(*pid)),
            };
            if said {
                changed
            } else if *last_pid == 0 {
                format!("its value is {value}; {changed}")
            } else {
                format!("its value is {value}, {changed}")
            }
        }
        crate::trace::WaitDetail::Queue { messages, bytes } => {
            format!("it holds {messages} message{} ({})", if *messages == 1 { "" } else { "s" }, byte_count(*bytes))
        }
    }
}

/// A leftover IPC object, in words, with the command that would remove it.
pub fn leftover_text(program: &Program, object: &ObjectRef, label: i64, count: u64) -> String {
    let name = || program.paths.get(label as usize).map_or("?".to_string(), |name| name.to_string());
    let plural =
        |count: u64, one: &str, many: &str| if count == 1 { format!("1 {one}") } else { format!("{count} {many}") };
    match object.kind {
        crate::trace::ObjectKind::MsgQueue => format!(
            "left behind: message queue {} (key {}) with {}, until `ipcrm -q {}` or a reboot removes it",
            object.id,
            key_text(label),
            plural(count, "message", "messages"),
            object.id
        ),
        crate::trace::ObjectKind::SemSet => format!(
            "left behind: semaphore set {} (key {}) of {}, until `ipcrm -s {}` or a reboot removes it",
            object.id,
            key_text(label),
            plural(count, "semaphore", "semaphores"),
            object.id
        ),
        crate::trace::ObjectKind::ShmSegment => format!(
            "left behind: shared memory segment {} (key {}) of {}, until `ipcrm -m {}` or a reboot removes it",
            object.id,
            key_text(label),
            byte_count(count),
            object.id
        ),
        crate::trace::ObjectKind::Mqueue => format!(
            "left behind: POSIX message queue {} with {} (in /dev/mqueue), until `mq_unlink` removes it",
            name(),
            plural(count, "message", "messages")
        ),
        crate::trace::ObjectKind::ShmObject => {
            let name = name();
            format!(
                "left behind: POSIX shared memory object {name} of {} (the file /dev/shm/{}), until `shm_unlink` removes it",
                byte_count(count),
                name.trim_start_matches('/')
            )
        }
        _ => {
            let name = name();
            format!(
                "left behind: named semaphore {name} of value {count} (the file /dev/shm/sem.{}), until `sem_unlink` removes it",
                name.trim_start_matches('/')
            )
        }
    }
}

/// Who an event is about (the column after the step number).
pub fn event_actor(names: &ProcessNames, event: &Event) -> String {
    match event.kind.actor() {
        Some(pid) => names.process(pid),
        None => "-".to_string(),
    }
}

/// One event as one sentence.
pub fn event_text(program: &Program, trace: &Trace, names: &ProcessNames, event: &Event) -> String {
    match &event.kind {
        EventKind::Spawn { pid, .. } => {
            format!("starts as pid {pid}, a child of init, with fds 0, 1, 2 open on /dev/null")
        }
        EventKind::Switch { from: Some(from), to } => {
            format!("context switch: {} -> {}", names.process(*from), names.process(*to))
        }
        EventKind::Switch { from: None, to } => {
            format!("context switch: the CPU starts running {}", names.process(*to))
        }
        EventKind::Call { op, args, result, .. } => {
            let shape = match program.ops.get(*op as usize).map(|op| &op.kind) {
                _ if *op == IMPLICIT_EXIT_OP => None,
                _ if *op == IMPLICIT_SIGRETURN_OP => Some(ResultShape::Zero),
                Some(OpKind::Call(call)) => Some(call.id.spec().result),
                _ => Some(ResultShape::Fork),
            };
            let call = program.call(*op);
            let signal = crate::linux::Signal(args.get(0) as u8);
            let from_handler = format!("returns from its {} handler: ", signal.name());
            let prefix = match *op {
                IMPLICIT_EXIT_OP => "reaches the end of its code: ",
                IMPLICIT_SIGRETURN_OP => from_handler.as_str(),
                _ => "",
            };
            if let (CallResult::Out { value }, Some(field)) = (result, call.and_then(|call| field_read(call, args))) {
                return format!("{prefix}{} = 0, and {field} is {value}", call_text(program, *op, args));
            }
            if let Some(call) = call.filter(|call| call.id.spec().mechanism.is_instruction()) {
                // A user-space instruction: no system call, no kernel entry.
                let text = call_text(program, *op, args);
                return match (call.id, result) {
                    (CallId::Store | CallId::StoreBytes, _) => format!("{INSTRUCTION}{text}"),
                    (_, CallResult::Value { value }) => format!("{INSTRUCTION}{text} -> {value}"),
                    (_, CallResult::Data { offset, len }) if trace.keeps_data() => {
                        format!("{INSTRUCTION}{text} -> {len} {}", describe_bytes(trace.read_data(*offset, *len), 32))
                    }
                    (_, CallResult::Data { len, .. }) => format!("{INSTRUCTION}{text} -> {len}"),
                    _ => format!("{INSTRUCTION}{text}"),
                };
            }
            let call = call.map(|call| call.id);
            format!("{prefix}{}{}", call_text(program, *op, args), result_text(trace, &program.paths, names, result, shape, call, args))
        }
        EventKind::Block { op, args, reason, .. } => {
            format!("{} blocks: {}", call_text(program, *op, args), reason_text(program, reason))
        }
        EventKind::Wake { pid, by, cause } => {
            let by = names.process(*by);
            let done = match cause {
                WakeCause::Completed { object } if object.kind == crate::trace::ObjectKind::Frame => {
                    return format!(
                        "wakes up ({by} made a FUTEX_WAKE on a word in {}): its futex wait ends, and its call goes on when it runs",
                        object.words()
                    )
                }
                WakeCause::Completed { object } => {
                    return format!("wakes up ({by} finished its call on {} for it): the call returns when it runs", object.words())
                }
                WakeCause::Removed { object } => {
                    return format!("wakes up ({by} removed {}): its call fails with EIDRM", object.words())
                }
                WakeCause::Changed { object } => {
                    return format!("wakes up ({by} changed the settings of {}) and will start its call again", object.words())
                }
                _ => "will retry its call",
            };
            let why = match cause {
                WakeCause::Data { object } if object.kind == crate::trace::ObjectKind::NamedSem => {
                    format!("{by} posted {}", object.words())
                }
                WakeCause::Data { object } => format!("{by} put data into {}", object.words()),
                WakeCause::Room { object } => format!("{by} made room in {}", object.words()),
                WakeCause::Hangup { object } if object.kind == crate::trace::ObjectKind::Socket => {
                    format!("{by} shut down or closed a direction of {}", object.words())
                }
                WakeCause::Hangup { object } => {
                    format!("{by} closed the last end on the other side of {}", object.words())
                }
                WakeCause::Partner { object } if object.kind == crate::trace::ObjectKind::Socket => {
                    format!("{by} connected to listening {}", object.words())
                }
                WakeCause::Partner { object } => format!("{by} opened the other side of {}", object.words()),
                WakeCause::Child { child } => format!("{} changed state", names.process(*child)),
                WakeCause::Resize { object } => format!("{by} made {} larger", object.words()),
                WakeCause::Signal { signal } if by == names.process(*pid) => format!("{} came for it", signal.name()),
                WakeCause::Signal { signal } => format!("{by} sent it {}", signal.name()),
                WakeCause::Timer => "its time is up".to_string(),
                WakeCause::Completed { .. } | WakeCause::Removed { .. } | WakeCause::Changed { .. } => {
                    unreachable!("said above")
                }
            };
            format!("wakes up ({why}) and {done}")
        }
        EventKind::Copy { direction, bytes, object, used_bytes, capacity_bytes, .. } => {
            let object = object.words();
            match direction {
                CopyDirection::UserToKernel => format!(
                    "copy {} from its memory into {object} (now {used_bytes} of {capacity_bytes} bytes)",
                    byte_count(*bytes as u64)
                ),
                CopyDirection::KernelToUser => format!(
                    "copy {} from {object} into its memory (now {used_bytes} of {capacity_bytes} bytes)",
                    byte_count(*bytes as u64)
                ),
            }
        }
        EventKind::Fork { child, .. } => {
            format!("creates {} (pid {child}), a copy that shares its open files", names.process(*child))
        }
        EventKind::Signal { to, signal, effect, from, origin } => {
            let target = names.process(*to);
            let effect = match effect {
                SignalEffect::Ignored => format!("{target} ignores it"),
                SignalEffect::Pending if from == to => "pending".to_string(),
                SignalEffect::Pending => format!("pending until {target} runs"),
                SignalEffect::Blocked => format!("{target} blocks it, so it stays pending"),
                SignalEffect::WhileStopped => format!("{target} is stopped, so it stays pending until SIGCONT"),
                SignalEffect::Coalesced => {
                    "lost: it is already pending, and a standard signal is pending once at most".to_string()
                }
                SignalEffect::Continued => format!("{target} continues"),
                SignalEffect::NoEffect => "it has no effect".to_string(),
            };
            let name = signal.name();
            match origin {
                SignalOrigin::Call if from == to => format!("raises {name} for itself: {effect}"),
                SignalOrigin::Call => format!("sends {name} to {target}: {effect}"),
                SignalOrigin::ChildChanged => format!("the kernel sends {name} to {target} (its parent): {effect}"),
                SignalOrigin::NoReader => format!("gets {name} from the kernel, as no process can read: {effect}"),
                SignalOrigin::Alarm => format!("gets {name} from the kernel: {effect}"),
                SignalOrigin::OrphanedGroup => {
                    format!("the kernel sends {name} to {target}, whose group this exit orphaned: {effect}")
                }
                SignalOrigin::MessageArrived => {
                    format!("the kernel sends {name} to {target}, which asked to hear of this message: {effect}")
                }
            }
        }
        EventKind::Exit { status, .. } => format!("{} and is now a zombie until it is reaped", status_words(*status)),
        EventKind::Reap { pid, cause: ReapCause::Ignored, .. } => {
            format!("the kernel reaps {} at once (its parent ignores SIGCHLD)", names.process(*pid))
        }
        EventKind::Reap { pid, .. } => {
            format!("reaps {}: its exit status is collected and the zombie is gone", names.process(*pid))
        }
        EventKind::Reparent { new_parent, .. } => {
            format!("loses its parent and is adopted by {}", names.process(*new_parent))
        }
        EventKind::LastEnd { object, end, .. } => last_end_text(object, end),
        EventKind::Rights { socket, fd, object, access, moved, .. } => {
            rights_text(*socket, *fd, object, *access, *moved)
        }
        EventKind::Segment { from, from_port, to, to_port, flags, bytes, .. } => {
            segment_text(*from, *from_port, *to, *to_port, *flags, *bytes)
        }
        EventKind::Clock { now } => {
            format!("time jumps to {}: nobody can run, and a timer is due then", crate::kernel::time::time_text(*now))
        }
        EventKind::Alarm { .. } => "its alarm goes off".to_string(),
        EventKind::Orphaned { pgid, .. } => format!(
            "its exit leaves process group {pgid} orphaned with a stopped member: the kernel sends the group SIGHUP, then SIGCONT"
        ),
        EventKind::Interrupted { signal, outcome, gone: true, .. } => {
            let why = if signal.default_action() == crate::linux::signal::DefaultAction::Stop {
                "SIGCONT took the stop back"
            } else {
                "it was discarded before the process ran"
            };
            let end = match outcome {
                CallInterrupted::Partial => "it returns early, with what it has",
                _ => "it fails with EINTR",
            };
            format!("{} woke it and is gone ({why}), but a signal still counts as pending for the call: {end}", signal.name())
        }
        EventKind::Interrupted { signal, outcome, .. } => match outcome {
            CallInterrupted::Partial => {
                format!("{} cuts its call short: it returns early, with what it has (bytes written, seconds left)", signal.name())
            }
            CallInterrupted::Eintr => format!("{} interrupts its call: it fails with EINTR", signal.name()),
            CallInterrupted::Restart => {
                format!("{} interrupts its call, which will start again from the beginning", signal.name())
            }
        },
        EventKind::Delivered { signal, delivery, .. } => {
            let name = signal.name();
            match delivery {
                Delivery::Ignored => format!("takes {name}, whose action is to ignore it"),
                Delivery::Discarded => {
                    format!("takes {name}: its process group is orphaned, so this job-control stop is discarded")
                }
                Delivery::Stopped => format!("takes {name} and stops (default action)"),
                Delivery::Terminated { core: false } => format!("takes {name} and is terminated (default action)"),
                Delivery::Terminated { core: true } => format!(
                    "takes {name} and is terminated (default action: core dump; none is written, as its \
                     RLIMIT_CORE is under a page)"
                ),
                Delivery::Dumped => {
                    format!("takes {name}, is terminated and dumps core (default action; its RLIMIT_CORE allows it)")
                }
                Delivery::Handler { handler } => {
                    let handler = program.handlers.get(*handler as usize).map_or("?", |code| &*code.name);
                    format!("takes {name} and runs its handler {handler}")
                }
                Delivery::Stray { address } => format!(
                    "takes {name}, whose handler is address {address}, where no code is: the kernel sends it \
                     there, and fetching the first instruction faults"
                ),
            }
        }
        EventKind::Fault { op, signal, .. }
            if *signal == crate::linux::signal::SIGSEGV
                && program.call(*op).is_some_and(|call| call.id.spec().mechanism.is_instruction()) =>
        {
            let line = program.ops.get(*op as usize).map_or(0, |op| op.span.line);
            format!(
                "its {} on line {line} touches memory no mapping lets it (none there, or not mapped for writing): the CPU raises {}",
                program.call(*op).map_or("access", |call| call.id.name()),
                signal.name()
            )
        }
        EventKind::Fault { op, signal, .. } if *signal == crate::linux::signal::SIGBUS => {
            let line = program.ops.get(*op as usize).map_or(0, |op| op.span.line);
            format!(
                "its {} on line {line} touches a page past the end of the shared memory object it maps: the object has no page there, and the kernel raises {}",
                program.call(*op).map_or("access", |call| call.id.name()),
                signal.name()
            )
        }
        EventKind::Fault { op, signal, .. } if *signal == crate::linux::signal::SIGSEGV => {
            let line = program.ops.get(*op as usize).map_or(0, |op| op.span.line);
            format!(
                "its {} on line {line} touches memory it may not (an unnamed semaphore's address that is not mapped, or not for writing, or a named semaphore handle that is not open): the CPU raises {}",
                program.call(*op).map_or("call", |call| call.id.name()),
                signal.name()
            )
        }
        EventKind::Fault { op, signal, .. } => {
            let line = program.ops.get(*op as usize).map_or(0, |op| op.span.line);
            format!("its division on line {line} traps (by zero, or i64::MIN by -1): the CPU raises {}", signal.name())
        }
        EventKind::PageCopied { address, from, to, .. } => format!(
            "its write to page {address:#x} faults: frame {from} is still mapped copy-on-write elsewhere, so the page now maps a copy, frame {to}"
        ),
        EventKind::Undo { object, num, adjust, value, .. } => format!(
            "as it exits, its SEM_UNDO adjustment {adjust:+} goes to semaphore {num} of {}: the value is now {value}",
            object.words()
        ),
        EventKind::Leftover { object, label, count } => leftover_text(program, object, *label, *count),
        EventKind::ExpectFailed { mismatch, .. } => format!(
            "EXPECTATION FAILED at {}:{}: expected {}, got {}",
            mismatch.span.line, mismatch.span.col, mismatch.expected, mismatch.got
        ),
        EventKind::End { outcome } => match &**outcome {
            RunOutcome::AllExited => format!("run ends: every process has exited ({} steps)", event.step),
            RunOutcome::StepLimit { steps } => format!("run ends: the step limit of {steps} steps was reached"),
            RunOutcome::LimitReached { limit, detail } => format!("run ends: limit {limit} reached: {detail}"),
            RunOutcome::Deadlock { waiting } => {
                let edges: Vec<String> = waiting
                    .iter()
                    .map(|edge| {
                        let who = names.process(edge.pid);
                        let mut what = match &edge.reason {
                            Some(reason) => reason_text(program, reason),
                            None => "it is stopped".to_string(),
                        };
                        if let Some(detail) = &edge.detail {
                            what.push_str("; ");
                            what.push_str(&detail_text(names, edge.reason.as_ref(), detail));
                        }
                        if edge.waits_for.is_empty() {
                            format!("{who} waits ({what})")
                        } else {
                            let others: Vec<String> = edge
                                .waits_for
                                .iter()
                                .map(|pid| if *pid == edge.pid { "itself".to_string() } else { names.process(*pid) })
                                .collect();
                            format!("{who} waits for {} ({what})", others.join(", "))
                        }
                    })
                    .collect();
                format!("run ends in DEADLOCK: {}", edges.join("; "))
            }
        },
    }
}

/// One event as one line of the text trace: `STEP  ACTOR  TEXT`.
pub fn event_line(program: &Program, trace: &Trace, names: &ProcessNames, event: &Event) -> String {
    format!("{:>5}  {:<10} {}", event.step, event_actor(names, event), event_text(program, trace, names, event))
}

/// The whole trace as text, one event per line.
pub fn trace_text(program: &Program, trace: &Trace) -> String {
    let names = ProcessNames::from_events(program, &trace.events);
    let mut text = String::new();
    for event in &trace.events {
        text.push_str(&event_line(program, trace, &names, event));
        text.push('\n');
    }
    text
}

/// One event as tools read it (a line of `ipclab sim --format json`, or of the playground's export): the
/// event's own fields, who it is about, its sentence, and for a failed expectation its line and column.
#[derive(serde::Serialize)]
pub struct EventRecord<'a> {
    #[serde(flatten)]
    pub event: &'a Event,
    pub actor: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub col: Option<u32>,
}

pub fn event_record<'a>(program: &Program, trace: &Trace, names: &ProcessNames, event: &'a Event) -> EventRecord<'a> {
    let span = match &event.kind {
        EventKind::ExpectFailed { mismatch, .. } => Some(mismatch.span),
        _ => None,
    };
    EventRecord {
        event,
        actor: event_actor(names, event),
        text: event_text(program, trace, names, event),
        line: span.map(|span| span.line),
        col: span.map(|span| span.col),
    }
}

/// The last line of a JSON trace: how the run ended.
#[derive(serde::Serialize)]
pub struct RunSummary<'a> {
    pub outcome: &'a RunOutcome,
    pub steps: u64,
    /// 16 hexadecimal digits.
    pub trace_hash: String,
    pub failures: &'a [crate::expect::ExpectationFailure],
    pub choices: &'a [Pid],
}

impl<'a> RunSummary<'a> {
    pub fn of(report: &'a crate::sim::Report) -> RunSummary<'a> {
        RunSummary {
            outcome: &report.outcome,
            steps: report.steps,
            trace_hash: format!("{:016x}", report.trace_hash),
            failures: &report.failures,
            choices: &report.choices,
        }
    }
}

/// A quoted path, as the trace writes it.
pub fn path_text(path: &str) -> String {
    quote(path.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_and_cuts() {
        assert_eq!(quote_bytes(b"hi\n\"x\"\0\xff", 100), "\"hi\\n\\\"x\\\"\\0\\xff\"");
        assert_eq!(quote_bytes(b"abcdef", 3), "\"abc\"...");
    }

    #[test]
    fn a_payload_is_described_as_its_bytes_would_be_without_making_them() {
        for payload in [
            Payload::Fill { len: 70_000, pattern: b"x".to_vec() },
            Payload::Fill { len: 30, pattern: b"ab".to_vec() },
            Payload::Fill { len: 12, pattern: b"ab".to_vec() },
            Payload::Bytes(b"short".to_vec()),
            Payload::Bytes([vec![b'B'; 368], vec![b'A'; 3728]].concat()),
        ] {
            assert_eq!(describe_payload(&payload, 24), describe_bytes(&payload.to_bytes(), 24), "{payload:?}");
        }
        let huge = Payload::Fill { len: 16 << 20, pattern: b"abc".to_vec() };
        assert!(describe_payload(&huge, 24).ends_with("..."));
        // Issue: showing a write scanned its whole payload at every step (24 ms for 16 MiB). The work is
        // bounded by what is shown: a payload of 4 GiB, which a scan would take seconds over and a copy
        // could not even hold, is described at once.
        let enormous = Payload::Fill { len: u32::MAX, pattern: b"ab".to_vec() };
        assert_eq!(describe_payload(&enormous, 8), describe_bytes(b"abababab-", 8).replace("-", ""));
        assert!(enormous.runs(4).len() <= 5, "runs are cut after the fourth");
    }
}
