//! Signals: `kill` (to a process, to a process group, to everyone), dispositions (`signal`), `pause`,
//! and what a signal does when it arrives.
//!
//! Scenario processes all run as one ordinary user and `init` as root, so a `kill` may reach any
//! scenario process but never `init` (`EPERM`), and `kill(-1)` reaches every scenario process but the
//! caller.
//!
//! Only default actions and `SIG_IGN` exist so far. A signal's default action happens within the step
//! of the `kill` that sent it (Linux delivers it when the target next runs, which in a step-by-step run
//! is no different for default actions). The rules come from `kernel/signal.c`: `kill_something_info`
//! (who a `kill` reaches), `prepare_signal` (`SIGCONT` discards pending stops and a stop discards a
//! pending `SIGCONT`), `wants_signal` (a stopped task takes no fatal signal but `SIGKILL` until it is
//! continued) and `do_signal_stop`.
//!
//! Sessions are implicit: `init` has a session of its own and every scenario process shares another,
//! as under `ipclab check` (where `init` calls `setsid` after starting them). So every top-level
//! process group is *orphaned* (no member has a parent in another group of the same session) and the
//! job-control stops `SIGTSTP`, `SIGTTIN` and `SIGTTOU` do nothing to it (`get_signal`,
//! `is_current_pgrp_orphaned`), while a group a scenario makes with `setpgid` is not orphaned until
//! its last link outside dies; if it then has a stopped member, the kernel sends it `SIGHUP` and
//! `SIGCONT` (`kill_orphaned_pgrp` in `kernel/exit.c`).

use super::{CallContext, Exec, Interruption, Kernel, Mechanism, ProcState, INIT_PID};
use crate::lang::syscalls::CallId;
use crate::linux::errno::{EINVAL, EPERM, ESRCH};
use crate::linux::signal::{SIGCONT, SIGHUP, SIGKILL, SIGSTOP, SIG_DFL, SIG_IGN, STOP_SIGNALS};
use crate::linux::{ChildStatus, DefaultAction, Signal};
use crate::trace::{BlockReason, CallResult, Event, EventKind, ObjectRef, Pid, SignalEffect, Trace};

/// Whether `signal` would kill `pid` now (it is neither ignored nor harmless by default).
pub(crate) fn is_fatal_now(kernel: &Kernel, pid: Pid, signal: Signal) -> bool {
    let ignored = kernel.process(pid).ignored_signals & signal.mask_bit() != 0;
    !ignored && matches!(signal.default_action(), DefaultAction::Terminate | DefaultAction::Core)
}

