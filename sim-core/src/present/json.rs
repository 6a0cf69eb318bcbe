//! The JSON trace, written by hand: one [`EventRecord`] per line, then the [`RunSummary`], exactly the
//! text `serde_json` gives for their `Serialize` forms (`ipclab sim --format json` and the playground's
//! export both write it from here).
//!
//! Writing it by hand keeps `serde_json` and every `Serialize` implementation out of the playground's
//! WebAssembly bundle, which would otherwise carry them for this one export. The `Serialize` forms stay
//! the definition: the tests compare this text with `serde_json`'s over every library scenario and
//! random events of every kind, so a field added to an event without adding it here fails them.

use super::render::{event_record, EventRecord, ProcessNames, RunSummary};
use crate::expect::ExpectationFailure;
use crate::lang::ast::Span;
use crate::lang::compile::Program;
use crate::linux::ChildStatus;
use crate::sim::Report;
use crate::trace::{
    BlockReason, CallInterrupted, CallResult, CopyDirection, Delivery, EventKind, LastEnd, Mismatch, ObjectKind,
    ObjectRef, Pid, ReapCause, RightsMove, RunOutcome, SignalEffect, SignalOrigin, Trace, WaitDetail, WaitEdge,
    WakeCause,
};
use std::fmt::Write as _;

/// The whole JSON trace: every event's record on its own line, then the summary line when the run has a
/// report.
pub fn trace_lines(program: &Program, trace: &Trace, names: &ProcessNames, report: Option<&Report>) -> String {
    let mut out = String::new();
    for event in &trace.events {
        write_event_record(&mut out, &event_record(program, trace, names, event));
        out.push('\n');
    }
    if let Some(report) = report {
        write_run_summary(&mut out, &RunSummary::of(report));
        out.push('\n');
    }
    out
}

/// One event's record, as `serde_json::to_string` writes it.
pub fn event_record_json(record: &EventRecord) -> String {
    let mut out = String::new();
    write_event_record(&mut out, record);
    out
}

/// The summary, as `serde_json::to_string` writes it.
pub fn run_summary_json(summary: &RunSummary) -> String {
    let mut out = String::new();
    write_run_summary(&mut out, summary);
    out
}

/// Appends `text` as a JSON string, escaped as `serde_json` escapes it: quotes, backslashes and control
/// characters; everything else as it is.
pub fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            control if (control as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", control as u32);
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

/// An object being written: each field is preceded by a comma except the first.
struct Object<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut String) -> Object<'a> {
        out.push('{');
        Object { out, empty: true }
    }

    /// An object whose first field is its tag: `{"TAG":"VALUE"`.
    fn tagged(out: &'a mut String, tag: &str, value: &str) -> Object<'a> {
        let mut object = Object::open(out);
        object.text(tag, value);
        object
    }

    /// Writes `"NAME":` and hands the writer over for the value.
    fn key(&mut self, name: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        self.out.push('"');
        self.out.push_str(name);
        self.out.push_str("\":");
        self.out
    }

    fn unsigned(&mut self, name: &str, value: u64) {
        let _ = write!(self.key(name), "{value}");
    }

    fn signed(&mut self, name: &str, value: i64) {
        let _ = write!(self.key(name), "{value}");
    }

    fn text(&mut self, name: &str, value: &str) {
        write_string(self.key(name), value);
    }

    fn pid_or_null(&mut self, name: &str, value: Option<Pid>) {
        match value {
            Some(pid) => self.unsigned(name, pid.into()),
            None => self.key(name).push_str("null"),
        }
    }

    fn object(&mut self, name: &str, value: ObjectRef) {
        write_object_ref(self.key(name), value);
    }

    fn close(self) {
        self.out.push('}');
    }
}

fn write_pids(out: &mut String, pids: &[Pid]) {
    out.push('[');
    for (index, pid) in pids.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let _ = write!(out, "{pid}");
    }
    out.push(']');
}

