//! `ipclab bench real` as a user runs it: a short version of every arm moves checked messages and
//! reports their counts (no timing is asserted: the speed is what the command reports, not something a
//! test can fairly demand of a shared machine), bad arguments are usage errors, and a run that is
//! interrupted, even by SIGKILL, leaves no IPC object, file or process behind.

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn ipclab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ipclab"))
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ipclab-bench-real-test-{}-{name}", std::process::id()))
}

/// The objects a run's ledger lists: each made (`+`), and whether the benchmark removed it itself (`-`).
fn ledger(path: &Path) -> (Option<i32>, Vec<(String, bool)>) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut janitor = None;
    let mut objects: Vec<(String, bool)> = Vec::new();
    for line in text.lines() {
        if let Some(pid) = line.strip_prefix("janitor ") {
            janitor = pid.parse().ok();
        } else if let Some(object) = line.strip_prefix("+ ") {
            objects.push((object.to_string(), false));
        } else if let Some(object) = line.strip_prefix("- ") {
            if let Some(entry) = objects.iter_mut().rev().find(|(made, removed)| made == object && !removed) {
                entry.1 = true;
            }
        }
    }
    (janitor, objects)
}

fn sysv_ids(kind: &str) -> BTreeSet<i32> {
    let text = std::fs::read_to_string(format!("/proc/sysvipc/{kind}")).unwrap();
    // The second column is the id, for msg, sem and shm alike.
    text.lines().skip(1).filter_map(|line| line.split_whitespace().nth(1)?.parse().ok()).collect()
}

/// The process's state letter in `/proc/PID/stat` (`T` when stopped by a signal).
fn state(pid: i32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()).map(str::to_string)
}

fn stopped(pid: i32) -> bool {
    state(pid).as_deref() == Some("T")
}

fn alive(pid: i32) -> bool {
    // A zombie has ended; only its parent's wait is missing.
    state(pid).is_some_and(|state| state != "Z")
}

/// Asserts that every object of the ledger is gone.
fn assert_nothing_left(objects: &[(String, bool)]) {
    for (object, _) in objects {
        let (kind, value) = object.split_once(' ').unwrap();
        let gone = match kind {
            "msg" | "sem" | "shm" => !sysv_ids(kind).contains(&value.parse().unwrap()),
            "mq" => {
                let name = std::ffi::CString::new(value).unwrap();
                // SAFETY: opens a queue by a NUL-terminated name, only to see whether it exists.
                let mqd = unsafe { libc::mq_open(name.as_ptr(), libc::O_RDONLY) };
                if mqd >= 0 {
                    // SAFETY: closes what was just opened.
                    unsafe { libc::mq_close(mqd) };
                }
                mqd < 0
            }
            "path" | "dir" => !Path::new(value).exists(),
            "pid" => !alive(value.parse().unwrap()),
            other => panic!("unknown kind {other} in the ledger"),
        };
        assert!(gone, "{object} was left behind");
    }
}

