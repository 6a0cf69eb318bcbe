//! Linux names and numbers the simulator speaks: signals, errnos, flags, wait-status encoding and the
//! default values of the kernel parameters it models. Each constant says which Linux value it mirrors
//! (x86-64, kernel 6.x).

use crate::ast::{Errno, Signal};

/// `PAGE_SIZE` on x86-64: a pipe buffer is a ring of page-sized slots.
pub const PAGE_SIZE: u32 = 4096;
/// `PIPE_BUF`: writes of at most this many bytes are atomic (pipe(7)).
pub const PIPE_BUF: u32 = 4096;
/// `PIPE_DEF_BUFFERS` * `PAGE_SIZE`: a new pipe holds 65536 bytes.
pub const PIPE_DEFAULT_CAPACITY: u32 = 16 * PAGE_SIZE;
/// `/proc/sys/fs/pipe-max-size`: the largest `F_SETPIPE_SZ` an unprivileged process may ask for.
pub const PIPE_MAX_SIZE: u32 = 1_048_576;
/// `RLIMIT_NOFILE` soft limit on a default Linux login: the lowest descriptor number that is too high.
pub const RLIMIT_NOFILE: u32 = 1024;

/// `O_RDONLY`, `O_WRONLY`, `O_RDWR`, `O_NONBLOCK`, `O_CLOEXEC` as `fcntl(F_GETFL)` reports them.
pub const O_RDONLY: i64 = 0;
pub const O_WRONLY: i64 = 1;
pub const O_RDWR: i64 = 2;
pub const O_NONBLOCK: i64 = 0o4000;
pub const O_CLOEXEC: i64 = 0o2000000;

/// The signals of signal(7) on x86-64, with their default actions.
pub const SIGNALS: &[(u8, &str, DefaultAction)] = &[
    (1, "SIGHUP", DefaultAction::Terminate),
    (2, "SIGINT", DefaultAction::Terminate),
    (3, "SIGQUIT", DefaultAction::Core),
    (4, "SIGILL", DefaultAction::Core),
    (5, "SIGTRAP", DefaultAction::Core),
    (6, "SIGABRT", DefaultAction::Core),
    (7, "SIGBUS", DefaultAction::Core),
    (8, "SIGFPE", DefaultAction::Core),
    (9, "SIGKILL", DefaultAction::Terminate),
    (10, "SIGUSR1", DefaultAction::Terminate),
    (11, "SIGSEGV", DefaultAction::Core),
    (12, "SIGUSR2", DefaultAction::Terminate),
    (13, "SIGPIPE", DefaultAction::Terminate),
    (14, "SIGALRM", DefaultAction::Terminate),
    (15, "SIGTERM", DefaultAction::Terminate),
    (16, "SIGSTKFLT", DefaultAction::Terminate),
    (17, "SIGCHLD", DefaultAction::Ignore),
    (18, "SIGCONT", DefaultAction::Continue),
    (19, "SIGSTOP", DefaultAction::Stop),
    (20, "SIGTSTP", DefaultAction::Stop),
    (21, "SIGTTIN", DefaultAction::Stop),
    (22, "SIGTTOU", DefaultAction::Stop),
    (23, "SIGURG", DefaultAction::Ignore),
    (24, "SIGXCPU", DefaultAction::Core),
    (25, "SIGXFSZ", DefaultAction::Core),
    (26, "SIGVTALRM", DefaultAction::Terminate),
    (27, "SIGPROF", DefaultAction::Terminate),
    (28, "SIGWINCH", DefaultAction::Ignore),
    (29, "SIGIO", DefaultAction::Terminate),
    (30, "SIGPWR", DefaultAction::Terminate),
    (31, "SIGSYS", DefaultAction::Core),
];

/// What the kernel does with a signal whose disposition is `SIG_DFL` (signal(7), "Standard signals").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    Core,
    Ignore,
    Stop,
    Continue,
}

impl DefaultAction {
    pub fn name(self) -> &'static str {
        match self {
            DefaultAction::Terminate => "terminate",
            DefaultAction::Core => "terminate with core dump",
            DefaultAction::Ignore => "ignore",
            DefaultAction::Stop => "stop",
            DefaultAction::Continue => "continue",
        }
    }
}

pub const SIGKILL: Signal = Signal(9);
pub const SIGPIPE: Signal = Signal(13);
pub const SIGCHLD: Signal = Signal(17);
pub const SIGCONT: Signal = Signal(18);
pub const SIGSTOP: Signal = Signal(19);

impl Signal {
    /// Looks a signal up by its name (`SIGTERM`) or its name without the prefix (`TERM`).
    pub fn from_name(name: &str) -> Option<Signal> {
        let bare = name.strip_prefix("SIG").unwrap_or(name);
        SIGNALS.iter().find(|(_, full, _)| &full[3..] == bare).map(|(number, _, _)| Signal(*number))
    }

    pub fn name(self) -> &'static str {
        SIGNALS.iter().find(|(number, _, _)| *number == self.0).map(|(_, name, _)| *name).unwrap_or("SIG?")
    }

    pub fn default_action(self) -> DefaultAction {
        SIGNALS
            .iter()
            .find(|(number, _, _)| *number == self.0)
            .map(|(_, _, action)| *action)
            .unwrap_or(DefaultAction::Terminate)
    }

    /// `SIGKILL` and `SIGSTOP` cannot be caught, blocked or ignored.
    pub fn is_unblockable(self) -> bool {
        self == SIGKILL || self == SIGSTOP
    }

    /// The bit of this signal in a 64-bit signal set (bit `n - 1` for signal `n`, as in `sigset_t`).
    pub fn mask_bit(self) -> u64 {
        1u64 << (self.0 - 1)
    }
}

