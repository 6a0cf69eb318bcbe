//! `sim-core`: a deterministic simulated kernel for Inter-Process Communication.
//!
//! A run is a scenario (parsed from `.ipc` text), a seed and a list of schedule choices; the same three
//! always produce the same trace. This crate does no I/O: no clock, no files, no threads, no OS
//! randomness. Front ends (the `ipclab` command line, the browser playground) drive it through
//! [`Simulation`] and read plain snapshot types.
//!
//! The parts: [`lang`] (the scenario language and the table of system calls), [`linux`] (Linux's
//! names and numbers), [`kernel`] (one module per kind of kernel object), [`user`] (what a process
//! does between calls), [`trace`] (events, their encoding and hash), [`present`] (words and pictures),
//! [`expect`] (the scenario's expectations), [`sched`] and [`sim`] (the driver), [`share`] (links).

pub mod bench;
mod bytes;
pub mod diagnostic;
pub mod expect;
pub mod explore;
pub mod kernel;
pub mod lang;
pub mod limits;
pub mod linux;
pub mod present;
pub mod sched;
pub mod session;
pub mod share;
pub mod sim;
pub mod trace;
pub mod user;

/// Whether this build has the System V and POSIX IPC mechanisms (the `ipc` feature, on by default).
/// Without them the parser does not know their calls ([`lang::needs_ipc`] says whether a text uses
/// them), and the code that runs, shows and explains them is behind `if IPC` tests, which the
/// compiler removes with everything only they reach.
pub const IPC: bool = cfg!(feature = "ipc");

pub use diagnostic::Diagnostic;
pub use lang::ast::{self, Scenario};
pub use lang::{parse, print};
pub use limits::{IpcLimits, Limits};
pub use present::snapshot::Snapshot;
pub use sched::Policy;
pub use sim::{Checkpoint, Report, RunConfig, SimError, Simulation, StepStatus};
pub use trace::{Event, EventKind, Pid, RunOutcome, Trace};
