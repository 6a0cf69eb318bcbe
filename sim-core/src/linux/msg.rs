//! `<sys/msg.h>` and `<linux/msg.h>`: System V message queues' flags, commands and limits.

/// `msgrcv` flags: truncate a message longer than the buffer instead of failing with `E2BIG`;
/// with a positive type, take the first message of any *other* type.
pub const MSG_NOERROR: i64 = 0o10000;
pub const MSG_EXCEPT: i64 = 0o20000;
/// `MSG_COPY` (checkpoint/restore): take a copy of the message at an index without removing it.
pub const MSG_COPY: i64 = 0o40000;

/// `msgctl` commands besides the `IPC_*` ones: `MSG_STAT` takes an index instead of an id.
pub const MSG_STAT: i64 = 11;
pub const MSG_INFO: i64 = 12;
pub const MSG_STAT_ANY: i64 = 13;

/// `MSGMAX`: the largest message, in bytes (`/proc/sys/kernel/msgmax`).
pub const MSGMAX: u64 = 8192;
/// `MSGMNB`: a new queue's `msg_qbytes`, and the most an unprivileged `IPC_SET` may give it.
pub const MSGMNB: u64 = 16_384;
/// `MSGMNI`: the most queues at once (`/proc/sys/kernel/msgmni`).
pub const MSGMNI: u32 = 32_000;
