//! Events in plain words: one line per event, the way the command line and golden files show a trace.
//!
//! The words follow the system calls (`read(p.r=3, 100) = 5 "hello"`) and then say what the kernel did
//! in a sentence a student can follow. The text is derived from events only, plus the program for names.

use crate::ast::{ChildStatus, FcntlCmd, Span, WaitOptions};
use crate::kernel::{Kernel, IMPLICIT_EXIT_OP};
use crate::program::{CallOp, FdArg, OpKind, ProcArg, Program};
use crate::trace::{
    BlockReason, CallResult, CopyDirection, Event, EventKind, Object, Pid, RunOutcome, SignalEffect, Trace,
};

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

/// Bytes as a reader wants to see them: short data quoted whole, long data of a few repeated bytes as
/// runs (`"B"x368 + "A"x3728`, which shows how writes interleaved), anything else quoted and cut.
pub fn describe_bytes(bytes: &[u8], max_bytes: usize) -> String {
    if bytes.len() <= max_bytes {
        return quote_bytes(bytes, max_bytes);
    }
    let mut runs: Vec<(u8, usize)> = Vec::new();
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
    runs.iter().map(|(byte, count)| format!("{}x{count}", quote_bytes(&[*byte], 4))).collect::<Vec<_>>().join(" + ")
}

/// Names of processes, read from the kernel (pids are never reused, so names never change).
pub struct Names<'a> {
    pub kernel: &'a Kernel,
}

impl Names<'_> {
    pub fn process(&self, pid: Pid) -> String {
        match pid {
            0 => "run".to_string(),
            pid if (pid as usize) <= self.kernel.procs.len() => self.kernel.process(pid).name.to_string(),
            pid => format!("pid {pid}"),
        }
    }
}

fn fd_text(program: &Program, arg: &FdArg, value: i32) -> String {
    match arg {
        FdArg::Slot(slot) => format!("{}={}", program.slots[*slot as usize], value),
        FdArg::Literal(number) => number.to_string(),
    }
}

fn proc_text(program: &Program, names: &Names, arg: &ProcArg, value: i64) -> String {
    match arg {
        ProcArg::Slot(slot) if value > 0 => {
            format!("{}={}", program.slots[*slot as usize], value)
        }
        ProcArg::Slot(slot) => format!("{}={}", program.slots[*slot as usize], value),
        ProcArg::SelfProc => format!("self={value}"),
        ProcArg::AnyChild => {
            let _ = names;
            "-1".to_string()
        }
    }
}

fn wait_options_text(options: &WaitOptions) -> String {
    let mut parts = Vec::new();
    if options.nohang {
        parts.push("WNOHANG");
    }
    if options.untraced {
        parts.push("WUNTRACED");
    }
    if options.continued {
        parts.push("WCONTINUED");
    }
    if parts.is_empty() {
        "0".to_string()
    } else {
        parts.join("|")
    }
}

pub fn status_words(status: ChildStatus) -> String {
    match status {
        ChildStatus::Exited(code) => format!("exited with status {code}"),
        ChildStatus::Killed { signal, .. } => format!("killed by {}", signal.name()),
        ChildStatus::Stopped(signal) => format!("stopped by {}", signal.name()),
        ChildStatus::Continued => "continued".to_string(),
    }
}

