//! Raw system calls for the real processes, safe to make inside a signal handler.
//!
//! A scenario process runs the scenario's handlers for real: when Linux delivers a signal, the real
//! handler takes commands from the driver and makes the handler's calls, on top of whatever the
//! process was doing (in the middle of a call, or between two). So everything a real process does after
//! its start must be async-signal-safe: no allocation (the interrupted code may be inside the
//! allocator), no lock, and no `errno` (a handler's calls would overwrite the `errno` of the call it
//! interrupted). Every call here is one `syscall` instruction that returns the kernel's own result,
//! negative for an error (`-EINTR`), and memory comes from `mmap`, one region per handler level.
//!
//! The scenario's calls go through [`scenario_syscall`], whose `syscall` instruction has a known
//! address ([`scenario_syscall_address`]): in a handler, the saved registers of the interrupted code
//! then say exactly what Linux did to the call below (`handle_signal` in `arch/x86/kernel/signal.c`
//! either left its result in `ax`, or, to restart it, set `ip` back onto the `syscall` instruction and
//! `ax` back to the call's number). The control socket's calls use [`syscall6`], whose instructions are
//! elsewhere, so a handler never mistakes the driver's socket for the scenario's call.
//!
//! x86-64 only: the check reads x86-64 registers from signal frames.

#[cfg(not(target_arch = "x86_64"))]
compile_error!("the conformance runner's real processes read x86-64 signal frames; build ipclab for x86-64");

use std::sync::atomic::{AtomicUsize, Ordering};

std::arch::global_asm!(
    ".pushsection .text.ipclab_scenario_syscall,\"ax\",@progbits",
    ".globl ipclab_scenario_syscall",
    ".type ipclab_scenario_syscall,@function",
    "ipclab_scenario_syscall:",
    "mov rax, rdi",
    "mov rdi, rsi",
    "mov rsi, rdx",
    "mov rdx, rcx",
    "mov r10, r8",
    "mov r8, r9",
    "mov r9, [rsp + 8]",
    ".globl ipclab_scenario_syscall_insn",
    "ipclab_scenario_syscall_insn:",
    "syscall",
    "ret",
    ".size ipclab_scenario_syscall, . - ipclab_scenario_syscall",
    ".globl ipclab_restore_rt",
    ".type ipclab_restore_rt,@function",
    "ipclab_restore_rt:",
    "mov rax, 15",
    "syscall",
    "ud2",
    ".size ipclab_restore_rt, . - ipclab_restore_rt",
    ".popsection",
);

extern "C" {
    fn ipclab_scenario_syscall(nr: i64, a0: i64, a1: i64, a2: i64, a3: i64, a4: i64, a5: i64) -> i64;
    static ipclab_scenario_syscall_insn: u8;
    /// `rt_sigreturn`, the return address of every handler (`SA_RESTORER`, as glibc's `__restore_rt`).
    fn ipclab_restore_rt();
}

/// Makes one of the scenario's system calls; returns the kernel's result (`-errno` on failure).
#[inline(never)]
pub fn scenario_syscall(nr: i64, args: [i64; 6]) -> i64 {
    // SAFETY: the stub moves its arguments into the system call registers and executes `syscall`; the
    // caller passes valid pointers for the call it names.
    unsafe { ipclab_scenario_syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]) }
}

/// Where the `syscall` instruction of [`scenario_syscall`] is.
pub fn scenario_syscall_address() -> usize {
    std::ptr::addr_of!(ipclab_scenario_syscall_insn) as usize
}

pub fn restorer_address() -> usize {
    ipclab_restore_rt as *const () as usize
}

/// Any other system call (the control socket, set-up); returns the kernel's result.
#[inline(always)]
pub fn syscall6(nr: i64, a0: i64, a1: i64, a2: i64, a3: i64, a4: i64, a5: i64) -> i64 {
    let result: i64;
    // SAFETY: a plain system call; the caller passes valid pointers for the call it names.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr => result,
            in("rdi") a0,
            in("rsi") a1,
            in("rdx") a2,
            in("r10") a3,
            in("r8") a4,
            in("r9") a5,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    result
}

pub fn syscall0(nr: i64) -> i64 {
    syscall6(nr, 0, 0, 0, 0, 0, 0)
}

pub fn syscall3(nr: i64, a0: i64, a1: i64, a2: i64) -> i64 {
    syscall6(nr, a0, a1, a2, 0, 0, 0)
}

/// Ends this process at once.
pub fn exit_now(status: i32) -> ! {
    syscall6(libc::SYS_exit_group, status as i64, 0, 0, 0, 0, 0);
    // SAFETY: unreachable: exit_group does not return.
    unsafe { std::hint::unreachable_unchecked() }
}

/// The kernel's `struct sigaction` for `rt_sigaction` on x86-64.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct KernelSigaction {
    pub handler: usize,
    pub flags: u64,
    pub restorer: usize,
    pub mask: u64,
}

