//! Virtual time: the clock, `sleep`, `nanosleep`, `alarm`, and the timeout of `sigtimedwait`.
//!
//! The simulator has a clock of its own, in nanoseconds. Each step takes [`STEP_NS`] of it (a system call
//! and the code around it, roughly). When no process can run but a timer is set, time jumps straight to
//! the first timer, as deterministic simulators of distributed systems do: a run with a 30-second grace
//! period takes no wall time, and a run is only stuck when nobody can run and no timer can fire. A
//! process that never sleeps holds time back: to let a timer fire while others spin, the spinning takes
//! steps (one microsecond each).
//!
//! The rules follow `kernel/time/hrtimer.c` (`hrtimer_nanosleep`: a sleep that a stop interrupts goes
//! on for the time that is left, `restart_block`; a handler makes it fail with `EINTR`), glibc's `sleep`
//! (which returns the seconds left instead), and `kernel/time/itimer.c` (`alarm_setitimer`: one alarm per
//! process, `alarm(0)` cancels it, the old one's time left is returned in whole seconds, rounded).

use super::{CallContext, Exec, Interruption, Kernel, Mechanism, Scratch};
use crate::lang::syscalls::CallId;
use crate::linux::errno::{EAGAIN, EINVAL};
use crate::linux::signal::BLOCKABLE;
use crate::trace::{BlockReason, CallResult, Event, EventKind, Pid, Trace, WakeCause};

/// The virtual time one step takes.
pub const STEP_NS: u64 = 1_000;

pub const NS_PER_SECOND: u64 = 1_000_000_000;

/// What a timer does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerKind {
    /// Ends a sleep (or the wait of `sigtimedwait`).
    Wake,
    /// `alarm`: `SIGALRM` for the process.
    Alarm,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timer {
    pub at: u64,
    /// Order of setting, so that timers due at the same time fire in the order they were set.
    pub seq: u64,
    pub pid: Pid,
    pub kind: TimerKind,
}

/// Time in words: `2.000015 s`.
pub fn time_text(ns: u64) -> String {
    format!("{}.{:06} s", ns / NS_PER_SECOND, (ns % NS_PER_SECOND) / 1_000)
}

impl Kernel {
    /// Virtual time in nanoseconds, as it stands between steps (once a step has ended): each step
    /// taken so far counted [`STEP_NS`], plus every jump.
    pub fn now(&self) -> u64 {
        self.clock_base + self.step * STEP_NS
    }

    /// The time during the step being taken: the step's microsecond is counted when it ends.
    pub(crate) fn now_in_step(&self) -> u64 {
        self.now() - STEP_NS
    }

    /// Keeps the first timer's time and the step at whose end the clock reaches it.
    fn set_next_timer(&mut self, at: u64) {
        self.next_timer_at = at;
        self.next_timer_step = match at {
            u64::MAX => u64::MAX,
            at if at <= self.clock_base => 0,
            at => (at - self.clock_base).div_ceil(STEP_NS),
        };
        self.attention_step = if self.signals_seen { 0 } else { self.next_timer_step };
    }

    /// The time the first timer fires, if any is set.
    pub fn next_timer(&self) -> Option<u64> {
        self.timers.first().map(|timer| timer.at)
    }

    fn set_timer(&mut self, pid: Pid, at: u64, kind: TimerKind) {
        self.cancel_timer(pid, kind);
        self.timer_seq += 1;
        let timer = Timer { at, seq: self.timer_seq, pid, kind };
        let index = self.timers.partition_point(|other| (other.at, other.seq) <= (at, timer.seq));
        self.timers.insert(index, timer);
        self.set_next_timer(self.timers[0].at);
    }

    /// Removes `pid`'s timer of that kind; returns when it would have fired.
    pub(crate) fn cancel_timer(&mut self, pid: Pid, kind: TimerKind) -> Option<u64> {
        let index = self.timers.iter().position(|timer| timer.pid == pid && timer.kind == kind)?;
        let timer = self.timers.remove(index);
        self.set_next_timer(self.next_timer().unwrap_or(u64::MAX));
        Some(timer.at)
    }

