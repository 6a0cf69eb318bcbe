//! The simulated kernel: processes, descriptor tables, open files, pipes, FIFOs and signals.
//!
//! [`Kernel::step`] runs one step of one process: one system call, or one attempt at a call that
//! blocked before. A call that cannot finish puts the process to sleep on a wait queue; a wake-up
//! makes it runnable again and it retries the call when next scheduled, as a Linux task re-checks its
//! condition after `schedule()` returns. Everything a process observes is an errno or a value; a broken
//! kernel invariant is a bug in this model and [`Kernel::check_invariants`] reports it.

use crate::ast::{
    Access, ChildStatus, Disposition, Errno, Expect, FcntlCmd, Located, OpenFlags, ProcessOutcome, Signal, Span,
};
use crate::limits::Limits;
use crate::linux::{self, DefaultAction};
use crate::pipe::{round_pipe_size, PipeBuffer, WriteProgress};
use crate::program::{CallOp, FdArg, OpKind, ProcArg, Program};
use crate::trace::{
    BlockReason, CallResult, CopyDirection, Event, EventKind, Mismatch, Object, Pid, RunOutcome, SignalEffect, Trace,
    WaitEdge,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `init`'s pid: it adopts orphans and reaps every zombie it is handed, at once.
pub const INIT_PID: Pid = 1;

/// Marks an event that concerns the implicit `exit(0)` at the end of a block rather than an operation.
pub const IMPLICIT_EXIT_OP: u32 = u32::MAX;

/// `O_LARGEFILE` as `F_GETFL` shows it on x86-64 for files opened with `open` (the kernel forces it).
const O_LARGEFILE: i64 = 0o100000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcState {
    Runnable,
    Blocked(BlockReason),
    Stopped,
    Zombie,
    Reaped,
}

/// A state change a parent has not collected with `waitpid(WUNTRACED|WCONTINUED)` yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Report {
    Stopped(Signal),
    Continued,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdEntry {
    pub file: u32,
    pub cloexec: bool,
}

#[derive(Clone, Debug)]
pub struct Process {
    pub pid: Pid,
    pub ppid: Pid,
    pub name: Arc<str>,
    pub state: ProcState,
    pub pc: u32,
    pub end_pc: u32,
    loops: Vec<u32>,
    pub vars: Vec<i32>,
    pub fds: Vec<Option<FdEntry>>,
    /// Bytes of the current `write` already in the pipe (a large write can block part-way).
    pub progress: u32,
    /// The current call has slept at least once (Linux's `wake_next_reader`/`wake_next_writer`).
    pub waited: bool,
    /// A FIFO open that is waiting for its partner: the file exists and counts as a reader or writer.
    pending_open: Option<(u32, u32)>,
    pub pending_signals: u64,
    pub ignored_signals: u64,
    report: Option<Report>,
    pub status: Option<ChildStatus>,
    pub children: Vec<Pid>,
    pub expect: Option<Located<ProcessOutcome>>,
    pub span: Span,
}

/// An open file description (`struct file`): shared by `dup` and `fork`, released with its last descriptor.
#[derive(Clone, Debug)]
pub struct OpenFile {
    pub pipe: Option<u32>,
    pub readable: bool,
    pub writable: bool,
    pub nonblock: bool,
    /// What `F_GETFL` reports besides `O_NONBLOCK`.
    pub base_flags: i64,
    pub refs: u32,
}

#[derive(Clone, Debug)]
pub struct Pipe {
    pub id: u32,
    pub buffer: PipeBuffer,
    pub readers: u32,
    pub writers: u32,
    /// FIFO open counters (`r_counter`, `w_counter`): a blocked open waits for its partner's to change.
    pub reader_opens: u32,
    pub writer_opens: u32,
    pub fifo_path: Option<Arc<str>>,
    pub read_waiters: Vec<Pid>,
    pub write_waiters: Vec<Pid>,
    pub open_waiters: Vec<Pid>,
    pub bytes_written: u64,
    pub bytes_read: u64,
}

/// A FIFO in the file system namespace. Its pipe exists only while somebody has it open.
#[derive(Clone, Debug, Default)]
pub struct FifoNode {
    pub pipe: Option<u32>,
}

/// An expectation from the scenario that did not hold.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExpectationFailure {
    pub span: Span,
    pub process: String,
    pub expected: String,
    pub got: String,
}

/// What executing an operation produced.
enum Exec {
    Done(CallResult),
    Block(BlockReason),
}

/// A run-ending limit hit during a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitHit {
    pub limit: &'static str,
    pub detail: String,
}

#[derive(Clone, Debug)]
pub struct Kernel {
    pub program: Arc<Program>,
    pub limits: Limits,
    /// Indexed by `pid - 1`; reaped processes stay as tombstones so names never change.
    pub procs: Vec<Process>,
    /// Pids of processes that are not reaped (init excluded), ascending.
    pub alive: Vec<Pid>,
    /// Pids of the runnable processes among `alive`, ascending; every change of state goes through
    /// [`Kernel::set_state`], which keeps this list.
    runnable: Vec<Pid>,
    pub files: Vec<Option<OpenFile>>,
    free_files: Vec<u32>,
    /// Indexed by `id - 1`; a freed pipe leaves `None`.
    pub pipes: Vec<Option<Pipe>>,
    pub fifos: BTreeMap<Arc<str>, FifoNode>,
    pub step: u64,
    pub bytes_in_flight: u64,
    pub copied_to_kernel: u64,
    pub copied_to_user: u64,
    /// System calls that returned (or ended their process), as opposed to attempts that blocked.
    pub calls_completed: u64,
    pub failures: Vec<ExpectationFailure>,
    name_counts: BTreeMap<Arc<str>, u32>,
    /// Signals raised by the running process's own call, delivered once the call's event is recorded.
    deferred: Vec<(Pid, Pid, Signal)>,
    read_scratch: Vec<u8>,
    wake_scratch: Vec<Pid>,
}

fn status_text(status: ChildStatus) -> String {
    match status {
        ChildStatus::Exited(code) => format!("exited {code}"),
        ChildStatus::Killed { signal, core: true } => format!("killed {} core", signal.name()),
        ChildStatus::Killed { signal, core: false } => format!("killed {}", signal.name()),
        ChildStatus::Stopped(signal) => format!("stopped {}", signal.name()),
        ChildStatus::Continued => "continued".to_string(),
    }
}

/// The process name without the `#2` that tells apart several children forked from one `fork` line.
pub fn base_name(name: &str) -> &str {
    name.split('#').next().unwrap_or(name)
}

impl Kernel {
    /// A kernel with `init` and every top-level process created, its standard descriptors open on `/dev/null`.
    pub fn new(program: Arc<Program>, limits: Limits, trace: &mut Trace) -> Result<Kernel, LimitHit> {
        let slot_count = program.slots.len();
        let mut kernel = Kernel {
            program: program.clone(),
            limits,
            procs: Vec::new(),
            alive: Vec::new(),
            runnable: Vec::new(),
            files: Vec::new(),
            free_files: Vec::new(),
            pipes: Vec::new(),
            fifos: BTreeMap::new(),
            step: 0,
            bytes_in_flight: 0,
            copied_to_kernel: 0,
            copied_to_user: 0,
            calls_completed: 0,
            failures: Vec::new(),
            name_counts: BTreeMap::new(),
            deferred: Vec::new(),
            read_scratch: Vec::new(),
            wake_scratch: Vec::new(),
        };
        kernel.procs.push(Process {
            pid: INIT_PID,
            ppid: 0,
            name: Arc::from("init"),
            state: ProcState::Blocked(BlockReason::Child { target: None }),
            pc: 0,
            end_pc: 0,
            loops: Vec::new(),
            vars: Vec::new(),
            fds: Vec::new(),
            progress: 0,
            waited: false,
            pending_open: None,
            pending_signals: 0,
            ignored_signals: 0,
            report: None,
            status: None,
            children: Vec::new(),
            expect: None,
            span: Span::default(),
        });
        if program.processes.len() as u32 + 1 > limits.max_processes {
            return Err(LimitHit {
                limit: "max_processes",
                detail: format!(
                    "the scenario starts {} processes; at most {} may be alive at once (init included)",
                    program.processes.len(),
                    limits.max_processes
                ),
            });
        }
        let first_pid = 2;
        for (index, top) in program.processes.iter().enumerate() {
            let pid = first_pid + index as Pid;
            let mut vars = vec![-1; slot_count];
            for (other_index, other) in program.processes.iter().enumerate() {
                vars[other.slot as usize] = (first_pid + other_index as Pid) as i32;
            }
            let dev_null = kernel.new_file(OpenFile {
                pipe: None,
                readable: true,
                writable: true,
                nonblock: false,
                base_flags: linux::O_RDWR | O_LARGEFILE,
                refs: 3,
            });
            let entry = Some(FdEntry { file: dev_null, cloexec: false });
            kernel.name_counts.insert(top.name.clone(), 1);
            kernel.procs.push(Process {
                pid,
                ppid: INIT_PID,
                name: top.name.clone(),
                state: ProcState::Runnable,
                pc: top.start,
                end_pc: top.end,
                loops: Vec::new(),
                vars,
                fds: vec![entry, entry, entry],
                progress: 0,
                waited: false,
                pending_open: None,
                pending_signals: 0,
                ignored_signals: 0,
                report: None,
                status: None,
                children: Vec::new(),
                expect: top.expect.clone(),
                span: top.span,
            });
            kernel.procs[0].children.push(pid);
            kernel.alive.push(pid);
            kernel.runnable.push(pid);
            trace.record(Event { step: 0, kind: EventKind::Spawn { pid } });
        }
        Ok(kernel)
    }

    pub fn process(&self, pid: Pid) -> &Process {
        &self.procs[pid as usize - 1]
    }

    fn proc_mut(&mut self, pid: Pid) -> &mut Process {
        &mut self.procs[pid as usize - 1]
    }

