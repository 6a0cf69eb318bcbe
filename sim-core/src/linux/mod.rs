//! Linux names and numbers the simulator speaks, one file per header as Linux and `nix` arrange them:
//! [`errno`], [`signal`], [`fcntl`] (with the pipe sizes), [`wait`], [`ioctl`], [`ipc`] (what System V
//! objects share), [`msg`], [`sem`] (System V semaphores, and the limit of POSIX named ones) and
//! [`mqueue`]. Each constant says which Linux value it mirrors (x86-64; the model follows Linux 6.18,
//! see ARCHITECTURE.md).
//!
//! [`CONSTANTS`] gathers the names a scenario may write in an expression (`O_NONBLOCK`, `EAGAIN`,
//! `SIGTERM`, `WNOHANG`, ...), each with its value and the families it belongs to; the parser resolves
//! names through it and the trace prints values back through it.

pub mod epoll;
pub mod errno;
pub mod fcntl;
pub mod ioctl;
pub mod ipc;
pub mod mman;
pub mod mqueue;
pub mod msg;
pub mod poll;
pub mod resource;
pub mod sem;
pub mod shm;
pub mod signal;
pub mod socket;
pub mod wait;

pub use errno::{Errno, ERRNOS};
pub use signal::{DefaultAction, Signal, SIGNALS};
pub use wait::ChildStatus;

/// `RLIMIT_NOFILE` soft limit on a default Linux login: the lowest descriptor number that is too high.
pub const RLIMIT_NOFILE: u32 = 1024;

/// A group of constants that one kind of operand takes (a bit in [`Constant::families`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Family {
    Errno,
    Signal,
    /// `open` flags: an access mode and status flags.
    OpenFlag,
    /// `pipe2` flags.
    PipeFlag,
    /// `fcntl` commands.
    FcntlCommand,
    /// `FD_CLOEXEC`.
    FdFlag,
    /// `waitpid` options.
    WaitOption,
    /// `waitid` options.
    WaitidOption,
    /// `waitid` id types.
    IdType,
    /// `SIG_DFL`, `SIG_IGN`.
    Disposition,
    /// ioctl requests.
    IoctlRequest,
    /// `lseek` origins.
    Whence,
    /// `stdin`, `stdout`, `stderr`.
    StandardFd,
    /// `IPC_PRIVATE`, or any number: a System V key.
    IpcKey,
    /// `msgget`/`semget` flags: `IPC_CREAT`, `IPC_EXCL` and the permission bits (`0600`).
    IpcGetFlag,
    /// `msgsnd` flags.
    MsgsndFlag,
    /// `msgrcv` flags.
    MsgrcvFlag,
    /// `msgctl` commands.
    MsgctlCommand,
    /// The fields of `struct msqid_ds` that `msgctl` reads or sets.
    MsqField,
    /// `sem_flg` of a `semop` operation.
    SemopFlag,
    /// `semctl` commands.
    SemctlCommand,
    /// The fields of `struct semid_ds` that `semctl` reads or sets.
    SemField,
    /// `mq_open` flags: an access mode, `O_CREAT`, `O_EXCL`, `O_NONBLOCK`.
    MqOpenFlag,
    /// The fields of `struct mq_attr`.
    MqAttrField,
    /// `mq_flags` of `mq_setattr`: `O_NONBLOCK` or 0.
    MqFlag,
    /// `sem_open` flags: `O_CREAT`, `O_EXCL`.
    SemOpenFlag,
    /// Permission bits, written in octal as C writes them (`0600`).
    Mode,
    /// `sigprocmask`'s `SIG_BLOCK`, `SIG_UNBLOCK`, `SIG_SETMASK`.
    MaskHow,
    /// `sigaction`'s `SA_*` flags.
    SigactionFlag,
    /// A resource of `setrlimit`/`getrlimit`: `RLIMIT_CORE`.
    Resource,
    /// A resource limit: a number of bytes, or `RLIM_INFINITY`.
    Limit,
    /// `shmat` flags: `SHM_RDONLY`.
    ShmatFlag,
    /// `shmctl` commands.
    ShmctlCommand,
    /// The fields of `struct shmid_ds` that `shmctl` reads.
    ShmField,
    /// Memory protections: `PROT_READ`, `PROT_WRITE`, joined by `|`, or `PROT_NONE`.
    Prot,
    /// `mmap` flags: `MAP_SHARED` or `MAP_PRIVATE`, with `MAP_ANONYMOUS`.
    MapFlag,
    /// A socket type: `SOCK_STREAM`, `SOCK_DGRAM`, `SOCK_SEQPACKET`, with `SOCK_NONBLOCK` and
    /// `SOCK_CLOEXEC` or-ed in.
    SockType,
    /// `send` flags: `MSG_DONTWAIT`, `MSG_NOSIGNAL`.
    SendFlag,
    /// `recv` flags: `MSG_PEEK`, `MSG_TRUNC`, `MSG_DONTWAIT`.
    RecvFlag,
    /// `shutdown` directions: `SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`.
    ShutdownHow,
    /// `getsockopt`/`setsockopt` levels: `SOL_SOCKET`.
    SockLevel,
    /// Socket options of `SOL_SOCKET`: `SO_TYPE`, `SO_ERROR`, `SO_SNDBUF`, `SO_RCVBUF`, `SO_PEERCRED`, `SO_PASSCRED`,
    /// `SO_SNDLOWAT`, `SO_ACCEPTCONN`, `SO_PROTOCOL`, `SO_DOMAIN`.
    SockOption,
    /// Address families of `socket`: `AF_UNIX`, `AF_INET`.
    SockDomain,
    /// `futex` operations: `FUTEX_WAIT`, `FUTEX_WAKE`, and their `_PRIVATE` forms.
    FutexOp,
    /// `shm_open` flags: `O_RDONLY` or `O_RDWR`, with `O_CREAT`, `O_EXCL`, `O_TRUNC`.
    ShmOpenFlag,
    /// `struct pollfd` events: `POLLIN`, `POLLOUT`, ... joined by `|`.
    PollEvent,
    /// `epoll_create1` flags: `EPOLL_CLOEXEC`.
    EpollFlag,
    /// `epoll_ctl` operations: `EPOLL_CTL_ADD`, `EPOLL_CTL_MOD`, `EPOLL_CTL_DEL`.
    EpollOp,
    /// `struct epoll_event` events: `EPOLLIN`, `EPOLLOUT`, ..., `EPOLLET`, `EPOLLONESHOT`, joined by `|`.
    EpollEvent,
}

