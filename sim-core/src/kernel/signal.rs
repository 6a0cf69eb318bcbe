//! Signals: generation (`kill`, `raise`, `killpg`, `sigqueue`, and the kernel's own `SIGCHLD`,
//! `SIGPIPE`, `SIGHUP`), the pending set and the blocked mask, delivery, handlers, and what a signal does
//! to a call it interrupts.
//!
//! The model follows `kernel/signal.c`:
//! - **Generation** (`send_signal_locked`, `prepare_signal`, `complete_signal`): `SIGCONT` continues a
//!   stopped target at once and discards its pending stops; a stop signal discards a pending `SIGCONT`;
//!   a signal whose action is to be ignored (and that is not blocked) is dropped (`sig_ignored`); a
//!   standard signal already pending is dropped (`legacy_queue`), while a real-time one queues with its
//!   value. A pending signal the target does not block wakes it from an interruptible sleep
//!   (`signal_wake_up`), and `SIGKILL` wakes it even from a stop.
//! - **Delivery** happens in the target's own context, when it next returns to user mode
//!   (`get_signal`): at the start of its next step, or at the end of a step whose call raised or
//!   unblocked one. Synchronous signals first, then the lowest number (`next_signal`). A stopped
//!   process takes nothing but `SIGKILL` until it is continued (`wants_signal`).
//! - **Interrupted calls**: a woken call is tried again first (Linux's wait loops re-check their
//!   condition before `signal_pending`); only if it would sleep again does the signal interrupt it, and
//!   then its mechanism says how ([`Interruption`]): restart (`-ERESTARTSYS`: with `SA_RESTART` or when no
//!   handler runs), return what it has done so far, never restart (`-ERESTARTNOHAND`: `pause`,
//!   `sigsuspend`), or fail with `EINTR` whatever happens (`sigwaitinfo`, `semop`); see signal(7).
//!   Some woken calls look for a signal before they try again (`msgsnd`, `msgrcv`, `semop`, a futex
//!   wait a signal ended: [`super::Mechanism::woken_call`]): those are interrupted without a new
//!   try, unless a partner finished them first; a sleeper an IPC object holds stays on its queue
//!   until it runs, for that partner (`Process::still_queued`).
//! - **Handlers** run as steps of the process on top of what it was doing: delivery saves where it was
//!   and its mask in a frame (`setup_rt_frame`), blocks the handler's mask and the signal itself
//!   (unless `SA_NODEFER`), resets the action first with `SA_RESETHAND`, and sets `signo` (and, with
//!   `SA_SIGINFO`, `si_pid`, `si_value`, `si_code`). At the end of the handler block the process makes
//!   the implicit `rt_sigreturn()`, which restores both.
//!
//! Scenario processes all run as one ordinary user and `init` as root, so a `kill` may reach any
//! scenario process but never `init` (`EPERM`), and `kill(-1)` reaches every scenario process but the
//! caller (`kill_something_info`).
//!
//! Sessions are implicit: `init` has a session of its own and every scenario process shares another,
//! as under `ipclab check` (where `init` calls `setsid` after starting them). So every top-level
//! process group is *orphaned* (no member has a parent in another group of the same session) and the
//! job-control stops `SIGTSTP`, `SIGTTIN` and `SIGTTOU` do nothing to it (`get_signal`,
//! `is_current_pgrp_orphaned`), while a group a scenario makes with `setpgid` is not orphaned until
//! its last link outside dies; if it then has a stopped member, the kernel sends it `SIGHUP` and
//! `SIGCONT` (`kill_orphaned_pgrp` in `kernel/exit.c`).

use super::{CallContext, Exec, Interruption, Kernel, Mechanism, ProcState, INIT_PID};
use crate::lang::compile::FIRST_HANDLER;
use crate::lang::syscalls::CallId;
use crate::linux::errno::{EINVAL, EPERM, ESRCH};
use crate::linux::signal::{
    BLOCKABLE, SA_FLAGS, SA_NOCLDSTOP, SA_NODEFER, SA_RESETHAND, SA_RESTART, SA_SIGINFO, SIGCHLD, SIGCONT, SIGHUP,
    SIGKILL, SIGSTOP, SIG_BLOCK, SIG_DFL, SIG_ERR, SIG_IGN, SIG_SETMASK, SIG_UNBLOCK, SI_KERNEL, SI_QUEUE, SI_TKILL,
    SI_USER, STOP_SIGNALS,
};
use crate::linux::signal::{SIGALRM, SIGPIPE};
use crate::linux::{ChildStatus, DefaultAction, Signal};
use crate::trace::SignalOrigin;
use crate::trace::{
    BlockReason, CallResult, Delivery, Event, EventKind, ObjectRef, Pid, SignalEffect, Trace, WakeCause,
};

/// What a signal does when it is delivered, as `sigaction` set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `SIG_DFL`: the signal's default action.
    Default,
    /// `SIG_IGN`.
    Ignore,
    /// A `handler` block of the scenario (its index), with `sa_flags` and `sa_mask`.
    Handler { handler: u32, flags: i64, mask: u64 },
    /// Any other address: `do_sigaction` checks the signal, never the handler, so a program may name
    /// an address where it has no code. Delivering the signal sends the process there, to fault.
    Stray { address: i64, flags: i64, mask: u64 },
}

impl Action {
    /// The action as a value, as `signal` returns it: `SIG_DFL`, `SIG_IGN`, the handler's number, or
    /// the stray address.
    pub fn value(self) -> i64 {
        match self {
            Action::Default => SIG_DFL,
            Action::Ignore => SIG_IGN,
            Action::Handler { handler, .. } => FIRST_HANDLER + handler as i64,
            Action::Stray { address, .. } => address,
        }
    }

    /// Whether delivering the signal goes to user code (a handler, or an address taken for one): the
    /// signal is caught, with the action's `sa_flags`.
    pub fn caught(self) -> Option<i64> {
        match self {
            Action::Handler { flags, .. } | Action::Stray { flags, .. } => Some(flags),
            Action::Default | Action::Ignore => None,
        }
    }
}

/// One instance of a pending signal: who sent it, with what value and how (`si_code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Queued {
    pub signal: Signal,
    pub from: Pid,
    pub value: i64,
    pub code: i64,
}

/// A handler running on top of what the process was doing: what `rt_sigreturn` puts back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    pub signal: Signal,
    pub handler: u32,
    /// Where the process was (a call to restart, or the operation after the one that returned) and the
    /// end of the code it was running.
    pub return_pc: u32,
    pub return_end: u32,
    /// The mask to restore: the one before delivery (or before `sigsuspend` changed it).
    pub saved_blocked: u64,
    /// `signo`, `si_pid`, `si_value` and `si_code` before this handler set them.
    pub saved_info: [i64; 4],
    /// The call the handler interrupted, kept for when it returns: to be made again with the operands
    /// it started with (`handle_signal` rewinds it in the saved registers), or none. The handler's own
    /// calls start afresh.
    pub saved_call: super::process::InCall,
}

/// A process's signals: what it blocks, what is pending, what each signal does, and the handlers it is
/// running. Inherited across `fork` but for what is pending and the frames (`copy_process` clears the
/// pending set; the child runs its own block).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignalState {
    /// Signals held back from delivery (never `SIGKILL` or `SIGSTOP`).
    pub blocked: u64,
    /// Signals with at least one instance in `queue`.
    pub pending: u64,
    /// Pending instances in the order they came: one at most for a standard signal, any number for a
    /// real-time one.
    pub queue: Vec<Queued>,
    /// Signals set to `SIG_IGN`.
    pub ignored: u64,
    /// Signals with a handler, and the handlers (kept sorted by signal).
    pub handled: u64,
    pub handlers: Vec<(Signal, Action)>,
    /// The handlers running, innermost last.
    pub frames: Vec<Frame>,
    /// `sigsuspend`'s caller's own mask, put back once the signal that ends the wait is delivered.
    pub suspended_mask: Option<u64>,
    /// The signal that woke the process from a sleep, until it next runs. Linux's `signal_wake_up`
    /// sets `TIF_SIGPENDING`, which stays set until the process returns to user mode even if the
    /// signal is gone by then (a `SIGCONT` discarded the stop that woke it): the woken call still sees
    /// a signal pending.
    pub woken_by: Option<Signal>,
    /// The process's group exit has begun: a signal that will kill it without a core dump was sent
    /// when it wanted one (`complete_signal`), and Linux drops whatever is sent after
    /// (`prepare_signal`). A fork child starts without it.
    pub group_exit: bool,
}

impl SignalState {
    pub fn action(&self, signal: Signal) -> Action {
        let bit = signal.mask_bit();
        if self.ignored & bit != 0 {
            return Action::Ignore;
        }
        if self.handled & bit != 0 {
            if let Some((_, action)) = self.handlers.iter().find(|(handled, _)| *handled == signal) {
                return *action;
            }
        }
        Action::Default
    }

    fn set_action(&mut self, signal: Signal, action: Action) {
        let bit = signal.mask_bit();
        self.ignored &= !bit;
        self.handled &= !bit;
        self.handlers.retain(|(handled, _)| *handled != signal);
        match action {
            Action::Default => {}
            Action::Ignore => self.ignored |= bit,
            Action::Handler { .. } | Action::Stray { .. } => {
                self.handled |= bit;
                let at = self.handlers.partition_point(|(handled, _)| *handled < signal);
                self.handlers.insert(at, (signal, action));
            }
        }
    }

    /// Pending signals that may be delivered now.
    #[cfg_attr(not(feature = "small"), inline(always))]
    pub fn deliverable(&self) -> u64 {
        self.pending & !(self.blocked & BLOCKABLE)
    }

    /// Takes one instance of `signal` out of the queue (the oldest).
    fn dequeue(&mut self, signal: Signal) -> Option<Queued> {
        let index = self.queue.iter().position(|queued| queued.signal == signal)?;
        let queued = self.queue.remove(index);
        if !self.queue.iter().any(|queued| queued.signal == signal) {
            self.pending &= !signal.mask_bit();
        }
        Some(queued)
    }

    /// Drops every pending instance of the signals in `mask`.
    fn discard(&mut self, mask: u64) {
        self.queue.retain(|queued| queued.signal.mask_bit() & mask == 0);
        self.pending &= !mask;
    }