#[test]
fn every_arm_moves_checked_messages() {
    let json = temp("check.json");
    let ledger_path = temp("check.ledger");
    let output = ipclab()
        .args(["bench", "real", "--check-only", "--json"])
        .arg(&json)
        .env("IPCLAB_BENCH_LEDGER", &ledger_path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("Every case below moved its messages and checked every byte"), "{text}");
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    std::fs::remove_file(&json).unwrap();
    let cases = value["cases"].as_array().unwrap();
    let mechanisms = [
        "pipe",
        "fifo",
        "sysv-msg",
        "posix-mq",
        "shm-spin",
        "shm-futex",
        "shm-sysv-sem",
        "shm-ring",
        "unix-stream",
        "unix-stream-busy",
        "socketpair",
        "unix-dgram",
        "unix-seqpacket",
        "tcp",
        "tcp-busy",
        "udp",
        "signal",
        "eventfd",
    ];
    let mut seen = BTreeSet::new();
    for case in cases {
        let mechanism = case["mechanism"].as_str().unwrap();
        let size = case["size"].as_u64().unwrap();
        let pattern = case["pattern"].as_str().unwrap();
        let placement = case["placement"].as_str().unwrap();
        assert!(mechanisms.contains(&mechanism), "{mechanism}");
        let expected_sizes: &[u64] =
            if matches!(mechanism, "signal" | "eventfd") { &[8] } else { &[64, 4096, 32768, 65536, 1 << 20] };
        assert!(expected_sizes.contains(&size), "{mechanism} at {size}");
        let messages = case["messages"].as_u64().unwrap();
        assert_eq!(messages, 24, "{case}");
        let ways = if pattern == "ping-pong" { 2 } else { 1 };
        assert_eq!(case["bytes_checked"].as_u64().unwrap(), messages * size * ways, "{case}");
        assert_eq!(case["samples"], 0, "no timing with --check-only: {case}");
        seen.insert((mechanism.to_string(), size, pattern.to_string(), placement.to_string()));
    }
    // Every mechanism, at each of its sizes, both patterns, both placements (the machine has two CPUs).
    assert_eq!(seen.len(), cases.len(), "no case twice");
    // A host whose UDP receive buffer is small (without privilege: twice net.core.rmem_max) cannot carry
    // a 1 MiB message through UDP without drops; the run says so and leaves those cases out.
    let left_out = value["left_out"].as_array().unwrap();
    for line in left_out {
        assert!(line.as_str().unwrap().starts_with("udp 1 MiB"), "{line}");
    }
    assert_eq!(cases.len() + left_out.len(), 16 * 5 * 2 * 2 + 2 * 2 * 2);
    assert_eq!(value["failures"].as_array().unwrap().len(), 0);
    // The simulator's account beside them: shared memory copies nothing, a pipe copies each byte twice.
    let models = value["model"].as_array().unwrap();
    let model = |mechanism: &str, size: u64| {
        models.iter().find(|account| account["mechanism"] == mechanism && account["size"] == size).unwrap()
    };
    assert_eq!(model("pipe", 4096)["copied"], 4.0 * 4096.0);
    assert_eq!(model("pipe", 4096)["calls"], 4.0);
    assert_eq!(model("shm-futex", 4096)["copied"], 0.0);
    assert_eq!(model("shm-spin", 64)["calls"], 0.0);
    // Nothing left: every object the run made, it removed.
    let (janitor, objects) = ledger(&ledger_path);
    std::fs::remove_file(&ledger_path).unwrap();
    assert!(janitor.is_some());
    assert!(objects.iter().any(|(object, _)| object.starts_with("msg ")), "the run made a message queue");
    for (object, removed) in &objects {
        assert!(removed, "{object} was not removed by the run itself");
    }
    assert_nothing_left(&objects);
}

#[test]
fn bad_arguments_are_usage_errors() {
    for (args, words) in [
        (&["--mechanism", "carrier-pigeon"][..], "unknown; the mechanisms are pipe, fifo"),
        (&["--size", "12Q"][..], "unknown unit"),
        (&["--size", "2"][..], "sizes go from 8 bytes"),
        (&["--size", "99999999999999999999"][..], "expected a number of bytes"),
        (&["--placement", "elsewhere"][..], "expected same, split or both"),
        (&["--pattern", "zigzag"][..], "expected ping-pong, stream or both"),
        (&["--seconds", "0"][..], "expected more than 0"),
        (&["--seconds", "NaN"][..], "expected more than 0"),
    ] {
        let output = ipclab().args(["bench", "real"]).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    }
}