impl Family {
    pub const fn bit(self) -> u64 {
        1 << self as u8
    }

    /// The family in words, for messages ("`O_NONBLOCK` is not a waitpid option").
    pub fn noun(self) -> &'static str {
        match self {
            Family::Errno => "an errno",
            Family::Signal => "a signal",
            Family::OpenFlag => "an open flag",
            Family::PipeFlag => "a pipe2 flag",
            Family::FcntlCommand => "an fcntl command",
            Family::FdFlag => "a descriptor flag",
            Family::WaitOption => "a waitpid option",
            Family::WaitidOption => "a waitid option",
            Family::IdType => "a waitid id type",
            Family::Disposition => "a signal disposition",
            Family::IoctlRequest => "an ioctl request",
            Family::Whence => "a seek origin",
            Family::StandardFd => "a standard descriptor",
            Family::IpcKey => "a System V key",
            Family::IpcGetFlag => "an IPC get flag",
            Family::MsgsndFlag => "a msgsnd flag",
            Family::MsgrcvFlag => "a msgrcv flag",
            Family::MsgctlCommand => "a msgctl command",
            Family::MsqField => "a field of struct msqid_ds",
            Family::SemopFlag => "a semop flag",
            Family::SemctlCommand => "a semctl command",
            Family::SemField => "a field of struct semid_ds",
            Family::MqOpenFlag => "an mq_open flag",
            Family::MqAttrField => "a field of struct mq_attr",
            Family::MqFlag => "an mq_flags value",
            Family::SemOpenFlag => "a sem_open flag",
            Family::Mode => "a permission mode",
            Family::MaskHow => "a sigprocmask operation",
            Family::SigactionFlag => "a sigaction flag",
            Family::Resource => "a resource",
            Family::Limit => "a resource limit",
            Family::ShmatFlag => "a shmat flag",
            Family::ShmctlCommand => "a shmctl command",
            Family::ShmField => "a field of struct shmid_ds",
            Family::Prot => "a memory protection",
            Family::MapFlag => "an mmap flag",
            Family::SockType => "a socket type",
            Family::SendFlag => "a send flag",
            Family::RecvFlag => "a recv flag",
            Family::ShutdownHow => "a shutdown direction",
            Family::SockLevel => "a socket option level",
            Family::SockOption => "a socket option",
            Family::SockDomain => "an address family",
            Family::FutexOp => "a futex operation",
            Family::ShmOpenFlag => "a shm_open flag",
            Family::PollEvent => "a poll event",
            Family::EpollFlag => "an epoll_create1 flag",
            Family::EpollOp => "an epoll_ctl operation",
            Family::EpollEvent => "an epoll event",
        }
    }
}

/// A name a scenario can write in an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Constant {
    pub name: &'static str,
    pub value: i64,
    /// [`Family::bit`]s of the families it belongs to.
    pub families: u64,
}

