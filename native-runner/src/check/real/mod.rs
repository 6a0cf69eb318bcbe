//! The Linux arm: real processes that make the scenario's system calls one at a time, on command.
//!
//! Each scenario process is a real process running [`serve_commands`]: it waits for a command on its
//! control socket, makes exactly one real system call (the call the driver names by its `CallId`, with
//! the operands the simulator resolved), reports the result and waits again. A call that blocks simply
//! does not report until it completes. A `fork` command makes a real `fork`, so descriptor
//! inheritance, shared file offsets and reference counts are Linux's own; the parent hands the driver
//! a fresh control socket for the child.
//!
//! Handlers run for real ([`signal`]): the scenario's `sigaction` installs a real handler, and when
//! Linux delivers the signal that handler reports it and serves commands itself, one level up, until
//! the driver says return. So everything a real process does once it serves commands is
//! async-signal-safe ([`sys`]): raw system calls, memory from `mmap` (one region per level), no
//! allocation, no lock, no `errno`.
//!
//! Each kind of call lives in the module of its mechanism (the same split as sim-core's `kernel/`):
//! [`fd`], [`pipe`], [`fifo`], [`process`], [`signal`], [`sched`], [`time`], [`msg`], [`sem`], [`mqueue`],
//! [`named_sem`], [`shm`], [`mm`] (mappings, and the memory instructions done for real), [`socket`] ([`ipc_structs`]
//! holds the System V structures). Each turns a call and its operands
//! into exactly one real system call (or what the C library's function of that name does, where it
//! does more) and says which system call number a blocked call sleeps in (as `/proc/PID/syscall`
//! shows it). Adding a call is one match arm there. [`init`] is the run's `init`.
//!
//! The control socket lives at descriptor [`CONTROL_FD`], above `RLIMIT_NOFILE` (1024, as the simulator
//! models it), so the descriptors the scenario sees number exactly as they would without the runner.
//! Descriptors 0, 1 and 2 are `/dev/null` opened `O_RDWR`, as in the simulator.
//!
//! Every process here is a `fork` of the driver, which is a `fork` of `ipclab check`: it must never
//! return into their code, nor unwind into it. Each one ends with `_exit`, and a panic is caught at its
//! entry and turned into an exit status.

pub mod fd;
pub mod fifo;
pub mod init;
pub mod ipc_structs;
pub mod mm;
pub mod mqueue;
pub mod msg;
pub mod named_sem;
pub mod pipe;
pub mod poll;
pub mod posix_shm;
pub mod process;
pub mod sched;
pub mod sem;
pub mod shm;
pub mod signal;
pub mod socket;
pub mod sys;
pub mod time;

use super::protocol::{self, CallView, CommandView, RecvEnd, Reply, CONTROL_FD, MAX_COMMAND_BYTES};
use sim_core::lang::syscalls::{CallId, Mechanism};
use std::os::fd::RawFd;
use sys::{scenario_syscall, syscall3, syscall6, LevelMemory};

/// Where a control socket waits during a `fork` (above `CONTROL_FD`).
const SPARE_FD: RawFd = 1031;
/// The simulator's `RLIMIT_NOFILE`; scenario descriptors stay below it.
const NOFILE: u64 = 1024;
/// Room for the control sockets above the scenario's descriptors.
const NOFILE_WITH_CONTROL: u64 = 2048;

/// Exit statuses of a real process that cannot go on (none is a status a scenario can give itself
/// without saying so, and the driver reports any of them as a difference).
pub mod exit_code {
    /// The driver closed the control socket: the run is over.
    pub const DRIVER_GONE: i32 = 101;
    /// A message on the control socket that does not decode, or that this process does not take.
    pub const BAD_COMMAND: i32 = 102;
    /// The reply could not be sent.
    pub const REPLY_FAILED: i32 = 104;
    /// Memory for a command or a read could not be mapped.
    pub const NO_MEMORY: i32 = 105;
    /// More handlers inside one another than the runner has room for.
    pub const TOO_DEEP: i32 = 106;
    /// Setting up a new process failed.
    pub const SETUP_FAILED: i32 = 108;
    /// A panic in the real process's own code (a bug in ipclab).
    pub const PANICKED: i32 = 110;
}

