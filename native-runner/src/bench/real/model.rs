//! The simulator's account of each exchange the benchmark measures: the same exchange written as a
//! scenario (the same pieces, the same waiting, the same credits), run in sim-core, and counted per
//! round trip (ping-pong) or per message (stream): system calls, bytes the kernel copies between a
//! process's memory and its objects, and sleeps (a process that ends its step asleep in the kernel gives
//! up its CPU: a voluntary context switch).
//!
//! Each scenario runs twice, with fewer and with more round trips or messages, under round-robin
//! scheduling; the difference, over the difference in their number, is the cost of one without the
//! setup, the acknowledgement and the teardown around them.

use super::mechanism::{Mechanism, DATAGRAM_PIECE, UDP_PIECE};
use super::Pattern;
use sim_core::{Policy, RunConfig, Simulation};

#[derive(Clone, Debug, serde::Serialize)]
pub struct Account {
    pub mechanism: &'static str,
    pub size: usize,
    /// `ping-pong` (figures per round trip) or `stream` (per message).
    pub pattern: &'static str,
    /// System calls per round trip or message.
    pub calls: Option<f64>,
    /// Copies per round trip or message: runs of bytes the kernel copies between a process's memory
    /// and an object (into the kernel or out of it).
    pub copies: Option<f64>,
    /// Bytes the kernel copies per round trip or message, both ways, both processes.
    pub copied: Option<f64>,
    /// Sleeps in the kernel per round trip or message, both processes.
    pub sleeps: Option<f64>,
    /// Why there are no figures, when there are none.
    pub note: String,
}

/// Which way a message goes: requests (and stream messages) from the client to the server, replies
/// (and a stream's credits and acknowledgement) back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    Request,
    Reply,
}

/// The bytes of a credit or an acknowledgement.
const SMALL: usize = 8;

/// How one mechanism's exchange is written: what the parent sets up before the fork, what each side
/// opens for itself, and how each side sends and receives one message of a given size.
struct Shape {
    mechanism: Mechanism,
    /// The size of the messages measured (the pieces and the shared slots depend on it).
    size: usize,
}

/// `body` `times` times: nothing, the body itself, or a `repeat` of it.
fn repeat(times: u64, body: &str) -> String {
    match times {
        0 => String::new(),
        1 => body.to_string(),
        _ => format!("repeat {times} {{\n{}}}\n", indent(body, 2)),
    }
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines().map(|line| format!("{pad}{line}\n")).collect()
}

impl Shape {
    /// The largest piece the real arm sends at once.
    fn piece(&self) -> usize {
        match self.mechanism {
            Mechanism::SysvMsg | Mechanism::PosixMq => 8192.min(self.size),
            Mechanism::UnixDgram | Mechanism::UnixSeqpacket => DATAGRAM_PIECE.min(self.size),
            Mechanism::Udp => UDP_PIECE.min(self.size),
            _ => self.size,
        }
    }

    /// `statement(bytes)` for each piece of a message of `bytes`: the whole pieces, then the rest.
    fn pieces(&self, bytes: usize, statement: &dyn Fn(usize) -> String) -> String {
        let piece = self.piece().max(1);
        let (full, rest) = (bytes / piece, bytes % piece);
        let mut out = String::new();
        if full > 1 {
            out.push_str(&format!("repeat {full} {{\n{}}}\n", indent(&statement(piece), 2)));
        } else if full == 1 {
            out.push_str(&format!("{}\n", statement(piece)));
        }
        if rest > 0 {
            out.push_str(&format!("{}\n", statement(rest)));
        }
        out
    }