fn write_object_ref(out: &mut String, object: ObjectRef) {
    let kind = match object.kind {
        ObjectKind::DevNull => "dev_null",
        ObjectKind::Pipe => "pipe",
        ObjectKind::Process => "process",
        ObjectKind::File => "file",
        ObjectKind::Path => "path",
        ObjectKind::MsgQueue => "msg_queue",
        ObjectKind::SemSet => "sem_set",
        ObjectKind::ShmSegment => "shm_segment",
        ObjectKind::Frame => "frame",
        ObjectKind::Mqueue => "mqueue",
        ObjectKind::NamedSem => "named_sem",
        ObjectKind::Socket => "socket",
        ObjectKind::ShmObject => "shm_object",
        ObjectKind::Epoll => "epoll",
    };
    let mut fields = Object::tagged(out, "kind", kind);
    fields.unsigned("id", object.id.into());
    fields.close();
}

fn write_span(out: &mut String, span: Span) {
    let Span { line, col, start_byte, end_byte } = span;
    let mut fields = Object::open(out);
    fields.unsigned("line", line.into());
    fields.unsigned("col", col.into());
    fields.unsigned("start_byte", start_byte.into());
    fields.unsigned("end_byte", end_byte.into());
    fields.close();
}

/// `ChildStatus` has serde's default, externally tagged form: `{"Exited":0}`, `"Continued"`.
fn write_status(out: &mut String, status: ChildStatus) {
    match status {
        ChildStatus::Exited(code) => {
            let _ = write!(out, "{{\"Exited\":{code}}}");
        }
        ChildStatus::Killed { signal, core } => {
            let _ = write!(out, "{{\"Killed\":{{\"signal\":{},\"core\":{core}}}}}", signal.0);
        }
        ChildStatus::Stopped(signal) => {
            let _ = write!(out, "{{\"Stopped\":{}}}", signal.0);
        }
        ChildStatus::Continued => out.push_str("\"Continued\""),
    }
}

fn write_result(out: &mut String, result: CallResult) {
    let name = match result {
        CallResult::Value { .. } => "value",
        CallResult::Error { .. } => "error",
        CallResult::Data { .. } => "data",
        CallResult::Pair { .. } => "pair",
        CallResult::Fork { .. } => "fork",
        CallResult::Waited { .. } => "waited",
        CallResult::WaitedInfo { .. } => "waited_info",
        CallResult::Out { .. } => "out",
        CallResult::Message { .. } => "message",
        CallResult::Array { .. } => "array",
        CallResult::Received { .. } => "received",
        CallResult::Polled { .. } => "polled",
        CallResult::Epolled { .. } => "epolled",
    };
    let mut fields = Object::tagged(out, "kind", name);
    match result {
        CallResult::Value { value } | CallResult::Out { value } => fields.signed("value", value),
        CallResult::Error { errno } => fields.unsigned("errno", errno.0.into()),
        CallResult::Data { offset, len } => {
            fields.unsigned("offset", offset.into());
            fields.unsigned("len", len.into());
        }
        CallResult::Pair { read_fd, write_fd } => {
            fields.signed("read_fd", read_fd.into());
            fields.signed("write_fd", write_fd.into());
        }
        CallResult::Fork { child } => fields.unsigned("child", child.into()),
        CallResult::Message { offset, len, tag, skipped } => {
            fields.unsigned("offset", offset.into());
            fields.unsigned("len", len.into());
            fields.signed("tag", tag);
            fields.unsigned("skipped", skipped.into());
        }
        CallResult::Array { offset, len } => {
            fields.unsigned("offset", offset.into());
            fields.unsigned("len", len.into());
        }
        CallResult::Received { offset, len, fd, fds, flags, creds } => {
            fields.unsigned("offset", offset.into());
            fields.unsigned("len", len.into());
            fields.signed("fd", fd.into());
            fields.unsigned("fds", fds.into());
            fields.unsigned("flags", flags.into());
            fields.signed("creds", creds.into());
        }
        CallResult::Polled { ready, revents } => {
            fields.unsigned("ready", ready.into());
            let shown: Vec<String> = revents.iter().map(|value| value.to_string()).collect();
            let _ = write!(fields.key("revents"), "[{}]", shown.join(","));
        }
        CallResult::Epolled { ready, fds, events } => {
            fields.unsigned("ready", ready.into());
            let shown: Vec<String> = fds.iter().map(|value| value.to_string()).collect();
            let _ = write!(fields.key("fds"), "[{}]", shown.join(","));
            let shown: Vec<String> = events.iter().map(|value| value.to_string()).collect();
            let _ = write!(fields.key("events"), "[{}]", shown.join(","));
        }
        CallResult::Waited { child, status } | CallResult::WaitedInfo { child, status } => {
            fields.unsigned("child", child.into());
            write_status(fields.key("status"), status);
        }
    }
    fields.close();
}