impl Constant {
    pub fn is_in(&self, family: Family) -> bool {
        self.families & family.bit() != 0
    }
}

const fn constant(name: &'static str, value: i64, families: u64) -> Constant {
    Constant { name, value, families }
}

const OPEN: u64 = Family::OpenFlag.bit();
const MQ_OPEN: u64 = Family::MqOpenFlag.bit();
const SEM_OPEN: u64 = Family::SemOpenFlag.bit();
const SHM_OPEN: u64 = Family::ShmOpenFlag.bit();
const MSGCTL: u64 = Family::MsgctlCommand.bit();
const SEMCTL: u64 = Family::SemctlCommand.bit();
const NOWAIT: u64 = Family::MsgsndFlag.bit() | Family::MsgrcvFlag.bit() | Family::SemopFlag.bit();
const PIPE2: u64 = Family::PipeFlag.bit();
const WAITPID: u64 = Family::WaitOption.bit();
const WAITID: u64 = Family::WaitidOption.bit();
const SHMCTL: u64 = Family::ShmctlCommand.bit();

/// Every named constant besides errnos and signals (which come from their tables), in the order the
/// trace prints flags.
pub const CONSTANTS: &[Constant] = &[
    constant("O_RDONLY", fcntl::O_RDONLY, OPEN | MQ_OPEN | SHM_OPEN),
    constant("O_WRONLY", fcntl::O_WRONLY, OPEN | MQ_OPEN),
    constant("O_RDWR", fcntl::O_RDWR, OPEN | MQ_OPEN | SHM_OPEN),
    constant("O_CREAT", fcntl::O_CREAT, MQ_OPEN | SEM_OPEN | SHM_OPEN),
    constant("O_EXCL", fcntl::O_EXCL, MQ_OPEN | SEM_OPEN | SHM_OPEN),
    constant("O_TRUNC", fcntl::O_TRUNC, SHM_OPEN),
    constant("O_NONBLOCK", fcntl::O_NONBLOCK, OPEN | PIPE2 | MQ_OPEN | Family::MqFlag.bit()),
    constant("O_CLOEXEC", fcntl::O_CLOEXEC, OPEN | PIPE2),
    constant("O_DIRECT", fcntl::O_DIRECT, PIPE2),
    constant("F_DUPFD", fcntl::F_DUPFD, Family::FcntlCommand.bit()),
    constant("F_GETFD", fcntl::F_GETFD, Family::FcntlCommand.bit()),
    constant("F_SETFD", fcntl::F_SETFD, Family::FcntlCommand.bit()),
    constant("F_GETFL", fcntl::F_GETFL, Family::FcntlCommand.bit()),
    constant("F_SETFL", fcntl::F_SETFL, Family::FcntlCommand.bit()),
    constant("F_DUPFD_CLOEXEC", fcntl::F_DUPFD_CLOEXEC, Family::FcntlCommand.bit()),
    constant("F_SETPIPE_SZ", fcntl::F_SETPIPE_SZ, Family::FcntlCommand.bit()),
    constant("F_GETPIPE_SZ", fcntl::F_GETPIPE_SZ, Family::FcntlCommand.bit()),
    constant("FD_CLOEXEC", fcntl::FD_CLOEXEC, Family::FdFlag.bit()),
    constant("WNOHANG", wait::WNOHANG, WAITPID | WAITID),
    constant("WUNTRACED", wait::WUNTRACED, WAITPID),
    constant("WSTOPPED", wait::WUNTRACED, WAITID),
    constant("WEXITED", wait::WEXITED, WAITID),
    constant("WCONTINUED", wait::WCONTINUED, WAITPID | WAITID),
    constant("WNOWAIT", wait::WNOWAIT, WAITID),
    constant("P_ALL", wait::P_ALL, Family::IdType.bit()),
    constant("P_PID", wait::P_PID, Family::IdType.bit()),
    constant("P_PGID", wait::P_PGID, Family::IdType.bit()),
    constant("SIG_DFL", signal::SIG_DFL, Family::Disposition.bit()),
    constant("SIG_IGN", signal::SIG_IGN, Family::Disposition.bit()),
    constant("FIONREAD", ioctl::FIONREAD, Family::IoctlRequest.bit()),
    constant("RLIMIT_CORE", resource::RLIMIT_CORE, Family::Resource.bit()),
    constant("RLIM_INFINITY", resource::RLIM_INFINITY as i64, Family::Limit.bit()),
    constant("SEEK_SET", ioctl::SEEK_SET, Family::Whence.bit()),
    constant("SEEK_CUR", ioctl::SEEK_CUR, Family::Whence.bit()),
    constant("SEEK_END", ioctl::SEEK_END, Family::Whence.bit()),
    constant("IPC_PRIVATE", ipc::IPC_PRIVATE, Family::IpcKey.bit()),
    constant("IPC_CREAT", ipc::IPC_CREAT, Family::IpcGetFlag.bit()),
    constant("IPC_EXCL", ipc::IPC_EXCL, Family::IpcGetFlag.bit()),
    constant("IPC_NOWAIT", ipc::IPC_NOWAIT, NOWAIT),
    constant("MSG_NOERROR", msg::MSG_NOERROR, Family::MsgrcvFlag.bit()),
    constant("MSG_EXCEPT", msg::MSG_EXCEPT, Family::MsgrcvFlag.bit()),
    constant("MSG_COPY", msg::MSG_COPY, Family::MsgrcvFlag.bit()),
    constant("SEM_UNDO", sem::SEM_UNDO, Family::SemopFlag.bit()),
    constant("IPC_RMID", ipc::IPC_RMID, MSGCTL | SEMCTL | SHMCTL),
    constant("IPC_SET", ipc::IPC_SET, MSGCTL | SEMCTL),
    constant("IPC_STAT", ipc::IPC_STAT, MSGCTL | SEMCTL | SHMCTL),
    constant("IPC_INFO", ipc::IPC_INFO, MSGCTL | SEMCTL),
    constant("MSG_STAT", msg::MSG_STAT, MSGCTL),
    constant("MSG_INFO", msg::MSG_INFO, MSGCTL),
    constant("MSG_STAT_ANY", msg::MSG_STAT_ANY, MSGCTL),
    constant("GETPID", sem::GETPID, SEMCTL),
    constant("GETVAL", sem::GETVAL, SEMCTL),
    constant("GETALL", sem::GETALL, SEMCTL),
    constant("GETNCNT", sem::GETNCNT, SEMCTL),
    constant("GETZCNT", sem::GETZCNT, SEMCTL),
    constant("SETVAL", sem::SETVAL, SEMCTL),
    constant("SETALL", sem::SETALL, SEMCTL),
    constant("SEM_STAT", sem::SEM_STAT, SEMCTL),
    constant("SEM_INFO", sem::SEM_INFO, SEMCTL),
    constant("SEM_STAT_ANY", sem::SEM_STAT_ANY, SEMCTL),
    // Fields of the structures the control calls fill in: a scenario names the one it reads or sets.
    constant("msg_qnum", field::MSG_QNUM, Family::MsqField.bit()),
    constant("msg_cbytes", field::MSG_CBYTES, Family::MsqField.bit()),
    constant("msg_qbytes", field::MSG_QBYTES, Family::MsqField.bit()),
    constant("msg_lspid", field::MSG_LSPID, Family::MsqField.bit()),
    constant("msg_lrpid", field::MSG_LRPID, Family::MsqField.bit()),
    constant("msg_perm.mode", field::PERM_MODE, Family::MsqField.bit()),
    constant("sem_nsems", field::SEM_NSEMS, Family::SemField.bit()),
    constant("shm_segsz", field::SHM_SEGSZ, Family::ShmField.bit()),
    constant("shm_nattch", field::SHM_NATTCH, Family::ShmField.bit()),
    constant("shm_cpid", field::SHM_CPID, Family::ShmField.bit()),
    constant("shm_lpid", field::SHM_LPID, Family::ShmField.bit()),
    constant("shm_perm.mode", field::PERM_MODE, Family::ShmField.bit()),
    constant("SHM_RDONLY", shm::SHM_RDONLY, Family::ShmatFlag.bit()),
    constant("PROT_NONE", mman::PROT_NONE, Family::Prot.bit()),
    constant("PROT_READ", mman::PROT_READ, Family::Prot.bit()),
    constant("PROT_WRITE", mman::PROT_WRITE, Family::Prot.bit()),
    constant("PROT_SEM", mman::PROT_SEM, Family::Prot.bit()),
    constant("PROT_GROWSDOWN", mman::PROT_GROWSDOWN, Family::Prot.bit()),
    constant("PROT_GROWSUP", mman::PROT_GROWSUP, Family::Prot.bit()),
    constant("MAP_SHARED", mman::MAP_SHARED, Family::MapFlag.bit()),
    constant("MAP_PRIVATE", mman::MAP_PRIVATE, Family::MapFlag.bit()),
    constant("MAP_ANONYMOUS", mman::MAP_ANONYMOUS, Family::MapFlag.bit()),
    constant("sem_perm.mode", field::PERM_MODE, Family::SemField.bit()),
    constant("SOCK_STREAM", socket::SOCK_STREAM, Family::SockType.bit()),
    constant("SOCK_DGRAM", socket::SOCK_DGRAM, Family::SockType.bit()),
    constant("SOCK_SEQPACKET", socket::SOCK_SEQPACKET, Family::SockType.bit()),
    constant("SOCK_NONBLOCK", socket::SOCK_NONBLOCK, Family::SockType.bit()),
    constant("SOCK_CLOEXEC", socket::SOCK_CLOEXEC, Family::SockType.bit()),
    constant("MSG_PEEK", socket::MSG_PEEK, Family::RecvFlag.bit()),
    constant("MSG_TRUNC", socket::MSG_TRUNC, Family::RecvFlag.bit()),
    constant("MSG_DONTWAIT", socket::MSG_DONTWAIT, Family::SendFlag.bit() | Family::RecvFlag.bit()),
    constant("MSG_NOSIGNAL", socket::MSG_NOSIGNAL, Family::SendFlag.bit()),
    constant("MSG_CTRUNC", socket::MSG_CTRUNC, Family::RecvFlag.bit()),
    constant("MSG_CMSG_CLOEXEC", socket::MSG_CMSG_CLOEXEC, Family::RecvFlag.bit()),
    constant("SHUT_RD", socket::SHUT_RD, Family::ShutdownHow.bit()),
    constant("SHUT_WR", socket::SHUT_WR, Family::ShutdownHow.bit()),
    constant("SHUT_RDWR", socket::SHUT_RDWR, Family::ShutdownHow.bit()),
    constant("SOL_SOCKET", socket::SOL_SOCKET, Family::SockLevel.bit()),
    constant("SO_TYPE", socket::SO_TYPE, Family::SockOption.bit()),
    constant("SO_SNDBUF", socket::SO_SNDBUF, Family::SockOption.bit()),
    constant("SO_RCVBUF", socket::SO_RCVBUF, Family::SockOption.bit()),
    constant("SO_PEERCRED", socket::SO_PEERCRED, Family::SockOption.bit()),
    constant("SO_PASSCRED", socket::SO_PASSCRED, Family::SockOption.bit()),
    constant("SO_ERROR", socket::SO_ERROR, Family::SockOption.bit()),
    constant("SO_SNDLOWAT", socket::SO_SNDLOWAT, Family::SockOption.bit()),
    constant("SO_ACCEPTCONN", socket::SO_ACCEPTCONN, Family::SockOption.bit()),
    constant("SO_PROTOCOL", socket::SO_PROTOCOL, Family::SockOption.bit()),
    constant("SO_DOMAIN", socket::SO_DOMAIN, Family::SockOption.bit()),
    constant("SO_REUSEADDR", socket::SO_REUSEADDR, Family::SockOption.bit()),
    constant("AF_UNIX", socket::AF_UNIX, Family::SockDomain.bit()),
    constant("AF_INET", socket::AF_INET, Family::SockDomain.bit()),
    constant("POLLIN", poll::POLLIN, Family::PollEvent.bit()),
    constant("POLLPRI", poll::POLLPRI, Family::PollEvent.bit()),
    constant("POLLOUT", poll::POLLOUT, Family::PollEvent.bit()),
    constant("POLLERR", poll::POLLERR, Family::PollEvent.bit()),
    constant("POLLHUP", poll::POLLHUP, Family::PollEvent.bit()),
    constant("POLLNVAL", poll::POLLNVAL, Family::PollEvent.bit()),
    constant("POLLRDNORM", poll::POLLRDNORM, Family::PollEvent.bit()),
    constant("POLLRDBAND", poll::POLLRDBAND, Family::PollEvent.bit()),
    constant("POLLWRNORM", poll::POLLWRNORM, Family::PollEvent.bit()),
    constant("POLLWRBAND", poll::POLLWRBAND, Family::PollEvent.bit()),
    constant("POLLRDHUP", poll::POLLRDHUP, Family::PollEvent.bit()),
    constant("EPOLL_CLOEXEC", epoll::EPOLL_CLOEXEC, Family::EpollFlag.bit()),
    constant("EPOLL_CTL_ADD", epoll::EPOLL_CTL_ADD, Family::EpollOp.bit()),
    constant("EPOLL_CTL_DEL", epoll::EPOLL_CTL_DEL, Family::EpollOp.bit()),
    constant("EPOLL_CTL_MOD", epoll::EPOLL_CTL_MOD, Family::EpollOp.bit()),
    constant("EPOLLIN", epoll::EPOLLIN, Family::EpollEvent.bit()),
    constant("EPOLLPRI", epoll::EPOLLPRI, Family::EpollEvent.bit()),
    constant("EPOLLOUT", epoll::EPOLLOUT, Family::EpollEvent.bit()),
    constant("EPOLLERR", epoll::EPOLLERR, Family::EpollEvent.bit()),
    constant("EPOLLHUP", epoll::EPOLLHUP, Family::EpollEvent.bit()),
    constant("EPOLLRDNORM", epoll::EPOLLRDNORM, Family::EpollEvent.bit()),
    constant("EPOLLRDBAND", epoll::EPOLLRDBAND, Family::EpollEvent.bit()),
    constant("EPOLLWRNORM", epoll::EPOLLWRNORM, Family::EpollEvent.bit()),
    constant("EPOLLWRBAND", epoll::EPOLLWRBAND, Family::EpollEvent.bit()),
    constant("EPOLLRDHUP", epoll::EPOLLRDHUP, Family::EpollEvent.bit()),
    constant("EPOLLONESHOT", epoll::EPOLLONESHOT, Family::EpollEvent.bit()),
    constant("EPOLLET", epoll::EPOLLET, Family::EpollEvent.bit()),
    constant("FUTEX_WAIT", mman::FUTEX_WAIT, Family::FutexOp.bit()),
    constant("FUTEX_WAKE", mman::FUTEX_WAKE, Family::FutexOp.bit()),
    constant("FUTEX_WAIT_PRIVATE", mman::FUTEX_WAIT_PRIVATE, Family::FutexOp.bit()),
    constant("FUTEX_WAKE_PRIVATE", mman::FUTEX_WAKE_PRIVATE, Family::FutexOp.bit()),
    constant("mq_flags", field::MQ_FLAGS, Family::MqAttrField.bit()),
    constant("mq_maxmsg", field::MQ_MAXMSG, Family::MqAttrField.bit()),
    constant("mq_msgsize", field::MQ_MSGSIZE, Family::MqAttrField.bit()),
    constant("mq_curmsgs", field::MQ_CURMSGS, Family::MqAttrField.bit()),
    constant("stdin", 0, Family::StandardFd.bit()),
    constant("SIG_BLOCK", signal::SIG_BLOCK, Family::MaskHow.bit()),
    constant("SIG_UNBLOCK", signal::SIG_UNBLOCK, Family::MaskHow.bit()),
    constant("SIG_SETMASK", signal::SIG_SETMASK, Family::MaskHow.bit()),
    constant("SA_NOCLDSTOP", signal::SA_NOCLDSTOP, Family::SigactionFlag.bit()),
    constant("SA_SIGINFO", signal::SA_SIGINFO, Family::SigactionFlag.bit()),
    constant("SA_RESTART", signal::SA_RESTART, Family::SigactionFlag.bit()),
    constant("SA_NODEFER", signal::SA_NODEFER, Family::SigactionFlag.bit()),
    constant("SA_RESETHAND", signal::SA_RESETHAND, Family::SigactionFlag.bit()),
    constant("SI_USER", signal::SI_USER, 0),
    constant("SI_QUEUE", signal::SI_QUEUE, 0),
    constant("SI_TKILL", signal::SI_TKILL, 0),
    constant("SI_MESGQ", signal::SI_MESGQ, 0),
    constant("CLD_EXITED", signal::CLD_EXITED, 0),
    constant("CLD_KILLED", signal::CLD_KILLED, 0),
    constant("CLD_DUMPED", signal::CLD_DUMPED, 0),
    constant("CLD_STOPPED", signal::CLD_STOPPED, 0),
    constant("CLD_CONTINUED", signal::CLD_CONTINUED, 0),
    constant("SI_KERNEL", signal::SI_KERNEL, 0),
    constant("stdout", 1, Family::StandardFd.bit()),
    constant("stderr", 2, Family::StandardFd.bit()),
];

