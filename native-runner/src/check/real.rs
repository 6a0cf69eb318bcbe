//! The Linux arm: real processes that make the scenario's system calls one at a time, on command.
//!
//! Each scenario process is a real process running [`serve`]: it waits for a command on its control
//! socket, makes exactly one real system call (the operation the runner names, with the operands the
//! simulator resolved), reports the result and waits again. A call that blocks simply does not report
//! until it completes. A `fork` command makes a real `fork`, so descriptor inheritance is real; the
//! parent hands the runner a fresh control socket for the child (over `SCM_RIGHTS`).
//!
//! The control socket lives at descriptor [`CONTROL_FD`], above `RLIMIT_NOFILE` (1024, as the simulator
//! models it), so the descriptors the scenario sees number exactly as they would without the runner.
//! Descriptors 0, 1 and 2 are `/dev/null` opened `O_RDWR`, as in the simulator.

use sim_core::ast::{Access, Disposition, FcntlCmd, OpenFlags};
use sim_core::program::{CallOp, OpKind, Program};
use std::ffi::CString;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The control socket's descriptor in every scenario process.
pub const CONTROL_FD: RawFd = 1030;
/// Where a control socket waits during a `fork` (above `CONTROL_FD`).
const SPARE_FD: RawFd = 1031;
/// The simulator's `RLIMIT_NOFILE`; scenario descriptors stay below it.
const NOFILE: u64 = 1024;
/// Bytes of read data per control message.
const CHUNK_BYTES: usize = 60_000;

/// What the runner asks a process to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Run operation `op` with these operands (`fd`; `arg`: the second descriptor of `dup2`, or the
    /// real target pid of `kill`/`waitpid`).
    Call { op: u32, fd: i32, arg: i64 },
    /// `fork` (operation `op`).
    Fork { op: u32 },
    /// The implicit `exit(0)` at the end of a block.
    Exit,
}

/// What a process reports back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Ready {
        pid: i32,
    },
    Value(i64),
    Errno(i32),
    Data(Vec<u8>),
    Pipe {
        read_fd: i32,
        write_fd: i32,
    },
    /// The parent's side of a fork; `channel` is the runner's end of the child's control socket.
    Fork {
        child: i32,
        channel: Option<i32>,
    },
    /// `wait`/`waitpid` collected `pid` with this raw wait status.
    Waited {
        pid: i32,
        status: i32,
    },
}

const TAG_READY: u8 = 1;
const TAG_VALUE: u8 = 2;
const TAG_ERRNO: u8 = 3;
const TAG_DATA: u8 = 4;
const TAG_PIPE: u8 = 5;
const TAG_FORK: u8 = 6;
const TAG_WAITED: u8 = 7;

fn encode_command(command: Command) -> [u8; 17] {
    let mut bytes = [0u8; 17];
    let (kind, op, fd, arg) = match command {
        Command::Call { op, fd, arg } => (1u8, op, fd, arg),
        Command::Fork { op } => (2, op, -1, -1),
        Command::Exit => (3, 0, -1, -1),
    };
    bytes[0] = kind;
    bytes[1..5].copy_from_slice(&op.to_le_bytes());
    bytes[5..9].copy_from_slice(&fd.to_le_bytes());
    bytes[9..17].copy_from_slice(&arg.to_le_bytes());
    bytes
}

fn decode_command(bytes: &[u8]) -> Option<Command> {
    if bytes.len() != 17 {
        return None;
    }
    let op = u32::from_le_bytes(bytes[1..5].try_into().ok()?);
    let fd = i32::from_le_bytes(bytes[5..9].try_into().ok()?);
    let arg = i64::from_le_bytes(bytes[9..17].try_into().ok()?);
    match bytes[0] {
        1 => Some(Command::Call { op, fd, arg }),
        2 => Some(Command::Fork { op }),
        3 => Some(Command::Exit),
        _ => None,
    }
}

fn header(tag: u8, first: i64, second: i64) -> [u8; 17] {
    let mut bytes = [0u8; 17];
    bytes[0] = tag;
    bytes[1..9].copy_from_slice(&first.to_le_bytes());
    bytes[9..17].copy_from_slice(&second.to_le_bytes());
    bytes
}