    pub fn pipe(&self, id: u32) -> Option<&Pipe> {
        self.pipes.get(id as usize - 1).and_then(Option::as_ref)
    }

    fn pipe_mut(&mut self, id: u32) -> &mut Pipe {
        self.pipes[id as usize - 1].as_mut().expect("a live file points at a freed pipe")
    }

    /// Runnable processes, ascending by pid.
    pub fn runnable(&self) -> &[Pid] {
        &self.runnable
    }

    /// Changes a process's state, keeping the list of runnable processes.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn set_state(&mut self, pid: Pid, state: ProcState) {
        let process = &mut self.procs[pid as usize - 1];
        let was_runnable = process.state == ProcState::Runnable;
        let is_runnable = state == ProcState::Runnable;
        process.state = state;
        if was_runnable == is_runnable || pid == INIT_PID {
            return;
        }
        // The list is short (the processes alive), so shifting by hand beats a call to memmove.
        let list = &mut self.runnable;
        if is_runnable {
            list.push(pid);
            let mut index = list.len() - 1;
            while index > 0 && list[index - 1] > pid {
                list.swap(index - 1, index);
                index -= 1;
            }
        } else if let Some(mut index) = list.iter().position(|listed| *listed == pid) {
            while index + 1 < list.len() {
                list.swap(index, index + 1);
                index += 1;
            }
            list.pop();
        }
    }

    /// True once no process is left that is neither a zombie nor reaped.
    pub fn all_exited(&self) -> bool {
        self.alive.iter().all(|pid| self.process(*pid).state == ProcState::Zombie)
    }

    /// The operation a process will run next, after stepping over loop bookkeeping (without changing
    /// anything). `None` means it is at the end of its code (its next step is the implicit `exit(0)`).
    pub fn next_op(&self, pid: Pid) -> Option<u32> {
        let process = self.process(pid);
        let mut pc = process.pc;
        let mut loops = process.loops.clone();
        let ops = &self.program.ops;
        while pc < process.end_pc {
            match &ops[pc as usize].kind {
                OpKind::RepeatStart { count, .. } => {
                    loops.push(*count);
                    pc += 1;
                }
                OpKind::RepeatEnd { start_index } => {
                    let top = loops.last_mut().expect("loop stack matches the program");
                    *top -= 1;
                    if *top > 0 {
                        pc = start_index + 1;
                    } else {
                        loops.pop();
                        pc += 1;
                    }
                }
                _ => return Some(pc),
            }
        }
        None
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn advance_to_call(&mut self, program: &Program, pid: Pid) {
        let process = self.proc_mut(pid);
        while process.pc < process.end_pc {
            match &program.ops[process.pc as usize].kind {
                OpKind::RepeatStart { count, .. } => {
                    process.loops.push(*count);
                    process.pc += 1;
                }
                OpKind::RepeatEnd { start_index } => {
                    let top = process.loops.last_mut().expect("loop stack matches the program");
                    *top -= 1;
                    if *top > 0 {
                        process.pc = start_index + 1;
                    } else {
                        process.loops.pop();
                        process.pc += 1;
                    }
                }
                _ => return,
            }
        }
    }

    /// Runs one step of `pid`, which must be runnable.
    /// `program` is this kernel's own program, passed in so the hot path borrows it without touching the
    /// reference count.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub fn step(&mut self, program: &Program, pid: Pid, trace: &mut Trace) -> Result<(), LimitHit> {
        self.step += 1;
        self.advance_to_call(program, pid);
        let process = self.process(pid);
        if process.pc >= process.end_pc {
            trace.record(Event {
                step: self.step as u32,
                kind: EventKind::Call {
                    pid,
                    op: IMPLICIT_EXIT_OP,
                    fd: -1,
                    arg: 0,
                    result: CallResult::Value { value: 0 },
                },
            });
            self.calls_completed += 1;
            self.exit_process(pid, ChildStatus::Exited(0), trace);
            return Ok(());
        }
        let op_index = process.pc;
        let op = &program.ops[op_index as usize];
        let (fd, arg, exec) = match &op.kind {
            OpKind::Fork { slot, name, body_end, expect } => {
                let child = self.fork(pid, *slot, name, op_index, *body_end, expect.clone(), trace)?;
                (-1, -1, Exec::Done(CallResult::Fork { child }))
            }
            OpKind::Call(CallOp::Write { fd, data }) => self.exec_write(pid, *fd, data, trace)?,
            OpKind::Call(CallOp::Read { fd, count }) => self.exec_read(pid, *fd, *count, trace)?,
            OpKind::Call(call) => self.exec(pid, call, trace)?,
            OpKind::RepeatStart { .. } | OpKind::RepeatEnd { .. } => {
                unreachable!("advance_to_call skips loop bookkeeping")
            }
        };
        match exec {
            Exec::Done(result) => {
                self.complete_call(pid, op_index, fd, arg, result, trace);
                if let OpKind::Fork { body_end, .. } = op.kind {
                    self.proc_mut(pid).pc = body_end;
                } else if let OpKind::Call(CallOp::Exit { code }) = op.kind {
                    self.exit_process(pid, ChildStatus::Exited(code), trace);
                }
            }
            Exec::Block(reason) => self.sleep(pid, op_index, fd, reason, trace),
        }
        if !self.deferred.is_empty() {
            let deferred = std::mem::take(&mut self.deferred);
            for (from, to, signal) in &deferred {
                self.send_signal(*from, *to, *signal, trace);
            }
            self.deferred = deferred;
            self.deferred.clear();
        }
        Ok(())
    }

    /// Puts a process to sleep on the wait queue its call needs.
    fn sleep(&mut self, pid: Pid, op_index: u32, fd: i32, reason: BlockReason, trace: &mut Trace) {
        match &reason {
            BlockReason::PipeEmpty { pipe } => self.pipe_mut(*pipe).read_waiters.push(pid),
            BlockReason::PipeFull { pipe, .. } => self.pipe_mut(*pipe).write_waiters.push(pid),
            BlockReason::FifoNoWriter { pipe, .. } | BlockReason::FifoNoReader { pipe, .. } => {
                self.pipe_mut(*pipe).open_waiters.push(pid)
            }
            BlockReason::Child { .. } | BlockReason::Signal => {}
        }
        trace.record(Event {
            step: self.step as u32,
            kind: EventKind::Block { pid, op: op_index, fd, reason: reason.clone() },
        });
        self.set_state(pid, ProcState::Blocked(reason));
        self.proc_mut(pid).waited = true;
    }

    /// A process woken in the middle of a call, and not yet run, meets a signal that stops or kills it.
    /// Linux acts on the signal only when the process runs, and the first thing it does then is test
    /// the condition it slept on (`___wait_event` checks the condition before `signal_pending`): a read
    /// takes the data that woke it, a wait reaps the child, an open completes. Only if the condition
    /// is false again does the signal interrupt the call. This runs that re-check now.
    fn finish_woken_call(&mut self, pid: Pid, trace: &mut Trace) {
        let program = self.program.clone();
        let op_index = self.process(pid).pc;
        let Some(OpKind::Call(call)) = program.ops.get(op_index as usize).map(|op| &op.kind) else { return };
        let Ok((fd, arg, exec)) = self.exec(pid, call, trace) else { return };
        match exec {
            Exec::Done(result) => self.complete_call(pid, op_index, fd, arg, result, trace),
            Exec::Block(reason) => self.sleep(pid, op_index, fd, reason, trace),
        }
    }

    /// Records a completed call, checks its expectation and moves the process past it.
    #[inline]
    fn complete_call(&mut self, pid: Pid, op_index: u32, fd: i32, arg: i64, result: CallResult, trace: &mut Trace) {
        trace.record(Event { step: self.step as u32, kind: EventKind::Call { pid, op: op_index, fd, arg, result } });
        self.calls_completed += 1;
        let process = self.proc_mut(pid);
        process.pc = op_index + 1;
        process.progress = 0;
        process.waited = false;
        if self.program.ops[op_index as usize].expect.is_some() {
            self.check_call_expectation(pid, op_index, result, trace);
        }
    }

    /// The expectation written on a call's line, checked once the call has returned.
    #[cold]
    #[inline(never)]
    fn check_call_expectation(&mut self, pid: Pid, op_index: u32, result: CallResult, trace: &mut Trace) {
        if let Some(expect) = &self.program.ops[op_index as usize].expect {
            let expect = expect.clone();
            // A call whose process then dies of its own signal (SIGPIPE) never returns: checked by
            // `check_signal_deaths` once the deferred signals are delivered.
            if !self.deferred.iter().any(|(_, to, signal)| *to == pid && self.is_fatal_now(pid, *signal)) {
                self.check_expect(pid, op_index, &expect, &result, trace);
            } else {
                let signal = self.deferred.iter().find(|(_, to, _)| *to == pid).map(|(_, _, signal)| *signal);
                let got = format!("no return: the process was killed by {}", signal.map_or("a signal", |s| s.name()));
                self.fail(pid, op_index, expect.span, describe_expect(&expect.value), got, trace);
            }
        }
    }

    fn is_fatal_now(&self, pid: Pid, signal: Signal) -> bool {
        let ignored = self.process(pid).ignored_signals & signal.mask_bit() != 0;
        !ignored && matches!(signal.default_action(), DefaultAction::Terminate | DefaultAction::Core)
    }

    fn fail(&mut self, pid: Pid, op: u32, span: Span, expected: String, got: String, trace: &mut Trace) {
        trace.record(Event {
            step: self.step as u32,
            kind: EventKind::ExpectFailed {
                pid,
                op,
                mismatch: Box::new(Mismatch { expected: expected.clone(), got: got.clone() }),
            },
        });
        self.failures.push(ExpectationFailure { span, process: self.process(pid).name.to_string(), expected, got });
    }

    fn check_expect(&mut self, pid: Pid, op: u32, expect: &Located<Expect>, result: &CallResult, trace: &mut Trace) {
        let holds = match (&expect.value, result) {
            (Expect::Value(_), CallResult::Error { .. }) => false,
            (Expect::Value(value), other) => other.return_value() == *value,
            (Expect::Data(bytes), CallResult::Data { .. }) => self.read_scratch == *bytes,
            (Expect::ByteCount(count), CallResult::Data { len, .. }) => *len == *count,
            (Expect::Error(errno), CallResult::Error { errno: got }) => errno == got,
            (Expect::Child { name, status }, CallResult::Waited { child, status: got }) => {
                base_name(&self.process(*child).name) == name
                    && match (status, got) {
                        (
                            ChildStatus::Killed { signal, core: false },
                            ChildStatus::Killed { signal: got_signal, .. },
                        ) => signal == got_signal,
                        _ => status == got,
                    }
            }
            (Expect::NoChild, CallResult::Value { value: 0 }) => true,
            _ => false,
        };
        if !holds {
            let got = self.describe_result(result);
            self.fail(pid, op, expect.span, describe_expect(&expect.value), got, trace);
        }
    }

    /// A call's result in the words expectations use.
    pub fn describe_result(&self, result: &CallResult) -> String {
        match result {
            CallResult::Value { value } => value.to_string(),
            CallResult::Error { errno } => errno.name().to_string(),
            CallResult::Data { len, .. } => {
                format!("{} ({} bytes)", crate::render::quote_bytes(&self.read_scratch, 48), len)
            }
            CallResult::Pipe { .. } => "0".to_string(),
            CallResult::Fork { child } => child.to_string(),
            CallResult::Waited { child, status } => format!("{} {}", self.process(*child).name, status_text(*status)),
        }
    }

    /// The number a descriptor operand stands for in `pid` right now.
    pub fn fd_operand(&self, pid: Pid, fd: FdArg) -> i32 {
        self.fd_value(pid, fd)
    }

    /// The pid a process operand stands for in `pid` right now (-1 for "any child").
    pub fn proc_operand(&self, pid: Pid, target: ProcArg) -> i64 {
        match target {
            ProcArg::SelfProc => pid as i64,
            ProcArg::Slot(slot) => self.process(pid).vars[slot as usize] as i64,
            ProcArg::AnyChild => -1,
        }
    }

    fn fd_value(&self, pid: Pid, fd: FdArg) -> i32 {
        match fd {
            FdArg::Literal(number) => number,
            FdArg::Slot(slot) => self.process(pid).vars[slot as usize],
        }
    }

    fn file_of(&self, pid: Pid, fd: i32) -> Option<u32> {
        if fd < 0 {
            return None;
        }
        self.process(pid).fds.get(fd as usize).copied().flatten().map(|entry| entry.file)
    }

    fn lowest_free_fd(&self, pid: Pid, at_least: i32) -> Option<i32> {
        let fds = &self.process(pid).fds;
        (at_least.max(0)..linux::RLIMIT_NOFILE as i32)
            .find(|fd| fds.get(*fd as usize).map_or(true, |entry| entry.is_none()))
    }

    fn install_fd(&mut self, pid: Pid, fd: i32, file: u32, cloexec: bool) {
        let fds = &mut self.proc_mut(pid).fds;
        if fds.len() <= fd as usize {
            fds.resize(fd as usize + 1, None);
        }
        fds[fd as usize] = Some(FdEntry { file, cloexec });
    }

    fn new_file(&mut self, file: OpenFile) -> u32 {
        match self.free_files.pop() {
            Some(index) => {
                self.files[index as usize] = Some(file);
                index
            }
            None => {
                self.files.push(Some(file));
                self.files.len() as u32 - 1
            }
        }
    }

    fn file(&self, index: u32) -> &OpenFile {
        self.files[index as usize].as_ref().expect("descriptor points at a closed file")
    }

    fn new_pipe(&mut self, fifo_path: Option<Arc<str>>) -> u32 {
        let id = self.pipes.len() as u32 + 1;
        self.pipes.push(Some(Pipe {
            id,
            buffer: PipeBuffer::new(linux::PIPE_DEFAULT_CAPACITY),
            readers: 0,
            writers: 0,
            reader_opens: 0,
            writer_opens: 0,
            fifo_path,
            read_waiters: Vec::new(),
            write_waiters: Vec::new(),
            open_waiters: Vec::new(),
            bytes_written: 0,
            bytes_read: 0,
        }));
        id
    }

    /// Makes every process on `waiters` runnable again (Linux wakes all non-exclusive waiters).
    fn wake_list(&mut self, waiters: &[Pid], by: Pid, trace: &mut Trace) {
        for pid in waiters {
            self.wake(*pid, by, trace);
        }
    }

    /// Makes one sleeping process runnable again.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn wake(&mut self, pid: Pid, by: Pid, trace: &mut Trace) {
        if matches!(self.process(pid).state, ProcState::Blocked(_)) {
            self.set_state(pid, ProcState::Runnable);
            trace.record(Event { step: self.step as u32, kind: EventKind::Wake { pid, by } });
        }
    }

    /// Empties one of a pipe's wait queues and wakes everybody on it. The queue's storage is swapped
    /// with a spare list, so that sleeping and waking never allocate.
    fn wake_queue(&mut self, pipe: u32, queue: fn(&mut Pipe) -> &mut Vec<Pid>, by: Pid, trace: &mut Trace) {
        let mut waiters = std::mem::take(&mut self.wake_scratch);
        std::mem::swap(&mut waiters, queue(self.pipe_mut(pipe)));
        self.wake_list(&waiters, by, trace);
        waiters.clear();
        self.wake_scratch = waiters;
    }

    fn wake_readers(&mut self, pipe: u32, by: Pid, trace: &mut Trace) {
        self.wake_queue(pipe, |pipe| &mut pipe.read_waiters, by, trace);
    }

    fn wake_writers(&mut self, pipe: u32, by: Pid, trace: &mut Trace) {
        self.wake_queue(pipe, |pipe| &mut pipe.write_waiters, by, trace);
    }

    /// Wakes the first sleeper of an exclusive wait queue. Since Linux 5.5 `pipe_read` and `pipe_write`
    /// sleep with `wait_event_interruptible_exclusive`, so a plain wake-up (`wake_up_interruptible_sync_poll`)
    /// wakes one reader or one writer, in the order they went to sleep; the woken one passes the wake-up
    /// on when it leaves data or room behind (`wake_next_reader`, `wake_next_writer`).
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn wake_one(&mut self, pipe: u32, readers: bool, by: Pid, trace: &mut Trace) {
        let queue =
            if readers { &mut self.pipe_mut(pipe).read_waiters } else { &mut self.pipe_mut(pipe).write_waiters };
        let first = match queue.len() {
            0 => return,
            // Most queues hold one sleeper: no need to shift the rest down.
            1 => queue.pop().expect("one waiter"),
            _ => queue.remove(0),
        };
        self.wake(first, by, trace);
    }

    fn wake_openers(&mut self, pipe: u32, by: Pid, trace: &mut Trace) {
        self.wake_queue(pipe, |pipe| &mut pipe.open_waiters, by, trace);
    }

    /// Drops one reference to an open file; the last one closes the pipe end it holds.
    fn release_file(&mut self, index: u32, by: Pid, trace: &mut Trace) {
        let file = self.files[index as usize].as_mut().expect("release of a closed file");
        file.refs -= 1;
        if file.refs > 0 {
            return;
        }
        let file = self.files[index as usize].take().expect("just checked");
        self.free_files.push(index);
        let Some(pipe_id) = file.pipe else { return };
        if file.readable {
            let pipe = self.pipe_mut(pipe_id);
            pipe.readers -= 1;
            if pipe.readers == 0 {
                // Writers sleeping on a full pipe must now see EPIPE.
                self.wake_writers(pipe_id, by, trace);
            }
        }
        if file.writable {
            let pipe = self.pipe_mut(pipe_id);
            pipe.writers -= 1;
            if pipe.writers == 0 {
                // Readers sleeping on an empty pipe must now see end of file.
                self.wake_readers(pipe_id, by, trace);
            }
        }
        let pipe = self.pipe_mut(pipe_id);
        if pipe.readers == 0 && pipe.writers == 0 {
            let pipe = self.pipes[pipe_id as usize - 1].take().expect("just used");
            self.bytes_in_flight -= pipe.buffer.len_bytes() as u64;
            if let Some(path) = &pipe.fifo_path {
                if let Some(node) = self.fifos.get_mut(path) {
                    if node.pipe == Some(pipe_id) {
                        node.pipe = None;
                    }
                }
            }
        }
    }

    fn exec(&mut self, pid: Pid, call: &CallOp, trace: &mut Trace) -> Result<(i32, i64, Exec), LimitHit> {
        use crate::linux::{EBADF, EBUSY, ECHILD, EEXIST, EINVAL, EMFILE, ENOENT, EPERM, ESRCH};
        let done = |value: i64| Exec::Done(CallResult::Value { value: value as i32 });
        let error = |errno: Errno| Exec::Done(CallResult::Error { errno });
        Ok(match call {
            CallOp::Pipe { read_slot, write_slot, flags, .. } => {
                let Some(read_fd) = self.lowest_free_fd(pid, 0) else { return Ok((-1, -1, error(EMFILE))) };
                self.install_fd(pid, read_fd, u32::MAX, false);
                let Some(write_fd) = self.lowest_free_fd(pid, 0) else {
                    self.proc_mut(pid).fds[read_fd as usize] = None;
                    return Ok((-1, -1, error(EMFILE)));
                };
                let pipe = self.new_pipe(None);
                let nonblock = flags.nonblock;
                let read_file = self.new_file(OpenFile {
                    pipe: Some(pipe),
                    readable: true,
                    writable: false,
                    nonblock,
                    base_flags: linux::O_RDONLY,
                    refs: 1,
                });
                let write_file = self.new_file(OpenFile {
                    pipe: Some(pipe),
                    readable: false,
                    writable: true,
                    nonblock,
                    base_flags: linux::O_WRONLY,
                    refs: 1,
                });
                let pipe_object = self.pipe_mut(pipe);
                pipe_object.readers = 1;
                pipe_object.writers = 1;
                self.install_fd(pid, read_fd, read_file, flags.cloexec);
                self.install_fd(pid, write_fd, write_file, flags.cloexec);
                let process = self.proc_mut(pid);
                process.vars[*read_slot as usize] = read_fd;
                process.vars[*write_slot as usize] = write_fd;
                (-1, -1, Exec::Done(CallResult::Pipe { read_fd, write_fd }))
            }
            CallOp::Open { slot, path, flags } => {
                let exec = self.open(pid, path, *flags, trace);
                if let Exec::Done(CallResult::Value { value }) = exec {
                    self.proc_mut(pid).vars[*slot as usize] = value as i32;
                }
                (-1, -1, exec)
            }
            CallOp::Dup { slot, fd } => {
                let fd = self.fd_value(pid, *fd);
                let Some(file) = self.file_of(pid, fd) else { return Ok((fd, -1, error(EBADF))) };
                let Some(new_fd) = self.lowest_free_fd(pid, 0) else { return Ok((fd, -1, error(EMFILE))) };
                self.files[file as usize].as_mut().expect("open").refs += 1;
                self.install_fd(pid, new_fd, file, false);
                self.proc_mut(pid).vars[*slot as usize] = new_fd;
                (fd, -1, done(new_fd as i64))
            }
            CallOp::Dup2 { old, new } => {
                let old = self.fd_value(pid, *old);
                let new = self.fd_value(pid, *new);
                let Some(file) = self.file_of(pid, old) else { return Ok((old, new as i64, error(EBADF))) };
                if new < 0 || new >= linux::RLIMIT_NOFILE as i32 {
                    return Ok((old, new as i64, error(EBADF)));
                }
                if old == new {
                    return Ok((old, new as i64, done(new as i64)));
                }
                self.files[file as usize].as_mut().expect("open").refs += 1;
                if let Some(previous) = self.file_of(pid, new) {
                    self.proc_mut(pid).fds[new as usize] = None;
                    self.release_file(previous, pid, trace);
                }
                self.install_fd(pid, new, file, false);
                (old, new as i64, done(new as i64))
            }
            CallOp::Close { fd } => {
                let fd = self.fd_value(pid, *fd);
                let Some(file) = self.file_of(pid, fd) else { return Ok((fd, -1, error(EBADF))) };
                self.proc_mut(pid).fds[fd as usize] = None;
                self.release_file(file, pid, trace);
                (fd, -1, done(0))
            }
            CallOp::Write { fd, data } => return self.exec_write(pid, *fd, data, trace),
            CallOp::Read { fd, count } => return self.exec_read(pid, *fd, *count, trace),
            CallOp::Mkfifo { path } => {
                if self.fifos.contains_key(path) {
                    (-1, -1, error(EEXIST))
                } else {
                    self.fifos.insert(path.clone(), FifoNode::default());
                    (-1, -1, done(0))
                }
            }
            CallOp::Unlink { path } => {
                if self.fifos.remove(path).is_some() {
                    (-1, -1, done(0))
                } else {
                    (-1, -1, error(ENOENT))
                }
            }
            CallOp::Fcntl { fd, cmd } => {
                let fd = self.fd_value(pid, *fd);
                let Some(file_index) = self.file_of(pid, fd) else { return Ok((fd, -1, error(EBADF))) };
                let file = self.file(file_index).clone();
                let exec = match cmd {
                    FcntlCmd::GetFlags => done(file.base_flags | if file.nonblock { linux::O_NONBLOCK } else { 0 }),
                    FcntlCmd::SetFlags { nonblock } => {
                        self.files[file_index as usize].as_mut().expect("open").nonblock = *nonblock;
                        done(0)
                    }
                    FcntlCmd::GetPipeSize => match file.pipe {
                        Some(pipe) => done(self.pipe_mut(pipe).buffer.capacity_bytes() as i64),
                        None => error(EBADF),
                    },
                    FcntlCmd::SetPipeSize(requested) => match file.pipe {
                        None => error(EBADF),
                        Some(pipe) => match round_pipe_size(*requested as u64) {
                            None => error(EINVAL),
                            // An unprivileged process may not go past /proc/sys/fs/pipe-max-size.
                            Some(size) if size > linux::PIPE_MAX_SIZE as u64 => error(EPERM),
                            Some(size) => {
                                let grew = size as u32 > self.pipe_mut(pipe).buffer.capacity_bytes();
                                if self.pipe_mut(pipe).buffer.set_max_slots(size as u32 / linux::PAGE_SIZE) {
                                    if grew {
                                        // `pipe_resize_ring` ends with `wake_up_interruptible(&pipe->wr_wait)`: one writer.
                                        self.wake_one(pipe, false, pid, trace);
                                    }
                                    done(size as i64)
                                } else {
                                    error(EBUSY)
                                }
                            }
                        },
                    },
                };
                let arg = match cmd {
                    FcntlCmd::SetPipeSize(size) => *size as i64,
                    _ => -1,
                };
                (fd, arg, exec)
            }
            CallOp::Kill { target, signal } => {
                let target_pid = match target {
                    ProcArg::SelfProc => pid as i32,
                    ProcArg::Slot(slot) => self.process(pid).vars[*slot as usize],
                    ProcArg::AnyChild => -1,
                };
                let exists = target_pid > 1
                    && (target_pid as usize) <= self.procs.len()
                    && self.process(target_pid as Pid).state != ProcState::Reaped;
                if !exists {
                    (-1, target_pid as i64, error(ESRCH))
                } else {
                    self.deferred.push((pid, target_pid as Pid, *signal));
                    (-1, target_pid as i64, done(0))
                }
            }
            CallOp::SetDisposition { signal, disposition } => {
                if signal.is_unblockable() {
                    (-1, signal.0 as i64, error(EINVAL))
                } else {
                    let process = self.proc_mut(pid);
                    let bit = signal.mask_bit();
                    let previous = if process.ignored_signals & bit != 0 { 1 } else { 0 };
                    match disposition {
                        Disposition::Ignore => {
                            process.ignored_signals |= bit;
                            process.pending_signals &= !bit;
                        }
                        Disposition::Default => process.ignored_signals &= !bit,
                    }
                    (-1, signal.0 as i64, done(previous))
                }
            }
            CallOp::Wait => (-1, -1, self.waitpid(pid, None, Default::default(), trace)),
            CallOp::Waitpid { target, options } => {
                let target_pid = match target {
                    ProcArg::AnyChild => None,
                    ProcArg::SelfProc => Some(pid as i32),
                    ProcArg::Slot(slot) => Some(self.process(pid).vars[*slot as usize]),
                };
                let exec = match target_pid {
                    Some(target) if target <= 0 => error(ECHILD),
                    Some(target) => self.waitpid(pid, Some(target as Pid), *options, trace),
                    None => self.waitpid(pid, None, *options, trace),
                };
                (-1, target_pid.map_or(-1, |target| target as i64), exec)
            }
            CallOp::Pause => (-1, -1, Exec::Block(BlockReason::Signal)),
            CallOp::SchedYield => (-1, -1, done(0)),
            CallOp::Exit { code } => (-1, *code as i64, done(*code as i64)),
        })
    }

    /// `write`: the most frequent call, kept out of [`Kernel::exec`]'s big match so that the step can
    /// dispatch to it directly.
    fn exec_write(
        &mut self,
        pid: Pid,
        fd: FdArg,
        data: &Arc<[u8]>,
        trace: &mut Trace,
    ) -> Result<(i32, i64, Exec), LimitHit> {
        let fd = self.fd_value(pid, fd);
        Ok((fd, data.len() as i64, self.write(pid, fd, data, trace)?))
    }

    /// `read`, dispatched like [`Kernel::exec_write`].
    fn exec_read(&mut self, pid: Pid, fd: FdArg, count: u32, trace: &mut Trace) -> Result<(i32, i64, Exec), LimitHit> {
        let fd = self.fd_value(pid, fd);
        if trace.data_len() + count as u64 > self.limits.max_trace_data_bytes {
            return Err(LimitHit {
                limit: "max_trace_data_bytes",
                detail: format!("reads in this run would return more than {} bytes", self.limits.max_trace_data_bytes),
            });
        }
        Ok((fd, count as i64, self.read(pid, fd, count, trace)))
    }

    fn open(&mut self, pid: Pid, path: &Arc<str>, flags: OpenFlags, trace: &mut Trace) -> Exec {
        use crate::linux::{EMFILE, ENOENT, ENXIO};
        let error = |errno: Errno| Exec::Done(CallResult::Error { errno });
        // A retry after a wake-up: the file already exists and counts; has the partner shown up?
        if let Some((file, seen)) = self.process(pid).pending_open {
            let pipe_id = self.file(file).pipe.expect("a FIFO file has a pipe");
            let readable = self.file(file).readable;
            let pipe = self.pipe(pipe_id).expect("open file keeps its pipe");
            let current = if readable { pipe.writer_opens } else { pipe.reader_opens };
            if current == seen {
                return Exec::Block(self.fifo_block_reason(pipe_id, readable));
            }
            self.proc_mut(pid).pending_open = None;
            return self.finish_open(pid, file, flags);
        }
        let Some(node) = self.fifos.get(path) else { return error(ENOENT) };
        if self.lowest_free_fd(pid, 0).is_none() {
            return error(EMFILE);
        }
        let pipe_id = match node.pipe {
            Some(pipe) => pipe,
            None => {
                let pipe = self.new_pipe(Some(path.clone()));
                self.fifos.get_mut(path).expect("looked up above").pipe = Some(pipe);
                pipe
            }
        };
        let (readable, writable) = match flags.access {
            Access::ReadOnly => (true, false),
            Access::WriteOnly => (false, true),
            Access::ReadWrite => (true, true),
        };
        if flags.access == Access::WriteOnly && flags.nonblock && self.pipe_mut(pipe_id).readers == 0 {
            // Nobody has it open (we just made the pipe, or it is otherwise unused): drop it again.
            let pipe = self.pipe_mut(pipe_id);
            if pipe.readers == 0 && pipe.writers == 0 {
                self.pipes[pipe_id as usize - 1] = None;
                self.fifos.get_mut(path).expect("looked up above").pipe = None;
            }
            return error(ENXIO);
        }
        let access_flags = match flags.access {
            Access::ReadOnly => linux::O_RDONLY,
            Access::WriteOnly => linux::O_WRONLY,
            Access::ReadWrite => linux::O_RDWR,
        };
        let file = self.new_file(OpenFile {
            pipe: Some(pipe_id),
            readable,
            writable,
            nonblock: flags.nonblock,
            base_flags: access_flags | O_LARGEFILE,
            refs: 1,
        });
        let pipe = self.pipe_mut(pipe_id);
        let mut wake_partner = false;
        if readable {
            pipe.reader_opens += 1;
            pipe.readers += 1;
            wake_partner |= pipe.readers == 1;
        }
        if writable {
            pipe.writer_opens += 1;
            pipe.writers += 1;
            wake_partner |= pipe.writers == 1;
        }
        if wake_partner {
            self.wake_openers(pipe_id, pid, trace);
            // A reader sleeping in read() on an empty FIFO with no writer does not exist (it would have
            // seen EOF), so only openers need waking here.
        }
        let pipe = self.pipe(pipe_id).expect("just made");
        let must_wait = match flags.access {
            Access::ReadOnly => pipe.writers == 0 && !flags.nonblock,
            Access::WriteOnly => pipe.readers == 0,
            Access::ReadWrite => false,
        };
        if must_wait {
            let seen = if readable { pipe.writer_opens } else { pipe.reader_opens };
            self.proc_mut(pid).pending_open = Some((file, seen));
            return Exec::Block(self.fifo_block_reason(pipe_id, readable));
        }
        self.finish_open(pid, file, flags)
    }

    fn fifo_block_reason(&self, pipe_id: u32, reader: bool) -> BlockReason {
        let fifo_path = self.pipe(pipe_id).and_then(|pipe| pipe.fifo_path.clone());
        let path = fifo_path
            .and_then(|fifo_path| self.program.paths.iter().position(|path| *path == fifo_path))
            .unwrap_or(0) as u32;
        if reader {
            BlockReason::FifoNoWriter { pipe: pipe_id, path }
        } else {
            BlockReason::FifoNoReader { pipe: pipe_id, path }
        }
    }

    fn finish_open(&mut self, pid: Pid, file: u32, flags: OpenFlags) -> Exec {
        let fd =
            self.lowest_free_fd(pid, 0).expect("checked before the open started; a process runs one call at a time");
        self.install_fd(pid, fd, file, flags.cloexec);
        Exec::Done(CallResult::Value { value: fd })
    }

    /// Gives up a FIFO open that was waiting for its partner (the process stops or dies meanwhile).
    fn cancel_pending_open(&mut self, pid: Pid, trace: &mut Trace) {
        if let Some((file, _)) = self.proc_mut(pid).pending_open.take() {
            if let Some(pipe) = self.file(file).pipe {
                self.pipe_mut(pipe).open_waiters.retain(|waiter| *waiter != pid);
            }
            self.release_file(file, pid, trace);
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn write(&mut self, pid: Pid, fd: i32, data: &Arc<[u8]>, trace: &mut Trace) -> Result<Exec, LimitHit> {
        use crate::linux::{EAGAIN, EBADF, EPIPE, SIGPIPE};
        let Some(file_index) = self.file_of(pid, fd) else {
            return Ok(Exec::Done(CallResult::Error { errno: EBADF }));
        };
        let file = self.file(file_index);
        if !file.writable {
            return Ok(Exec::Done(CallResult::Error { errno: EBADF }));
        }
        let nonblock = file.nonblock;
        let Some(pipe_id) = file.pipe else {
            // /dev/null takes everything without copying it anywhere.
            return Ok(Exec::Done(CallResult::Value { value: data.len() as i32 }));
        };
        let total = data.len() as u32;
        if total == 0 {
            return Ok(Exec::Done(CallResult::Value { value: 0 }));
        }
        let process = self.process(pid);
        let (mut written, waited) = (process.progress, process.waited);
        if self.bytes_in_flight + (total - written) as u64 > self.limits.max_bytes_in_flight {
            return Err(LimitHit {
                limit: "max_bytes_in_flight",
                detail: format!(
                    "this write would hold more than {} bytes in kernel buffers at once",
                    self.limits.max_bytes_in_flight
                ),
            });
        }
        // One borrow of the pipe for the whole attempt; wake-ups and signals follow once it ends.
        let pipe = self.pipes[pipe_id as usize - 1].as_mut().expect("a live file points at a freed pipe");
        let was_empty = pipe.buffer.is_empty();
        let mut added = 0u32;
        if written == 0 && pipe.readers == 0 {
            self.deferred.push((pid, pid, SIGPIPE));
            return Ok(Exec::Done(CallResult::Error { errno: EPIPE }));
        }
        let result = 'attempt: {
            if written == 0 {
                // `pipe_write` tries to merge into the last page once, as the call begins; a writer that
                // slept and retries only looks for free slots.
                if !was_empty && !waited {
                    let merged = pipe.buffer.merge_into_last_page(data, total);
                    written += merged;
                    added += merged;
                }
            }
            loop {
                if written == total {
                    break 'attempt Exec::Done(CallResult::Value { value: total as i32 });
                }
                if pipe.readers == 0 {
                    self.deferred.push((pid, pid, SIGPIPE));
                    break 'attempt if written > 0 {
                        Exec::Done(CallResult::Value { value: written as i32 })
                    } else {
                        Exec::Done(CallResult::Error { errno: EPIPE })
                    };
                }
                let (taken, progress) = pipe.buffer.fill_pages(&data[written as usize..]);
                written += taken;
                added += taken;
                if progress == WriteProgress::Done {
                    continue;
                }
                if nonblock {
                    break 'attempt if written > 0 {
                        Exec::Done(CallResult::Value { value: written as i32 })
                    } else {
                        Exec::Done(CallResult::Error { errno: EAGAIN })
                    };
                }
                break 'attempt Exec::Block(BlockReason::PipeFull { pipe: pipe_id, written });
            }
        };
        let full_after = pipe.buffer.is_full();
        if added > 0 {
            pipe.bytes_written += added as u64;
            let used_bytes = pipe.buffer.len_bytes();
            let capacity_bytes = pipe.buffer.capacity_bytes();
            self.bytes_in_flight += added as u64;
            self.copied_to_kernel += added as u64;
            trace.record(Event {
                step: self.step as u32,
                kind: EventKind::Copy {
                    pid,
                    direction: CopyDirection::UserToKernel,
                    bytes: added,
                    object: Object::Pipe { id: pipe_id },
                    used_bytes,
                    capacity_bytes,
                },
            });
            if was_empty {
                self.wake_one(pipe_id, true, pid, trace);
            }
        }
        if matches!(result, Exec::Done(_)) && waited && !full_after {
            self.wake_one(pipe_id, false, pid, trace);
        }
        self.proc_mut(pid).progress = written;
        Ok(result)
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn read(&mut self, pid: Pid, fd: i32, count: u32, trace: &mut Trace) -> Exec {
        use crate::linux::{EAGAIN, EBADF};
        self.read_scratch.clear();
        let Some(file_index) = self.file_of(pid, fd) else {
            return Exec::Done(CallResult::Error { errno: EBADF });
        };
        let file = self.file(file_index);
        if !file.readable {
            return Exec::Done(CallResult::Error { errno: EBADF });
        }
        let nonblock = file.nonblock;
        let Some(pipe_id) = file.pipe else {
            // /dev/null: always end of file.
            return Exec::Done(trace.record_data(&[]));
        };
        if count == 0 {
            return Exec::Done(trace.record_data(&[]));
        }
        let waited = self.process(pid).waited;
        let mut scratch = std::mem::take(&mut self.read_scratch);
        let pipe = self.pipes[pipe_id as usize - 1].as_mut().expect("a live file points at a freed pipe");
        // `pipe_read` wakes a writer only when the pipe was full as the read began.
        let was_full = pipe.buffer.is_full();
        let result = if !pipe.buffer.is_empty() {
            pipe.buffer.read_into(count, &mut scratch);
            let got = scratch.len() as u32;
            pipe.bytes_read += got as u64;
            let used_bytes = pipe.buffer.len_bytes();
            let capacity_bytes = pipe.buffer.capacity_bytes();
            let empty_after = pipe.buffer.is_empty();
            self.bytes_in_flight -= got as u64;
            self.copied_to_user += got as u64;
            trace.record(Event {
                step: self.step as u32,
                kind: EventKind::Copy {
                    pid,
                    direction: CopyDirection::KernelToUser,
                    bytes: got,
                    object: Object::Pipe { id: pipe_id },
                    used_bytes,
                    capacity_bytes,
                },
            });
            if was_full {
                self.wake_one(pipe_id, false, pid, trace);
            }
            if waited && !empty_after {
                self.wake_one(pipe_id, true, pid, trace);
            }
            Exec::Done(trace.record_data(&scratch))
        } else if pipe.writers == 0 {
            Exec::Done(trace.record_data(&[]))
        } else if nonblock {
            Exec::Done(CallResult::Error { errno: EAGAIN })
        } else {
            Exec::Block(BlockReason::PipeEmpty { pipe: pipe_id })
        };
        self.read_scratch = scratch;
        result
    }

    fn waitpid(&mut self, pid: Pid, target: Option<Pid>, options: crate::ast::WaitOptions, trace: &mut Trace) -> Exec {
        let children: Vec<Pid> = self
            .process(pid)
            .children
            .iter()
            .copied()
            .filter(|child| target.map_or(true, |target| target == *child))
            .collect();
        if children.is_empty() {
            return Exec::Done(CallResult::Error { errno: linux::ECHILD });
        }
        for child in children {
            let process = self.process(child);
            if process.state == ProcState::Zombie {
                let status = process.status.expect("a zombie has a status");
                self.reap(child, pid, trace);
                return Exec::Done(CallResult::Waited { child, status });
            }
            match process.report {
                Some(Report::Stopped(signal)) if options.untraced => {
                    self.proc_mut(child).report = None;
                    return Exec::Done(CallResult::Waited { child, status: ChildStatus::Stopped(signal) });
                }
                Some(Report::Continued) if options.continued => {
                    self.proc_mut(child).report = None;
                    return Exec::Done(CallResult::Waited { child, status: ChildStatus::Continued });
                }
                _ => {}
            }
        }
        if options.nohang {
            return Exec::Done(CallResult::Value { value: 0 });
        }
        Exec::Block(BlockReason::Child { target })
    }

    /// Removes a zombie for good. `by` is whoever collected it (its parent, or `init`).
    fn reap(&mut self, child: Pid, by: Pid, trace: &mut Trace) {
        let parent = self.process(child).ppid;
        self.set_state(child, ProcState::Reaped);
        self.alive.retain(|pid| *pid != child);
        self.proc_mut(parent).children.retain(|pid| *pid != child);
        trace.record(Event { step: self.step as u32, kind: EventKind::Reap { pid: child, by } });
    }

    #[allow(clippy::too_many_arguments)]
    fn fork(
        &mut self,
        parent: Pid,
        slot: u32,
        name: &Arc<str>,
        op_index: u32,
        body_end: u32,
        expect: Option<Located<ProcessOutcome>>,
        trace: &mut Trace,
    ) -> Result<Pid, LimitHit> {
        if self.alive.len() as u32 + 1 >= self.limits.max_processes {
            return Err(LimitHit {
                limit: "max_processes",
                detail: format!(
                    "fork would make {} processes alive at once (init included); the limit is {}",
                    self.alive.len() + 2,
                    self.limits.max_processes
                ),
            });
        }
        let child = self.procs.len() as Pid + 1;
        let count = self.name_counts.entry(name.clone()).or_insert(0);
        *count += 1;
        let child_name: Arc<str> = if *count == 1 { name.clone() } else { Arc::from(format!("{name}#{count}")) };
        let parent_process = self.process(parent);
        let mut vars = parent_process.vars.clone();
        // fork() returns 0 in the child.
        vars[slot as usize] = 0;
        let fds = parent_process.fds.clone();
        let ignored_signals = parent_process.ignored_signals;
        for entry in fds.iter().flatten() {
            self.files[entry.file as usize].as_mut().expect("open").refs += 1;
        }
        self.procs.push(Process {
            pid: child,
            ppid: parent,
            name: child_name,
            state: ProcState::Runnable,
            pc: op_index + 1,
            end_pc: body_end,
            loops: Vec::new(),
            vars,
            fds,
            progress: 0,
            waited: false,
            pending_open: None,
            pending_signals: 0,
            ignored_signals,
            report: None,
            status: None,
            children: Vec::new(),
            expect,
            span: self.program.ops[op_index as usize].span,
        });
        self.alive.push(child);
        // The newest pid is the largest, so the runnable list stays in order.
        self.runnable.push(child);
        let parent_process = self.proc_mut(parent);
        parent_process.children.push(child);
        parent_process.vars[slot as usize] = child as i32;
        trace.record(Event { step: self.step as u32, kind: EventKind::Fork { parent, child } });
        Ok(child)
    }

    /// Ends a process: its descriptors close, its children go to `init`, and its parent hears of it.
    fn exit_process(&mut self, pid: Pid, status: ChildStatus, trace: &mut Trace) {
        self.leave_wait_queues(pid);
        self.cancel_pending_open(pid, trace);
        let fds = std::mem::take(&mut self.proc_mut(pid).fds);
        for entry in fds.into_iter().flatten() {
            self.release_file(entry.file, pid, trace);
        }
        self.set_state(pid, ProcState::Zombie);
        let process = self.proc_mut(pid);
        process.status = Some(status);
        process.report = None;
        process.pending_signals = 0;
        trace.record(Event { step: self.step as u32, kind: EventKind::Exit { pid, status } });
        // Orphans go to init, which reaps the dead ones at once.
        let children = std::mem::take(&mut self.proc_mut(pid).children);
        for child in children {
            self.proc_mut(child).ppid = INIT_PID;
            self.procs[0].children.push(child);
            trace.record(Event {
                step: self.step as u32,
                kind: EventKind::Reparent { pid: child, new_parent: INIT_PID },
            });
            if self.process(child).state == ProcState::Zombie {
                self.reap(child, INIT_PID, trace);
            }
        }
        let parent = self.process(pid).ppid;
        if parent == INIT_PID {
            self.reap(pid, INIT_PID, trace);
            return;
        }
        self.notify_parent(pid, trace);
        if self.process(parent).ignored_signals & linux::SIGCHLD.mask_bit() != 0 {
            // SIGCHLD set to SIG_IGN: the kernel reaps the child itself; no zombie is left.
            self.reap(pid, parent, trace);
        }
    }

    /// A child changed state: `SIGCHLD` to the parent, and a wake-up if it sleeps in `wait`.
    fn notify_parent(&mut self, child: Pid, trace: &mut Trace) {
        let parent = self.process(child).ppid;
        if parent == INIT_PID {
            return;
        }
        let ignored = self.process(parent).ignored_signals & linux::SIGCHLD.mask_bit() != 0;
        let exiting = self.process(child).state == ProcState::Zombie;
        if !(ignored && exiting) {
            trace.record(Event {
                step: self.step as u32,
                kind: EventKind::Signal {
                    from: child,
                    to: parent,
                    signal: linux::SIGCHLD,
                    effect: SignalEffect::Ignored,
                },
            });
        }
        if let ProcState::Blocked(BlockReason::Child { target }) = self.process(parent).state {
            if target.map_or(true, |target| target == child) {
                self.set_state(parent, ProcState::Runnable);
                trace.record(Event { step: self.step as u32, kind: EventKind::Wake { pid: parent, by: child } });
            }
        }
    }

    fn leave_wait_queues(&mut self, pid: Pid) {
        let reason = match &self.process(pid).state {
            ProcState::Blocked(reason) => reason.clone(),
            _ => return,
        };
        match reason {
            BlockReason::PipeEmpty { pipe } => self.pipe_mut(pipe).read_waiters.retain(|waiter| *waiter != pid),
            BlockReason::PipeFull { pipe, .. } => self.pipe_mut(pipe).write_waiters.retain(|waiter| *waiter != pid),
            BlockReason::FifoNoWriter { pipe, .. } | BlockReason::FifoNoReader { pipe, .. } => {
                if let Some(Some(pipe)) = self.pipes.get_mut(pipe as usize - 1) {
                    pipe.open_waiters.retain(|waiter| *waiter != pid);
                }
            }
            BlockReason::Child { .. } | BlockReason::Signal => {}
        }
    }

    /// Generates `signal` for `to` and carries out its default action or disposition at once.
    pub fn send_signal(&mut self, from: Pid, to: Pid, signal: Signal, trace: &mut Trace) {
        let state = self.process(to).state.clone();
        let record = |kernel: &mut Kernel, trace: &mut Trace, effect| {
            trace.record(Event { step: kernel.step as u32, kind: EventKind::Signal { from, to, signal, effect } });
        };
        if matches!(state, ProcState::Zombie | ProcState::Reaped) {
            record(self, trace, SignalEffect::NoEffect);
            return;
        }
        let bit = signal.mask_bit();
        let ignored = self.process(to).ignored_signals & bit != 0;
        let action = signal.default_action();
        let takes_effect = signal == linux::SIGKILL
            || (!ignored && matches!(action, DefaultAction::Stop | DefaultAction::Terminate | DefaultAction::Core));
        if takes_effect && state == ProcState::Runnable && self.process(to).waited {
            self.finish_woken_call(to, trace);
        }
        let state = self.process(to).state.clone();
        if signal == linux::SIGCONT {
            // SIGCONT continues a stopped process whatever its disposition, and cancels pending stops.
            let stop_mask: u64 = [19u8, 20, 21, 22].iter().map(|number| Signal(*number).mask_bit()).sum();
            self.proc_mut(to).pending_signals &= !stop_mask;
            if state == ProcState::Stopped {
                record(self, trace, SignalEffect::Continued);
                self.set_state(to, ProcState::Runnable);
                self.proc_mut(to).report = Some(Report::Continued);
                self.notify_parent(to, trace);
                // A fatal signal that arrived while stopped takes effect now.
                let pending = self.process(to).pending_signals;
                if pending != 0 {
                    let first = Signal(pending.trailing_zeros() as u8 + 1);
                    self.proc_mut(to).pending_signals = 0;
                    let effect = if first.default_action() == DefaultAction::Core {
                        SignalEffect::TerminatedCore
                    } else {
                        SignalEffect::Terminated
                    };
                    trace.record(Event {
                        step: self.step as u32,
                        kind: EventKind::Signal { from: to, to, signal: first, effect },
                    });
                    self.exit_process(to, ChildStatus::Killed { signal: first, core: false }, trace);
                }
            } else {
                record(self, trace, if ignored { SignalEffect::Ignored } else { SignalEffect::NoEffect });
            }
            return;
        }
        if signal != linux::SIGKILL && (ignored || action == DefaultAction::Ignore) && !signal.is_unblockable() {
            record(self, trace, SignalEffect::Ignored);
            return;
        }
        match action {
            DefaultAction::Stop => {
                self.proc_mut(to).pending_signals &= !linux::SIGCONT.mask_bit();
                if state == ProcState::Stopped {
                    record(self, trace, SignalEffect::NoEffect);
                    return;
                }
                record(self, trace, SignalEffect::Stopped);
                self.interrupt_for_stop(to, signal, trace);
                self.set_state(to, ProcState::Stopped);
                self.proc_mut(to).report = Some(Report::Stopped(signal));
                self.notify_parent(to, trace);
            }
            DefaultAction::Core | DefaultAction::Terminate
                if state == ProcState::Stopped && signal != linux::SIGKILL =>
            {
                // A fatal signal other than SIGKILL waits until the process runs again: Linux's
                // `wants_signal` refuses a stopped task, so `complete_signal` leaves it pending.
                self.proc_mut(to).pending_signals |= bit;
                record(self, trace, SignalEffect::Pending);
            }
            DefaultAction::Core => {
                record(self, trace, SignalEffect::TerminatedCore);
                self.exit_process(to, ChildStatus::Killed { signal, core: false }, trace);
            }
            DefaultAction::Terminate | DefaultAction::Ignore | DefaultAction::Continue => {
                record(self, trace, SignalEffect::Terminated);
                self.exit_process(to, ChildStatus::Killed { signal, core: false }, trace);
            }
        }
    }

    /// A stop signal wakes a sleeping process: a `write` that already moved bytes returns that count,
    /// a FIFO open gives up (it is restarted after `SIGCONT`), other calls restart unchanged.
    fn interrupt_for_stop(&mut self, pid: Pid, signal: Signal, trace: &mut Trace) {
        let ProcState::Blocked(reason) = self.process(pid).state.clone() else { return };
        self.leave_wait_queues(pid);
        self.cancel_pending_open(pid, trace);
        if let BlockReason::PipeFull { written, .. } = reason {
            if written > 0 {
                let op = self.process(pid).pc;
                trace.record(Event { step: self.step as u32, kind: EventKind::Interrupted { pid, op, signal } });
                let fd = match &self.program.ops[op as usize].kind {
                    OpKind::Call(CallOp::Write { fd, .. }) => self.fd_value(pid, *fd),
                    _ => -1,
                };
                let total = match &self.program.ops[op as usize].kind {
                    OpKind::Call(CallOp::Write { data, .. }) => data.len() as i64,
                    _ => -1,
                };
                self.complete_call(pid, op, fd, total, CallResult::Value { value: written as i32 }, trace);
            }
        }
        let process = self.proc_mut(pid);
        process.progress = 0;
        process.waited = false;
    }

    /// Who could end the wait of each living process (for deadlock reports).
    pub fn wait_edges(&self) -> Vec<WaitEdge> {
        let mut edges = Vec::new();
        for pid in &self.alive {
            let process = self.process(*pid);
            let (reason, waits_for) = match &process.state {
                ProcState::Blocked(reason) => {
                    let waits_for = match reason {
                        BlockReason::PipeEmpty { pipe } => self.holders(*pipe, false, true),
                        BlockReason::PipeFull { pipe, .. } => self.holders(*pipe, true, false),
                        BlockReason::FifoNoWriter { .. } | BlockReason::FifoNoReader { .. } | BlockReason::Signal => {
                            Vec::new()
                        }
                        BlockReason::Child { target } => process
                            .children
                            .iter()
                            .copied()
                            .filter(|child| target.map_or(true, |target| target == *child))
                            .filter(|child| self.process(*child).state != ProcState::Zombie)
                            .collect(),
                    };
                    (Some(reason.clone()), waits_for)
                }
                ProcState::Stopped => (None, Vec::new()),
                _ => continue,
            };
            edges.push(WaitEdge { pid: *pid, reason, waits_for });
        }
        edges
    }

    /// Living processes holding a descriptor to `pipe` that can read (or write).
    pub fn holders(&self, pipe: u32, readers: bool, writers: bool) -> Vec<Pid> {
        self.alive
            .iter()
            .copied()
            .filter(|pid| {
                self.process(*pid).fds.iter().flatten().any(|entry| {
                    let file = self.file(entry.file);
                    file.pipe == Some(pipe) && ((readers && file.readable) || (writers && file.writable))
                })
            })
            .collect()
    }

    /// Checks how each process ended against its `expect` clause, and calls still waiting at the end.
    pub fn check_final_expectations(&mut self, trace: &mut Trace) {
        for index in 1..self.procs.len() {
            let pid = index as Pid + 1;
            let process = &self.procs[index];
            if let ProcState::Blocked(_) = process.state {
                if let Some(op) = self.next_op(pid) {
                    if let Some(expect) = &self.program.ops[op as usize].expect {
                        let expect = expect.clone();
                        self.fail(
                            pid,
                            op,
                            expect.span,
                            describe_expect(&expect.value),
                            "no return: the call was still blocked when the run ended".to_string(),
                            trace,
                        );
                    }
                }
            }
            let process = &self.procs[index];
            let Some(expect) = process.expect.clone() else { continue };
            let holds = match (&expect.value, process.status) {
                (ProcessOutcome::Running, None) => true,
                (ProcessOutcome::Exited(code), Some(ChildStatus::Exited(got))) => *code == got,
                (
                    ProcessOutcome::Killed { signal, core },
                    Some(ChildStatus::Killed { signal: got_signal, core: got_core }),
                ) => signal == &got_signal && (!core || got_core),
                _ => false,
            };
            if !holds {
                let got = match process.status {
                    Some(status) => status_text(status),
                    None => "running".to_string(),
                };
                let expected = match expect.value {
                    ProcessOutcome::Running => "running".to_string(),
                    ProcessOutcome::Exited(code) => format!("exited {code}"),
                    ProcessOutcome::Killed { signal, core } => status_text(ChildStatus::Killed { signal, core }),
                };
                self.fail(pid, u32::MAX, expect.span, expected, got, trace);
            }
        }
    }

    /// Kernel invariants, checked after every step in tests and debug builds. An error here is a bug
    /// in the model, never something a scenario can cause.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut refs = vec![0u32; self.files.len()];
        for process in &self.procs {
            for entry in process.fds.iter().flatten() {
                if self.files.get(entry.file as usize).map_or(true, Option::is_none) {
                    return Err(format!("pid {} has a descriptor on closed file {}", process.pid, entry.file));
                }
                refs[entry.file as usize] += 1;
            }
            if let Some((file, _)) = process.pending_open {
                refs[file as usize] += 1;
            }
            if matches!(process.state, ProcState::Zombie | ProcState::Reaped) && !process.fds.is_empty() {
                return Err(format!("dead pid {} still has descriptors", process.pid));
            }
        }
        let mut readers = vec![0u32; self.pipes.len()];
        let mut writers = vec![0u32; self.pipes.len()];
        for (index, file) in self.files.iter().enumerate() {
            let Some(file) = file else { continue };
            if file.refs != refs[index] {
                return Err(format!("file {index} counts {} references but {} exist", file.refs, refs[index]));
            }
            if let Some(pipe) = file.pipe {
                if self.pipe(pipe).is_none() {
                    return Err(format!("file {index} points at freed pipe {pipe}"));
                }
                readers[pipe as usize - 1] += file.readable as u32;
                writers[pipe as usize - 1] += file.writable as u32;
            }
        }
        let mut in_flight = 0u64;
        for (index, pipe) in self.pipes.iter().enumerate() {
            let Some(pipe) = pipe else { continue };
            pipe.buffer.check()?;
            if pipe.readers != readers[index] || pipe.writers != writers[index] {
                return Err(format!(
                    "pipe {} counts {} readers and {} writers; files say {} and {}",
                    pipe.id, pipe.readers, pipe.writers, readers[index], writers[index]
                ));
            }
            if pipe.readers == 0 && pipe.writers == 0 {
                return Err(format!("pipe {} has no ends but was not freed", pipe.id));
            }
            // Byte conservation: what went in and has not come out is exactly what the buffer holds.
            if pipe.bytes_written - pipe.bytes_read != pipe.buffer.len_bytes() as u64 {
                return Err(format!(
                    "pipe {}: {} bytes written, {} read, but {} held",
                    pipe.id,
                    pipe.bytes_written,
                    pipe.bytes_read,
                    pipe.buffer.len_bytes()
                ));
            }
            in_flight += pipe.buffer.len_bytes() as u64;
            for waiter in pipe.read_waiters.iter().chain(&pipe.write_waiters).chain(&pipe.open_waiters) {
                if !matches!(self.process(*waiter).state, ProcState::Blocked(_)) {
                    return Err(format!("pid {waiter} is on pipe {}'s wait queue but not asleep", pipe.id));
                }
            }
        }
        if in_flight != self.bytes_in_flight {
            return Err(format!("pipes hold {in_flight} bytes but the kernel counts {}", self.bytes_in_flight));
        }
        for pid in &self.alive {
            let process = self.process(*pid);
            if process.state == ProcState::Reaped {
                return Err(format!("reaped pid {pid} is listed as alive"));
            }
            if process.state != ProcState::Zombie && process.status.is_some() {
                return Err(format!("pid {pid} has an exit status but is not dead"));
            }
            if !self.process(process.ppid).children.contains(pid) {
                return Err(format!("pid {pid} is missing from its parent's children"));
            }
        }
        if self.alive.len() as u32 + 1 > self.limits.max_processes {
            return Err("more processes alive than the limit allows".to_string());
        }
        let runnable: Vec<Pid> =
            self.alive.iter().copied().filter(|pid| self.process(*pid).state == ProcState::Runnable).collect();
        if runnable != self.runnable {
            return Err(format!(
                "the runnable list says {:?} but the runnable processes are {runnable:?}",
                self.runnable
            ));
        }
        Ok(())
    }

    /// The outcome if the run cannot go on, given the runnable set is empty.
    pub fn stuck_outcome(&self) -> RunOutcome {
        if self.all_exited() {
            RunOutcome::AllExited
        } else {
            RunOutcome::Deadlock { waiting: self.wait_edges() }
        }
    }
}

