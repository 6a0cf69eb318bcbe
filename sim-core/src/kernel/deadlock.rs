//! Who waits for whom: the edges a deadlock report shows, and how a run that cannot go on ends.
//!
//! A sleeper on a pipe waits for the processes holding the end that could wake it (a reader for the
//! holders of a write end, a writer for the holders of a read end); a parent in `wait` waits for the
//! children it waits for; a stopped process waits for someone to continue it. A semaphore or a message
//! queue has no owner: a sleeper there waits for the living processes whose history shows they could
//! end its wait (those that raised the semaphore before, or sent to or received from the queue), and
//! the edge says what the object holds now (the semaphore's value and who changed it last).

use super::{Kernel, ProcState};
use crate::trace::{BlockReason, Pid, RunOutcome, WaitDetail, WaitEdge};

impl Kernel {
    /// Who could end the wait of each living process (for deadlock reports).
    pub fn wait_edges(&self) -> Vec<WaitEdge> {
        let mut edges = Vec::new();
        for pid in &self.alive {
            let process = self.process(*pid);
            let mut detail = None;
            let (reason, waits_for) = match &process.state {
                ProcState::Blocked(reason) => {
                    let waits_for = match reason {
                        BlockReason::PipeEmpty { pipe } => self.holders(*pipe, false, true),
                        BlockReason::PipeFull { pipe, .. } => self.holders(*pipe, true, false),
                        BlockReason::FifoNoWriter { .. }
                        | BlockReason::FifoNoReader { .. }
                        | BlockReason::Signal
                        | BlockReason::SignalWait { .. }
                        | BlockReason::Sleep { .. } => Vec::new(),
                        BlockReason::Child { target } => process
                            .children
                            .iter()
                            .copied()
                            .filter(|child| target.is_none_or(|target| target == *child))
                            .filter(|child| self.process(*child).state != ProcState::Zombie)
                            .collect(),
                        BlockReason::ChildInGroup { pgid } => process
                            .children
                            .iter()
                            .copied()
                            .filter(|child| self.process(*child).pgid == *pgid)
                            .filter(|child| self.process(*child).state != ProcState::Zombie)
                            .collect(),
                        BlockReason::SemOp { set, num, .. } if crate::IPC => {
                            detail = super::sem::state_of(self, *set, *num)
                                .map(|(value, last_pid)| WaitDetail::Semaphore { value, last_pid });
                            super::sem::could_end_wait(self, *set, *num)
                        }
                        BlockReason::MsgEmpty { queue, .. } | BlockReason::MsgFull { queue, .. } if crate::IPC => {
                            detail = super::msg::held(self, *queue)
                                .map(|(messages, bytes)| WaitDetail::Queue { messages, bytes });
                            super::msg::could_end_wait(self, reason)
                        }
                        BlockReason::MqEmpty { mq } | BlockReason::MqFull { mq, .. } if crate::IPC => {
                            detail = super::mqueue::held(self, *mq)
                                .map(|(messages, bytes)| WaitDetail::Queue { messages, bytes });
                            super::mqueue::could_end_wait(self, reason)
                        }
                        BlockReason::NamedSem { sem } if crate::IPC => {
                            detail = self
                                .named_sem(*sem)
                                .map(|named| WaitDetail::Semaphore { value: named.value, last_pid: named.last_pid });
                            super::named_sem::could_end_wait(self, *sem)
                        }
                        // A socket's sleeper waits for whoever holds its peer: a reader for a sender (the
                        // peer's holders, and none once the peer is closed, or for an unconnected datagram
                        // socket, which anyone may name); a sender for the readers of the sockets where its
                        // unread buffers wait.
                        BlockReason::SocketEmpty { socket } if crate::IPC => self.socket_peer_holders(*socket),
                        BlockReason::SocketFull { socket, .. } if crate::IPC => self.socket_charge_holders(*socket),
                        // A connect waits for whoever holds the listener and could accept; an accept
                        // for a client nobody can name in advance.
                        BlockReason::SocketBacklog { socket } if crate::IPC => self.socket_holders(*socket),
                        // A datagram sender waits for whoever holds the receiver and could take one.
                        BlockReason::SocketReceiverFull { socket } if crate::IPC => self.socket_holders(*socket),
                        // A futex sleeper waits for whoever maps the word's frame (no one, for a private word).
                        BlockReason::Futex { address, .. } if crate::IPC => {
                            super::mm::futex_could_wake(self, *pid, *address)
                        }
                        // A poller waits for whoever could make one of its entries ready.
                        BlockReason::Poll { .. } if crate::IPC => self.poll_could_end_wait(*pid),
                        // An epoll sleeper waits for whoever could make one of its instance's items ready.
                        BlockReason::Epoll { epoll, .. } if crate::IPC => self.epoll_could_end_wait(*epoll, 1),
                        // Not reached without the IPC mechanisms: nothing sleeps on their objects.
                        BlockReason::SemOp { .. }
                        | BlockReason::MsgEmpty { .. }
                        | BlockReason::MsgFull { .. }
                        | BlockReason::MqEmpty { .. }
                        | BlockReason::MqFull { .. }
                        | BlockReason::NamedSem { .. }
                        | BlockReason::SocketEmpty { .. }
                        | BlockReason::SocketFull { .. }
                        | BlockReason::SocketAccept { .. }
                        | BlockReason::SocketBacklog { .. }
                        | BlockReason::SocketReceiverFull { .. }
                        | BlockReason::Futex { .. }
                        | BlockReason::Poll { .. }
                        | BlockReason::Epoll { .. } => Vec::new(),
                    };
                    (Some(reason.clone()), waits_for)
                }
                ProcState::Stopped => (None, Vec::new()),
                _ => continue,
            };
            edges.push(WaitEdge { pid: *pid, reason, waits_for, detail });
        }
        edges
    }

