//! Processes: creation (`fork`), identity (`getpid`, `getppid`, process groups), death (`exit`, fatal
//! signals), and the `wait` family with zombies, orphans and `init`.
//!
//! Linux's rules, from `kernel/fork.c`, `kernel/exit.c` (`do_exit`, `exit_notify`, `forget_original_parent`,
//! `do_wait`, `wait_consider_task`) and `kernel/sys.c` (`setpgid`, `getpgid`): a child gets copies of its
//! parent's descriptor table and variables; a dead process stays a zombie until its parent waits for it,
//! unless the parent ignores `SIGCHLD`; orphans go to `init`, which reaps them at once.

use super::fd::{FdEntry, OpenFile};
use super::{CallContext, Exec, Interruption, Kernel, LimitHit, Mechanism};
use crate::lang::ast::{Located, ProcessOutcome, Span};
use crate::lang::compile::Slot;
use crate::lang::syscalls::CallId;
use crate::linux::errno::{ECHILD, EINVAL, EPERM, ESRCH};
use crate::linux::{fcntl, signal::SIGCHLD, wait, ChildStatus, Signal};
use crate::trace::{Args, BlockReason, CallResult, Event, EventKind, ObjectRef, Pid, ReapCause, Trace, WakeCause};
use std::rc::Rc;
use std::sync::Arc;

/// `init`'s pid: it adopts orphans and reaps every zombie it is handed, at once.
pub const INIT_PID: Pid = 1;

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
pub enum ChildReport {
    Stopped(Signal),
    Continued,
}

/// What a mechanism keeps about a call in progress across its sleeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scratch {
    #[default]
    None,
    /// A pipe write: bytes of this call already in the pipe (a large write can block part-way).
    Written(u32),
    /// A FIFO open waiting for its partner: its open file (counted as a reader or writer already) and
    /// the partner's open counter it saw.
    FifoOpen { file: u32, seen: u32 },
    /// A call asleep on a System V object: the object's serial number, so that the woken call can tell
    /// whether the object was removed meanwhile (`EIDRM`).
    Ipc { serial: u64 },
    /// A sleep or a timed wait: the time it ends, kept across a restart.
    Until(u64),
}

/// A sleeper's call that another process finished for it (System V and POSIX queues and semaphores
/// serve their sleepers in place): what the call returns when its process runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handed {
    Result(CallResult),
    /// A message, copied out to the process when it runs: from `object`, with its type or priority.
    Message {
        object: ObjectRef,
        tag: i64,
        bytes: Arc<[u8]>,
        skipped: u32,
    },
}

/// A named semaphore mapped in a process (`sem_open`'s `sem_t *`), under the name it was opened by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemHandle {
    pub sem: u32,
    pub name: Arc<str>,
    /// `sem_open`s not yet matched by a `sem_close`.
    pub refs: u32,
}

/// The call a process is in the middle of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InCall {
    /// The call has slept at least once (Linux's `wake_next_reader`/`wake_next_writer` look at this).
    pub waited: bool,
    /// A signal interrupted it and it starts again (after a handler with `SA_RESTART`, or a stop),
    /// with the operands it was first made with, as Linux restarts a system call with its registers.
    pub restart: bool,
    /// The operands it started with (valid once it has slept).
    pub args: Args,
    pub scratch: Scratch,
    /// A stop (or a signal with no handler) interrupted it, and it is to start again: how its
    /// mechanism answers a handler, because a handler delivered before the call is made again decides
    /// instead (the call's `-ERESTARTSYS`, `-ERESTARTNOHAND` or `-ERESTART_RESTARTBLOCK` is still in
    /// the saved registers when `handle_signal` runs).
    pub undecided: Option<super::Interruption>,
    /// A timed call on an IPC object (`semtimedop`, `mq_timedsend`, `mq_timedreceive`,
    /// `sem_timedwait`) whose timer woke it, and which nobody served or woke since: it fails with its
    /// timeout's error when it runs.
    pub timed_out: bool,
}

