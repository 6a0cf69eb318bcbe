//! The garbage collector of Unix-domain sockets in flight (`net/unix/garbage.c`).
//!
//! A socket's open file can travel in a message (`SCM_RIGHTS`) and so be held only by the queue of a
//! socket. If that queue's socket is itself held only by messages in flight, and so on round a cycle,
//! no process can ever receive any of them: reference counting alone would keep them, and everything
//! their messages hold (a pipe's write end, say, whose reader then never sees end of file), forever.
//! Linux finds such groups with a collector that runs on a workqueue after a Unix-domain socket is
//! released (`unix_release_sock` calling `unix_schedule_gc`), when the graph of sockets in flight may
//! have a cycle. It looks at every Unix-domain socket whose open file is held only by messages in flight
//! (`unix_vertex_dead`: its file count equals the number of messages holding it), groups them into
//! strongly connected components (`unix_walk_scc`), and takes a component whose sockets are held by no
//! message outside it as dead: it empties the whole receive queue of each of its sockets, and of the
//! connections not yet accepted on a listening one (`unix_collect_skb`), and frees those messages
//! (`__skb_queue_purge`), which releases what they held and so the sockets themselves.
//!
//! The model collects the same sockets in one go, at the end of a step in which an open file of a
//! Unix-domain socket lost a reference (a close, an exit, a message dropped unread): a socket is dead
//! when every reference to its open file is a message in flight and none of those messages can be
//! received by a process, that is, none of them sits on a socket reachable from outside the dead set.
//! Linux's component walk reaches the same set, in one run or (for dead components that hold each
//! other's messages) over the runs that the releases of the first ones start. Linux runs the collector
//! only when a socket is released, so a group that becomes unreachable through a close that releases
//! no socket waits for the next release anywhere on the machine; the model takes it at once, as a
//! machine where sockets come and go does, and `ipclab check` makes Linux run its collector then.
//!
//! The dead sockets' queues are emptied before any of them is released, so a dead socket's peer (a
//! live socket) sees its peer close with nothing unread: end of file, not `ECONNRESET`.

use super::fd::FileObject;
use super::socket;
use super::Kernel;
use crate::trace::{ObjectRef, RightsMove, Trace};
use crate::Pid;
use std::collections::BTreeMap;

impl Kernel {
    /// Collects the Unix-domain sockets that only unreachable messages in flight hold, if there are
    /// any (see the module's words). Called once at the end of a step in which a socket's open file
    /// lost a reference.
    pub(crate) fn collect_unix_garbage(&mut self, by: Pid, trace: &mut Trace) {
        self.unix_gc_pending = false;
        let dead = dead_sockets(self);
        if dead.is_empty() {
            return;
        }
        // Every dead socket's queue is emptied first (and those of the connections waiting on a dead
        // listener), each entry uncharged from its sender.
        let mut purged: Vec<(u32, u32)> = Vec::new();
        for &id in &dead {
            let mut holders = vec![id];
            holders.extend(self.socket(id).into_iter().flat_map(|socket| socket.pending.iter().copied()));
            for holder in holders {
                if self.footprint.enabled {
                    self.footprint.write(ObjectRef::socket(holder));
                }
                let socket = self.socket_mut(holder);
                let entries = std::mem::take(&mut socket.queue);
                socket.bytes_out += socket.queued as u64;
                socket.queued = 0;
                for entry in entries {
                    socket::uncharge(self, by, entry.from, entry.truesize, trace);
                    purged.extend(entry.rights.into_iter().map(|file| (holder, file)));
                }
            }
        }
        // Then the messages go, and with them the references they held: the dead sockets' own files
        // among them, whose release closes the sockets.
        for (holder, file) in purged {
            socket::record_rights(self, trace, by, holder, -1, file, RightsMove::Collected);
            self.release_file(file, by, trace);
        }
        // The releases above mark the step again; what they free cannot make other sockets garbage
        // (they drop only references the dead held), so nothing is left to look for.
        self.unix_gc_pending = false;
    }
}

