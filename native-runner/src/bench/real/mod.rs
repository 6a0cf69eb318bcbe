//! `ipclab bench real`: every IPC mechanism measured on this host the same way, both processes on one CPU
//! and on two, with every transfer checked, beside the simulator's account of the same exchange.
//!
//! Each case (a mechanism, a message size, a placement, a pattern) forks a server, pins both processes,
//! and drives it over a control pipe that stays outside the timed region:
//!
//! - **ping-pong**: the client sends a message, the server checks it and answers with another, which the
//!   client checks. Round trips are timed in batches (one round trip a batch unless a round trip is
//!   shorter than 2 µs, when the reading of the clock would weigh on it), after a tenth as many warm-up
//!   batches; the figures are percentiles of the batches' times per round trip.
//! - **stream**: the client sends messages one way as fast as the mechanism takes them, the server checks
//!   each and acknowledges the last. Trials of about 10 ms each after a warm-up trial; the figures are
//!   percentiles of the trials' times per message, and throughput is the size over the median.

mod janitor;
mod mechanism;
mod model;
mod shm;

use janitor::{Janitor, Object};
use mechanism::{End, Mechanism, Pair};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Set by SIGALRM: a trial took longer than its limit, so the other end must have stopped.
static TIMED_OUT: AtomicBool = AtomicBool::new(false);

pub fn timed_out() -> bool {
    TIMED_OUT.load(Ordering::Relaxed)
}

extern "C" fn on_alarm(_: libc::c_int) {
    TIMED_OUT.store(true, Ordering::Relaxed);
}

/// Seconds a single trial may take before the benchmark decides its server has stopped.
const TRIAL_LIMIT: u32 = 30;

#[derive(clap::Args, Debug)]
pub struct RealArgs {
    /// Mechanisms to measure, by name (repeatable, or comma-separated); all of them unless given.
    #[arg(long = "mechanism", value_delimiter = ',')]
    mechanisms: Vec<String>,
    /// Message sizes (repeatable, or comma-separated), in bytes or with K or M (64, 4K, 1M).
    #[arg(long = "size", value_delimiter = ',', default_values = ["64", "4K", "32K", "64K", "1M"])]
    sizes: Vec<String>,
    /// Where the two processes run: `same` (one CPU), `split` (two CPUs) or `both`.
    #[arg(long, default_value = "both")]
    placement: String,
    /// Patterns: `ping-pong`, `stream` or `both`.
    #[arg(long, default_value = "both")]
    pattern: String,
    /// Seconds of measurement for each case (after its warm-up).
    #[arg(long, default_value_t = 0.15)]
    seconds: f64,
    /// Run each case for a fixed handful of checked messages and print the counts, without timing
    /// anything: a quick proof that every arm moves the right bytes.
    #[arg(long)]
    check_only: bool,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Measure nothing: print the report of a run saved with --json (its tables and claims), with the
    /// simulator's account computed afresh by this build; with --json, write that run again with it.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["mechanisms", "placement", "pattern", "seconds", "check_only"])]
    from: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    Same,
    Split,
}

impl Placement {
    fn name(self) -> &'static str {
        match self {
            Placement::Same => "same CPU",
            Placement::Split => "two CPUs",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Placement::Same => "same",
            Placement::Split => "split",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    PingPong,
    Stream,
}

impl Pattern {
    fn key(self) -> &'static str {
        match self {
            Pattern::PingPong => "ping-pong",
            Pattern::Stream => "stream",
        }
    }
}

/// Parses `64`, `4K`, `1M` (binary multiples).
fn parse_size(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let (digits, unit) = match trimmed.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => trimmed.split_at(at),
        None => (trimmed, ""),
    };
    let number: usize =
        digits.parse().map_err(|_| format!("--size {text:?}: expected a number of bytes such as 64, 4K or 1M"))?;
    let scale = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KIB" => 1 << 10,
        "M" | "MIB" => 1 << 20,
        _ => return Err(format!("--size {text:?}: unknown unit {unit:?} (use K or M)")),
    };
    let bytes = number.saturating_mul(scale);
    if !(8..=(16 << 20)).contains(&bytes) {
        return Err(format!("--size {text:?}: sizes go from 8 bytes to 16M"));
    }
    Ok(bytes)
}

pub fn size_text(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} B")
    }
}

/// How a case's messages say which they are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stamp {
    /// Bytes: the message's number in its first 8 bytes (a reply's with its top bit set), the rest one of
    /// three patterns.
    Bytes,
    /// A signal's value: the message's number (odd for requests, even for replies).
    Value,
    /// An eventfd's counter adds up what is written: three small values in turn, checked by their sum.
    None,
}