fn write_reason(out: &mut String, reason: &BlockReason) {
    let name = match reason {
        BlockReason::PipeEmpty { .. } => "pipe_empty",
        BlockReason::PipeFull { .. } => "pipe_full",
        BlockReason::FifoNoWriter { .. } => "fifo_no_writer",
        BlockReason::FifoNoReader { .. } => "fifo_no_reader",
        BlockReason::Child { .. } => "child",
        BlockReason::ChildInGroup { .. } => "child_in_group",
        BlockReason::Signal => "signal",
        BlockReason::MsgEmpty { .. } => "msg_empty",
        BlockReason::MsgFull { .. } => "msg_full",
        BlockReason::SemOp { .. } => "sem_op",
        BlockReason::MqEmpty { .. } => "mq_empty",
        BlockReason::MqFull { .. } => "mq_full",
        BlockReason::NamedSem { .. } => "named_sem",
        BlockReason::SignalWait { .. } => "signal_wait",
        BlockReason::Sleep { .. } => "sleep",
        BlockReason::SocketEmpty { .. } => "socket_empty",
        BlockReason::SocketFull { .. } => "socket_full",
        BlockReason::SocketAccept { .. } => "socket_accept",
        BlockReason::SocketBacklog { .. } => "socket_backlog",
        BlockReason::SocketReceiverFull { .. } => "socket_receiver_full",
        BlockReason::Futex { .. } => "futex",
        BlockReason::Poll { .. } => "poll",
        BlockReason::Epoll { .. } => "epoll",
    };
    let mut fields = Object::tagged(out, "kind", name);
    match *reason {
        BlockReason::PipeEmpty { pipe } => fields.unsigned("pipe", pipe.into()),
        BlockReason::PipeFull { pipe, written } => {
            fields.unsigned("pipe", pipe.into());
            fields.unsigned("written", written.into());
        }
        BlockReason::FifoNoWriter { pipe, path } | BlockReason::FifoNoReader { pipe, path } => {
            fields.unsigned("pipe", pipe.into());
            fields.unsigned("path", path.into());
        }
        BlockReason::Child { target } => fields.pid_or_null("target", target),
        BlockReason::ChildInGroup { pgid } => fields.unsigned("pgid", pgid.into()),
        BlockReason::Signal => {}
        BlockReason::MsgEmpty { queue, msgtype, except, held } => {
            fields.unsigned("queue", queue.into());
            fields.signed("msgtype", msgtype);
            let _ = write!(fields.key("except"), "{except}");
            fields.unsigned("held", held.into());
        }
        BlockReason::MsgFull { queue, bytes, used, capacity } => {
            fields.unsigned("queue", queue.into());
            fields.unsigned("bytes", bytes.into());
            fields.unsigned("used", used.into());
            fields.unsigned("capacity", capacity.into());
        }
        BlockReason::SemOp { set, num, op, value } => {
            fields.unsigned("set", set.into());
            fields.unsigned("num", num.into());
            fields.signed("op", op.into());
            fields.signed("value", value.into());
        }
        BlockReason::MqEmpty { mq } => fields.unsigned("mq", mq.into()),
        BlockReason::MqFull { mq, held } => {
            fields.unsigned("mq", mq.into());
            fields.unsigned("held", held.into());
        }
        BlockReason::NamedSem { sem } => fields.unsigned("sem", sem.into()),
        BlockReason::SignalWait { set } => fields.unsigned("set", set),
        BlockReason::Sleep { until, seconds } => {
            fields.unsigned("until", until);
            fields.key("seconds").push_str(if seconds { "true" } else { "false" });
        }
        BlockReason::SocketEmpty { socket }
        | BlockReason::SocketAccept { socket }
        | BlockReason::SocketBacklog { socket }
        | BlockReason::SocketReceiverFull { socket } => fields.unsigned("socket", socket.into()),
        BlockReason::SocketFull { socket, written } => {
            fields.unsigned("socket", socket.into());
            fields.unsigned("written", written.into());
        }
        BlockReason::Futex { address, value } => {
            fields.unsigned("address", address);
            fields.unsigned("value", value.into());
        }
        BlockReason::Poll { entries, until } => {
            fields.unsigned("entries", entries.into());
            fields.unsigned("until", until);
        }
        BlockReason::Epoll { epoll, until } => {
            fields.unsigned("epoll", epoll.into());
            fields.unsigned("until", until);
        }
    }
    fields.close();
}

