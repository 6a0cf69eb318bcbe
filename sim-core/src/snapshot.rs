//! Plain pictures of kernel state for user interfaces: no kernel internals, only data.
//!
//! The playground and the command line read [`Snapshot`]s; they never reach into [`crate::kernel`]. Every
//! field is a fixed-width integer, a string or a list of those, so a snapshot serializes the same
//! everywhere.

use crate::ast::{ChildStatus, Signal, Span};
use crate::kernel::{base_name, Kernel, ProcState};
use crate::program::OpKind;
use crate::render::{call_text, Names};
use crate::trace::{BlockReason, Pid, RunOutcome};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub step: u64,
    pub processes: Vec<ProcessView>,
    pub pipes: Vec<PipeView>,
    pub fifos: Vec<FifoView>,
    /// Processes that may take the next step.
    pub runnable: Vec<Pid>,
    /// The process that took the last step.
    pub last_ran: Option<Pid>,
    pub outcome: Option<RunOutcome>,
    /// Bytes copied from processes into kernel buffers, and back out, so far.
    pub copied_to_kernel: u64,
    pub copied_to_user: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProcessStateView {
    Runnable,
    Blocked { reason: BlockReason, text: String },
    Stopped,
    Zombie { status: ChildStatus },
    Reaped { status: ChildStatus },
}