/// The messages of a case: three requests and three replies that differ from each other everywhere (so
/// a message mixed up with another fails its check), each stamped with its number as it is sent and as
/// it is expected (so a lost, repeated or stale one fails too), a credit and an acknowledgement.
struct Messages {
    stamp: Stamp,
    requests: [Vec<u8>; 3],
    replies: [Vec<u8>; 3],
    credit: Vec<u8>,
    ack: Vec<u8>,
}

impl Messages {
    /// Request number `n`, stamped.
    fn request(&mut self, n: u64) -> &[u8] {
        self.stamped(n, true)
    }

    /// Reply number `n`, stamped.
    fn reply(&mut self, n: u64) -> &[u8] {
        self.stamped(n, false)
    }

    fn stamped(&mut self, n: u64, request: bool) -> &[u8] {
        let message = if request { &mut self.requests[(n % 3) as usize] } else { &mut self.replies[(n % 3) as usize] };
        match self.stamp {
            // Replies with the top bit set: at 8 bytes, a request and its reply still differ.
            Stamp::Bytes => message[..8].copy_from_slice(&(n | u64::from(!request) << 63).to_le_bytes()),
            Stamp::Value => {
                message[..8].copy_from_slice(&(2 * (n % (1 << 40)) + 1 + u64::from(!request)).to_le_bytes())
            }
            Stamp::None => {}
        }
        message
    }

    fn new(mechanism: Mechanism, size: usize) -> Messages {
        if mechanism.counter() {
            let value = |n: u64| n.to_le_bytes().to_vec();
            let signal = mechanism == Mechanism::Signal;
            return Messages {
                stamp: if signal { Stamp::Value } else { Stamp::None },
                requests: [value(1), value(2), value(3)],
                replies: [value(11), value(12), value(13)],
                // Out of the range of the stamped values.
                credit: value(if signal { 1 << 60 } else { 100 }),
                ack: value(if signal { 1 << 61 } else { 200 }),
            };
        }
        let bytes = |seed: u64| {
            let mut random = sim_core::sched::SplitMix64::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ size as u64);
            let mut out = Vec::with_capacity(size + 8);
            while out.len() < size {
                out.extend_from_slice(&random.next_u64().to_le_bytes());
            }
            out.truncate(size);
            out
        };
        Messages {
            stamp: Stamp::Bytes,
            requests: [bytes(1), bytes(2), bytes(3)],
            replies: [bytes(11), bytes(12), bytes(13)],
            credit: b"credit!!".to_vec(),
            ack: b"ack-ack!".to_vec(),
        }
    }
}

const PING: u8 = 1;
const STREAM: u8 = 2;

fn send_command(control: &OwnedFd, kind: u8, count: u64, window: u64) -> Result<(), String> {
    let mut command = [0u8; 17];
    command[0] = kind;
    command[1..9].copy_from_slice(&count.to_le_bytes());
    command[9..17].copy_from_slice(&window.to_le_bytes());
    nix::unistd::write(control, &command).map_err(|error| format!("control pipe: {error}"))?;
    Ok(())
}

/// The server: reads commands until the control pipe ends, and runs each.
fn serve(end: &mut dyn End, control: OwnedFd, messages: &mut Messages) -> Result<(), String> {
    let mut command = [0u8; 17];
    loop {
        let mut got = 0;
        while got < command.len() {
            match nix::unistd::read(control.as_raw_fd(), &mut command[got..]) {
                Ok(0) => return Ok(()),
                Ok(count) => got += count,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(error) => return Err(format!("control pipe: {error}")),
            }
        }
        let count = u64::from_le_bytes(command[1..9].try_into().expect("8 bytes"));
        let window = u64::from_le_bytes(command[9..17].try_into().expect("8 bytes"));
        match command[0] {
            PING => {
                for round in 0..count {
                    end.recv_check(messages.request(round)).map_err(|error| format!("request {round}: {error}"))?;
                    end.send(messages.reply(round)).map_err(|error| format!("reply {round}: {error}"))?;
                }
                end.settle()?;
            }
            STREAM => {
                for number in 0..count {
                    end.recv_check(messages.request(number)).map_err(|error| format!("message {number}: {error}"))?;
                    if window > 0 && (number + 1) % window == 0 {
                        end.send(&messages.credit).map_err(|error| format!("credit: {error}"))?;
                    }
                }
                end.settle()?;
                end.send(&messages.ack).map_err(|error| format!("acknowledgement: {error}"))?;
            }
            other => return Err(format!("unknown command {other}")),
        }
    }
}

