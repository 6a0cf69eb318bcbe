//! `<mqueue.h>` and `ipc/mqueue.c`: POSIX message queues' limits and the sizes their memory accounting
//! uses, as an unprivileged process on x86-64 sees them.

/// `MQ_PRIO_MAX`: priorities run from 0 to this minus one.
pub const MQ_PRIO_MAX: i64 = 32_768;
/// `/proc/sys/fs/mqueue/queues_max`: queues in one IPC namespace.
pub const QUEUES_MAX: u32 = 256;
/// `/proc/sys/fs/mqueue/msg_max` and `msg_default`: the most messages an unprivileged process may ask
/// a queue to hold, and what a queue made without attributes holds.
pub const MSG_MAX: i64 = 10;
pub const MSG_DEFAULT: i64 = 10;
/// `/proc/sys/fs/mqueue/msgsize_max` and `msgsize_default`.
pub const MSGSIZE_MAX: i64 = 8192;
pub const MSGSIZE_DEFAULT: i64 = 8192;
/// `RLIMIT_MSGQUEUE`'s default: the bytes one user's queues may pin (`mqueue_get_inode`).
pub const RLIMIT_MSGQUEUE: u64 = 819_200;
/// `sizeof(struct msg_msg)` and `sizeof(struct posix_msg_tree_node)` on x86-64, which a queue's
/// accounting multiplies by its `mq_maxmsg`.
pub const MSG_MSG_BYTES: u64 = 48;
pub const TREE_NODE_BYTES: u64 = 48;
/// `NAME_MAX`: the longest name of a queue (without its leading `/`), or of a file in `/dev/shm`.
pub const NAME_MAX: usize = 255;
/// `FILENT_SIZE`: the size a queue's file reports, and the length `read` on its descriptor offers.
pub const FILE_SIZE: i64 = 80;
/// `SIGEV_SIGNAL`: the notification `mq_notify` sends (the only one modelled).
pub const SIGEV_SIGNAL: i64 = 0;

/// The bytes a queue with these attributes pins (`mqueue_get_inode`).
pub fn pinned_bytes(maxmsg: i64, msgsize: i64) -> u64 {
    let maxmsg = maxmsg as u64;
    maxmsg * MSG_MSG_BYTES + maxmsg.min(MQ_PRIO_MAX as u64) * TREE_NODE_BYTES + maxmsg * msgsize as u64
}

/// `mq_open`'s `struct mq_attr *` as one operand: 0 for a NULL pointer; otherwise bit 62 set and
/// `mq_maxmsg` and `mq_msgsize` in 31 bits each. A value outside what 31 bits hold is clamped to the
/// nearest one that fits: every such value is refused with `EINVAL` (it is either at most 0 or far above
/// the limits), so clamping never changes what the call does.
pub fn pack_attr(maxmsg: i64, msgsize: i64) -> i64 {
    let fit = |value: i64| (value.clamp(-(1 << 30), (1 << 30) - 1) as u64) & 0x7fff_ffff;
    ((1u64 << 62) | (fit(maxmsg) << 31) | fit(msgsize)) as i64
}

/// The attributes of a packed operand ([`pack_attr`]), or `None` for a NULL pointer.
pub fn unpack_attr(packed: i64) -> Option<(i64, i64)> {
    let bits = packed as u64;
    if bits & (1 << 62) == 0 {
        return None;
    }
    let widen = |value: u64| ((value << 33) as i64) >> 33;
    Some((widen((bits >> 31) & 0x7fff_ffff), widen(bits & 0x7fff_ffff)))
}