/// The call as C would write it, with the values its operands had: `write(p.w=4, "hello", 5)`.
pub fn call_text(program: &Program, names: &Names, op: u32, fd: i32, arg: i64) -> String {
    if op == IMPLICIT_EXIT_OP {
        return "exit(0)".to_string();
    }
    let OpKind::Call(call) = &program.ops[op as usize].kind else {
        return "fork()".to_string();
    };
    match call {
        CallOp::Pipe { read_slot, flags, is_pipe2, .. } => {
            let name = program.slots[*read_slot as usize].trim_end_matches(".r").to_string();
            if *is_pipe2 {
                let mut parts = Vec::new();
                if flags.nonblock {
                    parts.push("O_NONBLOCK");
                }
                if flags.cloexec {
                    parts.push("O_CLOEXEC");
                }
                let flags = if parts.is_empty() { "0".to_string() } else { parts.join("|") };
                format!("{name} = pipe2({flags})")
            } else {
                format!("{name} = pipe()")
            }
        }
        CallOp::Open { slot, path, flags } => {
            let access = match flags.access {
                crate::ast::Access::ReadOnly => "O_RDONLY",
                crate::ast::Access::WriteOnly => "O_WRONLY",
                crate::ast::Access::ReadWrite => "O_RDWR",
            };
            let mut flag_text = access.to_string();
            if flags.nonblock {
                flag_text.push_str("|O_NONBLOCK");
            }
            if flags.cloexec {
                flag_text.push_str("|O_CLOEXEC");
            }
            format!("{} = open({}, {flag_text})", program.slots[*slot as usize], quote_bytes(path.as_bytes(), 64))
        }
        CallOp::Dup { slot, fd: fd_arg } => {
            format!("{} = dup({})", program.slots[*slot as usize], fd_text(program, fd_arg, fd))
        }
        CallOp::Dup2 { old, new } => {
            format!("dup2({}, {})", fd_text(program, old, fd), fd_text(program, new, arg as i32))
        }
        CallOp::Close { fd: fd_arg } => format!("close({})", fd_text(program, fd_arg, fd)),
        CallOp::Write { fd: fd_arg, data } => {
            format!("write({}, {}, {})", fd_text(program, fd_arg, fd), describe_bytes(data, 24), data.len())
        }
        CallOp::Read { fd: fd_arg, count } => format!("read({}, {count})", fd_text(program, fd_arg, fd)),
        CallOp::Mkfifo { path } => format!("mkfifo({})", quote_bytes(path.as_bytes(), 64)),
        CallOp::Unlink { path } => format!("unlink({})", quote_bytes(path.as_bytes(), 64)),
        CallOp::Fcntl { fd: fd_arg, cmd } => {
            let fd = fd_text(program, fd_arg, fd);
            match cmd {
                FcntlCmd::GetPipeSize => format!("fcntl({fd}, F_GETPIPE_SZ)"),
                FcntlCmd::SetPipeSize(size) => format!("fcntl({fd}, F_SETPIPE_SZ, {size})"),
                FcntlCmd::GetFlags => format!("fcntl({fd}, F_GETFL)"),
                FcntlCmd::SetFlags { nonblock: true } => format!("fcntl({fd}, F_SETFL, O_NONBLOCK)"),
                FcntlCmd::SetFlags { nonblock: false } => format!("fcntl({fd}, F_SETFL, 0)"),
            }
        }
        CallOp::Kill { target, signal } => {
            format!("kill({}, {})", proc_text(program, names, target, arg), signal.name())
        }
        CallOp::SetDisposition { signal, disposition } => {
            let disposition = match disposition {
                crate::ast::Disposition::Default => "SIG_DFL",
                crate::ast::Disposition::Ignore => "SIG_IGN",
            };
            format!("signal({}, {disposition})", signal.name())
        }
        CallOp::Wait => "wait(&status)".to_string(),
        CallOp::Waitpid { target, options } => {
            format!("waitpid({}, &status, {})", proc_text(program, names, target, arg), wait_options_text(options))
        }
        CallOp::Pause => "pause()".to_string(),
        CallOp::SchedYield => "sched_yield()".to_string(),
        CallOp::Exit { code } => format!("exit({code})"),
    }
}

fn result_text(kernel: &Kernel, trace: &Trace, names: &Names, result: &CallResult, is_exit: bool) -> String {
    match result {
        _ if is_exit => String::new(),
        CallResult::Value { value } => format!(" = {value}"),
        CallResult::Error { errno } => format!(" = -1 {} ({})", errno.name(), errno.meaning()),
        CallResult::Data { offset, len: 0 } => {
            let _ = offset;
            " = 0 (end of file)".to_string()
        }
        CallResult::Data { offset, len } => {
            if trace.keeps_data() {
                format!(" = {len} {}", describe_bytes(trace.read_data(*offset, *len), 32))
            } else {
                format!(" = {len}")
            }
        }
        CallResult::Pipe { read_fd, write_fd } => format!(" = 0: read end fd {read_fd}, write end fd {write_fd}"),
        CallResult::Fork { child } => format!(" = {child} ({})", names.process(*child)),
        CallResult::Waited { child, status } => {
            let _ = kernel;
            format!(" = {child} ({} {})", names.process(*child), status_words(*status))
        }
    }
}

