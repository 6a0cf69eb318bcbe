//! Kernel invariants, checked after every step in tests and debug builds.
//!
//! An error here is a bug in the model, never something a scenario can cause: descriptor reference
//! counts, the parent/child links, the list of runnable processes, the process limit, and each
//! mechanism's own invariants (pipe ends and byte conservation, wait-queue membership, message queues'
//! byte and message counts, semaphore values within 0 and `SEMVMX` and their undo adjustments' sums,
//! pending sets and their queues, timers).

use super::fifo::Fifos;
use super::mqueue::Mqueues;
use super::msg::MsgQueues;
use super::named_sem::NamedSems;
use super::pipe::Pipes;
use super::sem::SemSets;
use super::signal::Signals;
use super::time::Clock;
use super::{Kernel, Mechanism, ProcState, Scratch};
use crate::trace::Pid;

impl Kernel {
    /// Whether the operation `process` rests on faults as soon as it runs (tried on a copy of its
    /// variables).
    fn faults_where_it_rests(&self, process: &super::Process) -> bool {
        let (mut pc, mut vars) = (process.pc, process.vars.clone());
        let settled = crate::user::settle(&self.program.ops, &mut pc, process.end_pc, &mut vars, process.pid, 1);
        matches!(settled, crate::user::Settled::Fault { op, .. } if op == process.pc)
    }

    pub fn check_invariants(&self) -> Result<(), String> {
        let mut refs = vec![0u32; self.files.len()];
        for process in &self.procs {
            for entry in process.fds.iter().flatten() {
                if self.files.get(entry.file as usize).is_none_or(Option::is_none) {
                    return Err(format!("pid {} has a descriptor on closed file {}", process.pid, entry.file));
                }
                refs[entry.file as usize] += 1;
            }
            if let Scratch::FifoOpen { file, .. } = process.call.scratch {
                refs[file as usize] += 1;
            }
            if matches!(process.state, ProcState::Zombie | ProcState::Reaped) && !process.fds.is_empty() {
                return Err(format!("dead pid {} still has descriptors", process.pid));
            }
        }
        // A descriptor passed over a socket holds its open file while its message is in flight.
        for socket in self.sockets.iter().flatten() {
            for file in socket.queue.iter().flat_map(|entry| entry.rights.iter()) {
                if self.files.get(*file as usize).is_none_or(Option::is_none) {
                    return Err(format!("a message on socket {} carries closed file {file}", socket.id));
                }
                refs[*file as usize] += 1;
            }
        }
        if !self.received_rights.is_empty() {
            return Err("descriptors taken from a message were neither installed nor closed".to_string());
        }
        for (index, file) in self.files.iter().enumerate() {
            let Some(file) = file else { continue };
            if file.refs != refs[index] {
                return Err(format!("file {index} counts {} references but {} exist", file.refs, refs[index]));
            }
        }
        Pipes::check(self)?;
        Fifos::check(self)?;
        MsgQueues::check(self)?;
        SemSets::check(self)?;
        Mqueues::check(self)?;
        NamedSems::check(self)?;
        super::shm::ShmSegments::check(self)?;
        super::posix_shm::ShmObjects::check(self)?;
        super::mm::Memory::check(self)?;
        super::socket::Sockets::check(self)?;
        super::poll::Polls::check(self)?;
        if self.ipc.object_count() > self.limits.max_ipc_objects as usize {
            return Err("more IPC objects exist than the limit allows".to_string());
        }
        Signals::check(self)?;
        Clock::check(self)?;
        for pid in &self.alive {
            let process = self.process(*pid);
            if process.state == ProcState::Reaped {
                return Err(format!("reaped pid {pid} is listed as alive"));
            }
            if process.state != ProcState::Zombie && process.status.is_some() {
                return Err(format!("pid {pid} has an exit status but is not dead"));
            }
            if !self.process(process.ppid).children.contains(pid) {
                return Err(format!("pid {pid} is missing from its parent's children"));
            }
            if process.is_alive() && process.pc > process.end_pc {
                return Err(format!("pid {pid} is past the end of its code"));
            }
            // A process rests on its next call, except one that has a signal to take first (its code goes
            // on after the handler), that stopped as a call returned (its code goes on once it runs), or a
            // fork child whose code faults before its first call (it faults at its own first step).
            if process.is_alive()
                && process.pc < process.end_pc
                && !self.program.ops[process.pc as usize].kind.takes_step()
                && process.sig.deliverable() == 0
                && process.state != ProcState::Stopped
                && !self.faults_where_it_rests(process)
            {
                return Err(format!("pid {pid} rests on an operation that takes no step"));
            }
        }
        if self.alive.len() as u32 + 1 > self.limits.max_processes {
            return Err("more processes alive than the limit allows".to_string());
        }
        let runnable: Vec<Pid> =
            self.alive.iter().copied().filter(|pid| self.process(*pid).state == ProcState::Runnable).collect();
        if runnable != self.runnable() {
            return Err(format!(
                "the runnable list says {:?} but the runnable processes are {runnable:?}",
                self.runnable()
            ));
        }
        Ok(())
    }
}