/// An expectation in the words the scenario uses.
pub fn describe_expect(expect: &Expect) -> String {
    match expect {
        Expect::Value(value) => value.to_string(),
        Expect::Data(bytes) => crate::render::quote_bytes(bytes, 48),
        Expect::ByteCount(count) => format!("{count} bytes"),
        Expect::Error(errno) => errno.name().to_string(),
        Expect::Child { name, status } => format!("{name} {}", status_text(*status)),
        Expect::NoChild => "none".to_string(),
    }
}

#[cfg(test)]
mod tests {
    //! Each test is a small scenario whose own expectations say what Linux does; the helper runs it under
    //! round-robin with invariants checked after every step and fails on any expectation that does not hold.

    use crate::sim::{RunConfig, Simulation};
    use crate::trace::RunOutcome;
    use crate::Policy;

    fn run_with(text: &str, policy: Policy) -> Simulation {
        let scenario = crate::parse(text).unwrap_or_else(|errors| panic!("{errors:?}"));
        let config = RunConfig { policy, check_invariants: true, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).expect("compiles");
        simulation.run().expect("no invariant breaks");
        simulation
    }

    fn holds(text: &str) -> Simulation {
        let simulation = run_with(text, Policy::RoundRobin);
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        simulation
    }

    #[test]
    fn descriptors_take_the_lowest_free_number_and_bad_ones_give_ebadf() {
        holds(
            "process a {\n p = pipe\n close 0 -> 0\n d = dup p.w -> 0\n close 9 -> EBADF\n read p.w 1 -> EBADF\n \
             write p.r \"x\" -> EBADF\n dup2 p.r 7 -> 7\n dup2 7 7 -> 7\n dup2 p.r 5000 -> EBADF\n close 7 -> 0\n \
             close 7 -> EBADF\n}\n",
        );
    }

