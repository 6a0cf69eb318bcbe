//! The simulated kernel: processes, descriptor tables, open files and the kernel objects behind them.
//!
//! [`Kernel::step`] runs one step of one process: one system call, or one attempt at a call that
//! blocked before. A call that cannot finish puts the process to sleep on a wait queue; a wake-up
//! makes it runnable again and it retries the call when next scheduled, as a Linux task re-checks its
//! condition after `schedule()` returns. Everything a process observes is an errno or a value; a broken
//! kernel invariant is a bug in this model and [`Kernel::check_invariants`] reports it.
//!
//! Each kind of kernel object lives in its own module behind the same small contract,
//! [`Mechanism`]: perform its calls, take a sleeper off its wait queues, say what a signal does to a
//! call blocked on it, check its invariants, and describe its objects for snapshots. The step reads
//! the call's row in the table of system calls and hands it to its mechanism: one match arm each.
//! ARCHITECTURE.md says how to add a call and how to add a mechanism.

pub mod deadlock;
pub mod epoll;
pub mod fd;
pub mod fifo;
pub mod invariants;
pub mod ipc;
pub mod mm;
pub mod mqueue;
pub mod msg;
pub mod named_sem;
pub mod pipe;
pub mod pipe_buffer;
pub mod poll;
pub mod posix_shm;
pub mod process;
pub mod sem;
pub mod shm;
pub mod signal;
pub mod socket;
pub mod state;
pub mod tcp;
pub mod time;
pub mod udp;
pub mod unix_gc;
pub mod unnamed_sem;
pub mod wait;

use crate::lang::ast::{Copier, Toward};
use crate::lang::compile::{Bind, CallOp, OpKind, Operand, Program, ReadBytes, ERRNO_SLOT};
use crate::lang::syscalls::{CallId, Mechanism as MechanismId};
use crate::limits::Limits;
use crate::linux::errno::EINTR;
use crate::linux::signal::BLOCKABLE;
use crate::linux::{ChildStatus, Errno, Signal};
use crate::present::snapshot::ObjectView;
use crate::trace::CopyDirection;
use crate::trace::{
    Args, BlockReason, CallInterrupted, CallResult, Event, EventKind, ObjectRef, Pid, Trace, WakeCause,
    IMPLICIT_EXIT_OP, IMPLICIT_SIGRETURN_OP,
};
use crate::user::{self, Settled};
use fd::OpenFile;
use fifo::FifoNode;
use pipe::Pipe;
pub use process::{base_name, ProcState, Process, Scratch, INIT_PID};
pub use state::Footprint;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

/// What executing a call produced.
pub enum Exec {
    Done(CallResult),
    Block(BlockReason),
    /// A limit of the simulator was reached ([`Kernel::halt`] recorded which): the call does not happen
    /// and the run ends with this step.
    Halt,
    /// The call touches memory that is not the process's (a named semaphore's handle that is not open):
    /// the CPU faults and the process dies of this signal, without the call returning.
    Fault(Signal),
}

/// A run-ending limit hit during a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitHit {
    pub limit: &'static str,
    pub detail: String,
}

/// The call a step makes: who, which operation, and its operands as the process resolved them.
pub struct CallContext<'p> {
    pub pid: Pid,
    pub op: u32,
    pub call: &'p CallOp,
    pub args: &'p Args,
}

impl CallContext<'_> {
    pub fn id(&self) -> CallId {
        self.call.id
    }

    /// Operand `index` as a number.
    pub fn arg(&self, index: usize) -> i64 {
        self.args.get(index)
    }

    /// Operand `index`, or its default when the call was written without it and it is not among the
    /// resolved operands (see `Operand::dropped_when_left_out`).
    pub fn arg_or_default(&self, index: usize) -> i64 {
        if index < self.args.len() {
            self.args.get(index)
        } else {
            self.id().spec().operands[index].default.expect("a dropped operand is optional")
        }
    }
}

/// What a signal that stops or interrupts a sleeping process does to the call it sleeps in (signal(7),
/// "Interruption of system calls and library functions by signal handlers").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interruption {
    /// `-ERESTARTSYS`: the call starts again from the beginning once the process runs again, unless a
    /// handler without `SA_RESTART` runs (then it fails with `EINTR`).
    Restart,
    /// `-ERESTARTNOHAND`: it starts again only if no handler runs (after a stop); a handler makes it
    /// fail with `EINTR` (`pause`, `sigsuspend`).
    RestartWithoutHandler,
    /// It fails with `EINTR` whatever happens, even after a stop (`sigwaitinfo`).
    Eintr,
    /// glibc's `sleep`: a handler makes it return the seconds left; after a stop it goes on.
    ReturnLeftIfHandled,
    /// The call returns what it has done so far (a write that already moved bytes returns that count).
    Partial(u32),
}

/// How a step goes on after its signals were looked at (`Kernel::signals_on_entry`).
enum Entry {
    /// The step is over, with this result.
    Ended(Result<(), LimitHit>),
    /// The process goes on to its code; with the signal that woke it, if one did.
    Goes(Option<Signal>),
}

/// What a call that was woken, and has not run since, does when it runs with a signal pending (or after
/// a signal woke it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WokenCall {
    /// It tests the condition it slept on before it looks for signals (`___wait_event`), or the waker
    /// already did the call for it (a `semop` done, a message handed over): it tries again, and only
    /// if it would sleep again does the signal interrupt it.
    TriesAgain,
    /// It looks for a signal before it tries again (`do_msgsnd`, `do_msgrcv` and `do_semtimedop` after
    /// `schedule()`, a futex wait a signal ended): the signal interrupts it as this says.
    SeesSignal(Interruption),
}

/// The contract every kind of kernel object keeps. Each mechanism is a unit type whose functions the
/// kernel calls through one `match` on [`crate::lang::syscalls::Mechanism`], so that the hot loop pays
/// for no dynamic dispatch.
pub trait Mechanism {
    /// Performs one of the mechanism's calls (its rows in the table of system calls).
    fn call(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec;

    /// Takes a sleeper off the wait queue its reason names (it dies, stops, or is interrupted).
    fn leave_queue(_kernel: &mut Kernel, _pid: Pid, _reason: &BlockReason) {}

    /// What a stop signal does to a call asleep for `reason`.
    fn interruption(_reason: &BlockReason) -> Interruption {
        Interruption::Restart
    }

    /// What a call of `pid`'s, woken and not yet run again, does when it runs with a signal pending
    /// (`by_signal`: a signal woke it): it tries again where Linux re-checks the condition before the
    /// signal (a pipe read, a wait), or where the waker already did the call (a `semop`, a message
    /// handed over); it sees the signal first where the woken call looks for one before trying again
    /// (a woken `msgsnd`).
    fn woken_call(_kernel: &Kernel, _pid: Pid, _by_signal: bool) -> WokenCall {
        WokenCall::TriesAgain
    }

    /// The invariants of the mechanism's objects, checked after every step in tests.
    fn check(_kernel: &Kernel) -> Result<(), String> {
        Ok(())
    }

    /// Pictures of the mechanism's objects, for snapshots.
    fn views(_kernel: &Kernel, _out: &mut Vec<ObjectView>) {}
}

/// A completed call whose line carries an expectation, kept for the expectation check after the step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub pid: Pid,
    pub op: u32,
    pub result: CallResult,
    /// The bytes a read returned (for `-> "text"`).
    pub data: Vec<u8>,
    /// The call's own signal (`SIGPIPE`) kills its process, so the call never returns to it.
    pub killed_by: Option<Signal>,
}

/// A process of the table, to change: copied first if a checkpoint shares it (the rare case, kept out
/// of line so that the common one is two comparisons inline).
#[inline(always)]
pub(crate) fn unshare(slot: &mut Rc<Process>) -> &mut Process {
    if Rc::get_mut(slot).is_none() {
        copy_shared(slot);
    }
    Rc::get_mut(slot).expect("a process copied out of a checkpoint is its table's alone")
}

#[cold]
#[inline(never)]
fn copy_shared(slot: &mut Rc<Process>) {
    *slot = Rc::new(Process::clone(slot));
}