impl ProcessStateView {
    /// One word for the state, as lanes show it.
    pub fn word(&self) -> &'static str {
        match self {
            ProcessStateView::Runnable => "runnable",
            ProcessStateView::Blocked { .. } => "blocked",
            ProcessStateView::Stopped => "stopped",
            ProcessStateView::Zombie { .. } => "zombie",
            ProcessStateView::Reaped { .. } => "reaped",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessView {
    pub pid: Pid,
    pub ppid: Pid,
    pub name: String,
    /// The name as written in the scenario (without `#2` for a second child of the same `fork`).
    pub base_name: String,
    pub state: ProcessStateView,
    pub fds: Vec<FdView>,
    /// The operation it runs next (index into the program), where it is written, and how it reads.
    pub next_op: Option<u32>,
    pub next_span: Option<Span>,
    pub next_call: Option<String>,
    pub pending_signals: Vec<Signal>,
    pub ignored_signals: Vec<Signal>,
    pub children: Vec<Pid>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FdView {
    pub fd: i32,
    /// Scenario names currently holding this number in this process (`p.r`, `stdin`, ...).
    pub names: Vec<String>,
    /// What it refers to, in words: `pipe 1 (read end)`, `/dev/null`, `FIFO /tmp/f (write end)`.
    pub object: String,
    pub pipe: Option<u32>,
    pub readable: bool,
    pub writable: bool,
    pub nonblock: bool,
    pub cloexec: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipeView {
    pub id: u32,
    pub fifo_path: Option<String>,
    pub used_bytes: u32,
    pub capacity_bytes: u32,
    pub slots_used: u32,
    pub max_slots: u32,
    /// Unread bytes in each slot in use, oldest first.
    pub slot_bytes: Vec<u32>,
    /// The first unread bytes (at most 64).
    pub preview: Vec<u8>,
    /// Open read and write ends (open file descriptions), and who holds them as `(pid, fd)`.
    pub readers: u32,
    pub writers: u32,
    pub read_holders: Vec<(Pid, i32)>,
    pub write_holders: Vec<(Pid, i32)>,
    pub read_waiters: Vec<Pid>,
    pub write_waiters: Vec<Pid>,
    pub open_waiters: Vec<Pid>,
    pub bytes_written: u64,
    pub bytes_read: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FifoView {
    pub path: String,
    /// The pipe behind it while somebody has it open.
    pub pipe: Option<u32>,
}

fn signals_in(mask: u64) -> Vec<Signal> {
    (1..=31u8).map(Signal).filter(|signal| mask & signal.mask_bit() != 0).collect()
}

impl Snapshot {
    pub fn of(kernel: &Kernel, runnable: &[Pid], last_ran: Option<Pid>, outcome: Option<&RunOutcome>) -> Snapshot {
        let program = &kernel.program;
        let names = Names { kernel };
        let mut processes = Vec::new();
        for process in kernel.procs.iter().skip(1) {
            let state = match (&process.state, process.status) {
                (ProcState::Runnable, _) => ProcessStateView::Runnable,
                (ProcState::Blocked(reason), _) => {
                    let text = crate::render::reason_text(program, reason);
                    ProcessStateView::Blocked { reason: reason.clone(), text }
                }
                (ProcState::Stopped, _) => ProcessStateView::Stopped,
                (ProcState::Zombie, Some(status)) => ProcessStateView::Zombie { status },
                (ProcState::Reaped, Some(status)) => ProcessStateView::Reaped { status },
                (ProcState::Zombie | ProcState::Reaped, None) => ProcessStateView::Runnable,
            };
            let alive = matches!(process.state, ProcState::Runnable | ProcState::Blocked(_) | ProcState::Stopped);
            let next_op = if alive { kernel.next_op(process.pid) } else { None };
            let next_call = if alive {
                Some(match next_op {
                    Some(op) => match &program.ops[op as usize].kind {
                        OpKind::Fork { name, .. } => format!("fork() -> {name}"),
                        OpKind::Call(call) => {
                            let fd = match call {
                                crate::program::CallOp::Read { fd, .. }
                                | crate::program::CallOp::Write { fd, .. }
                                | crate::program::CallOp::Close { fd }
                                | crate::program::CallOp::Dup { fd, .. }
                                | crate::program::CallOp::Fcntl { fd, .. } => kernel.fd_operand(process.pid, *fd),
                                crate::program::CallOp::Dup2 { old, .. } => kernel.fd_operand(process.pid, *old),
                                _ => -1,
                            };
                            // The second operand as the trace would show it: dup2's target, kill's and
                            // waitpid's pid.
                            let arg = match call {
                                crate::program::CallOp::Dup2 { new, .. } => kernel.fd_operand(process.pid, *new) as i64,
                                crate::program::CallOp::Kill { target, .. }
                                | crate::program::CallOp::Waitpid { target, .. } => {
                                    kernel.proc_operand(process.pid, *target)
                                }
                                crate::program::CallOp::Read { count, .. } => *count as i64,
                                crate::program::CallOp::Write { data, .. } => data.len() as i64,
                                _ => -1,
                            };
                            call_text(program, &names, op, fd, arg)
                        }
                        _ => String::new(),
                    },
                    None => "exit(0) (end of its code)".to_string(),
                })
            } else {
                None
            };
            let mut fds = Vec::new();
            for (number, entry) in process.fds.iter().enumerate() {
                let Some(entry) = entry else { continue };
                let file = kernel.files[entry.file as usize].as_ref().expect("descriptor on a live file");
                let mut fd_names: Vec<String> = program
                    .slots
                    .iter()
                    .enumerate()
                    .filter(|(slot, _)| !program.process_slots[*slot] && process.vars[*slot] == number as i32)
                    .map(|(_, name)| name.to_string())
                    .collect();
                match number {
                    0 => fd_names.push("stdin".to_string()),
                    1 => fd_names.push("stdout".to_string()),
                    2 => fd_names.push("stderr".to_string()),
                    _ => {}
                }
                let end = match (file.readable, file.writable) {
                    (true, true) => "read and write end",
                    (true, false) => "read end",
                    _ => "write end",
                };
                let object = match file.pipe.and_then(|id| kernel.pipe(id)) {
                    Some(pipe) => match &pipe.fifo_path {
                        Some(path) => format!("FIFO {path} (pipe {}, {end})", pipe.id),
                        None => format!("pipe {} ({end})", pipe.id),
                    },
                    None => "/dev/null".to_string(),
                };
                fds.push(FdView {
                    fd: number as i32,
                    names: fd_names,
                    object,
                    pipe: file.pipe,
                    readable: file.readable,
                    writable: file.writable,
                    nonblock: file.nonblock,
                    cloexec: entry.cloexec,
                });
            }
            processes.push(ProcessView {
                pid: process.pid,
                ppid: process.ppid,
                name: process.name.to_string(),
                base_name: base_name(&process.name).to_string(),
                state,
                fds,
                next_op,
                next_span: next_op.map(|op| program.ops[op as usize].span),
                next_call,
                pending_signals: signals_in(process.pending_signals),
                ignored_signals: signals_in(process.ignored_signals),
                children: process.children.clone(),
            });
        }
        let mut pipes = Vec::new();
        for pipe in kernel.pipes.iter().flatten() {
            let holders = |readable: bool| -> Vec<(Pid, i32)> {
                let mut found = Vec::new();
                for pid in &kernel.alive {
                    for (number, entry) in kernel.process(*pid).fds.iter().enumerate() {
                        let Some(entry) = entry else { continue };
                        let Some(file) = kernel.files[entry.file as usize].as_ref() else { continue };
                        if file.pipe == Some(pipe.id) && if readable { file.readable } else { file.writable } {
                            found.push((*pid, number as i32));
                        }
                    }
                }
                found
            };
            pipes.push(PipeView {
                id: pipe.id,
                fifo_path: pipe.fifo_path.as_ref().map(|path| path.to_string()),
                used_bytes: pipe.buffer.len_bytes(),
                capacity_bytes: pipe.buffer.capacity_bytes(),
                slots_used: pipe.buffer.slots_used(),
                max_slots: pipe.buffer.max_slots(),
                slot_bytes: pipe.buffer.slot_lengths(),
                preview: pipe.buffer.contents().take(64).collect(),
                readers: pipe.readers,
                writers: pipe.writers,
                read_holders: holders(true),
                write_holders: holders(false),
                read_waiters: pipe.read_waiters.clone(),
                write_waiters: pipe.write_waiters.clone(),
                open_waiters: pipe.open_waiters.clone(),
                bytes_written: pipe.bytes_written,
                bytes_read: pipe.bytes_read,
            });
        }
        let fifos =
            kernel.fifos.iter().map(|(path, node)| FifoView { path: path.to_string(), pipe: node.pipe }).collect();
        Snapshot {
            step: kernel.step,
            processes,
            pipes,
            fifos,
            runnable: runnable.to_vec(),
            last_ran,
            outcome: outcome.cloned(),
            copied_to_kernel: kernel.copied_to_kernel,
            copied_to_user: kernel.copied_to_user,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Policy, RunConfig, Simulation};

    #[test]
    fn the_next_call_shows_the_values_its_operands_hold() {
        let scenario = crate::parse("process a {\n fork c {\n  pause\n }\n kill c SIGKILL\n waitpid c\n}\n").unwrap();
        let config = RunConfig { policy: Policy::RoundRobin, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).unwrap();
        simulation.step().unwrap();
        let snapshot = simulation.snapshot();
        assert_eq!(snapshot.processes[0].next_call.as_deref(), Some("kill(c=3, SIGKILL)"));
        simulation.step().unwrap();
        simulation.step().unwrap();
        let snapshot = simulation.snapshot();
        assert_eq!(snapshot.processes[0].next_call.as_deref(), Some("waitpid(c=3, &status, 0)"));
        assert_eq!(snapshot.processes[1].state.word(), "zombie");
    }
}
