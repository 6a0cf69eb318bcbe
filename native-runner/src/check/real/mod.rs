//! The Linux arm: real processes that make the scenario's system calls one at a time, on command.
//!
//! Each scenario process is a real process running [`serve`]: it waits for a command on its control
//! socket, makes exactly one real system call (the call the driver names by its `CallId`, with the
//! operands the simulator resolved), reports the result and waits again. A call that blocks simply
//! does not report until it completes. A `fork` command makes a real `fork`, so descriptor
//! inheritance, shared file offsets and reference counts are Linux's own; the parent hands the driver
//! a fresh control socket for the child.
//!
//! Each kind of call lives in the module of its mechanism (the same split as sim-core's `kernel/`):
//! [`fd`], [`pipe`], [`fifo`], [`process`], [`signal`], [`sched`], [`msg`], [`sem`], [`mqueue`],
//! [`named_sem`] ([`ipc_structs`] holds the System V structures). Each turns a call and its operands
//! into exactly one real system call and says which system call number a blocked call sleeps in (as
//! `/proc/PID/syscall` shows it). Adding a call is one match arm there. [`init`] is the run's `init`.
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
pub mod mqueue;
pub mod msg;
pub mod named_sem;
pub mod pipe;
pub mod process;
pub mod sched;
pub mod sem;
pub mod signal;

use super::protocol::{self, CallCommand, Command, Reply, CONTROL_FD};
use sim_core::lang::syscalls::{CallId, Mechanism};
use std::os::fd::{AsRawFd, RawFd};

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
    /// Setting up a new process failed.
    pub const SETUP_FAILED: i32 = 108;
    /// A panic in the real process's own code (a bug in ipclab).
    pub const PANICKED: i32 = 110;
}

/// Memory a process reuses from call to call: the bytes of a read, or of a payload being written.
#[derive(Default)]
pub struct Scratch {
    pub bytes: Vec<u8>,
}

impl Scratch {
    /// Takes the buffer back after its bytes were sent, keeping its capacity for the next call.
    fn recycle(&mut self, reply: Reply) {
        if let Reply::Data(mut bytes) = reply {
            bytes.clear();
            if bytes.capacity() > self.bytes.capacity() {
                self.bytes = bytes;
            }
        }
    }
}

/// Runs `body` in a process made by `fork`, and ends the process with `_exit` whatever happens: it never
/// returns, and a panic never unwinds into the code of the process it was forked from.
pub fn run_forked(body: impl FnOnce() -> i32) -> ! {
    let status = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(exit_code::PANICKED);
    // SAFETY: _exit ends the process without running any of the forked-from process's destructors.
    unsafe { libc::_exit(status) }
}

pub(crate) fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The reply for a call that returns a number or -1 with `errno`.
pub(crate) fn value_or_errno(result: i64) -> Reply {
    if result < 0 {
        Reply::Errno(errno())
    } else {
        Reply::Value(result)
    }
}

/// Control descriptors live above the scenario's limit; an operand there is refused as an invalid
/// descriptor (the simulator says `EBADF` for it too) instead of touching the control socket.
pub(crate) fn guard(fd: i64) -> i32 {
    if (NOFILE as i64..1100).contains(&fd) {
        -1
    } else {
        fd as i32
    }
}

/// A command for a call of another mechanism reached this one: a bug in the dispatch.
pub(crate) fn not_this_mechanism(id: CallId) -> Reply {
    let _ = id;
    // SAFETY: ends this process only.
    unsafe { libc::_exit(exit_code::BAD_COMMAND) }
}

fn set_nofile(soft: u64) {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain system calls with valid pointers.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = soft.min(limit.rlim_max);
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
}

/// Makes the one real system call a command stands for.
pub fn perform(call: &CallCommand, scratch: &mut Scratch) -> Reply {
    match call.id.spec().mechanism {
        Mechanism::Fd => fd::perform(call, scratch),
        Mechanism::Pipe => pipe::perform(call),
        Mechanism::Fifo => fifo::perform(call),
        Mechanism::Process => process::perform(call),
        Mechanism::Signal => signal::perform(call),
        Mechanism::Sched => sched::perform(call),
        Mechanism::Msg => msg::perform(call, scratch),
        Mechanism::Sem => sem::perform(call),
        Mechanism::Mqueue => mqueue::perform(call, scratch),
        Mechanism::NamedSem => named_sem::perform(call),
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
        Mechanism::Msg => msg::blocking_syscall(id),
        Mechanism::Sem => sem::blocking_syscall(id),
        Mechanism::Mqueue => mqueue::blocking_syscall(id),
        Mechanism::NamedSem => named_sem::blocking_syscall(id),
    }
}

