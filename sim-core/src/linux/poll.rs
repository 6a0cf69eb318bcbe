//! `<poll.h>`: the events of `struct pollfd` (x86-64, `include/uapi/asm-generic/poll.h`), and the form a
//! `{FD, EVENTS}` operand travels in.

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
}
