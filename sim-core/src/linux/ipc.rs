//! `<sys/ipc.h>` and `ipc/util.h`: what System V message queues and semaphore sets share. Keys, the
//! `*get` flags, the control commands every kind knows, and how Linux numbers its IPC objects.

/// The key that always makes a new object (`ipcget_new`).
pub const IPC_PRIVATE: i64 = 0;
/// `*get` flags: create the object if the key has none; fail with `EEXIST` if it has one.
pub const IPC_CREAT: i64 = 0o1000;
pub const IPC_EXCL: i64 = 0o2000;
/// Do not sleep: fail with `EAGAIN` (`msgsnd`, `semop`) or `ENOMSG` (`msgrcv`) instead.
pub const IPC_NOWAIT: i64 = 0o4000;

/// The control commands of `msgctl` and `semctl`.
pub const IPC_RMID: i64 = 0;
pub const IPC_SET: i64 = 1;
pub const IPC_STAT: i64 = 2;
pub const IPC_INFO: i64 = 3;

/// The permission bits of an object's mode (`S_IRWXUGO`).
pub const MODE_BITS: i64 = 0o777;

/// `IPCMNI`: indexes of one kind of object run below this (without `ipcmni_extend`); an id is
/// `seq << IPCMNI_SHIFT` plus the index (`ipc_idr_alloc` in `ipc/util.c`).
pub const IPCMNI: u32 = 32_768;
pub const IPCMNI_SHIFT: u32 = 15;
/// `ipcid_seq_max()`: the sequence number wraps to 0 here.
pub const IPCID_SEQ_MAX: u32 = (i32::MAX as u32) >> IPCMNI_SHIFT;
/// `ipc_min_cycle` (`RADIX_TREE_MAP_SIZE` on 64-bit): new indexes cycle through at least this many
/// before an old one is used again.
pub const IPC_MIN_CYCLE: u32 = 64;

/// Whether an object with permission bits `mode` grants what `flag` asks for to its owner, which every
/// scenario process is (they all run as one user, who created every object): `ipcperms` compares the
/// owner's three bits with the union of the bits asked for in each class.
pub fn owner_may(mode: i64, flag: i64) -> bool {
    let requested = (flag >> 6) | (flag >> 3) | flag;
    let granted = mode >> 6;
    requested & !granted & 0o7 == 0
}

/// Reading (`S_IRUGO`) and writing (`S_IWUGO`), as `ipcperms` is asked.
pub const S_IRUGO: i64 = 0o444;
pub const S_IWUGO: i64 = 0o222;