/// A saved run is reported again from its file, with the same tables and the simulator's account
/// computed afresh (and written back with `--json`); a file that is no saved run is a usage error that
/// names the file and what is wrong with it, and nothing is written.
#[test]
fn a_saved_run_is_reported_again() {
    let saved = temp("saved.json");
    let again = temp("again.json");
    let output = ipclab()
        .args(["bench", "real", "--check-only", "--mechanism", "pipe,shm-futex", "--size", "64", "--json"])
        .arg(&saved)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let first = String::from_utf8(output.stdout).unwrap();
    let output = ipclab().args(["bench", "real", "--from"]).arg(&saved).arg("--json").arg(&again).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report = String::from_utf8(output.stdout).unwrap();
    assert!(report.starts_with("The run saved in "), "{report}");
    // The same check table, line for line.
    let table = |text: &str| {
        text.lines()
            .filter(|line| line.starts_with("| pipe") || line.starts_with("| shm-futex"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(table(&report), table(&first));
    assert_eq!(table(&report).len(), 8, "{report}");
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&again).unwrap()).unwrap();
    let pipe = written["model"]
        .as_array()
        .unwrap()
        .iter()
        .find(|account| account["mechanism"] == "pipe" && account["pattern"] == "ping-pong")
        .unwrap();
    assert_eq!(
        (pipe["calls"].as_f64(), pipe["copies"].as_f64(), pipe["copied"].as_f64()),
        (Some(4.0), Some(4.0), Some(256.0))
    );
    assert_eq!(
        written["cases"],
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&saved).unwrap()).unwrap()["cases"]
    );

    let broken = temp("broken.json");
    let not_a_run = temp("not-a-run.json");
    std::fs::write(&broken, "{\"cases\": [").unwrap();
    std::fs::write(&not_a_run, r#"{"cases": [{"mechanism": "carrier-pigeon"}]}"#).unwrap();
    // A known name in the wrong field.
    let misplaced = temp("misplaced.json");
    std::fs::write(&misplaced, r#"{"cases": [{"mechanism": "same"}]}"#).unwrap();
    let untouched = temp("untouched.json");
    let fifo = temp("saved.fifo");
    let _ = std::fs::remove_file(&fifo);
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    for (file, words) in [
        (broken.clone(), "not JSON: EOF while parsing a list at line 1 column 11"),
        (
            not_a_run.clone(),
            "not a run saved by ipclab bench real --json: its cases: unknown mechanism \"carrier-pigeon\"",
        ),
        (
            misplaced.clone(),
            "not a run saved by ipclab bench real --json: its cases: unknown mechanism \"same\" (expected one of pipe, fifo,",
        ),
        (temp("missing.json"), "cannot open the file: No such file or directory"),
        // Read only from a regular file: a FIFO would block, a device never end.
        (fifo.clone(), "this is a FIFO (named pipe), not a saved bench run file"),
        (PathBuf::from("/dev/zero"), "this is a character device, not a saved bench run file"),
        (std::env::temp_dir(), "this is a directory, not a saved bench run file"),
    ] {
        let output =
            ipclab().args(["bench", "real", "--from"]).arg(&file).arg("--json").arg(&untouched).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&format!("--from {}: {words}", file.display())), "{stderr}");
        assert!(!untouched.exists());
    }
    for path in [saved, again, broken, not_a_run, misplaced, fifo] {
        let _ = std::fs::remove_file(path);
    }
}