#[derive(Clone, Debug)]
pub struct Kernel {
    pub program: Arc<Program>,
    pub limits: Limits,
    /// Indexed by `pid - 1`; reaped processes stay as tombstones so names never change. Each is shared
    /// with the kernel's copies (an explorer's checkpoints) until one of them changes it
    /// ([`Kernel::proc_mut`] copies it then): a step changes one or two processes, and a copy of the
    /// kernel copies none.
    pub procs: Vec<Rc<Process>>,
    /// Whether any signal has been sent, deferred or raised by a fault in this run
    /// (`signal::generate`, the one place that makes a signal pending, wakes a sleeper for one or
    /// continues a process; [`Kernel::defer_signal`]; [`Kernel::fault`]). Until then no process has
    /// anything to take, and a step skips its signal checks: signals cost nothing when unused.
    pub(crate) signals_seen: bool,
    /// Pids of processes that are not reaped (init excluded), ascending.
    pub alive: Vec<Pid>,
    /// Pids of the runnable processes among `alive`, ascending; every change of state goes through
    /// [`Kernel::set_state`], which keeps this list.
    runnable: Vec<Pid>,
    /// Open file descriptions; a closed one leaves `None` (reused from `free_files`).
    pub files: Vec<Option<OpenFile>>,
    free_files: Vec<u32>,
    /// Indexed by `id - 1`; a freed pipe leaves `None`.
    pub pipes: Vec<Option<Pipe>>,
    /// FIFOs in the file system namespace, by path.
    pub fifos: BTreeMap<Arc<str>, FifoNode>,
    /// System V message queues and semaphore sets, POSIX message queues and named semaphores.
    pub ipc: ipc::Ipc,
    /// Physical memory: the page frames that mappings and shared memory segments hold.
    pub frames: mm::Frames,
    /// Unix-domain sockets, indexed by `id - 1`; a released one leaves `None`.
    pub sockets: Vec<Option<socket::Socket>>,
    /// Socket files in the file system namespace, by path: the socket bound there (which may be gone).
    pub socket_names: BTreeMap<Arc<str>, u32>,
    /// Epoll instances, indexed by `id - 1`; a released one leaves `None` (reused, lowest first).
    pub epolls: Vec<Option<epoll::Epoll>>,
    /// How many epoll items were ever added (each item's `seq`).
    pub(crate) epoll_seq: u64,
    pub step: u64,
    pub bytes_in_flight: u64,
    /// Pages of freed pipes that a clone of the kernel still held when they were freed.
    pub pages_released_shared: u64,
    /// The most bytes all reads of the run may have returned, as last set: `max_trace_data_bytes`, or
    /// less when the memory budget leaves less room for read data (the simulation resets it every
    /// 64 steps; a read checks it before it copies, with one comparison).
    pub read_ceiling: u64,
    pub copied_to_kernel: u64,
    pub copied_to_user: u64,
    /// The same bytes by mechanism ([`Copier::EACH`]), into the kernel (`[0]`) and out of it (`[1]`).
    pub copies: [[u64; 2]; 4],
    /// How many times the kernel copied a run of bytes between a process's memory and an object (one
    /// `write` that fits is one; a message queue's piece, one; a read, one), into the kernel or out.
    pub copy_runs: u64,
    /// System calls that returned (or ended their process), as opposed to attempts that blocked.
    pub calls_completed: u64,
    name_counts: BTreeMap<Arc<str>, u32>,
    /// Signals the step's call sends, generated once the call's event is recorded.
    pub(crate) deferred: Vec<signal::Sent>,
    /// Faults of user-space code (a division by zero) and of calls that touch memory that is not theirs,
    /// delivered as their signal after the step's call.
    faults: Vec<(Pid, u32, Signal)>,
    pub(crate) read_scratch: Vec<u8>,
    /// The open files a socket receive took out of its messages (`SCM_RIGHTS`), each holding one
    /// reference, for `recvmsg` to install or the receive to close; empty between steps.
    pub(crate) received_rights: Vec<u32>,
    /// The credentials a `sendmsg` in progress sends with `SCM_CREDENTIALS` (its pid), for the
    /// messages it queues; `None` outside such a call.
    pub(crate) sending_creds: Option<Pid>,
    /// An open file of a Unix-domain socket lost a reference in this step: the step ends by looking for
    /// sockets only unreachable messages hold ([`unix_gc`]). False between steps.
    pub(crate) unix_gc_pending: bool,
    /// Set by a mechanism when the call it just completed stayed in user space (a C library call that
    /// needed no system call, such as a `sem_wait` that found the value above 0): not counted in
    /// [`Process::syscalls`].
    pub(crate) in_user_space: bool,
    /// Processes asleep in `futex(FUTEX_WAIT)`, first asleep first, with the word each sleeps on.
    pub(crate) futex_waiters: Vec<(mm::FutexKey, Pid)>,
    wake_scratch: Vec<Pid>,
    /// Calls with expectations that completed in this step.
    pub(crate) completions: Vec<Completion>,
    /// A limit reached somewhere in the step, reported when the step ends.
    limit: Option<LimitHit>,
    /// What the current step read and changed, when asked for.
    pub footprint: Footprint,
    /// Virtual time (see [`time`] and [`Kernel::now`]) is `clock_base` plus a microsecond per step
    /// taken: the clock costs nothing per step, and a jump moves `clock_base`.
    clock_base: u64,
    /// Timers set, earliest first; `next_timer_at` is the first one's time (`u64::MAX` for none), and
    /// `next_timer_step` the step at whose end the clock reaches it.
    pub timers: Vec<time::Timer>,
    timer_seq: u64,
    next_timer_at: u64,
    next_timer_step: u64,
    /// The first step at whose end `end_step` must look at signals or timers: 0 once any signal was
    /// seen (`signals_seen`), otherwise `next_timer_step`.
    attention_step: u64,
}

impl Kernel {
    /// A kernel with `init` and every top-level process created, its standard descriptors open on `/dev/null`.
    pub fn new(program: Arc<Program>, limits: Limits, trace: &mut Trace) -> Result<Kernel, LimitHit> {
        let mut kernel = Kernel {
            program: program.clone(),
            limits,
            procs: vec![Rc::new(Process::init())],
            signals_seen: false,
            alive: Vec::new(),
            runnable: Vec::new(),
            files: Vec::new(),
            free_files: Vec::new(),
            pipes: Vec::new(),
            fifos: BTreeMap::new(),
            ipc: ipc::Ipc::default(),
            frames: mm::Frames::default(),
            sockets: Vec::new(),
            socket_names: BTreeMap::new(),
            epolls: Vec::new(),
            epoll_seq: 0,
            step: 0,
            bytes_in_flight: 0,
            pages_released_shared: 0,
            read_ceiling: limits.max_trace_data_bytes.min(limits.max_memory_bytes),
            copied_to_kernel: 0,
            copied_to_user: 0,
            copies: [[0; 2]; 4],
            calls_completed: 0,
            copy_runs: 0,
            name_counts: BTreeMap::new(),
            deferred: Vec::new(),
            faults: Vec::new(),
            read_scratch: Vec::new(),
            received_rights: Vec::new(),
            sending_creds: None,
            unix_gc_pending: false,
            in_user_space: false,
            futex_waiters: Vec::new(),
            wake_scratch: Vec::new(),
            completions: Vec::new(),
            limit: None,
            footprint: Footprint::default(),
            clock_base: 0,
            timers: Vec::new(),
            timer_seq: 0,
            next_timer_at: u64::MAX,
            next_timer_step: u64::MAX,
            attention_step: u64::MAX,
        };
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
        process::spawn_all(&mut kernel, trace);
        if !kernel.faults.is_empty() {
            kernel.deliver_deferred(trace);
        }
        if let Some(hit) = kernel.limit.take() {
            return Err(hit);
        }
        Ok(kernel)
    }

    pub fn process(&self, pid: Pid) -> &Process {
        &self.procs[pid as usize - 1]
    }

    pub(crate) fn proc_mut(&mut self, pid: Pid) -> &mut Process {
        unshare(&mut self.procs[pid as usize - 1])
    }

    /// Whether `pid` names a process of this run that has not been reaped.
    pub fn exists(&self, pid: i64) -> bool {
        pid > INIT_PID as i64 && pid <= self.procs.len() as i64 && self.process(pid as Pid).state != ProcState::Reaped
    }