/// The command loop of a scenario process. Returns the process's exit status when it must stop.
pub fn serve() -> i32 {
    let mut scratch = Scratch::default();
    let mut buffer = Vec::new();
    loop {
        let message = match protocol::recv_message(CONTROL_FD, &mut buffer) {
            Ok(Some(message)) => message,
            // The driver is gone: so are we.
            Ok(None) | Err(_) => return exit_code::DRIVER_GONE,
        };
        let Ok(command) = protocol::decode_command(&message.bytes) else { return exit_code::BAD_COMMAND };
        match command {
            // SAFETY: the end of the process, as the scenario asks.
            Command::Exit { status } => unsafe { libc::_exit(status) },
            Command::Call(call) => {
                let reply = perform(&call, &mut scratch);
                if protocol::send_reply(CONTROL_FD, &reply, None).is_err() {
                    return exit_code::REPLY_FAILED;
                }
                scratch.recycle(reply);
            }
            Command::Fork { .. } => {
                if let Some(status) = fork_child() {
                    return status;
                }
            }
            Command::Fault { .. } => divide_by_zero(),
            Command::SpawnTop { .. } | Command::Reap { .. } | Command::NewSession => return exit_code::BAD_COMMAND,
        }
    }
}

/// The scenario's code divides by zero: the CPU's divide error, which the kernel turns into `SIGFPE`
/// with `force_sig_fault` (`arch/x86/kernel/traps.c`, `do_error_trap`): unlike `raise(SIGFPE)`, a fault
/// cannot be ignored (`force_sig_info_to_task` puts back the default action), as the simulator models.
#[cfg(target_arch = "x86_64")]
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

/// Elsewhere integer division by zero does not trap (aarch64 gives 0): the signal is raised instead.
#[cfg(not(target_arch = "x86_64"))]
fn divide_by_zero() {
    // SAFETY: plain signal calls on this process.
    unsafe {
        libc::signal(libc::SIGFPE, libc::SIG_DFL);
        libc::raise(libc::SIGFPE);
    }
}

/// Moves `fd` to exactly `target` (above the scenario's descriptor limit) with close-on-exec.
fn move_high(fd: RawFd, target: RawFd) {
    set_nofile(NOFILE_WITH_CONTROL);
    // SAFETY: plain descriptor calls.
    unsafe {
        libc::dup3(fd, target, libc::O_CLOEXEC);
        libc::close(fd);
    }
    set_nofile(NOFILE);
}

/// `fork`: the child gets a control socket of its own at `CONTROL_FD`, and the driver its other end.
/// Returns an exit status when this process must stop.
fn fork_child() -> Option<i32> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    let pair = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC);
    let Ok((child_end, driver_end)) = pair else {
        let sent = protocol::send_reply(CONTROL_FD, &Reply::Errno(errno()), None);
        return sent.is_err().then_some(exit_code::REPLY_FAILED);
    };
    // The driver learns the child's pid outside the namespace from the credentials of its first message.
    if protocol::want_sender(driver_end.as_raw_fd()).is_err() {
        let sent = protocol::send_reply(CONTROL_FD, &Reply::Errno(errno()), None);
        return sent.is_err().then_some(exit_code::REPLY_FAILED);
    }
    // Both ends go above the scenario's descriptors at once, so the child's table is untouched.
    let child_raw = child_end.as_raw_fd();
    std::mem::forget(child_end);
    move_high(child_raw, SPARE_FD);
    let driver_raw = driver_end.as_raw_fd();
    std::mem::forget(driver_end);
    move_high(driver_raw, SPARE_FD + 1);
    // SAFETY: fork in a single-threaded process.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        set_nofile(NOFILE_WITH_CONTROL);
        // SAFETY: plain descriptor calls in the new child.
        unsafe {
            libc::dup3(SPARE_FD, CONTROL_FD, libc::O_CLOEXEC);
            libc::close(SPARE_FD);
            libc::close(SPARE_FD + 1);
        }
        set_nofile(NOFILE);
        // SAFETY: getpid cannot fail.
        let me = unsafe { libc::getpid() };
        if protocol::send_reply(CONTROL_FD, &Reply::Ready { pid: me }, None).is_err() {
            return Some(exit_code::REPLY_FAILED);
        }
        return Some(serve());
    }
    let reply = if pid < 0 { Reply::Errno(errno()) } else { Reply::Forked { child: pid } };
    let pass = (pid > 0).then_some(SPARE_FD + 1);
    let sent = protocol::send_reply(CONTROL_FD, &reply, pass);
    // SAFETY: closing our copies of the child's socket.
    unsafe {
        libc::close(SPARE_FD);
        libc::close(SPARE_FD + 1);
    }
    sent.is_err().then_some(exit_code::REPLY_FAILED)
}

/// Default dispositions and an empty mask: the runner's own handlers must not leak into the scenario.
pub(crate) fn reset_signals() {
    // SAFETY: plain signal calls.
    unsafe {
        for signal in 1..32 {
            if signal != libc::SIGKILL && signal != libc::SIGSTOP {
                libc::signal(signal, libc::SIG_DFL);
            }
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
}

/// The start of a top-level scenario process, in the child `init` just forked: its own process group
/// (as in the simulator, where each top-level process leads one), an unprivileged user, no core dumps,
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
        if let Some(uid) = drop_to_uid {
            if libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(uid) != 0 || libc::setuid(uid) != 0 {
                return exit_code::SETUP_FAILED;
            }
        }
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        // The umask the simulator gives every process (a new message queue's or semaphore's mode).
        libc::umask(sim_core::linux::fcntl::UMASK as libc::mode_t);
        let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
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
        if protocol::send_reply(CONTROL_FD, &Reply::Ready { pid: me }, None).is_err() {
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
    }
}