fn write_cause(out: &mut String, cause: WakeCause) {
    let (name, object) = match cause {
        WakeCause::Data { object } => ("data", object),
        WakeCause::Room { object } => ("room", object),
        WakeCause::Hangup { object } => ("hangup", object),
        WakeCause::Partner { object } => ("partner", object),
        WakeCause::Resize { object } => ("resize", object),
        WakeCause::Completed { object } => ("completed", object),
        WakeCause::Removed { object } => ("removed", object),
        WakeCause::Changed { object } => ("changed", object),
        WakeCause::Child { child } => {
            let mut fields = Object::tagged(out, "cause", "child");
            fields.unsigned("child", child.into());
            fields.close();
            return;
        }
        WakeCause::Signal { signal } => {
            let mut fields = Object::tagged(out, "cause", "signal");
            fields.unsigned("signal", signal.0.into());
            fields.close();
            return;
        }
        WakeCause::Timer => {
            Object::tagged(out, "cause", "timer").close();
            return;
        }
    };
    let mut fields = Object::tagged(out, "cause", name);
    fields.object("object", object);
    fields.close();
}

fn write_last_end(out: &mut String, end: LastEnd) {
    match end {
        LastEnd::Write => out.push_str("{\"side\":\"write\"}"),
        LastEnd::Read => out.push_str("{\"side\":\"read\"}"),
        LastEnd::Both { unread } => {
            let _ = write!(out, "{{\"side\":\"both\",\"unread\":{unread}}}");
        }
    }
}

fn write_wait_edge(out: &mut String, edge: &WaitEdge) {
    let WaitEdge { pid, reason, waits_for, detail } = edge;
    let mut fields = Object::open(out);
    fields.unsigned("pid", (*pid).into());
    match reason {
        Some(reason) => write_reason(fields.key("reason"), reason),
        None => fields.key("reason").push_str("null"),
    }
    write_pids(fields.key("waits_for"), waits_for);
    match detail {
        Some(WaitDetail::Semaphore { value, last_pid }) => {
            let mut inner = Object::tagged(fields.key("detail"), "kind", "semaphore");
            inner.signed("value", *value);
            inner.unsigned("last_pid", (*last_pid).into());
            inner.close();
        }
        Some(WaitDetail::Queue { messages, bytes }) => {
            let mut inner = Object::tagged(fields.key("detail"), "kind", "queue");
            inner.unsigned("messages", *messages);
            inner.unsigned("bytes", *bytes);
            inner.close();
        }
        None => {}
    }
    fields.close();
}