    /// Parent's statements before the fork; `None` for a mechanism the simulator does not model.
    fn setup(&self) -> Option<String> {
        let size = self.size;
        let grow = size.next_power_of_two().clamp(65536, 1 << 20);
        let piece = self.piece();
        Some(match self.mechanism {
            Mechanism::Pipe => format!(
                "ping = pipe\npong = pipe\nfcntl ping.w F_SETPIPE_SZ {grow}\nfcntl pong.w F_SETPIPE_SZ {grow}\n"
            ),
            Mechanism::Fifo => "mkfifo \"/tmp/bench-requests\"\nmkfifo \"/tmp/bench-replies\"\n".into(),
            Mechanism::SysvMsg => "q = msgget IPC_PRIVATE IPC_CREAT|0600\n".into(),
            Mechanism::PosixMq => format!(
                "requests = mq_open \"/bench-requests\" O_CREAT|O_RDWR 0600 {{10, {piece}}}\n\
                 replies = mq_open \"/bench-replies\" O_CREAT|O_RDWR 0600 {{10, {piece}}}\n"
            ),
            Mechanism::ShmSpin | Mechanism::ShmFutex | Mechanism::ShmSysvSem => {
                // Flags at 0 (requests) and 8 (replies); the slots from 4096 on.
                let len = (4096 + 2 * size.max(SMALL)).next_multiple_of(4096);
                let mut text = format!("m = mmap {len} PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS\n");
                if self.mechanism == Mechanism::ShmSysvSem {
                    // Each slot's full and empty semaphores, as the real arm sets them.
                    text.push_str("s = semget IPC_PRIVATE 4 IPC_CREAT|0600\nsemctl s 0 SETALL {0, 1, 0, 1} -> 0\n");
                }
                text
            }
            Mechanism::UnixStream => "l = socket SOCK_STREAM\nbind l \"/tmp/bench.sock\"\nlisten l 1\n\
                 c = socket SOCK_STREAM\nconnect c \"/tmp/bench.sock\"\ns = accept l\n"
                .into(),
            Mechanism::Tcp => "l = socket AF_INET SOCK_STREAM\nbind l \"127.0.0.1:7000\"\nlisten l 1\n\
                 c = socket AF_INET SOCK_STREAM\nconnect c \"127.0.0.1:7000\"\ns = accept l\n"
                .into(),
            Mechanism::Socketpair => "p = socketpair SOCK_STREAM\n".into(),
            Mechanism::UnixDgram => "p = socketpair SOCK_DGRAM\n".into(),
            Mechanism::UnixSeqpacket => "p = socketpair SOCK_SEQPACKET\n".into(),
            Mechanism::Udp => "a = socket AF_INET SOCK_DGRAM\nb = socket AF_INET SOCK_DGRAM\n\
                 bind a \"127.0.0.1:7001\"\nbind b \"127.0.0.1:7002\"\n\
                 connect a \"127.0.0.1:7002\"\nconnect b \"127.0.0.1:7001\"\n"
                .into(),
            Mechanism::Signal => "sigprocmask SIG_BLOCK SIGRTMIN+2|SIGRTMIN+3\n".into(),
            Mechanism::ShmRing | Mechanism::UnixStreamBusy | Mechanism::TcpBusy | Mechanism::Eventfd => return None,
        })
    }

    /// What one side opens for itself after the fork (the server first, then the client).
    fn opens(&self, server: bool) -> String {
        let grow = self.size.next_power_of_two().clamp(65536, 1 << 20);
        match (self.mechanism, server) {
            (Mechanism::Fifo, true) => format!(
                "r = open \"/tmp/bench-requests\" O_RDONLY\nw = open \"/tmp/bench-replies\" O_WRONLY\nfcntl w F_SETPIPE_SZ {grow}\n"
            ),
            (Mechanism::Fifo, false) => format!(
                "w = open \"/tmp/bench-requests\" O_WRONLY\nr = open \"/tmp/bench-replies\" O_RDONLY\nfcntl w F_SETPIPE_SZ {grow}\n"
            ),
            _ => String::new(),
        }
    }

    /// What the parent removes after the server has gone.
    fn teardown(&self) -> String {
        match self.mechanism {
            Mechanism::SysvMsg => "msgctl q IPC_RMID\n".into(),
            _ => String::new(),
        }
    }

    /// A stream socket's receiver reads until the whole message has come.
    fn read_all(read: &str, bytes: usize) -> String {
        format!("got = 0\nwhile got < {bytes} {{\n  n = {read} ({bytes} - got)\n  got = got + n\n}}\n")
    }