impl InCall {
    pub fn reset(&mut self) {
        self.waited = false;
        self.restart = false;
        self.timed_out = false;
        self.scratch = Scratch::None;
        self.undecided = None;
    }
}

#[derive(Clone, Debug)]
pub struct Process {
    pub pid: Pid,
    pub ppid: Pid,
    /// Its process group (`kill(-pgid)`, `waitpid(-pgid)`). Top-level processes lead their own.
    pub pgid: Pid,
    pub name: Arc<str>,
    pub state: ProcState,
    /// User space: where its code starts and ends, where it is, and its variables.
    pub start_pc: u32,
    pub pc: u32,
    pub end_pc: u32,
    pub vars: Vec<i64>,
    /// The system calls it made: each that returned, and its exit (memory instructions are none, nor
    /// the C library calls that stayed in user space: see `Kernel::in_user_space`).
    pub syscalls: u32,
    pub fds: Vec<Option<FdEntry>>,
    pub call: InCall,
    /// Its signals: mask, pending set, actions, running handlers.
    pub sig: super::signal::SignalState,
    pub report: Option<ChildReport>,
    /// A `SIGCONT` continued it and its parent has not been told yet (Linux's `SIGNAL_CLD_CONTINUED`):
    /// the child itself sends the `SIGCHLD` (`CLD_CONTINUED`) and wakes a waiting parent when it next
    /// runs (`get_signal`), unless a fatal signal starts its exit first (`complete_signal` sets
    /// `SIGNAL_GROUP_EXIT` in place of the flag).
    pub continued_unreported: bool,
    pub status: Option<ChildStatus>,
    pub children: Vec<Pid>,
    pub expect: Option<Located<ProcessOutcome>>,
    pub span: Span,
    /// The result of a call another process finished for this one while it slept.
    pub handed: Option<Handed>,
    /// `SEM_UNDO` adjustments, one per semaphore set, the most recently used first.
    pub sem_undo: Vec<super::sem::SemUndo>,
    /// Named semaphores mapped, by handle - 1 (`None` once given up).
    pub sem_handles: Vec<Option<SemHandle>>,
    /// Where a sleeper in an IPC object's queue that a signal woke still waits: Linux's
    /// `signal_wake_up` takes no task off the queue it sleeps on, the task leaves it itself as it runs,
    /// so until then a partner may still finish its call (a `semop` done, a message handed over) or
    /// end its futex wait (a `sem_post`).
    pub still_queued: Option<BlockReason>,
    /// A partner took it off the queue it was still on after a signal woke it (see `still_queued`).
    pub partner_woke: bool,
    /// Its `RLIMIT_CORE`, soft and hard (`RLIM_INFINITY` for none): whether a core-dumping signal
    /// writes a core (see [`crate::linux::resource::MIN_COREDUMP`]). Inherited across `fork`.
    pub core_limit: (u64, u64),
    /// Its mappings and page tables.
    pub mm: super::mm::AddressSpace,
}

impl Process {
    /// The reason of the queue the process is on: the one it sleeps on, or the one a signal woke it
    /// from before it ran (see `still_queued`).
    pub fn sleeps_on(&self) -> Option<&BlockReason> {
        match &self.state {
            ProcState::Blocked(reason) => Some(reason),
            _ => self.still_queued.as_ref(),
        }
    }

    /// A runnable process with no code, variables, descriptors or children yet.
    fn blank(pid: Pid, ppid: Pid, pgid: Pid, name: Arc<str>) -> Process {
        Process {
            pid,
            ppid,
            pgid,
            name,
            state: ProcState::Runnable,
            start_pc: 0,
            pc: 0,
            end_pc: 0,
            vars: Vec::new(),
            syscalls: 0,
            fds: Vec::new(),
            call: InCall::default(),
            sig: super::signal::SignalState::default(),
            report: None,
            continued_unreported: false,
            status: None,
            children: Vec::new(),
            expect: None,
            span: Span::default(),
            handed: None,
            still_queued: None,
            partner_woke: false,
            sem_undo: Vec::new(),
            sem_handles: Vec::new(),
            core_limit: crate::linux::resource::DEFAULT_CORE_LIMIT,
            mm: super::mm::AddressSpace::default(),
        }
    }

