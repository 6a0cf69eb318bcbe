//! `<sys/mman.h>`: memory protections and mapping flags (x86-64), and the page size.

/// The size of a page frame and of a virtual page, in bytes.
pub const PAGE_SIZE: u64 = 4096;

/// Protections of a mapping (`mmap`, `mprotect`).
pub const PROT_NONE: i64 = 0;
pub const PROT_READ: i64 = 1;
pub const PROT_WRITE: i64 = 2;
pub const PROT_EXEC: i64 = 4;
/// `PROT_SEM`: memory usable for atomic operations; accepted, and changes nothing on x86-64.
pub const PROT_SEM: i64 = 8;
/// `mprotect` only: extend the change to the start of a mapping that grows down (a stack).
pub const PROT_GROWSDOWN: i64 = 0x0100_0000;
/// `mprotect` only: extend the change to the end of a mapping that grows up (no x86-64 mapping does).
pub const PROT_GROWSUP: i64 = 0x0200_0000;

/// `mmap` flags: changes are seen by every process mapping the pages, or are private (copy-on-write);
/// no file behind the mapping.
pub const MAP_SHARED: i64 = 0x01;
pub const MAP_PRIVATE: i64 = 0x02;
pub const MAP_FIXED: i64 = 0x10;
pub const MAP_ANONYMOUS: i64 = 0x20;
/// The type bits of the flags (`MAP_TYPE`): exactly one of `MAP_SHARED` and `MAP_PRIVATE` (or
/// `MAP_SHARED_VALIDATE`).
pub const MAP_TYPE: i64 = 0x0f;

/// `mmap`'s failure, as a value (`(void *) -1`).
pub const MAP_FAILED: i64 = -1;

/// Rounds a length up to whole pages.
pub fn page_align(len: u64) -> u64 {
    len.div_ceil(PAGE_SIZE) * PAGE_SIZE
}

/// `futex` operations: sleep while the 32-bit word at an address holds a value, and wake sleepers;
/// with `FUTEX_PRIVATE_FLAG` or-ed in, only the calling process's own sleepers match.
pub const FUTEX_WAIT: i64 = 0;
pub const FUTEX_WAKE: i64 = 1;
pub const FUTEX_PRIVATE_FLAG: i64 = 128;
pub const FUTEX_WAIT_PRIVATE: i64 = FUTEX_WAIT | FUTEX_PRIVATE_FLAG;
pub const FUTEX_WAKE_PRIVATE: i64 = FUTEX_WAKE | FUTEX_PRIVATE_FLAG;
