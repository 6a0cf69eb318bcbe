//! `<signal.h>`: the standard signals of signal(7) on x86-64, their default actions, and the
//! dispositions `signal(2)` can set.

use serde::{Deserialize, Serialize};

/// A Linux signal by number (x86-64 numbering). The standard signals are 1..=31.
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

pub const SIGHUP: Signal = Signal(1);
pub const SIGFPE: Signal = Signal(8);
pub const SIGKILL: Signal = Signal(9);
pub const SIGSEGV: Signal = Signal(11);
pub const SIGPIPE: Signal = Signal(13);
pub const SIGCHLD: Signal = Signal(17);
pub const SIGCONT: Signal = Signal(18);
pub const SIGSTOP: Signal = Signal(19);

/// `SIG_DFL` and `SIG_IGN`, the dispositions `signal(2)` takes besides a handler.
pub const SIG_DFL: i64 = 0;
pub const SIG_IGN: i64 = 1;

/// The stop signals: `SIGCONT` discards any of them that is pending.
pub const STOP_SIGNALS: [u8; 4] = [19, 20, 21, 22];

impl Signal {
    /// Looks a signal up by its name (`SIGTERM`) or its name without the prefix (`TERM`).
    pub fn from_name(name: &str) -> Option<Signal> {
        let bare = name.strip_prefix("SIG").unwrap_or(name);
        SIGNALS.iter().find(|(_, full, _)| &full[3..] == bare).map(|(number, _, _)| Signal(*number))
    }

    /// A signal from a number a scenario computed: only the standard signals are valid.
    pub fn from_number(number: i64) -> Option<Signal> {
        (1..=31).contains(&number).then_some(Signal(number as u8))
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

/// The signals in a 64-bit set, lowest first.
pub fn signals_in(mask: u64) -> Vec<Signal> {
    (1..=31u8).map(Signal).filter(|signal| mask & signal.mask_bit() != 0).collect()
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
        assert_eq!(Signal::from_number(32), None);
        assert_eq!(signals_in(SIGKILL.mask_bit() | SIGPIPE.mask_bit()), vec![SIGKILL, SIGPIPE]);
    }
}
