//! Virtual time: the clock, `sleep`, `nanosleep`, `alarm`, and the timeouts of `sigtimedwait` and of the
//! timed calls on IPC objects.
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
    /// A TCP socket in `SYN_SENT` sends its SYN again, or gives up (`tcp_retransmit_timer`): the
    /// process is the one whose `connect` sent the first.
    SynRetransmit { socket: u32 },
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

    pub(crate) fn set_timer(&mut self, pid: Pid, at: u64, kind: TimerKind) {
        self.cancel_timer(pid, kind);
        self.timer_seq += 1;
        let timer = Timer { at, seq: self.timer_seq, pid, kind };
        let index = self.timers.partition_point(|other| (other.at, other.seq) <= (at, timer.seq));
        self.timers.insert(index, timer);
        self.set_next_timer(self.timers[0].at);
    }

    /// Removes socket `socket`'s SYN timer, if it has one.
    pub(crate) fn cancel_syn_timer(&mut self, socket: u32) {
        if let Some(index) = self.timers.iter().position(|timer| timer.kind == TimerKind::SynRetransmit { socket }) {
            self.timers.remove(index);
            self.set_next_timer(self.next_timer().unwrap_or(u64::MAX));
        }
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
                    if let super::ProcState::Blocked(reason) = &self.process(timer.pid).state {
                        if super::mechanism_of(reason).is_ipc() {
                            // An IPC sleeper stays on its object's queue until it runs (`do_semtimedop`,
                            // `wq_sleep`, `futex_wait` look at what happened only then): a partner may
                            // still serve it, or wake it, before it fails with its timeout's error.
                            let reason = reason.clone();
                            let process = self.proc_mut(timer.pid);
                            process.still_queued = Some(reason);
                            process.call.timed_out = true;
                        } else {
                            self.leave_wait_queue(timer.pid);
                        }
                        self.set_state(timer.pid, super::ProcState::Runnable);
                        trace.record_wake(self.step as u32, timer.pid, timer.pid, WakeCause::Timer);
                    }
                }
                TimerKind::Alarm => {
                    trace.record(Event { step: self.step as u32, kind: EventKind::Alarm { pid: timer.pid } });
                    super::signal::generate(self, super::signal::Sent::alarm(timer.pid), trace);
                }
                TimerKind::SynRetransmit { socket } if crate::IPC => {
                    super::tcp::syn_timer(self, socket, timer.pid, trace)
                }
                TimerKind::SynRetransmit { .. } => {}
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

/// The time a timed call on an IPC object gives up (`semtimedop`, `mq_timedsend`, `mq_timedreceive`,
/// `sem_timedwait`): `timeout` nanoseconds after the call began, kept across restarts. A negative
/// timeout is a time already past (the calls that refuse one do so before they get here).
pub(crate) fn ipc_deadline(kernel: &mut Kernel, pid: Pid, timeout: i64) -> u64 {
    deadline(kernel, pid, u64::try_from(timeout).unwrap_or(0))
}

impl Kernel {
    /// A timed call on an IPC object is about to sleep until `until`: sets its wake-up timer, or, with
    /// the time already past, says that it does not sleep (it fails with its timeout's error at once).
    pub(crate) fn arm_wake(&mut self, pid: Pid, until: u64) -> bool {
        if self.now_in_step() >= until {
            return false;
        }
        self.set_timer(pid, until, TimerKind::Wake);
        true
    }

