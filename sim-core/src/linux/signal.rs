//! `<signal.h>`: the signals of signal(7) on x86-64 (the 31 standard ones and the real-time ones), their
//! default actions, the dispositions and flags of `sigaction(2)`, and `sigprocmask(2)`'s operations.
//!
//! Real-time signals are numbered as glibc numbers them: the kernel's 32 and 33 are kept by the C
//! library for itself (`sigaction` refuses them with `EINVAL`, `kill` still sends them), so `SIGRTMIN`
//! is 34, written `SIGRTMIN+1` ... up to `SIGRTMAX`, 64.

use serde::{Deserialize, Serialize};

/// A Linux signal by number (x86-64 numbering): the standard signals are 1..=31, the real-time ones
/// 32..=64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Signal(pub u8);

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

/// The highest signal number (`_NSIG - 1`).
pub const MAX_SIGNAL: u8 = 64;
/// glibc's first real-time signal (the kernel's first, 32, and 33 are the C library's own).
pub const SIGRTMIN: u8 = 34;
pub const SIGRTMAX: u8 = 64;

pub const SIGHUP: Signal = Signal(1);
pub const SIGBUS: Signal = Signal(7);
pub const SIGFPE: Signal = Signal(8);
pub const SIGKILL: Signal = Signal(9);
pub const SIGSEGV: Signal = Signal(11);
pub const SIGPIPE: Signal = Signal(13);
pub const SIGALRM: Signal = Signal(14);
pub const SIGCHLD: Signal = Signal(17);
pub const SIGTSTP: Signal = Signal(20);
pub const SIGCONT: Signal = Signal(18);
pub const SIGSTOP: Signal = Signal(19);

/// `SIG_DFL` and `SIG_IGN`, the dispositions `signal(2)` takes besides a handler.
pub const SIG_DFL: i64 = 0;
pub const SIG_IGN: i64 = 1;
/// What `signal` returns on failure, which glibc's `signal` refuses as a new handler.
pub const SIG_ERR: i64 = -1;

/// The stop signals: `SIGCONT` discards any of them that is pending.
pub const STOP_SIGNALS: [u8; 4] = [19, 20, 21, 22];

/// `sigprocmask(how, ...)`.
pub const SIG_BLOCK: i64 = 0;
pub const SIG_UNBLOCK: i64 = 1;
pub const SIG_SETMASK: i64 = 2;

/// `sigaction` flags (`sa_flags`), the ones a scenario can set.
pub const SA_NOCLDSTOP: i64 = 1;
pub const SA_SIGINFO: i64 = 4;
pub const SA_RESTART: i64 = 0x1000_0000;
pub const SA_NODEFER: i64 = 0x4000_0000;
pub const SA_RESETHAND: i64 = 0x8000_0000;
pub const SA_FLAGS: i64 = SA_NOCLDSTOP | SA_SIGINFO | SA_RESTART | SA_NODEFER | SA_RESETHAND;

/// `si_code` of a signal sent by `kill`/`killpg`, by `sigqueue`, by `raise` (glibc's `raise` is
/// `tgkill`, which `do_tkill` and `prepare_kill_siginfo` in `kernel/signal.c` mark `SI_TKILL`), and by
/// the kernel itself.
pub const SI_USER: i64 = 0;
pub const SI_QUEUE: i64 = -1;
pub const SI_TKILL: i64 = -6;
/// `si_code` of the signal a POSIX message queue sends its `mq_notify` registrant (`__do_notify`).
pub const SI_MESGQ: i64 = -3;

/// `si_code` of a `SIGCHLD` (`do_notify_parent`, `do_notify_parent_cldstop` in `kernel/signal.c`): how
/// the child changed. Its `si_status` (the exit status, or the signal) shares its place in `siginfo_t`
/// with `si_value`, so a handler reading `si_value` sees it.
pub const CLD_EXITED: i64 = 1;
pub const CLD_KILLED: i64 = 2;
pub const CLD_DUMPED: i64 = 3;
pub const CLD_STOPPED: i64 = 5;
pub const CLD_CONTINUED: i64 = 6;
pub const SI_KERNEL: i64 = 0x80;

/// The names of the real-time signals as glibc's `sigabbrev` and the scenario language write them.
const REALTIME_NAMES: [&str; 33] = [
    "SIG32",
    "SIG33",
    "SIGRTMIN",
    "SIGRTMIN+1",
    "SIGRTMIN+2",
    "SIGRTMIN+3",
    "SIGRTMIN+4",
    "SIGRTMIN+5",
    "SIGRTMIN+6",
    "SIGRTMIN+7",
    "SIGRTMIN+8",
    "SIGRTMIN+9",
    "SIGRTMIN+10",
    "SIGRTMIN+11",
    "SIGRTMIN+12",
    "SIGRTMIN+13",
    "SIGRTMIN+14",
    "SIGRTMIN+15",
    "SIGRTMIN+16",
    "SIGRTMIN+17",
    "SIGRTMIN+18",
    "SIGRTMIN+19",
    "SIGRTMIN+20",
    "SIGRTMIN+21",
    "SIGRTMIN+22",
    "SIGRTMIN+23",
    "SIGRTMIN+24",
    "SIGRTMIN+25",
    "SIGRTMIN+26",
    "SIGRTMIN+27",
    "SIGRTMIN+28",
    "SIGRTMIN+29",
    "SIGRTMAX",
];