/// The ring's stream of 1 MiB messages is compared with a memcpy timed between its own trials; a run
/// saved before there was such a bound is compared with the one memcpy it has, and says so. (What the
/// ratios are is not checked: they are timings.)
#[test]
fn the_ring_is_compared_with_a_memcpy_timed_between_its_trials() {
    let saved = temp("ring.json");
    let output = ipclab()
        .args(["bench", "real", "--mechanism", "shm-ring", "--size", "1M", "--pattern", "stream"])
        .args(["--seconds", "0.02", "--json"])
        .arg(&saved)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report = String::from_utf8(output.stdout).unwrap();
    let claims: Vec<&str> =
        report.lines().filter(|line| line.starts_with("| the ring buffer comes near memcpy")).collect();
    assert_eq!(claims.len(), 2, "{report}");
    assert!(claims.iter().all(|line| line.ends_with("(timed between its trials) |")), "{report}");
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let cases = written["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let bound = case["memcpy_beside"].as_f64().unwrap();
        // A memcpy of 1 MiB took some time and less than a second.
        assert!(bound > 1e6 && bound.is_finite(), "{case}");
    }
    let _ = std::fs::remove_file(saved);

    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/bench/real.json");
    let output = ipclab().args(["bench", "real", "--from", docs]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report = String::from_utf8(output.stdout).unwrap();
    assert!(
        report.contains(
            "| the ring buffer comes near memcpy | stream of 1 MiB messages, two CPUs | 0.57x (goal 0.80: NOT met) | ring 15.55 GB/s / memcpy 27.08 GB/s (timed after the run) |"
        ),
        "{report}"
    );
}

/// Interrupts a run while a System V message queue and the run's directory exist, and
/// checks that the janitor removed them.
fn interrupted_run_leaves_nothing(signal: i32) {
    let ledger_path = temp(&format!("interrupt-{signal}.ledger"));
    let _ = std::fs::remove_file(&ledger_path);
    let mut command = ipclab();
    // A shell starts a background job with SIGINT ignored, and the ignoring is inherited: the run a person
    // interrupts has SIGINT as it comes by default.
    // SAFETY: between fork and exec, only signal(2), which is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let child = command
        .args(["bench", "real", "--mechanism", "sysv-msg,shm-sysv-sem", "--size", "64", "--seconds", "5"])
        .env("IPCLAB_BENCH_LEDGER", &ledger_path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    // A test that fails while the run is stopped must not leave it stopped for good (its janitor would
    // then never clean up): on the way out of a panic, the run is killed, which ends it stopped or not.
    struct KillOnPanic(i32);
    impl Drop for KillOnPanic {
        fn drop(&mut self) {
            if std::thread::panicking() {
                // SAFETY: signals the child this test spawned.
                unsafe { libc::kill(self.0, libc::SIGKILL) };
            }
        }
    }
    let _guard = KillOnPanic(pid);
    // A queue lives only while its case runs, and a busy machine can let a case end between a look at the
    // ledger and the signal. So the run is stopped (SIGSTOP) before each look, and signalled only when,
    // stopped, it holds a queue that the ledger lists and the kernel still has.
    let live_queue = |path: &Path| {
        let (_, objects) = ledger(path);
        let queues = sysv_ids("msg");
        objects.iter().any(|(object, removed)| {
            !removed && object.strip_prefix("msg ").is_some_and(|id| queues.contains(&id.parse().unwrap()))
        })
    };
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(60), "the run was never caught holding its message queue");
        std::thread::sleep(Duration::from_millis(50));
        if !live_queue(&ledger_path) {
            continue;
        }
        // SAFETY: stops the child this test spawned.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
        while !stopped(pid) {
            assert!(alive(pid), "the run ended before it was caught holding its message queue");
            assert!(started.elapsed() < Duration::from_secs(60), "the run did not stop");
            std::thread::sleep(Duration::from_millis(5));
        }
        if live_queue(&ledger_path) {
            break;
        }
        // SAFETY: lets the child this test stopped go on.
        unsafe { libc::kill(pid, libc::SIGCONT) };
    }
    // SAFETY: signals the child this test spawned (SIGINT stays pending until it goes on; SIGKILL ends it
    // stopped or not).
    unsafe {
        libc::kill(pid, signal);
        libc::kill(pid, libc::SIGCONT);
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    let (janitor, objects) = ledger(&ledger_path);
    std::fs::remove_file(&ledger_path).unwrap();
    let janitor = janitor.expect("the ledger names the janitor");
    let started = Instant::now();
    while alive(janitor) {
        assert!(started.elapsed() < Duration::from_secs(10), "the janitor did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    let left: Vec<&String> = objects.iter().filter(|(_, removed)| !removed).map(|(object, _)| object).collect();
    assert!(
        left.iter().any(|object| object.starts_with("msg ")),
        "the queue was still there when the run ended: {left:?}"
    );
    assert!(left.iter().any(|object| object.starts_with("dir ")), "{left:?}");
    assert_nothing_left(&objects);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the run ended early; removed what it left:"), "{stderr}");
    assert!(stderr.contains("System V message queue id"), "{stderr}");
}

#[test]
fn an_interrupted_run_leaves_nothing_behind() {
    interrupted_run_leaves_nothing(libc::SIGINT);
}

#[test]
fn a_killed_run_leaves_nothing_behind() {
    interrupted_run_leaves_nothing(libc::SIGKILL);
}
