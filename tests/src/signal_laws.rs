//! The laws of signals that hold across a step, not just in a state: given what the kernel held before
//! a step, the events of the step and what it holds after, [`check_step`] says whether
//!
//! - **(a) a pending signal is never lost**: every pending instance is still pending after the step,
//!   or an event of the step accounts for it: it was delivered, a `sigwaitinfo`/`sigtimedwait` took it
//!   (`dequeue_signal`), one of Linux's discard rules dropped it (`prepare_signal`: `SIGCONT` discards
//!   pending stops and a stop discards a pending `SIGCONT`; `do_sigaction`: an action that ignores the
//!   signal discards it), or the process died (its pending set goes with it);
//! - **(b) a blocked signal is never delivered**: no `Delivered` event names a signal that the process
//!   blocked at that moment (`SIGKILL` and `SIGSTOP` cannot be blocked, and a CPU fault's signal is
//!   forced through: `force_sig_fault`). The mask at that moment is rebuilt from the mask before the
//!   step and the step's events, in order: `sigprocmask`, `sigsuspend`'s temporary mask, a handler's
//!   `sa_mask` and the signal itself at delivery (`handle_signal`), `rt_sigreturn`;
//! - **(c) a handler returns to the frame it interrupted**: the implicit `rt_sigreturn` removes the
//!   frame on top (that of the handler whose code ended), the frames under it are untouched, and the
//!   process goes back to the code, the call state and the blocked mask the frame saved.
//!
//! Besides, the rebuilt mask and handler frames must be those the kernel holds after the step
//! ([`Law::Bookkeeping`]): the step's events tell the whole story of the mask.
//!
//! One case leaves no event to rebuild the mask from: a `sigsuspend` whose temporary mask unblocks a
//! signal that kills the process at once (the call never returns, and the trace shows only the death).
//! There the checker reads the call's operand from the process (where it rested before the step, or
//! where its handler's code took it in the step) and takes that mask for the delivery.
//!
//! Only what the events and the two states show is used: the checker rebuilds the rules from Linux's
//! (`kernel/signal.c`), not from the model's code.

use sim_core::kernel::signal::{Action, Frame, SignalState};
use sim_core::kernel::{Kernel, Process};
use sim_core::lang::compile::{OpKind, Program, FIRST_HANDLER};
use sim_core::lang::syscalls::CallId;
use sim_core::linux::signal::{
    BLOCKABLE, SA_NODEFER, SA_RESETHAND, SA_RESTART, SIGCONT, SIG_BLOCK, SIG_DFL, SIG_IGN, SIG_SETMASK, SIG_UNBLOCK,
};
use sim_core::linux::{DefaultAction, Signal};
use sim_core::trace::{CallResult, Delivery, Event, EventKind, Pid, SignalEffect, IMPLICIT_SIGRETURN_OP};
use std::collections::{BTreeMap, BTreeSet};

/// Which law a step broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Law {
    /// (a) A pending signal vanished with no event of the step to account for it.
    PendingLost,
    /// (b) A signal was delivered while the process blocked it.
    DeliveredWhileBlocked,
    /// (c) A handler returned to something else than the frame it interrupted.
    HandlerReturn,
    /// The mask or the frames after the step are not what the step's events make them.
    Bookkeeping,
}

/// A broken law: where, who, which signal, and what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub law: Law,
    pub step: u64,
    pub pid: Pid,
    pub process: String,
    pub signal: Option<Signal>,
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let signal = self.signal.map_or(String::new(), |signal| format!(", {}", signal.name()));
        write!(
            formatter,
            "step {}: {:?} in {} (pid {}{}): {}",
            self.step, self.law, self.process, self.pid, signal, self.detail
        )
    }
}

/// What the checker needs of one process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcView {
    pub pid: Pid,
    pub name: String,
    pub alive: bool,
    pub sig: SignalState,
    pub pc: u32,
    pub end_pc: u32,
    pub call: sim_core::kernel::process::InCall,
    /// The temporary mask of the `sigsuspend` the process rests on, if it rests on one: a signal that
    /// kills the process as the call starts leaves no event of the call (its operand is read here).
    pub sigsuspend_mask: Option<u64>,
}

