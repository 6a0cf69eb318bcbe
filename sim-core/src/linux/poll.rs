//! `<poll.h>`: the events of `struct pollfd` (x86-64, `include/uapi/asm-generic/poll.h`), and the form a
//! `{FD, EVENTS}` operand travels in; `select`'s sets (`<sys/select.h>`), and which events make a
//! descriptor ready in each.

/// There is data to read.
pub const POLLIN: i64 = 0x1;
/// There is urgent data to read (never, for the files modelled here).
pub const POLLPRI: i64 = 0x2;
/// Writing now would not block.
pub const POLLOUT: i64 = 0x4;
/// An error (reported whether asked for or not): a pipe's write end with no reader left, a socket's
/// pending error.
pub const POLLERR: i64 = 0x8;
/// Hang-up (reported whether asked for or not): a pipe's read end with no writer left, a socket whose
/// both directions are shut down.
pub const POLLHUP: i64 = 0x10;
/// The descriptor is not open (reported whether asked for or not).
pub const POLLNVAL: i64 = 0x20;
pub const POLLRDNORM: i64 = 0x40;
pub const POLLRDBAND: i64 = 0x80;
pub const POLLWRNORM: i64 = 0x100;
pub const POLLWRBAND: i64 = 0x200;
/// The peer shut down its sending side (a stream socket's `RCV_SHUTDOWN`).
pub const POLLRDHUP: i64 = 0x2000;

/// The events `poll` reports whatever `events` asks for (`do_pollfd`'s filter adds them).
pub const ALWAYS_REPORTED: i64 = POLLERR | POLLHUP;

/// What a file without a `poll` operation of its own reports: ready for both (`DEFAULT_POLLMASK`), as
/// `/dev/null` and a POSIX shared memory object (a file of a tmpfs) are.
pub const DEFAULT_POLLMASK: i64 = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

/// The most `{FD, EVENTS}` entries one `poll` of a scenario lists (its other operand is the timeout).
pub const MAX_POLL_FDS: usize = 5;

const PRESENT: u64 = 1 << 48;

/// One `struct pollfd` packed into one operand: the descriptor as a C `int` in the low 32 bits, the
/// events as a C `short` above them, and a bit that says the entry was written (an operand left out
/// is 0).
pub fn pack_pollfd(fd: i64, events: i64) -> i64 {
    (PRESENT | ((events as u16 as u64) << 32) | fd as i32 as u32 as u64) as i64
}

/// The descriptor and events of a packed entry, `None` for an entry not written.
pub fn unpack_pollfd(packed: i64) -> Option<(i32, u16)> {
    let packed = packed as u64;
    if packed & PRESENT == 0 {
        return None;
    }
    Some((packed as u32 as i32, (packed >> 32) as u16))
}

/// What `select` asks of a descriptor in its read set (`POLLIN_SET` in `fs/select.c`): any of these in
/// the file's mask makes it ready there, so a hang-up or an error reads as readable.
pub const POLLIN_SET: i64 = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
/// What makes a descriptor of `select`'s write set ready (`POLLOUT_SET`).
pub const POLLOUT_SET: i64 = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
/// What makes a descriptor of `select`'s exception set ready (`POLLEX_SET`): urgent data only.
pub const POLLEX_SET: i64 = POLLPRI;

/// The most descriptors one set of a scenario's `select` lists.
pub const MAX_SET_FDS: usize = 5;

/// `FD_SETSIZE`: an `fd_set` holds descriptors 0 to 1023.
pub const FD_SETSIZE: i64 = 1024;

/// A field of a packed set: no descriptor (the set ends).
const SET_END: u64 = 0;
/// A negative descriptor, which a program leaves out of the set (`if (fd >= 0) FD_SET(fd, &set)`).
const SET_SKIPPED: u64 = 0xffe;
/// A descriptor past `FD_SETSIZE`, which no `fd_set` can hold.
const SET_TOO_HIGH: u64 = 0xfff;

/// One descriptor written in a `select` set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetEntry {
    /// A descriptor from 0 to 1023.
    Fd(i32),
    /// A negative number: left out of the set, keeping its place for `NAME.read`'s bits.
    Skipped,
    /// 1024 or more: `select` fails with `EBADF`, as no descriptor that high can be open under the
    /// 1,024-descriptor limit.
    TooHigh,
}

/// Packs the descriptors of one `select` set `{FD, ...}` into one operand: five 12-bit fields, each
/// a descriptor plus one, or a mark for a negative one or one too high; 0 is the empty set (C's
/// `NULL`).
pub fn pack_fdset(fds: &[i64]) -> i64 {
    let mut packed = 0u64;
    for (at, fd) in fds.iter().take(MAX_SET_FDS).enumerate() {
        // `FD_SET` takes an `int`: the low 32 bits of what was written.
        let field = match *fd as i32 as i64 {
            fd if fd < 0 => SET_SKIPPED,
            fd if fd >= FD_SETSIZE => SET_TOO_HIGH,
            fd => fd as u64 + 1,
        };
        packed |= field << (12 * at);
    }
    packed as i64
}

/// The descriptors of a packed set, in the order written.
pub fn unpack_fdset(packed: i64) -> Vec<SetEntry> {
    let packed = packed as u64;
    let mut entries = Vec::new();
    for at in 0..MAX_SET_FDS {
        match (packed >> (12 * at)) & 0xfff {
            SET_END => break,
            SET_SKIPPED => entries.push(SetEntry::Skipped),
            SET_TOO_HIGH => entries.push(SetEntry::TooHigh),
            field => entries.push(SetEntry::Fd(field as i32 - 1)),
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_keeps_a_negative_descriptor_and_every_event_bit() {
        for (fd, events) in [(0, 0), (3, POLLIN), (-1, POLLIN | POLLOUT), (1023, 0xffff), (i32::MAX as i64, POLLRDHUP)]
        {
            assert_eq!(unpack_pollfd(pack_pollfd(fd, events)), Some((fd as i32, events as u16)));
        }
        assert_eq!(unpack_pollfd(0), None);
    }

    #[test]
    fn a_set_keeps_its_descriptors_in_order_and_marks_those_no_fd_set_can_hold() {
        assert_eq!(unpack_fdset(pack_fdset(&[])), vec![]);
        assert_eq!(pack_fdset(&[]), 0);
        assert_eq!(
            unpack_fdset(pack_fdset(&[0, 1023, -1, 1024, 7])),
            vec![SetEntry::Fd(0), SetEntry::Fd(1023), SetEntry::Skipped, SetEntry::TooHigh, SetEntry::Fd(7)]
        );
        assert_eq!(unpack_fdset(pack_fdset(&[3, 4, 5, 6, 7, 8])).len(), MAX_SET_FDS);
    }
}