    /// The step's time has passed: every timer due by now fires.
    #[cold]
    #[inline(never)]
    pub(crate) fn fire_timers(&mut self, trace: &mut Trace) {
        while let Some(timer) = self.timers.first().copied().filter(|timer| timer.at <= self.now()) {
            self.timers.remove(0);
            self.set_next_timer(self.next_timer().unwrap_or(u64::MAX));
            match timer.kind {
                TimerKind::Wake => {
                    if matches!(self.process(timer.pid).state, super::ProcState::Blocked(_)) {
                        self.leave_wait_queue(timer.pid);
                        self.set_state(timer.pid, super::ProcState::Runnable);
                        trace.record_wake(self.step as u32, timer.pid, timer.pid, WakeCause::Timer);
                    }
                }
                TimerKind::Alarm => {
                    trace.record(Event { step: self.step as u32, kind: EventKind::Alarm { pid: timer.pid } });
                    super::signal::generate(self, super::signal::Sent::alarm(timer.pid), trace);
                }
            }
        }
    }

    /// Nobody can run: time jumps to the first timer, which fires. Returns whether one did.
    pub(crate) fn jump_to_next_timer(&mut self, trace: &mut Trace) -> bool {
        let Some(at) = self.next_timer() else { return false };
        if at > self.now() {
            self.clock_base = at - self.step * STEP_NS;
            self.set_next_timer(self.next_timer_at);
            trace.record(Event { step: self.step as u32, kind: EventKind::Clock { now: at } });
        }
        self.fire_timers(trace);
        true
    }
}

/// `nanosleep`, glibc's `sleep`, and the timeout of `sigtimedwait`: the time the call ends, kept across
/// its sleeps and across a restart after a stop (`restart_block`).
fn deadline(kernel: &mut Kernel, pid: Pid, duration: u64) -> u64 {
    let process = kernel.proc_mut(pid);
    match process.call.scratch {
        Scratch::Until(until) => until,
        _ => {
            let until = kernel.now_in_step().saturating_add(duration);
            kernel.proc_mut(pid).call.scratch = Scratch::Until(until);
            until
        }
    }
}

fn sleep_until(kernel: &mut Kernel, pid: Pid, until: u64, seconds: bool) -> Exec {
    if kernel.now_in_step() >= until {
        return Exec::Done(CallResult::Value { value: 0 });
    }
    kernel.set_timer(pid, until, TimerKind::Wake);
    Exec::Block(BlockReason::Sleep { until, seconds })
}

/// The time mechanism.
pub struct Clock;

impl Mechanism for Clock {
    fn call(kernel: &mut Kernel, call: &CallContext, _trace: &mut Trace) -> Exec {
        let pid = call.pid;
        match call.id() {
            CallId::Sleep => match u64::try_from(call.arg(0)) {
                Ok(seconds) => {
                    let until = deadline(kernel, pid, seconds.saturating_mul(NS_PER_SECOND));
                    sleep_until(kernel, pid, until, true)
                }
                // glibc's sleep takes an unsigned int: a negative count is a huge one, which no run lasts.
                Err(_) => Kernel::error(EINVAL),
            },
            CallId::Nanosleep => match u64::try_from(call.arg(0)) {
                Ok(ns) => {
                    let until = deadline(kernel, pid, ns);
                    sleep_until(kernel, pid, until, false)
                }
                Err(_) => Kernel::error(EINVAL),
            },
            CallId::Alarm => {
                let Ok(seconds) = u64::try_from(call.arg(0)) else { return Kernel::error(EINVAL) };
                let left = kernel.cancel_timer(pid, TimerKind::Alarm).map_or(0, |at| at - kernel.now_in_step());
                if seconds > 0 {
                    let at = kernel.now_in_step().saturating_add(seconds.saturating_mul(NS_PER_SECOND));
                    kernel.set_timer(pid, at, TimerKind::Alarm);
                }
                Exec::Done(CallResult::Value { value: alarm_seconds(left) as i64 })
            }
            CallId::Sigtimedwait => {
                let Ok(timeout) = u64::try_from(call.arg(1)) else { return Kernel::error(EINVAL) };
                let set = call.arg(0) as u64 & BLOCKABLE;
                let until = deadline(kernel, pid, timeout);
                match super::signal::take_waiting(kernel, pid, set) {
                    Some(signal) => {
                        kernel.cancel_timer(pid, TimerKind::Wake);
                        Exec::Done(CallResult::Value { value: signal.0 as i64 })
                    }
                    None if kernel.now_in_step() >= until => Kernel::error(EAGAIN),
                    None => {
                        kernel.set_timer(pid, until, TimerKind::Wake);
                        Exec::Block(BlockReason::SignalWait { set })
                    }
                }
            }
            other => unreachable!("{} is not a time call", other.name()),
        }
    }

