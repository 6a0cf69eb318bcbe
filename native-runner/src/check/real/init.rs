//! The run's `init`: pid 1 of the run's PID namespace, root, and the parent of every top-level
//! scenario process, as `init` is in the simulator.
//!
//! It does three things, each on the driver's command: start top-level process number N (a `fork`, so
//! that the processes are its children, get pids 2, 3, ... in the simulator's order, and see
//! `getppid() == 1`); leave the scenario's session once they have all started (`setsid`, so that `init`
//! leads session and process group 1 as a real `init` does, while the scenario's processes stay in a
//! session of their own); and collect a zombie. Orphans come to it by Linux's own rules
//! (`find_new_reaper` in `kernel/exit.c` stops at the namespace's child reaper), and it leaves every
//! zombie alone until the driver, having read the dead process's status from `/proc`, asks for it: the
//! simulator's `init` reaps at once, and a zombie the driver has not seen yet must still be there to be
//! seen. `SIGCHLD` keeps its default action (ignored, but not `SIG_IGN`, which would make the kernel
//! reap by itself).
//!
//! When `init` dies the kernel kills every other process of the namespace (`zap_pid_ns_processes` in
//! `kernel/pid_namespace.c`), so nothing of a run can outlive it, and it dies with the driver
//! (`PR_SET_PDEATHSIG`), or when the driver closes its control socket.

use super::{errno, exit_code, reset_signals, run_forked, start_top_level, Out};
use crate::check::protocol::{self, Command};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// `init`'s command loop; `control` is its end of the driver's socket. Returns its exit status.
pub fn serve(control: RawFd, drop_to_uid: Option<u32>) -> i32 {
    // The driver's death kills init. A namespace's init ignores signals it has no handler for, except
    // SIGKILL and SIGSTOP from an ancestor namespace (`sig_task_ignored`, with `force` set in
    // `send_signal_locked` when the sender is not in the namespace), which the dying driver is.
    // SAFETY: plain process set-up calls.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
    }
    // Nothing of the driver's but this socket (not the report pipe, not the run directory's lock).
    // SAFETY: closing descriptors this process does not use.
    unsafe {
        libc::close_range(0, control as u32 - 1, 0);
        libc::close_range(control as u32 + 1, u32::MAX, 0);
    }
    reset_signals();
    // Signals meant for `ipclab check` (a ^C reaches its whole process group) are not for the run: the
    // driver stops between steps and then takes the namespace down itself.
    // SAFETY: plain signal calls.
    unsafe {
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
            libc::signal(signal, libc::SIG_IGN);
        }
    }
    let mut buffer = Vec::new();
    loop {
        let message = match protocol::recv_message(control, &mut buffer) {
            Ok(Some(message)) => message,
            Ok(None) | Err(_) => return exit_code::DRIVER_GONE,
        };
        let reply = match protocol::decode_command(&message.bytes) {
            Ok(Command::SpawnTop { handlers, .. }) => match spawn_top_level(control, drop_to_uid, handlers) {
                Ok((child, driver_end)) => {
                    let sent = protocol::send_reply(control, &Out::Forked { child }, Some(driver_end.as_raw_fd()));
                    if sent.is_err() {
                        return exit_code::REPLY_FAILED;
                    }
                    continue;
                }
                Err(errno) => Out::Errno(errno),
            },
            Ok(Command::Reap { pid }) => {
                let mut status = 0;
                // SAFETY: waitpid with a valid status pointer.
                match unsafe { libc::waitpid(pid, &mut status, 0) } {
                    reaped if reaped > 0 => Out::Waited { pid: reaped, status, via_info: false },
                    _ => Out::Errno(errno()),
                }
            }
            // SAFETY: setsid takes no pointer.
            Ok(Command::NewSession) => match unsafe { libc::setsid() } {
                session if session >= 0 => Out::Value(session as i64),
                _ => Out::Errno(errno()),
            },
            Ok(_) | Err(_) => return exit_code::BAD_COMMAND,
        };
        if protocol::send_reply(control, &reply, None).is_err() {
            return exit_code::REPLY_FAILED;
        }
    }
}

/// Forks a top-level scenario process. Returns its pid and the driver's end of its control socket.
fn spawn_top_level(init_control: RawFd, drop_to_uid: Option<u32>, handlers: u32) -> Result<(i32, OwnedFd), i32> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    let (driver_end, child_end) = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)
        .map_err(|error| error as i32)?;
    // The driver learns the child's pid outside the namespace from the credentials of its first message.
    protocol::want_sender(driver_end.as_raw_fd()).map_err(|_| errno())?;
    // SAFETY: fork in a single-threaded process; the child only sets itself up and serves.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(errno());
    }
    if pid == 0 {
        let control = child_end.as_raw_fd();
        // SAFETY: this child keeps neither init's socket nor the driver's end (closing them here also
        // happens in `start_top_level`, which closes everything but its own control socket).
        unsafe {
            libc::close(init_control);
            libc::close(driver_end.as_raw_fd());
        }
        std::mem::forget(driver_end);
        super::signal::set_handler_count(handlers);
        run_forked(|| start_top_level(control, drop_to_uid));
    }
    drop(child_end);
    Ok((pid, driver_end))
}