/// `kill(target, number)`: who the signal reaches (`kill_something_info`), sent after the call's event.
fn kill(kernel: &mut Kernel, pid: Pid, target: i64, number: i64) -> Exec {
    let signal = match number {
        0 => None,
        number => match Signal::from_number(number) {
            Some(signal) => Some(signal),
            // FIXME(signals issue): 32..=64 are Linux's real-time signals, valid but not modelled yet.
            None => return Kernel::error(EINVAL),
        },
    };
    let targets: Vec<Pid> = match target {
        // init belongs to another user (root): `check_kill_permission` refuses, whatever the signal.
        1 => return Kernel::error(EPERM),
        target if target > 0 => {
            if !kernel.exists(target) {
                return Kernel::error(ESRCH);
            }
            vec![target as Pid]
        }
        0 => group_members(kernel, kernel.process(pid).pgid),
        -1 => kernel.alive.iter().copied().filter(|other| *other != pid).collect(),
        group => group_members(kernel, group.unsigned_abs() as Pid),
    };
    if targets.is_empty() {
        return Kernel::error(ESRCH);
    }
    if kernel.footprint.enabled {
        for to in &targets {
            kernel.footprint.write(ObjectRef::process(*to));
        }
    }
    if let Some(signal) = signal {
        for to in targets {
            kernel.deferred.push((pid, to, signal));
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
    let has_stopped = members.iter().any(|pid| kernel.process(*pid).state == ProcState::Stopped);
    if !has_stopped || !is_orphaned_group(kernel, pgid, ignored) {
        return;
    }
    trace.record(Event { step: kernel.step as u32, kind: EventKind::Orphaned { pid: exiting, pgid } });
    for signal in [SIGHUP, SIGCONT] {
        for to in group_members(kernel, pgid) {
            send_signal(kernel, exiting, to, signal, trace);
        }
    }
}

/// `signal(number, action)` with `SIG_DFL` or `SIG_IGN`; returns the previous disposition.
fn set_disposition(kernel: &mut Kernel, pid: Pid, number: i64, action: i64) -> Exec {
    let Some(signal) = Signal::from_number(number) else { return Kernel::error(EINVAL) };
    if signal.is_unblockable() || !(action == SIG_DFL || action == SIG_IGN) {
        // FIXME(signals issue): any other action is a handler, which is not modelled yet.
        return Kernel::error(EINVAL);
    }
    let process = kernel.proc_mut(pid);
    let bit = signal.mask_bit();
    let previous = if process.ignored_signals & bit != 0 { SIG_IGN } else { SIG_DFL };
    if action == SIG_IGN {
        process.ignored_signals |= bit;
        // `do_sigaction`: setting SIG_IGN discards the signal if it is pending.
        process.pending_signals &= !bit;
    } else {
        process.ignored_signals &= !bit;
    }
    Exec::Done(CallResult::Value { value: previous })
}

/// Generates `signal` for `to` and carries out its default action or disposition at once.
pub(crate) fn send_signal(kernel: &mut Kernel, from: Pid, to: Pid, signal: Signal, trace: &mut Trace) {
    let state = kernel.process(to).state.clone();
    let record = |kernel: &mut Kernel, trace: &mut Trace, effect| {
        trace.record(Event { step: kernel.step as u32, kind: EventKind::Signal { from, to, signal, effect } });
    };
    if matches!(state, ProcState::Zombie | ProcState::Reaped) {
        record(kernel, trace, SignalEffect::NoEffect);
        return;
    }
    let bit = signal.mask_bit();
    let ignored = kernel.process(to).ignored_signals & bit != 0;
    let action = signal.default_action();
    let job_control_stop = action == DefaultAction::Stop && signal != SIGSTOP;
    if job_control_stop && !ignored && is_orphaned_group(kernel, kernel.process(to).pgid, None) {
        // `prepare_signal` still discards a pending SIGCONT; `get_signal` then drops the stop.
        kernel.proc_mut(to).pending_signals &= !SIGCONT.mask_bit();
        record(kernel, trace, SignalEffect::Discarded);
        return;
    }
    let takes_effect = signal == SIGKILL
        || (!ignored && matches!(action, DefaultAction::Stop | DefaultAction::Terminate | DefaultAction::Core));
    if takes_effect && state == ProcState::Runnable && kernel.process(to).call.waited {
        // A process woken in the middle of a call, and not yet run, meets a signal that stops or kills
        // it. Linux acts on the signal only when the process runs, and the first thing it does then is
        // test the condition it slept on (`___wait_event` checks the condition before
        // `signal_pending`): a read takes the data that woke it, a wait reaps the child, an open
        // completes. Only if the condition is false again does the signal interrupt the call. Some
        // calls look at the signal first (a woken `msgsnd`, `sem_wait`): those give up, and start
        // again from the beginning once the process runs.
        if kernel.woken_call_finishes(to) {
            kernel.finish_call_now(to, trace);
        } else {
            kernel.proc_mut(to).call.reset();
        }
    }
    let state = kernel.process(to).state.clone();
    if signal == SIGCONT {
        // SIGCONT continues a stopped process whatever its disposition, and cancels pending stops.
        let stop_mask: u64 = STOP_SIGNALS.iter().map(|number| Signal(*number).mask_bit()).sum();
        kernel.proc_mut(to).pending_signals &= !stop_mask;
        if state == ProcState::Stopped {
            record(kernel, trace, SignalEffect::Continued);
            kernel.set_state(to, ProcState::Runnable);
            kernel.proc_mut(to).report = Some(super::process::ChildReport::Continued);
            super::process::notify_parent(kernel, to, trace);
            // A fatal signal that arrived while stopped takes effect now.
            let pending = kernel.process(to).pending_signals;
            if pending != 0 {
                let first = Signal(pending.trailing_zeros() as u8 + 1);
                kernel.proc_mut(to).pending_signals = 0;
                let effect = if first.default_action() == DefaultAction::Core {
                    SignalEffect::TerminatedCore
                } else {
                    SignalEffect::Terminated
                };
                trace.record(Event {
                    step: kernel.step as u32,
                    kind: EventKind::Signal { from: to, to, signal: first, effect },
                });
                super::process::exit_process(kernel, to, ChildStatus::Killed { signal: first, core: false }, trace);
            }
        } else {
            record(kernel, trace, if ignored { SignalEffect::Ignored } else { SignalEffect::NoEffect });
        }
        return;
    }
    if signal != SIGKILL && (ignored || action == DefaultAction::Ignore) && !signal.is_unblockable() {
        record(kernel, trace, SignalEffect::Ignored);
        return;
    }
    match action {
        DefaultAction::Stop => {
            kernel.proc_mut(to).pending_signals &= !SIGCONT.mask_bit();
            if state == ProcState::Stopped {
                record(kernel, trace, SignalEffect::NoEffect);
                return;
            }
            record(kernel, trace, SignalEffect::Stopped);
            interrupt_for_stop(kernel, to, signal, trace);
            kernel.set_state(to, ProcState::Stopped);
            kernel.proc_mut(to).report = Some(super::process::ChildReport::Stopped(signal));
            super::process::notify_parent(kernel, to, trace);
        }
        DefaultAction::Core | DefaultAction::Terminate if state == ProcState::Stopped && signal != SIGKILL => {
            // A fatal signal other than SIGKILL waits until the process runs again: Linux's
            // `wants_signal` refuses a stopped task, so `complete_signal` leaves it pending.
            kernel.proc_mut(to).pending_signals |= bit;
            record(kernel, trace, SignalEffect::Pending);
        }
        DefaultAction::Core => {
            record(kernel, trace, SignalEffect::TerminatedCore);
            super::process::exit_process(kernel, to, ChildStatus::Killed { signal, core: false }, trace);
        }
        DefaultAction::Terminate | DefaultAction::Ignore | DefaultAction::Continue => {
            record(kernel, trace, SignalEffect::Terminated);
            super::process::exit_process(kernel, to, ChildStatus::Killed { signal, core: false }, trace);
        }
    }
}

/// A stop signal wakes a sleeping process: its mechanism says whether its call returns what it has done
/// so far or starts again after `SIGCONT` (a waiting FIFO open gives up its place).
fn interrupt_for_stop(kernel: &mut Kernel, pid: Pid, signal: Signal, trace: &mut Trace) {
    let ProcState::Blocked(reason) = kernel.process(pid).state.clone() else { return };
    let interruption = Kernel::interruption(&reason);
    kernel.leave_wait_queue(pid);
    super::fifo::cancel_pending_open(kernel, pid, trace);
    let result = match interruption {
        Interruption::Restart => None,
        Interruption::Partial(done) => Some(CallResult::Value { value: done as i64 }),
        Interruption::Fail(errno) => Some(CallResult::Error { errno }),
    };
    if let Some(result) = result {
        let op = kernel.process(pid).pc;
        trace.record(Event { step: kernel.step as u32, kind: EventKind::Interrupted { pid, op, signal } });
        let args = kernel.process(pid).call.args;
        kernel.complete_call(pid, op, &args, result, trace);
    }
    kernel.proc_mut(pid).call.reset();
}

/// User-space code faulted (a division by zero): the CPU raises `signal` for it. A fault's signal cannot
/// be ignored (`force_sig_fault` puts back the default action), so the process dies of it.
pub(crate) fn fault(kernel: &mut Kernel, pid: Pid, op: u32, signal: Signal, trace: &mut Trace) {
    if !kernel.process(pid).is_alive() {
        return;
    }
    trace.record(Event { step: kernel.step as u32, kind: EventKind::Fault { pid, op, signal } });
    trace.record(Event {
        step: kernel.step as u32,
        kind: EventKind::Signal { from: pid, to: pid, signal, effect: SignalEffect::TerminatedCore },
    });
    super::process::exit_process(kernel, pid, ChildStatus::Killed { signal, core: false }, trace);
}

/// The signal mechanism: `kill`, `signal`, `pause`.
pub struct Signals;

impl Mechanism for Signals {
    fn call(kernel: &mut Kernel, call: &CallContext, _trace: &mut Trace) -> Exec {
        match call.id() {
            CallId::Kill => kill(kernel, call.pid, call.arg(0), call.arg(1)),
            CallId::Signal => set_disposition(kernel, call.pid, call.arg(0), call.arg(1)),
            CallId::Pause => Exec::Block(BlockReason::Signal),
            other => unreachable!("{} is not a signal call", other.name()),
        }
    }
}