fn send_packet(fd: RawFd, bytes: &[u8], pass_fd: Option<RawFd>) -> nix::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let iov = [IoSlice::new(bytes)];
    let fds;
    let cmsgs: Vec<ControlMessage> = match pass_fd {
        Some(pass) => {
            fds = [pass];
            vec![ControlMessage::ScmRights(&fds)]
        }
        None => Vec::new(),
    };
    loop {
        match sendmsg::<()>(fd, &iov, &cmsgs, MsgFlags::empty(), None) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => return other.map(|_| ()),
        }
    }
}

/// Receives one packet; `Ok(None)` at end of file. Descriptors passed with it are returned too.
fn recv_packet(fd: RawFd, buffer: &mut [u8]) -> nix::Result<Option<(usize, Option<RawFd>)>> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    loop {
        let mut iov = [IoSliceMut::new(buffer)];
        let mut space = nix::cmsg_space!([RawFd; 2]);
        match recvmsg::<()>(fd, &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(error) => return Err(error),
            Ok(message) => {
                let mut passed = None;
                for cmsg in message.cmsgs()? {
                    if let ControlMessageOwned::ScmRights(fds) = cmsg {
                        passed = fds.first().copied();
                    }
                }
                if message.bytes == 0 && passed.is_none() {
                    return Ok(None);
                }
                return Ok(Some((message.bytes, passed)));
            }
        }
    }
}

pub fn send_command(fd: RawFd, command: Command) -> nix::Result<()> {
    send_packet(fd, &encode_command(command), None)
}

fn send_reply(fd: RawFd, reply: &Reply, pass_fd: Option<RawFd>) -> nix::Result<()> {
    match reply {
        Reply::Ready { pid } => send_packet(fd, &header(TAG_READY, *pid as i64, 0), None),
        Reply::Value(value) => send_packet(fd, &header(TAG_VALUE, *value, 0), None),
        Reply::Errno(errno) => send_packet(fd, &header(TAG_ERRNO, *errno as i64, 0), None),
        Reply::Pipe { read_fd, write_fd } => {
            send_packet(fd, &header(TAG_PIPE, *read_fd as i64, *write_fd as i64), None)
        }
        Reply::Fork { child, .. } => send_packet(fd, &header(TAG_FORK, *child as i64, 0), pass_fd),
        Reply::Waited { pid, status } => send_packet(fd, &header(TAG_WAITED, *pid as i64, *status as i64), None),
        Reply::Data(bytes) => {
            send_packet(fd, &header(TAG_DATA, bytes.len() as i64, 0), None)?;
            for chunk in bytes.chunks(CHUNK_BYTES) {
                send_packet(fd, chunk, None)?;
            }
            Ok(())
        }
    }
}

/// Reads one reply (the runner's side). `Ok(None)`: the process closed its socket (it died).
pub fn recv_reply(fd: RawFd) -> Result<Option<Reply>, String> {
    let mut buffer = vec![0u8; CHUNK_BYTES];
    let Some((length, passed)) = recv_packet(fd, &mut buffer).map_err(|error| error.to_string())? else {
        return Ok(None);
    };
    if length != 17 {
        return Err(format!("malformed reply of {length} bytes on the control socket"));
    }
    let first = i64::from_le_bytes(buffer[1..9].try_into().expect("8 bytes"));
    let second = i64::from_le_bytes(buffer[9..17].try_into().expect("8 bytes"));
    Ok(Some(match buffer[0] {
        TAG_READY => Reply::Ready { pid: first as i32 },
        TAG_VALUE => Reply::Value(first),
        TAG_ERRNO => Reply::Errno(first as i32),
        TAG_PIPE => Reply::Pipe { read_fd: first as i32, write_fd: second as i32 },
        TAG_FORK => Reply::Fork { child: first as i32, channel: passed },
        TAG_WAITED => Reply::Waited { pid: first as i32, status: second as i32 },
        TAG_DATA => {
            let total = first as usize;
            let mut data = Vec::with_capacity(total);
            while data.len() < total {
                let Some((length, _)) = recv_packet(fd, &mut buffer).map_err(|error| error.to_string())? else {
                    return Err("the process died in the middle of a reply".to_string());
                };
                data.extend_from_slice(&buffer[..length]);
            }
            Reply::Data(data)
        }
        tag => return Err(format!("unknown reply tag {tag} on the control socket")),
    }))
}