    #[test]
    fn end_of_file_needs_every_write_end_closed_including_dups() {
        holds(
            "process a {\n p = pipe\n d = dup p.w\n write d \"ab\" -> 2\n close p.w\n read p.r 10 -> \"ab\"\n \
             fcntl p.r F_SETFL O_NONBLOCK -> 0\n read p.r 10 -> EAGAIN\n close d\n read p.r 10 -> 0\n}\n",
        );
    }

    #[test]
    fn a_write_with_no_reader_raises_sigpipe_or_fails_with_epipe_when_ignored() {
        let simulation =
            holds("process a expect killed SIGPIPE {\n p = pipe\n close p.r\n write p.w \"x\"\n exit 3\n}\n");
        assert_eq!(simulation.outcome(), Some(&RunOutcome::AllExited));
        holds("process a {\n signal SIGPIPE SIG_IGN -> 0\n p = pipe\n close p.r\n write p.w \"x\" -> EPIPE\n}\n");
    }

    #[test]
    fn an_expectation_on_a_call_that_never_returns_fails() {
        let simulation = run_with(
            "process a expect killed SIGPIPE {\n p = pipe\n close p.r\n write p.w \"x\" -> EPIPE\n}\n",
            Policy::RoundRobin,
        );
        assert_eq!(simulation.failures().len(), 1);
        assert!(simulation.failures()[0].got.contains("killed by SIGPIPE"), "{:?}", simulation.failures());
    }