/// The errnos the simulator can produce, with their x86-64 numbers and a short meaning.
pub const ERRNOS: &[(u16, &str, &str)] = &[
    (1, "EPERM", "operation not permitted"),
    (2, "ENOENT", "no such file or directory"),
    (3, "ESRCH", "no such process"),
    (4, "EINTR", "interrupted system call"),
    (6, "ENXIO", "no such device or address"),
    (9, "EBADF", "bad file descriptor"),
    (10, "ECHILD", "no child processes"),
    (11, "EAGAIN", "resource temporarily unavailable"),
    (12, "ENOMEM", "cannot allocate memory"),
    (13, "EACCES", "permission denied"),
    (16, "EBUSY", "device or resource busy"),
    (17, "EEXIST", "file exists"),
    (20, "ENOTDIR", "not a directory"),
    (21, "EISDIR", "is a directory"),
    (22, "EINVAL", "invalid argument"),
    (24, "EMFILE", "too many open files"),
    (29, "ESPIPE", "illegal seek"),
    (32, "EPIPE", "broken pipe"),
    (36, "ENAMETOOLONG", "file name too long"),
];

pub const EPERM: Errno = Errno(1);
pub const ENOENT: Errno = Errno(2);
pub const ESRCH: Errno = Errno(3);
pub const ENXIO: Errno = Errno(6);
pub const EBADF: Errno = Errno(9);
pub const ECHILD: Errno = Errno(10);
pub const EAGAIN: Errno = Errno(11);
pub const EBUSY: Errno = Errno(16);
pub const EEXIST: Errno = Errno(17);
pub const EINVAL: Errno = Errno(22);
pub const EMFILE: Errno = Errno(24);
pub const EPIPE: Errno = Errno(32);

impl Errno {
    pub fn from_name(name: &str) -> Option<Errno> {
        // EWOULDBLOCK is the same number as EAGAIN on Linux.
        let name = if name == "EWOULDBLOCK" { "EAGAIN" } else { name };
        ERRNOS.iter().find(|(_, full, _)| *full == name).map(|(number, _, _)| Errno(*number))
    }

    pub fn name(self) -> &'static str {
        ERRNOS.iter().find(|(number, _, _)| *number == self.0).map(|(_, name, _)| *name).unwrap_or("E?")
    }

    pub fn meaning(self) -> &'static str {
        ERRNOS
            .iter()
            .find(|(number, _, _)| *number == self.0)
            .map(|(_, _, meaning)| *meaning)
            .unwrap_or("unknown error")
    }
}

/// Wait-status encoding, as `<sys/wait.h>` decodes it (`WIFEXITED` and friends).
pub mod wait_status {
    use crate::ast::{ChildStatus, Signal};

    /// `WCOREFLAG`
    pub const CORE_FLAG: i32 = 0x80;

    pub fn encode(status: ChildStatus) -> i32 {
        match status {
            ChildStatus::Exited(code) => (code as i32) << 8,
            ChildStatus::Killed { signal, core } => signal.0 as i32 | if core { CORE_FLAG } else { 0 },
            ChildStatus::Stopped(signal) => ((signal.0 as i32) << 8) | 0x7f,
            ChildStatus::Continued => 0xffff,
        }
    }

    pub fn decode(raw: i32) -> ChildStatus {
        if raw == 0xffff {
            ChildStatus::Continued
        } else if raw & 0xff == 0x7f {
            ChildStatus::Stopped(Signal(((raw >> 8) & 0xff) as u8))
        } else if raw & 0x7f == 0 {
            ChildStatus::Exited(((raw >> 8) & 0xff) as u8)
        } else {
            ChildStatus::Killed { signal: Signal((raw & 0x7f) as u8), core: raw & CORE_FLAG != 0 }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::ChildStatus;

    #[test]
    fn signal_names_round_trip() {
        for (number, name, _) in SIGNALS {
            assert_eq!(Signal::from_name(name), Some(Signal(*number)));
            assert_eq!(Signal(*number).name(), *name);
        }
        assert_eq!(Signal::from_name("TERM"), Some(Signal(15)));
        assert_eq!(Signal::from_name("SIGNOPE"), None);
    }

    #[test]
    fn errno_names_round_trip() {
        for (number, name, _) in ERRNOS {
            assert_eq!(Errno::from_name(name), Some(Errno(*number)));
        }
        assert_eq!(Errno::from_name("EWOULDBLOCK"), Some(EAGAIN));
        assert_eq!(Errno::from_name("EFOO"), None);
    }

    #[test]
    fn wait_status_matches_linux_encoding() {
        // Values as glibc's macros see them: exit(3) is 0x300, SIGKILL is 9, stopped by SIGSTOP is 0x137f.
        assert_eq!(wait_status::encode(ChildStatus::Exited(3)), 0x300);
        assert_eq!(wait_status::encode(ChildStatus::Killed { signal: SIGKILL, core: false }), 9);
        assert_eq!(wait_status::encode(ChildStatus::Killed { signal: Signal(11), core: true }), 0x8b);
        assert_eq!(wait_status::encode(ChildStatus::Stopped(SIGSTOP)), 0x137f);
        assert_eq!(wait_status::encode(ChildStatus::Continued), 0xffff);
        for status in [
            ChildStatus::Exited(0),
            ChildStatus::Exited(255),
            ChildStatus::Killed { signal: Signal(15), core: false },
            ChildStatus::Killed { signal: Signal(6), core: true },
            ChildStatus::Stopped(Signal(20)),
            ChildStatus::Continued,
        ] {
            assert_eq!(wait_status::decode(wait_status::encode(status)), status);
        }
    }
}