/// Everything a scenario process needs, set up by the runner before the first real `fork`.
pub struct Context {
    pub program: std::sync::Arc<Program>,
    /// The real path standing in for each scenario path.
    pub paths: Vec<CString>,
    /// Switch to this uid/gid (the runner is root; scenario processes are not).
    pub drop_to_uid: Option<u32>,
    pub runner_pid: i32,
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn value_or_errno(result: i64) -> Reply {
    if result < 0 {
        Reply::Errno(errno())
    } else {
        Reply::Value(result)
    }
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

/// Control descriptors live above the scenario's limit; an operand there is refused as an invalid
/// descriptor (the simulator says `EBADF` for it too) instead of touching the runner's socket.
fn guard(fd: i64) -> i32 {
    if fd >= NOFILE as i64 && fd < 1100 {
        -1
    } else {
        fd as i32
    }
}

fn open_flags(flags: &OpenFlags) -> i32 {
    let mut bits = match flags.access {
        Access::ReadOnly => libc::O_RDONLY,
        Access::WriteOnly => libc::O_WRONLY,
        Access::ReadWrite => libc::O_RDWR,
    };
    if flags.nonblock {
        bits |= libc::O_NONBLOCK;
    }
    if flags.cloexec {
        bits |= libc::O_CLOEXEC;
    }
    bits
}

/// Makes the one real system call an operation stands for.
fn perform(context: &Context, call: &CallOp, fd: i32, arg: i64) -> Reply {
    let path_of = |path: &str| {
        let index = context.program.paths.iter().position(|known| &**known == path).unwrap_or(0);
        context.paths[index].clone()
    };
    // SAFETY (whole match): each arm is one system call with valid pointers into live buffers.
    unsafe {
        match call {
            CallOp::Pipe { flags, is_pipe2, .. } => {
                let mut fds = [-1i32; 2];
                let result = if *is_pipe2 {
                    let mut bits = 0;
                    if flags.nonblock {
                        bits |= libc::O_NONBLOCK;
                    }
                    if flags.cloexec {
                        bits |= libc::O_CLOEXEC;
                    }
                    libc::pipe2(fds.as_mut_ptr(), bits)
                } else {
                    libc::pipe(fds.as_mut_ptr())
                };
                if result < 0 {
                    Reply::Errno(errno())
                } else {
                    Reply::Pipe { read_fd: fds[0], write_fd: fds[1] }
                }
            }
            CallOp::Open { path, flags, .. } => {
                let real = path_of(path);
                value_or_errno(libc::syscall(libc::SYS_openat, libc::AT_FDCWD, real.as_ptr(), open_flags(flags), 0o600))
            }
            CallOp::Dup { .. } => value_or_errno(libc::dup(guard(fd as i64)) as i64),
            CallOp::Dup2 { .. } => value_or_errno(libc::dup2(guard(fd as i64), guard(arg)) as i64),
            CallOp::Close { .. } => value_or_errno(libc::close(guard(fd as i64)) as i64),
            CallOp::Write { data, .. } => {
                value_or_errno(libc::write(guard(fd as i64), data.as_ptr() as *const libc::c_void, data.len()) as i64)
            }
            CallOp::Read { count, .. } => {
                let mut buffer = vec![0u8; *count as usize];
                let result = libc::read(guard(fd as i64), buffer.as_mut_ptr() as *mut libc::c_void, buffer.len());
                if result < 0 {
                    Reply::Errno(errno())
                } else {
                    buffer.truncate(result as usize);
                    Reply::Data(buffer)
                }
            }
            CallOp::Mkfifo { path } => {
                let real = path_of(path);
                value_or_errno(libc::mkfifo(real.as_ptr(), 0o600) as i64)
            }
            CallOp::Unlink { path } => {
                let real = path_of(path);
                value_or_errno(libc::unlink(real.as_ptr()) as i64)
            }
            CallOp::Fcntl { cmd, .. } => {
                let fd = guard(fd as i64);
                let result = match cmd {
                    FcntlCmd::GetPipeSize => libc::fcntl(fd, libc::F_GETPIPE_SZ),
                    FcntlCmd::SetPipeSize(size) => libc::fcntl(fd, libc::F_SETPIPE_SZ, *size as libc::c_int),
                    FcntlCmd::GetFlags => libc::fcntl(fd, libc::F_GETFL),
                    FcntlCmd::SetFlags { nonblock } => {
                        libc::fcntl(fd, libc::F_SETFL, if *nonblock { libc::O_NONBLOCK } else { 0 })
                    }
                };
                value_or_errno(result as i64)
            }
            CallOp::Kill { signal, .. } => value_or_errno(libc::kill(arg as i32, signal.0 as i32) as i64),
            CallOp::SetDisposition { signal, disposition } => {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = match disposition {
                    Disposition::Default => libc::SIG_DFL,
                    Disposition::Ignore => libc::SIG_IGN,
                };
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal.0 as i32, &action, &mut old) < 0 {
                    Reply::Errno(errno())
                } else {
                    Reply::Value(if old.sa_sigaction == libc::SIG_IGN { 1 } else { 0 })
                }
            }
            CallOp::Wait => wait_reply(-1, 0),
            CallOp::Waitpid { options, .. } => {
                let mut bits = 0;
                if options.nohang {
                    bits |= libc::WNOHANG;
                }
                if options.untraced {
                    bits |= libc::WUNTRACED;
                }
                if options.continued {
                    bits |= libc::WCONTINUED;
                }
                wait_reply(arg as i32, bits)
            }
            CallOp::Pause => value_or_errno(libc::syscall(libc::SYS_pause)),
            CallOp::SchedYield => value_or_errno(libc::sched_yield() as i64),
            CallOp::Exit { code } => libc::_exit(*code as i32),
        }
    }
}

fn wait_reply(target: i32, options: i32) -> Reply {
    let mut status = 0;
    // SAFETY: wait4 with a valid status pointer.
    let result = unsafe { libc::syscall(libc::SYS_wait4, target, &mut status as *mut i32, options, 0usize) };
    match result {
        result if result < 0 => Reply::Errno(errno()),
        0 => Reply::Value(0),
        pid => Reply::Waited { pid: pid as i32, status },
    }
}

/// The system call number a blocking operation sleeps in, as `/proc/PID/syscall` shows it.
pub fn syscall_of(call: &CallOp) -> Option<i64> {
    match call {
        CallOp::Read { .. } => Some(libc::SYS_read),
        CallOp::Write { .. } => Some(libc::SYS_write),
        CallOp::Open { .. } => Some(libc::SYS_openat),
        CallOp::Wait | CallOp::Waitpid { .. } => Some(libc::SYS_wait4),
        CallOp::Pause => Some(libc::SYS_pause),
        _ => None,
    }
}

/// The command loop of a scenario process. Never returns.
pub fn serve(context: &Context) -> ! {
    let mut buffer = [0u8; 64];
    loop {
        let packet = recv_packet(CONTROL_FD, &mut buffer);
        let Ok(Some((length, _))) = packet else {
            // The runner is gone: so are we.
            unsafe { libc::_exit(101) }
        };
        let Some(command) = decode_command(&buffer[..length]) else { unsafe { libc::_exit(102) } };
        match command {
            Command::Exit => unsafe { libc::_exit(0) },
            Command::Call { op, fd, arg } => {
                let OpKind::Call(call) = &context.program.ops[op as usize].kind else { unsafe { libc::_exit(103) } };
                let reply = perform(context, call, fd, arg);
                if send_reply(CONTROL_FD, &reply, None).is_err() {
                    unsafe { libc::_exit(104) }
                }
            }
            Command::Fork { .. } => fork_child(context),
        }
    }
}

/// Moves `fd` to exactly `target` (above the scenario's descriptor limit) with close-on-exec.
fn move_high(fd: RawFd, target: RawFd) {
    set_nofile(2048);
    // SAFETY: plain descriptor calls.
    unsafe {
        libc::dup3(fd, target, libc::O_CLOEXEC);
        libc::close(fd);
    }
    set_nofile(NOFILE);
}

fn fork_child(context: &Context) {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    let pair = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC);
    let Ok((child_end, runner_end)) = pair else {
        let _ = send_reply(CONTROL_FD, &Reply::Errno(errno()), None);
        return;
    };
    // Both ends go above the scenario's descriptors at once, so the child's table is untouched.
    let child_raw = child_end.as_raw_fd();
    std::mem::forget(child_end);
    move_high(child_raw, SPARE_FD);
    let runner_raw = runner_end.as_raw_fd();
    std::mem::forget(runner_end);
    move_high(runner_raw, SPARE_FD + 1);
    // SAFETY: fork in a single-threaded process.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        set_nofile(2048);
        // SAFETY: plain descriptor calls in the new child.
        unsafe {
            libc::dup3(SPARE_FD, CONTROL_FD, libc::O_CLOEXEC);
            libc::close(SPARE_FD);
            libc::close(SPARE_FD + 1);
        }
        set_nofile(NOFILE);
        // SAFETY: getpid cannot fail.
        let me = unsafe { libc::getpid() };
        if send_reply(CONTROL_FD, &Reply::Ready { pid: me }, None).is_err() {
            unsafe { libc::_exit(105) }
        }
        serve(context);
    }
    let reply = if pid < 0 { Reply::Errno(errno()) } else { Reply::Fork { child: pid, channel: None } };
    let pass = if pid > 0 { Some(SPARE_FD + 1) } else { None };
    let sent = send_reply(CONTROL_FD, &reply, pass);
    // SAFETY: closing our copies of the child's socket.
    unsafe {
        libc::close(SPARE_FD);
        libc::close(SPARE_FD + 1);
    }
    if sent.is_err() {
        unsafe { libc::_exit(106) }
    }
}

