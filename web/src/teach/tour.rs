//! Guided tours: a library scenario walked through stop by stop, with a few sentences at each stop.
//!
//! There is a tour for each mechanism the library teaches (pipes, named pipes, signals, message
//! queues, semaphores, sockets, and `poll` and `epoll` over sockets). A stop is tied to a line of the scenario and the process that runs it, never
//! to a step number, so a tour keeps pointing at the right moment when the scheduler or the kernel
//! model changes what comes before, and when the visitor adds comments to the text;
//! [`facts::step_running_line`] finds the step.

use crate::engine::Engine;
use crate::facts;

/// Where a stop is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// Before the first step.
    Start,
    /// The `occurrence`-th step (from 1) at which `process` runs the call on `line`.
    Line { process: &'static str, line: u32, occurrence: u32 },
    /// The last step of the run.
    End,
}

/// One stop of a tour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stop {
    pub at: At,
    pub text: &'static str,
}

/// One tour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tour {
    pub id: &'static str,
    /// The mechanism it covers.
    pub section: &'static str,
    pub title: &'static str,
    /// The library scenario it walks through (its file stem).
    pub scenario: &'static str,
    pub stops: &'static [Stop],
}

const fn line(process: &'static str, line: u32, text: &'static str) -> Stop {
    Stop { at: At::Line { process, line, occurrence: 1 }, text }
}

const fn again(process: &'static str, line: u32, occurrence: u32, text: &'static str) -> Stop {
    Stop { at: At::Line { process, line, occurrence }, text }
}