    /// Waits, in shared memory, until the flag at `flag` holds `want` (0: the slot is free; 1: it holds a
    /// message), as the real arm waits: spinning, or asleep on a futex.
    fn await_flag(&self, flag: usize, want: u8) -> String {
        let address = if flag == 0 { "m".to_string() } else { format!("(m + {flag})") };
        let other = 1 - want;
        match self.mechanism {
            Mechanism::ShmFutex => format!(
                "v = load m {flag}\nwhile v != {want} {{\n  futex {address} FUTEX_WAIT {other}\n  v = load m {flag}\n}}\n"
            ),
            _ => format!("v = load m {flag}\nwhile v != {want} {{\n  v = load m {flag}\n}}\n"),
        }
    }

    /// Sets the flag at `flag`, and (with a futex) wakes a waiter, as the real arm does every time.
    fn set_flag(&self, flag: usize, value: u8) -> String {
        let address = if flag == 0 { "m".to_string() } else { format!("(m + {flag})") };
        let wake = if self.mechanism == Mechanism::ShmFutex {
            format!("futex {address} FUTEX_WAKE 1\n")
        } else {
            String::new()
        };
        format!("store m {flag} {value}\n{wake}")
    }

    /// One message of `bytes` sent the given way.
    fn send(&self, way: Way, bytes: usize) -> String {
        let request = way == Way::Request;
        let fill = if request { "a" } else { "b" };
        match self.mechanism {
            Mechanism::Pipe => {
                format!("write {}.w {bytes} bytes of \"{fill}\"\n", if request { "ping" } else { "pong" })
            }
            Mechanism::Fifo => format!("write w {bytes} bytes of \"{fill}\"\n"),
            Mechanism::SysvMsg => {
                let kind = if request { 1 } else { 2 };
                self.pieces(bytes, &|piece| format!("msgsnd q {kind} {piece} bytes of \"{fill}\""))
            }
            Mechanism::PosixMq => {
                let queue = if request { "requests" } else { "replies" };
                self.pieces(bytes, &|piece| format!("mq_send {queue} {piece} bytes of \"{fill}\""))
            }
            Mechanism::ShmSpin | Mechanism::ShmFutex | Mechanism::ShmSysvSem => {
                let (flag, slot, full, empty) =
                    if request { (0, 4096, 0, 1) } else { (8, 4096 + self.size.max(SMALL), 2, 3) };
                let store = format!("store_bytes m {slot} {bytes} bytes of \"{fill}\"\n");
                if self.mechanism == Mechanism::ShmSysvSem {
                    format!("semop s {{{empty}, -1}}\n{store}semop s {{{full}, 1}}\n")
                } else {
                    format!("{}{store}{}", self.await_flag(flag, 0), self.set_flag(flag, 1))
                }
            }
            Mechanism::UnixStream | Mechanism::Tcp => {
                format!("send {} {bytes} bytes of \"{fill}\"\n", if request { "c" } else { "s" })
            }
            Mechanism::Socketpair => {
                format!("send {} {bytes} bytes of \"{fill}\"\n", if request { "p.0" } else { "p.1" })
            }
            Mechanism::UnixDgram | Mechanism::UnixSeqpacket | Mechanism::Udp => {
                let socket = match (self.mechanism, request) {
                    (Mechanism::Udp, true) => "a",
                    (Mechanism::Udp, false) => "b",
                    (_, true) => "p.0",
                    (_, false) => "p.1",
                };
                self.pieces(bytes, &|piece| format!("send {socket} {piece} bytes of \"{fill}\""))
            }
            Mechanism::Signal => {
                if request {
                    "sigqueue server SIGRTMIN+2 1\n".into()
                } else {
                    "sigqueue parent SIGRTMIN+3 2\n".into()
                }
            }
            Mechanism::ShmRing | Mechanism::UnixStreamBusy | Mechanism::TcpBusy | Mechanism::Eventfd => String::new(),
        }
    }