fn write_outcome(out: &mut String, outcome: &RunOutcome) {
    let name = match outcome {
        RunOutcome::AllExited => "all_exited",
        RunOutcome::Deadlock { .. } => "deadlock",
        RunOutcome::StepLimit { .. } => "step_limit",
        RunOutcome::LimitReached { .. } => "limit_reached",
    };
    let mut fields = Object::tagged(out, "kind", name);
    match outcome {
        RunOutcome::AllExited => {}
        RunOutcome::Deadlock { waiting } => {
            let out = fields.key("waiting");
            out.push('[');
            for (index, edge) in waiting.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_wait_edge(out, edge);
            }
            out.push(']');
        }
        RunOutcome::StepLimit { steps } => fields.unsigned("steps", *steps),
        RunOutcome::LimitReached { limit, detail } => {
            fields.text("limit", limit);
            fields.text("detail", detail);
        }
    }
    fields.close();
}

/// The event's own fields after its tag, in the order the event type declares them.
fn write_kind_fields(fields: &mut Object, kind: &EventKind) {
    match kind {
        EventKind::Spawn { pid, index } => {
            fields.unsigned("pid", (*pid).into());
            fields.unsigned("index", (*index).into());
        }
        EventKind::Switch { from, to } => {
            fields.pid_or_null("from", *from);
            fields.unsigned("to", (*to).into());
        }
        EventKind::Call { pid, op, args, result } => {
            fields.unsigned("pid", (*pid).into());
            fields.unsigned("op", (*op).into());
            write_args(fields.key("args"), args.as_slice());
            write_result(fields.key("result"), *result);
        }
        EventKind::Block { pid, op, args, reason } => {
            fields.unsigned("pid", (*pid).into());
            fields.unsigned("op", (*op).into());
            write_args(fields.key("args"), args.as_slice());
            write_reason(fields.key("reason"), reason);
        }
        EventKind::Wake { pid, by, cause } => {
            fields.unsigned("pid", (*pid).into());
            fields.unsigned("by", (*by).into());
            write_cause(fields.key("cause"), *cause);
        }
        EventKind::Copy { pid, direction, bytes, object, used_bytes, capacity_bytes } => {
            fields.unsigned("pid", (*pid).into());
            let direction = match direction {
                CopyDirection::UserToKernel => "user_to_kernel",
                CopyDirection::KernelToUser => "kernel_to_user",
            };
            fields.text("direction", direction);
            fields.unsigned("bytes", (*bytes).into());
            fields.object("object", *object);
            fields.unsigned("used_bytes", (*used_bytes).into());
            fields.unsigned("capacity_bytes", (*capacity_bytes).into());
        }
        EventKind::Fork { parent, child, op } => {
            fields.unsigned("parent", (*parent).into());
            fields.unsigned("child", (*child).into());
            fields.unsigned("op", (*op).into());
        }
        EventKind::Signal { from, to, signal, effect, origin } => {
            fields.unsigned("from", (*from).into());
            fields.unsigned("to", (*to).into());
            fields.unsigned("signal", signal.0.into());
            let effect = match effect {
                SignalEffect::Ignored => "ignored",
                SignalEffect::Pending => "pending",
                SignalEffect::Blocked => "blocked",
                SignalEffect::WhileStopped => "while_stopped",
                SignalEffect::Coalesced => "coalesced",
                SignalEffect::Continued => "continued",
                SignalEffect::NoEffect => "no_effect",
            };
            fields.text("effect", effect);
            let origin = match origin {
                SignalOrigin::Call => "call",
                SignalOrigin::ChildChanged => "child_changed",
                SignalOrigin::NoReader => "no_reader",
                SignalOrigin::Alarm => "alarm",
                SignalOrigin::OrphanedGroup => "orphaned_group",
                SignalOrigin::MessageArrived => "message_arrived",
            };
            fields.text("origin", origin);
        }
        EventKind::Exit { pid, status } => {
            fields.unsigned("pid", (*pid).into());
            write_status(fields.key("status"), *status);
        }
        EventKind::Reap { pid, by, cause } => {
            fields.unsigned("pid", (*pid).into());
            fields.unsigned("by", (*by).into());
            let cause = match cause {
                ReapCause::Wait => "wait",
                ReapCause::Init => "init",
                ReapCause::Ignored => "ignored",
            };
            fields.text("cause", cause);
        }
        EventKind::Reparent { pid, new_parent } => {
            fields.unsigned("pid", (*pid).into());
            fields.unsigned("new_parent", (*new_parent).into());
        }
        EventKind::LastEnd { pid, object, end } => {
            fields.unsigned("pid", (*pid).into());
            fields.object("object", *object);
            write_last_end(fields.key("end"), *end);
        }
        EventKind::Orphaned { pid, pgid } => {
            fields.unsigned("pid", (*pid).into());
            fields.unsigned("pgid", (*pgid).into());
        }
        EventKind::Fault { pid, op, signal } => {
            fields.unsigned("pid", (*pid).into());
            fields.unsigned("op", (*op).into());
            fields.unsigned("signal", signal.0.into());
        }
        EventKind::Interrupted { pid, op, signal, outcome, gone } => {
            fields.unsigned("pid", (*pid).into());
            fields.unsigned("op", (*op).into());
            fields.unsigned("signal", signal.0.into());
            let outcome = match outcome {
                CallInterrupted::Restart => "restart",
                CallInterrupted::Eintr => "eintr",
                CallInterrupted::Partial => "partial",
            };
            fields.text("outcome", outcome);
            fields.key("gone").push_str(if *gone { "true" } else { "false" });
        }
        EventKind::Delivered { pid, signal, delivery } => {
            fields.unsigned("pid", (*pid).into());
            fields.unsigned("signal", signal.0.into());
            let out = fields.key("delivery");
            match delivery {
                Delivery::Ignored => Object::tagged(out, "action", "ignored").close(),
                Delivery::Discarded => Object::tagged(out, "action", "discarded").close(),
                Delivery::Stopped => Object::tagged(out, "action", "stopped").close(),
                Delivery::Dumped => Object::tagged(out, "action", "dumped").close(),
                Delivery::Terminated { core } => {
                    let mut inner = Object::tagged(out, "action", "terminated");
                    inner.key("core").push_str(if *core { "true" } else { "false" });
                    inner.close();
                }
                Delivery::Handler { handler } => {
                    let mut inner = Object::tagged(out, "action", "handler");
                    inner.unsigned("handler", (*handler).into());
                    inner.close();
                }
                Delivery::Stray { address } => {
                    let mut inner = Object::tagged(out, "action", "stray");
                    inner.signed("address", *address);
                    inner.close();
                }
            }
        }
        EventKind::Clock { now } => fields.unsigned("now", *now),
        EventKind::Alarm { pid } => fields.unsigned("pid", (*pid).into()),
        EventKind::ExpectFailed { pid, op, mismatch } => {
            fields.unsigned("pid", (*pid).into());
            fields.unsigned("op", (*op).into());
            let Mismatch { expected, got, span } = &**mismatch;
            let mut inner = Object::open(fields.key("mismatch"));
            inner.text("expected", expected);
            inner.text("got", got);
            write_span(inner.key("span"), *span);
            inner.close();
        }
        EventKind::Undo { pid, object, num, adjust, value } => {
            fields.unsigned("pid", (*pid).into());
            fields.object("object", *object);
            fields.unsigned("num", (*num).into());
            fields.signed("adjust", (*adjust).into());
            fields.signed("value", (*value).into());
        }
        EventKind::Rights { pid, socket, fd, object, access, moved } => {
            fields.unsigned("pid", (*pid).into());
            fields.unsigned("socket", (*socket).into());
            fields.signed("fd", (*fd).into());
            fields.object("object", *object);
            fields.unsigned("access", (*access).into());
            let moved = match moved {
                RightsMove::Sent => "sent",
                RightsMove::Received => "received",
                RightsMove::Truncated => "truncated",
                RightsMove::Unread => "unread",
                RightsMove::Collected => "collected",
            };
            fields.text("moved", moved);
        }
        EventKind::Segment { pid, from, from_port, to, to_port, flags, bytes } => {
            fields.unsigned("pid", (*pid).into());
            fields.unsigned("from", (*from).into());
            fields.unsigned("from_port", (*from_port).into());
            fields.unsigned("to", (*to).into());
            fields.unsigned("to_port", (*to_port).into());
            fields.unsigned("flags", (*flags).into());
            fields.unsigned("bytes", (*bytes).into());
        }
        EventKind::PageCopied { pid, address, from, to } => {
            fields.unsigned("pid", (*pid).into());
            fields.unsigned("address", *address);
            fields.unsigned("from", (*from).into());
            fields.unsigned("to", (*to).into());
        }
        EventKind::Leftover { object, label, count } => {
            fields.object("object", *object);
            fields.signed("label", *label);
            fields.unsigned("count", *count);
        }
        EventKind::End { outcome } => write_outcome(fields.key("outcome"), outcome),
    }
}