/// Numbers standing for the fields of the structures `msgctl`, `semctl` and `mq_getattr` fill in. C has
/// no such numbers: a field is an offset into a structure. A scenario names the field it wants, and
/// these numbers only tell the fields apart.
pub mod field {
    pub const MSG_QNUM: i64 = 1;
    pub const MSG_CBYTES: i64 = 2;
    pub const MSG_QBYTES: i64 = 3;
    pub const MSG_LSPID: i64 = 4;
    pub const MSG_LRPID: i64 = 5;
    pub const PERM_MODE: i64 = 6;
    pub const SEM_NSEMS: i64 = 7;
    pub const MQ_FLAGS: i64 = 8;
    pub const MQ_MAXMSG: i64 = 9;
    pub const MQ_MSGSIZE: i64 = 10;
    pub const MQ_CURMSGS: i64 = 11;
    pub const SHM_SEGSZ: i64 = 12;
    pub const SHM_NATTCH: i64 = 13;
    pub const SHM_CPID: i64 = 14;
    pub const SHM_LPID: i64 = 15;
}

/// Looks up a name a scenario wrote: a constant of [`CONSTANTS`], an errno or a signal.
pub fn lookup(name: &str) -> Option<Constant> {
    if let Some(found) = CONSTANTS.iter().find(|constant| constant.name == name) {
        return Some(*found);
    }
    if let Some(errno) = Errno::from_name(name).filter(|_| name.starts_with('E')) {
        return Some(Constant { name: errno.name(), value: errno.0 as i64, families: Family::Errno.bit() });
    }
    if name.starts_with("SIG") {
        if let Some(signal) = Signal::from_name(name) {
            return Some(Constant { name: signal.name(), value: signal.0 as i64, families: Family::Signal.bit() });
        }
    }
    None
}