/// A reply as a real process sends it: a read's bytes stay where the read put them.
pub type Out<'a> = Reply<&'a [u8]>;

/// Runs `body` in a process made by `fork`, and ends the process with `_exit` whatever happens: it never
/// returns, and a panic never unwinds into the code of the process it was forked from.
pub fn run_forked(body: impl FnOnce() -> i32) -> ! {
    let status = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(exit_code::PANICKED);
    // SAFETY: _exit ends the process without running any of the forked-from process's destructors.
    unsafe { libc::_exit(status) }
}

/// The errno of the last libc call (set-up code only; the command loop uses raw results).
pub(crate) fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The reply for a raw system call's result: a number, or `-errno`.
pub(crate) fn value_or_errno(result: i64) -> Out<'static> {
    if result < 0 {
        Reply::Errno(-result as i32)
    } else {
        Reply::Value(result)
    }
}

/// One of the scenario's calls, by number.
pub(crate) fn call(nr: i64, args: &[i64]) -> i64 {
    let mut all = [0i64; 6];
    all[..args.len()].copy_from_slice(args);
    scenario_syscall(nr, all)
}

/// Control descriptors live above the scenario's limit; an operand there is refused as an invalid
/// descriptor (the simulator says `EBADF` for it too) instead of touching the control socket.
pub(crate) fn guard(fd: i64) -> i64 {
    if (NOFILE as i64..1100).contains(&fd) {
        -1
    } else {
        fd
    }
}

/// A command for a call of another mechanism reached this one: a bug in the dispatch.
pub(crate) fn not_this_mechanism(id: CallId) -> ! {
    let _ = id;
    sys::exit_now(exit_code::BAD_COMMAND)
}

fn set_nofile(soft: u64) {
    let mut old = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    syscall6(libc::SYS_prlimit64, 0, libc::RLIMIT_NOFILE as i64, 0, &mut old as *mut libc::rlimit as i64, 0, 0);
    let new = libc::rlimit { rlim_cur: soft.min(old.rlim_max), rlim_max: old.rlim_max };
    syscall6(libc::SYS_prlimit64, 0, libc::RLIMIT_NOFILE as i64, &new as *const libc::rlimit as i64, 0, 0, 0);
}

/// Makes the one real system call a command stands for. `data` and `path` are the level's own memory:
/// a read's bytes and a payload's are made in `data`, a path is made NUL-terminated in `path`.
pub fn perform<'a>(call: &CallView<'a>, data: &'a mut sys::Region, path: &mut [u8; 4096]) -> Out<'a> {
    match call.id.spec().mechanism {
        Mechanism::Fd => fd::perform(call, data),
        Mechanism::Pipe => pipe::perform(call),
        Mechanism::Fifo => fifo::perform(call, path),
        Mechanism::Process => process::perform(call),
        Mechanism::Signal => signal::perform(call),
        Mechanism::Sched => sched::perform(call),
        Mechanism::Time => time::perform(call),
        Mechanism::Msg => msg::perform(call, data),
        Mechanism::Sem => sem::perform(call, data),
        Mechanism::Mqueue => mqueue::perform(call, data, path),
        Mechanism::NamedSem => named_sem::perform(call, path),
        Mechanism::Shm => shm::perform(call),
        Mechanism::Mm | Mechanism::Memory => mm::perform(call, data),
        Mechanism::Socket => socket::perform(call, data),
        Mechanism::PosixShm => posix_shm::perform(call, path),
        Mechanism::Poll => poll::perform(call),
    }
}