/// Default dispositions and an empty mask: the runner's own handlers must not leak into the scenario.
fn reset_signals() {
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

/// Starts a top-level scenario process (a child of the runner) in process group `group`. Returns the
/// runner's end of its control socket.
pub fn spawn_top_level(context: &Context, group: i32) -> Result<(i32, OwnedFd), String> {
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
    let (runner_end, child_end) = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)
        .map_err(|error| format!("socketpair: {error}"))?;
    // SAFETY: fork in a single-threaded process; the child only makes system calls and then serves.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        // SAFETY: set-up system calls in the new child, before any scenario call.
        unsafe {
            libc::setpgid(0, group);
            // Room above the scenario's limit for the control sockets, while we may still raise it.
            let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
            if limit.rlim_max < 2048 {
                limit.rlim_max = 2048;
                limit.rlim_cur = limit.rlim_cur.min(2048);
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            }
            if let Some(uid) = context.drop_to_uid {
                libc::setgroups(0, std::ptr::null());
                libc::setgid(uid);
                libc::setuid(uid);
            }
            // After the uid change, which would clear these.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            if libc::getppid() != context.runner_pid {
                libc::_exit(107);
            }
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
            let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            reset_signals();
            set_nofile(2048);
            libc::dup3(child_end.as_raw_fd(), CONTROL_FD, libc::O_CLOEXEC);
            libc::close_range(0, CONTROL_FD as u32 - 1, 0);
            libc::close_range(CONTROL_FD as u32 + 1, u32::MAX, 0);
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            if null != 0 {
                libc::_exit(108);
            }
            libc::dup2(0, 1);
            libc::dup2(0, 2);
            set_nofile(NOFILE);
            let me = libc::getpid();
            if send_reply(CONTROL_FD, &Reply::Ready { pid: me }, None).is_err() {
                libc::_exit(109);
            }
        }
        serve(context);
    }
    drop(child_end);
    // SAFETY: both sides set the group, so there is no race with the child's first call.
    unsafe {
        libc::setpgid(pid, group);
    }
    Ok((pid, runner_end))
}