    /// Bytes of memory the kernel's objects hold for the memory budget: every pipe's pages, and the
    /// pages it let go of while a clone still held them, and the messages queued in System V and POSIX
    /// message queues, and the page frames that were written ([`crate::Limits::max_memory_bytes`]).
    pub fn held_bytes(&self) -> u64 {
        let pages: u64 =
            self.pipes.iter().flatten().map(|pipe| pipe.buffer.pages_accounted()).sum::<u64>() + self.frames.written();
        let messages: u64 = self.ipc.msg_queues.values().map(|queue| queue.cbytes).sum::<u64>()
            + self.ipc.mqueues.iter().flatten().map(|queue| queue.qsize).sum::<u64>()
            + self.socket_bytes();
        (pages + self.pages_released_shared) * crate::linux::fcntl::PAGE_SIZE as u64 + messages
    }

    pub fn pipe(&self, id: u32) -> Option<&Pipe> {
        self.pipes.get((id as usize).wrapping_sub(1)).and_then(Option::as_ref)
    }

    pub(crate) fn pipe_mut(&mut self, id: u32) -> &mut Pipe {
        self.pipes[id as usize - 1].as_mut().expect("a live file points at a freed pipe")
    }

    /// Runnable processes, ascending by pid.
    pub fn runnable(&self) -> &[Pid] {
        &self.runnable
    }