    /// One message of `bytes` received the given way.
    fn receive(&self, way: Way, bytes: usize) -> String {
        let request = way == Way::Request;
        let piece = self.piece();
        match self.mechanism {
            Mechanism::Pipe => Shape::read_all(&format!("read {}.r", if request { "ping" } else { "pong" }), bytes),
            Mechanism::Fifo => Shape::read_all("read r", bytes),
            Mechanism::SysvMsg => {
                let kind = if request { 1 } else { 2 };
                self.pieces(bytes, &|_| format!("msgrcv q {piece} {kind}"))
            }
            Mechanism::PosixMq => {
                let queue = if request { "requests" } else { "replies" };
                self.pieces(bytes, &|_| format!("mq_receive {queue} {piece}"))
            }
            Mechanism::ShmSpin | Mechanism::ShmFutex | Mechanism::ShmSysvSem => {
                let (flag, slot, full, empty) =
                    if request { (0, 4096, 0, 1) } else { (8, 4096 + self.size.max(SMALL), 2, 3) };
                // Checked where they lie: the real reader copies nothing out either.
                let load = format!("load_bytes m {slot} {bytes}\n");
                if self.mechanism == Mechanism::ShmSysvSem {
                    format!("semop s {{{full}, -1}}\n{load}semop s {{{empty}, 1}}\n")
                } else {
                    format!("{}{load}{}", self.await_flag(flag, 1), self.set_flag(flag, 0))
                }
            }
            Mechanism::UnixStream | Mechanism::Tcp => {
                Shape::read_all(&format!("recv {}", if request { "s" } else { "c" }), bytes)
            }
            Mechanism::Socketpair => Shape::read_all(&format!("recv {}", if request { "p.1" } else { "p.0" }), bytes),
            Mechanism::UnixDgram | Mechanism::UnixSeqpacket | Mechanism::Udp => {
                let socket = match (self.mechanism, request) {
                    (Mechanism::Udp, true) => "b",
                    (Mechanism::Udp, false) => "a",
                    (_, true) => "p.1",
                    (_, false) => "p.0",
                };
                self.pieces(bytes, &|_| format!("recv {socket} {piece}"))
            }
            Mechanism::Signal => {
                if request {
                    "sigwaitinfo SIGRTMIN+2\n".into()
                } else {
                    "sigwaitinfo SIGRTMIN+3\n".into()
                }
            }
            Mechanism::ShmRing | Mechanism::UnixStreamBusy | Mechanism::TcpBusy | Mechanism::Eventfd => String::new(),
        }
    }
}

/// What the exchange looks like in the scenario language: `count` round trips (ping-pong) or messages
/// (stream) of `size` bytes; `None` for a mechanism the simulator does not model. A stream with a
/// `window` (the real arm's credits: the server sends one after every `window` messages, and the client
/// never has more than two windows unanswered) needs `count` a multiple of it, at least two windows.
pub fn scenario(mechanism: Mechanism, size: usize, pattern: Pattern, count: u64, window: u64) -> Option<String> {
    let shape = Shape { mechanism, size };
    let setup = shape.setup()?;
    let (server, client) = match pattern {
        Pattern::PingPong => (
            format!(
                "repeat {count} {{\n{}{}}}\n",
                indent(&shape.receive(Way::Request, size), 2),
                indent(&shape.send(Way::Reply, size), 2)
            ),
            format!(
                "repeat {count} {{\n{}{}}}\n",
                indent(&shape.send(Way::Request, size), 2),
                indent(&shape.receive(Way::Reply, size), 2)
            ),
        ),
        Pattern::Stream if window == 0 => (
            format!(
                "repeat {count} {{\n{}}}\n{}",
                indent(&shape.receive(Way::Request, size), 2),
                shape.send(Way::Reply, SMALL)
            ),
            format!(
                "repeat {count} {{\n{}}}\n{}",
                indent(&shape.send(Way::Request, size), 2),
                shape.receive(Way::Reply, SMALL)
            ),
        ),
        Pattern::Stream => {
            let windows = count / window;
            assert!(
                windows >= 2 && count.is_multiple_of(window),
                "a stream of {count} messages in windows of {window}"
            );
            let send_window = format!("repeat {window} {{\n{}}}\n", indent(&shape.send(Way::Request, size), 2));
            let credit = shape.receive(Way::Reply, SMALL);
            (
                format!(
                    "repeat {windows} {{\n  repeat {window} {{\n{}  }}\n{}}}\n{}",
                    indent(&shape.receive(Way::Request, size), 4),
                    indent(&shape.send(Way::Reply, SMALL), 2),
                    shape.send(Way::Reply, SMALL)
                ),
                format!(
                    "repeat 2 {{\n{}}}\n{}repeat 2 {{\n{}}}\n{}",
                    indent(&send_window, 2),
                    repeat(windows - 2, &format!("{credit}{send_window}")),
                    indent(&credit, 2),
                    shape.receive(Way::Reply, SMALL),
                ),
            )
        }
    };
    let body = format!(
        "{setup}fork server {{\n{}{}}}\n{}{client}wait\n{}",
        indent(&shape.opens(true), 2),
        indent(&server, 2),
        shape.opens(false),
        shape.teardown()
    );
    Some(format!(
        "title \"bench: {} {}\"\nprocess parent {{\n{}}}\n",
        mechanism.name(),
        pattern.key(),
        indent(&body, 2)
    ))
}

