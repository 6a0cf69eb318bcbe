//! `sim-core`: a deterministic simulated kernel for Inter-Process Communication.
//!
//! A run is a scenario (parsed from `.ipc` text), a seed and a list of schedule choices; the same three
//! always produce the same trace. This crate does no I/O: no clock, no files, no threads, no OS
//! randomness. Front ends (the `ipclab` command line, the browser playground) drive it through
//! [`Simulation`] and read plain snapshot types.

pub mod ast;
pub mod diagnostic;
pub mod explain;
pub mod kernel;
pub mod limits;
pub mod linux;
pub mod packed;
pub mod parse;
pub mod pipe;
pub mod print;
pub mod program;
pub mod render;
pub mod sched;
pub mod share;
pub mod sim;
pub mod snapshot;
pub mod trace;

pub use ast::Scenario;
pub use diagnostic::Diagnostic;
pub use limits::Limits;
pub use parse::parse;
pub use print::print;
pub use program::Program;
pub use sched::Policy;
pub use sim::{Checkpoint, Report, RunConfig, SimError, Simulation, StepStatus};
pub use snapshot::Snapshot;
pub use trace::{Event, EventKind, Pid, RunOutcome, Trace};