    #[test]
    fn fifo_open_rules() {
        holds(
            "process a {\n mkfifo \"/f\" -> 0\n mkfifo \"/f\" -> EEXIST\n w = open \"/f\" O_WRONLY|O_NONBLOCK -> ENXIO\n \
             r = open \"/f\" O_RDONLY|O_NONBLOCK -> 3\n read r 5 -> 0\n w = open \"/f\" O_WRONLY|O_NONBLOCK -> 4\n \
             read r 5 -> EAGAIN\n fcntl w F_GETFL -> 34817\n both = open \"/f\" O_RDWR -> 5\n unlink \"/f\" -> 0\n \
             unlink \"/f\" -> ENOENT\n x = open \"/f\" O_RDONLY -> ENOENT\n}\n",
        );
    }

    #[test]
    fn a_blocking_fifo_open_waits_for_the_other_side() {
        let simulation = holds(
            "process a {\n mkfifo \"/f\"\n r = open \"/f\" O_RDONLY -> 3\n read r 10 -> \"hi\"\n}\n\
             process b {\n sched_yield\n sched_yield\n w = open \"/f\" O_WRONLY -> 3\n write w \"hi\" -> 2\n}\n",
        );
        let text = crate::render::trace_text(simulation.kernel(), simulation.trace());
        assert!(text.contains("open(\"/f\", O_RDONLY) blocks"), "{text}");
    }

