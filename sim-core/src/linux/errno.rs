//! `<errno.h>`: the errors a simulated process can observe, with their x86-64 numbers.
//!
//! An errno is what a process sees when a call fails; it is never a bug in the model (a broken kernel
//! invariant is). The table names every errno the simulator produces or a scenario may test for.

use serde::{Deserialize, Serialize};

/// A Linux errno by number (x86-64 numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Errno(pub u16);

/// Every errno a scenario can name: number, name, and the short meaning `strerror` gives.
pub const ERRNOS: &[(u16, &str, &str)] = &[
    (1, "EPERM", "operation not permitted"),
    (2, "ENOENT", "no such file or directory"),
    (3, "ESRCH", "no such process"),
    (4, "EINTR", "interrupted system call"),
    (6, "ENXIO", "no such device or address"),
    (7, "E2BIG", "argument list too long"),
    (9, "EBADF", "bad file descriptor"),
    (10, "ECHILD", "no child processes"),
    (11, "EAGAIN", "resource temporarily unavailable"),
    (12, "ENOMEM", "cannot allocate memory"),
    (13, "EACCES", "permission denied"),
    (14, "EFAULT", "bad address"),
    (16, "EBUSY", "device or resource busy"),
    (17, "EEXIST", "file exists"),
    (19, "ENODEV", "no such device"),
    (20, "ENOTDIR", "not a directory"),
    (21, "EISDIR", "is a directory"),
    (22, "EINVAL", "invalid argument"),
    (24, "EMFILE", "too many open files"),
    (25, "ENOTTY", "inappropriate ioctl for device"),
    (27, "EFBIG", "file too large"),
    (28, "ENOSPC", "no space left on device"),
    (29, "ESPIPE", "illegal seek"),
    (32, "EPIPE", "broken pipe"),
    (34, "ERANGE", "numerical result out of range"),
    (35, "EDEADLK", "resource deadlock avoided"),
    (36, "ENAMETOOLONG", "file name too long"),
    (38, "ENOSYS", "function not implemented"),
    (40, "ELOOP", "too many levels of symbolic links"),
    (42, "ENOMSG", "no message of desired type"),
    (43, "EIDRM", "identifier removed"),
    (75, "EOVERFLOW", "value too large for defined data type"),
    (88, "ENOTSOCK", "socket operation on non-socket"),
    (89, "EDESTADDRREQ", "destination address required"),
    (90, "EMSGSIZE", "message too long"),
    (91, "EPROTOTYPE", "protocol wrong type for socket"),
    (92, "ENOPROTOOPT", "protocol not available"),
    (94, "ESOCKTNOSUPPORT", "socket type not supported"),
    (95, "EOPNOTSUPP", "operation not supported"),
    (97, "EAFNOSUPPORT", "address family not supported by protocol"),
    (98, "EADDRINUSE", "address already in use"),
    (99, "EADDRNOTAVAIL", "cannot assign requested address"),
    (104, "ECONNRESET", "connection reset by peer"),
    (106, "EISCONN", "transport endpoint is already connected"),
    (107, "ENOTCONN", "transport endpoint is not connected"),
    (110, "ETIMEDOUT", "connection timed out"),
    (111, "ECONNREFUSED", "connection refused"),
    (114, "EALREADY", "operation already in progress"),
    (115, "EINPROGRESS", "operation now in progress"),
];

/// Other names Linux gives the same numbers.
pub const ERRNO_ALIASES: &[(&str, &str)] = &[("EWOULDBLOCK", "EAGAIN"), ("EDEADLOCK", "EDEADLK")];

pub const EPERM: Errno = Errno(1);
/// A call this build leaves out (see [`crate::IPC`]).
pub const ENOSYS: Errno = Errno(38);
pub const ENOENT: Errno = Errno(2);
pub const ESRCH: Errno = Errno(3);
pub const EINTR: Errno = Errno(4);
pub const ENXIO: Errno = Errno(6);
pub const EBADF: Errno = Errno(9);
pub const ECHILD: Errno = Errno(10);
pub const EAGAIN: Errno = Errno(11);
pub const ENOMEM: Errno = Errno(12);
pub const EACCES: Errno = Errno(13);
pub const EFAULT: Errno = Errno(14);
pub const EBUSY: Errno = Errno(16);
pub const EEXIST: Errno = Errno(17);
pub const ENODEV: Errno = Errno(19);
pub const EINVAL: Errno = Errno(22);
pub const EMFILE: Errno = Errno(24);
pub const ENOTTY: Errno = Errno(25);
pub const ESPIPE: Errno = Errno(29);
pub const EPIPE: Errno = Errno(32);
pub const E2BIG: Errno = Errno(7);
pub const EFBIG: Errno = Errno(27);
pub const ENOSPC: Errno = Errno(28);
pub const ERANGE: Errno = Errno(34);
pub const ENAMETOOLONG: Errno = Errno(36);
pub const ELOOP: Errno = Errno(40);
pub const ENOMSG: Errno = Errno(42);
pub const EIDRM: Errno = Errno(43);
pub const EOVERFLOW: Errno = Errno(75);
pub const ENOTSOCK: Errno = Errno(88);
pub const EMSGSIZE: Errno = Errno(90);
pub const EDESTADDRREQ: Errno = Errno(89);
pub const EPROTOTYPE: Errno = Errno(91);
pub const ENOPROTOOPT: Errno = Errno(92);
pub const ESOCKTNOSUPPORT: Errno = Errno(94);
pub const EOPNOTSUPP: Errno = Errno(95);
pub const EAFNOSUPPORT: Errno = Errno(97);
pub const EADDRINUSE: Errno = Errno(98);
pub const EADDRNOTAVAIL: Errno = Errno(99);
pub const EISCONN: Errno = Errno(106);
pub const ECONNRESET: Errno = Errno(104);
pub const ENOTCONN: Errno = Errno(107);
pub const ECONNREFUSED: Errno = Errno(111);
pub const ETIMEDOUT: Errno = Errno(110);
pub const EALREADY: Errno = Errno(114);
pub const EINPROGRESS: Errno = Errno(115);

impl Errno {
    /// Looks an errno up by name (`EAGAIN`, or an alias such as `EWOULDBLOCK`).
    pub fn from_name(name: &str) -> Option<Errno> {
        let name = ERRNO_ALIASES.iter().find(|(alias, _)| *alias == name).map_or(name, |(_, canonical)| canonical);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names_round_trip_and_aliases_resolve() {
        for (number, name, _) in ERRNOS {
            assert_eq!(Errno::from_name(name), Some(Errno(*number)));
            assert_eq!(Errno(*number).name(), *name);
        }
        assert_eq!(Errno::from_name("EWOULDBLOCK"), Some(EAGAIN));
        assert_eq!(Errno::from_name("EFOO"), None);
        let mut numbers: Vec<u16> = ERRNOS.iter().map(|(number, _, _)| *number).collect();
        numbers.dedup();
        assert_eq!(numbers.len(), ERRNOS.len(), "each number once, in order");
    }
}
