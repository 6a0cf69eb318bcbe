//! `<sys/wait.h>`: how a child ended (or stopped, or continued), the wait status that encodes it, and
//! the options of `waitpid` and `waitid`.

use super::signal::Signal;
use serde::{Deserialize, Serialize};

/// What `wait`/`waitpid`/`waitid` reports about a child.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChildStatus {
    Exited(u8),
    Killed { signal: Signal, core: bool },
    Stopped(Signal),
    Continued,
}

pub const WNOHANG: i64 = 1;
/// `WUNTRACED`, also `WSTOPPED` for `waitid`.
pub const WUNTRACED: i64 = 2;
pub const WEXITED: i64 = 4;
pub const WCONTINUED: i64 = 8;
pub const WNOWAIT: i64 = 0x0100_0000;
/// `__WNOTHREAD`: only the children of the calling thread (every process here has one thread).
pub const WNOTHREAD: i64 = 0x2000_0000;
/// `__WALL`: children whatever signal they report their end with.
pub const WALL: i64 = 0x4000_0000;
/// `__WCLONE`: only children that report their end with a signal other than `SIGCHLD` (made by `clone`;
/// a forked child reports with `SIGCHLD`, so without `__WALL` it is not waited for).
pub const WCLONE: i64 = 0x8000_0000;
/// The options both calls accept whatever else they are given (`kernel_wait4`, `kernel_waitid`).
pub const THREAD_OPTIONS: i64 = WNOTHREAD | WALL | WCLONE;

/// Whether these options (an `int`, taken as its 32 bits) leave out every forked child: `__WCLONE`
/// without `__WALL` (`eligible_child` in `kernel/exit.c`).
pub fn clone_children_only(options: i64) -> bool {
    options & WCLONE != 0 && options & WALL == 0
}

/// `waitid`'s `idtype`.
pub const P_ALL: i64 = 0;
pub const P_PID: i64 = 1;
pub const P_PGID: i64 = 2;

/// `WCOREFLAG`
pub const CORE_FLAG: i32 = 0x80;

/// The wait status `waitpid` stores, as `<sys/wait.h>` decodes it (`WIFEXITED` and friends).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_status_matches_linux_encoding() {
        // Values as glibc's macros see them: exit(3) is 0x300, SIGKILL is 9, stopped by SIGSTOP is 0x137f.
        assert_eq!(encode(ChildStatus::Exited(3)), 0x300);
        assert_eq!(encode(ChildStatus::Killed { signal: Signal(9), core: false }), 9);
        assert_eq!(encode(ChildStatus::Killed { signal: Signal(11), core: true }), 0x8b);
        assert_eq!(encode(ChildStatus::Stopped(Signal(19))), 0x137f);
        assert_eq!(encode(ChildStatus::Continued), 0xffff);
        for status in [
            ChildStatus::Exited(0),
            ChildStatus::Exited(255),
            ChildStatus::Killed { signal: Signal(15), core: false },
            ChildStatus::Killed { signal: Signal(6), core: true },
            ChildStatus::Stopped(Signal(20)),
            ChildStatus::Continued,
        ] {
            assert_eq!(decode(encode(status)), status);
        }
    }
}
