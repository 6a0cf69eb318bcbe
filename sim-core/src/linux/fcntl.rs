//! `<fcntl.h>` and the pipe parameters of `<linux/pipe_fs_i.h>`: open flags, `fcntl` commands, and the
//! sizes a pipe has on Linux.

/// `O_RDONLY`, `O_WRONLY`, `O_RDWR`: the access mode, the low two bits of the open flags.
pub const O_RDONLY: i64 = 0;
pub const O_WRONLY: i64 = 1;
pub const O_RDWR: i64 = 2;
pub const O_ACCMODE: i64 = 3;
/// `O_CREAT` and `O_EXCL` (x86-64 values), which `mq_open` and `sem_open` take.
pub const O_CREAT: i64 = 0o100;
pub const O_EXCL: i64 = 0o200;
/// `O_NOCTTY` and `O_TRUNC`, which an open drops from the file's flags.
pub const O_NOCTTY: i64 = 0o400;
pub const O_TRUNC: i64 = 0o1000;
/// The umask of every scenario process (`ipclab check` sets it): a file made with `mode` gets
/// `mode & !UMASK` (a new POSIX message queue, the file of a named semaphore).
pub const UMASK: i64 = 0o022;
pub const O_NONBLOCK: i64 = 0o4000;
/// `O_LARGEFILE` as `F_GETFL` shows it on x86-64 for files opened with `open` (the kernel forces it).
pub const O_LARGEFILE: i64 = 0o100000;
/// `open` does not follow a symbolic link in the last component (glibc's `shm_open` adds it).
pub const O_NOFOLLOW: i64 = 0o400000;
pub const O_DIRECT: i64 = 0o40000;
pub const O_CLOEXEC: i64 = 0o2000000;

/// The `fcntl` commands the simulator models.
pub const F_DUPFD: i64 = 0;
pub const F_GETFD: i64 = 1;
pub const F_SETFD: i64 = 2;
pub const F_GETFL: i64 = 3;
pub const F_SETFL: i64 = 4;
pub const F_DUPFD_CLOEXEC: i64 = 1030;
pub const F_SETPIPE_SZ: i64 = 1031;
pub const F_GETPIPE_SZ: i64 = 1032;

/// The descriptor flag of `F_GETFD`/`F_SETFD`.
pub const FD_CLOEXEC: i64 = 1;

/// `PAGE_SIZE` on x86-64: a pipe buffer is a ring of page-sized slots.
pub const PAGE_SIZE: u32 = 4096;
/// `PIPE_BUF`: writes of at most this many bytes are atomic (pipe(7)).
pub const PIPE_BUF: u32 = 4096;
/// `PIPE_DEF_BUFFERS` * `PAGE_SIZE`: a new pipe holds 65536 bytes.
pub const PIPE_DEFAULT_CAPACITY: u32 = 16 * PAGE_SIZE;
/// `/proc/sys/fs/pipe-max-size`: the largest `F_SETPIPE_SZ` an unprivileged process may ask for.
pub const PIPE_MAX_SIZE: u32 = 1_048_576;

/// The flags `pipe2` accepts (`__do_pipe_flags` refuses the others with `EINVAL`). Of them, `O_DIRECT`
/// (a packet-mode pipe) and `O_NOTIFICATION_PIPE` (`O_EXCL`: a pipe for kernel notifications) make
/// pipes the simulator does not model: a run that asks for one stops at the `not_modelled` limit.
pub const PIPE2_FLAGS: i64 = O_NONBLOCK | O_CLOEXEC | O_DIRECT | O_NOTIFICATION_PIPE;
/// `O_NOTIFICATION_PIPE`, which is `O_EXCL` (`include/uapi/linux/watch_queue.h`).
pub const O_NOTIFICATION_PIPE: i64 = O_EXCL;