/// Every tour, in teaching order.
pub const TOURS: &[Tour] = &[
    Tour {
        id: "pipes",
        section: "Pipes",
        title: "A pipe, from pipe() to end of file",
        scenario: "pipe-parent-child",
        stops: &[
            Stop {
                at: At::Start,
                text: "One process exists so far. Its descriptors 0, 1 and 2 point at /dev/null; nothing connects it \
                       to anyone yet. Press Next to follow the bytes.",
            },
            line(
                "parent",
                5,
                "pipe() makes a buffer inside the kernel and gives the caller two descriptors for it: the lowest \
                 free numbers, 3 for the read end and 4 for the write end. The bytes will live in kernel memory, \
                 in neither process.",
            ),
            line(
                "parent",
                6,
                "fork() makes a copy of the parent. The child's descriptor table is new, but its entries point at \
                 the same two pipe ends, so each end now has two holders. Look at the pipe card.",
            ),
            line(
                "child",
                7,
                "The child only reads, so it drops its copy of the write end. Keep this line in mind: the end of \
                 file at the end of the tour depends on it.",
            ),
            again(
                "child",
                8,
                1,
                "The pipe is empty, and a write end is still open somewhere, so more data may come. read() cannot \
                 answer yet: the kernel puts the child to sleep in the pipe's queue of readers.",
            ),
            line(
                "parent",
                12,
                "The parent's 13 bytes are copied from its memory into the pipe's first page, and data arriving \
                 wakes the reader that was asleep.",
            ),
            again(
                "child",
                8,
                2,
                "Woken, the child tries its read again. This time the kernel copies the 13 bytes out into the \
                 child's memory: a pipe costs two copies, one in and one out.",
            ),
            line(
                "parent",
                13,
                "The parent closes its write end, the last one open anywhere. Nobody can ever write into this pipe \
                 again.",
            ),
            line(
                "child",
                9,
                "So this read returns 0 at once instead of sleeping. Zero bytes is how a pipe says end of file.",
            ),
            Stop {
                at: At::End,
                text: "The child has exited and the parent's wait collected its status, so no zombie is left behind. \
                       The verdict compares the run with every expectation written in the scenario.",
            },
        ],
    },
    Tour {
        id: "fifos",
        section: "Named pipes (FIFOs)",
        title: "A FIFO: a pipe with a name",
        scenario: "fifo-unrelated",
        stops: &[
            Stop {
                at: At::Start,
                text: "Two processes that are not related: neither forked the other, so they share no descriptor. \
                       The only thing they can share is a name in the file system.",
            },
            line(
                "reader",
                5,
                "mkfifo puts a name in the file system. No buffer exists yet: the pipe behind the name is made when \
                 somebody opens it.",
            ),
            again(
                "writer",
                14,
                1,
                "The writer opens the same name for writing. Nobody has it open for reading yet, so the writer \
                 sleeps inside open(), before it has a descriptor at all. (Had it come before mkfifo, open would \
                 have failed with ENOENT, and its `retry ENOENT` would have tried again.)",
            ),
            line(
                "reader",
                6,
                "The reader opens the FIFO for reading. Both sides are now present, so the reader's open returns at \
                 once, and the kernel wakes the writer that sleeps in its open.",
            ),
            again(
                "writer",
                14,
                2,
                "Woken, the writer tries its open again, and this time it returns a descriptor. The two opens share \
                 one pipe: look at the pipe card and its two holders.",
            ),
            line(
                "writer",
                15,
                "From here on it is an ordinary pipe: the writer's bytes are copied into the kernel buffer, and that \
                 wakes the reader, which went to sleep in read() on the empty pipe.",
            ),
            again("reader", 7, 2, "The reader gets the bytes, exactly as a child reads from its parent's pipe."),
            line(
                "reader",
                8,
                "The writer has closed its end, so the next read returns 0: end of file, as with any pipe.",
            ),
            line(
                "reader",
                10,
                "unlink removes the name. The FIFO was only ever a meeting point; the data never touched a disk.",
            ),
            Stop { at: At::End, text: "Both processes have exited, each with the status its expectation names." },
        ],
    },
    Tour {
        id: "signals",
        section: "Signals",
        title: "Stop, continue, kill",
        scenario: "stop-continue-kill",
        stops: &[
            Stop {
                at: At::Start,
                text: "A parent that is about to start a worker and then control it from outside with signals.",
            },
            line(
                "parent",
                5,
                "The worker is forked. Its whole program is one pause(): it will only ever react to signals.",
            ),
            line(
                "worker",
                6,
                "pause() puts the worker to sleep until a signal arrives. It is blocked, not stopped: watch the \
                 difference in a moment.",
            ),
            line(
                "parent",
                8,
                "SIGSTOP cannot be caught or ignored. The signal is now pending for the worker, and it wakes the \
                 worker from pause(): a process acts on a signal only when it runs, and at its next step the worker \
                 stops. Its parent then gets a SIGCHLD saying so.",
            ),
            line(
                "parent",
                9,
                "With WUNTRACED, waitpid reports a child that stopped, not only one that ended. The worker is still \
                 alive.",
            ),
            line(
                "parent",
                10,
                "SIGCONT lets a stopped process go on. The worker goes back to sleeping in pause(), where it was.",
            ),
            line("parent", 11, "With WCONTINUED, waitpid reports that the child was continued."),
            line(
                "parent",
                12,
                "SIGKILL cannot be caught, blocked or ignored: it wakes the worker, which dies as soon as it runs, \
                 and stays a zombie until its parent collects it.",
            ),
            line("parent", 13, "The parent's waitpid collects the status: killed by SIGKILL. The zombie is gone."),
            Stop { at: At::End, text: "Every process has ended the way the scenario says it should." },
        ],
    },
    Tour {
        id: "handlers",
        section: "Signal handlers",
        title: "A handler that reaps every child",
        scenario: "sigchld-handler-reaps",
        stops: &[
            Stop {
                at: At::Start,
                text: "A parent that wants to hear about its children from a SIGCHLD handler, without ever missing \
                       one. Watch its blocked and pending signals in its lane.",
            },
            line(
                "parent",
                14,
                "sigaction installs the handler reap_all for SIGCHLD. Nothing runs yet: a handler is code that the \
                 kernel will make the process run when the signal is delivered.",
            ),
            line(
                "parent",
                15,
                "The parent blocks SIGCHLD before it forks. A SIGCHLD that comes now stays pending instead of \
                 being delivered, so none can arrive at a moment the parent is not ready for.",
            ),
            line(
                "first",
                17,
                "The first child exits. Its SIGCHLD is blocked, so it waits in the parent's pending set.",
            ),
            line(
                "second",
                20,
                "The second child exits too. SIGCHLD is already pending, and a standard signal is pending once at \
                 most: this second one is lost. One signal now stands for two children.",
            ),
            line(
                "parent",
                23,
                "sigsuspend unblocks SIGCHLD and sleeps, in one step. The pending SIGCHLD is delivered at once: the \
                 call is interrupted with EINTR, and the handler runs on top of it.",
            ),
            again("parent", 5, 1, "Inside the handler: waitpid with WNOHANG reaps one zombie without ever sleeping..."),
            again(
                "parent",
                8,
                1,
                "...and the loop goes on until no zombie is left, which is why this handler does not lose the \
                 child whose SIGCHLD was lost.",
            ),
            line(
                "parent",
                25,
                "Back from the handler (rt_sigreturn put the mask and the place back), the loop sees both children \
                 reaped, and the parent restores its mask.",
            ),
            Stop { at: At::End, text: "No zombie is left: compare with the lesson where the handler waits only once." },
        ],
    },
    Tour {
        id: "time",
        section: "Time",
        title: "An alarm as a timeout",
        scenario: "alarm-timeout",
        stops: &[
            Stop {
                at: At::Start,
                text: "The simulator has a clock of its own. Each step takes a microsecond; when nobody can run but a \
                       timer is set, time jumps straight to it.",
            },
            line("reader", 10, "A handler for SIGALRM, installed without SA_RESTART."),
            line("reader", 12, "alarm(2): in two seconds, the kernel will send this process SIGALRM."),
            again(
                "reader",
                13,
                1,
                "The read sleeps: nobody will ever write. Every process is asleep and a timer is set, so time jumps \
                 to the alarm, which goes off.",
            ),
            again(
                "reader",
                13,
                2,
                "Woken by SIGALRM, the reader tries its read again; it would sleep again, so the signal interrupts \
                 it. The handler runs, and, without SA_RESTART, the read fails with EINTR: the timeout worked.",
            ),
            line("reader", 17, "alarm(0) cancels an alarm; none is left here, and it returns 0."),
            Stop { at: At::End, text: "Two seconds of waiting took no time at all." },
        ],
    },
    Tour {
        id: "shared-memory",
        section: "Shared memory",
        title: "One frame in two address spaces",
        scenario: "shm-one-frame",
        stops: &[
            Stop {
                at: At::Start,
                text: "One process, and no memory shared with anyone. Each process has an address space of its own: \
                       pages of virtual addresses that its page table maps to frames of physical memory.",
            },
            line(
                "main",
                5,
                "shmget makes a segment of one page: a kernel object, listed among the kernel objects, with a frame \
                 of its own and no process attached yet.",
            ),
            line(
                "main",
                6,
                "shmat maps the segment into main's address space at an address the kernel picks: a row of main's \
                 page table now points at the segment's frame.",
            ),
            line(
                "main",
                7,
                "fork copies the page tables: the child's row for that address points at the very same frame, not \
                 at a copy.",
            ),
            line(
                "writer",
                8,
                "A store is an instruction, not a system call: the kernel does not see it. The integer lands in the \
                 frame both page tables map.",
            ),
            line("writer", 10, "shm_nattch counts the attaches: main's and the child's."),
            line(
                "main",
                13,
                "main loads what the child stored, through its own page table and the same frame. Nothing was \
                 copied: with a pipe, the bytes would have gone into the kernel and out again.",
            ),
            line(
                "main",
                17,
                "IPC_RMID removes the segment; with nobody attached any more, its frame is freed at once.",
            ),
            Stop { at: At::End, text: "Two processes shared data without a single byte passing through the kernel." },
        ],
    },
    Tour {
        id: "queues",
        section: "Message queues",
        title: "A message queue: typed messages, kept whole",
        scenario: "msg-typed-messages",
        stops: &[
            Stop {
                at: At::Start,
                text: "One process and no queue yet. A message queue will be an object of the kernel itself, owned \
                       by no process.",
            },
            line(
                "sender",
                5,
                "msgget makes a queue and returns its id. Look at the Kernel objects panel: the queue is listed \
                 there, apart from every process, as `ipcs -q` would list it.",
            ),
            line(
                "sender",
                6,
                "msgsnd copies the message into the queue with its type, 1. It waits for no receiver: the queue \
                 keeps it.",
            ),
            line("sender", 10, "Four messages wait in the order they came; IPC_STAT reads how many."),
            line(
                "receiver",
                12,
                "Type 2 asks for the first message of type 2, so the older message of type 1 is skipped and stays \
                 first in line.",
            ),
            line(
                "receiver",
                14,
                "A negative type takes the lowest type up to 5: the second message of type 1 goes before the one \
                 of type 3, though it came later.",
            ),
            line("receiver", 16, "The queue is empty. With IPC_NOWAIT, msgrcv fails with ENOMSG instead of sleeping."),
            line(
                "sender",
                19,
                "IPC_RMID removes the queue. Without it, the queue would outlive both processes, and the run would \
                 end with it in its list of leftovers.",
            ),
            Stop { at: At::End, text: "Each receive gave back exactly one message, as it was sent." },
        ],
    },
    Tour {
        id: "semaphores",
        section: "Semaphores",
        title: "A semaphore: three resources, five workers",
        scenario: "sem-three-users",
        stops: &[
            Stop { at: At::Start, text: "A boss that will share three resources among five workers." },
            line("boss", 6, "semget made a set of one semaphore; SETVAL sets it to 3, the number of free resources."),
            line(
                "worker",
                11,
                "P: semop -1. The value is 3, so the first worker takes one at once, and the value is 2.",
            ),
            again(
                "worker",
                11,
                4,
                "The value is 0: the fourth worker cannot take one, and sleeps in the semaphore's queue. Look at \
                 the semaphore card.",
            ),
            line("boss", 16, "GETNCNT counts who sleeps waiting to decrement: the fourth and the fifth worker."),
            line(
                "worker",
                13,
                "V: semop +1 gives a resource back, and the kernel at once completes the first sleeper's semop on \
                 its behalf: it will return 0 when it runs, and nobody can take the resource in between.",
            ),
            Stop { at: At::End, text: "The value is back at 3, and IPC_RMID removed the set: nothing is left behind." },
        ],
    },
    Tour {
        id: "sockets",
        section: "Sockets",
        title: "A socket pair: two ends that both send and receive",
        scenario: "socketpair-echo",
        stops: &[
            Stop {
                at: At::Start,
                text: "One process and no socket yet. A pipe has a read end and a write end; a socket pair will have \
                       two ends that each do both.",
            },
            line(
                "parent",
                5,
                "socketpair makes two connected sockets, s.0 and s.1. Each has a receive queue of its own: what is \
                 sent through one end waits in the other end's queue.",
            ),
            line("parent", 6, "fork: the child starts with copies of both descriptors, on the same two sockets."),
            line(
                "child",
                8,
                "The child's end has received nothing yet: recv sleeps, because the parent still holds the other \
                 end and may send.",
            ),
            line(
                "parent",
                13,
                "send copies ping into the queue of the child's end, and wakes the child. Boundaries are not kept \
                 on a stream socket: two sends could be read as one run of bytes.",
            ),
            line("child", 9, "The same socket sends the other way: the echo waits in the parent's end's queue."),
            line(
                "parent",
                15,
                "shutdown SHUT_WR: the parent will send no more. Its socket stays open, and it can still receive.",
            ),
            again(
                "child",
                10,
                2,
                "With the queue empty and the sending direction shut, recv returns 0: end of file, as a pipe's read \
                 does once no writer is left.",
            ),
            line(
                "parent",
                18,
                "The parent shut its own sending direction, and the child's exit closed the other end: a send fails \
                 with EPIPE. MSG_NOSIGNAL keeps SIGPIPE from ending the parent.",
            ),
            Stop { at: At::End, text: "Both sockets are closed, and nothing is left behind." },
        ],
    },
    Tour {
        id: "poll",
        section: "Sockets",
        title: "poll: one server, three clients, no guessing who speaks first",
        scenario: "poll-three-clients",
        stops: &[
            Stop {
                at: At::Start,
                text: "One server and no client yet. A server that talks to several clients cannot sit in recv on \
                       one of them: the others would wait behind it. poll waits on all of them at once.",
            },
            line(
                "server",
                5,
                "Three socket pairs, one per client: the server keeps the .0 ends, and each client will use the .1 \
                 end of its own pair.",
            ),
            line(
                "ann",
                9,
                "ann sends first. Her request waits in the queue of the server's end, a.0; then she sleeps in recv \
                 until the answer comes.",
            ),
            line(
                "server",
                28,
                "poll asks about three entries at once, each {FD, POLLIN}: is there something to read? On this \
                 schedule every client has sent already, so poll does not sleep: it returns 3, and n.0, n.1 and n.2 \
                 are each POLLIN. Had nobody sent yet, it would sleep on the three sockets' queues at once and the \
                 first send would wake it: be the scheduler and pick the server first to see that.",
            ),
            line(
                "server",
                30,
                "n.0 says a.0 is readable, so this recv returns at once with ann's request. A recv on a socket poll \
                 did not report could sleep.",
            ),
            line(
                "server",
                31,
                "The answer wakes ann. The server then sets fa to -1: poll skips an entry whose descriptor is \
                 negative, which is how a C server takes a finished client out of its set.",
            ),
            Stop { at: At::End, text: "Each client got its own answer, from one process that never guessed wrong." },
        ],
    },
    Tour {
        id: "credentials",
        section: "Sockets",
        title: "SCM_CREDENTIALS: the kernel says who sent each message",
        scenario: "socket-credentials",
        stops: &[
            Stop {
                at: At::Start,
                text: "A log daemon and, soon, two clients. Any client can write any text into a message, so the \
                       text cannot tell the daemon who sent it. The kernel knows, and can say.",
            },
            line(
                "logd",
                7,
                "SO_PASSCRED on the daemon's socket: from now on every datagram sent to it carries the sender's \
                 credentials (pid, uid, gid), written by the kernel at the send, not by the sender.",
            ),
            line(
                "ann",
                10,
                "ann's line waits in the daemon's socket. Look at the message on the socket's card: the kernel wrote \
                 ann's pid on it. ann did not ask for that; the receiver did.",
            ),
            line(
                "logd",
                20,
                "recvmsg returns the bytes and an SCM_CREDENTIALS control message: r.pid is ann's pid, whatever her \
                 text says.",
            ),
            line(
                "mallory",
                15,
                "mallory attaches credentials herself and claims to be pid 1, init. The kernel checks them \
                 (scm_check_creds): a process without privileges may send only its own pid, so the call fails with \
                 EPERM and nothing is sent.",
            ),
            line(
                "mallory",
                16,
                "With her own pid the same call works. The daemon will see pid 4, which is who she is.",
            ),
            Stop { at: At::End, text: "Two lines, each with the pid of the process that really sent it." },
        ],
    },
    Tour {
        id: "epoll",
        section: "Sockets",
        title: "epoll: one server, many connections, one sleep",
        scenario: "epoll-socket-server",
        stops: &[
            Stop {
                at: At::Start,
                text: "A server that will serve three clients on one listening socket. It will not keep a list of \
                       descriptors to hand to poll on every call: the kernel will keep the list, in an epoll \
                       instance.",
            },
            line(
                "server",
                8,
                "epoll_create1 makes the instance, a kernel object with a descriptor of its own. Its card shows what \
                 it watches (nothing yet), its ready list and who sleeps on it.",
            ),
            line(
                "server",
                9,
                "The listening socket joins the instance, for EPOLLIN: readable means a connection waits for \
                 accept. The item sits on the socket's wait queue as a callback, not as a process.",
            ),
            line(
                "server",
                37,
                "Nothing to report yet, so the server sleeps in epoll_wait, on the instance alone: whichever watched \
                 socket is woken, its item's callback will wake the server.",
            ),
            line(
                "ann",
                14,
                "ann's connect queues a connection on the listener and wakes it. The item's callback runs: the \
                 listener goes on the ready list, and the server wakes.",
            ),
            line(
                "server",
                39,
                "The event was about the listener, so the server accepts. The connection gets a descriptor of its \
                 own in the server's table.",
            ),
            line(
                "server",
                40,
                "The new connection joins the instance too. Each item is level-triggered: while a socket has \
                 something, every epoll_wait reports it again, oldest first, so taking one event at a time loses \
                 none.",
            ),
            line(
                "server",
                42,
                "An event on ann's connection: her name is waiting. recv takes it, and the answer goes back.",
            ),
            line(
                "server",
                44,
                "recv returned 0: ann closed her end. Closing the connection also takes its item out of the \
                 instance, since an item lives as long as the open file it watches.",
            ),
            Stop { at: At::End, text: "Three clients, one process, and one place it sleeps." },
        ],
    },
];