impl ProcView {
    pub fn of(program: &Program, process: &Process) -> ProcView {
        let sigsuspend_mask = match &program.ops.get(process.pc as usize).map(|op| &op.kind) {
            Some(OpKind::Call(call)) if call.id == CallId::Sigsuspend && process.pc < process.end_pc => {
                if process.call.waited || process.call.restart {
                    Some(process.call.args.get(0) as u64)
                } else {
                    let mut args = sim_core::trace::Args::default();
                    sim_core::kernel::resolve_args(call, &process.vars, process.pid, &mut args)
                        .ok()
                        .map(|()| args.get(0) as u64)
                }
            }
            _ => None,
        };
        ProcView {
            sigsuspend_mask,
            pid: process.pid,
            name: process.name.to_string(),
            alive: process.is_alive(),
            sig: process.sig.clone(),
            pc: process.pc,
            end_pc: process.end_pc,
            call: process.call,
        }
    }

    /// Pending instances of `signal`.
    pub fn count(&self, signal: Signal) -> usize {
        self.sig.queue.iter().filter(|queued| queued.signal == signal).count()
    }
}

/// The signal state of every process at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    pub procs: Vec<ProcView>,
}

impl View {
    pub fn of(kernel: &Kernel) -> View {
        View { procs: kernel.procs.iter().map(|process| ProcView::of(&kernel.program, process)).collect() }
    }

    pub fn get(&self, pid: Pid) -> Option<&ProcView> {
        self.procs.iter().find(|view| view.pid == pid)
    }
}

/// What the runs checked so far did, to show that the laws were put to the test.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub steps: u64,
    pub deliveries: u64,
    pub handler_deliveries: u64,
    pub default_deliveries: u64,
    pub sigreturns: u64,
    /// Deliveries of a signal that was pending and blocked before some earlier step of the run.
    pub blocked_then_delivered: u64,
    pub sigwait_taken: u64,
    pub alarms: u64,
    pub timer_wakes: u64,
    /// Steps where a discard rule dropped a pending signal.
    pub discards: u64,
    pub sigsuspends: u64,
    pub sigactions_with_flags_or_mask: u64,
}

/// The op's call, if it is a call of the program.
fn call_id(program: &Program, op: u32) -> Option<CallId> {
    match &program.ops.get(op as usize)?.kind {
        OpKind::Call(call) => Some(call.id),
        _ => None,
    }
}

fn ignores_by_default(signal: Signal) -> bool {
    matches!(signal.default_action(), DefaultAction::Ignore | DefaultAction::Continue)
}

fn is_stop(signal: Signal) -> bool {
    signal.default_action() == DefaultAction::Stop
}

/// One process's signal state as the step's events rebuild it.
struct Replay {
    /// The blocked mask; `None` while the events do not say it (a `sigsuspend` that starts again
    /// without an event that carries its operand), until one sets it again.
    blocked: Option<u64>,
    /// The mask `sigsuspend` puts back.
    suspended: Option<u64>,
    /// Frames: the saved mask each restores, and the whole frame when it was there before the step.
    frames: Vec<(Signal, u32, Option<u64>, Option<Frame>)>,
    sig: SignalState,
    dead: bool,
    /// The last frame a handler returned from in this step, and whether a frame was pushed since (at
    /// the depth where the returned frame was: the first frame pushed after the return saves where the
    /// process came back to).
    returned: Option<(Frame, bool)>,
    /// Whether a call was interrupted after the return (a handler delivered as a stopped call waits to
    /// start again decides how that call ends, which changes the call state the frame saved).
    interrupted_after_return: bool,
    /// Whether an event of the step showed a `sigsuspend` of this process.
    saw_sigsuspend: bool,
}