/// Why a process sleeps, in words.
pub fn reason_text(program: &Program, reason: &BlockReason) -> String {
    match reason {
        BlockReason::PipeEmpty { pipe } => format!("pipe {pipe} is empty and its write end is still open"),
        BlockReason::PipeFull { pipe, written: 0 } => format!("pipe {pipe} has no room for this write"),
        BlockReason::PipeFull { pipe, written } => {
            format!("pipe {pipe} is full after {written} bytes of this write went in")
        }
        BlockReason::FifoNoWriter { path, .. } => {
            format!("no process has FIFO {} open for writing yet", program.paths[*path as usize])
        }
        BlockReason::FifoNoReader { path, .. } => {
            format!("no process has FIFO {} open for reading yet", program.paths[*path as usize])
        }
        BlockReason::Child { target: Some(pid) } => format!("child {pid} has not changed state yet"),
        BlockReason::Child { target: None } => "no child has changed state yet".to_string(),
        BlockReason::Signal => "it waits for a signal".to_string(),
    }
}

/// The location an `ExpectFailed` event refers to.
pub fn failure_span(kernel: &Kernel, pid: Pid, op: u32) -> Span {
    if op != u32::MAX {
        return kernel.program.ops[op as usize].span;
    }
    if pid == 0 {
        return kernel
            .program
            .expected_end
            .as_ref()
            .map_or(Span { line: 1, col: 1, ..Span::default() }, |end| end.span);
    }
    kernel.process(pid).expect.as_ref().map_or(kernel.process(pid).span, |expect| expect.span)
}

/// Who an event is about (the column after the step number).
pub fn event_actor(kernel: &Kernel, event: &Event) -> String {
    let names = Names { kernel };
    match &event.kind {
        EventKind::Spawn { pid }
        | EventKind::Call { pid, .. }
        | EventKind::Block { pid, .. }
        | EventKind::Wake { pid, .. }
        | EventKind::Copy { pid, .. }
        | EventKind::Exit { pid, .. }
        | EventKind::Interrupted { pid, .. }
        | EventKind::ExpectFailed { pid, .. } => names.process(*pid),
        EventKind::Reparent { pid, .. } => names.process(*pid),
        EventKind::Fork { parent, .. } => names.process(*parent),
        EventKind::Signal { from, .. } => names.process(*from),
        EventKind::Reap { by, .. } => names.process(*by),
        EventKind::Switch { .. } | EventKind::End { .. } => "-".to_string(),
    }
}