    pub(crate) fn init() -> Process {
        Process {
            state: ProcState::Blocked(BlockReason::Child { target: None }),
            ..Process::blank(INIT_PID, 0, INIT_PID, Arc::from("init"))
        }
    }

    /// Alive: neither a zombie nor reaped.
    pub fn is_alive(&self) -> bool {
        matches!(self.state, ProcState::Runnable | ProcState::Blocked(_) | ProcState::Stopped)
    }
}

/// `setrlimit(RLIMIT_CORE, {soft, hard})` as `do_prlimit` (kernel/sys.c) decides it: a soft limit
/// above the hard one is `EINVAL`; raising the hard limit needs `CAP_SYS_RESOURCE`, which scenario
/// processes do not have (`ipclab check` runs them as an unprivileged user), so it is `EPERM`.
/// Lowering the hard limit is allowed, and cannot be taken back.
fn setrlimit_core(kernel: &mut Kernel, pid: Pid, soft: u64, hard: u64) -> Exec {
    if soft > hard {
        return Kernel::error(EINVAL);
    }
    if hard > kernel.process(pid).core_limit.1 {
        return Kernel::error(EPERM);
    }
    kernel.proc_mut(pid).core_limit = (soft, hard);
    Exec::Done(CallResult::Value { value: 0 })
}

/// Whether a process dying of a core-dumping signal writes a core under its `RLIMIT_CORE`.
pub(crate) fn dumps_core(process: &Process) -> bool {
    process.core_limit.0 >= crate::linux::resource::MIN_COREDUMP
}

/// The process name without the `#2` that tells apart several children forked from one `fork` line.
pub fn base_name(name: &str) -> &str {
    name.split('#').next().unwrap_or(name)
}

/// Creates every top-level process, each a child of `init` leading its own process group, with
/// descriptors 0, 1 and 2 open on `/dev/null`.
pub(crate) fn spawn_all(kernel: &mut Kernel, trace: &mut Trace) {
    let program = kernel.program.clone();
    let first_pid = 2;
    for (index, top) in program.processes.iter().enumerate() {
        let pid = first_pid + index as Pid;
        // A variable holds -1 until set (so a descriptor variable not yet bound fails with EBADF);
        // `errno` starts at 0, as in C.
        let mut vars = vec![-1; program.slots.len()];
        vars[crate::lang::compile::ERRNO_SLOT as usize] = 0;
        for (other_index, other) in program.processes.iter().enumerate() {
            vars[other.slot as usize] = (first_pid + other_index as Pid) as i64;
        }
        let dev_null = kernel.new_file(OpenFile::dev_null(fcntl::O_RDWR | fcntl::O_LARGEFILE, 3));
        let entry = Some(FdEntry { file: dev_null, cloexec: false });
        kernel.child_name(&top.name);
        kernel.procs.push(Rc::new(Process {
            start_pc: top.start,
            pc: top.start,
            end_pc: top.end,
            vars,
            fds: vec![entry, entry, entry],
            expect: top.expect.clone(),
            span: top.span,
            ..Process::blank(pid, INIT_PID, pid, top.name.clone())
        }));
        kernel.proc_mut(INIT_PID).children.push(pid);
        kernel.alive.push(pid);
        kernel.add_runnable(pid);
        trace.record(Event { step: 0, kind: EventKind::Spawn { pid, index: index as u32 } });
        kernel.settle(pid);
    }
}