/// The system call number a call that blocks sleeps in, as `/proc/PID/syscall` shows it.
pub fn blocking_syscall(id: CallId) -> Option<i64> {
    match id.spec().mechanism {
        Mechanism::Fd => fd::blocking_syscall(id),
        Mechanism::Pipe => None,
        Mechanism::Fifo => fifo::blocking_syscall(id),
        Mechanism::Process => process::blocking_syscall(id),
        Mechanism::Signal => signal::blocking_syscall(id),
        Mechanism::Sched => None,
        Mechanism::Time => time::blocking_syscall(id),
        Mechanism::Msg => msg::blocking_syscall(id),
        Mechanism::Sem => sem::blocking_syscall(id),
        Mechanism::Mqueue => mqueue::blocking_syscall(id),
        Mechanism::NamedSem => named_sem::blocking_syscall(id),
        Mechanism::Mm => (id == CallId::Futex).then_some(libc::SYS_futex),
        Mechanism::Shm | Mechanism::Memory => None,
        Mechanism::Socket => socket::blocking_syscall(id),
        Mechanism::PosixShm => None,
        Mechanism::Poll => poll::blocking_syscall(id),
    }
}

/// How a level's command loop ends.
pub enum LevelEnd {
    /// The driver said return (the implicit `rt_sigreturn()`): the handler running this loop returns.
    Return,
    /// The process must end with this status.
    Exit(i32),
}

/// `-ERESTARTSYS`, which Linux never lets a program see: the runner's handler puts it in a rewound
/// call's result so that the call does not start again before the driver says (see [`signal`]).
pub const RESTART_MARKER: i32 = 512;

/// The command loop of the level running now (the main loop, or a handler's). Allocates nothing.
pub fn serve_commands(in_handler: bool) -> LevelEnd {
    loop {
        let LevelMemory { command, data, path } = sys::level_memory();
        let Some(buffer) = command.ensure(MAX_COMMAND_BYTES) else { return LevelEnd::Exit(exit_code::NO_MEMORY) };
        let len = match protocol::recv_into(CONTROL_FD, buffer) {
            Ok(len) => len,
            // The driver is gone: so are we.
            Err(RecvEnd::Closed) => return LevelEnd::Exit(exit_code::DRIVER_GONE),
            Err(RecvEnd::Broken) => return LevelEnd::Exit(exit_code::BAD_COMMAND),
        };
        let Ok(command) = protocol::parse_command(&buffer[..len]) else {
            return LevelEnd::Exit(exit_code::BAD_COMMAND);
        };
        match command {
            CommandView::Exit { status } => sys::exit_now(status),
            CommandView::Call(call) => {
                let reply = match perform(&call, data, path) {
                    // A call the runner's handler kept from starting again: it starts again when the
                    // driver sends it again.
                    Reply::Errno(RESTART_MARKER) => Reply::Restarted,
                    reply => reply,
                };
                if protocol::send_reply(CONTROL_FD, &reply, None).is_err() {
                    return LevelEnd::Exit(exit_code::REPLY_FAILED);
                }
            }
            CommandView::Fork { .. } => {
                if let Some(status) = fork_child() {
                    return LevelEnd::Exit(status);
                }
            }
            CommandView::Fault { .. } => divide_by_zero(),
            CommandView::Return if in_handler => return LevelEnd::Return,
            CommandView::Return | CommandView::SpawnTop { .. } | CommandView::Reap { .. } | CommandView::NewSession => {
                return LevelEnd::Exit(exit_code::BAD_COMMAND)
            }
        }
    }
}

/// The main command loop of a scenario process. Returns the process's exit status when it must stop.
pub fn serve() -> i32 {
    match serve_commands(false) {
        LevelEnd::Exit(status) => status,
        LevelEnd::Return => exit_code::BAD_COMMAND,
    }
}

/// The scenario's code divides by zero: the CPU's divide error, which the kernel turns into `SIGFPE`
/// with `force_sig_fault` (`arch/x86/kernel/traps.c`, `do_error_trap`): unlike `raise(SIGFPE)`, a fault
/// cannot be ignored (`force_sig_info_to_task` puts back the default action), as the simulator models.
fn divide_by_zero() {
    let divisor = std::hint::black_box(0i64);
    // SAFETY: `idiv` by zero traps; the default action of SIGFPE ends the process before it returns.
    unsafe {
        std::arch::asm!(
            "cqo",
            "idiv {divisor}",
            divisor = in(reg) divisor,
            inout("rax") 1i64 => _,
            out("rdx") _,
            options(nomem, nostack),
        );
    }
}