impl Replay {
    fn new(view: &ProcView) -> Replay {
        Replay {
            blocked: Some(view.sig.blocked),
            suspended: view.sig.suspended_mask,
            frames: view
                .sig
                .frames
                .iter()
                .map(|frame| (frame.signal, frame.handler, Some(frame.saved_blocked), Some(*frame)))
                .collect(),
            sig: view.sig.clone(),
            dead: !view.alive,
            returned: None,
            interrupted_after_return: false,
            saw_sigsuspend: false,
        }
    }

    /// `sigsuspend` puts in its temporary mask (unknown when the event does not carry it).
    fn suspend(&mut self, set: Option<u64>) {
        self.saw_sigsuspend = true;
        if self.suspended.is_none() {
            self.suspended = self.blocked;
        }
        self.blocked = set.map(|set| set & BLOCKABLE);
    }

    fn set_action(&mut self, signal: Signal, action: Action) {
        let bit = signal.mask_bit();
        self.sig.ignored &= !bit;
        self.sig.handled &= !bit;
        self.sig.handlers.retain(|(handled, _)| *handled != signal);
        match action {
            Action::Default => {}
            Action::Ignore => self.sig.ignored |= bit,
            Action::Handler { .. } | Action::Stray { .. } => {
                self.sig.handled |= bit;
                self.sig.handlers.push((signal, action));
            }
        }
    }
}