/// `fork`: a child with a copy of the parent's variables and descriptor table, sharing its open files.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fork(
    kernel: &mut Kernel,
    parent: Pid,
    slot: Slot,
    name: &Arc<str>,
    op: u32,
    body_end: u32,
    expect: Option<Located<ProcessOutcome>>,
    trace: &mut Trace,
) -> Result<(), LimitHit> {
    if kernel.alive.len() as u32 + 1 >= kernel.limits.max_processes {
        return Err(LimitHit {
            limit: "max_processes",
            detail: format!(
                "fork would make {} processes alive at once (init included); the limit is {}",
                kernel.alive.len() + 2,
                kernel.limits.max_processes
            ),
        });
    }
    let child = kernel.procs.len() as Pid + 1;
    let child_name = kernel.child_name(name);
    let parent_process = kernel.process(parent);
    let mut vars = parent_process.vars.clone();
    // fork() returns 0 in the child.
    vars[slot as usize] = 0;
    let fds = parent_process.fds.clone();
    // Mappings are inherited (named semaphores); SEM_UNDO adjustments are not (`copy_semundo`).
    let sem_handles = parent_process.sem_handles.clone();
    let (sig, pgid) = (parent_process.sig.inherited(), parent_process.pgid);
    // Resource limits are the parent's (`copy_signal` copies `rlim`).
    let core_limit = parent_process.core_limit;
    for entry in fds.iter().flatten() {
        kernel.file_mut(entry.file).refs += 1;
    }
    let span = kernel.program.ops[op as usize].span;
    kernel.procs.push(Rc::new(Process {
        start_pc: op + 1,
        pc: op + 1,
        end_pc: body_end,
        vars,
        fds,
        sig,
        expect,
        span,
        sem_handles,
        core_limit,
        ..Process::blank(child, parent, pgid, child_name)
    }));
    if crate::IPC {
        super::named_sem::fork(kernel, child);
        super::mm::fork(kernel, parent, child, trace);
    }
    kernel.alive.push(child);
    kernel.add_runnable(child);
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::process(child));
        kernel.footprint.write(super::state::PROCESS_TABLE);
    }
    trace.record(Event { step: kernel.step as u32, kind: EventKind::Fork { parent, child, op } });
    trace.record(Event {
        step: kernel.step as u32,
        kind: EventKind::Call { pid: parent, op, args: Args::default(), result: CallResult::Fork { child } },
    });
    kernel.calls_completed += 1;
    let parent_process = kernel.proc_mut(parent);
    parent_process.syscalls += 1;
    parent_process.children.push(child);
    parent_process.vars[slot as usize] = child as i64;
    parent_process.pc = body_end;
    kernel.settle(parent);
    // The child's code up to its first call runs now, so that it rests on that call. Code that faults
    // on the way is left for the child's own first step: Linux's `fork` returns before the child runs
    // (`wake_up_new_task` only queues it), so the fault, the child's death and the `SIGCHLD` it sends
    // come at the earliest when the child is scheduled. The child rests on the faulting operation.
    let faults = kernel.faults.len();
    kernel.settle(child);
    kernel.faults.truncate(faults);
    Ok(())
}

