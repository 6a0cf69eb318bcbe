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
    /// Most bytes a run may hold: its pipes' pages (and pages it let go of while a copy of the kernel
    /// still held them), the events it keeps (counted at [`crate::trace::EVENT_BYTES`] each, or their
    /// packed bytes), the bytes its reads returned, its list of choices, and what the caller keeps for
    /// it (the playground's checkpoints). Counted the same way on every platform, so the step at which
    /// a run reaches it is part of the run. Checked every 64 steps and before every read.
    pub max_memory_bytes: u64,
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
    };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}