    #[test]
    fn wait_reports_children_and_echild_when_there_are_none() {
        holds(
            "process a {\n wait -> ECHILD\n waitpid -1 WNOHANG -> ECHILD\n fork c {\n  exit 7\n }\n \
             waitpid c -> c exited 7\n waitpid c -> ECHILD\n}\n",
        );
    }

    #[test]
    fn wnohang_sees_nothing_before_exit_and_the_zombie_after() {
        holds(
            "process a {\n p = pipe\n fork c {\n  read p.r 1\n }\n waitpid c WNOHANG -> none\n write p.w \"x\"\n \
             sched_yield\n sched_yield\n waitpid c WNOHANG -> c exited 0\n}\n",
        );
    }

    #[test]
    fn ignoring_sigchld_reaps_children_at_once() {
        holds("process a {\n signal SIGCHLD SIG_IGN -> 0\n fork c {\n  exit 1\n }\n wait -> ECHILD\n}\n");
    }

    #[test]
    fn orphans_are_adopted_by_init() {
        let simulation = holds(
            "process a {\n p = pipe\n fork c expect exited 0 {\n  read p.r 1 -> \"x\"\n }\n write p.w \"x\"\n exit 0\n}\n",
        );
        let child = &simulation.kernel().procs[2];
        assert_eq!(child.ppid, super::INIT_PID);
        assert_eq!(child.state, super::ProcState::Reaped);
    }

