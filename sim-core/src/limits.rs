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
        max_signal_frames: 64,
    };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}