/// System calls, bytes copied and sleeps of one run of the scenario.
fn count(mechanism: Mechanism, size: usize, pattern: Pattern, count: u64, window: u64) -> Result<[u64; 4], String> {
    let text = scenario(mechanism, size, pattern, count, window).ok_or("not modelled")?;
    let scenario = sim_core::parse(&text)
        .map_err(|errors| errors.first().map(|error| error.message.clone()).unwrap_or_default())?;
    let config = RunConfig {
        policy: Policy::RoundRobin,
        keep_events: false,
        max_steps: 50_000_000,
        memory_budget: u64::MAX,
        ..RunConfig::default()
    };
    let mut simulation = Simulation::new(&scenario, config).map_err(|error| error.message)?;
    let mut sleeps = 0u64;
    while let sim_core::StepStatus::Ran(pid) = simulation.step().map_err(|error| error.to_string())? {
        if matches!(simulation.kernel().process(pid).state, sim_core::kernel::ProcState::Blocked(_)) {
            sleeps += 1;
        }
    }
    match simulation.outcome() {
        Some(sim_core::RunOutcome::AllExited) => {}
        Some(sim_core::RunOutcome::LimitReached { limit, detail }) if limit == "not_modelled" => {
            return Err(format!("not modelled: {}", detail.split(':').next().unwrap_or(detail)));
        }
        other => return Err(format!("the model's run ended with {other:?}")),
    }
    let kernel = simulation.kernel();
    let copied = kernel.copied(sim_core::ast::Copier::All, sim_core::ast::Toward::Both);
    let calls = kernel.procs.iter().map(|process| u64::from(process.syscalls)).sum();
    Ok([calls, kernel.copy_runs, copied, sleeps])
}

/// The two lengths of run whose difference is counted: 4 and 12 round trips or messages, or with a
/// window, whole windows (at least two, as the real client keeps two in flight) and three times as many.
fn lengths(window: u64) -> (u64, u64) {
    if window == 0 {
        (4, 12)
    } else {
        let few = window * 4u64.div_ceil(window).max(2);
        (few, 3 * few)
    }
}

/// The account of one exchange, with the real arm's credit window for a stream (0: none).
pub fn account(mechanism: Mechanism, size: usize, pattern: Pattern, window: u64) -> Account {
    let window = if pattern == Pattern::Stream { window } else { 0 };
    let (few, many) = lengths(window);
    let ([calls, copies, copied, sleeps], note) =
        match (count(mechanism, size, pattern, few, window), count(mechanism, size, pattern, many, window)) {
            (Ok(a), Ok(b)) => {
                let per = |index: usize| Some((b[index] as f64 - a[index] as f64) / (many - few) as f64);
                ([per(0), per(1), per(2), per(3)], String::new())
            }
            (Err(message), _) | (_, Err(message)) => ([None; 4], message),
        };
    Account { mechanism: mechanism.name(), size, pattern: pattern.key(), calls, copies, copied, sleeps, note }
}