impl Signal {
    /// Looks a signal up by its name (`SIGTERM`, `SIGRTMIN+2`, `SIGRTMAX`) or a standard signal's name
    /// without the prefix (`TERM`).
    pub fn from_name(name: &str) -> Option<Signal> {
        if let Some(index) = REALTIME_NAMES.iter().position(|known| *known == name) {
            return Some(Signal(32 + index as u8));
        }
        if let Some(offset) = name.strip_prefix("SIGRTMAX-").and_then(|rest| rest.parse::<u8>().ok()) {
            return (offset <= SIGRTMAX - SIGRTMIN).then_some(Signal(SIGRTMAX - offset));
        }
        let bare = name.strip_prefix("SIG").unwrap_or(name);
        SIGNALS.iter().find(|(_, full, _)| &full[3..] == bare).map(|(number, _, _)| Signal(*number))
    }

    /// A signal from a number a scenario computed: 1 to 64, as the kernel's `valid_signal` accepts.
    pub fn from_number(number: i64) -> Option<Signal> {
        (1..=MAX_SIGNAL as i64).contains(&number).then_some(Signal(number as u8))
    }

    pub fn name(self) -> &'static str {
        if self.is_realtime() {
            return REALTIME_NAMES.get(self.0 as usize - 32).copied().unwrap_or("SIG?");
        }
        SIGNALS.iter().find(|(number, _, _)| *number == self.0).map(|(_, name, _)| *name).unwrap_or("SIG?")
    }

    /// Real-time signals (32..=64) queue: every one sent is delivered, with its value.
    pub fn is_realtime(self) -> bool {
        self.0 >= 32
    }

    /// 32 and 33 belong to the C library: `sigaction` refuses them.
    pub fn is_reserved(self) -> bool {
        self.0 == 32 || self.0 == 33
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

/// The bits a process can block: every signal but `SIGKILL` and `SIGSTOP` (`sigprocmask` and
/// `sa_mask` quietly drop those two).
pub const BLOCKABLE: u64 = !((1u64 << 8) | (1u64 << 18));

/// The bits of signals 32 and 33, which glibc keeps for itself (`SIGCANCEL`, `SIGSETXID`): its
/// `sigprocmask` never blocks them (`pthread_sigmask` clears them from the new set with
/// `__clear_internal_signals` before `rt_sigprocmask`), as its `sigaction` refuses them.
pub const GLIBC_INTERNAL: u64 = (1u64 << 31) | (1u64 << 32);

/// The signals in a 64-bit set, lowest first.
pub fn signals_in(mask: u64) -> Vec<Signal> {
    (1..=MAX_SIGNAL).map(Signal).filter(|signal| mask & signal.mask_bit() != 0).collect()
}

/// A signal set in words, as strace writes one: `[SIGINT SIGUSR1]`, `[]` for none.
pub fn set_text(mask: u64) -> String {
    let names: Vec<&str> = signals_in(mask).into_iter().map(Signal::name).collect();
    format!("[{}]", names.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_round_trip() {
        for (number, name, _) in SIGNALS {
            assert_eq!(Signal::from_name(name), Some(Signal(*number)));
            assert_eq!(Signal(*number).name(), *name);
        }
        assert_eq!(Signal::from_name("TERM"), Some(Signal(15)));
        assert_eq!(Signal::from_name("SIGNOPE"), None);
        assert_eq!(Signal::from_number(0), None);
        assert_eq!(Signal::from_number(65), None);
        for number in 32..=64u8 {
            assert_eq!(Signal::from_name(Signal(number).name()), Some(Signal(number)), "{number}");
            assert_eq!(Signal(number).default_action(), DefaultAction::Terminate);
        }
        assert_eq!(Signal::from_name("SIGRTMIN"), Some(Signal(34)));
        assert_eq!(Signal::from_name("SIGRTMIN+3").map(Signal::name), Some("SIGRTMIN+3"));
        assert_eq!(Signal::from_name("SIGRTMAX-1"), Some(Signal(63)));
        assert_eq!(Signal::from_name("SIGRTMAX-31"), None);
        assert_eq!(set_text(SIGKILL.mask_bit() | Signal(34).mask_bit()), "[SIGKILL SIGRTMIN]");
        assert_eq!(BLOCKABLE & SIGKILL.mask_bit(), 0);
        assert_eq!(BLOCKABLE & SIGSTOP.mask_bit(), 0);
        assert_eq!(signals_in(SIGKILL.mask_bit() | SIGPIPE.mask_bit()), vec![SIGKILL, SIGPIPE]);
    }
}