fn ping_pong_trial(
    end: &mut dyn End,
    control: &OwnedFd,
    messages: &mut Messages,
    batches: u64,
    batch: u64,
) -> Result<Vec<f64>, String> {
    send_command(control, PING, batches * batch, 0)?;
    let mut samples = Vec::with_capacity(batches as usize);
    let mut round = 0u64;
    for _ in 0..batches {
        let started = Instant::now();
        for _ in 0..batch {
            end.send(messages.request(round)).map_err(|error| format!("request {round}: {error}"))?;
            end.recv_check(messages.reply(round)).map_err(|error| format!("reply {round}: {error}"))?;
            round += 1;
        }
        samples.push(started.elapsed().as_nanos() as f64 / batch as f64);
    }
    end.settle()?;
    Ok(samples)
}

/// One stream trial of `count` messages; returns its time per message, in nanoseconds.
fn stream_trial(
    end: &mut dyn End,
    control: &OwnedFd,
    messages: &mut Messages,
    count: u64,
    window: u64,
) -> Result<f64, String> {
    send_command(control, STREAM, count, window)?;
    let started = Instant::now();
    let mut credits = 0u64;
    for number in 0..count {
        if window > 0 {
            while number >= (credits + 2) * window {
                end.recv_check(&messages.credit).map_err(|error| format!("credit: {error}"))?;
                credits += 1;
            }
        }
        end.send(messages.request(number)).map_err(|error| format!("message {number}: {error}"))?;
    }
    if let Some(owed) = count.checked_div(window) {
        while credits < owed {
            end.recv_check(&messages.credit).map_err(|error| format!("credit: {error}"))?;
            credits += 1;
        }
    }
    end.recv_check(&messages.ack).map_err(|error| format!("acknowledgement: {error}"))?;
    let elapsed = started.elapsed();
    end.settle()?;
    Ok(elapsed.as_nanos() as f64 / count as f64)
}

/// What one case measured.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CaseResult {
    #[serde(deserialize_with = "known_mechanism")]
    pub mechanism: &'static str,
    pub size: usize,
    #[serde(deserialize_with = "known_placement")]
    pub placement: &'static str,
    #[serde(deserialize_with = "known_pattern")]
    pub pattern: &'static str,
    /// Messages (ping-pong: round trips) checked, warm-up included.
    pub messages: u64,
    /// Bytes checked at their destination, warm-up included.
    pub bytes_checked: u64,
    /// Round trips in each timed batch (ping-pong), or messages in each trial (stream).
    pub batch: u64,
    /// Timed samples (batches or trials), warm-up excluded; 0 with --check-only.
    pub samples: u64,
    /// Nanoseconds per round trip (ping-pong) or per message (stream).
    pub p50_ns: f64,
    pub p99_ns: f64,
    pub min_ns: f64,
    pub max_ns: f64,
    /// The interquartile range, over the median.
    pub spread: f64,
    /// Voluntary context switches of both processes (getrusage), per message or round trip.
    pub switches: f64,
    /// A stream's credit window: the server answers every `window` messages with a credit (0: never).
    #[serde(default)]
    pub window: u64,
    /// For the ring's stream of 1 MiB messages, the bound it is compared with: a memcpy of 1 MiB in the
    /// client's process, on its CPU, in bytes per second at the median copy; four copies are timed after
    /// each of the case's trials, so that both figures see the host in the same state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memcpy_beside: Option<f64>,
}

/// A name in a saved run, one of this build's own for that field.
fn one_of<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    names: impl Iterator<Item = &'static str>,
    what: &str,
) -> Result<&'static str, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(deserializer)?;
    let known: Vec<&'static str> = names.collect();
    known.iter().copied().find(|name| *name == text).ok_or_else(|| {
        serde::de::Error::custom(format!("unknown {what} {text:?} (expected one of {})", known.join(", ")))
    })
}

fn known_mechanism<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<&'static str, D::Error> {
    one_of(deserializer, Mechanism::ALL.iter().map(|mechanism| mechanism.name()), "mechanism")
}

fn known_placement<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<&'static str, D::Error> {
    one_of(deserializer, [Placement::Same, Placement::Split].into_iter().map(Placement::key), "placement")
}

fn known_pattern<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<&'static str, D::Error> {
    one_of(deserializer, [Pattern::PingPong, Pattern::Stream].into_iter().map(Pattern::key), "pattern")
}

