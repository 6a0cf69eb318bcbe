//! Signal calls on Linux: `kill`, `signal` (as `rt_sigaction`) and `pause`.
//!
//! Who a `kill` reaches is Linux's own business (`kill_something_info` in `kernel/signal.c`): the run
//! has a PID namespace of its own, so `kill(-1, ...)` reaches exactly the scenario's processes but the
//! caller (`init` is skipped by its pid, and nothing outside the namespace is visible), `kill(0, ...)`
//! the caller's group, and a pid is the simulator's pid.

use super::{errno, not_this_mechanism, value_or_errno};
use crate::check::protocol::{CallCommand, Reply};
use sim_core::lang::syscalls::CallId;

pub fn perform(call: &CallCommand) -> Reply {
    // SAFETY (whole match): one system call each, with valid pointers.
    unsafe {
        match call.id {
            CallId::Kill => value_or_errno(libc::syscall(libc::SYS_kill, call.arg(0), call.arg(1))),
            CallId::Signal => {
                // `signal(2)` is `rt_sigaction` underneath; only the handler matters for `SIG_DFL` and
                // `SIG_IGN`, and the previous one is what `signal` returns.
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = call.arg(1) as libc::sighandler_t;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(call.arg(0) as libc::c_int, &action, &mut old) < 0 {
                    Reply::Errno(errno())
                } else {
                    Reply::Value(old.sa_sigaction as i64)
                }
            }
            CallId::Pause => value_or_errno(libc::syscall(libc::SYS_pause)),
            other => not_this_mechanism(other),
        }
    }
}

/// The system call a blocked call of this mechanism sleeps in.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::Pause => Some(libc::SYS_pause),
        _ => None,
    }
}
