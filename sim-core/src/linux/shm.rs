//! `<sys/shm.h>` and `<linux/shm.h>`: System V shared memory's flags, commands and limits (x86-64).

/// `shmat` flags: attach for reading only; round a given address down to `SHMLBA`.
pub const SHM_RDONLY: i64 = 0o10000;
pub const SHM_RND: i64 = 0o20000;

/// The mode bit Linux sets on a segment removed while still attached (`do_shm_rmid`): `IPC_STAT`
/// shows it in `shm_perm.mode`.
pub const SHM_DEST: i64 = 0o1000;

/// `SHMMIN`: the smallest segment, in bytes (`shmget` below it: `EINVAL`).
pub const SHMMIN: u64 = 1;
/// `SHMMAX`: the largest segment a fresh namespace allows, `ULONG_MAX - 2^24` (`shm_ctlmax`).
pub const SHMMAX: u64 = u64::MAX - (1 << 24);
/// `SHMMNI`: the most segments at once (`shm_ctlmni`).
pub const SHMMNI: u32 = 4096;