    /// What a fork child starts with.
    pub(crate) fn inherited(&self) -> SignalState {
        SignalState {
            blocked: self.blocked,
            ignored: self.ignored,
            handled: self.handled,
            handlers: self.handlers.clone(),
            ..SignalState::default()
        }
    }
}

/// The signals a CPU fault raises: delivered before any other (`SYNCHRONOUS_MASK`).
const SYNCHRONOUS: u64 = (1 << 3) | (1 << 4) | (1 << 6) | (1 << 7) | (1 << 10) | (1 << 30);

/// The signal `next_signal` picks from a set: a synchronous one first, then the lowest number.
fn next_signal(set: u64) -> Option<Signal> {
    let first = if set & SYNCHRONOUS != 0 { set & SYNCHRONOUS } else { set };
    (first != 0).then(|| Signal(first.trailing_zeros() as u8 + 1))
}

fn ignored_by_default(signal: Signal) -> bool {
    matches!(signal.default_action(), DefaultAction::Ignore | DefaultAction::Continue)
}

/// Whether `signal` would kill `pid` as soon as it is delivered (not blocked, not ignored, not handled,
/// fatal by default).
pub(crate) fn is_fatal_now(kernel: &Kernel, pid: Pid, signal: Signal) -> bool {
    let signals = &kernel.process(pid).sig;
    if signal == SIGKILL {
        return true;
    }
    signals.blocked & signal.mask_bit() == 0
        && signals.action(signal) == Action::Default
        && matches!(signal.default_action(), DefaultAction::Terminate | DefaultAction::Core)
}

/// A signal on its way: sent by `from` (the kernel's own are sent "by" the process that caused them,
/// and `origin` says why).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    pub from: Pid,
    pub to: Pid,
    pub signal: Signal,
    pub value: i64,
    pub code: i64,
    pub origin: SignalOrigin,
}

impl Sent {
    /// A signal a process's call sends (`kill`, `killpg`, `raise`, `sigqueue`): its `si_code` and value.
    pub fn by_call(from: Pid, to: Pid, signal: Signal, value: i64, code: i64) -> Sent {
        Sent { from, to, signal, value, code, origin: SignalOrigin::Call }
    }

    /// An alarm that went off: the kernel sends `SIGALRM` on its own account (`SEND_SIG_PRIV`):
    /// `SI_KERNEL`, and no sender's pid in its `siginfo_t`.
    pub fn alarm(pid: Pid) -> Sent {
        Sent { from: pid, to: pid, signal: SIGALRM, value: 0, code: SI_KERNEL, origin: SignalOrigin::Alarm }
    }

    /// The `SIGHUP` and `SIGCONT` of a newly orphaned group with a stopped member (`SEND_SIG_PRIV`, as
    /// for an alarm), on account of the process whose exit orphaned it.
    pub fn orphaned_group(from: Pid, to: Pid, signal: Signal) -> Sent {
        Sent { from, to, signal, value: 0, code: SI_KERNEL, origin: SignalOrigin::OrphanedGroup }
    }

    /// The `SIGPIPE` of a write no process can read (`pipe_write`), which the kernel sends as if the
    /// process had sent it (`send_sig` with `SEND_SIG_NOINFO`): `SI_USER`, with the process's own pid.
    pub fn no_reader(pid: Pid) -> Sent {
        Sent { from: pid, to: pid, signal: SIGPIPE, value: 0, code: SI_USER, origin: SignalOrigin::NoReader }
    }

    /// The `SIGCHLD` that tells a parent how its child changed (`do_notify_parent`,
    /// `do_notify_parent_cldstop`): a `CLD_*` code, the child's pid, and its status in `si_status`,
    /// which a handler reads as `si_value` (they share their place in `siginfo_t`).
    pub fn child_changed(child: Pid, parent: Pid, code: i64, status: i64) -> Sent {
        Sent { from: child, to: parent, signal: SIGCHLD, value: status, code, origin: SignalOrigin::ChildChanged }
    }

    /// A POSIX message queue's notification (`__do_notify`): `SI_MESGQ` and the sender's pid.
    pub fn message_arrived(sender: Pid, owner: Pid, signal: Signal) -> Sent {
        Sent {
            from: sender,
            to: owner,
            signal,
            value: 0,
            code: crate::linux::signal::SI_MESGQ,
            origin: SignalOrigin::MessageArrived,
        }
    }
}

/// Who a `kill(target, ...)` reaches (`kill_something_info`), or the errno.
fn targets_of(kernel: &Kernel, pid: Pid, target: i64) -> Result<Vec<Pid>, crate::linux::Errno> {
    let targets: Vec<Pid> = match target {
        // init belongs to another user (root): `check_kill_permission` refuses, whatever the signal.
        1 => return Err(EPERM),
        target if target > 0 => {
            if !kernel.exists(target) {
                return Err(ESRCH);
            }
            vec![target as Pid]
        }
        0 => group_members(kernel, kernel.process(pid).pgid),
        -1 => kernel.alive.iter().copied().filter(|other| *other != pid).collect(),
        group => group_members(kernel, group.unsigned_abs() as Pid),
    };
    if targets.is_empty() {
        return Err(ESRCH);
    }
    Ok(targets)
}

/// `kill`, `killpg`, `raise` and `sigqueue`: the signals go out once the call's own event is recorded.
fn send(kernel: &mut Kernel, pid: Pid, target: i64, number: i64, value: i64, code: i64) -> Exec {
    let signal = match number {
        0 => None,
        number => match Signal::from_number(number) {
            Some(signal) => Some(signal),
            None => return Kernel::error(EINVAL),
        },
    };
    let targets = match targets_of(kernel, pid, target) {
        Ok(targets) => targets,
        Err(errno) => return Kernel::error(errno),
    };
    if kernel.footprint.enabled {
        for to in &targets {
            kernel.footprint.write(ObjectRef::process(*to));
        }
    }
    if let Some(signal) = signal {
        for to in targets {
            kernel.defer_signal(Sent::by_call(pid, to, signal, value, code));
        }
    }
    Exec::Done(CallResult::Value { value: 0 })
}

/// The processes of a group that a signal can reach (zombies included, as Linux counts them).
fn group_members(kernel: &Kernel, pgid: Pid) -> Vec<Pid> {
    kernel.alive.iter().copied().filter(|pid| kernel.process(*pid).pgid == pgid).collect()
}

/// `will_become_orphaned_pgrp`: whether no member of the group (but `ignored`, and zombies) has a
/// parent in another group of its session. `init` is in a session of its own, so it links no group.
pub(crate) fn is_orphaned_group(kernel: &Kernel, pgid: Pid, ignored: Option<Pid>) -> bool {
    !kernel.alive.iter().any(|&member| {
        let process = kernel.process(member);
        process.pgid == pgid
            && Some(member) != ignored
            && process.state != ProcState::Zombie
            && process.ppid != INIT_PID
            && kernel.process(process.ppid).pgid != pgid
    })
}

/// `kill_orphaned_pgrp`: `exiting` is dying, and `member`'s group may lose through it its last link to
/// another group of the session: `member` is `exiting` itself (its parent is `parent`), or a child of
/// `exiting` (then `parent` is `exiting`, and the child is already `init`'s). A group left orphaned with
/// a stopped member would never be continued by anyone: the kernel sends it `SIGHUP`, then `SIGCONT`.
pub(crate) fn hang_up_orphaned_group(kernel: &mut Kernel, exiting: Pid, member: Pid, parent: Pid, trace: &mut Trace) {
    let pgid = kernel.process(member).pgid;
    // Linux asks that the parent be in another group of the same session; init's session is another.
    if parent == INIT_PID || kernel.process(parent).pgid == pgid {
        return;
    }
    let ignored = (member == exiting).then_some(exiting);
    let members = group_members(kernel, pgid);
    // Whether the group is left orphaned with a stopped member depends on every member.
    if kernel.footprint.enabled {
        kernel.footprint.read(super::state::PROCESS_TABLE);
        for member in &members {
            kernel.footprint.read(ObjectRef::process(*member));
        }
    }
    let has_stopped = members.iter().any(|pid| kernel.process(*pid).state == ProcState::Stopped);
    if !has_stopped || !is_orphaned_group(kernel, pgid, ignored) {
        return;
    }
    trace.record(Event { step: kernel.step as u32, kind: EventKind::Orphaned { pid: exiting, pgid } });
    for signal in [SIGHUP, SIGCONT] {
        for to in group_members(kernel, pgid) {
            generate(kernel, Sent::orphaned_group(exiting, to, signal), trace);
        }
    }
}

/// An action operand as an [`Action`]: a value that names none of the scenario's handlers is an
/// address like any other (`do_sigaction` never looks at the handler).
fn action_from(kernel: &Kernel, value: i64, flags: i64, mask: u64) -> Action {
    let (flags, mask) = (flags & SA_FLAGS, mask & BLOCKABLE);
    match value {
        SIG_DFL => Action::Default,
        SIG_IGN => Action::Ignore,
        value => match u32::try_from(value.wrapping_sub(FIRST_HANDLER)) {
            Ok(handler) if (handler as usize) < kernel.program.handlers.len() => {
                Action::Handler { handler, flags, mask }
            }
            _ => Action::Stray { address: value, flags, mask },
        },
    }
}

/// `sigaction(number, action)` (and glibc's `signal`, which is `sigaction` with `SA_RESTART`): returns
/// the previous action. `do_sigaction`: `SIGKILL` and `SIGSTOP` keep their default, and any action given
/// for them is `EINVAL`, even `SIG_DFL` (`act && sig_kernel_only(sig)`); setting an action that ignores a
/// signal discards its pending instances.
fn set_action(kernel: &mut Kernel, pid: Pid, number: i64, action: Action) -> Exec {
    let Some(signal) = Signal::from_number(number) else { return Kernel::error(EINVAL) };
    if signal.is_reserved() || signal.is_unblockable() {
        return Kernel::error(EINVAL);
    }
    let signals = &mut kernel.proc_mut(pid).sig;
    let previous = signals.action(signal);
    signals.set_action(signal, action);
    if action == Action::Ignore || (action == Action::Default && ignored_by_default(signal)) {
        signals.discard(signal.mask_bit());
    }
    Exec::Done(CallResult::Value { value: previous.value() })
}