fn write_args(out: &mut String, values: &[i64]) {
    out.push('[');
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let _ = write!(out, "{value}");
    }
    out.push(']');
}

/// The event's tag: its variant's name in snake case.
fn kind_name(kind: &EventKind) -> &'static str {
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
        EventKind::LastEnd { .. } => "last_end",
        EventKind::Orphaned { .. } => "orphaned",
        EventKind::Interrupted { .. } => "interrupted",
        EventKind::Delivered { .. } => "delivered",
        EventKind::Clock { .. } => "clock",
        EventKind::Alarm { .. } => "alarm",
        EventKind::Fault { .. } => "fault",
        EventKind::ExpectFailed { .. } => "expect_failed",
        EventKind::Undo { .. } => "undo",
        EventKind::PageCopied { .. } => "page_copied",
        EventKind::Rights { .. } => "rights",
        EventKind::Segment { .. } => "segment",
        EventKind::Leftover { .. } => "leftover",
        EventKind::End { .. } => "end",
    }
}

fn write_event_record(out: &mut String, record: &EventRecord) {
    let EventRecord { event, actor, text, line, col } = record;
    let mut fields = Object::open(out);
    fields.unsigned("step", event.step.into());
    fields.text("event", kind_name(&event.kind));
    write_kind_fields(&mut fields, &event.kind);
    fields.text("actor", actor);
    fields.text("text", text);
    if let Some(line) = line {
        fields.unsigned("line", (*line).into());
    }
    if let Some(col) = col {
        fields.unsigned("col", (*col).into());
    }
    fields.close();
}

fn write_failure(out: &mut String, failure: &ExpectationFailure) {
    let ExpectationFailure { span, process, expected, got } = failure;
    let mut fields = Object::open(out);
    write_span(fields.key("span"), *span);
    fields.text("process", process);
    fields.text("expected", expected);
    fields.text("got", got);
    fields.close();
}

fn write_run_summary(out: &mut String, summary: &RunSummary) {
    let RunSummary { outcome, steps, trace_hash, failures, choices } = summary;
    let mut fields = Object::open(out);
    write_outcome(fields.key("outcome"), outcome);
    fields.unsigned("steps", *steps);
    fields.text("trace_hash", trace_hash);
    let out = fields.key("failures");
    out.push('[');
    for (index, failure) in failures.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        write_failure(out, failure);
    }
    out.push(']');
    write_pids(fields.key("choices"), choices);
    fields.close();
}
