//! `<sys/epoll.h>`: the flags of `epoll_create1`, the operations of `epoll_ctl` and the events of
//! `struct epoll_event` (`include/uapi/linux/eventpoll.h`, x86-64).
//!
//! The readiness bits are `poll`'s, with an `EPOLL` prefix and the same values; the high bits are
//! epoll's own: they change how an item is reported, and are never reported themselves.

use super::poll;

/// `epoll_create1`'s one flag: the new descriptor is closed on `exec` (`O_CLOEXEC`'s value).
pub const EPOLL_CLOEXEC: i64 = super::fcntl::O_CLOEXEC;

/// `epoll_ctl` operations.
pub const EPOLL_CTL_ADD: i64 = 1;
pub const EPOLL_CTL_DEL: i64 = 2;
pub const EPOLL_CTL_MOD: i64 = 3;

pub const EPOLLIN: i64 = poll::POLLIN;
pub const EPOLLPRI: i64 = poll::POLLPRI;
pub const EPOLLOUT: i64 = poll::POLLOUT;
pub const EPOLLERR: i64 = poll::POLLERR;
pub const EPOLLHUP: i64 = poll::POLLHUP;
pub const EPOLLRDNORM: i64 = poll::POLLRDNORM;
pub const EPOLLRDBAND: i64 = poll::POLLRDBAND;
pub const EPOLLWRNORM: i64 = poll::POLLWRNORM;
pub const EPOLLWRBAND: i64 = poll::POLLWRBAND;
pub const EPOLLRDHUP: i64 = poll::POLLRDHUP;
/// Only one of the epoll instances watching a file is woken (not modelled: see the language reference).
pub const EPOLLEXCLUSIVE: i64 = 1 << 28;
/// Keeps the system awake while the event is pending (needs `CAP_BLOCK_SUSPEND`, and is dropped
/// silently without it: `ep_take_care_of_epollwakeup`).
pub const EPOLLWAKEUP: i64 = 1 << 29;
/// The item is reported once, then disabled until an `EPOLL_CTL_MOD` arms it again.
pub const EPOLLONESHOT: i64 = 1 << 30;
/// Edge-triggered: the item is reported when a wake-up of its file found it ready, not on every
/// `epoll_wait` while it stays ready.
pub const EPOLLET: i64 = 1 << 31;

/// The bits that say how to report rather than what (`EP_PRIVATE_BITS`): an item whose events have
/// nothing else (a `EPOLLONESHOT` item after its report) is disabled.
pub const EP_PRIVATE_BITS: i64 = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;

/// What an item always watches, whatever its events say (`ep_insert` and `ep_modify` add them).
pub const ALWAYS_WATCHED: i64 = EPOLLERR | EPOLLHUP;

/// The events an `EPOLLEXCLUSIVE` item may also ask for (`EPOLLEXCLUSIVE_OK_BITS`).
pub const EXCLUSIVE_OK_BITS: i64 = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;

/// The most events one `epoll_wait` may ask for (`EP_MAX_EVENTS`: `INT_MAX` over the 12 bytes of a
/// packed `struct epoll_event`).
pub const EP_MAX_EVENTS: i64 = i32::MAX as i64 / 12;

/// How deep epoll instances may watch each other (`EP_MAX_NESTS`).
pub const EP_MAX_NESTS: usize = 4;

/// The most events one `epoll_wait` of a scenario reports (what its result holds); a call that would
/// report more ends the run at a limit rather than report them wrongly.
pub const MAX_EPOLL_EVENTS: usize = 5;