    /// Changes a process's state, keeping the list of runnable processes.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub(crate) fn set_state(&mut self, pid: Pid, state: ProcState) {
        let process = unshare(&mut self.procs[pid as usize - 1]);
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
        } else if let Some(index) = list.iter().position(|listed| *listed == pid) {
            for at in index + 1..list.len() {
                list[at - 1] = list[at];
            }
            list.pop();
        }
    }

    /// A process the kernel just created is runnable.
    pub(crate) fn add_runnable(&mut self, pid: Pid) {
        let list = &mut self.runnable;
        let at = list.partition_point(|listed| *listed < pid);
        list.insert(at, pid);
    }

    /// True once no process is left that is neither a zombie nor reaped.
    pub fn all_exited(&self) -> bool {
        self.alive.iter().all(|pid| self.process(*pid).state == ProcState::Zombie)
    }

    /// The operation a process will run next: `None` when it is at the end of its code (its next step
    /// is the implicit `exit(0)`). A process rests on a call or a fork (see [`crate::user`]), but for a
    /// fork child whose code faults before its first call, which rests on the faulting operation.
    pub fn next_op(&self, pid: Pid) -> Option<u32> {
        let process = self.process(pid);
        (process.pc < process.end_pc).then_some(process.pc)
    }

    /// The operands of the call `pid` makes next, as it would resolve them now (for pictures and for
    /// the conformance runner, which sends them to the real process). A call that slept, or that a
    /// signal interrupted and that starts again, keeps the operands it started with.
    pub fn next_args(&self, pid: Pid) -> Option<Args> {
        let process = self.process(pid);
        let call = self.program.call(self.next_op(pid)?)?;
        if process.call.waited || process.call.restart {
            return Some(process.call.args);
        }
        let mut args = Args::default();
        resolve_args(call, &process.vars, pid, &mut args).ok()?;
        Some(args)
    }

    /// Runs user-space code after a call returns (or a process starts), up to its next step.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub(crate) fn settle(&mut self, pid: Pid) {
        let index = pid as usize - 1;
        let process = &self.procs[index];
        let ops = &self.program.ops;
        // Most calls are followed by another call, or by the end of a `repeat` round and a call. (Read
        // before anything is changed: a process shared with a checkpoint is copied only if it changes.)
        if process.pc < process.end_pc {
            match &ops[process.pc as usize].kind {
                OpKind::Call(_) | OpKind::Fork { .. } => return,
                OpKind::RepeatNext { counter, body } if process.vars[*counter as usize] > 1 => {
                    let process = unshare(&mut self.procs[index]);
                    process.vars[*counter as usize] -= 1;
                    process.pc = *body;
                    if ops[process.pc as usize].kind.takes_step() {
                        return;
                    }
                }
                _ => {}
            }
        }
        self.settle_user_code(pid);
    }

    #[inline(never)]
    fn settle_user_code(&mut self, pid: Pid) {
        let budget = self.limits.max_user_ops_per_step;
        let process = unshare(&mut self.procs[pid as usize - 1]);
        match user::settle(&self.program.ops, &mut process.pc, process.end_pc, &mut process.vars, pid, budget) {
            Settled::AtStep | Settled::AtEnd => {}
            Settled::Fault { op, .. } => self.fault(pid, op, crate::linux::signal::SIGFPE),
            Settled::OverBudget { op } => {
                let span = self.program.ops[op as usize].span;
                self.limit.get_or_insert(LimitHit {
                    limit: "max_user_ops_per_step",
                    detail: format!(
                        "{} ran more than {} operations without a system call (line {}: a loop that never calls \
                         anything?)",
                        process.name, budget, span.line
                    ),
                });
            }
        }
    }

    /// Runs one step of `pid`, which must be runnable.
    /// `program` is this kernel's own program, passed in so the hot path borrows it without touching the
    /// reference count.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn step(&mut self, program: &Program, pid: Pid, trace: &mut Trace) -> Result<(), LimitHit> {
        self.step += 1;
        if self.footprint.enabled {
            self.footprint.begin();
            self.footprint.write(ObjectRef::process(pid));
        }
        // Signals (one woke it, a partner ended its wait after one did, a continue to report, or one
        // pending) cost one test when there are none.
        let mut woken_by = None;
        if self.signals_seen {
            let process = self.process(pid);
            if process.sig.woken_by.is_some()
                || process.partner_woke
                || process.continued_unreported
                || process.sig.pending != 0
                || process.sig.suspended_mask.is_some()
            {
                match self.signals_on_entry(pid, trace) {
                    Entry::Ended(result) => return result,
                    Entry::Goes(woken) => woken_by = woken,
                }
            }
        }
        let process = self.process(pid);
        let op_index = process.pc;
        if op_index >= process.end_pc && !process.sig.frames.is_empty() {
            let signal = signal::sigreturn(self, pid);
            if self.process(pid).sig.deliverable() == 0 {
                self.settle(pid);
            }
            trace.record(Event {
                step: self.step as u32,
                kind: EventKind::Call {
                    pid,
                    op: IMPLICIT_SIGRETURN_OP,
                    args: Args::new(&[signal.0 as i64]),
                    result: CallResult::Value { value: 0 },
                },
            });
            self.calls_completed += 1;
            self.proc_mut(pid).syscalls += 1;
            return self.end_step(pid, trace);
        }
        if op_index >= process.end_pc {
            trace.record(Event {
                step: self.step as u32,
                kind: EventKind::Call {
                    pid,
                    op: IMPLICIT_EXIT_OP,
                    args: Args::default(),
                    result: CallResult::Value { value: 0 },
                },
            });
            self.calls_completed += 1;
            self.proc_mut(pid).syscalls += 1;
            process::exit_process(self, pid, ChildStatus::Exited(0), trace);
            return self.end_step(pid, trace);
        }
        let op = &program.ops[op_index as usize];
        match &op.kind {
            OpKind::Call(call) => {
                let mut args = Args::default();
                if process.call.waited | process.call.restart {
                    args = process.call.args;
                } else if resolve_args(call, &process.vars, pid, &mut args).is_err() {
                    self.fault(pid, op_index, crate::linux::signal::SIGFPE);
                    return self.end_step(pid, trace);
                }
                // The two calls that carry data skip the table: they are most of every busy run.
                let exec = match call.id {
                    CallId::Read => fd::read(self, pid, &args, trace),
                    CallId::Write => fd::write(self, pid, call, &args, trace),
                    _ => self.dispatch(&CallContext { pid, op: op_index, call, args: &args }, trace),
                };
                match exec {
                    Exec::Done(result) => {
                        self.complete_call_of(pid, op_index, call, op.expect.is_some(), &args, result, trace);
                        if call.id == CallId::Exit {
                            let status = ChildStatus::Exited((args.get(0) & 0xff) as u8);
                            process::exit_process(self, pid, status, trace);
                        }
                    }
                    Exec::Block(reason) if self.signals_seen && self.process(pid).sig.deliverable() != 0 => {
                        self.interrupt(pid, op_index, &args, &reason, trace)
                    }
                    Exec::Block(reason) if woken_by.is_some() && Kernel::ends_without_a_signal(&reason) => {
                        let signal = woken_by.expect("checked");
                        self.interrupt_without_a_signal(pid, op_index, &args, &reason, signal, trace)
                    }
                    Exec::Block(reason) => self.sleep(pid, op_index, &args, reason, trace),
                    Exec::Halt => {}
                    Exec::Fault(signal) => self.fault(pid, op_index, signal),
                }
            }
            OpKind::Fork { slot, name, body_end, expect } => {
                process::fork(self, pid, *slot, name, op_index, *body_end, expect.clone(), trace)?;
            }
            // A fork child whose code faults before its first call rests on the faulting operation (see
            // `process::fork`): its first step runs it, and faults.
            OpKind::Assign { .. } | OpKind::Jump { .. } | OpKind::JumpUnless { .. } | OpKind::RepeatNext { .. } => {
                self.settle_user_code(pid);
            }
        }
        self.end_step(pid, trace)
    }

    /// What a process's signals do as it starts a step (see `step`): the signal that woke it is seen
    /// once by the call it retries, a continue is reported, and signals that came while it was away are
    /// taken. `Entry::Ended` when that ends the step.
    #[cold]
    #[inline(never)]
    fn signals_on_entry(&mut self, pid: Pid, trace: &mut Trace) -> Entry {
        // Whether a signal woke it (`TIF_SIGPENDING`): the call it retries sees it once, whatever became
        // of the signal.
        let woken_by = self.process(pid).sig.woken_by;
        if woken_by.is_some() {
            self.proc_mut(pid).sig.woken_by = None;
        }
        // Whether a partner ended its wait after the signal had woken it (`still_queued`).
        let partner_woke = std::mem::take(&mut self.proc_mut(pid).partner_woke);
        // A continue its parent has not heard of: the child reports it as it runs (`get_signal`).
        if self.process(pid).continued_unreported {
            self.proc_mut(pid).continued_unreported = false;
            process::notify_parent(self, pid, trace);
        }
        let process = self.process(pid);
        if process.call.waited && (woken_by.is_some() || process.sig.deliverable() != 0) {
            let decision = self.woken_call(pid, woken_by.is_some() && !partner_woke);
            // It leaves the queue a signal woke it from now, as it runs.
            if let Some(reason) = self.proc_mut(pid).still_queued.take() {
                self.leave_queue_for(pid, &reason);
            }
            match decision {
                WokenCall::TriesAgain => {}
                WokenCall::SeesSignal(interruption) => {
                    if self.woken_call_sees_signal(pid, interruption, woken_by, trace) {
                        return Entry::Ended(self.end_step(pid, trace));
                    }
                }
            }
        }
        let process = self.process(pid);
        // A `sigsuspend` to start again (after a stop), or woken by a signal that its temporary mask
        // does not let through by now, gets the caller's own mask back first and starts again (see
        // `signal::restart_sigsuspend`).
        if let Some(own_mask) = process.sig.suspended_mask {
            // Woken, it starts again only to take a signal its own mask lets through (with nothing to
            // take, starting again is sleeping on).
            let lets_through = process.sig.pending & !(own_mask & BLOCKABLE) != 0;
            if (process.call.restart || (process.call.waited && woken_by.is_some() && lets_through))
                && process.sig.deliverable() == 0
            {
                let woken = woken_by.filter(|_| process.call.waited);
                signal::restart_sigsuspend(self, pid, woken, trace);
            }
        }
        let process = self.process(pid);
        // Signals that came while it was away are taken before it goes on (unless it is in the middle of
        // a call: that call is tried again first, below).
        if process.sig.pending != 0 && process.sig.deliverable() != 0 && !process.call.waited {
            self.deliver_before_step(pid, trace);
            // A limit reached on the way (a handler's code that runs over its budget of operations
            // without a call, leaving the process between two operations; handlers nested too deep)
            // ends the step: the process's call does not happen.
            if self.process(pid).state != ProcState::Runnable || !self.faults.is_empty() || self.limit.is_some() {
                return Entry::Ended(self.end_step(pid, trace));
            }
        }
        Entry::Goes(woken_by)
    }

    /// A signal was sent, deferred or raised: from now on every step looks at signals.
    pub(crate) fn note_signal(&mut self) {
        self.signals_seen = true;
        self.attention_step = 0;
    }

    /// A signal the step's call sends, generated at the end of the step (`end_step`).
    pub(crate) fn defer_signal(&mut self, sent: signal::Sent) {
        self.note_signal();
        self.deferred.push(sent);
    }

    /// User-space code of `pid` faulted at `op`: the CPU raises `signal`, delivered at the end of the step.
    fn fault(&mut self, pid: Pid, op: u32, signal: Signal) {
        self.note_signal();
        self.faults.push((pid, op, signal));
    }

    /// Sends what the step's call sent, delivers user-space faults, lets the process that ran take what
    /// it may now (it returns to user mode), and reports a limit the step hit.
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn end_step(&mut self, pid: Pid, trace: &mut Trace) -> Result<(), LimitHit> {
        // One test when no signal was ever sent and no timer is due (see `attention_step`).
        if self.step >= self.attention_step {
            if self.signals_seen
                && (!self.deferred.is_empty() || !self.faults.is_empty() || self.process(pid).sig.pending != 0)
            {
                self.signals_on_return(pid, trace);
            }
            // The step's microsecond has passed (`now` counts it from here on).
            if self.step >= self.next_timer_step {
                self.fire_timers(trace);
            }
        }
        if crate::IPC && self.unix_gc_pending {
            self.collect_unix_garbage(pid, trace);
        }
        if self.limit.is_some() {
            return Err(self.take_limit());
        }
        Ok(())
    }

    /// The step's signals: what its call sent, its faults, and what the process that ran may take as it
    /// returns to user mode; then its own code runs up to its next call (a stopped or dead process's does
    /// not: a stopped one's runs when it next runs, after what it takes then).
    #[cold]
    #[inline(never)]
    fn signals_on_return(&mut self, pid: Pid, trace: &mut Trace) {
        if !self.deferred.is_empty() || !self.faults.is_empty() {
            self.deliver_deferred(trace);
        }
        if self.process(pid).sig.deliverable() != 0 {
            signal::deliver(self, pid, trace);
        }
        if self.process(pid).state == ProcState::Runnable {
            self.settle(pid);
            if !self.faults.is_empty() {
                self.deliver_deferred(trace);
            }
        }
    }

    /// Signals that came while the process was away, taken before it goes on; then its code (a handler's,
    /// now) runs up to its next call.
    #[cold]
    #[inline(never)]
    fn deliver_before_step(&mut self, pid: Pid, trace: &mut Trace) {
        signal::deliver(self, pid, trace);
        if self.process(pid).state == ProcState::Runnable {
            self.settle(pid);
        }
    }

    /// Whether a call that a signal woke ends even when no signal is left to take by the time it runs:
    /// a write that moved bytes returns them, `sigwaitinfo` and `sigtimedwait` fail with `EINTR`
    /// (signal(7): after a stop and `SIGCONT`). Any other call starts again and sleeps as before,
    /// which no program can tell from sleeping on.
    fn ends_without_a_signal(reason: &BlockReason) -> bool {
        matches!(Kernel::interruption(reason), Interruption::Partial(1..) | Interruption::Eintr)
    }

    /// A call woken by a signal that is gone by the time it runs (a `SIGCONT` discarded the stop that
    /// woke it) would sleep again: `signal_pending` is still true (`TIF_SIGPENDING`), so it ends as for
    /// a signal without a handler, and the process then finds nothing to take (`get_signal`).
    #[cold]
    #[inline(never)]
    fn interrupt_without_a_signal(
        &mut self,
        pid: Pid,
        op: u32,
        args: &Args,
        reason: &BlockReason,
        signal: crate::linux::Signal,
        trace: &mut Trace,
    ) {
        self.leave_queue_for(pid, reason);
        let (outcome, result) = match self.interruption_for(pid, reason) {
            Interruption::Partial(done) => (CallInterrupted::Partial, CallResult::Value { value: done as i64 }),
            _ => (CallInterrupted::Eintr, CallResult::Error { errno: EINTR }),
        };
        trace.record(Event {
            step: self.step as u32,
            kind: EventKind::Interrupted { pid, op, signal, outcome, gone: true },
        });
        self.complete_call(pid, op, args, result, trace);
    }

    /// A woken call would sleep again, but a signal it does not block is pending: the signal ends the
    /// call (restart, `EINTR` or a partial result, see [`signal::outcome`]) and is then delivered.
    #[cold]
    #[inline(never)]
    fn interrupt(&mut self, pid: Pid, op: u32, args: &Args, reason: &BlockReason, trace: &mut Trace) {
        // The mechanism put the caller on its wait queue, and a FIFO open holds a half-open file.
        self.leave_queue_for(pid, reason);
        fifo::cancel_pending_open(self, pid, trace);
        let left = match reason {
            BlockReason::Sleep { until, .. } => time::seconds_left(self, *until),
            _ => 0,
        };
        self.interrupt_with(pid, op, args, self.interruption_for(pid, reason), left, trace);
    }

    /// A signal ends a call as `interruption` says (`left`: the seconds a `sleep` had left).
    fn interrupt_with(
        &mut self,
        pid: Pid,
        op: u32,
        args: &Args,
        interruption: Interruption,
        left: i64,
        trace: &mut Trace,
    ) {
        let (signal, outcome) = signal::outcome(self, pid, interruption);
        let action = self.process(pid).sig.action(signal);
        let handled = action.caught().is_some();
        if signal::is_fatal_now(self, pid, signal) || matches!(action, signal::Action::Stray { .. }) {
            // It dies of it as it takes it (a stray handler's address faults, and that kills, or the
            // run stops there): what the call would have done no longer matters.
            self.proc_mut(pid).call.reset();
            return;
        }
        let record = |kernel: &Kernel, trace: &mut Trace, outcome| {
            trace.record(Event {
                step: kernel.step as u32,
                kind: EventKind::Interrupted { pid, op, signal, outcome, gone: false },
            });
        };
        match outcome {
            Interruption::Partial(done) => {
                record(self, trace, CallInterrupted::Partial);
                self.complete_call(pid, op, args, CallResult::Value { value: done as i64 }, trace);
            }
            Interruption::Eintr => {
                record(self, trace, CallInterrupted::Eintr);
                self.complete_call(pid, op, args, CallResult::Error { errno: EINTR }, trace);
            }
            Interruption::ReturnLeftIfHandled => {
                record(self, trace, CallInterrupted::Partial);
                self.complete_call(pid, op, args, CallResult::Value { value: left }, trace);
            }
            Interruption::Restart | Interruption::RestartWithoutHandler => {
                record(self, trace, CallInterrupted::Restart);
                let process = self.proc_mut(pid);
                // A sleep goes on for the time it has left (`restart_block`); any other call starts over.
                let until = match process.call.scratch {
                    Scratch::Until(until) => Some(until),
                    _ => None,
                };
                process.call.reset();
                process.call.restart = true;
                process.call.args = *args;
                if !handled {
                    process.call.undecided = Some(interruption);
                }
                if let Some(until) = until {
                    process.call.scratch = Scratch::Until(until);
                }
            }
        }
    }

    /// A woken call that looks for a signal before it tries again finds one: the signal ends it without
    /// a new try (its process left the wait queue as it woke). With no signal left to take (a `SIGCONT`
    /// discarded the stop that woke it) it ends as for a signal without a handler, which for most calls
    /// is to start again: then it goes on as usual, and this returns false.
    #[cold]
    #[inline(never)]
    fn woken_call_sees_signal(
        &mut self,
        pid: Pid,
        interruption: Interruption,
        woken_by: Option<crate::linux::Signal>,
        trace: &mut Trace,
    ) -> bool {
        let op = self.process(pid).pc;
        let args = self.process(pid).call.args;
        if self.process(pid).sig.deliverable() != 0 {
            self.interrupt_with(pid, op, &args, interruption, 0, trace);
            return true;
        }
        match (woken_by, interruption) {
            (Some(signal), Interruption::Eintr | Interruption::Partial(1..)) => {
                let (outcome, result) = match interruption {
                    Interruption::Partial(done) => (CallInterrupted::Partial, CallResult::Value { value: done as i64 }),
                    _ => (CallInterrupted::Eintr, CallResult::Error { errno: EINTR }),
                };
                trace.record(Event {
                    step: self.step as u32,
                    kind: EventKind::Interrupted { pid, op, signal, outcome, gone: true },
                });
                self.complete_call(pid, op, &args, result, trace);
                true
            }
            _ => false,
        }
    }

    #[cold]
    fn take_limit(&mut self) -> LimitHit {
        self.limit.take().expect("checked")
    }

    #[cold]
    #[inline(never)]
    fn deliver_deferred(&mut self, trace: &mut Trace) {
        let deferred = std::mem::take(&mut self.deferred);
        for sent in &deferred {
            signal::generate(self, *sent, trace);
        }
        self.deferred = deferred;
        self.deferred.clear();
        let faults = std::mem::take(&mut self.faults);
        for (pid, op, signal) in faults {
            signal::fault(self, pid, op, signal, trace);
        }
    }

    /// Hands a call to its mechanism.
    #[cfg_attr(not(feature = "small"), inline(always))]
    fn dispatch(&mut self, context: &CallContext, trace: &mut Trace) -> Exec {
        // A call another process already finished (its result handed over) only returns it: it
        // touches no object of its family.
        if self.footprint.enabled && !matches!(self.process(context.pid).handed, Some(process::Handed::Result(_))) {
            state::shared_footprint(&mut self.footprint, context.call.id);
        }
        match context.call.id.spec().mechanism {
            MechanismId::Fd => match context.call.id {
                CallId::Read => fd::read(self, context.pid, context.args, trace),
                CallId::Write => fd::write(self, context.pid, context.call, context.args, trace),
                _ => <fd::Descriptors as Mechanism>::call(self, context, trace),
            },
            MechanismId::Pipe => <pipe::Pipes as Mechanism>::call(self, context, trace),
            MechanismId::Fifo => <fifo::Fifos as Mechanism>::call(self, context, trace),
            MechanismId::Process => <process::Processes as Mechanism>::call(self, context, trace),
            MechanismId::Signal => <signal::Signals as Mechanism>::call(self, context, trace),
            MechanismId::Sched => Exec::Done(CallResult::Value { value: 0 }),
            MechanismId::Time => {
                // The clock's calls read the time, which depends on how many steps came before.
                if self.footprint.enabled {
                    self.footprint.everything();
                }
                <time::Clock as Mechanism>::call(self, context, trace)
            }
            MechanismId::Msg if crate::IPC => <msg::MsgQueues as Mechanism>::call(self, context, trace),
            MechanismId::Sem if crate::IPC => <sem::SemSets as Mechanism>::call(self, context, trace),
            MechanismId::Mqueue if crate::IPC => <mqueue::Mqueues as Mechanism>::call(self, context, trace),
            MechanismId::NamedSem if crate::IPC => <named_sem::NamedSems as Mechanism>::call(self, context, trace),
            MechanismId::Shm if crate::IPC => <shm::ShmSegments as Mechanism>::call(self, context, trace),
            MechanismId::Mm | MechanismId::Memory if crate::IPC => {
                <mm::Memory as Mechanism>::call(self, context, trace)
            }
            MechanismId::Socket if crate::IPC => <socket::Sockets as Mechanism>::call(self, context, trace),
            MechanismId::PosixShm if crate::IPC => <posix_shm::ShmObjects as Mechanism>::call(self, context, trace),
            MechanismId::Poll if crate::IPC => <poll::Polls as Mechanism>::call(self, context, trace),
            // Without the IPC mechanisms the parser refuses their calls; were one to come, it is not there.
            MechanismId::Msg
            | MechanismId::Sem
            | MechanismId::Mqueue
            | MechanismId::NamedSem
            | MechanismId::Shm
            | MechanismId::Mm
            | MechanismId::Memory
            | MechanismId::Socket
            | MechanismId::PosixShm
            | MechanismId::Poll => Exec::Done(CallResult::Error { errno: crate::linux::errno::ENOSYS }),
        }
    }

    /// Takes a sleeper off the wait queue of the mechanism it sleeps in.
    pub(crate) fn leave_wait_queue(&mut self, pid: Pid) {
        let reason = match &self.process(pid).state {
            ProcState::Blocked(reason) => reason.clone(),
            _ => match self.proc_mut(pid).still_queued.take() {
                Some(reason) => reason,
                None => return,
            },
        };
        match mechanism_of(&reason) {
            MechanismId::Pipe => <pipe::Pipes as Mechanism>::leave_queue(self, pid, &reason),
            MechanismId::Fifo => <fifo::Fifos as Mechanism>::leave_queue(self, pid, &reason),
            MechanismId::Process => <process::Processes as Mechanism>::leave_queue(self, pid, &reason),
            MechanismId::Signal => <signal::Signals as Mechanism>::leave_queue(self, pid, &reason),
            MechanismId::Time => <time::Clock as Mechanism>::leave_queue(self, pid, &reason),
            MechanismId::Msg if crate::IPC => <msg::MsgQueues as Mechanism>::leave_queue(self, pid, &reason),
            MechanismId::Sem if crate::IPC => <sem::SemSets as Mechanism>::leave_queue(self, pid, &reason),
            MechanismId::Mqueue if crate::IPC => <mqueue::Mqueues as Mechanism>::leave_queue(self, pid, &reason),
            MechanismId::NamedSem if crate::IPC => <named_sem::NamedSems as Mechanism>::leave_queue(self, pid, &reason),
            MechanismId::Socket if crate::IPC => <socket::Sockets as Mechanism>::leave_queue(self, pid, &reason),
            MechanismId::Mm if crate::IPC => <mm::Memory as Mechanism>::leave_queue(self, pid, &reason),
            MechanismId::Poll if crate::IPC => <poll::Polls as Mechanism>::leave_queue(self, pid, &reason),
            MechanismId::Fd
            | MechanismId::Sched
            | MechanismId::Msg
            | MechanismId::Sem
            | MechanismId::Mqueue
            | MechanismId::NamedSem
            | MechanismId::Shm
            | MechanismId::Mm
            | MechanismId::Memory
            | MechanismId::Socket
            | MechanismId::PosixShm
            | MechanismId::Poll => {}
        }
        if mechanism_of(&reason).is_ipc() {
            // A timed call's timer goes with its wait.
            self.cancel_timer(pid, time::TimerKind::Wake);
        }
    }

    /// Takes a process off the wait queue `reason` names.
    fn leave_queue_for(&mut self, pid: Pid, reason: &BlockReason) {
        match mechanism_of(reason) {
            MechanismId::Pipe => <pipe::Pipes as Mechanism>::leave_queue(self, pid, reason),
            MechanismId::Fifo => <fifo::Fifos as Mechanism>::leave_queue(self, pid, reason),
            MechanismId::Process => <process::Processes as Mechanism>::leave_queue(self, pid, reason),
            MechanismId::Signal => <signal::Signals as Mechanism>::leave_queue(self, pid, reason),
            MechanismId::Time => <time::Clock as Mechanism>::leave_queue(self, pid, reason),
            MechanismId::Msg if crate::IPC => <msg::MsgQueues as Mechanism>::leave_queue(self, pid, reason),
            MechanismId::Sem if crate::IPC => <sem::SemSets as Mechanism>::leave_queue(self, pid, reason),
            MechanismId::Mqueue if crate::IPC => <mqueue::Mqueues as Mechanism>::leave_queue(self, pid, reason),
            MechanismId::NamedSem if crate::IPC => <named_sem::NamedSems as Mechanism>::leave_queue(self, pid, reason),
            MechanismId::Socket if crate::IPC => <socket::Sockets as Mechanism>::leave_queue(self, pid, reason),
            MechanismId::Mm if crate::IPC => <mm::Memory as Mechanism>::leave_queue(self, pid, reason),
            MechanismId::Poll if crate::IPC => <poll::Polls as Mechanism>::leave_queue(self, pid, reason),
            MechanismId::Fd
            | MechanismId::Sched
            | MechanismId::Msg
            | MechanismId::Sem
            | MechanismId::Mqueue
            | MechanismId::NamedSem
            | MechanismId::Shm
            | MechanismId::Mm
            | MechanismId::Memory
            | MechanismId::Socket
            | MechanismId::PosixShm
            | MechanismId::Poll => {}
        }
        if mechanism_of(reason).is_ipc() {
            self.cancel_timer(pid, time::TimerKind::Wake);
        }
    }

    /// What a signal does to `pid`'s call, asleep for `reason`: as its mechanism says, but `sem_timedwait`
    /// waits on the futex with a timeout, which `futex_wait` makes `-ERESTART_RESTARTBLOCK`: started
    /// again after a stop, `EINTR` after any handler (with `SA_RESTART` too).
    fn interruption_for(&self, pid: Pid, reason: &BlockReason) -> Interruption {
        if matches!(reason, BlockReason::NamedSem { .. } | BlockReason::Futex { .. })
            && self.program.call(self.process(pid).pc).is_some_and(|call| call.id == CallId::SemTimedwait)
        {
            return Interruption::RestartWithoutHandler;
        }
        Kernel::interruption(reason)
    }

    /// What a signal does to the call `reason` puts to sleep (see [`Interruption`]).
    pub(crate) fn interruption(reason: &BlockReason) -> Interruption {
        match mechanism_of(reason) {
            MechanismId::Pipe => <pipe::Pipes as Mechanism>::interruption(reason),
            MechanismId::Fifo => <fifo::Fifos as Mechanism>::interruption(reason),
            MechanismId::Process => <process::Processes as Mechanism>::interruption(reason),
            MechanismId::Signal => <signal::Signals as Mechanism>::interruption(reason),
            MechanismId::Time => <time::Clock as Mechanism>::interruption(reason),
            MechanismId::Msg if crate::IPC => <msg::MsgQueues as Mechanism>::interruption(reason),
            MechanismId::Sem if crate::IPC => <sem::SemSets as Mechanism>::interruption(reason),
            MechanismId::Mqueue if crate::IPC => <mqueue::Mqueues as Mechanism>::interruption(reason),
            MechanismId::NamedSem if crate::IPC => <named_sem::NamedSems as Mechanism>::interruption(reason),
            MechanismId::Socket if crate::IPC => <socket::Sockets as Mechanism>::interruption(reason),
            MechanismId::Mm if crate::IPC => <mm::Memory as Mechanism>::interruption(reason),
            MechanismId::Poll if crate::IPC => <poll::Polls as Mechanism>::interruption(reason),
            MechanismId::Fd
            | MechanismId::Sched
            | MechanismId::Msg
            | MechanismId::Sem
            | MechanismId::Mqueue
            | MechanismId::NamedSem
            | MechanismId::Shm
            | MechanismId::Mm
            | MechanismId::Memory
            | MechanismId::Socket
            | MechanismId::PosixShm
            | MechanismId::Poll => Interruption::Restart,
        }
    }

    /// What the call `pid` was woken in does as it runs with a signal pending (see
    /// [`Mechanism::woken_call`]).
    fn woken_call(&self, pid: Pid, by_signal: bool) -> WokenCall {
        let Some(call) = self.program.call(self.process(pid).pc) else { return WokenCall::TriesAgain };
        match call.id.spec().mechanism {
            MechanismId::Msg if crate::IPC => <msg::MsgQueues as Mechanism>::woken_call(self, pid, by_signal),
            MechanismId::Sem if crate::IPC => <sem::SemSets as Mechanism>::woken_call(self, pid, by_signal),
            MechanismId::Mqueue if crate::IPC => <mqueue::Mqueues as Mechanism>::woken_call(self, pid, by_signal),
            MechanismId::NamedSem if crate::IPC => {
                <named_sem::NamedSems as Mechanism>::woken_call(self, pid, by_signal)
            }
            MechanismId::Mm if crate::IPC => <mm::Memory as Mechanism>::woken_call(self, pid, by_signal),
            MechanismId::Fd => <fd::Descriptors as Mechanism>::woken_call(self, pid, by_signal),
            MechanismId::Pipe => <pipe::Pipes as Mechanism>::woken_call(self, pid, by_signal),
            MechanismId::Fifo => <fifo::Fifos as Mechanism>::woken_call(self, pid, by_signal),
            MechanismId::Process => <process::Processes as Mechanism>::woken_call(self, pid, by_signal),
            MechanismId::Signal => <signal::Signals as Mechanism>::woken_call(self, pid, by_signal),
            MechanismId::Time => <time::Clock as Mechanism>::woken_call(self, pid, by_signal),
            MechanismId::Sched
            | MechanismId::Msg
            | MechanismId::Sem
            | MechanismId::Mqueue
            | MechanismId::NamedSem
            | MechanismId::Shm
            | MechanismId::Mm
            | MechanismId::Memory
            | MechanismId::Socket
            | MechanismId::PosixShm
            | MechanismId::Poll => WokenCall::TriesAgain,
        }
    }

    /// Every mechanism's objects, for snapshots.
    pub fn object_views(&self) -> Vec<ObjectView> {
        let mut views = Vec::new();
        <pipe::Pipes as Mechanism>::views(self, &mut views);
        <fifo::Fifos as Mechanism>::views(self, &mut views);
        if crate::IPC {
            <msg::MsgQueues as Mechanism>::views(self, &mut views);
            <sem::SemSets as Mechanism>::views(self, &mut views);
            <mqueue::Mqueues as Mechanism>::views(self, &mut views);
            <named_sem::NamedSems as Mechanism>::views(self, &mut views);
            <shm::ShmSegments as Mechanism>::views(self, &mut views);
            <posix_shm::ShmObjects as Mechanism>::views(self, &mut views);
            <mm::Memory as Mechanism>::views(self, &mut views);
            <socket::Sockets as Mechanism>::views(self, &mut views);
            <poll::Polls as Mechanism>::views(self, &mut views);
        }
        views
    }

    /// Puts a process to sleep; its mechanism already put it on the right wait queue.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub(crate) fn sleep(&mut self, pid: Pid, op: u32, args: &Args, reason: BlockReason, trace: &mut Trace) {
        trace.record_block(self.step as u32, pid, op, args, &reason);
        self.set_state(pid, ProcState::Blocked(reason));
        let process = self.proc_mut(pid);
        process.call.waited = true;
        process.call.args = *args;
    }

    /// Makes one sleeping process runnable again.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub(crate) fn wake(&mut self, pid: Pid, by: Pid, cause: WakeCause, trace: &mut Trace) {
        if matches!(self.process(pid).state, ProcState::Blocked(_)) {
            if crate::IPC
                && matches!(
                    self.process(pid).state,
                    ProcState::Blocked(BlockReason::Poll { .. } | BlockReason::Epoll { .. })
                )
            {
                // A poller woken by one of its objects leaves the queues of the others now (Linux
                // leaves its entries there until `poll` returns, where a wake-up finds it awake).
                self.leave_poll_queues(pid);
            }
            self.set_state(pid, ProcState::Runnable);
            if self.footprint.enabled {
                self.footprint.write(ObjectRef::process(pid));
            }
            trace.record_wake(self.step as u32, pid, by, cause);
        } else if self.process(pid).still_queued.is_some() {
            // A signal or its timer woke it first, and it has not run since: the partner took it off the
            // queue (and it no longer times out: the partner's wake-up counts).
            let process = self.proc_mut(pid);
            process.still_queued = None;
            process.partner_woke = true;
            process.call.timed_out = false;
        }
    }

    /// A signal wakes a sleeper (`signal_wake_up`). The sleeper leaves a pipe's or a process's wait
    /// queue at once (its call tests its condition again when it runs, so nothing tells the two
    /// apart), but stays on an IPC object's queue until it runs, where a partner may still finish its
    /// call or end its wait (see [`process::Process::still_queued`]).
    pub(crate) fn wake_for_signal(&mut self, pid: Pid) {
        let ProcState::Blocked(reason) = &self.process(pid).state else { return };
        // An `epoll_wait` sleeper leaves its instance's queue at once: it is no longer one a wake-up of
        // the instance can count as woken (`try_to_wake_up` finds it running).
        if mechanism_of(reason).is_ipc() && !matches!(reason, BlockReason::Epoll { .. }) {
            let reason = reason.clone();
            self.proc_mut(pid).still_queued = Some(reason);
        } else {
            self.leave_wait_queue(pid);
        }
    }

    /// Wakes whom a wake-up on one of a pipe's queues wakes: the epoll items on it first (their
    /// callbacks sit at the queue's head), then the sleepers.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub(crate) fn wake_queue(
        &mut self,
        pipe: u32,
        side: pipe::Side,
        how: wait::Wake,
        by: Pid,
        cause: WakeCause,
        trace: &mut Trace,
    ) {
        if crate::IPC && !self.epolls.is_empty() {
            self.epoll_callback(side.poll_queue(pipe), pipe::wake_key(cause), by, cause, trace);
        }
        let pick = side.pick();
        // The usual case, one sleeper, goes without the list of those woken.
        if let Some(pid) = pick(self.pipe_mut(pipe)).take_only() {
            self.wake(pid, by, cause, trace);
            return;
        }
        let mut woken = std::mem::take(&mut self.wake_scratch);
        pick(self.pipe_mut(pipe)).wake(how, &mut woken);
        for pid in &woken {
            self.wake(*pid, by, cause, trace);
        }
        woken.clear();
        self.wake_scratch = woken;
    }

    /// Records a completed call, binds its result, and moves the process to its next step (or keeps it
    /// on the call when the scenario retries on this errno).
    pub(crate) fn complete_call(&mut self, pid: Pid, op: u32, args: &Args, result: CallResult, trace: &mut Trace) {
        let program = self.program.clone();
        let op_entry = &program.ops[op as usize];
        let OpKind::Call(call) = &op_entry.kind else { unreachable!("a completed call is a call") };
        if crate::IPC && result == (CallResult::Error { errno: EINTR }) {
            if let Err(signal) = unnamed_sem::interrupted(self, pid, call.id, args.get(0), trace) {
                self.fault(pid, op, signal);
            }
        }
        self.complete_call_of(pid, op, call, op_entry.expect.is_some(), args, result, trace);
    }

    /// [`Kernel::complete_call`] for a caller that has the call in hand already.
    #[allow(clippy::too_many_arguments)]
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub(crate) fn complete_call_of(
        &mut self,
        pid: Pid,
        op: u32,
        call: &CallOp,
        has_expectation: bool,
        args: &Args,
        result: CallResult,
        trace: &mut Trace,
    ) {
        trace.record_call(self.step as u32, pid, op, args, result);
        self.calls_completed += 1;
        let process = unshare(&mut self.procs[pid as usize - 1]);
        if !call.id.spec().mechanism.is_instruction() && !std::mem::take(&mut self.in_user_space) {
            process.syscalls += 1;
        }
        process.call.reset();
        if let CallResult::Error { errno } = result {
            process.vars[ERRNO_SLOT as usize] = errno.0 as i64;
            if !call.retry.is_empty() && call.retry.contains(&errno) {
                return;
            }
        }
        match (call.bind, result) {
            (Bind::None, _) | (Bind::Pair { .. }, CallResult::Error { .. }) => {}
            (Bind::Value(slot), result) => process.vars[slot as usize] = result.bound_value(),
            (Bind::Pair { read, write }, CallResult::Pair { read_fd, write_fd }) => {
                process.vars[read as usize] = read_fd as i64;
                process.vars[write as usize] = write_fd as i64;
            }
            (Bind::Pair { .. }, _) => {}
            (Bind::Message { count, tag }, CallResult::Message { len, tag: value, .. }) => {
                process.vars[count as usize] = len as i64;
                process.vars[tag as usize] = value;
            }
            // A failed receive stores -1 as its count and leaves the type as it was, as in C.
            (Bind::Message { count, .. }, result) => process.vars[count as usize] = result.bound_value(),
            (Bind::Bytes { count, first, last, runs }, CallResult::Data { len, .. }) => {
                // The kernel's scratch buffer holds what this read just returned.
                let got = ReadBytes::of(self.read_scratch.get(..len as usize).unwrap_or(&[]));
                process.vars[count as usize] = len as i64;
                process.vars[first as usize] = got.first;
                process.vars[last as usize] = got.last;
                process.vars[runs as usize] = got.runs;
            }
            // A failed read stores -1 as its count and leaves the rest as it was, as C's buffer is.
            (Bind::Bytes { count, .. }, result) => process.vars[count as usize] = result.bound_value(),
            (
                Bind::Rights { count, fd, fds, flags, creds },
                CallResult::Received { len, fd: first, fds: got, flags: set, creds: pid, .. },
            ) => {
                process.vars[count as usize] = len as i64;
                process.vars[fd as usize] = first as i64;
                process.vars[fds as usize] = got as i64;
                process.vars[flags as usize] = set as i64;
                process.vars[creds as usize] = pid as i64;
            }
            // A failed `recvmsg` stores -1 as its count and leaves the rest as it was.
            (Bind::Rights { count, .. }, result) => process.vars[count as usize] = result.bound_value(),
            (Bind::Polled { count, revents, entries }, CallResult::Polled { ready, revents: got }) => {
                process.vars[count as usize] = ready as i64;
                for at in 0..entries as usize {
                    process.vars[revents[at] as usize] = got[at] as i64;
                }
            }
            // A failed `poll` stores -1 and leaves each `revents` as it was.
            (Bind::Polled { count, .. }, result) => process.vars[count as usize] = result.bound_value(),
            (Bind::Epolled { count, fds, events }, CallResult::Epolled { ready, fds: got_fds, events: got }) => {
                process.vars[count as usize] = ready as i64;
                for at in 0..fds.len() {
                    let reported = at < ready as usize;
                    process.vars[fds[at] as usize] = if reported { got_fds[at] as i64 } else { -1 };
                    process.vars[events[at] as usize] = if reported { got[at] as i64 } else { 0 };
                }
            }
            // A failed `epoll_wait` stores -1 and leaves the events as they were.
            (Bind::Epolled { count, .. }, result) => process.vars[count as usize] = result.bound_value(),
        }
        if call.id == CallId::Exit {
            return;
        }
        process.pc = op + 1;
        // Its user-space code runs now, unless a signal is to be taken first: on Linux a handler runs
        // before the program goes on after the call (`signals_on_return` settles it then).
        if !self.signals_seen || (self.deferred.is_empty() && process.sig.deliverable() == 0) {
            self.settle(pid);
        }
        if has_expectation {
            self.record_completion(pid, op, result);
        }
    }

    /// Counts `bytes` copied between a process's memory and an object of `mechanism`.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub(crate) fn count_copy(&mut self, mechanism: Copier, direction: CopyDirection, bytes: u64) {
        let way = match direction {
            CopyDirection::UserToKernel => {
                self.copied_to_kernel += bytes;
                0
            }
            CopyDirection::KernelToUser => {
                self.copied_to_user += bytes;
                1
            }
        };
        self.copies[mechanism.index()][way] += bytes;
        self.copy_runs += 1;
    }

    /// Bytes copied so far between processes' memory and the objects of `mechanism`, one way or both.
    pub fn copied(&self, mechanism: Copier, toward: Toward) -> u64 {
        let rows: &[[u64; 2]] =
            if mechanism == Copier::All { &self.copies } else { std::slice::from_ref(&self.copies[mechanism.index()]) };
        rows.iter()
            .map(|row| match toward {
                Toward::Kernel => row[0],
                Toward::User => row[1],
                Toward::Both => row[0] + row[1],
            })
            .sum()
    }

    /// Keeps what the expectation check after the step needs.
    #[cold]
    #[inline(never)]
    fn record_completion(&mut self, pid: Pid, op: u32, result: CallResult) {
        // A call whose process then dies of its own signal (SIGPIPE) never returns to it.
        let killed_by = self
            .deferred
            .iter()
            .find(|sent| sent.to == pid && signal::is_fatal_now(self, pid, sent.signal))
            .map(|sent| sent.signal);
        let data = match result {
            CallResult::Data { .. }
            | CallResult::Message { .. }
            | CallResult::Array { .. }
            | CallResult::Received { .. } => self.read_scratch.clone(),
            _ => Vec::new(),
        };
        self.completions.push(Completion { pid, op, result, data, killed_by });
    }

    /// A process name for a new child of a `fork` line: `child`, then `child#2`, ...
    pub(crate) fn child_name(&mut self, name: &Arc<str>) -> Arc<str> {
        let count = self.name_counts.entry(name.clone()).or_insert(0);
        *count += 1;
        if *count == 1 {
            name.clone()
        } else {
            Arc::from(format!("{name}#{count}"))
        }
    }

    /// Ends the run at the end of this step, with this limit (the first one reached wins); the call that
    /// reached it does not happen.
    #[cold]
    pub(crate) fn halt(&mut self, limit: &'static str, detail: String) -> Exec {
        self.limit.get_or_insert(LimitHit { limit, detail });
        Exec::Halt
    }

    /// Takes the expectation checks this step left.
    pub fn take_completions(&mut self) -> Vec<Completion> {
        std::mem::take(&mut self.completions)
    }

    /// An error for the process's own call.
    pub(crate) fn error(errno: Errno) -> Exec {
        Exec::Done(CallResult::Error { errno })
    }
}