    #[test]
    fn fatal_signals_to_a_stopped_process_wait_for_sigcont_except_sigkill() {
        holds(
            "process a {\n fork c expect killed SIGSEGV {\n  pause\n }\n kill c SIGSTOP\n kill c SIGSEGV\n \
             waitpid c WUNTRACED|WNOHANG -> c stopped SIGSTOP\n kill c SIGCONT\n waitpid c -> c killed SIGSEGV\n \
             fork d expect killed SIGTERM {\n  pause\n }\n kill d SIGSTOP\n kill d SIGTERM\n \
             waitpid d WUNTRACED|WNOHANG -> d stopped SIGSTOP\n kill d SIGCONT\n waitpid d -> d killed SIGTERM\n \
             fork e expect killed SIGKILL {\n  pause\n }\n kill e SIGSTOP\n kill e SIGKILL\n waitpid e -> e killed SIGKILL\n}\n",
        );
    }

    #[test]
    fn a_stop_signal_cuts_a_partial_write_short() {
        let simulation = holds(
            "process a {\n p = pipe\n fork w {\n  write p.w 70000 bytes -> 65536\n }\n sched_yield\n kill w SIGSTOP\n \
             kill w SIGCONT\n read p.r 70000 -> 65536 bytes\n close p.w\n read p.r 1 -> 0\n}\n",
        );
        let text = crate::render::trace_text(simulation.kernel(), simulation.trace());
        assert!(text.contains("cut short by SIGSTOP"), "{text}");
    }