impl CaseResult {
    /// Bytes per second one way (stream) or both ways together (ping-pong).
    pub fn throughput(&self) -> f64 {
        if self.p50_ns <= 0.0 {
            return 0.0;
        }
        let bytes = if self.pattern == "stream" { self.size } else { 2 * self.size };
        bytes as f64 / (self.p50_ns * 1e-9)
    }
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // Nearest rank.
    let rank = ((fraction * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

struct Plan {
    seconds: f64,
    check_only: bool,
}

/// How many messages --check-only moves in each case.
const CHECK_ROUNDS: u64 = 24;

#[allow(clippy::too_many_arguments)]
fn run_case(
    end: &mut dyn End,
    control: &OwnedFd,
    messages: &mut Messages,
    size: usize,
    pattern: Pattern,
    plan: &Plan,
    window: u64,
    mut memcpy: Option<&mut Memcpy>,
) -> Result<(Vec<f64>, u64, u64), String> {
    let budget_ns = plan.seconds * 1e9;
    match pattern {
        Pattern::PingPong => {
            if plan.check_only {
                ping_pong_trial(end, control, messages, CHECK_ROUNDS, 1)?;
                return Ok((Vec::new(), CHECK_ROUNDS, 1));
            }
            // A pilot to learn the round trip's order of magnitude.
            let pilot = ping_pong_trial(end, control, messages, 16, 1)?;
            let mut sorted = pilot.clone();
            sorted.sort_by(f64::total_cmp);
            let round_trip = percentile(&sorted, 0.5).max(1.0);
            let batch = ((2000.0 / round_trip).ceil() as u64).clamp(1, 4096);
            let batches = ((budget_ns / (batch as f64 * round_trip)) as u64).clamp(30, 50_000);
            let warm = (batches / 10).max(3);
            let mut samples = ping_pong_trial(end, control, messages, warm + batches, batch)?;
            samples.drain(..warm as usize);
            Ok((samples, 16 + (warm + batches) * batch, batch))
        }
        Pattern::Stream => {
            if plan.check_only {
                stream_trial(end, control, messages, CHECK_ROUNDS, window)?;
                return Ok((Vec::new(), CHECK_ROUNDS, CHECK_ROUNDS));
            }
            let pilot_count = ((256 << 10) / size).clamp(4, 4096) as u64;
            let per_message = stream_trial(end, control, messages, pilot_count, window)?.max(1.0);
            let count = ((10e6 / per_message) as u64).clamp(4, 1 << 20);
            let trials = ((budget_ns / (count as f64 * per_message)) as u64).clamp(5, 200);
            // One warm-up trial, not counted.
            stream_trial(end, control, messages, count, window)?;
            let mut samples = Vec::with_capacity(trials as usize);
            for _ in 0..trials {
                samples.push(stream_trial(end, control, messages, count, window)?);
                // Paired with each trial (while the server waits for the next), so that the bound and
                // the figure compared with it see the host in the same state.
                if let Some(memcpy) = memcpy.as_deref_mut() {
                    memcpy.time(4);
                }
            }
            Ok((samples, pilot_count + (trials + 1) * count, count))
        }
    }
}

fn pin(pid: i32, cpu: usize) -> Result<(), String> {
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu).map_err(|error| format!("CPU {cpu}: {error}"))?;
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(pid), &set)
        .map_err(|error| format!("sched_setaffinity to CPU {cpu}: {error}"))
}

/// The objects of a case, removed when it ends, and on the one early return after they exist (a failed
/// fork). Not a guard with a destructor: the forked server shares its memory and must never remove them.
struct Removal {
    objects: Vec<Object>,
}

impl Removal {
    fn run(mut self, janitor: &mut Janitor) {
        for object in std::mem::take(&mut self.objects) {
            janitor.remove(&object);
        }
    }
}

/// Runs one case: makes the mechanism, forks and pins its server, measures, and removes everything.
#[allow(clippy::too_many_arguments)]
fn case(
    mechanism: Mechanism,
    size: usize,
    placement: Placement,
    pattern: Pattern,
    cpus: &[usize],
    plan: &Plan,
    dir: &std::path::Path,
    janitor: &mut Janitor,
) -> Result<CaseResult, String> {
    let mut messages = Messages::new(mechanism, size);
    let (control_read, control_write) = nix::unistd::pipe().map_err(|error| format!("pipe: {error}"))?;
    let pair = mechanism::open(mechanism, size, dir, janitor)?;
    let window = pair.window;
    let removal = Removal { objects: pair.objects.clone() };
    let parent = std::process::id() as i32;
    let server_cpu = match placement {
        Placement::Same => cpus[0],
        Placement::Split => cpus[1],
    };
    shm::set_shared_cpu(server_cpu == cpus[0]);
    // SAFETY: the benchmark is single-threaded; the child serves and calls _exit.
    let forked = unsafe { nix::unistd::fork() };
    let child = match forked {
        Err(error) => {
            removal.run(janitor);
            return Err(format!("fork: {error}"));
        }
        Ok(nix::unistd::ForkResult::Child) => {
            // The parent removes the objects; the server leaves only through _exit.
            std::mem::forget(removal);
            // SAFETY: closes the janitor's pipe (so that only the benchmark's end keeps it open), asks to be
            // killed when the benchmark dies, and leaves if it already has.
            unsafe {
                libc::close(janitor.fd());
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
            }
            drop(control_write);
            let Pair { client, mut server, .. } = pair;
            drop(client);
            server.set_peer(parent);
            let status = match pin(0, server_cpu).and_then(|()| serve(server.as_mut(), control_read, &mut messages)) {
                Ok(()) => 0,
                Err(message) => {
                    note!("ipclab bench real: {} server: {message}", mechanism.name());
                    1
                }
            };
            drop(server);
            // SAFETY: _exit skips the parent's buffers and atexit handlers.
            unsafe { libc::_exit(status) }
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => child,
    };
    let server_object = Object::Pid(child.as_raw());
    janitor.keep(&server_object);
    drop(control_read);
    let mut client = pair.client;
    drop(pair.server);
    client.set_peer(child.as_raw());
    let before = voluntary_switches();
    // The ring's stream of 1 MiB messages is compared with a memcpy of 1 MiB, timed between its trials.
    let mut memcpy =
        (!plan.check_only && mechanism == Mechanism::ShmRing && size == Memcpy::SIZE && pattern == Pattern::Stream)
            .then(Memcpy::new);
    let measured = pin(0, cpus[0]).and_then(|()| {
        TIMED_OUT.store(false, Ordering::Relaxed);
        // SAFETY: alarm only schedules a SIGALRM, whose handler sets a flag.
        unsafe { libc::alarm(TRIAL_LIMIT + (plan.seconds * 4.0).ceil() as u32) };
        let result =
            run_case(client.as_mut(), &control_write, &mut messages, size, pattern, plan, window, memcpy.as_mut());
        // SAFETY: as above.
        unsafe { libc::alarm(0) };
        result
    });
    drop(control_write);
    drop(client);
    if measured.is_err() {
        // SAFETY: kills the server this case forked.
        unsafe { libc::kill(child.as_raw(), libc::SIGKILL) };
    }
    let client_switches = voluntary_switches() - before;
    let (status, server_switches) = reap(child.as_raw());
    janitor.forget(&server_object);
    removal.run(janitor);
    let (mut samples, count, batch) = measured?;
    if status != Some(0) {
        return Err(match status {
            Some(code) => format!("the server exited with status {code}"),
            None => "the server was killed by a signal".to_string(),
        });
    }
    samples.sort_by(f64::total_cmp);
    let p50 = percentile(&samples, 0.5);
    let message_bytes = size as u64 * if pattern == Pattern::PingPong { 2 } else { 1 };
    Ok(CaseResult {
        mechanism: mechanism.name(),
        size,
        placement: placement.key(),
        pattern: pattern.key(),
        messages: count,
        bytes_checked: count * message_bytes,
        batch,
        samples: samples.len() as u64,
        p50_ns: p50,
        p99_ns: percentile(&samples, 0.99),
        min_ns: samples.first().copied().unwrap_or(0.0),
        max_ns: samples.last().copied().unwrap_or(0.0),
        switches: (client_switches + server_switches) as f64 / count as f64,
        spread: if p50 > 0.0 { (percentile(&samples, 0.75) - percentile(&samples, 0.25)) / p50 } else { 0.0 },
        window: if pattern == Pattern::Stream { window } else { 0 },
        memcpy_beside: memcpy.map(|memcpy| memcpy.rate()),
    })
}

/// A new directory for the run's FIFOs and socket files, never one that existed before (the janitor
/// removes it with all it holds).
fn private_dir() -> Result<std::path::PathBuf, String> {
    let base = std::env::temp_dir();
    for attempt in 0..1000u32 {
        let dir = base.join(format!("ipclab-bench-{}-{attempt}", std::process::id()));
        match std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(format!("cannot create {}: {error}", dir.display())),
        }
    }
    Err(format!("cannot create a new directory in {}: every name tried exists", base.display()))
}

/// Voluntary context switches of this process so far.
fn voluntary_switches() -> i64 {
    // SAFETY: getrusage fills a plain structure.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage.ru_nvcsw
    }
}