    /// Whether `pid`'s timed call on an IPC object, running again, timed out (see `InCall::timed_out`);
    /// if so it leaves the queue it was still on.
    pub(crate) fn ipc_timed_out(&mut self, pid: Pid) -> bool {
        if !self.process(pid).call.timed_out {
            return false;
        }
        if let Some(reason) = self.proc_mut(pid).still_queued.take() {
            self.leave_queue_for(pid, &reason);
        }
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
    /// to a process in a timed call; each process has one of each kind at most.
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
            // A timed call on an IPC object keeps its timer while it sleeps, and after a partner woke it
            // until it runs.
            let sleeping = match &process.state {
                super::ProcState::Blocked(BlockReason::Sleep { .. } | BlockReason::SignalWait { .. }) => true,
                super::ProcState::Blocked(reason) => super::mechanism_of(reason).is_ipc(),
                super::ProcState::Runnable => process.call.waited && matches!(process.call.scratch, Scratch::Until(_)),
                _ => false,
            };
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

#[cfg(test)]
mod tests {
    use crate::kernel::holds_under;

    /// The step of the first line of `trace` that contains `words`.
    fn step_of(trace: &str, words: &str) -> u32 {
        let line =
            trace.lines().find(|line| line.contains(words)).unwrap_or_else(|| panic!("no {words:?} in\n{trace}"));
        line.split_whitespace().next().unwrap().parse().unwrap()
    }

    /// A timed IPC call whose timer fired stays on the object's queue until it runs: a partner that comes
    /// first serves it (`do_semtimedop` finds `queue.status` set, `wq_sleep` finds `STATE_READY`, the
    /// futex wait was ended by the post), and the call succeeds; with nobody coming it times out.
    #[test]
    fn a_timed_ipc_call_whose_timer_fired_is_still_served_by_a_partner_that_comes_before_it_runs() {
        let cases = [
            (
                "s = semget IPC_PRIVATE 1 IPC_CREAT|0600",
                "semtimedop s 2000 {0, -1}",
                "0",
                "EAGAIN",
                "semop s {0, 1} -> 0",
            ),
            (
                "s = mq_open \"/t\" O_CREAT|O_RDWR 0600 {1, 8}",
                "m = mq_timedreceive s 8 2000",
                "\"x\"",
                "ETIMEDOUT",
                "mq_send s \"x\" -> 0",
            ),
            ("s = sem_open \"/t\" O_CREAT 0600 0", "sem_timedwait s 2000", "0", "ETIMEDOUT", "sem_post s -> 0"),
        ];
        for (make, wait, served, timed_out, partner) in cases {
            let partner_call = format!("main       {}(", partner.split_whitespace().next().unwrap());
            let text = |result: &str, partner: &str| {
                format!(
                    "process main expect exited 0 {{\n  {make}\n  fork taker expect exited 0 {{\n    {wait} -> {result}\n  }}\n  \
                     sched_yield\n  sched_yield\n  sched_yield\n  {partner}\n  waitpid taker -> taker exited 0\n}}\n"
                )
            };
            // main: its object and the fork; taker sleeps; main yields three times (the timer fires
            // meanwhile), then serves taker before it runs; taker returns and ends; main reaps it.
            let choices = [2, 2, 3, 2, 2, 2, 2, 3, 3, 2, 2];
            let trace = holds_under(&text(served, partner), &choices);
            assert!(
                step_of(&trace, "taker      wakes up (its time is up)") < step_of(&trace, &partner_call),
                "the timer fires before the partner comes:\n{trace}"
            );
            // Nobody comes: the call fails with its timeout's error when it runs.
            holds_under(&text(timed_out, "sched_yield"), &choices);
        }
    }

    /// A `semtimedop` and a `sem_timedwait` whose timer fired fail with their timeout's error even with a
    /// handled signal pending (the handler runs after); an `mq_timedreceive` is interrupted by the
    /// signal first (`wq_sleep`), and, started again by `SA_RESTART` with its time passed, fails with
    /// `ETIMEDOUT`.
    #[test]
    fn a_timed_out_ipc_call_with_a_signal_pending_fails_with_its_timeout() {
        let cases = [
            ("s = semget IPC_PRIVATE 1 IPC_CREAT|0600", "semtimedop s 2000 {0, -1} -> EAGAIN"),
            ("s = sem_open \"/t\" O_CREAT 0600 0", "sem_timedwait s 2000 -> ETIMEDOUT"),
            ("s = mq_open \"/t\" O_CREAT|O_RDWR 0600 {1, 8}", "m = mq_timedreceive s 8 2000 -> ETIMEDOUT"),
        ];
        for (make, wait) in cases {
            let text = format!(
                "handler h {{\n  handled = 1\n}}\n\nprocess main expect exited 0 {{\n  {make}\n  \
                 fork taker expect exited 0 {{\n    handled = 0\n    sigaction SIGUSR1 h SA_RESTART -> 0\n    \
                 {wait}\n    if handled != 1 {{\n      exit 1\n    }}\n  }}\n  sched_yield\n  sched_yield\n  \
                 sched_yield\n  kill taker SIGUSR1 -> 0\n  waitpid taker -> taker exited 0\n}}\n"
            );
            // main: object, fork; taker: sigaction, sleeps; main yields (the timer fires) and signals;
            // taker runs: its call, the handler, rt_sigreturn, its end; main reaps it.
            let choices = [2, 2, 3, 3, 2, 2, 2, 2, 3, 3, 3];
            let trace = holds_under(&text, &choices);
            assert!(trace.contains("taker      wakes up (its time is up)"), "{trace}");
        }
    }
}