/// The Unix-domain sockets no process can reach any more, ascending.
fn dead_sockets(kernel: &mut Kernel) -> Vec<u32> {
    // The open file of each Unix-domain socket that has one, and how many messages hold each file.
    let mut file_of: BTreeMap<u32, u32> = BTreeMap::new();
    for (index, file) in kernel.files.iter().enumerate() {
        if let Some(file) = file {
            if let FileObject::Socket(id) = file.object {
                if kernel.socket(id).is_some_and(|socket| socket.inet.is_none()) {
                    file_of.insert(id, index as u32);
                }
            }
        }
    }
    let mut held: BTreeMap<u32, u32> = BTreeMap::new();
    let mut any = false;
    for socket in kernel.sockets.iter().flatten() {
        for entry in &socket.queue {
            for &file in &entry.rights {
                *held.entry(file).or_default() += 1;
                any = true;
            }
        }
    }
    if !any {
        return Vec::new();
    }
    // What decides the answer: every socket's queue, and the reference counts of the sockets' files.
    if kernel.footprint.enabled {
        for socket in kernel.sockets.iter().flatten() {
            kernel.footprint.read(ObjectRef::socket(socket.id));
        }
        for &file in file_of.values() {
            kernel.footprint.read(ObjectRef::file(file));
        }
    }
    // Candidates: sockets every reference to whose file is a message in flight.
    let candidates: BTreeMap<u32, u32> = file_of
        .iter()
        .filter(|(_, file)| held.get(file).is_some_and(|&count| count == kernel.file(**file).refs))
        .map(|(&id, &file)| (file, id))
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    // Who can receive each queue: its own socket, or for a connection not yet accepted, the listener
    // it waits on (`unix_edge_successor`).
    let mut waits_on: BTreeMap<u32, u32> = BTreeMap::new();
    for socket in kernel.sockets.iter().flatten() {
        for &pending in &socket.pending {
            waits_on.insert(pending, socket.id);
        }
    }
    // Which candidate each candidate's messages sit with: `None` for a socket outside the candidates
    // (a process may receive it, or something may, so the candidate is reachable).
    let mut edges: Vec<(u32, Option<u32>)> = Vec::new();
    for socket in kernel.sockets.iter().flatten() {
        let receiver = waits_on.get(&socket.id).copied().unwrap_or(socket.id);
        let receiver_candidate = file_of.get(&receiver).filter(|file| candidates.contains_key(file)).map(|_| receiver);
        for entry in &socket.queue {
            for file in &entry.rights {
                if let Some(&candidate) = candidates.get(file) {
                    edges.push((candidate, receiver_candidate));
                }
            }
        }
    }
    // Reachable: held by a message outside the candidates, or by one in the queue of a reachable one.
    let mut reachable: Vec<u32> = edges.iter().filter(|(_, holder)| holder.is_none()).map(|(id, _)| *id).collect();
    reachable.sort_unstable();
    reachable.dedup();
    let mut frontier = reachable.clone();
    while let Some(live) = frontier.pop() {
        for &(candidate, holder) in &edges {
            if holder == Some(live) {
                if let Err(at) = reachable.binary_search(&candidate) {
                    reachable.insert(at, candidate);
                    frontier.push(candidate);
                }
            }
        }
    }
    let mut dead: Vec<u32> = candidates.values().copied().filter(|id| reachable.binary_search(id).is_err()).collect();
    dead.sort_unstable();
    dead
}

#[cfg(test)]
mod tests {
    use crate::kernel::run_round_robin as simulation;

    fn trace_of(simulation: &crate::Simulation) -> String {
        crate::present::render::trace_text(simulation.program(), simulation.trace())
    }

    #[test]
    fn a_socket_that_holds_itself_is_freed_with_what_its_messages_held() {
        // Closing s.1 leaves its file held only by its own queue: the collector frees it, and with it the
        // pipe's last write end, so the read sees end of file instead of sleeping for ever.
        let simulation = simulation(
            "process main expect exited 0 {\n  s = socketpair SOCK_DGRAM\n  p = pipe\n  sendmsg s.0 \"w\" {p.w} -> 1\n  \
             sendmsg s.0 \"s\" {s.1} -> 1\n  close p.w\n  close s.0\n  close s.1\n  read p.r 10 -> 0\n}\n",
        );
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        let trace = trace_of(&simulation);
        assert_eq!(
            trace.matches("garbage collector of Unix-domain sockets empties socket 2's queue").count(),
            2,
            "{trace}"
        );
        assert!(simulation.kernel().sockets.iter().all(Option::is_none), "every socket is gone");
    }