/// Waits for the server; returns its exit status (`None` if a signal ended it) and its voluntary context
/// switches.
fn reap(pid: i32) -> (Option<i32>, i64) {
    // SAFETY: wait4 for a child of this process, filling a status and a plain structure.
    unsafe {
        let mut status = 0;
        let mut usage: libc::rusage = std::mem::zeroed();
        loop {
            let got = libc::wait4(pid, &mut status, 0, &mut usage);
            if got == pid {
                break;
            }
            if got < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return (None, 0);
            }
        }
        let code = if libc::WIFEXITED(status) { Some(libc::WEXITSTATUS(status)) } else { None };
        (code, usage.ru_nvcsw)
    }
}

/// memcpy of 1 MiB within one process: the bound on any shared-memory transfer of that size.
fn memcpy_rate() -> f64 {
    let mut memcpy = Memcpy::new();
    memcpy.time(30);
    memcpy.samples.clear();
    memcpy.time(270);
    memcpy.rate()
}

/// A memcpy of 1 MiB from one buffer to another, timed copy by copy.
struct Memcpy {
    source: Vec<u8>,
    destination: Vec<u8>,
    /// Nanoseconds per copy.
    samples: Vec<f64>,
}

impl Memcpy {
    const SIZE: usize = 1 << 20;

