//! Resource limits (`include/uapi/asm-generic/resource.h`): the one a scenario can set, `RLIMIT_CORE`.

/// `RLIMIT_CORE`: the largest core file the process may write.
pub const RLIMIT_CORE: i64 = 4;

/// `RLIM_INFINITY` (`~0UL`): no limit. A scenario writes it as a number too: it is `-1` as an `i64`.
pub const RLIM_INFINITY: u64 = u64::MAX;

/// The smallest `RLIMIT_CORE` that lets a core file be written: the ELF loader's `min_coredump`
/// (`ELF_EXEC_PAGESIZE`, a page on x86-64), checked by the kernel's core dumping code
/// (`fs/coredump.c`) before it opens the file. Under it no core is written, and the wait status has
/// no core flag; at or above it the core is written, cut at the limit if it is larger, and the flag
/// is set (seen on Linux 6.18: a 4,096-byte limit gives a truncated core and the flag).
pub const MIN_COREDUMP: u64 = 4096;

/// The limits every scenario process starts with, as `ipclab check` sets them for its real processes:
/// no core (soft 0), and a hard limit the process may raise its soft limit to (unlimited).
pub const DEFAULT_CORE_LIMIT: (u64, u64) = (0, RLIM_INFINITY);