/// Ends a process: its descriptors close, its children go to `init`, and its parent hears of it.
/// What an exit touches beyond what the calls it makes record: the table of processes (the pid leaves
/// it once reaped), the parent (told, or reaping), init (given the orphans, reaping) and each child.
/// Its shared anonymous memory goes unnoticed while another process still maps every page of it: only
/// the frames' counts of references change, which no other step reads but to free a frame with its
/// last reference (`release_pages` in `exit_mmap`), and whichever of two steps comes first, the last
/// reference goes with the later, to the same end. An exit that also leaves a wait queue, a FIFO
/// being opened, any other memory mapping (its frames freed, a copy-on-write page's sharing changed,
/// a segment's attach count), semaphore adjustments or named semaphores is not described further: it
/// conflicts with every step.
fn exit_footprint(kernel: &mut Kernel, pid: Pid) {
    let process = kernel.process(pid);
    let pending_open = std::iter::once(&process.call)
        .chain(process.sig.frames.iter().map(|frame| &frame.saved_call))
        .any(|call| matches!(call.scratch, super::Scratch::FifoOpen { .. }));
    let shared_on = |mapping: &super::mm::Mapping| {
        mapping.backing == super::mm::Backing::Anonymous { shared: true }
            && mapping.ptes.iter().all(|pte| pte.frame == super::mm::NO_FRAME || kernel.frames.get(pte.frame).refs > 1)
    };
    if process.state != ProcState::Runnable
        || process.still_queued.is_some()
        || pending_open
        || !process.mm.mappings.iter().all(shared_on)
        || !process.sem_undo.is_empty()
        || process.sem_handles.iter().any(Option::is_some)
    {
        kernel.footprint.everything();
        return;
    }
    let touched: Vec<Pid> = [process.ppid, INIT_PID].into_iter().chain(process.children.iter().copied()).collect();
    kernel.footprint.write(super::state::PROCESS_TABLE);
    for other in touched {
        kernel.footprint.write(ObjectRef::process(other));
    }
}

pub(crate) fn exit_process(kernel: &mut Kernel, pid: Pid, status: ChildStatus, trace: &mut Trace) {
    if kernel.footprint.enabled {
        exit_footprint(kernel, pid);
    }
    kernel.leave_wait_queue(pid);
    kernel.cancel_timer(pid, super::time::TimerKind::Alarm);
    super::fifo::cancel_pending_open(kernel, pid, trace);
    kernel.proc_mut(pid).handed = None;
    // `do_exit`: `exit_sem`, then memory (the mappings, named semaphores' too; `exit_shm` keeps the
    // segments, as `kernel.shm_rmid_forced` is 0), then the descriptors.
    if crate::IPC {
        super::named_sem::process_exit(kernel, pid);
        super::mm::process_exit(kernel, pid, trace);
        super::sem::exit_undo(kernel, pid, trace);
    }
    let fds = std::mem::take(&mut kernel.proc_mut(pid).fds);
    for entry in fds.into_iter().flatten() {
        kernel.release_file(entry.file, pid, trace);
    }
    kernel.set_state(pid, ProcState::Zombie);
    let process = kernel.proc_mut(pid);
    process.status = Some(status);
    process.report = None;
    process.sig.queue.clear();
    process.sig.pending = 0;
    process.sig.frames.clear();
    process.sig.suspended_mask = None;
    process.call.reset();
    trace.record(Event { step: kernel.step as u32, kind: EventKind::Exit { pid, status } });
    // Orphans go to init, which reaps the dead ones at once.
    // `forget_original_parent`, child by child (oldest first), then the exiting process's own group.
    let children = std::mem::take(&mut kernel.proc_mut(pid).children);
    for child in children {
        kernel.proc_mut(child).ppid = INIT_PID;
        kernel.proc_mut(INIT_PID).children.push(child);
        trace
            .record(Event { step: kernel.step as u32, kind: EventKind::Reparent { pid: child, new_parent: INIT_PID } });
        if kernel.process(child).state == ProcState::Zombie {
            reap(kernel, child, INIT_PID, ReapCause::Init, trace);
        }
        super::signal::hang_up_orphaned_group(kernel, pid, child, pid, trace);
    }
    let parent = kernel.process(pid).ppid;
    super::signal::hang_up_orphaned_group(kernel, pid, pid, parent, trace);
    if parent == INIT_PID {
        reap(kernel, pid, INIT_PID, ReapCause::Init, trace);
        return;
    }
    notify_parent(kernel, pid, trace);
    if kernel.process(parent).sig.ignored & SIGCHLD.mask_bit() != 0 {
        // SIGCHLD set to SIG_IGN: the kernel reaps the child itself; no zombie is left.
        reap(kernel, pid, parent, ReapCause::Ignored, trace);
    }
}