    fn new() -> Memcpy {
        Memcpy {
            source: (0..Memcpy::SIZE).map(|index| (index * 31 % 251) as u8).collect(),
            destination: vec![0; Memcpy::SIZE],
            samples: Vec::new(),
        }
    }

    /// Times `rounds` copies, after one that is not timed (it brings both buffers back into the cache).
    fn time(&mut self, rounds: usize) {
        for round in 0..=rounds {
            let started = Instant::now();
            self.destination.copy_from_slice(std::hint::black_box(&self.source));
            std::hint::black_box(&mut self.destination);
            if round > 0 {
                self.samples.push(started.elapsed().as_nanos() as f64);
            }
        }
        assert_eq!(self.destination, self.source);
    }

    /// Bytes per second at the median copy.
    fn rate(&self) -> f64 {
        let mut sorted = self.samples.clone();
        sorted.sort_by(f64::total_cmp);
        Memcpy::SIZE as f64 / (percentile(&sorted, 0.5) * 1e-9)
    }
}

fn machine() -> serde_json::Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .map(|line| line.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel =
        nix::sys::utsname::uname().map(|name| name.release().to_string_lossy().into_owned()).unwrap_or_default();
    let cpus = std::thread::available_parallelism().map(|count| count.get()).unwrap_or(1);
    serde_json::json!({ "cpu": cpu, "cpus": cpus, "kernel": kernel })
}

pub fn run(args: &RealArgs) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(message) => {
            note!("ipclab bench real: {message}");
            ExitCode::from(2)
        }
    }
}

fn choose<T: Copy>(text: &str, what: &str, both: [T; 2], names: [&str; 2]) -> Result<Vec<T>, String> {
    match text {
        "both" => Ok(both.to_vec()),
        name if name == names[0] => Ok(vec![both[0]]),
        name if name == names[1] => Ok(vec![both[1]]),
        other => Err(format!("--{what} {other:?}: expected {}, {} or both", names[0], names[1])),
    }
}

