//! Time calls on Linux: `sleep`, `nanosleep`, `alarm` and `sigtimedwait`, on real timers whose durations
//! are the simulator's divided by [`TIME_DIVISOR`].
//!
//! The simulator's clock is virtual: a step takes 1 µs and, when nobody can run, time jumps to the next
//! timer. A real run cannot jump, so every duration a scenario names is scaled down (one simulated second
//! is 100 ms of real time) and every time a call gives back is scaled up again before it is reported, in
//! the simulator's units. The driver makes sure the real timers fire where the simulator's do, or
//! refuses the run (see `lockstep.rs` and `docs/conformance.md`): a timer must only fire while every
//! process is asleep, as the simulator's jumps do, and the real steps taken before it must not outlast it.
//!
//! The calls are made as glibc 2.36 makes them: `sleep` and `nanosleep` are `clock_nanosleep` on
//! `CLOCK_REALTIME` (`__clock_nanosleep`), `sleep` returning the whole seconds it had left when a
//! handler cut it short (`__sleep` in `sysdeps/posix/sleep.c`); `alarm` is `setitimer(ITIMER_REAL)`
//! (what the kernel's own `alarm_setitimer` in `kernel/time/itimer.c` does, with its rounding of the old
//! alarm's time left); `sigtimedwait` is `rt_sigtimedwait` with the timeout.

use super::{call, not_this_mechanism, Out};
use crate::check::protocol::{CallView, Reply};
use sim_core::lang::syscalls::CallId;

/// Real durations are the simulator's divided by this: one simulated second is 100 ms.
pub const TIME_DIVISOR: i64 = 10;

const NS_PER_SECOND: i64 = 1_000_000_000;

/// A simulated duration in nanoseconds as the real `timespec` to sleep for.
pub fn real_timespec(simulated_ns: i64) -> libc::timespec {
    // A negative duration stays negative, so that the kernel refuses it (`EINVAL`) as the simulator does.
    if simulated_ns < 0 {
        return libc::timespec { tv_sec: -1, tv_nsec: 0 };
    }
    let real = simulated_ns / TIME_DIVISOR;
    libc::timespec { tv_sec: real / NS_PER_SECOND, tv_nsec: real % NS_PER_SECOND }
}

/// The absolute `CLOCK_REALTIME` time a timed call on an IPC object waits until (`mq_timedsend`,
/// `mq_timedreceive`, `sem_timedwait`), for a simulated timeout counted from now: the scaled timeout
/// after the real time now. A negative timeout gives a negative time, which the kernel refuses
/// (`EINVAL`) where the simulator does; glibc's `sem_timedwait` takes it as a time long past.
pub fn real_deadline(simulated_ns: i64) -> libc::timespec {
    if simulated_ns < 0 {
        return libc::timespec { tv_sec: -1, tv_nsec: 0 };
    }
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a live timespec for the kernel to fill in.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) };
    let real = real_timespec(simulated_ns);
    let mut sum = libc::timespec { tv_sec: now.tv_sec + real.tv_sec, tv_nsec: now.tv_nsec + real.tv_nsec };
    if sum.tv_nsec >= NS_PER_SECOND {
        sum.tv_sec += 1;
        sum.tv_nsec -= NS_PER_SECOND;
    }
    sum
}

/// A real time left, in the simulator's nanoseconds.
fn simulated_ns(time: &libc::timespec) -> i64 {
    (time.tv_sec * NS_PER_SECOND + time.tv_nsec).saturating_mul(TIME_DIVISOR)
}

/// `alarm`'s rounding of the old alarm's time left (`alarm_setitimer`): to the nearest second, and 1
/// rather than 0 when any time was left.
fn alarm_seconds(left_ns: i64) -> i64 {
    if left_ns <= 0 {
        return 0;
    }
    let mut seconds = left_ns / NS_PER_SECOND;
    if left_ns % NS_PER_SECOND >= NS_PER_SECOND / 2 {
        seconds += 1;
    }
    seconds.max(1)
}

fn nanosleep(simulated: i64) -> (i64, libc::timespec) {
    let request = real_timespec(simulated);
    let mut left = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    let result = call(
        libc::SYS_clock_nanosleep,
        &[
            libc::CLOCK_REALTIME as i64,
            0,
            &request as *const libc::timespec as i64,
            &mut left as *mut libc::timespec as i64,
        ],
    );
    (result, left)
}

pub fn perform(command: &CallView) -> Out<'static> {
    let arg = |index| command.arg(index);
    match command.id {
        // glibc's `sleep` takes an unsigned int; the simulator refuses a negative count with `EINVAL`
        // before any call, which is what the kernel says for the negative `timespec` it would make.
        CallId::Sleep => match nanosleep(arg(0).saturating_mul(NS_PER_SECOND)) {
            (0, _) => Reply::Value(0),
            (result, left) if result == -(libc::EINTR as i64) => Reply::Value(simulated_ns(&left) / NS_PER_SECOND),
            (result, _) => Reply::Errno(-result as i32),
        },
        CallId::Nanosleep => match nanosleep(arg(0)) {
            (0, _) => Reply::Value(0),
            (result, _) => Reply::Errno(-result as i32),
        },
        CallId::Alarm => {
            if arg(0) < 0 {
                return Reply::Errno(libc::EINVAL);
            }
            let real_us = arg(0).saturating_mul(1_000_000) / TIME_DIVISOR;
            let new = libc::itimerval {
                it_interval: libc::timeval { tv_sec: 0, tv_usec: 0 },
                it_value: libc::timeval { tv_sec: real_us / 1_000_000, tv_usec: real_us % 1_000_000 },
            };
            let mut old = new;
            let result = call(
                libc::SYS_setitimer,
                &[
                    libc::ITIMER_REAL as i64,
                    &new as *const libc::itimerval as i64,
                    &mut old as *mut libc::itimerval as i64,
                ],
            );
            if result < 0 {
                return Reply::Errno(-result as i32);
            }
            let left_real_ns = old.it_value.tv_sec * NS_PER_SECOND + old.it_value.tv_usec * 1_000;
            Reply::Value(alarm_seconds(left_real_ns.saturating_mul(TIME_DIVISOR)))
        }
        CallId::Sigtimedwait => {
            let set = arg(0) as u64;
            let timeout = real_timespec(arg(1));
            // SAFETY: a zeroed siginfo_t is plain data for the kernel to fill in.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            let result = call(
                libc::SYS_rt_sigtimedwait,
                &[
                    &set as *const u64 as i64,
                    &mut info as *mut libc::siginfo_t as i64,
                    &timeout as *const libc::timespec as i64,
                    8,
                ],
            );
            super::value_or_errno(result)
        }
        other => not_this_mechanism(other),
    }
}

/// The system call a blocked call of this mechanism sleeps in.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::Sleep | CallId::Nanosleep => Some(libc::SYS_clock_nanosleep),
        CallId::Sigtimedwait => Some(libc::SYS_rt_sigtimedwait),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_scale_down_and_times_left_scale_up() {
        let real = real_timespec(2_500_000_000);
        assert_eq!((real.tv_sec, real.tv_nsec), (0, 250_000_000));
        assert_eq!(simulated_ns(&real), 2_500_000_000);
        assert!(real_timespec(-1).tv_sec < 0, "a negative duration stays invalid");
        assert_eq!(alarm_seconds(0), 0);
        assert_eq!(alarm_seconds(1), 1);
        assert_eq!(alarm_seconds(1_499_999_999), 1);
        assert_eq!(alarm_seconds(1_500_000_000), 2);
    }
}