/// A child changed state: `SIGCHLD` to the parent, and a wake-up if it sleeps in a wait that wants it.
pub(crate) fn notify_parent(kernel: &mut Kernel, child: Pid, trace: &mut Trace) {
    let parent = kernel.process(child).ppid;
    if parent == INIT_PID {
        return;
    }
    // `do_notify_parent` and `do_notify_parent_cldstop`: SIGCHLD, unless the parent asked for no stop
    // reports (`SA_NOCLDSTOP`) or, for a death, ignores SIGCHLD (then the child is reaped at once).
    let ignored = kernel.process(parent).sig.ignored & SIGCHLD.mask_bit() != 0;
    let exiting = kernel.process(child).state == ProcState::Zombie;
    let sends = if exiting { !ignored } else { super::signal::parent_wants_stop_reports(kernel, parent) };
    if sends {
        use crate::linux::signal::{CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, SIGCONT};
        // How the child changed, as `do_notify_parent` and `do_notify_parent_cldstop` say it.
        let (code, status) = if exiting {
            match kernel.process(child).status {
                Some(ChildStatus::Killed { signal, core: true }) => (CLD_DUMPED, signal.0 as i64),
                Some(ChildStatus::Killed { signal, .. }) => (CLD_KILLED, signal.0 as i64),
                Some(ChildStatus::Exited(code)) => (CLD_EXITED, code as i64),
                Some(ChildStatus::Stopped(_) | ChildStatus::Continued) | None => (CLD_EXITED, 0),
            }
        } else {
            match kernel.process(child).report {
                Some(ChildReport::Stopped(signal)) => (CLD_STOPPED, signal.0 as i64),
                Some(ChildReport::Continued) | None => (CLD_CONTINUED, SIGCONT.0 as i64),
            }
        };
        super::signal::generate(kernel, super::signal::Sent::child_changed(child, parent, code, status), trace);
    }
    let wanted = match &kernel.process(parent).state {
        ProcState::Blocked(BlockReason::Child { target }) => target.is_none_or(|target| target == child),
        ProcState::Blocked(BlockReason::ChildInGroup { pgid }) => kernel.process(child).pgid == *pgid,
        _ => false,
    };
    if wanted {
        kernel.wake(parent, child, WakeCause::Child { child }, trace);
    }
}

/// Removes a zombie for good. `by` is whoever collected it (its parent, or `init`).
pub(crate) fn reap(kernel: &mut Kernel, child: Pid, by: Pid, cause: ReapCause, trace: &mut Trace) {
    let parent = kernel.process(child).ppid;
    kernel.set_state(child, ProcState::Reaped);
    kernel.alive.retain(|pid| *pid != child);
    kernel.proc_mut(parent).children.retain(|pid| *pid != child);
    trace.record(Event { step: kernel.step as u32, kind: EventKind::Reap { pid: child, by, cause } });
}

/// Which children a wait looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WaitFor {
    Any,
    Pid(Pid),
    Group(Pid),
}

/// What a wait reports, and whether it reaps.
#[derive(Clone, Copy)]
struct WaitWants {
    exited: bool,
    stopped: bool,
    continued: bool,
    nohang: bool,
    nowait: bool,
    /// `waitid`: the result is stored in a `siginfo_t` and the call returns 0.
    info: bool,
}

