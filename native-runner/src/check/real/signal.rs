//! Signal calls on Linux, and the scenario's handlers run for real.
//!
//! Who a `kill` reaches is Linux's own business (`kill_something_info` in `kernel/signal.c`): the run
//! has a PID namespace of its own, so `kill(-1, ...)` reaches exactly the scenario's processes but the
//! caller (`init` is skipped by its pid, and nothing outside the namespace is visible), `kill(0, ...)`
//! the caller's group, and a pid is the simulator's pid.
//!
//! The calls are made as the C library's functions of the same names make them (glibc 2.36), because
//! that is what a scenario's `sigaction`, `signal`, `raise`, `killpg` and `sigqueue` stand for; each arm
//! says what the function adds to the system call. They use raw system calls, because a handler's
//! steps run inside the real signal handler.
//!
//! **Handlers.** `sigaction SIGNAL HANDLER FLAGS MASK` installs [`on_signal_info`] (with `SA_SIGINFO`)
//! or [`on_signal`] (without), with exactly the scenario's flags and mask, and the runner's own
//! `rt_sigreturn` trampoline ([`super::sys`]). When Linux delivers the signal, the handler:
//! 1. reports [`Reply::Handler`]: the signal, its `siginfo_t` (under `SA_SIGINFO`), and what Linux did
//!    to the code it interrupted, read from the registers saved in the signal frame: the call's result
//!    in `ax` (`-EINTR`, a partial count, or what it returned before the signal was taken), or, when
//!    `handle_signal` (`arch/x86/kernel/signal.c`) rewound the call to make it again (`-ERESTARTSYS`
//!    with `SA_RESTART`), `ip` back on the `syscall` instruction;
//! 2. serves the driver's commands (the handler block's steps) one level up, until the driver sends
//!    the implicit `rt_sigreturn()`;
//! 3. replies [`Reply::Sigreturn`] and returns. A call Linux rewound is not made again at once: the
//!    simulator makes it again at the process's next step, so the handler turns the saved `ip` and
//!    `ax` into "returned `-ERESTARTSYS`" (a value Linux never lets a program see), and the level
//!    below reports [`Reply::Restarted`] and waits for the call to be sent again. Linux's decision
//!    (restart, `EINTR`, partial) is observed; only its timing is the simulator's.
//!
//! On x86-64 a handler installed without `SA_SIGINFO` still receives the `ucontext_t` in its third
//! argument (`x64_setup_rt_frame` always sets `dx`), which is what [`on_signal`] reads.

use super::sys::{self, syscall3, KernelSigaction, LEVEL, MAX_LEVELS};
use super::{call, exit_code, not_this_mechanism, serve_commands, value_or_errno, LevelEnd, Out};
use crate::check::protocol::{self, Below, CallView, Reply, SigInfo, CONTROL_FD};
use sim_core::lang::compile::FIRST_HANDLER;
use sim_core::lang::syscalls::CallId;
use std::sync::atomic::{AtomicI64, Ordering};

/// The scenario's number for the handler installed on each signal (what `signal` returns for it):
/// the kernel knows only that the runner's function is installed.
static HANDLERS: [AtomicI64; 65] = [const { AtomicI64::new(0) }; 65];

/// How many handler blocks the scenario has: an action value from `FIRST_HANDLER` up to
/// `FIRST_HANDLER + count` is one of them (the runner's function stands in for it); any other is an
/// address, given to the kernel as it is, as a program's own `sigaction` would.
static HANDLER_COUNT: AtomicI64 = AtomicI64::new(0);

/// Set by `init` in each top-level process it starts (their children inherit it).
pub fn set_handler_count(count: u32) {
    HANDLER_COUNT.store(count as i64, Ordering::SeqCst);
}

fn is_scenario_handler(action: i64) -> bool {
    (FIRST_HANDLER..FIRST_HANDLER.saturating_add(HANDLER_COUNT.load(Ordering::SeqCst))).contains(&action)
}

/// glibc's `SIG_ERR`, which its `signal` refuses as a new handler (`__bsd_signal`).
const SIG_ERR: i64 = -1;

/// `ERESTARTSYS` (see [`super::RESTART_MARKER`]).
const RESTART_MARKER: i64 = super::RESTART_MARKER as i64;

/// glibc keeps the kernel's signals 32 and 33 for itself (`SIGCANCEL`, `SIGSETXID`): its `sigaction`
/// and `signal` refuse them (`__is_internal_signal`), and its `sigprocmask` never blocks them
/// (`__clear_internal_signals`, in `pthread_sigmask`).
const INTERNAL: u64 = (1 << 31) | (1 << 32);

fn is_internal(signal: i64) -> bool {
    signal == 32 || signal == 33
}

