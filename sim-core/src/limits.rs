//! Every bound the simulator enforces, in one place (a scenario file is untrusted input).
//!
//! Reaching a limit is never a hang or a panic: the parser reports a located error, and the kernel ends
//! the run with [`crate::RunOutcome::LimitReached`] naming the limit.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest scenario text accepted, in bytes.
    pub max_source_bytes: u32,
    /// Most statements (calls, forks, repeats) in one scenario.
    pub max_statements: u32,
    /// Deepest nesting of blocks (`fork`, `repeat`, `if`, `while`).
    pub max_nesting_depth: u32,
    /// Largest `repeat N`.
    pub max_repeat_count: u32,
    /// Largest payload of one `write` (and largest `read` count), in bytes.
    pub max_io_bytes: u32,
    /// Longest path of `mkfifo`/`open`/`unlink`, in bytes (Linux's `PATH_MAX` is 4096; scenarios need far less).
    pub max_path_bytes: u32,
    /// Most processes alive at once, `init` included. A fork past it ends the run.
    pub max_processes: u32,
    /// Steps before the run ends with the step-limit outcome, unless the caller asks for more.
    pub default_max_steps: u64,
    /// The most steps any caller may ask for.
    pub max_steps_ceiling: u64,
    /// Most bytes held in all pipe buffers together.
    pub max_bytes_in_flight: u64,
    /// Most bytes that `read` calls may return in one run (the trace keeps them all).
    pub max_trace_data_bytes: u64,
    /// Most user-space operations (assignments, conditions, jumps) a process may run between two
    /// system calls: a loop that never calls anything ends the run instead of hanging it.
    pub max_user_ops_per_step: u32,
    /// Most signal handlers running inside one another in one process (a handler interrupted by a
    /// signal whose handler is interrupted ...): `SA_NODEFER` and a `raise` in the handler would
    /// otherwise recurse until the stack overflows.
    pub max_signal_frames: u32,
    /// Most bytes a run may hold: its pipes' pages (and pages it let go of while a copy of the kernel
    /// still held them), the events it keeps (counted at [`crate::trace::EVENT_BYTES`] each, or their
    /// packed bytes), the bytes its reads returned, its list of choices, and what the caller keeps for
    /// it (the playground's checkpoints). Counted the same way on every platform, so the step at which
    /// a run reaches it is part of the run. Checked every 64 steps and before every read.
    #[serde(default = "default_max_memory_bytes")]
    pub max_memory_bytes: u64,
    /// Most IPC objects (System V message queues and semaphore sets, POSIX message queues and named
    /// semaphores) at once. Linux allows far more (32,000 queues, 32,000 sets); a scenario that makes
    /// this many is a loop gone wrong, and every object holds memory.
    #[serde(default = "default_max_ipc_objects")]
    pub max_ipc_objects: u32,
    /// Most System V semaphores in all sets together (Linux's `SEMMNS` is 1,024,000,000).
    #[serde(default = "default_max_semaphores")]
    pub max_semaphores: u32,
    /// Most bytes of page frames in use at once: shared memory segments and mappings together (Linux
    /// allows as much as the machine has; a scenario needs a few pages, and every page written holds
    /// 4 KiB). A call that would pass it ends the run.
    #[serde(default = "default_max_mapped_bytes")]
    pub max_mapped_bytes: u64,
    /// The IPC limits a process sees in a fresh IPC namespace, which are Linux's tunables rather than
    /// the simulator's own bounds.
    #[serde(default)]
    pub ipc: IpcLimits,
}