/// The mechanism whose wait queue a sleeper with this reason is on.
pub(crate) fn mechanism_of(reason: &BlockReason) -> MechanismId {
    match reason {
        BlockReason::PipeEmpty { .. } | BlockReason::PipeFull { .. } => MechanismId::Pipe,
        BlockReason::FifoNoWriter { .. } | BlockReason::FifoNoReader { .. } => MechanismId::Fifo,
        BlockReason::Child { .. } | BlockReason::ChildInGroup { .. } => MechanismId::Process,
        BlockReason::Signal | BlockReason::SignalWait { .. } => MechanismId::Signal,
        BlockReason::Sleep { .. } => MechanismId::Time,
        BlockReason::MsgEmpty { .. } | BlockReason::MsgFull { .. } => MechanismId::Msg,
        BlockReason::SemOp { .. } => MechanismId::Sem,
        BlockReason::MqEmpty { .. } | BlockReason::MqFull { .. } => MechanismId::Mqueue,
        BlockReason::NamedSem { .. } => MechanismId::NamedSem,
        BlockReason::SocketEmpty { .. }
        | BlockReason::SocketFull { .. }
        | BlockReason::SocketAccept { .. }
        | BlockReason::SocketBacklog { .. }
        | BlockReason::SocketReceiverFull { .. } => MechanismId::Socket,
        BlockReason::Futex { .. } => MechanismId::Mm,
        BlockReason::Poll { .. } | BlockReason::Epoll { .. } => MechanismId::Poll,
    }
}