/// Moves `fd` to exactly `target` (above the scenario's descriptor limit) with close-on-exec.
fn move_high(fd: RawFd, target: RawFd) {
    set_nofile(NOFILE_WITH_CONTROL);
    syscall3(libc::SYS_dup3, fd as i64, target as i64, libc::O_CLOEXEC as i64);
    syscall3(libc::SYS_close, fd as i64, 0, 0);
    set_nofile(NOFILE);
}

/// `fork`: the child gets a control socket of its own at `CONTROL_FD`, and the driver its other end.
/// The child goes on serving commands at the level it was forked at (inside the handlers its parent
/// was running, which it never returns from: the simulator's child runs its own block and has no
/// handler frame). Returns an exit status when this process must stop. Raw system calls only: a `fork`
/// may be a handler's step, and glibc's `fork` takes locks the interrupted code might hold.
fn fork_child() -> Option<i32> {
    let failed = |errno: i64| {
        let sent = protocol::send_reply(CONTROL_FD, &Out::Errno(-errno as i32), None);
        sent.is_err().then_some(exit_code::REPLY_FAILED)
    };
    let mut ends = [-1i32; 2];
    let kind = (libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC) as i64;
    let made = syscall6(libc::SYS_socketpair, libc::AF_UNIX as i64, kind, 0, ends.as_mut_ptr() as i64, 0, 0);
    if made < 0 {
        return failed(made);
    }
    let (child_end, driver_end) = (ends[0], ends[1]);
    // The driver learns the child's pid outside the namespace from the credentials of its first message.
    let on: libc::c_int = 1;
    let option = syscall6(
        libc::SYS_setsockopt,
        driver_end as i64,
        libc::SOL_SOCKET as i64,
        libc::SO_PASSCRED as i64,
        &on as *const libc::c_int as i64,
        std::mem::size_of::<libc::c_int>() as i64,
        0,
    );
    if option < 0 {
        syscall3(libc::SYS_close, child_end as i64, 0, 0);
        syscall3(libc::SYS_close, driver_end as i64, 0, 0);
        return failed(option);
    }
    // Both ends go above the scenario's descriptors at once, so the child's table is untouched.
    move_high(child_end, SPARE_FD);
    move_high(driver_end, SPARE_FD + 1);
    let pid = call(libc::SYS_clone, &[libc::SIGCHLD as i64, 0, 0, 0, 0]);
    if pid == 0 {
        set_nofile(NOFILE_WITH_CONTROL);
        syscall3(libc::SYS_dup3, SPARE_FD as i64, CONTROL_FD as i64, libc::O_CLOEXEC as i64);
        syscall3(libc::SYS_close, SPARE_FD as i64, 0, 0);
        syscall3(libc::SYS_close, (SPARE_FD + 1) as i64, 0, 0);
        set_nofile(NOFILE);
        let me = sys::syscall0(libc::SYS_getpid) as i32;
        if protocol::send_reply(CONTROL_FD, &Out::Ready { pid: me }, None).is_err() {
            sys::exit_now(exit_code::REPLY_FAILED);
        }
        match serve_commands(false) {
            LevelEnd::Exit(status) => sys::exit_now(status),
            LevelEnd::Return => sys::exit_now(exit_code::BAD_COMMAND),
        }
    }
    let reply = if pid < 0 { Out::Errno(-pid as i32) } else { Out::Forked { child: pid as i32 } };
    let pass = (pid > 0).then_some(SPARE_FD + 1);
    let sent = protocol::send_reply(CONTROL_FD, &reply, pass);
    syscall3(libc::SYS_close, SPARE_FD as i64, 0, 0);
    syscall3(libc::SYS_close, (SPARE_FD + 1) as i64, 0, 0);
    sent.is_err().then_some(exit_code::REPLY_FAILED)
}

/// Default dispositions for every signal and an empty mask: the runner's own handlers (the Rust
/// runtime's, `ipclab check`'s) must not leak into the scenario, whose `/proc/PID/status` signal lines
/// are compared with the simulator's.
pub(crate) fn reset_signals() {
    let default = sys::KernelSigaction::default();
    for signal in 1..=64 {
        if signal != libc::SIGKILL as i64 && signal != libc::SIGSTOP as i64 {
            sys::rt_sigaction(signal, Some(&default), None);
        }
    }
    let empty: u64 = 0;
    syscall6(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK as i64, &empty as *const u64 as i64, 0, 8, 0, 0);
}