/// The limits of System V and POSIX IPC that Linux keeps per IPC namespace (`ipcs -l`,
/// `/proc/sys/kernel/{msgmax,msgmnb,msgmni,sem}`, `/proc/sys/fs/mqueue/*`), and the one resource limit
/// on POSIX queues. The defaults are Linux's, as `ipc/namespace.c`, `ipc/msg.c` (`msg_init_ns`),
/// `ipc/sem.c` (`sem_init_ns`) and `ipc/mqueue.c` (`mq_init_ns`) set them for a new namespace, so that
/// `ipclab check`, which runs each scenario in a fresh IPC namespace, compares like with like.
/// `SEMVMX` and `SEMAEM` (32,767) are not tunable in Linux and stay constants in
/// [`crate::linux::sem`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpcLimits {
    /// `MSGMAX`: the largest System V message, in bytes (`msgsnd` beyond it: `EINVAL`).
    pub msgmax_bytes: u32,
    /// `MSGMNB`: a new queue's `msg_qbytes`, and the most an unprivileged `IPC_SET` may ask for.
    pub msgmnb_bytes: u32,
    /// `MSGMNI`: the most System V message queues (`msgget` beyond it: `ENOSPC`).
    pub msgmni: u32,
    /// `SEMMSL`: the most semaphores in one set (`semget` beyond it: `EINVAL`).
    pub semmsl: u32,
    /// `SEMMNS`: the most semaphores in all sets (`semget` beyond it: `ENOSPC`).
    pub semmns: u32,
    /// `SEMOPM`: the most operations in one `semop` (beyond it: `E2BIG`).
    pub semopm: u32,
    /// `SEMMNI`: the most semaphore sets (`semget` beyond it: `ENOSPC`).
    pub semmni: u32,
    /// `fs.mqueue.queues_max`: the most POSIX queues (`mq_open` beyond it: `ENOSPC`).
    pub mq_queues_max: u32,
    /// `fs.mqueue.msg_max` and `msgsize_max`: the largest `mq_maxmsg` and `mq_msgsize` an unprivileged
    /// process may ask for (`EINVAL` beyond them).
    pub mq_msg_max: u32,
    pub mq_msgsize_max: u32,
    /// `fs.mqueue.msg_default` and `msgsize_default`: a queue made without attributes.
    pub mq_msg_default: u32,
    pub mq_msgsize_default: u32,
    /// `RLIMIT_MSGQUEUE`'s default: the bytes all of a user's POSIX queues may pin (`EMFILE` beyond).
    pub mq_bytes_per_user: u32,
}

impl IpcLimits {
    pub const LINUX: IpcLimits = IpcLimits {
        msgmax_bytes: crate::linux::msg::MSGMAX as u32,
        msgmnb_bytes: crate::linux::msg::MSGMNB as u32,
        msgmni: crate::linux::msg::MSGMNI,
        semmsl: crate::linux::sem::SEMMSL as u32,
        semmns: crate::linux::sem::SEMMNS as u32,
        semopm: crate::linux::sem::SEMOPM as u32,
        semmni: crate::linux::sem::SEMMNI,
        mq_queues_max: crate::linux::mqueue::QUEUES_MAX,
        mq_msg_max: crate::linux::mqueue::MSG_MAX as u32,
        mq_msgsize_max: crate::linux::mqueue::MSGSIZE_MAX as u32,
        mq_msg_default: crate::linux::mqueue::MSG_DEFAULT as u32,
        mq_msgsize_default: crate::linux::mqueue::MSGSIZE_DEFAULT as u32,
        mq_bytes_per_user: crate::linux::mqueue::RLIMIT_MSGQUEUE as u32,
    };
}

impl Default for IpcLimits {
    fn default() -> IpcLimits {
        IpcLimits::LINUX
    }
}

fn default_max_memory_bytes() -> u64 {
    Limits::DEFAULT.max_memory_bytes
}

fn default_max_ipc_objects() -> u32 {
    Limits::DEFAULT.max_ipc_objects
}

fn default_max_mapped_bytes() -> u64 {
    Limits::DEFAULT.max_mapped_bytes
}

fn default_max_semaphores() -> u32 {
    Limits::DEFAULT.max_semaphores
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_source_bytes: 1 << 20,
        max_statements: 10_000,
        max_nesting_depth: 32,
        max_repeat_count: 10_000_000,
        max_io_bytes: 16 << 20,
        max_path_bytes: 255,
        max_processes: 64,
        default_max_steps: 100_000,
        max_steps_ceiling: 100_000_000,
        max_bytes_in_flight: 64 << 20,
        max_trace_data_bytes: 1 << 30,
        max_user_ops_per_step: 1_000_000,
        max_memory_bytes: 512 << 20,
        max_ipc_objects: 1_024,
        max_semaphores: 65_536,
        max_mapped_bytes: 64 << 20,
        ipc: IpcLimits::LINUX,
        max_signal_frames: 64,
    };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}