/// `sigprocmask(how, set)`: returns 0 and stores the mask it replaced. What it unblocks is delivered as
/// the call returns.
fn set_mask(kernel: &mut Kernel, pid: Pid, how: i64, set: u64) -> Exec {
    // The scenario's `sigprocmask` is glibc's, which leaves its own two signals out of the new set.
    let set = set & !crate::linux::signal::GLIBC_INTERNAL;
    let signals = &mut kernel.proc_mut(pid).sig;
    let old = signals.blocked;
    signals.blocked = match how {
        SIG_BLOCK => old | set,
        SIG_UNBLOCK => old & !set,
        SIG_SETMASK => set,
        _ => return Kernel::error(EINVAL),
    } & BLOCKABLE;
    Exec::Done(CallResult::Out { value: old as i64 })
}

/// The first pending signal of `set`, taken out of the queue without a handler (`dequeue_signal`).
/// Nothing is taken once the process's group exit has begun: it dies of the signal that began it as
/// it returns from the call (Linux's `sigtimedwait` may dequeue the signal, but the `SIGKILL` that
/// `complete_signal` queued beside it kills the process before the caller sees a result).
pub(crate) fn take_waiting(kernel: &mut Kernel, pid: Pid, set: u64) -> Option<Signal> {
    let signals = &mut kernel.proc_mut(pid).sig;
    if signals.group_exit {
        return None;
    }
    let signal = next_signal(signals.pending & set)?;
    signals.dequeue(signal);
    Some(signal)
}

/// `sigwaitinfo(set)`: the first pending signal of the set, taken without a handler, or a sleep until
/// one comes.
fn wait_for_signal(kernel: &mut Kernel, pid: Pid, set: u64) -> Exec {
    let set = set & BLOCKABLE;
    match take_waiting(kernel, pid, set) {
        Some(signal) => Exec::Done(CallResult::Value { value: signal.0 as i64 }),
        None => Exec::Block(BlockReason::SignalWait { set }),
    }
}

/// Generates a signal: what `send_signal_locked` does before delivery. Records what became of it.
pub(crate) fn generate(kernel: &mut Kernel, sent: Sent, trace: &mut Trace) {
    let Sent { from, to, signal, origin, .. } = sent;
    kernel.note_signal();
    if kernel.footprint.enabled {
        kernel.footprint.write(ObjectRef::process(to));
    }
    let record = |kernel: &Kernel, trace: &mut Trace, effect| {
        trace.record(Event { step: kernel.step as u32, kind: EventKind::Signal { from, to, signal, effect, origin } });
    };
    // `prepare_signal`: a process whose group exit has begun drops every signal sent after, SIGKILL too.
    if !kernel.process(to).is_alive() || kernel.process(to).sig.group_exit {
        record(kernel, trace, SignalEffect::NoEffect);
        return;
    }
    let bit = signal.mask_bit();
    // `prepare_signal`: a stop signal discards a pending SIGCONT; SIGCONT discards pending stops and
    // continues a stopped process at once, whatever its action.
    if signal.default_action() == DefaultAction::Stop {
        kernel.proc_mut(to).sig.discard(SIGCONT.mask_bit());
    }
    let mut continued = false;
    if signal == SIGCONT {
        let stops: u64 = STOP_SIGNALS.iter().map(|number| Signal(*number).mask_bit()).sum();
        kernel.proc_mut(to).sig.discard(stops);
        if kernel.process(to).state == ProcState::Stopped {
            continued = true;
            record(kernel, trace, SignalEffect::Continued);
            kernel.set_state(to, ProcState::Runnable);
            // It may have stopped as a call returned, before its own code went on: that code runs now,
            // unless a signal is to be taken first (then it runs after, at its next step).
            if kernel.process(to).sig.deliverable() == 0 {
                kernel.settle(to);
            }
            kernel.proc_mut(to).report = Some(super::process::ChildReport::Continued);
            // The parent hears of it when the child runs (see `Process::continued_unreported`).
            kernel.proc_mut(to).continued_unreported = true;
        }
    }
    let signals = &kernel.process(to).sig;
    let blocked = signals.blocked & bit != 0 && !signal.is_unblockable();
    let ignored = match signals.action(signal) {
        Action::Ignore => signal != SIGKILL && signal != SIGSTOP,
        Action::Default => ignored_by_default(signal),
        Action::Handler { .. } | Action::Stray { .. } => false,
    };
    if ignored && !blocked {
        if !continued {
            record(kernel, trace, SignalEffect::Ignored);
        }
        return;
    }
    if !signal.is_realtime() && signals.pending & bit != 0 {
        record(kernel, trace, SignalEffect::Coalesced);
        return;
    }
    // `complete_signal`: a signal that will kill the process without a core dump begins its group
    // exit at once if the process wants it (`wants_signal`: SIGKILL always; otherwise not while it is
    // stopped, nor while another signal it may take is pending, unless it is the sender itself, the
    // one on the CPU, as a process sending itself a signal is; a timer fires between steps). From then
    // on, whatever else is sent is dropped (above). A process asleep in `sigwaitinfo` for the signal
    // is no exception: `sig_fatal` is judged against the mask from before the call (`real_blocked`,
    // which the model keeps as `blocked` while it waits), so a signal it did not block kills it; one
    // it blocked is blocked here and begins nothing, and the call takes it.
    let process = kernel.process(to);
    let on_cpu = to == from && origin != SignalOrigin::Alarm;
    let wanted = signal == SIGKILL
        || (process.state != ProcState::Stopped
            && (on_cpu || process.sig.deliverable() == 0 && process.sig.woken_by.is_none()));
    let begins_exit = wanted
        && (signal == SIGKILL
            || (!blocked
                && process.sig.action(signal) == Action::Default
                && signal.default_action() == DefaultAction::Terminate));
    let signals = &mut kernel.proc_mut(to).sig;
    signals.group_exit |= begins_exit;
    // `SEND_SIG_PRIV` leaves `si_pid` 0 (`__send_signal_locked`).
    let si_pid = if sent.code == SI_KERNEL { 0 } else { from };
    signals.queue.push(Queued { signal, from: si_pid, value: sent.value, code: sent.code });
    signals.pending |= bit;
    // `complete_signal`: a fatal signal starts the group exit, which drops an unreported continue.
    let fatal = signal == SIGKILL
        || (!blocked
            && signals.action(signal) == Action::Default
            && matches!(signal.default_action(), DefaultAction::Terminate | DefaultAction::Core));
    if fatal {
        kernel.proc_mut(to).continued_unreported = false;
    }
    if blocked {
        record(kernel, trace, SignalEffect::Blocked);
        if !wakes_waiter(kernel, to, signal) {
            return;
        }
    } else if kernel.process(to).state == ProcState::Stopped && signal != SIGKILL {
        record(kernel, trace, SignalEffect::WhileStopped);
    } else if !continued {
        record(kernel, trace, SignalEffect::Pending);
    }
    // `signal_wake_up`: an interruptible sleeper wakes to take it; SIGKILL also ends a stop.
    let wakes = match kernel.process(to).state {
        ProcState::Blocked(_) => {
            kernel.wake_for_signal(to);
            true
        }
        ProcState::Stopped => signal == SIGKILL,
        _ => false,
    };
    if wakes {
        kernel.set_state(to, ProcState::Runnable);
        kernel.proc_mut(to).sig.woken_by = Some(signal);
        if kernel.footprint.enabled {
            kernel.footprint.write(ObjectRef::process(to));
        }
        trace.record_wake(kernel.step as u32, to, from, WakeCause::Signal { signal });
    }
}

/// A sleeper in `sigwaitinfo` wakes for a signal of its set even though it blocks it (Linux unblocks
/// the set while it waits).
pub(crate) fn wakes_waiter(kernel: &Kernel, to: Pid, signal: Signal) -> bool {
    matches!(&kernel.process(to).state, ProcState::Blocked(BlockReason::SignalWait { set }) if set & signal.mask_bit() != 0)
}

/// Delivers what `pid` may take now, as it returns to user mode (`get_signal`, `handle_signal`): default
/// actions (death, stop, nothing), or a handler frame each, the first signal's frame innermost... as
/// Linux stacks them, the last delivered runs first. Stops at a death or a stop.
pub(crate) fn deliver(kernel: &mut Kernel, pid: Pid, trace: &mut Trace) {
    loop {
        let process = kernel.process(pid);
        if process.state != ProcState::Runnable {
            return;
        }
        let Some(signal) = next_signal(process.sig.deliverable()) else { return };
        let action = process.sig.action(signal);
        // A jump to a stray address whose fault a scenario handler would catch, and the simulator's own
        // limit on nested handlers, end the run before the signal is taken: it stays pending (what the
        // run ends with is a state Linux could be in), never dequeued and dropped.
        if let Action::Stray { address, flags, mask } = action {
            if !signal.is_unblockable() && !stray_jump_kills(process, signal, flags, mask) {
                kernel.halt(
                    "not_modelled",
                    format!(
                        "{} would take {} at address {address}, where no code is, and catch the fault's \
                         SIGSEGV in a handler that returns there to fault again",
                        process.name,
                        signal.name()
                    ),
                );
                return;
            }
        }
        if matches!(action, Action::Handler { .. })
            && !signal.is_unblockable()
            && process.sig.frames.len() as u32 >= kernel.limits.max_signal_frames
        {
            kernel.halt(
                "max_signal_frames",
                format!(
                    "{} would run more than {} signal handlers inside one another",
                    process.name, kernel.limits.max_signal_frames
                ),
            );
            return;
        }
        let queued = kernel.proc_mut(pid).sig.dequeue(signal).expect("a pending signal has an instance");
        let record = |kernel: &Kernel, trace: &mut Trace, delivery| {
            trace.record(Event { step: kernel.step as u32, kind: EventKind::Delivered { pid, signal, delivery } });
        };
        match action {
            Action::Ignore if signal != SIGKILL && signal != SIGSTOP => record(kernel, trace, Delivery::Ignored),
            Action::Handler { handler, flags, mask } if !signal.is_unblockable() => {
                decide_restart(kernel, pid, signal, flags, trace);
                record(kernel, trace, Delivery::Handler { handler });
                push_frame(kernel, pid, queued, handler, flags, mask);
            }
            Action::Stray { address, .. } if !signal.is_unblockable() => {
                record(kernel, trace, Delivery::Stray { address });
                // `handle_signal` has built the frame and set the mask; the first instruction fetch at
                // the address faults (`SEGV_MAPERR`), and the forced `SIGSEGV` kills (see
                // `stray_jump_kills`).
                killed_by_fault(kernel, pid, crate::linux::signal::SIGSEGV, trace);
                return;
            }
            _ => match signal.default_action() {
                DefaultAction::Ignore | DefaultAction::Continue => record(kernel, trace, Delivery::Ignored),
                DefaultAction::Stop
                    if signal != SIGSTOP && is_orphaned_group(kernel, kernel.process(pid).pgid, None) =>
                {
                    record(kernel, trace, Delivery::Discarded);
                }
                DefaultAction::Stop => {
                    record(kernel, trace, Delivery::Stopped);
                    // `sigsuspend`'s temporary mask stays in force while the process is stopped: Linux
                    // stops inside `get_signal`, on the way out of the call and before
                    // `restore_saved_sigmask` (see `restart_sigsuspend`).
                    kernel.set_state(pid, ProcState::Stopped);
                    kernel.proc_mut(pid).report = Some(super::process::ChildReport::Stopped(signal));
                    super::process::notify_parent(kernel, pid, trace);
                    return;
                }
                action @ (DefaultAction::Terminate | DefaultAction::Core) => {
                    let core = action == DefaultAction::Core;
                    let dumped = core && super::process::dumps_core(kernel.process(pid));
                    record(kernel, trace, if dumped { Delivery::Dumped } else { Delivery::Terminated { core } });
                    super::process::exit_process(kernel, pid, ChildStatus::Killed { signal, core: dumped }, trace);
                    return;
                }
            },
        }
    }
}