    #[test]
    fn pipe_size_changes_round_and_refuse_what_linux_refuses() {
        holds(
            "process a {\n p = pipe\n fcntl p.r F_SETPIPE_SZ 0 -> 4096\n fcntl p.r F_SETPIPE_SZ 1048576 -> 1048576\n \
             fcntl p.r F_SETPIPE_SZ 1048577 -> EPERM\n write p.w 9000 bytes\n fcntl p.r F_SETPIPE_SZ 4096 -> EBUSY\n \
             fcntl stdin F_GETPIPE_SZ -> EBADF\n}\n",
        );
    }

    #[test]
    fn kill_of_an_unknown_process_is_esrch() {
        holds("process a {\n fork c {\n  exit 0\n }\n waitpid c\n kill c SIGTERM -> ESRCH\n}\n");
    }

    #[test]
    fn a_fork_bomb_ends_the_run_at_the_process_limit() {
        let simulation =
            run_with("process a {\n repeat 1000 {\n  fork c {\n   pause\n  }\n }\n}\n", Policy::RoundRobin);
        match simulation.outcome() {
            Some(RunOutcome::LimitReached { limit, .. }) => assert_eq!(limit, "max_processes"),
            other => panic!("expected the process limit, got {other:?}"),
        }
    }

    #[test]
    fn a_deadlock_names_who_waits_for_whom() {
        let simulation = run_with(
            "expect deadlock\nprocess a {\n p = pipe\n q = pipe\n fork b {\n  read q.r 1\n }\n read p.r 1\n}\n",
            Policy::RoundRobin,
        );
        let Some(RunOutcome::Deadlock { waiting }) = simulation.outcome() else { panic!("no deadlock") };
        assert_eq!(waiting.len(), 2);
        // a waits on p, whose write end both a and b hold; b waits on q, the same.
        assert_eq!(waiting[0].waits_for, vec![2, 3]);
        assert!(simulation.failures().is_empty());
    }

    #[test]
    fn a_run_that_deadlocks_without_saying_so_fails_its_default_expectation() {
        let simulation = run_with("process a {\n p = pipe\n read p.r 1\n}\n", Policy::RoundRobin);
        assert_eq!(simulation.failures().len(), 1, "{:?}", simulation.failures());
        assert_eq!(simulation.failures()[0].got, "deadlock");
    }
}