/// Checks one step. `tally` counts what the step exercised.
pub fn check_step(
    program: &Program,
    step: u64,
    stepped: Option<Pid>,
    before: &View,
    events: &[Event],
    after: &View,
    tally: &mut Tally,
) -> Result<(), Violation> {
    tally.steps += 1;
    let violation = |law, pid: Pid, signal: Option<Signal>, detail: String| {
        let process = after.get(pid).or(before.get(pid)).map_or(String::from("?"), |view| view.name.clone());
        Violation { law, step, pid, process, signal, detail }
    };
    let mut replays: BTreeMap<Pid, Replay> =
        before.procs.iter().filter(|view| view.alive).map(|view| (view.pid, Replay::new(view))).collect();
    // The process that ran: a `sigsuspend` of its that is to start again, or that a signal woke, and
    // whose temporary mask lets nothing through, gets its caller's mask back as the step starts
    // (`restore_saved_sigmask` once `get_signal` found nothing), with no event of its own.
    if let Some(view) = stepped.and_then(|pid| before.get(pid)) {
        let lets_through = |mask: u64| view.sig.pending & !(mask & BLOCKABLE) != 0;
        let woken =
            view.call.waited && view.sig.woken_by.is_some() && view.sig.suspended_mask.is_some_and(lets_through);
        if (view.call.restart || woken) && view.sig.deliverable() == 0 {
            if let (Some(replay), Some(mask)) = (replays.get_mut(&view.pid), view.sig.suspended_mask) {
                replay.blocked = Some(mask);
                replay.suspended = None;
            }
        }
    }
    // What the events account for, by process and signal.
    let mut removed: BTreeMap<(Pid, u8), usize> = BTreeMap::new();
    let mut added: BTreeMap<(Pid, u8), usize> = BTreeMap::new();
    let mut maybe_added: BTreeSet<(Pid, u8)> = BTreeSet::new();
    let mut discarded: BTreeSet<(Pid, u8)> = BTreeSet::new();
    let mut died: BTreeSet<Pid> = BTreeSet::new();
    for (index, event) in events.iter().enumerate() {
        let previous = index.checked_sub(1).map(|previous| &events[previous].kind);
        match &event.kind {
            EventKind::Signal { to, signal, effect, .. } => {
                if *effect != SignalEffect::NoEffect {
                    // `prepare_signal`: a stop discards a pending SIGCONT, SIGCONT the pending stops.
                    if is_stop(*signal) {
                        discarded.insert((*to, SIGCONT.0));
                    }
                    if *signal == SIGCONT {
                        for stop in [19u8, 20, 21, 22] {
                            discarded.insert((*to, stop));
                        }
                    }
                }
                match effect {
                    SignalEffect::Pending | SignalEffect::Blocked | SignalEffect::WhileStopped => {
                        *added.entry((*to, signal.0)).or_default() += 1;
                    }
                    // A SIGCONT that continues its target is queued too when it has a handler or is blocked.
                    SignalEffect::Continued => {
                        maybe_added.insert((*to, signal.0));
                    }
                    _ => {}
                }
            }
            EventKind::Exit { pid, .. } => {
                died.insert(*pid);
                if let Some(replay) = replays.get_mut(pid) {
                    replay.dead = true;
                }
            }
            EventKind::Alarm { .. } => tally.alarms += 1,
            EventKind::Wake { cause: sim_core::trace::WakeCause::Timer, .. } => tally.timer_wakes += 1,
            EventKind::Block { pid, op, args, .. } if call_id(program, *op) == Some(CallId::Sigsuspend) => {
                if let Some(replay) = replays.get_mut(pid) {
                    replay.suspend(Some(args.get(0) as u64));
                }
            }
            EventKind::Interrupted { pid, op, .. } => {
                if let Some(replay) = replays.get_mut(pid) {
                    if replay.returned.is_some() {
                        replay.interrupted_after_return = true;
                    }
                    if call_id(program, *op) == Some(CallId::Sigsuspend) {
                        // The call's own operands are not in the event: if a `Call` event follows, it
                        // tells the mask; if not (the call starts again), the mask is unknown until a
                        // later event sets it.
                        replay.suspend(None);
                    }
                }
            }
            EventKind::Call { pid, op, args, result } => {
                let Some(replay) = replays.get_mut(pid) else { continue };
                if *op == IMPLICIT_SIGRETURN_OP {
                    tally.sigreturns += 1;
                    let Some((signal, handler, saved, whole)) = replay.frames.pop() else {
                        return Err(violation(
                            Law::HandlerReturn,
                            *pid,
                            None,
                            "rt_sigreturn with no handler frame".into(),
                        ));
                    };
                    if args.get(0) != signal.0 as i64 {
                        return Err(violation(
                            Law::HandlerReturn,
                            *pid,
                            Some(signal),
                            format!(
                                "the frame on top is for {}, but the return removed one for signal {}",
                                signal.name(),
                                args.get(0)
                            ),
                        ));
                    }
                    if let Some(whole) = whole {
                        // The code that ended is the top frame's handler.
                        let code_end = program.handlers.get(handler as usize).map(|code| code.end);
                        let was = before.get(*pid).map(|view| view.end_pc);
                        if code_end != was {
                            return Err(violation(
                                Law::HandlerReturn,
                                *pid,
                                Some(signal),
                                format!("the handler that returned (its code ends at {was:?}) is not the top frame's (handler {handler}, ends at {code_end:?})"),
                            ));
                        }
                        replay.returned = Some((whole, false));
                        replay.interrupted_after_return = false;
                    }
                    replay.blocked = saved;
                    continue;
                }
                if matches!(result, CallResult::Error { .. }) && call_id(program, *op) != Some(CallId::Sigsuspend) {
                    continue;
                }
                match call_id(program, *op) {
                    Some(CallId::Sigprocmask) => {
                        // glibc's `sigprocmask` never blocks its own two signals (32 and 33).
                        let set = args.get(1) as u64 & !sim_core::linux::signal::GLIBC_INTERNAL;
                        replay.blocked = match args.get(0) {
                            SIG_BLOCK => replay.blocked.map(|old| old | set),
                            SIG_UNBLOCK => replay.blocked.map(|old| old & !set),
                            SIG_SETMASK => Some(set),
                            _ => replay.blocked,
                        }
                        .map(|mask| mask & BLOCKABLE);
                    }
                    Some(CallId::Sigsuspend) => {
                        tally.sigsuspends += 1;
                        replay.suspend(Some(args.get(0) as u64));
                    }
                    Some(id @ (CallId::Sigaction | CallId::Signal)) => {
                        let Some(signal) = Signal::from_number(args.get(0)) else { continue };
                        let (flags, mask) = if id == CallId::Signal {
                            (SA_RESTART, 0)
                        } else {
                            (args.get(2).max(0), args.get(3).max(0) as u64)
                        };
                        if id == CallId::Sigaction && (flags != 0 || mask != 0) {
                            tally.sigactions_with_flags_or_mask += 1;
                        }
                        let action = match args.get(1) {
                            SIG_DFL => Action::Default,
                            SIG_IGN => Action::Ignore,
                            value => match u32::try_from(value.wrapping_sub(FIRST_HANDLER)) {
                                Ok(handler) if (handler as usize) < program.handlers.len() => {
                                    Action::Handler { handler, flags, mask: mask & BLOCKABLE }
                                }
                                _ => Action::Stray { address: value, flags, mask: mask & BLOCKABLE },
                            },
                        };
                        replay.set_action(signal, action);
                        // `do_sigaction`: an action that ignores the signal discards what is pending.
                        if action == Action::Ignore || (action == Action::Default && ignores_by_default(signal)) {
                            discarded.insert((*pid, signal.0));
                        }
                    }
                    Some(CallId::Sigwaitinfo | CallId::Sigtimedwait) => {
                        if let CallResult::Value { value } = result {
                            if let Some(signal) = Signal::from_number(*value) {
                                tally.sigwait_taken += 1;
                                *removed.entry((*pid, signal.0)).or_default() += 1;
                            }
                        }
                    }
                    _ => {}
                }
            }
            EventKind::Delivered { pid, signal, delivery } => {
                tally.deliveries += 1;
                *removed.entry((*pid, signal.0)).or_default() += 1;
                // A fault's signal is forced through a mask; so is the `SIGSEGV` of a jump to a stray
                // handler's address.
                let forced = matches!(previous, Some(EventKind::Fault { pid: faulted, signal: raised, .. }) if faulted == pid && raised == signal)
                    || matches!(previous, Some(EventKind::Delivered { pid: jumped, delivery: Delivery::Stray { .. }, .. })
                        if jumped == pid && *signal == sim_core::linux::signal::SIGSEGV);
                let Some(replay) = replays.get_mut(pid) else { continue };
                // A signal that kills the process as its `sigsuspend` starts leaves no event of the
                // call: the call's temporary mask, read from its operand, is the one in force. The call
                // is where the process rested before the step, or where the step's handler code took it
                // (the process dies there, with its variables as they were).
                let temporary = [before.get(*pid), after.get(*pid)]
                    .into_iter()
                    .filter_map(|view| view.and_then(|view| view.sigsuspend_mask))
                    .find(|mask| mask & signal.mask_bit() == 0);
                if let (Delivery::Terminated { .. }, false, Some(temporary)) =
                    (delivery, replay.saw_sigsuspend, temporary)
                {
                    if replay.blocked.is_some_and(|blocked| blocked & signal.mask_bit() != 0)
                        && temporary & signal.mask_bit() == 0
                    {
                        replay.suspend(Some(temporary));
                    }
                }
                if let Some(blocked) = replay.blocked {
                    if !forced && !signal.is_unblockable() && blocked & signal.mask_bit() != 0 {
                        return Err(violation(
                            Law::DeliveredWhileBlocked,
                            *pid,
                            Some(*signal),
                            format!("delivered ({delivery:?}) while the mask was {blocked:#x}"),
                        ));
                    }
                }
                match delivery {
                    Delivery::Handler { handler } => {
                        tally.handler_deliveries += 1;
                        let (flags, mask) = match replay.sig.action(*signal) {
                            Action::Handler { handler: expected, flags, mask } if expected == *handler => (flags, mask),
                            other => {
                                return Err(violation(
                                    Law::Bookkeeping,
                                    *pid,
                                    Some(*signal),
                                    format!(
                                        "handler {handler} ran, but the action the step's events leave is {other:?}"
                                    ),
                                ))
                            }
                        };
                        let saved = match replay.suspended.take() {
                            Some(mask) => Some(mask),
                            None => replay.blocked,
                        };
                        replay.frames.push((*signal, *handler, saved, None));
                        let mut blocked = replay.blocked.map(|old| old | mask);
                        if flags & SA_NODEFER == 0 {
                            blocked = blocked.map(|old| old | signal.mask_bit());
                        }
                        replay.blocked = blocked.map(|mask| mask & BLOCKABLE);
                        if flags & SA_RESETHAND != 0 {
                            replay.set_action(*signal, Action::Default);
                        }
                        if let Some((_, pushed)) = replay.returned.as_mut() {
                            *pushed = true;
                        }
                    }
                    // A stop leaves `sigsuspend`'s temporary mask in force: the process stops inside
                    // `get_signal`, before `restore_saved_sigmask`.
                    Delivery::Stopped => tally.default_deliveries += 1,
                    Delivery::Terminated { .. } | Delivery::Dumped => {
                        tally.default_deliveries += 1;
                        replay.dead = true;
                    }
                    Delivery::Ignored | Delivery::Discarded => tally.default_deliveries += 1,
                    // The jump faults, and the `SIGSEGV` that kills follows as its own delivery.
                    Delivery::Stray { .. } => tally.default_deliveries += 1,
                }
            }
            _ => {}
        }
    }

    // (a) Every pending instance is still there, or accounted for.
    for view in before.procs.iter().filter(|view| view.alive) {
        let pid = view.pid;
        let Some(now) = after.get(pid) else {
            return Err(violation(Law::PendingLost, pid, None, "the process is gone from the kernel".into()));
        };
        if died.contains(&pid) || !now.alive {
            if !died.contains(&pid) && !view.sig.queue.is_empty() {
                let signal = view.sig.queue.first().map(|queued| queued.signal);
                return Err(violation(Law::PendingLost, pid, signal, "pending signals gone with no exit event".into()));
            }
            continue;
        }
        let signals: BTreeSet<u8> =
            view.sig.queue.iter().chain(now.sig.queue.iter()).map(|queued| queued.signal.0).collect();
        for number in signals {
            let signal = Signal(number);
            let key = (pid, number);
            let before_count = view.count(signal);
            let after_count = now.count(signal);
            if discarded.contains(&key) {
                if after_count < before_count + added.get(&key).copied().unwrap_or(0) {
                    tally.discards += 1;
                }
                continue;
            }
            let expected = (before_count + added.get(&key).copied().unwrap_or(0))
                .checked_sub(removed.get(&key).copied().unwrap_or(0));
            let slack = usize::from(maybe_added.contains(&key));
            match expected {
                Some(expected) if after_count < expected => {
                    return Err(violation(
                        Law::PendingLost,
                        pid,
                        Some(signal),
                        format!(
                            "{before_count} pending before, {} generated, {} taken: {expected} should be pending, {after_count} are",
                            added.get(&key).copied().unwrap_or(0),
                            removed.get(&key).copied().unwrap_or(0)
                        ),
                    ))
                }
                Some(expected) if after_count > expected + slack => {
                    return Err(violation(
                        Law::Bookkeeping,
                        pid,
                        Some(signal),
                        format!("{after_count} pending after the step, but only {expected} accounted for"),
                    ))
                }
                None if after_count > slack => {
                    return Err(violation(
                        Law::Bookkeeping,
                        pid,
                        Some(signal),
                        "more instances taken than were pending or generated".into(),
                    ))
                }
                _ => {}
            }
        }
    }

    // (c) and the bookkeeping: what the events rebuilt is what the kernel holds.
    for (pid, replay) in &replays {
        let Some(now) = after.get(*pid) else { continue };
        if replay.dead || !now.alive {
            continue;
        }
        let frames: Vec<(Signal, u32)> =
            replay.frames.iter().map(|(signal, handler, _, _)| (*signal, *handler)).collect();
        let held: Vec<(Signal, u32)> = now.sig.frames.iter().map(|frame| (frame.signal, frame.handler)).collect();
        if frames != held {
            return Err(violation(
                Law::HandlerReturn,
                *pid,
                None,
                format!("the handler frames after the step are {held:?}, the step's events leave {frames:?}"),
            ));
        }
        for ((signal, _, saved, whole), frame) in replay.frames.iter().zip(&now.sig.frames) {
            if let Some(whole) = whole {
                if whole != frame {
                    return Err(violation(
                        Law::HandlerReturn,
                        *pid,
                        Some(*signal),
                        format!("a frame under the one on top changed: {whole:?} became {frame:?}"),
                    ));
                }
            } else if let Some(saved) = saved {
                if *saved != frame.saved_blocked {
                    return Err(violation(
                        Law::Bookkeeping,
                        *pid,
                        Some(*signal),
                        format!(
                            "the new frame saves the mask {:#x}, the mask before delivery was {saved:#x}",
                            frame.saved_blocked
                        ),
                    ));
                }
            }
        }
        if let Some((frame, pushed)) = &replay.returned {
            if *pushed {
                // The process took another handler as it came back: the first frame pushed after the return,
                // at the returned frame's depth, saves where it came back to (later ones nest above it).
                let depth = before.get(*pid).map_or(0, |view| view.sig.frames.len()).saturating_sub(1);
                if let Some(top) = now.sig.frames.get(depth) {
                    if !replay.interrupted_after_return
                        && (top.return_pc, top.return_end, top.saved_call)
                            != (frame.return_pc, frame.return_end, frame.saved_call)
                    {
                        return Err(violation(
                            Law::HandlerReturn,
                            *pid,
                            Some(frame.signal),
                            format!(
                                "came back to pc {} (code ending at {}) with {:?}, the frame saved pc {} (ending at {}) with {:?}",
                                top.return_pc, top.return_end, top.saved_call, frame.return_pc, frame.return_end, frame.saved_call
                            ),
                        ));
                    }
                }
            } else if now.end_pc != frame.return_end
                || (!replay.interrupted_after_return && now.call != frame.saved_call)
                || (matches!(
                    program.ops.get(frame.return_pc as usize).map(|op| &op.kind),
                    Some(OpKind::Call(_) | OpKind::Fork { .. })
                ) && now.pc != frame.return_pc)
            {
                return Err(violation(
                    Law::HandlerReturn,
                    *pid,
                    Some(frame.signal),
                    format!(
                        "came back to pc {} (code ending at {}) with {:?}, the frame saved pc {} (ending at {}) with {:?}",
                        now.pc, now.end_pc, now.call, frame.return_pc, frame.return_end, frame.saved_call
                    ),
                ));
            }
        }
        if let Some(blocked) = replay.blocked {
            if blocked != now.sig.blocked {
                let law = if replay.returned.is_some() { Law::HandlerReturn } else { Law::Bookkeeping };
                return Err(violation(
                    law,
                    *pid,
                    None,
                    format!(
                        "the mask after the step is {:#x}, the step's events make it {blocked:#x}",
                        now.sig.blocked
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Runs a simulation to its end one step at a time, checking every step; also counts the deliveries of
/// signals that were blocked while pending before.
pub fn run_checked(simulation: &mut sim_core::Simulation, tally: &mut Tally) -> Result<(), String> {
    let mut held_back: BTreeSet<(Pid, u8)> = BTreeSet::new();
    loop {
        if simulation.is_finished() {
            return Ok(());
        }
        let before = View::of(simulation.kernel());
        for view in before.procs.iter().filter(|view| view.alive) {
            for queued in &view.sig.queue {
                if view.sig.blocked & queued.signal.mask_bit() != 0 {
                    held_back.insert((view.pid, queued.signal.0));
                }
            }
        }
        let first = simulation.trace().events.len();
        let stepped = match simulation.step().map_err(|error| error.to_string())? {
            sim_core::StepStatus::Ran(pid) => Some(pid),
            _ => None,
        };
        let step = simulation.steps();
        let after = View::of(simulation.kernel());
        let events = &simulation.trace().events[first..];
        for event in events {
            if let EventKind::Delivered { pid, signal, .. } = event.kind {
                if held_back.remove(&(pid, signal.0)) {
                    tally.blocked_then_delivered += 1;
                }
            }
        }
        check_step(simulation.program(), step, stepped, &before, events, &after, tally)
            .map_err(|violation| violation.to_string())?;
    }
}
