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

/// The scenario library's files (name and text, by name), for tests: they may read the repository,
/// while the library code never does I/O.
#[cfg(test)]
pub(crate) fn test_library() -> Vec<(String, String)> {
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");
    let mut found: Vec<(String, String)> = std::fs::read_dir(directory)
        .expect("the scenario library exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "ipc"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable scenario");
            (path.file_name().unwrap().to_string_lossy().into_owned(), text)
        })
        .collect();
    found.sort();
    assert!(found.len() >= 40, "the library is there ({} in {directory})", found.len());
    found
}