/// The start of a top-level scenario process, in the child `init` just forked: its own process group
/// (as in the simulator, where each top-level process leads one), an unprivileged user, the simulator's
/// RLIMIT_CORE (no core until the scenario raises it; dumpable, so that a raised limit writes one),
/// default signals, `/dev/null` on 0, 1 and 2, the control socket at `CONTROL_FD` and nothing else.
/// Then it serves commands. `control` is the child's end of its control socket.
pub fn start_top_level(control: RawFd, drop_to_uid: Option<u32>) -> i32 {
    // SAFETY: set-up system calls in the new child, before any scenario call.
    unsafe {
        if libc::setpgid(0, 0) != 0 {
            return exit_code::SETUP_FAILED;
        }
        // Room above the scenario's limit for the control sockets, while it may still be raised.
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        if limit.rlim_max < NOFILE_WITH_CONTROL {
            limit.rlim_max = NOFILE_WITH_CONTROL;
            limit.rlim_cur = limit.rlim_cur.min(NOFILE_WITH_CONTROL);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
        // The simulator's RLIMIT_CORE: no core (soft 0) until the scenario raises it, up to no limit
        // (hard `RLIM_INFINITY`), set while the hard limit may still be raised.
        let (soft, hard) = sim_core::linux::resource::DEFAULT_CORE_LIMIT;
        let core_limit = libc::rlimit { rlim_cur: soft, rlim_max: hard };
        if libc::setrlimit(libc::RLIMIT_CORE, &core_limit) != 0 {
            return exit_code::SETUP_FAILED;
        }
        if let Some(uid) = drop_to_uid {
            if libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(uid) != 0 || libc::setuid(uid) != 0 {
                return exit_code::SETUP_FAILED;
            }
        }
        // Changing user made the process undumpable (`commit_creds` applies `suid_dumpable`, 0 here):
        // a core-dumping signal would then write no core whatever RLIMIT_CORE says. The simulator's
        // processes dump core when their limit allows, so the real ones must too; the core goes to the
        // run's directory, the working directory of every scenario process.
        libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0);
        // The umask the simulator gives every process (a new message queue's or semaphore's mode).
        libc::umask(sim_core::linux::fcntl::UMASK as libc::mode_t);
        reset_signals();
        set_nofile(NOFILE_WITH_CONTROL);
        if libc::dup3(control, CONTROL_FD, libc::O_CLOEXEC) != CONTROL_FD {
            return exit_code::SETUP_FAILED;
        }
        libc::close_range(0, CONTROL_FD as u32 - 1, 0);
        libc::close_range(CONTROL_FD as u32 + 1, u32::MAX, 0);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null != 0 {
            return exit_code::SETUP_FAILED;
        }
        libc::dup2(0, 1);
        libc::dup2(0, 2);
        set_nofile(NOFILE);
        let me = libc::getpid();
        if protocol::send_reply(CONTROL_FD, &Out::Ready { pid: me }, None).is_err() {
            return exit_code::REPLY_FAILED;
        }
    }
    serve()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::lang::syscalls::CALLS;

    #[test]
    fn control_descriptors_are_guarded() {
        assert_eq!(guard(3), 3);
        assert_eq!(guard(CONTROL_FD as i64), -1);
        assert_eq!(guard(1024), -1);
        assert_eq!(guard(5000), 5000);
    }

    #[test]
    fn every_call_that_may_block_names_the_system_call_it_sleeps_in() {
        for spec in CALLS {
            let number = blocking_syscall(spec.id);
            if spec.may_block {
                assert!(number.is_some(), "{} may block but names no system call", spec.name);
            } else {
                assert_eq!(number, None, "{} never blocks", spec.name);
            }
        }
        assert_eq!(blocking_syscall(CallId::Read), Some(libc::SYS_read));
        assert_eq!(blocking_syscall(CallId::Waitid), Some(libc::SYS_waitid));
        assert_eq!(blocking_syscall(CallId::Sigsuspend), Some(libc::SYS_rt_sigsuspend));
    }
}