/// Starts the spinner: the leader of the scenario's process group, busy on the scenario CPU at
/// `SPINNER_PRIORITY`. If the runner dies, the spinner's parent-death signal makes it kill the group.
pub fn spawn_spinner(runner_pid: i32) -> Result<i32, String> {
    extern "C" fn kill_group(_signal: libc::c_int) {
        // SAFETY: kill and _exit are async-signal-safe.
        unsafe {
            libc::kill(0, libc::SIGKILL);
            libc::_exit(0);
        }
    }
    // SAFETY: fork in a single-threaded process; the child only spins.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        // SAFETY: set-up system calls in the new child.
        unsafe {
            libc::setpgid(0, 0);
            reset_signals();
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = kill_group as *const () as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut());
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0);
            if libc::getppid() != runner_pid {
                libc::_exit(0);
            }
            libc::close_range(0, u32::MAX, 0);
        }
        loop {
            std::hint::spin_loop();
        }
    }
    // SAFETY: both sides set the group.
    unsafe {
        libc::setpgid(pid, pid);
    }
    Ok(pid)
}

/// Takes ownership of a descriptor received over `SCM_RIGHTS`.
pub fn own(fd: i32) -> OwnedFd {
    // SAFETY: the descriptor was just received and nobody else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip() {
        for command in [Command::Call { op: 7, fd: 3, arg: -1 }, Command::Fork { op: 2 }, Command::Exit] {
            assert_eq!(decode_command(&encode_command(command)), Some(command));
        }
        assert_eq!(decode_command(&[9u8; 17]), None);
    }

    #[test]
    fn control_descriptors_are_guarded() {
        assert_eq!(guard(3), 3);
        assert_eq!(guard(CONTROL_FD as i64), -1);
        assert_eq!(guard(5000), 5000);
    }
}