/// The step each stop of `tour` is at in `engine`'s run (none for a stop the run never reaches). Lines
/// are those of `source`, the library scenario's text, even when the run's text is a copy with comments
/// added.
pub fn stop_steps(tour: &Tour, source: &str, engine: &Engine) -> Vec<Option<u64>> {
    tour.stops
        .iter()
        .map(|stop| match stop.at {
            At::Start => Some(0),
            At::End => Some(engine.total_steps()),
            At::Line { process, line, occurrence } => {
                facts::step_running_line(engine, source, process, line, occurrence)
            }
        })
        .collect()
}

/// The stop shown at `position`: the last stop at or before it.
pub fn current_stop(steps: &[Option<u64>], position: u64) -> Option<usize> {
    steps
        .iter()
        .enumerate()
        .filter(|(_, step)| step.is_some_and(|step| step <= position))
        .map(|(index, _)| index)
        .next_back()
}

/// The first stop after the one shown at `position`, with its step.
pub fn next_stop(steps: &[Option<u64>], position: u64) -> Option<(usize, u64)> {
    let current = current_stop(steps, position);
    steps
        .iter()
        .enumerate()
        .skip(current.map_or(0, |index| index + 1))
        .find_map(|(index, step)| step.filter(|step| *step >= position).map(|step| (index, step)))
}