fn error(errno: i32) -> Out<'static> {
    Reply::Errno(errno)
}

/// Installs `action` (`SIG_DFL`, `SIG_IGN`, a scenario handler's number, or any other address) on
/// `signal` with the flags and mask given. Returns the kernel's result and the previous action as
/// `signal` reports it.
fn install(signal: i64, action: i64, flags: i64, mask: u64) -> (i64, i64) {
    let handler = match action {
        _ if !is_scenario_handler(action) => action as usize,
        _ if flags & libc::SA_SIGINFO as i64 != 0 => on_signal_info as *const () as usize,
        _ => on_signal as *const () as usize,
    };
    let new =
        KernelSigaction { handler, flags: flags as u64 | sys::SA_RESTORER, restorer: sys::restorer_address(), mask };
    let mut old = KernelSigaction::default();
    let result = sys::rt_sigaction(signal, Some(&new), Some(&mut old));
    if result < 0 {
        return (result, 0);
    }
    let slot = &HANDLERS[signal as usize];
    let previous =
        if old.handler == on_signal_info as *const () as usize || old.handler == on_signal as *const () as usize {
            slot.load(Ordering::SeqCst)
        } else {
            old.handler as i64
        };
    slot.store(if is_scenario_handler(action) { action } else { 0 }, Ordering::SeqCst);
    (result, previous)
}

pub fn perform(command: &CallView) -> Out<'static> {
    let arg = |index| command.arg(index);
    match command.id {
        CallId::Kill => value_or_errno(call(libc::SYS_kill, &[arg(0), arg(1)])),
        // glibc's `killpg`: a negative group is refused, then `kill(-pgrp, sig)`.
        CallId::Killpg if arg(0) < 0 => error(libc::EINVAL),
        CallId::Killpg => value_or_errno(call(libc::SYS_kill, &[-arg(0), arg(1)])),
        // glibc's `raise` (`__pthread_kill_implementation` for the calling thread): `tgkill` to itself.
        CallId::Raise => {
            let pid = syscall3(libc::SYS_getpid, 0, 0, 0);
            let tid = syscall3(libc::SYS_gettid, 0, 0, 0);
            value_or_errno(call(libc::SYS_tgkill, &[pid, tid, arg(0)]))
        }
        // glibc's `sigqueue`: a `siginfo_t` with `SI_QUEUE`, the caller's pid and uid, and the value,
        // through `rt_sigqueueinfo`.
        CallId::Sigqueue => {
            let info = QueuedInfo {
                signo: arg(1) as i32,
                code: libc::SI_QUEUE,
                pid: syscall3(libc::SYS_getpid, 0, 0, 0) as i32,
                uid: syscall3(libc::SYS_getuid, 0, 0, 0) as u32,
                value: arg(2),
                ..QueuedInfo::default()
            };
            value_or_errno(call(libc::SYS_rt_sigqueueinfo, &[arg(0), arg(1), &info as *const QueuedInfo as i64]))
        }
        // glibc's `signal` (`__bsd_signal`): `sigaction` with `SA_RESTART` and the signal itself in the
        // mask; returns the previous handler.
        CallId::Signal => {
            let signal = arg(0);
            if arg(1) == SIG_ERR || !(1..=64).contains(&signal) || is_internal(signal) {
                return error(libc::EINVAL);
            }
            match install(signal, arg(1), libc::SA_RESTART as i64, 1u64 << (signal - 1)) {
                (result, _) if result < 0 => error(-result as i32),
                (_, previous) => Reply::Value(previous),
            }
        }
        // glibc's `sigaction` refuses its own signals, then `rt_sigaction`.
        CallId::Sigaction => {
            let signal = arg(0);
            if !(1..=64).contains(&signal) || is_internal(signal) {
                return error(libc::EINVAL);
            }
            match install(signal, arg(1), arg(2), arg(3) as u64) {
                (result, _) if result < 0 => error(-result as i32),
                _ => Reply::Value(0),
            }
        }
        CallId::Sigprocmask => {
            let set = arg(1) as u64 & !INTERNAL;
            let mut old = 0u64;
            let result =
                call(libc::SYS_rt_sigprocmask, &[arg(0), &set as *const u64 as i64, &mut old as *mut u64 as i64, 8]);
            if result < 0 {
                error(-result as i32)
            } else {
                Reply::Out(old as i64)
            }
        }
        CallId::Sigpending => {
            let mut set = 0u64;
            let result = call(libc::SYS_rt_sigpending, &[&mut set as *mut u64 as i64, 8]);
            if result < 0 {
                error(-result as i32)
            } else {
                Reply::Out(set as i64)
            }
        }
        CallId::Sigsuspend => {
            let set = arg(0) as u64;
            value_or_errno(call(libc::SYS_rt_sigsuspend, &[&set as *const u64 as i64, 8]))
        }
        CallId::Sigwaitinfo => {
            let set = arg(0) as u64;
            let mut info = QueuedInfo::default();
            let pointer = &mut info as *mut QueuedInfo as i64;
            value_or_errno(call(libc::SYS_rt_sigtimedwait, &[&set as *const u64 as i64, pointer, 0, 8]))
        }
        CallId::Pause => value_or_errno(call(libc::SYS_pause, &[])),
        other => not_this_mechanism(other),
    }
}