/// The values of a call's operands in a process with these variables.
#[cfg_attr(not(feature = "small"), inline(always))]
pub fn resolve_args(call: &CallOp, vars: &[i64], pid: Pid, args: &mut Args) -> Result<(), user::Fault> {
    // Most calls have two operands, both values (a descriptor and a count, a process and a signal):
    // made without a loop.
    let int = |index: usize, value: i64| {
        if call.int_operands & (1 << index) != 0 {
            value as i32 as i64
        } else if call.uint_operands & (1 << index) != 0 {
            value as u32 as i64
        } else {
            value
        }
    };
    if let [Operand::Value { value: first, .. }, second] = &*call.operands {
        let second = int(1, second.resolve(vars, pid)?);
        *args = Args::pair(int(0, user::evaluate(first, vars, pid)?), second);
        return Ok(());
    }
    for (index, operand) in call.operands.iter().enumerate() {
        args.push(int(index, operand.resolve(vars, pid)?));
    }
    Ok(())
}

/// Runs `text` round-robin, checking the invariants after every step, until it ends, and returns the
/// simulation to look at.
#[cfg(test)]
pub(crate) fn run_round_robin(text: &str) -> crate::Simulation {
    use crate::{Policy, RunConfig, Simulation};
    let scenario = crate::parse(text).unwrap_or_else(|errors| panic!("{:?}", errors[0]));
    let config = RunConfig { policy: Policy::RoundRobin, check_invariants: true, ..RunConfig::default() };
    let mut simulation = Simulation::new(&scenario, config).unwrap();
    simulation.run().unwrap();
    simulation
}

/// Runs `text` under the pids of `choices` (invariants checked after every step), checks that every
/// expectation held and every process exited, and returns the trace as text.
#[cfg(test)]
pub(crate) fn holds_under(text: &str, choices: &[u32]) -> String {
    use crate::{Policy, RunConfig, Simulation};
    let scenario = crate::parse(text).unwrap_or_else(|errors| panic!("{:?}", errors[0]));
    let config = RunConfig {
        policy: Policy::Choices { pids: choices.to_vec() },
        check_invariants: true,
        ..RunConfig::default()
    };
    let mut simulation = Simulation::new(&scenario, config).unwrap();
    simulation.run().unwrap();
    let report = simulation.report().unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.outcome, crate::RunOutcome::AllExited);
    crate::present::render::trace_text(simulation.program(), simulation.trace())
}