/// The stop before the one shown at `position`, with its step.
pub fn previous_stop(steps: &[Option<u64>], position: u64) -> Option<(usize, u64)> {
    let current = current_stop(steps, position)?;
    let shown_exactly = steps[current] == Some(position);
    let before = if shown_exactly { current.checked_sub(1)? } else { current };
    steps[..=before].iter().enumerate().rev().find_map(|(index, step)| step.map(|step| (index, step)))
}

/// The tour with this id, if any.
pub fn by_id(id: &str) -> Option<usize> {
    TOURS.iter().position(|tour| tour.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RunSetup;
    use sim_core::Policy;

    fn engine_for(tour: &Tour) -> Engine {
        let text = crate::teach::catalog::text(tour.scenario).expect("the tour's scenario is in the library");
        Engine::build(RunSetup { source: text.to_string(), seed: 0, policy: Policy::RoundRobin, forced: Vec::new() })
            .expect("it runs")
    }

    #[test]
    fn every_stop_of_every_tour_is_reached_in_order() {
        for tour in TOURS {
            let engine = engine_for(tour);
            let steps = stop_steps(tour, crate::teach::catalog::text(tour.scenario).unwrap(), &engine);
            for (stop, step) in tour.stops.iter().zip(&steps) {
                assert!(step.is_some(), "{}: the stop at {:?} is never reached", tour.id, stop.at);
            }
            let steps: Vec<u64> = steps.into_iter().flatten().collect();
            assert!(steps.windows(2).all(|pair| pair[0] < pair[1]), "{}: stops out of order: {steps:?}", tour.id);
        }
    }

    #[test]
    fn the_fifo_tour_stops_where_the_opens_sleep_and_wake() {
        use crate::facts::{step_call, Asked, Happened};
        let tour = &TOURS[by_id("fifos").expect("a FIFO tour")];
        let engine = engine_for(tour);
        let steps: Vec<u64> = stop_steps(tour, crate::teach::catalog::text(tour.scenario).unwrap(), &engine)
            .into_iter()
            .map(|step| step.expect("reached"))
            .collect();
        let call = |stop: usize| step_call(&engine, steps[stop]).expect("a call worth asking about");
        // The writer's first open sleeps; the reader's open returns at once; the writer's second succeeds.
        assert_eq!((call(2).asked, call(2).happened), (Asked::Open, Happened::Blocks));
        assert!(tour.stops[2].text.contains("sleeps inside open()"));
        assert_eq!((call(3).asked, call(3).happened), (Asked::Open, Happened::Opened));
        assert!(crate::facts::event_lines_of(&engine, steps[3]).iter().any(|line| line.kind == "wake"));
        assert_eq!((call(4).asked, call(4).happened), (Asked::Open, Happened::Opened));
        assert_eq!((call(6).asked, call(6).happened), (Asked::Read, Happened::Data));
        assert_eq!((call(7).asked, call(7).happened), (Asked::Read, Happened::EndOfFile));
    }

    #[test]
    fn next_and_previous_walk_the_stops() {
        let steps = [Some(0), Some(3), None, Some(7), Some(12)];
        assert_eq!(current_stop(&steps, 0), Some(0));
        assert_eq!(next_stop(&steps, 0), Some((1, 3)));
        assert_eq!(current_stop(&steps, 5), Some(1));
        assert_eq!(next_stop(&steps, 5), Some((3, 7)));
        assert_eq!(previous_stop(&steps, 5), Some((1, 3)));
        assert_eq!(previous_stop(&steps, 7), Some((1, 3)));
        assert_eq!(previous_stop(&steps, 0), None);
        assert_eq!(next_stop(&steps, 12), None);
    }

    #[test]
    fn there_is_a_tour_for_each_section_the_library_teaches() {
        let sections: std::collections::BTreeSet<&str> =
            crate::teach::catalog::LEARN_ORDER.iter().map(|(_, section)| *section).collect();
        for section in sections {
            let covered = TOURS.iter().any(|tour| section.contains(tour.section) || tour.section.contains(section));
            let signals = section.contains("signals") && TOURS.iter().any(|tour| tour.section == "Signals");
            assert!(covered || signals, "no tour for {section}");
        }
    }
}
