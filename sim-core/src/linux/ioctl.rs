//! `<asm-generic/ioctls.h>` and `<unistd.h>`: the ioctl requests and seek origins the simulator models.

/// `FIONREAD`: how many bytes can be read without blocking (`pipe_ioctl` on a pipe).
pub const FIONREAD: i64 = 0x541B;

pub const SEEK_SET: i64 = 0;
pub const SEEK_CUR: i64 = 1;
pub const SEEK_END: i64 = 2;