    #[test]
    fn no_step_ends_with_the_collector_still_asked_for() {
        // Step by step: the step that collects leaves nothing marked for the next.
        use crate::{Policy, RunConfig, Simulation};
        let scenario = crate::parse(
            "process main {\n  s = socketpair SOCK_DGRAM\n  sendmsg s.0 \"s\" {s.1}\n  close s.0\n  close s.1\n  \
             sched_yield\n}\n",
        )
        .unwrap_or_else(|errors| panic!("{:?}", errors[0]));
        let config = RunConfig { policy: Policy::RoundRobin, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).unwrap();
        let mut collected = false;
        while simulation.outcome().is_none() {
            simulation.step().unwrap();
            assert!(!simulation.kernel().unix_gc_pending, "step {}", simulation.kernel().step);
            collected |= trace_of(&simulation).contains("garbage collector");
        }
        assert!(collected);
    }

    #[test]
    fn a_cycle_of_two_goes_and_the_live_peers_see_end_of_file_not_a_reset() {
        // The far ends hold each other; their queues are emptied before they are released, so their
        // peers see them close with nothing unread.
        let simulation = simulation(
            "process main expect exited 0 {\n  a = socketpair SOCK_STREAM\n  b = socketpair SOCK_STREAM\n  \
             sendmsg a.0 \"b\" {b.1} -> 1\n  sendmsg b.0 \"a\" {a.1} -> 1\n  close a.1\n  close b.1\n  \
             recv a.0 10 -> 0\n  recv b.0 10 -> 0\n}\n",
        );
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
    }

    #[test]
    fn a_socket_in_flight_that_a_process_can_still_receive_is_left_alone() {
        // d.1 is held only by a message, but that message waits on c.1, which main holds: reachable. The
        // collector must not take it, or the last recv would find its peer gone.
        let simulation = simulation(
            "process main expect exited 0 {\n  c = socketpair SOCK_SEQPACKET\n  d = socketpair SOCK_SEQPACKET\n  \
             sendmsg c.0 \"d\" {d.1} -> 1\n  close d.1\n  close c.0\n  r = recvmsg c.1 10 -> \"d\"\n  \
             send d.0 \"here\" -> 4\n  recv r.fd 10 -> \"here\"\n}\n",
        );
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        assert!(!trace_of(&simulation).contains("garbage collector"));
    }

    #[test]
    fn a_chain_hanging_off_a_dead_cycle_goes_too_and_one_hanging_off_a_live_socket_stays() {
        // x is held only by a message on s.1, which holds itself: both go. y is held only by a message
        // on t.1, which main still holds: y stays.
        let simulation = simulation(
            "process main expect exited 0 {\n  s = socketpair SOCK_DGRAM\n  x = socketpair SOCK_DGRAM\n  \
             t = socketpair SOCK_DGRAM\n  y = socketpair SOCK_DGRAM\n  sendmsg s.0 \"x\" {x.0} -> 1\n  \
             sendmsg s.0 \"s\" {s.1} -> 1\n  sendmsg t.0 \"y\" {y.0} -> 1\n  close x.0\n  close y.0\n  \
             close s.1\n  send x.1 \"?\" -> ECONNREFUSED\n  send y.1 \"!\" -> 1\n}\n",
        );
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
    }

    #[test]
    fn a_listener_held_only_by_a_connection_it_has_not_accepted_goes_and_its_client_is_reset() {
        let simulation = simulation(
            "process main expect exited 0 {\n  l = socket SOCK_STREAM\n  bind l \"gc.sock\" -> 0\n  listen l 1 -> 0\n  \
             k = socket SOCK_STREAM\n  connect k \"gc.sock\" -> 0\n  sendmsg k \"l\" {l} -> 1\n  close l\n  \
             recv k 10 -> ECONNRESET\n}\n",
        );
        assert!(simulation.failures().is_empty(), "{:?}", simulation.failures());
        assert!(trace_of(&simulation).contains("garbage collector"));
    }
}