/// One event as one sentence.
pub fn event_text(kernel: &Kernel, trace: &Trace, event: &Event) -> String {
    let program = &kernel.program;
    let names = Names { kernel };
    match &event.kind {
        EventKind::Spawn { pid } => format!("starts as pid {pid}, a child of init, with fds 0, 1, 2 open on /dev/null"),
        EventKind::Switch { from: Some(from), to } => {
            format!("context switch: {} -> {}", names.process(*from), names.process(*to))
        }
        EventKind::Switch { from: None, to } => {
            format!("context switch: the CPU starts running {}", names.process(*to))
        }
        EventKind::Call { op, fd, arg, result, .. } => {
            let is_exit = *op == IMPLICIT_EXIT_OP
                || matches!(program.ops.get(*op as usize).map(|op| &op.kind), Some(OpKind::Call(CallOp::Exit { .. })));
            let prefix = if *op == IMPLICIT_EXIT_OP { "reaches the end of its code: " } else { "" };
            format!(
                "{prefix}{}{}",
                call_text(program, &names, *op, *fd, *arg),
                result_text(kernel, trace, &names, result, is_exit)
            )
        }
        EventKind::Block { op, fd, reason, .. } => {
            let arg = match program.ops.get(*op as usize).map(|op| &op.kind) {
                Some(OpKind::Call(CallOp::Read { count, .. })) => *count as i64,
                Some(OpKind::Call(CallOp::Write { data, .. })) => data.len() as i64,
                Some(OpKind::Call(CallOp::Waitpid { target: ProcArg::Slot(_), .. })) => match reason {
                    BlockReason::Child { target: Some(pid) } => *pid as i64,
                    _ => -1,
                },
                _ => -1,
            };
            format!("{} blocks: {}", call_text(program, &names, *op, *fd, arg), reason_text(program, reason))
        }
        EventKind::Wake { by, .. } => format!("wakes up (because of {}) and will retry its call", names.process(*by)),
        EventKind::Copy { direction, bytes, object, used_bytes, capacity_bytes, .. } => {
            let object = match object {
                Object::Pipe { id } => format!("pipe {id}"),
                Object::DevNull => "/dev/null".to_string(),
            };
            match direction {
                CopyDirection::UserToKernel => format!(
                    "copy {bytes} bytes from its memory into {object} (now {used_bytes} of {capacity_bytes} bytes)"
                ),
                CopyDirection::KernelToUser => format!(
                    "copy {bytes} bytes from {object} into its memory (now {used_bytes} of {capacity_bytes} bytes)"
                ),
            }
        }
        EventKind::Fork { child, .. } => {
            format!("creates {} (pid {child}), a copy that shares its open files", names.process(*child))
        }
        EventKind::Signal { to, signal, effect, from } => {
            let target = names.process(*to);
            let effect = match effect {
                SignalEffect::Ignored => format!("{target} ignores it"),
                SignalEffect::Pending => format!("{target} is stopped, so it stays pending until SIGCONT"),
                SignalEffect::Terminated => format!("{target} is terminated (default action)"),
                SignalEffect::TerminatedCore => {
                    format!("{target} is terminated (default action: core dump; none is written)")
                }
                SignalEffect::Stopped => format!("{target} stops"),
                SignalEffect::Continued => format!("{target} continues"),
                SignalEffect::NoEffect => "it has no effect".to_string(),
            };
            if from == to {
                format!("raises {} for itself: {effect}", signal.name())
            } else {
                format!("sends {} to {target}: {effect}", signal.name())
            }
        }
        EventKind::Exit { status, .. } => format!("{} and is now a zombie until it is reaped", status_words(*status)),
        EventKind::Reap { pid, by } => {
            let parent_ignores = *by != crate::kernel::INIT_PID
                && kernel.process(*by).ignored_signals & crate::linux::SIGCHLD.mask_bit() != 0;
            if parent_ignores {
                format!("the kernel reaps {} at once (its parent ignores SIGCHLD)", names.process(*pid))
            } else {
                format!("reaps {}: its exit status is collected and the zombie is gone", names.process(*pid))
            }
        }
        EventKind::Reparent { new_parent, .. } => {
            format!("loses its parent and is adopted by {}", names.process(*new_parent))
        }
        EventKind::Interrupted { signal, .. } => {
            format!("its write is cut short by {}: it returns the bytes written so far", signal.name())
        }
        EventKind::ExpectFailed { pid, op, mismatch } => {
            let span = failure_span(kernel, *pid, *op);
            format!(
                "EXPECTATION FAILED at {}:{}: expected {}, got {}",
                span.line, span.col, mismatch.expected, mismatch.got
            )
        }
        EventKind::End { outcome } => match &**outcome {
            RunOutcome::AllExited => format!("run ends: every process has exited ({} steps)", event.step),
            RunOutcome::StepLimit { steps } => format!("run ends: the step limit of {steps} steps was reached"),
            RunOutcome::LimitReached { limit, detail } => format!("run ends: limit {limit} reached: {detail}"),
            RunOutcome::Deadlock { waiting } => {
                let edges: Vec<String> = waiting
                    .iter()
                    .map(|edge| {
                        let who = names.process(edge.pid);
                        let what = match &edge.reason {
                            Some(reason) => reason_text(program, reason),
                            None => "it is stopped".to_string(),
                        };
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
pub fn event_line(kernel: &Kernel, trace: &Trace, event: &Event) -> String {
    format!("{:>5}  {:<10} {}", event.step, event_actor(kernel, event), event_text(kernel, trace, event))
}

/// The whole trace as text, one event per line.
pub fn trace_text(kernel: &Kernel, trace: &Trace) -> String {
    let mut text = String::new();
    for event in &trace.events {
        text.push_str(&event_line(kernel, trace, event));
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

pub fn event_record<'a>(kernel: &Kernel, trace: &Trace, event: &'a Event) -> EventRecord<'a> {
    let span = match &event.kind {
        EventKind::ExpectFailed { pid, op, .. } => Some(failure_span(kernel, *pid, *op)),
        _ => None,
    };
    EventRecord {
        event,
        actor: event_actor(kernel, event),
        text: event_text(kernel, trace, event),
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
    pub failures: &'a [crate::kernel::ExpectationFailure],
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

#[cfg(test)]
mod tests {
    use super::quote_bytes;

    #[test]
    fn quoting_escapes_and_cuts() {
        assert_eq!(quote_bytes(b"hi\n\"x\"\0\xff", 100), "\"hi\\n\\\"x\\\"\\0\\xff\"");
        assert_eq!(quote_bytes(b"abcdef", 3), "\"abc\"...");
    }
}