/// Every constant name of a family (for "did you mean" hints and the language reference).
pub fn names_of(family: Family) -> Vec<&'static str> {
    match family {
        Family::Errno => ERRNOS.iter().map(|(_, name, _)| *name).collect(),
        Family::Signal => (1..=signal::MAX_SIGNAL).map(|number| Signal(number).name()).collect(),
        _ => CONSTANTS.iter().filter(|constant| constant.is_in(family)).map(|constant| constant.name).collect(),
    }
}

/// Whether `word` looks like a Linux constant (upper-case letters, digits and `_`, starting with a letter),
/// so that an unknown one is reported as an unknown constant rather than an unknown variable.
pub fn looks_like_constant(word: &str) -> bool {
    word.len() > 1
        && word.starts_with(|c: char| c.is_ascii_uppercase())
        && word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A value of a family in the words C uses: `O_WRONLY|O_NONBLOCK`, `WNOHANG`, `SIGTERM`, `F_GETFL`.
/// Bits no name covers are printed as a number; a value of a one-of family that has no name is the number.
pub fn value_text(family: Family, value: i64) -> String {
    match family {
        Family::Errno => match u16::try_from(value).ok().map(Errno).filter(|errno| errno.name() != "E?") {
            Some(errno) => errno.name().to_string(),
            None => value.to_string(),
        },
        Family::Signal => match Signal::from_number(value) {
            Some(signal) => signal.name().to_string(),
            None => value.to_string(),
        },
        Family::OpenFlag | Family::MqOpenFlag | Family::ShmOpenFlag => {
            let access = match value & fcntl::O_ACCMODE {
                fcntl::O_RDONLY => "O_RDONLY".to_string(),
                fcntl::O_WRONLY => "O_WRONLY".to_string(),
                fcntl::O_RDWR => "O_RDWR".to_string(),
                other => other.to_string(),
            };
            let mut parts = vec![access];
            parts.extend(bit_names(family, value & !fcntl::O_ACCMODE));
            parts.join("|")
        }
        Family::PipeFlag
        | Family::WaitOption
        | Family::WaitidOption
        | Family::FdFlag
        | Family::MsgsndFlag
        | Family::MsgrcvFlag
        | Family::SemopFlag
        | Family::MqFlag
        | Family::SemOpenFlag
        | Family::SigactionFlag
        | Family::ShmatFlag
        | Family::MapFlag
        | Family::SendFlag
        | Family::RecvFlag
        | Family::PollEvent
        | Family::EpollFlag
        | Family::EpollEvent => {
            let parts = bit_names(family, value);
            if parts.is_empty() {
                "0".to_string()
            } else {
                parts.join("|")
            }
        }
        Family::IpcGetFlag => {
            // The permission bits, in octal as C writes them, after the named flags.
            let mut parts = bit_names(family, value & !ipc::MODE_BITS);
            if value & ipc::MODE_BITS != 0 || parts.is_empty() {
                parts.push(mode_text(value & ipc::MODE_BITS));
            }
            parts.join("|")
        }
        Family::Mode => mode_text(value),
        Family::Prot => {
            let parts = bit_names(family, value);
            if parts.is_empty() {
                "PROT_NONE".to_string()
            } else {
                parts.join("|")
            }
        }
        Family::StandardFd => value.to_string(),
        Family::SockType if value >= 0 => {
            // The type by name (or number), then the flags or-ed into it.
            let kind = value & socket::SOCK_TYPE_MASK;
            let mut parts =
                vec![match CONSTANTS.iter().find(|constant| constant.is_in(family) && constant.value == kind) {
                    Some(constant) => constant.name.to_string(),
                    None => kind.to_string(),
                }];
            parts.extend(bit_names(family, value & !socket::SOCK_TYPE_MASK));
            parts.join("|")
        }
        Family::FcntlCommand
        | Family::IdType
        | Family::Disposition
        | Family::IoctlRequest
        | Family::Whence
        | Family::IpcKey
        | Family::MsgctlCommand
        | Family::MsqField
        | Family::SemctlCommand
        | Family::SemField
        | Family::MqAttrField
        | Family::MaskHow
        | Family::Resource
        | Family::Limit
        | Family::ShmctlCommand
        | Family::ShmField
        | Family::SockType
        | Family::ShutdownHow
        | Family::SockLevel
        | Family::SockOption
        | Family::SockDomain
        | Family::FutexOp
        | Family::EpollOp => {
            match CONSTANTS.iter().find(|constant| constant.is_in(family) && constant.value == value) {
                Some(constant) => constant.name.to_string(),
                None => value.to_string(),
            }
        }
    }
}

/// Permission bits as C writes them: `0600` (a leading 0 makes a number octal); `0` alone, and a
/// negative number in decimal.
pub fn mode_text(value: i64) -> String {
    match value {
        0 => "0".to_string(),
        value if value < 0 => value.to_string(),
        value => format!("0{value:o}"),
    }
}

/// The names of the single-bit flags of `family` set in `value`, then any bits left over as a number.
fn bit_names(family: Family, value: i64) -> Vec<String> {
    let mut left = value;
    let mut parts = Vec::new();
    for constant in CONSTANTS.iter().filter(|constant| constant.is_in(family)) {
        if constant.value != 0 && constant.value & (constant.value - 1) == 0 && left & constant.value != 0 {
            parts.push(constant.name.to_string());
            left &= !constant.value;
        }
    }
    if left != 0 {
        // Flags that are a C `int` (all but `mq_flags` and `sa_flags`, which are longs) arrive as their 32
        // bits, signed: bit 31 shows as itself, not as a 64-bit negative number.
        let int = !matches!(family, Family::MqFlag | Family::SigactionFlag);
        let shown = if int && (i32::MIN as i64..0).contains(&left) { left as u32 as i64 } else { left };
        parts.push(format!("{shown:#x}"));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_to_linux_values() {
        assert_eq!(lookup("O_NONBLOCK").map(|c| c.value), Some(0o4000));
        assert_eq!(lookup("EAGAIN").map(|c| c.value), Some(11));
        assert_eq!(lookup("EWOULDBLOCK").map(|c| c.value), Some(11));
        assert_eq!(lookup("SIGTERM").map(|c| c.value), Some(15));
        assert_eq!(lookup("F_SETPIPE_SZ").map(|c| c.value), Some(1031));
        assert_eq!(lookup("TERM"), None, "signals are written with their prefix");
        assert_eq!(lookup("O_WRONGLY"), None);
    }

    #[test]
    fn values_print_as_c_writes_them() {
        assert_eq!(value_text(Family::OpenFlag, fcntl::O_WRONLY | fcntl::O_NONBLOCK), "O_WRONLY|O_NONBLOCK");
        assert_eq!(value_text(Family::OpenFlag, 0), "O_RDONLY");
        assert_eq!(value_text(Family::PipeFlag, 0), "0");
        assert_eq!(value_text(Family::PipeFlag, fcntl::O_NONBLOCK | fcntl::O_CLOEXEC), "O_NONBLOCK|O_CLOEXEC");
        assert_eq!(value_text(Family::WaitOption, 3), "WNOHANG|WUNTRACED");
        assert_eq!(value_text(Family::WaitOption, 0x40), "0x40");
        // `__WCLONE`, bit 31 of an int, as the operand's cut leaves it.
        assert_eq!(value_text(Family::WaitOption, i32::MIN as i64 | 1), "WNOHANG|0x80000000");
        assert_eq!(value_text(Family::FcntlCommand, 1032), "F_GETPIPE_SZ");
        assert_eq!(value_text(Family::Signal, 0), "0");
        assert_eq!(value_text(Family::Signal, 9), "SIGKILL");
        assert_eq!(value_text(Family::SockType, socket::SOCK_DGRAM), "SOCK_DGRAM");
        assert_eq!(
            value_text(Family::SockType, socket::SOCK_STREAM | socket::SOCK_NONBLOCK | socket::SOCK_CLOEXEC),
            "SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC"
        );
        assert_eq!(value_text(Family::SockType, socket::SOCK_SEQPACKET | 0x100), "SOCK_SEQPACKET|0x100");
        assert_eq!(value_text(Family::SockType, 12), "12");
        assert_eq!(value_text(Family::SockType, -1), "-1");
    }

    #[test]
    fn constant_names_are_unique() {
        let mut names: Vec<&str> = CONSTANTS.iter().map(|constant| constant.name).collect();
        names.extend(ERRNOS.iter().map(|(_, name, _)| *name));
        names.extend(SIGNALS.iter().map(|(_, name, _)| *name));
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}