/// Whether a process sent to a stray address by `signal` dies of the fault there. The fault's
/// `SIGSEGV` is forced (`force_sig_fault`): blocked or ignored, it is unblocked and set back to its
/// default, which kills (`force_sig_info_to_task`). Left to a stray address of its own, it faults
/// again with `SIGSEGV` blocked by its own delivery, or (with `SA_NODEFER`) nests frames until the
/// stack is full and `setup_rt_frame` fails: either way it dies. Only a scenario handler for `SIGSEGV`
/// that the new mask lets through would run, and each return from it goes back to the address: that is
/// not modelled.
fn stray_jump_kills(process: &super::Process, signal: Signal, flags: i64, mask: u64) -> bool {
    let segv = crate::linux::signal::SIGSEGV;
    let mut blocked = process.sig.blocked | mask;
    if flags & SA_NODEFER == 0 {
        blocked |= signal.mask_bit();
    }
    !matches!(process.sig.action(segv), Action::Handler { .. }) || blocked & segv.mask_bit() != 0
}

/// A `sigsuspend` whose sleep a signal ended (a stop it then took, a signal it ignores, or one that
/// woke it and is gone or blocked by now) goes back to user mode with its temporary mask still in force,
/// and that mask lets no pending signal through: `get_signal` finds nothing, so
/// `arch_do_signal_or_restart` rewinds the call (`-ERESTARTNOHAND`) and `restore_saved_sigmask` puts
/// the caller's own mask back. A handler delivered then, for a signal only that mask lets through, runs
/// before the call starts again and does not end it: the saved registers hold the rewound call, not
/// `-ERESTARTNOHAND`, so `handle_signal` has nothing to turn into `EINTR`. The call starts again after
/// the handler returns (or at once), with its temporary mask. A call still asleep (`woken`: the signal
/// that woke it) is recorded as interrupted, to start again.
pub(crate) fn restart_sigsuspend(kernel: &mut Kernel, pid: Pid, woken: Option<Signal>, trace: &mut Trace) {
    if let Some(signal) = woken {
        let op = kernel.process(pid).pc;
        let outcome = crate::trace::CallInterrupted::Restart;
        trace.record(Event {
            step: kernel.step as u32,
            kind: EventKind::Interrupted { pid, op, signal, outcome, gone: false },
        });
    }
    let process = kernel.proc_mut(pid);
    if let Some(mask) = process.sig.suspended_mask.take() {
        process.sig.blocked = mask;
    }
    process.call.waited = false;
    process.call.restart = true;
    process.call.undecided = None;
}

/// A handler is delivered while the call below waits to start again after a stop: the handler decides
/// how the call ends, as `handle_signal` (`arch/x86/kernel/signal.c`) does with the restart code still
/// in the registers: `-ERESTARTSYS` starts again only with `SA_RESTART`, `-ERESTARTNOHAND` (`pause`,
/// `sigsuspend`) and `-ERESTART_RESTARTBLOCK` (`nanosleep`) fail with `EINTR`, and glibc's `sleep`
/// returns the seconds it had left. (Had the process run the call again first, it would be asleep in
/// it and the handler would interrupt it the same way.)
fn decide_restart(kernel: &mut Kernel, pid: Pid, signal: Signal, flags: i64, trace: &mut Trace) {
    let call = kernel.process(pid).call;
    let Some(interruption) = call.undecided.filter(|_| call.restart) else { return };
    let result = match interruption {
        Interruption::Restart if flags & SA_RESTART != 0 => {
            kernel.proc_mut(pid).call.undecided = None;
            return;
        }
        Interruption::ReturnLeftIfHandled => match call.scratch {
            super::Scratch::Until(until) => CallResult::Value { value: super::time::seconds_left(kernel, until) },
            _ => CallResult::Value { value: 0 },
        },
        _ => CallResult::Error { errno: crate::linux::errno::EINTR },
    };
    let op = kernel.process(pid).pc;
    let outcome = if matches!(result, CallResult::Error { .. }) {
        crate::trace::CallInterrupted::Eintr
    } else {
        crate::trace::CallInterrupted::Partial
    };
    trace.record(Event {
        step: kernel.step as u32,
        kind: EventKind::Interrupted { pid, op, signal, outcome, gone: false },
    });
    kernel.complete_call(pid, op, &call.args, result, trace);
}

/// `setup_rt_frame` and `signal_delivered`: the handler runs next, on top of where the process is.
fn push_frame(kernel: &mut Kernel, pid: Pid, queued: Queued, handler: u32, flags: i64, mask: u64) {
    let code = kernel.program.handlers[handler as usize].clone();
    let slots = kernel.program.signal_slots.expect("a scenario with handlers has the signal variables");
    let process = kernel.proc_mut(pid);
    let saved_call = std::mem::take(&mut process.call);
    let signals = &mut process.sig;
    let saved_blocked = signals.suspended_mask.take().unwrap_or(signals.blocked);
    let saved_info = [slots.signo, slots.si_pid, slots.si_value, slots.si_code].map(|slot| process.vars[slot as usize]);
    signals.frames.push(Frame {
        signal: queued.signal,
        handler,
        return_pc: process.pc,
        return_end: process.end_pc,
        saved_blocked,
        saved_info,
        saved_call,
    });
    let mut blocked = signals.blocked | mask;
    if flags & SA_NODEFER == 0 {
        blocked |= queued.signal.mask_bit();
    }
    signals.blocked = blocked & BLOCKABLE;
    if flags & SA_RESETHAND != 0 {
        signals.set_action(queued.signal, Action::Default);
    }
    let info = if flags & SA_SIGINFO != 0 { [queued.from as i64, queued.value, queued.code] } else { [0, 0, 0] };
    process.vars[slots.signo as usize] = queued.signal.0 as i64;
    process.vars[slots.si_pid as usize] = info[0];
    process.vars[slots.si_value as usize] = info[1];
    process.vars[slots.si_code as usize] = info[2];
    // The handler's code runs once every frame of this delivery is in place (the kernel settles the
    // process after delivering), so the last handler pushed runs first, as on Linux.
    process.pc = code.start;
    process.end_pc = code.end;
}

/// The implicit `rt_sigreturn()` at the end of a handler: the process goes back to where the signal
/// found it, with its mask and signal variables as they were.
pub(crate) fn sigreturn(kernel: &mut Kernel, pid: Pid) -> Signal {
    let slots = kernel.program.signal_slots.expect("a scenario with handlers has the signal variables");
    let process = kernel.proc_mut(pid);
    let frame = process.sig.frames.pop().expect("a process returns from a handler only inside one");
    process.sig.blocked = frame.saved_blocked;
    process.call = frame.saved_call;
    process.pc = frame.return_pc;
    process.end_pc = frame.return_end;
    for (slot, value) in [slots.signo, slots.si_pid, slots.si_value, slots.si_code].into_iter().zip(frame.saved_info) {
        process.vars[slot as usize] = value;
    }
    frame.signal
}

/// How a deliverable signal ends a call that would sleep again: the mechanism's [`Interruption`] and
/// the signal's action decide between going on later from the start, failing with `EINTR`, and
/// returning what was done so far (signal(7), "Interruption of system calls ... by signal handlers"
/// and "... by stop signals").
pub(crate) fn outcome(kernel: &Kernel, pid: Pid, interruption: Interruption) -> (Signal, Interruption) {
    let signals = &kernel.process(pid).sig;
    let signal = next_signal(signals.deliverable()).expect("called with a deliverable signal");
    let action = signals.action(signal);
    let handled = action.caught().is_some() && !signal.is_unblockable();
    let restart_flag = action.caught().is_some_and(|flags| flags & SA_RESTART != 0);
    let outcome = match interruption {
        Interruption::Partial(done) if done > 0 => Interruption::Partial(done),
        Interruption::Eintr => Interruption::Eintr,
        Interruption::Restart | Interruption::Partial(_) if handled && !restart_flag => Interruption::Eintr,
        Interruption::RestartWithoutHandler if handled => Interruption::Eintr,
        Interruption::ReturnLeftIfHandled if handled => Interruption::ReturnLeftIfHandled,
        _ => Interruption::Restart,
    };
    (signal, outcome)
}

/// Whether a stop or a continue of `child` should raise `SIGCHLD` in its parent (`SA_NOCLDSTOP` says no).
pub(crate) fn parent_wants_stop_reports(kernel: &Kernel, parent: Pid) -> bool {
    kernel.process(parent).sig.action(SIGCHLD).caught().is_none_or(|flags| flags & SA_NOCLDSTOP == 0)
}