/// `wait`, `waitpid` and `waitid` (`do_wait` with `wait_consider_task`): the first child that matches
/// and has something to report, in the order the children were made.
fn wait_for(kernel: &mut Kernel, pid: Pid, target: WaitFor, wants: WaitWants, trace: &mut Trace) -> Exec {
    let children: Vec<Pid> = kernel
        .process(pid)
        .children
        .iter()
        .copied()
        .filter(|child| match target {
            WaitFor::Any => true,
            WaitFor::Pid(wanted) => wanted == *child,
            WaitFor::Group(pgid) => kernel.process(*child).pgid == pgid,
        })
        .collect();
    if kernel.footprint.enabled {
        for child in &children {
            kernel.footprint.read(ObjectRef::process(*child));
        }
    }
    if children.is_empty() {
        return Kernel::error(ECHILD);
    }
    let result = |child: Pid, status: ChildStatus| {
        if wants.info {
            Exec::Done(CallResult::WaitedInfo { child, status })
        } else {
            Exec::Done(CallResult::Waited { child, status })
        }
    };
    for child in children {
        let process = kernel.process(child);
        if process.state == ProcState::Zombie && wants.exited {
            let status = process.status.expect("a zombie has a status");
            if !wants.nowait {
                reap(kernel, child, pid, ReapCause::Wait, trace);
            }
            return result(child, status);
        }
        match process.report {
            Some(ChildReport::Stopped(signal)) if wants.stopped => {
                if !wants.nowait {
                    kernel.proc_mut(child).report = None;
                }
                return result(child, ChildStatus::Stopped(signal));
            }
            Some(ChildReport::Continued) if wants.continued => {
                if !wants.nowait {
                    kernel.proc_mut(child).report = None;
                }
                return result(child, ChildStatus::Continued);
            }
            _ => {}
        }
    }
    if wants.nohang {
        return Exec::Done(CallResult::Value { value: 0 });
    }
    Exec::Block(match target {
        WaitFor::Any => BlockReason::Child { target: None },
        WaitFor::Pid(child) => BlockReason::Child { target: Some(child) },
        WaitFor::Group(pgid) => BlockReason::ChildInGroup { pgid },
    })
}

/// `setpgid(pid, pgid)` as `kernel/sys.c` checks it: the target is the caller or one of its children
/// (else `ESRCH`), not a session leader (none is, here), and the group must exist in the caller's session
/// unless it is the target's own new group (else `EPERM`). Children never `exec` here, so `EACCES` cannot
/// happen.
fn setpgid(kernel: &mut Kernel, caller: Pid, pid: i64, pgid: i64) -> Exec {
    if pgid < 0 {
        return Kernel::error(EINVAL);
    }
    let target = if pid == 0 { caller as i64 } else { pid };
    let is_child = kernel.exists(target) && kernel.process(target as Pid).ppid == caller;
    if target != caller as i64 && !is_child {
        return Kernel::error(ESRCH);
    }
    let target = target as Pid;
    let pgid = if pgid == 0 { target } else { pgid as Pid };
    if pgid != target && !kernel.alive.iter().any(|pid| kernel.process(*pid).pgid == pgid) {
        return Kernel::error(EPERM);
    }
    kernel.proc_mut(target).pgid = pgid;
    Exec::Done(CallResult::Value { value: 0 })
}

/// The process mechanism: `fork` (a step of its own), `exit`, the waits, and process identity.
pub struct Processes;