/// The account of every (mechanism, size, pattern) the benchmark measured: `windows` gives a stream's
/// credit window as the real arm used it (`None`: the case did not run, so there is nothing to stand
/// beside).
pub fn accounts(
    mechanisms: &[Mechanism],
    sizes: &[usize],
    patterns: &[Pattern],
    windows: &dyn Fn(Mechanism, usize) -> Option<u64>,
) -> Vec<Account> {
    let mut accounts = Vec::new();
    for &mechanism in mechanisms {
        let sizes: Vec<usize> = if mechanism.counter() { vec![8] } else { sizes.to_vec() };
        for size in sizes {
            for &pattern in patterns {
                let window = match pattern {
                    Pattern::PingPong => Some(0),
                    Pattern::Stream => windows(mechanism, size),
                };
                match window {
                    Some(window) => accounts.push(account(mechanism, size, pattern, window)),
                    None => accounts.push(Account {
                        mechanism: mechanism.name(),
                        size,
                        pattern: pattern.key(),
                        calls: None,
                        copies: None,
                        copied: None,
                        sleeps: None,
                        note: "not measured".into(),
                    }),
                }
            }
        }
    }
    accounts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every modelled mechanism's scenarios parse and run to their end at every size the benchmark uses,
    /// both patterns, and their counts say what the mechanism is: shared memory copies nothing through
    /// the kernel, the others copy each message in and out.
    #[test]
    fn every_model_runs_and_counts_copies() {
        for mechanism in Mechanism::ALL {
            // The sizes of a default run, and one that is no multiple of any piece.
            for size in [64usize, 4096, 32768, 65536, 70000, 1 << 20] {
                let size = if mechanism.counter() { 8 } else { size };
                for (pattern, window) in [(Pattern::PingPong, 0), (Pattern::Stream, 0), (Pattern::Stream, 3)] {
                    if scenario(mechanism, size, pattern, 6, window).is_none() {
                        continue;
                    }
                    let account = account(mechanism, size, pattern, window);
                    let what = format!("{} {size} {} window {window}", mechanism.name(), pattern.key());
                    let Some(copied) = account.copied else {
                        // The simulator refuses what it does not model (TCP with more than 64 KiB
                        // unread: a round trip larger than that, or a stream of 64 KiB messages or more,
                        // whose writer runs ahead), and says so: the table shows the reason instead.
                        let refused = match pattern {
                            Pattern::PingPong => size > 65536,
                            Pattern::Stream => size >= 65536,
                        };
                        assert!(
                            account.note.starts_with("not modelled") && mechanism == Mechanism::Tcp && refused,
                            "{what}: {}",
                            account.note
                        );
                        continue;
                    };
                    let calls = account.calls.expect("calls with copies");
                    let ways = if pattern == Pattern::PingPong { 2.0 } else { 1.0 };
                    let credits = if window > 0 { 2.0 * SMALL as f64 / window as f64 } else { 0.0 };
                    let expected = if mechanism.shared_memory() || mechanism.counter() {
                        0.0
                    } else {
                        2.0 * ways * size as f64 + credits
                    };
                    assert_eq!(copied, expected, "{what}: bytes copied per round trip or message");
                    // Every byte copied is copied in some run, and only then.
                    let copies = account.copies.expect("copies with bytes");
                    assert_eq!(copies == 0.0, expected == 0.0, "{what}: {copies} copies");
                    // Spinning on shared memory needs no system call at all; every other mechanism does.
                    assert_eq!(calls == 0.0, mechanism == Mechanism::ShmSpin, "{what}: calls {calls}");
                    assert!(account.sleeps.expect("sleeps") >= 0.0, "{what}");
                }
            }
        }
    }

    /// A ping-pong's calls, copies and sleeps per round trip, as each mechanism's real arm makes them: a
    /// pipe writes and reads each way, a copy each; a futex slot also wakes on every flag it sets (4) and sleeps twice; a
    /// slot guarded by semaphores takes and gives two each way; spinning makes no call and never sleeps;
    /// a message split into 8 KiB pieces is sent and received piece by piece.
    #[test]
    fn ping_pong_counts_are_those_of_the_real_exchange() {
        for (mechanism, size, calls, copies, sleeps) in [
            (Mechanism::Pipe, 64, 4.0, 4.0, 2.0),
            (Mechanism::ShmFutex, 64, 6.0, 0.0, 2.0),
            (Mechanism::ShmSysvSem, 64, 8.0, 0.0, 2.0),
            (Mechanism::ShmSpin, 64, 0.0, 0.0, 0.0),
            (Mechanism::SysvMsg, 32768, 16.0, 16.0, 2.0),
            (Mechanism::Signal, 8, 4.0, 0.0, 2.0),
        ] {
            let account = account(mechanism, size, Pattern::PingPong, 0);
            assert_eq!(
                (account.calls, account.copies, account.sleeps),
                (Some(calls), Some(copies), Some(sleeps)),
                "{}",
                mechanism.name()
            );
        }
    }

    /// The runs counted are whole windows, at least two (the real client keeps two in flight), and
    /// differ by at least 8 messages.
    #[test]
    fn lengths_are_whole_windows() {
        assert_eq!(lengths(0), (4, 12));
        assert_eq!(lengths(1), (4, 12));
        assert_eq!(lengths(3), (6, 18));
        assert_eq!(lengths(256), (512, 1536));
    }

    /// The stream's client waits for credits exactly when the real client does (`stream_trial`: before
    /// message `n` while `n >= (credits + 2) * window`, and for every credit owed at the end).
    #[test]
    fn the_client_waits_for_credits_when_the_real_one_does() {
        for window in [1u64, 2, 3] {
            let count = lengths(window).1;
            let mut expected = Vec::new();
            let mut credits = 0;
            for number in 0..count {
                while number >= (credits + 2) * window {
                    expected.push("credit");
                    credits += 1;
                }
                expected.push("message");
            }
            while credits < count / window {
                expected.push("credit");
                credits += 1;
            }
            expected.push("credit"); // the acknowledgement

            let text = scenario(Mechanism::Signal, 8, Pattern::Stream, count, window).unwrap();
            let config = RunConfig { policy: Policy::RoundRobin, keep_events: true, ..RunConfig::default() };
            let mut simulation = Simulation::new(&sim_core::parse(&text).unwrap(), config).unwrap();
            simulation.run().unwrap();
            let program = simulation.program().clone();
            let parent = simulation.kernel().procs.iter().find(|process| &*process.name == "parent").unwrap().pid;
            let client: Vec<&str> = simulation
                .take_events()
                .into_iter()
                .filter_map(|event| match event.kind {
                    sim_core::trace::EventKind::Call { pid, op, .. } if pid == parent => {
                        // The implicit exit at the end of a block has no op of its own.
                        match &program.ops.get(op as usize)?.kind {
                            sim_core::lang::compile::OpKind::Call(call) => match call.id.spec().name {
                                "sigqueue" => Some("message"),
                                "sigwaitinfo" => Some("credit"),
                                _ => None,
                            },
                            _ => None,
                        }
                    }
                    _ => None,
                })
                .collect();
            assert_eq!(client, expected, "window {window}");
        }
    }

    /// A credit window adds a credit's send and receive every `window` messages, and nothing else.
    #[test]
    fn credits_cost_two_calls_a_window() {
        let plain = account(Mechanism::Pipe, 64, Pattern::Stream, 0);
        let windowed = account(Mechanism::Pipe, 64, Pattern::Stream, 4);
        assert_eq!(windowed.calls.unwrap() - plain.calls.unwrap(), 2.0 / 4.0);
    }
}