/// User-space code faulted (a division by zero, a bad memory access): the CPU raises `signal` for it. A
/// fault's signal cannot be ignored or blocked (`force_sig_info_to_task` puts back the default action
/// and unblocks it), so the process dies of it, unless a handler is installed and the signal is not
/// blocked: then the handler runs as the process returns to user mode, on top of the faulting
/// operation, which runs (and faults) again when the handler returns.
pub(crate) fn fault(kernel: &mut Kernel, pid: Pid, op: u32, signal: Signal, trace: &mut Trace) {
    if !kernel.process(pid).is_alive() {
        return;
    }
    trace.record(Event { step: kernel.step as u32, kind: EventKind::Fault { pid, op, signal } });
    let signals = &kernel.process(pid).sig;
    let caught = signals.action(signal).caught().is_some() && signals.blocked & signal.mask_bit() == 0;
    if caught && signals.pending & signal.mask_bit() == 0 {
        let code = fault_code(kernel, pid, op, signal);
        let signals = &mut kernel.proc_mut(pid).sig;
        signals.queue.push(Queued { signal, from: 0, value: 0, code });
        signals.pending |= signal.mask_bit();
        return;
    }
    killed_by_fault(kernel, pid, signal, trace);
}

/// A fault's forced signal, `SIGFPE` or `SIGSEGV`, kills `pid` by its default action, which dumps core
/// as `RLIMIT_CORE` allows.
fn killed_by_fault(kernel: &mut Kernel, pid: Pid, signal: Signal, trace: &mut Trace) {
    let dumped = super::process::dumps_core(kernel.process(pid));
    let delivery = if dumped { Delivery::Dumped } else { Delivery::Terminated { core: true } };
    trace.record(Event { step: kernel.step as u32, kind: EventKind::Delivered { pid, signal, delivery } });
    super::process::exit_process(kernel, pid, ChildStatus::Killed { signal, core: dumped }, trace);
}

/// A fault's `si_code`: `FPE_INTDIV` for a division; for a memory access, `SEGV_MAPERR` when no mapping
/// covers the address and `SEGV_ACCERR` when one does but does not allow the access.
fn fault_code(kernel: &Kernel, pid: Pid, op: u32, signal: Signal) -> i64 {
    const FPE_INTDIV: i64 = 1;
    const SEGV_MAPERR: i64 = 1;
    const SEGV_ACCERR: i64 = 2;
    if signal != crate::linux::signal::SIGSEGV {
        return FPE_INTDIV;
    }
    let process = kernel.process(pid);
    let mut args = crate::trace::Args::default();
    let Some(call) = kernel.program.call(op) else { return SEGV_MAPERR };
    if super::resolve_args(call, &process.vars, pid, &mut args).is_err() {
        return SEGV_MAPERR;
    }
    let address = (args.get(0) as u64).wrapping_add(args.get(1) as u64);
    if process.mm.find(address).is_some() {
        SEGV_ACCERR
    } else {
        SEGV_MAPERR
    }
}

/// The signal mechanism.
pub struct Signals;

impl Mechanism for Signals {
    fn call(kernel: &mut Kernel, call: &CallContext, _trace: &mut Trace) -> Exec {
        let pid = call.pid;
        match call.id() {
            CallId::Kill => send(kernel, pid, call.arg(0), call.arg(1), 0, SI_USER),
            CallId::Killpg => match call.arg(0) {
                // glibc's killpg refuses a negative group; 0 is the caller's own.
                group if group < 0 => Kernel::error(EINVAL),
                group => send(kernel, pid, -group, call.arg(1), 0, SI_USER),
            },
            // glibc's `raise` is `tgkill` to the caller itself: `SI_TKILL` (`do_tkill`), as `ipclab check`
            // found on Linux.
            CallId::Raise => send(kernel, pid, pid as i64, call.arg(0), 0, SI_TKILL),
            CallId::Sigqueue => match call.arg(0) {
                // `rt_sigqueueinfo` names one process.
                target if target <= 0 => Kernel::error(ESRCH),
                target => send(kernel, pid, target, call.arg(1), call.arg(2), SI_QUEUE),
            },
            // glibc's `signal` (`__bsd_signal`) refuses `SIG_ERR` as the new handler; `sigaction` passes
            // any address to the kernel.
            CallId::Signal if call.arg(1) == SIG_ERR => Kernel::error(EINVAL),
            CallId::Signal => {
                let action = action_from(kernel, call.arg(1), SA_RESTART, 0);
                set_action(kernel, pid, call.arg(0), action)
            }
            CallId::Sigaction => {
                let action = action_from(kernel, call.arg(1), call.arg(2), call.arg(3) as u64);
                match set_action(kernel, pid, call.arg(0), action) {
                    Exec::Done(CallResult::Value { .. }) => Exec::Done(CallResult::Value { value: 0 }),
                    other => other,
                }
            }
            CallId::Sigprocmask => set_mask(kernel, pid, call.arg(0), call.arg(1) as u64),
            CallId::Sigpending => {
                let signals = &kernel.process(pid).sig;
                Exec::Done(CallResult::Out { value: (signals.pending & signals.blocked) as i64 })
            }
            CallId::Sigsuspend => {
                let signals = &mut kernel.proc_mut(pid).sig;
                if signals.suspended_mask.is_none() {
                    signals.suspended_mask = Some(signals.blocked);
                }
                signals.blocked = call.arg(0) as u64 & BLOCKABLE;
                Exec::Block(BlockReason::Signal)
            }
            CallId::Sigwaitinfo => wait_for_signal(kernel, pid, call.arg(0) as u64),
            CallId::Pause => Exec::Block(BlockReason::Signal),
            other => unreachable!("{} is not a signal call", other.name()),
        }
    }

    /// `sigtimedwait`'s timeout goes with its wait.
    fn leave_queue(kernel: &mut Kernel, pid: Pid, reason: &BlockReason) {
        if let BlockReason::SignalWait { .. } = reason {
            kernel.cancel_timer(pid, super::time::TimerKind::Wake);
        }
    }

    /// `pause` and `sigsuspend` return `EINTR` after a handler and start again after a stop
    /// (`-ERESTARTNOHAND`); `sigwaitinfo` fails with `EINTR` either way.
    fn interruption(reason: &BlockReason) -> Interruption {
        match reason {
            BlockReason::SignalWait { .. } => Interruption::Eintr,
            _ => Interruption::RestartWithoutHandler,
        }
    }