impl Mechanism for Processes {
    fn call(kernel: &mut Kernel, call: &CallContext, trace: &mut Trace) -> Exec {
        let pid = call.pid;
        match call.id() {
            CallId::Exit => Exec::Done(CallResult::Value { value: call.arg(0) & 0xff }),
            CallId::Wait => {
                let wants = WaitWants {
                    exited: true,
                    stopped: false,
                    continued: false,
                    nohang: false,
                    nowait: false,
                    info: false,
                };
                wait_for(kernel, pid, WaitFor::Any, wants, trace)
            }
            CallId::Waitpid => {
                // An `int`: its 32 bits, `__WCLONE` (bit 31) included.
                let options = call.arg(1) as u32 as i64;
                if options & !(wait::WNOHANG | wait::WUNTRACED | wait::WCONTINUED | wait::THREAD_OPTIONS) != 0 {
                    return Kernel::error(EINVAL);
                }
                let target = match call.arg(0) {
                    // `kernel_wait4`: -INT_MIN is no group.
                    upid if upid == i32::MIN as i64 => return Kernel::error(ESRCH),
                    -1 => WaitFor::Any,
                    0 => WaitFor::Group(kernel.process(pid).pgid),
                    group if group < 0 => WaitFor::Group(group.unsigned_abs() as Pid),
                    child => WaitFor::Pid(u32::try_from(child).unwrap_or(u32::MAX)),
                };
                // `do_wait` finds no eligible child: `ECHILD`, even with `WNOHANG`.
                if wait::clone_children_only(options) {
                    return Kernel::error(ECHILD);
                }
                let wants = WaitWants {
                    exited: true,
                    stopped: options & wait::WUNTRACED != 0,
                    continued: options & wait::WCONTINUED != 0,
                    nohang: options & wait::WNOHANG != 0,
                    nowait: false,
                    info: false,
                };
                wait_for(kernel, pid, target, wants, trace)
            }
            CallId::Waitid => {
                let (idtype, id, options) = (call.arg(0), call.arg(1), call.arg(2) as u32 as i64);
                let known = wait::WNOHANG
                    | wait::WUNTRACED
                    | wait::WEXITED
                    | wait::WCONTINUED
                    | wait::WNOWAIT
                    | wait::THREAD_OPTIONS;
                let wanted = wait::WEXITED | wait::WUNTRACED | wait::WCONTINUED;
                if options & !known != 0 || options & wanted == 0 {
                    return Kernel::error(EINVAL);
                }
                let target = match idtype {
                    wait::P_ALL => WaitFor::Any,
                    wait::P_PID if id > 0 => WaitFor::Pid(u32::try_from(id).unwrap_or(u32::MAX)),
                    wait::P_PGID if id == 0 => WaitFor::Group(kernel.process(pid).pgid),
                    wait::P_PGID if id > 0 => WaitFor::Group(u32::try_from(id).unwrap_or(u32::MAX)),
                    _ => return Kernel::error(EINVAL),
                };
                if wait::clone_children_only(options) {
                    return Kernel::error(ECHILD);
                }
                let wants = WaitWants {
                    exited: options & wait::WEXITED != 0,
                    stopped: options & wait::WUNTRACED != 0,
                    continued: options & wait::WCONTINUED != 0,
                    nohang: options & wait::WNOHANG != 0,
                    nowait: options & wait::WNOWAIT != 0,
                    info: true,
                };
                wait_for(kernel, pid, target, wants, trace)
            }
            CallId::Getpid => Exec::Done(CallResult::Value { value: pid as i64 }),
            CallId::Getppid => Exec::Done(CallResult::Value { value: kernel.process(pid).ppid as i64 }),
            CallId::Getpgid => match call.arg(0) {
                0 => Exec::Done(CallResult::Value { value: kernel.process(pid).pgid as i64 }),
                // `do_getpgid` finds init like any other process: it leads group 1.
                1 => Exec::Done(CallResult::Value { value: INIT_PID as i64 }),
                target if kernel.exists(target) => {
                    if kernel.footprint.enabled {
                        kernel.footprint.read(ObjectRef::process(target as Pid));
                    }
                    Exec::Done(CallResult::Value { value: kernel.process(target as Pid).pgid as i64 })
                }
                _ => Kernel::error(ESRCH),
            },
            CallId::Setpgid => setpgid(kernel, pid, call.arg(0), call.arg(1)),
            CallId::Setrlimit => setrlimit_core(kernel, pid, call.arg(1) as u64, call.arg(2) as u64),
            // The only resource a scenario can name is `RLIMIT_CORE` (the parser checks it).
            CallId::Getrlimit => Exec::Done(CallResult::Out { value: kernel.process(pid).core_limit.0 as i64 }),
            other => unreachable!("{} is not a process call", other.name()),
        }
    }

    fn leave_queue(_kernel: &mut Kernel, _pid: Pid, _reason: &BlockReason) {
        // A waiting parent is on no queue: `notify_parent` looks at its state.
    }

    fn interruption(_reason: &BlockReason) -> Interruption {
        Interruption::Restart
    }
}