/// The system call a blocked call of this mechanism sleeps in.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id {
        CallId::Pause => Some(libc::SYS_pause),
        CallId::Sigsuspend => Some(libc::SYS_rt_sigsuspend),
        CallId::Sigwaitinfo => Some(libc::SYS_rt_sigtimedwait),
        _ => None,
    }
}

/// The kernel's `siginfo_t` (128 bytes) with the fields of a queued signal (`_rt`: pid, uid, value).
#[repr(C)]
struct QueuedInfo {
    signo: i32,
    errno: i32,
    code: i32,
    pad: i32,
    pid: i32,
    uid: u32,
    value: i64,
    rest: [u8; 96],
}

impl Default for QueuedInfo {
    fn default() -> QueuedInfo {
        QueuedInfo { signo: 0, errno: 0, code: 0, pad: 0, pid: 0, uid: 0, value: 0, rest: [0; 96] }
    }
}

/// The handler installed for a scenario handler with `SA_SIGINFO`.
extern "C" fn on_signal_info(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: with SA_SIGINFO the kernel passes the siginfo it wrote in the frame.
    let info = unsafe { &*(info as *const QueuedInfo) };
    let info = SigInfo { pid: info.pid as i64, value: info.value, code: info.code as i64 };
    run_handler(signal, Some(info), context);
}

/// The handler installed for a scenario handler without `SA_SIGINFO` (its `siginfo_t` is not
/// written, but the `ucontext_t` is).
extern "C" fn on_signal(signal: libc::c_int, _info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    run_handler(signal, None, context);
}

/// What a handler does (see the module's documentation). Async-signal-safe throughout.
fn run_handler(signal: libc::c_int, info: Option<SigInfo>, context: *mut libc::c_void) {
    let level = LEVEL.fetch_add(1, Ordering::SeqCst) + 1;
    if level >= MAX_LEVELS {
        sys::exit_now(exit_code::TOO_DEEP);
    }
    let context = context as *mut libc::ucontext_t;
    let instruction = sys::scenario_syscall_address() as i64;
    // SAFETY: the kernel passes the frame's ucontext_t, which stays valid until this handler returns.
    let (ip, ax) = unsafe {
        let registers = &(*context).uc_mcontext.gregs;
        (registers[libc::REG_RIP as usize], registers[libc::REG_RAX as usize])
    };
    let below = if ip == instruction {
        Below::Restart
    } else if ip == instruction + 2 && ax == -RESTART_MARKER {
        // A call this runner kept from starting again, under a handler that came right after.
        Below::Restart
    } else if ip == instruction + 2 {
        Below::Returned { value: ax }
    } else {
        Below::NotInCall
    };
    if protocol::send_reply(CONTROL_FD, &Out::Handler { signal, info, below }, None).is_err() {
        sys::exit_now(exit_code::REPLY_FAILED);
    }
    match serve_commands(true) {
        LevelEnd::Exit(status) => sys::exit_now(status),
        LevelEnd::Return => {}
    }
    if ip == instruction {
        // SAFETY: as above; rt_sigreturn loads these registers back.
        unsafe {
            let registers = &mut (*context).uc_mcontext.gregs;
            registers[libc::REG_RIP as usize] = instruction + 2;
            registers[libc::REG_RAX as usize] = -RESTART_MARKER;
        }
    }
    if protocol::send_reply(CONTROL_FD, &Out::Sigreturn { signal }, None).is_err() {
        sys::exit_now(exit_code::REPLY_FAILED);
    }
    LEVEL.fetch_sub(1, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_siginfo_has_the_kernel_s_layout() {
        assert_eq!(std::mem::size_of::<QueuedInfo>(), std::mem::size_of::<libc::siginfo_t>());
        let info = QueuedInfo { pid: 7, value: 42, ..QueuedInfo::default() };
        // SAFETY: the same size, and siginfo_t is plain data.
        let libc_view = unsafe { &*(&info as *const QueuedInfo as *const libc::siginfo_t) };
        // SAFETY: reading the fields of a queued signal.
        unsafe {
            assert_eq!(libc_view.si_pid(), 7);
            assert_eq!(libc_view.si_value().sival_ptr as i64, 42);
        }
    }
}
