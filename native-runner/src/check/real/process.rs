//! Process calls on Linux: `exit`, the `wait` family, and process identity (`getpid`, `getppid`,
//! `getpgid`, `setpgid`), and the core-file limit (`setrlimit`, `getrlimit` of `RLIMIT_CORE`).
//!
//! Pids are the run's own: every real process lives in the run's PID namespace, where `init` is pid 1
//! and the scenario's processes get 2, 3, ... in the order the simulator gives them, so a pid operand
//! or result needs no translation.

use super::{call, not_this_mechanism, sys, value_or_errno, Out};
use crate::check::protocol::{CallView, Reply};
use sim_core::lang::syscalls::CallId;

/// A `siginfo_t` that `waitid` filled in, as the wait status `waitpid` would have stored for the same
/// event (`si_code` says how the child changed, `si_status` the exit status or signal; see
/// `wait_task_zombie` and `wait_task_stopped` in `kernel/exit.c`).
fn status_from_siginfo(code: i32, status: i32) -> i32 {
    match code {
        libc::CLD_EXITED => (status & 0xff) << 8,
        libc::CLD_KILLED => status & 0x7f,
        libc::CLD_DUMPED => (status & 0x7f) | 0x80,
        libc::CLD_STOPPED | libc::CLD_TRAPPED => ((status & 0xff) << 8) | 0x7f,
        libc::CLD_CONTINUED => 0xffff,
        _ => -1,
    }
}

fn wait4(target: i64, options: i64) -> Out<'static> {
    let mut status = 0i32;
    let result = call(libc::SYS_wait4, &[target, &mut status as *mut i32 as i64, options, 0]);
    match result {
        result if result < 0 => Reply::Errno(-result as i32),
        0 => Reply::Value(0),
        pid => Reply::Waited { pid: pid as i32, status, via_info: false },
    }
}

fn waitid(idtype: i64, id: i64, options: i64) -> Out<'static> {
    // SAFETY: a zeroed siginfo_t is valid, and waitid fills it in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let result = call(libc::SYS_waitid, &[idtype, id, &mut info as *mut libc::siginfo_t as i64, options, 0]);
    if result < 0 {
        return Reply::Errno(-result as i32);
    }
    // SAFETY: the fields of a SIGCHLD siginfo, which waitid stores (zeroed when no child had news).
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if pid == 0 {
        // WNOHANG and nothing to report: waitid returns 0 and leaves si_pid 0.
        return Reply::Value(0);
    }
    Reply::Waited { pid, status: status_from_siginfo(info.si_code, status), via_info: true }
}

pub fn perform(command: &CallView) -> Out<'static> {
    match command.id {
        // `do_exit` keeps the low 8 bits of the status.
        CallId::Exit => sys::exit_now(command.arg(0) as i32),
        CallId::Wait => wait4(-1, 0),
        CallId::Waitpid => wait4(command.arg(0), command.arg(1)),
        CallId::Waitid => waitid(command.arg(0), command.arg(1), command.arg(2)),
        CallId::Getpid => value_or_errno(call(libc::SYS_getpid, &[])),
        CallId::Getppid => value_or_errno(call(libc::SYS_getppid, &[])),
        CallId::Getpgid => value_or_errno(call(libc::SYS_getpgid, &[command.arg(0)])),
        CallId::Setpgid => value_or_errno(call(libc::SYS_setpgid, &[command.arg(0), command.arg(1)])),
        // glibc's `setrlimit` and `getrlimit` are `prlimit64` on the caller (pid 0).
        CallId::Setrlimit => {
            let new = libc::rlimit { rlim_cur: command.arg(1) as u64, rlim_max: command.arg(2) as u64 };
            let new_ptr = &new as *const libc::rlimit as i64;
            value_or_errno(call(libc::SYS_prlimit64, &[0, command.arg(0), new_ptr, 0]))
        }
        CallId::Getrlimit => {
            let mut old = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            let old_ptr = &mut old as *mut libc::rlimit as i64;
            match call(libc::SYS_prlimit64, &[0, command.arg(0), 0, old_ptr]) {
                result if result < 0 => Reply::Errno(-result as i32),
                _ => Reply::Out(old.rlim_cur as i64),
            }
        }
        other => not_this_mechanism(other),
    }
}

/// The system call a blocked call of this mechanism sleeps in.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::Wait | CallId::Waitpid => Some(libc::SYS_wait4),
        CallId::Waitid => Some(libc::SYS_waitid),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::linux::{wait, ChildStatus, Signal};

    #[test]
    fn a_siginfo_reads_as_the_wait_status_of_the_same_event() {
        let cases = [
            (libc::CLD_EXITED, 3, ChildStatus::Exited(3)),
            (libc::CLD_KILLED, 15, ChildStatus::Killed { signal: Signal(15), core: false }),
            (libc::CLD_DUMPED, 8, ChildStatus::Killed { signal: Signal(8), core: true }),
            (libc::CLD_STOPPED, 19, ChildStatus::Stopped(Signal(19))),
            (libc::CLD_CONTINUED, 18, ChildStatus::Continued),
        ];
        for (code, status, expected) in cases {
            assert_eq!(wait::decode(status_from_siginfo(code, status)), expected);
        }
    }
}