    /// Living processes holding a descriptor to `pipe` that can read (or write).
    pub fn holders(&self, pipe: u32, readers: bool, writers: bool) -> Vec<Pid> {
        self.alive
            .iter()
            .copied()
            .filter(|pid| {
                self.process(*pid).fds.iter().flatten().any(|entry| {
                    let file = self.file(entry.file);
                    file.object.pipe() == Some(pipe) && ((readers && file.readable) || (writers && file.writable))
                })
            })
            .collect()
    }

    /// Living processes holding a descriptor to the peer of socket `socket`.
    pub fn socket_peer_holders(&self, socket: u32) -> Vec<Pid> {
        let Some(peer) = self.socket(socket).filter(|socket| !socket.peer_dead).map(|socket| socket.peer) else {
            return Vec::new();
        };
        self.socket_holders(peer)
    }

    /// Living processes holding a descriptor to a socket whose queue holds buffers socket `socket` sent.
    pub fn socket_charge_holders(&self, socket: u32) -> Vec<Pid> {
        let mut holders = Vec::new();
        for receiver in self.sockets.iter().flatten() {
            if receiver.queue.iter().any(|entry| entry.from == socket) {
                holders.extend(self.socket_holders(receiver.id));
            }
        }
        holders.sort_unstable();
        holders.dedup();
        holders
    }

    /// Living processes holding a descriptor to socket `socket`.
    pub fn socket_holders(&self, socket: u32) -> Vec<Pid> {
        let peer = socket;
        self.alive
            .iter()
            .copied()
            .filter(|pid| {
                self.process(*pid)
                    .fds
                    .iter()
                    .flatten()
                    .any(|entry| self.file(entry.file).object == super::fd::FileObject::Socket(peer))
            })
            .collect()
    }

    /// The outcome if the run cannot go on, given the runnable set is empty.
    pub fn stuck_outcome(&self) -> RunOutcome {
        if self.all_exited() {
            RunOutcome::AllExited
        } else {
            RunOutcome::Deadlock { waiting: self.wait_edges() }
        }
    }
}