fn run_inner(args: &RealArgs) -> Result<ExitCode, String> {
    if let Some(from) = &args.from {
        return saved(from, args.json.as_deref());
    }
    let mechanisms: Vec<Mechanism> = if args.mechanisms.is_empty() {
        Mechanism::ALL.to_vec()
    } else {
        args.mechanisms
            .iter()
            .map(|name| {
                Mechanism::from_name(name.trim()).ok_or_else(|| {
                    let known: Vec<&str> = Mechanism::ALL.iter().map(|mechanism| mechanism.name()).collect();
                    format!("--mechanism {name:?}: unknown; the mechanisms are {}", known.join(", "))
                })
            })
            .collect::<Result<_, _>>()?
    };
    let mut mechanisms = mechanisms;
    let mut seen = Vec::new();
    mechanisms.retain(|mechanism| {
        let first = !seen.contains(mechanism);
        seen.push(*mechanism);
        first
    });
    if let Some(path) = &args.json {
        super::json_path_ok(path)?;
    }
    let mut sizes: Vec<usize> = args.sizes.iter().map(|text| parse_size(text)).collect::<Result<_, _>>()?;
    sizes.sort_unstable();
    sizes.dedup();
    let placements = choose(&args.placement, "placement", [Placement::Same, Placement::Split], ["same", "split"])?;
    let patterns = choose(&args.pattern, "pattern", [Pattern::PingPong, Pattern::Stream], ["ping-pong", "stream"])?;
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 60.0) {
        return Err(format!("--seconds {}: expected more than 0 and at most 60", args.seconds));
    }
    let original = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
        .map_err(|error| format!("sched_getaffinity: {error}"))?;
    let cpus: Vec<usize> =
        (0..nix::sched::CpuSet::count()).filter(|cpu| original.is_set(*cpu).unwrap_or(false)).collect();
    let placements: Vec<Placement> = placements
        .into_iter()
        .filter(|placement| {
            let possible = *placement == Placement::Same || cpus.len() >= 2;
            if !possible {
                note!("ipclab bench real: this process may run on one CPU only; the two-CPU placement is left out");
            }
            possible
        })
        .collect();
    if placements.is_empty() || cpus.is_empty() {
        return Err("no placement left to measure".into());
    }

    // Every case: counters only at 8 bytes (their messages are numbers).
    let mut cases = Vec::new();
    for &mechanism in &mechanisms {
        let case_sizes: Vec<usize> =
            if mechanism.counter() { vec![8] } else { sizes.iter().copied().filter(|size| *size >= 8).collect() };
        for &size in &case_sizes {
            for &pattern in &patterns {
                for &placement in &placements {
                    cases.push((mechanism, size, placement, pattern));
                }
            }
        }
    }
    let plan = Plan { seconds: args.seconds, check_only: args.check_only };

    // SAFETY: installs a handler that only stores to an atomic, without SA_RESTART so that a blocked
    // call returns EINTR when the alarm rings.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_alarm as extern "C" fn(libc::c_int) as *const () as usize;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGALRM, &action, std::ptr::null_mut());
    }
    let (request_signal, reply_signal) = mechanism::signal_numbers();
    let old_mask = mechanism::block_signals(&[request_signal, reply_signal]);

    let mut janitor = Janitor::start()?;
    let dir = private_dir()?;
    let dir_object = Object::Dir(dir.clone());
    janitor.keep(&dir_object);

    let progress = indicatif::ProgressBar::new(cases.len() as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} cases, {elapsed} {msg}")
            .expect("a valid template"),
    );
    let hidden = progress.is_hidden();
    note!(
        "ipclab bench real: {} cases ({} mechanisms, sizes {}, {}, {}){}",
        cases.len(),
        mechanisms.len(),
        sizes.iter().map(|size| size_text(*size)).collect::<Vec<_>>().join(" "),
        placements.iter().map(|placement| placement.name()).collect::<Vec<_>>().join(" and "),
        patterns.iter().map(|pattern| pattern.key()).collect::<Vec<_>>().join(" and "),
        if args.check_only { ", --check-only: counts and checks, no timings" } else { "" }
    );
    let mut results = Vec::new();
    let mut failures = Vec::new();
    let mut left_out = Vec::new();
    let mut last_mechanism = None;
    for (mechanism, size, placement, pattern) in cases {
        progress.set_message(format!(
            "{} {} {} {}",
            mechanism.name(),
            size_text(size),
            pattern.key(),
            placement.name()
        ));
        if hidden && last_mechanism != Some(mechanism) {
            note!("  {} ...", mechanism.name());
            last_mechanism = Some(mechanism);
        }
        match case(mechanism, size, placement, pattern, &cpus, &plan, &dir, &mut janitor) {
            Ok(result) => results.push(result),
            Err(message) => {
                let what = format!("{} {} {} {}", mechanism.name(), size_text(size), pattern.key(), placement.name());
                match message.strip_prefix(mechanism::CANNOT_RUN) {
                    Some(reason) => left_out.push(format!("{what}: {reason}")),
                    None => {
                        let line = format!("{what}: {message}");
                        progress.suspend(|| note!("ipclab bench real: {line}"));
                        failures.push(line);
                    }
                }
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &original);
    // SAFETY: restores the signal mask the benchmark started with.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, &old_mask, std::ptr::null_mut()) };
    janitor.remove(&dir_object);
    janitor.finish();

    let memcpy = if args.check_only { 0.0 } else { memcpy_rate() };
    let models = accounts(&results);
    let report = full_report(&mechanisms, &results, &models, memcpy, args.check_only, &failures, &left_out);
    if let Err(code) = crate::output::print(&report) {
        return Ok(code);
    }
    if let Some(path) = &args.json {
        let value = serde_json::json!({
            "machine": machine(),
            "seconds_per_case": args.seconds,
            "check_only": args.check_only,
            "memcpy_bytes_per_second": memcpy,
            "cases": results,
            "model": models,
            "claims": report::claims(&results, memcpy),
            "failures": failures,
            "left_out": left_out,
        });
        super::write_json(path, &value)?;
    }
    Ok(if failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The mechanisms (in the order measured), message sizes (but the counters' 8 bytes) and patterns of
/// the cases of a run.
fn measured(results: &[CaseResult]) -> (Vec<Mechanism>, Vec<usize>, Vec<Pattern>) {
    let (mut mechanisms, mut sizes, mut patterns) = (Vec::new(), Vec::new(), Vec::new());
    for case in results {
        let mechanism = Mechanism::from_name(case.mechanism).expect("a mechanism's own name");
        if !mechanisms.contains(&mechanism) {
            mechanisms.push(mechanism);
        }
        if !mechanism.counter() && !sizes.contains(&case.size) {
            sizes.push(case.size);
        }
        let pattern = if case.pattern == Pattern::Stream.key() { Pattern::Stream } else { Pattern::PingPong };
        if !patterns.contains(&pattern) {
            patterns.push(pattern);
        }
    }
    sizes.sort_unstable();
    patterns.sort_by_key(|pattern| *pattern == Pattern::Stream);
    (mechanisms, sizes, patterns)
}

/// The simulator's account of every case measured; a stream's model uses the credit window the real arm
/// used (it depends on the host's buffers).
fn accounts(results: &[CaseResult]) -> Vec<model::Account> {
    let (mechanisms, sizes, patterns) = measured(results);
    let window = |mechanism: Mechanism, size: usize| {
        results
            .iter()
            .find(|case| case.mechanism == mechanism.name() && case.size == size && case.pattern == "stream")
            .map(|case| case.window)
    };
    model::accounts(&mechanisms, &sizes, &patterns, &window)
}

/// The whole report: how each mechanism talks, the tables, the claims, and what was left out.
fn full_report(
    mechanisms: &[Mechanism],
    results: &[CaseResult],
    models: &[model::Account],
    memcpy: f64,
    check_only: bool,
    failures: &[String],
    left_out: &[String],
) -> String {
    let mut report = String::from("How each mechanism's two processes talk:\n\n");
    for mechanism in mechanisms {
        let copies = if mechanism.shared_memory() { " (the kernel copies nothing)" } else { "" };
        report.push_str(&format!("- {}: {}{copies}\n", mechanism.name(), mechanism.how()));
    }
    report.push('\n');
    report.push_str(&report::text(results, models, memcpy, check_only, failures));
    if !left_out.is_empty() {
        report.push_str(&format!("\n{} cases cannot run on this host, and were left out:\n", left_out.len()));
        for line in left_out {
            report.push_str(&format!("  {line}\n"));
        }
    }
    report
}

/// The most a saved run's JSON may hold: a whole run of every case is some 180 KB.
const SAVED_RUN_LIMIT: u64 = 64 << 20;

/// `--from FILE`: the report of a saved run, with the simulator's account computed by this build.
fn saved(from: &std::path::Path, json: Option<&std::path::Path>) -> Result<ExitCode, String> {
    let bytes = crate::input::read_regular(from, SAVED_RUN_LIMIT, "saved bench run")
        .map_err(|error| format!("--from {}: {error}", from.display()))?;
    let text =
        String::from_utf8(bytes).map_err(|error| format!("--from {}: not UTF-8 text: {error}", from.display()))?;
    let mut value: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| format!("--from {}: not JSON: {error}", from.display()))?;
    let not_a_run =
        |what: String| format!("--from {}: not a run saved by ipclab bench real --json: {what}", from.display());
    if value.get("cases").is_none() {
        return Err(not_a_run("no \"cases\"".into()));
    }
    #[derive(serde::Deserialize)]
    #[serde(bound(deserialize = "'de: 'static"))]
    struct Saved {
        cases: Vec<CaseResult>,
    }
    // A case's names are this build's own (`known_name`); serde's derive still asks for input that lives
    // as long as they do, so the text is kept for the rest of this one command.
    let text: &'static str = Box::leak(text.into_boxed_str());
    let results = serde_json::from_str::<Saved>(text).map_err(|error| not_a_run(format!("its cases: {error}")))?.cases;
    let strings = |key: &str| -> Result<Vec<String>, String> {
        serde_json::from_value(value.get(key).cloned().unwrap_or(serde_json::json!([])))
            .map_err(|error| not_a_run(format!("its {key:?}: {error}")))
    };
    let (failures, left_out) = (strings("failures")?, strings("left_out")?);
    let memcpy = value.get("memcpy_bytes_per_second").and_then(serde_json::Value::as_f64).unwrap_or(0.0);
    let check_only = value.get("check_only").and_then(serde_json::Value::as_bool).unwrap_or(false);
    let (mechanisms, _, _) = measured(&results);
    let models = accounts(&results);
    let mut report = format!("The run saved in {}", from.display());
    if let Some(machine) = value.get("machine") {
        let field = |key: &str| machine.get(key).map(|field| field.to_string().trim_matches('"').to_string());
        if let (Some(cpu), Some(cpus), Some(kernel)) = (field("cpu"), field("cpus"), field("kernel")) {
            report.push_str(&format!(" (measured on {cpu}, {cpus} CPUs, Linux {kernel})"));
        }
    }
    report.push_str(", with the simulator's account computed by this build.\n\n");
    report.push_str(&full_report(&mechanisms, &results, &models, memcpy, check_only, &failures, &left_out));
    if let Err(code) = crate::output::print(&report) {
        return Ok(code);
    }
    if let Some(path) = json {
        value["model"] = serde_json::to_value(&models).expect("json");
        value["claims"] = serde_json::to_value(report::claims(&results, memcpy)).expect("json");
        super::write_json(path, &value)?;
    }
    Ok(ExitCode::SUCCESS)
}

mod report;