    fn check(kernel: &Kernel) -> Result<(), String> {
        for process in &kernel.procs {
            let signals = &process.sig;
            if signals.blocked & !BLOCKABLE != 0 {
                return Err(format!("{} blocks SIGKILL or SIGSTOP", process.name));
            }
            let queued = signals.queue.iter().fold(0u64, |bits, queued| bits | queued.signal.mask_bit());
            if queued != signals.pending {
                return Err(format!("{}'s pending set does not match its queue", process.name));
            }
            for signal in (1..=crate::linux::signal::MAX_SIGNAL).map(Signal).filter(|signal| !signal.is_realtime()) {
                if signals.queue.iter().filter(|queued| queued.signal == signal).count() > 1 {
                    return Err(format!("{} has {} queued twice", process.name, signal.name()));
                }
            }
            if signals.ignored & signals.handled != 0 {
                return Err(format!("{} both ignores and handles a signal", process.name));
            }
            if !process.is_alive() && (!signals.queue.is_empty() || !signals.frames.is_empty()) {
                return Err(format!("{} is dead with signals pending or handlers running", process.name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::kernel::holds_under;
    use crate::linux::ChildStatus;
    use crate::trace::{BlockReason, Delivery, EventKind, SignalEffect};
    use crate::{Policy, RunConfig, Simulation};

    /// Runs a scenario under round-robin and a few random seeds; every expectation it writes must hold.
    fn holds(text: &str) {
        let scenario = crate::parse(text).unwrap_or_else(|errors| panic!("{:?}", errors[0]));
        let runs = std::iter::once((0, Policy::RoundRobin)).chain((1..8).map(|seed| (seed, Policy::Random)));
        for (seed, policy) in runs {
            let config = RunConfig { seed, policy, check_invariants: true, ..RunConfig::default() };
            let mut simulation = Simulation::new(&scenario, config).unwrap();
            simulation.run().unwrap();
            let report = simulation.report().unwrap();
            assert!(report.failures.is_empty(), "seed {seed}: {:?}", report.failures);
        }
    }

    /// A call a handler interrupted starts again with the operands it was first made with (Linux
    /// restarts it from the saved registers), even if the handler changed the variables they came
    /// from: what the pictures and the conformance runner read (`next_args`) says the same.
    #[test]
    fn a_restarted_call_shows_the_operands_it_started_with() {
        let text = "handler on_usr1 {\n  n = 1\n}\n\nprocess main expect exited 0 {\n  p = pipe\n  n = 4\n  \
                    sigaction SIGUSR1 on_usr1 SA_RESTART -> 0\n  fork child expect exited 0 {\n    \
                    kill main SIGUSR1 -> 0\n    write p.w \"abcd\" -> 4\n  }\n  read p.r n -> \"abcd\"\n  wait\n}\n";
        let scenario = crate::parse(text).unwrap_or_else(|errors| panic!("{:?}", errors[0]));
        let config = RunConfig { policy: Policy::Choices { pids: vec![2, 2, 2, 2, 3, 2, 2] }, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).unwrap();
        let mut restarting = 0;
        while !simulation.is_finished() {
            let kernel = simulation.kernel();
            let main = kernel.process(2);
            if main.call.restart && main.sig.frames.is_empty() {
                restarting += 1;
                assert_eq!(kernel.next_args(2), Some(main.call.args), "the count it started with");
                assert_eq!(main.call.args.as_slice()[1..], [4], "{:?}", main.call.args);
            }
            simulation.step().unwrap();
        }
        assert!(restarting > 0, "the read was interrupted and started again");
        let report = simulation.report().unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
    }

    #[test]
    fn a_signal_sent_after_one_that_kills_is_dropped_but_not_after_one_that_dumps_core() {
        // The waiter has not run yet when the boss sends SIGUSR1 (default: terminate), then SIGTERM:
        // Linux began the waiter's group exit with the first and drops the second (`prepare_signal`).
        let text = |first: &str| {
            format!(
                "process boss {{\n  fork waiter {{\n    sched_yield\n  }}\n  kill waiter {first} -> 0\n  \
                 kill waiter SIGTERM -> 0\n  waitpid waiter\n}}\n"
            )
        };
        let pending_after_both = |first: &str| {
            let scenario = crate::parse(&text(first)).unwrap();
            let config = RunConfig { policy: Policy::Choices { pids: vec![2, 2, 2] }, ..RunConfig::default() };
            let mut simulation = Simulation::new(&scenario, config).unwrap();
            for _ in 0..3 {
                simulation.step().unwrap();
            }
            let effects: Vec<SignalEffect> = simulation
                .trace()
                .events
                .iter()
                .filter_map(|event| match &event.kind {
                    EventKind::Signal { effect, .. } => Some(*effect),
                    _ => None,
                })
                .collect();
            (simulation.kernel().process(3).sig.pending, effects)
        };
        let (pending, effects) = pending_after_both("SIGUSR1");
        let bit = |number| crate::linux::Signal(number).mask_bit();
        assert_eq!(pending, bit(10), "SIGUSR1 alone: SIGTERM is not pending");
        assert_eq!(effects, [SignalEffect::Pending, SignalEffect::NoEffect]);
        // SIGQUIT dumps core: no group exit begins as it is sent, so SIGTERM is still queued.
        let (pending, effects) = pending_after_both("SIGQUIT");
        assert_eq!(pending, bit(3) | bit(15));
        assert_eq!(effects, [SignalEffect::Pending, SignalEffect::Pending]);
        // A process asleep in `sigwaitinfo` for a signal it does not block is killed by it as it is
        // sent (`real_blocked` decides in `complete_signal`), and the SIGKILL sent after is dropped;
        // one that blocks it takes it from the call, and a SIGKILL sent after still kills it.
        holds_under(
            "process boss expect exited 0 {\n  fork waiter expect killed SIGTERM {\n    sigwaitinfo SIGTERM\n    \
             pause\n  }\n  kill waiter SIGTERM -> 0\n  kill waiter SIGKILL -> 0\n  \
             waitpid waiter -> waiter killed SIGTERM\n}\n",
            &[2, 3, 2, 2, 2, 3, 2, 2],
        );
        holds_under(
            "process boss expect exited 0 {\n  fork waiter expect killed SIGKILL {\n    \
             sigprocmask SIG_BLOCK SIGTERM -> ok\n    sigwaitinfo SIGTERM -> 15\n    pause\n  }\n  \
             kill waiter SIGTERM -> 0\n  kill waiter SIGKILL -> 0\n  waitpid waiter -> waiter killed SIGKILL\n}\n",
            &[2, 3, 3, 2, 3, 3, 2, 3, 2, 2],
        );
        // With a handler instead, the signal is not fatal: the call takes it, and the handler does not
        // run.
        holds_under(
            "handler never {\n  exit 9\n}\n\nprocess boss expect exited 0 {\n  fork waiter expect exited 0 {\n    \
             signal SIGTERM never -> 0\n    sigwaitinfo SIGTERM -> 15\n  }\n  \
             kill waiter SIGTERM -> 0\n  waitpid waiter -> waiter exited 0\n}\n",
            &[2, 3, 3, 2, 3, 3, 2, 2],
        );
    }

    #[test]
    fn a_core_is_written_only_when_rlimit_core_allows_a_page_and_the_limit_is_inherited() {
        // `min_coredump` of the ELF loader is a page: 4095 writes nothing, 4096 writes a core; the
        // child inherits the parent's limit (`copy_signal`); SIGTERM never dumps.
        holds(
            "process main expect exited 0 {\n  n = getrlimit RLIMIT_CORE -> 0\n  \
             fork a expect killed SIGQUIT no core {\n    raise SIGQUIT\n  }\n  waitpid a -> a killed SIGQUIT no core\n  \
             setrlimit RLIMIT_CORE 4095 RLIM_INFINITY -> 0\n  \
             fork b expect killed SIGQUIT no core {\n    raise SIGQUIT\n  }\n  waitpid b -> b killed SIGQUIT no core\n  \
             setrlimit RLIMIT_CORE 4096 RLIM_INFINITY -> 0\n  n = getrlimit RLIMIT_CORE -> 4096\n  \
             fork c expect killed SIGQUIT core {\n    raise SIGQUIT\n  }\n  waitpid c -> c killed SIGQUIT core\n  \
             fork d expect killed SIGTERM no core {\n    raise SIGTERM\n  }\n  waitpid d -> d killed SIGTERM no core\n}\n",
        );
        // The expectations can fail: `core` where none is written, `no core` where one is.
        let scenario = crate::parse(
            "process main expect exited 0 {\n  fork a expect killed SIGQUIT core {\n    raise SIGQUIT\n  }\n  \
             waitpid a -> a killed SIGQUIT core\n  setrlimit RLIMIT_CORE RLIM_INFINITY RLIM_INFINITY -> 0\n  \
             fork b expect killed SIGQUIT no core {\n    raise SIGQUIT\n  }\n  waitpid b -> b killed SIGQUIT no core\n}\n",
        )
        .unwrap();
        let mut simulation = Simulation::new(&scenario, RunConfig::default()).unwrap();
        simulation.run().unwrap();
        assert_eq!(simulation.report().unwrap().failures.len(), 4);
    }

    #[test]
    fn setrlimit_refuses_a_soft_limit_above_the_hard_one_and_a_raised_hard_limit() {
        // `do_prlimit`: EINVAL for soft > hard, EPERM for raising the hard limit without
        // CAP_SYS_RESOURCE; lowering it sticks.
        holds(
            "process main expect exited 0 {\n  setrlimit RLIMIT_CORE 8192 4096 -> EINVAL\n  \
             setrlimit RLIMIT_CORE 0 4096 -> 0\n  setrlimit RLIMIT_CORE 4096 4096 -> 0\n  \
             setrlimit RLIMIT_CORE 0 RLIM_INFINITY -> EPERM\n  n = getrlimit RLIMIT_CORE -> 4096\n}\n",
        );
    }

    #[test]
    fn a_handler_s_own_calls_start_afresh_over_a_call_that_will_start_again() {
        // The read below is to start again (SA_RESTART); the handler's read is a call of its own, with
        // its own operands, and the read below starts again after rt_sigreturn.
        holds(
            "handler h {\n  read q.r 1 -> \"q\"\n}\nprocess main expect exited 0 {\n  p = pipe\n  q = pipe\n  \
             sigaction SIGUSR1 h SA_RESTART -> 0\n  fork poker expect exited 0 {\n    boss = getppid\n    \
             kill boss SIGUSR1 -> 0\n    write q.w \"q\" -> 1\n    write p.w \"p\" -> 1\n  }\n  \
             read p.r 1 -> \"p\"\n  waitpid poker -> poker exited 0\n}\n",
        );
    }

    #[test]
    fn a_handler_delivered_before_a_stopped_call_starts_again_decides_how_it_ends() {
        // Stopped in read, continued, then SIGUSR2 (no SA_RESTART) comes before the reader runs: the read
        // fails with EINTR, as handle_signal decides with the restart code still in the registers.
        let text = "handler h {\n  n = 1\n}\nprocess main expect exited 0 {\n  p = pipe\n  \
             sigaction SIGUSR2 h -> 0\n  fork poker expect exited 0 {\n    boss = getppid\n    \
             kill boss SIGSTOP -> 0\n    kill boss SIGCONT -> 0\n    kill boss SIGUSR2 -> 0\n    \
             write p.w \"p\" -> 1\n  }\n  read p.r 1 -> EINTR\n  read p.r 1 -> \"p\"\n  \
             waitpid poker -> poker exited 0\n}\n";
        // main forks and sleeps in read; poker stops it (main takes the stop), continues it and sends
        // SIGUSR2 before main runs again.
        holds_under(text, &[2, 2, 2, 2, 3, 3, 2, 3, 3, 2, 2, 3, 2, 3, 2]);
    }

    #[test]
    fn an_ipc_sleeper_a_signal_woke_stays_queued_for_a_partner_until_it_runs() {
        // The taker sleeps in semop; SIGUSR1 wakes it, and before it runs main's semop +1 finds it still
        // queued and does its operation for it: the call returns 0 and the handler runs after it.
        let semop = "handler h {\n  handled = 1\n}\n\nprocess main expect exited 0 {\n  \
                     s = semget IPC_PRIVATE 1 IPC_CREAT|0600\n  fork taker expect exited 0 {\n    \
                     handled = 0\n    sigaction SIGUSR1 h SA_RESTART -> 0\n    semop s {0, -1} -> 0\n    \
                     if handled != 1 {\n      exit 1\n    }\n  }\n  kill taker SIGUSR1 -> 0\n  \
                     semop s {0, 1} -> 0\n  waitpid taker -> taker exited 0\n  semctl s 0 IPC_RMID -> 0\n}\n";
        // main: semget, fork; taker: sigaction, semop (sleeps); main: kill, semop, waitpid; taker: the
        // result and the handler, rt_sigreturn, its end; main: the rest.
        holds_under(semop, &[2, 2, 3, 3, 2, 2, 2, 3, 3, 3, 2, 2, 2]);
        // With nobody to finish it, the same semop fails with EINTR (ipc/sem.c never restarts it).
        let alone = semop
            .replace("semop s {0, -1} -> 0", "semop s {0, -1} -> EINTR")
            .replace("  kill taker SIGUSR1 -> 0\n  semop s {0, 1} -> 0\n", "  kill taker SIGUSR1 -> 0\n");
        holds_under(&alone, &[2, 2, 3, 3, 2, 2, 3, 3, 3, 2, 2, 2]);
        // A msgrcv woken by a signal is still handed the message a partner sends before it runs.
        let msgrcv = "handler h {\n  handled = 1\n}\n\nprocess main expect exited 0 {\n  \
                      q = msgget IPC_PRIVATE IPC_CREAT|0600\n  fork receiver expect exited 0 {\n    \
                      handled = 0\n    sigaction SIGUSR1 h -> 0\n    msgrcv q 8 0 -> \"m\"\n    \
                      if handled != 1 {\n      exit 1\n    }\n  }\n  kill receiver SIGUSR1 -> 0\n  \
                      msgsnd q 1 \"m\" -> 0\n  waitpid receiver -> receiver exited 0\n  msgctl q IPC_RMID -> 0\n}\n";
        holds_under(msgrcv, &[2, 2, 3, 3, 2, 2, 2, 3, 3, 3, 2, 2, 2]);
    }

    #[test]
    fn a_stopped_sigsuspend_keeps_its_mask_and_a_signal_only_the_callers_mask_lets_through_does_not_end_it() {
        // main sleeps in sigsuspend with SIGUSR1 blocked (its own mask blocks nothing); helper stops it,
        // continues it, and sends SIGUSR1 before it runs. Linux stops main inside get_signal with the
        // temporary mask in force, so SIGUSR1 stays blocked there; get_signal finds nothing, the call is
        // rewound and restore_saved_sigmask unblocks SIGUSR1, whose handler then runs with the rewound
        // call in the registers: no EINTR, and sigsuspend sleeps again after the handler.
        let text = "handler h {\n  got = got + 1\n}\nprocess main {\n  got = 0\n  sigaction SIGUSR1 h -> 0\n  \
                    sigaction SIGUSR2 h -> 0\n  sigsuspend SIGUSR1\n  exit 7\n}\n\
                    process helper expect exited 0 {\n  kill main SIGSTOP -> 0\n  kill main SIGCONT -> 0\n  \
                    kill main SIGUSR1 -> 0\n}\n";
        // main: two sigactions and sigsuspend; helper stops it; main takes the stop; helper continues
        // it and sends the signal; main runs (and sleeps again, or returns); helper ends; main again.
        let choices = [2, 2, 2, 3, 2, 3, 3, 2, 2, 3, 2];
        let run = |text: &str| {
            let scenario = crate::parse(text).unwrap_or_else(|errors| panic!("{:?}", errors[0]));
            let config = RunConfig {
                policy: Policy::Choices { pids: choices[..choices.len() - 1].to_vec() },
                check_invariants: true,
                ..RunConfig::default()
            };
            let mut simulation = Simulation::new(&scenario, config).unwrap();
            simulation.run().unwrap();
            simulation
        };
        let handled = |simulation: &Simulation| {
            simulation
                .trace()
                .events
                .iter()
                .filter(|event| {
                    matches!(event.kind, EventKind::Delivered { pid: 2, delivery: Delivery::Handler { .. }, .. })
                })
                .count()
        };
        let simulation = run(text);
        let report = simulation.report().unwrap();
        assert_eq!(handled(&simulation), 1, "the handler runs once");
        let main = simulation.kernel().procs.iter().find(|process| &*process.name == "main").unwrap();
        assert_eq!(main.status, None, "sigsuspend does not return");
        assert!(
            matches!(&report.outcome, crate::RunOutcome::Deadlock { waiting } if waiting.iter().any(|edge| edge.pid == 2 && edge.reason == Some(BlockReason::Signal))),
            "main sleeps in sigsuspend again: {:?}",
            report.outcome
        );
        // The same when the stop wakes main but SIGCONT discards it before main runs: sigsuspend returns
        // -ERESTARTNOHAND (TIF_SIGPENDING), get_signal finds nothing its mask lets through, and the
        // handler of SIGUSR1 runs over the call, which then sleeps again.
        let scenario = crate::parse(text).unwrap();
        let config = RunConfig {
            policy: Policy::Choices { pids: vec![2, 2, 2, 3, 3, 3, 2, 2, 3] },
            check_invariants: true,
            ..RunConfig::default()
        };
        let mut woken = Simulation::new(&scenario, config).unwrap();
        woken.run().unwrap();
        assert_eq!(handled(&woken), 1, "the handler runs once");
        let main = woken.kernel().procs.iter().find(|process| &*process.name == "main").unwrap();
        assert_eq!((main.status, &main.state), (None, &crate::kernel::ProcState::Blocked(BlockReason::Signal)));
        // SIGUSR2, which the temporary mask lets through, ends the call when main runs (get_signal takes
        // it with -ERESTARTNOHAND still in the registers): EINTR, then exit 7.
        let let_through = text
            .replace("kill main SIGUSR1", "kill main SIGUSR2")
            .replace("sigsuspend SIGUSR1", "sigsuspend SIGUSR1 -> EINTR");
        let scenario = crate::parse(&let_through).unwrap();
        let config = RunConfig {
            policy: Policy::Choices { pids: choices.to_vec() },
            check_invariants: true,
            ..RunConfig::default()
        };
        let mut simulation = Simulation::new(&scenario, config).unwrap();
        simulation.run().unwrap();
        let report = simulation.report().unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert_eq!(handled(&simulation), 1);
        let main = simulation.kernel().procs.iter().find(|process| &*process.name == "main").unwrap();
        assert_eq!(main.status, Some(ChildStatus::Exited(7)));
    }

    #[test]
    fn a_call_woken_by_a_stop_that_sigcont_took_back_still_sees_a_signal_pending() {
        // The writer sleeps with 65536 bytes in; SIGSTOP wakes it, SIGCONT discards the stop before it
        // runs, and its write returns the partial count (TIF_SIGPENDING is still set).
        // main forks; the writer fills the pipe and sleeps; main stops and continues it; the writer runs.
        holds_under(
            "process main expect exited 0 {\n  p = pipe\n  fork writer expect exited 0 {\n    \
             write p.w 70_000 bytes of \"x\" -> 65_536\n  }\n  kill writer SIGSTOP -> 0\n  \
             kill writer SIGCONT -> 0\n  close p.w -> 0\n  read p.r 100_000 -> 65_536\n  \
             waitpid writer -> writer exited 0\n}\n",
            &[2, 2, 3, 2, 2, 3, 2, 2, 3, 2, 2],
        );
    }

    #[test]
    fn a_continued_child_tells_its_parent_when_it_runs_not_at_the_sigcont() {
        // The parent's SIGCHLD handler counts CLD_CONTINUED: after its kill SIGCONT, and a waitpid
        // WCONTINUED that finds the continue at once, nothing has come (the child has not run); the
        // child's SIGCHLD comes when it runs, and its exit's SIGCHLD coalesces with it.
        let text = "handler h {\n  if si_code == CLD_CONTINUED {\n    conts = conts + 1\n  }\n}\n\
             process main expect exited 0 {\n  conts = 0\n  sigaction SIGCHLD h SA_SIGINFO -> 0\n  \
             fork kid expect exited 0 {\n    raise SIGSTOP -> 0\n  }\n  \
             waitpid kid WUNTRACED -> kid stopped SIGSTOP\n  kill kid SIGCONT -> 0\n  \
             waitpid kid WCONTINUED -> kid continued\n  if conts != 0 {\n    exit 1\n  }\n  \
             waitpid kid -> kid exited 0\n  if conts != 1 {\n    exit 2\n  }\n}\n";
        // The kid stops at step 3 and runs again only at step 9, when main sleeps in waitpid.
        holds_under(text, &[2, 2, 3, 2, 2, 2, 2, 2, 3, 2, 2, 2]);
    }

    #[test]
    fn siginfo_says_who_sent_and_how_as_linux_fills_it_in() {
        // raise is tgkill (SI_TKILL); SIGCHLD carries a CLD_* code, the child and its status (in
        // si_value's place); SIGPIPE comes from the writer itself (SI_USER); an alarm from the kernel
        // (SI_KERNEL, si_pid 0).
        holds(
            "handler h {\n  codes = codes * 10 + si_code + 6\n  pids = pids + si_pid\n  \
             values = values + si_value\n}\nprocess main expect exited 0 {\n  codes = 0\n  pids = 0\n  \
             values = 0\n  me = getpid\n  sigaction SIGUSR1 h SA_SIGINFO -> 0\n  \
             sigaction SIGCHLD h SA_SIGINFO -> 0\n  sigaction SIGPIPE h SA_SIGINFO -> 0\n  \
             sigaction SIGALRM h SA_SIGINFO -> 0\n  raise SIGUSR1 -> 0\n  old = sigprocmask SIG_BLOCK SIGCHLD -> ok\n  \
             fork kid expect exited 7 {\n    exit 7\n  }\n  sigsuspend old -> EINTR\n  \
             waitpid kid -> kid exited 7\n  p = pipe\n  close p.r -> 0\n  write p.w \"x\" -> EPIPE\n  \
             alarm 1 -> 0\n  pause -> EINTR\n  \
             if codes != 0 * 1000 + (1 + 6) * 100 + (0 + 6) * 10 + (128 + 6) {\n    exit 1\n  }\n  \
             if pids != me + kid + me {\n    exit 2\n  }\n  if values != 7 {\n    exit 3\n  }\n}\n",
        );
    }

    #[test]
    fn sigkill_and_sigstop_cannot_be_caught_blocked_or_ignored() {
        holds(
            "handler h {\n  x = 1\n}\nprocess main expect killed SIGKILL {\n  sigaction SIGKILL h -> EINVAL\n  \
             signal SIGSTOP SIG_IGN -> EINVAL\n  sigaction SIGKILL SIG_DFL -> EINVAL\n  \
             sigprocmask SIG_BLOCK SIGKILL|SIGSTOP -> ok\n  old = sigprocmask SIG_BLOCK 0 -> ok\n  \
             if old != 0 {\n    exit 1\n  }\n  raise SIGKILL\n  exit 2\n}\n",
        );
    }

    #[test]
    fn the_c_library_keeps_signals_32_and_33_but_kill_sends_them() {
        holds(
            "handler h {\n  x = 1\n}\nprocess main expect killed SIG32 {\n  sigaction 32 h -> EINVAL\n  \
             sigaction 33 SIG_IGN -> EINVAL\n  sigaction SIGRTMIN h -> 0\n  sigaction 65 h -> EINVAL\n  \
             kill self 65 -> EINVAL\n  kill self 32\n  exit 3\n}\n",
        );
    }

    #[test]
    fn sa_resethand_runs_the_handler_once_then_the_default_kills() {
        holds(
            "handler h {\n  n = n + 1\n}\nprocess main expect killed SIGUSR1 {\n  n = 0\n  \
             sigaction SIGUSR1 h SA_RESETHAND -> 0\n  raise SIGUSR1 -> 0\n  if n != 1 {\n    exit 1\n  }\n  \
             raise SIGUSR1\n  exit 2\n}\n",
        );
    }

    #[test]
    fn without_sa_nodefer_a_signal_waits_for_its_own_handler_and_with_it_nests() {
        // Without SA_NODEFER: the raise inside the handler stays pending until the handler returns,
        // so the first run finishes (depth back to 0) before the second starts.
        holds(
            "handler h {\n  depth = depth + 1\n  if depth > deepest {\n    deepest = depth\n  }\n  \
             if runs == 0 {\n    runs = 1\n    raise SIGUSR1 -> 0\n  }\n  depth = depth - 1\n}\n\
             process main expect exited 0 {\n  depth = 0\n  deepest = 0\n  runs = 0\n  \
             sigaction SIGUSR1 h -> 0\n  raise SIGUSR1 -> 0\n  if deepest != 1 {\n    exit 1\n  }\n}\n",
        );
        // With SA_NODEFER the second delivery comes as the raise returns, inside the first handler.
        holds(
            "handler h {\n  depth = depth + 1\n  if depth > deepest {\n    deepest = depth\n  }\n  \
             if runs == 0 {\n    runs = 1\n    raise SIGUSR1 -> 0\n  }\n  depth = depth - 1\n}\n\
             process main expect exited 0 {\n  depth = 0\n  deepest = 0\n  runs = 0\n  \
             sigaction SIGUSR1 h SA_NODEFER -> 0\n  raise SIGUSR1 -> 0\n  if deepest != 2 {\n    exit 1\n  }\n}\n",
        );
    }

    #[test]
    fn handlers_nest_no_deeper_than_the_limit() {
        let scenario = crate::parse(
            "handler h {\n  raise SIGUSR1\n}\nprocess main {\n  sigaction SIGUSR1 h SA_NODEFER\n  raise SIGUSR1\n}\n",
        )
        .unwrap();
        let mut simulation = Simulation::new(&scenario, RunConfig::default()).unwrap();
        let outcome = simulation.run().unwrap().clone();
        assert!(
            matches!(&outcome, crate::RunOutcome::LimitReached { limit, .. } if limit == "max_signal_frames"),
            "{outcome:?}"
        );
        // The signal the limit stopped is still pending: the run ends in a state Linux could be in, with
        // nothing dequeued and dropped on the way.
        let main = simulation.kernel().procs.iter().find(|process| &*process.name == "main").unwrap();
        assert_eq!(main.sig.pending, crate::linux::signal::Signal(10).mask_bit());
        assert_eq!(main.sig.frames.len() as u32, crate::Limits::DEFAULT.max_signal_frames);
    }

    #[test]
    fn a_handler_taken_before_a_step_that_loops_without_calls_ends_the_run_at_its_limit() {
        // SIGUSR1 comes while main is away, so main takes it as its next step starts; the handler's code
        // never makes a call and runs out of its budget of operations: the run ends there, and main's
        // own call (which the handler's code stands in front of) is not made.
        let scenario = crate::parse(
            "handler h {\n  while n == 0 {\n    n = 0\n  }\n}\nprocess main {\n  n = 0\n  \
             sigaction SIGUSR1 h -> 0\n  getpid\n}\nprocess helper {\n  kill main SIGUSR1 -> 0\n}\n",
        )
        .unwrap();
        let config = RunConfig { policy: Policy::RoundRobin, check_invariants: true, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).unwrap();
        let outcome = simulation.run().unwrap().clone();
        assert!(
            matches!(&outcome, crate::RunOutcome::LimitReached { limit, .. } if limit == "max_user_ops_per_step"),
            "{outcome:?}"
        );
    }

    #[test]
    fn ignoring_a_signal_discards_what_is_pending_and_a_fork_keeps_actions_and_mask_but_not_pending() {
        holds(
            "handler h {\n  n = n + 1\n}\nprocess main expect exited 0 {\n  n = 0\n  sigaction SIGUSR1 h -> 0\n  \
             sigprocmask SIG_BLOCK SIGUSR1|SIGUSR2 -> ok\n  raise SIGUSR1 -> 0\n  raise SIGUSR2 -> 0\n  \
             signal SIGUSR2 SIG_IGN -> 0\n  set = sigpending -> ok\n  if set != 512 {\n    exit 1\n  }\n  \
             fork child expect exited 0 {\n    pending = sigpending -> ok\n    if pending != 0 {\n      exit 2\n    }\n    \
             mask = sigprocmask SIG_BLOCK 0 -> ok\n    if mask != 512 + 2048 {\n      exit 3\n    }\n    \
             raise SIGUSR1 -> 0\n    sigprocmask SIG_SETMASK 0 -> ok\n    if n != 1 {\n      exit 4\n    }\n  }\n  \
             waitpid child -> child exited 0\n  sigprocmask SIG_SETMASK 0 -> ok\n  if n != 1 {\n    exit 5\n  }\n}\n",
        );
    }

    #[test]
    fn pause_returns_eintr_after_a_handler_and_a_caught_signal_does_not_kill() {
        holds(
            "handler h {\n  got = 1\n}\nprocess main expect exited 0 {\n  got = 0\n  signal SIGTERM h -> 0\n  \
             old = sigprocmask SIG_BLOCK SIGTERM -> ok\n  fork k {\n    kill main SIGTERM -> 0\n  }\n  \
             sigsuspend old -> EINTR\n  if got != 1 {\n    exit 1\n  }\n  mask = sigprocmask SIG_BLOCK 0 -> ok\n  \
             if mask != 16384 {\n    exit 2\n  }\n  wait -> k exited 0\n}\n",
        );
    }

    #[test]
    fn sigwaitinfo_takes_a_blocked_signal_without_its_handler() {
        holds(
            "handler h {\n  ran = 1\n}\nprocess main expect exited 0 {\n  ran = 0\n  sigaction SIGUSR2 h -> 0\n  \
             sigprocmask SIG_BLOCK SIGUSR2 -> ok\n  raise SIGUSR2 -> 0\n  sigwaitinfo SIGUSR2 -> 12\n  \
             if ran != 0 {\n    exit 1\n  }\n  sigpending -> ok\n}\n",
        );
    }

    /// `sigaction` takes any address (`do_sigaction` never looks at the handler); the signal sends the
    /// process there, and the fault kills it with `SIGSEGV`, even when `SIGSEGV` is blocked or caught
    /// (forced). Only glibc's `signal` refuses `SIG_ERR`.
    #[test]
    fn a_handler_at_an_address_without_code_is_taken_and_its_signal_kills_with_sigsegv() {
        holds(
            "handler h {\n  n = n + 1\n}\nprocess main expect exited 0 {\n  n = 0\n  signal SIGUSR1 -1 -> EINVAL\n  \
             sigaction SIGUSR1 -1 -> 0\n  signal SIGUSR1 9 -> -1\n  signal SIGUSR1 SIG_DFL -> 9\n  \
             fork a expect killed SIGSEGV no core {\n    sigaction SIGSEGV h -> 0\n    \
             sigprocmask SIG_BLOCK SIGSEGV -> 0\n    sigaction SIGUSR2 40 -> 0\n    raise SIGUSR2\n  }\n  \
             waitpid a -> a killed SIGSEGV no core\n  \
             sigaction SIGTERM 12 -> 0\n  fork b expect killed SIGSEGV no core {\n    pause\n  }\n  \
             kill b SIGTERM -> 0\n  waitpid b -> b killed SIGSEGV no core\n  if n != 0 {\n    exit 1\n  }\n}\n",
        );
    }

    /// A handler for `SIGSEGV` that the stray delivery's mask lets through would run, and each return
    /// from it would go back to the address to fault again: the run stops there, with the signal still
    /// pending (a state Linux could be in).
    #[test]
    fn a_stray_handler_whose_fault_a_handler_catches_stops_the_run() {
        let text = "handler h {\n  n = n + 1\n}\nprocess main {\n  n = 0\n  sigaction SIGSEGV h -> 0\n  \
                    sigaction SIGUSR2 40 -> 0\n  raise SIGUSR2\n}\n";
        let scenario = crate::parse(text).unwrap_or_else(|errors| panic!("{:?}", errors[0]));
        let mut simulation = Simulation::new(&scenario, RunConfig::default()).unwrap();
        let outcome = simulation.run().unwrap().clone();
        assert!(
            matches!(&outcome, crate::RunOutcome::LimitReached { limit, .. } if limit == "not_modelled"),
            "{outcome:?}"
        );
        let main = simulation.kernel().process(2);
        assert_eq!(main.sig.pending, crate::linux::signal::Signal(12).mask_bit(), "SIGUSR2 is still pending");
        assert!(main.is_alive());
    }

    /// Linux's `fork` returns before the child runs: a child whose code faults before its first call
    /// is alive when the parent's `fork` step ends, resting on the faulting operation, and faults in its
    /// own first step.
    #[test]
    fn a_child_that_faults_before_its_first_call_faults_in_its_own_step() {
        let text = "process parent expect exited 0 {\n  fork kid expect killed SIGFPE {\n    zero = 0\n    \
                    quotient = 1 / zero\n    getpid\n  }\n  wait -> kid killed SIGFPE\n}\n";
        let scenario = crate::parse(text).unwrap_or_else(|errors| panic!("{:?}", errors[0]));
        let config =
            RunConfig { policy: Policy::Choices { pids: vec![2, 3] }, check_invariants: true, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).unwrap();
        simulation.step().unwrap();
        let kernel = simulation.kernel();
        assert!(kernel.process(3).is_alive(), "the child has not run yet");
        let op = kernel.next_op(3).expect("the child rests on an operation");
        assert!(matches!(kernel.program.ops[op as usize].kind, crate::lang::compile::OpKind::Assign { .. }));
        assert!(!simulation.trace().events.iter().any(|event| matches!(event.kind, EventKind::Fault { .. })));
        simulation.step().unwrap();
        let fault =
            simulation.trace().events.iter().find(|event| matches!(event.kind, EventKind::Fault { pid: 3, .. }));
        assert_eq!(fault.map(|event| event.step), Some(2), "the fault is the child's own step");
        simulation.run().unwrap();
        let report = simulation.report().unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
    }
}