    fn leave_queue(kernel: &mut Kernel, pid: Pid, _reason: &BlockReason) {
        kernel.cancel_timer(pid, TimerKind::Wake);
    }

    /// `nanosleep` fails with `EINTR` after a handler and goes on for the time left after a stop; glibc's
    /// `sleep` returns the seconds left instead of failing (`-ERESTART_RESTARTBLOCK`).
    fn interruption(reason: &BlockReason) -> Interruption {
        match reason {
            BlockReason::Sleep { seconds: true, .. } => Interruption::ReturnLeftIfHandled,
            _ => Interruption::RestartWithoutHandler,
        }
    }

    /// Timers are kept in the order they fire, belong to living processes, and a wake-up timer belongs
    /// to a process asleep in a timed call; each process has one of each kind at most.
    fn check(kernel: &Kernel) -> Result<(), String> {
        if kernel.timers.windows(2).any(|pair| (pair[0].at, pair[0].seq) > (pair[1].at, pair[1].seq)) {
            return Err("timers are out of order".into());
        }
        if kernel.next_timer_at != kernel.next_timer().unwrap_or(u64::MAX) {
            return Err("the first timer's time is stale".into());
        }
        let reached = |step: u64| kernel.clock_base + step * STEP_NS >= kernel.next_timer_at;
        let step = kernel.next_timer_step;
        if kernel.next_timer_at != u64::MAX && (!reached(step) || (step > 0 && reached(step - 1))) {
            return Err("the step the first timer is due at is stale".into());
        }
        if kernel.attention_step != if kernel.signals_seen { 0 } else { step } {
            return Err("the step the kernel next looks at signals or timers is stale".into());
        }
        for timer in &kernel.timers {
            let process = kernel.process(timer.pid);
            if !process.is_alive() {
                return Err(format!("a timer belongs to {}, which is dead", process.name));
            }
            let sleeping = matches!(
                process.state,
                super::ProcState::Blocked(BlockReason::Sleep { .. } | BlockReason::SignalWait { .. })
            );
            if timer.kind == TimerKind::Wake && !sleeping {
                return Err(format!("{} has a wake-up timer but does not sleep", process.name));
            }
            if kernel.timers.iter().filter(|other| other.pid == timer.pid && other.kind == timer.kind).count() > 1 {
                return Err(format!("{} has two timers of one kind", process.name));
            }
        }
        Ok(())
    }
}

/// `alarm`'s return: the seconds an old alarm had left, rounded to the nearest, and 1 rather than 0 if it
/// had any time left at all (`alarm_setitimer`).
fn alarm_seconds(left_ns: u64) -> u64 {
    if left_ns == 0 {
        return 0;
    }
    let mut seconds = left_ns / NS_PER_SECOND;
    if left_ns % NS_PER_SECOND >= NS_PER_SECOND / 2 {
        seconds += 1;
    }
    seconds.max(1)
}

/// What glibc's `sleep` returns when a handler cuts it short: the whole seconds left, the fraction
/// dropped (`__sleep` in glibc's `sysdeps/posix/sleep.c` returns the `tv_sec` that `nanosleep` left; so
/// a `sleep 10` cut short 3 s and a few microseconds in returns 6, as `ipclab check` found on Linux).
pub(crate) fn seconds_left(kernel: &Kernel, until: u64) -> i64 {
    (until.saturating_sub(kernel.now_in_step()) / NS_PER_SECOND) as i64
}