/// The kernel's `sa_flags` bit that says `restorer` is set (every x86-64 handler needs one).
pub const SA_RESTORER: u64 = 0x0400_0000;

/// `rt_sigaction(signal, new, old)`; returns the kernel's result.
pub fn rt_sigaction(signal: i64, new: Option<&KernelSigaction>, old: Option<&mut KernelSigaction>) -> i64 {
    let new = new.map_or(0, |action| action as *const KernelSigaction as i64);
    let old = old.map_or(0, |action| action as *mut KernelSigaction as i64);
    syscall6(libc::SYS_rt_sigaction, signal, new, old, 8, 0, 0)
}

/// Memory from `mmap`, never from the allocator: it can be had and grown inside a handler.
pub struct Region {
    pointer: *mut u8,
    capacity: usize,
}

impl Region {
    pub const fn empty() -> Region {
        Region { pointer: std::ptr::null_mut(), capacity: 0 }
    }

    /// At least `len` bytes (their content is not kept when the region grows); `None` if `mmap` fails.
    pub fn ensure(&mut self, len: usize) -> Option<&mut [u8]> {
        if len > self.capacity {
            if !self.pointer.is_null() {
                syscall6(libc::SYS_munmap, self.pointer as i64, self.capacity as i64, 0, 0, 0, 0);
                self.pointer = std::ptr::null_mut();
                self.capacity = 0;
            }
            // Whole 64 KiB units, so that slightly longer calls do not map again.
            let capacity = len.max(1).div_ceil(1 << 16) << 16;
            let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
            let pointer = syscall6(
                libc::SYS_mmap,
                0,
                capacity as i64,
                (libc::PROT_READ | libc::PROT_WRITE) as i64,
                flags as i64,
                -1,
                0,
            );
            if pointer < 0 {
                return None;
            }
            self.pointer = pointer as *mut u8;
            self.capacity = capacity;
        }
        // SAFETY: the mapping holds `capacity >= len` bytes and belongs to this region alone.
        Some(unsafe { std::slice::from_raw_parts_mut(self.pointer, len) })
    }
}

/// How many handlers can run inside one another in a real process, plus the main loop (the
/// simulator's `max_signal_frames` is 64).
pub const MAX_LEVELS: usize = 80;

/// The memory of one level (the main loop is level 0, each handler running adds one): a command, and
/// the bytes of a read or of a payload. Each level has its own, because a handler runs while the
/// level below still owes its reply (a read that completed just before a handler took over).
pub struct LevelMemory {
    pub command: Region,
    pub data: Region,
    /// A path made NUL-terminated for the kernel.
    pub path: [u8; 4096],
}

struct Levels(std::cell::UnsafeCell<[LevelMemory; MAX_LEVELS]>);

// SAFETY: a real process is single-threaded; each level's memory is used only by the code running at
// that level, and a level is entered only after the level below has stopped running (a handler runs on
// top of it until it returns).
unsafe impl Sync for Levels {}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY_LEVEL: LevelMemory = LevelMemory { command: Region::empty(), data: Region::empty(), path: [0; 4096] };

static LEVELS: Levels = Levels(std::cell::UnsafeCell::new([EMPTY_LEVEL; MAX_LEVELS]));

/// The level running now: 0 in the main loop, one more in each handler running.
pub static LEVEL: AtomicUsize = AtomicUsize::new(0);

/// The memory of the level running now.
pub fn level_memory() -> &'static mut LevelMemory {
    let level = LEVEL.load(Ordering::SeqCst).min(MAX_LEVELS - 1);
    // SAFETY: see `Levels`: only the level running now touches its memory.
    unsafe { &mut (*LEVELS.0.get())[level] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_calls_return_the_kernel_s_result() {
        // SAFETY: getpid takes nothing.
        let pid = unsafe { libc::getpid() } as i64;
        assert_eq!(scenario_syscall(libc::SYS_getpid, [0; 6]), pid);
        assert_eq!(scenario_syscall(libc::SYS_close, [-1, 0, 0, 0, 0, 0]), -(libc::EBADF as i64));
        assert_eq!(syscall0(libc::SYS_getpid), pid);
        assert_eq!(syscall3(libc::SYS_close, -1, 0, 0), -(libc::EBADF as i64));
        // The recorded address is a `syscall` instruction.
        // SAFETY: reading two bytes of code.
        let bytes = unsafe { std::slice::from_raw_parts(scenario_syscall_address() as *const u8, 2) };
        assert_eq!(bytes, [0x0f, 0x05]);
    }

    #[test]
    fn regions_grow_without_the_allocator() {
        let mut region = Region::empty();
        let bytes = region.ensure(10).expect("mapped");
        bytes[9] = 7;
        assert_eq!(region.ensure(10).expect("same")[9], 7, "a region that is big enough stays");
        assert!(region.ensure(1 << 20).expect("grown").len() == 1 << 20);
    }
}
