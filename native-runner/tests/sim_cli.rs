//! The `ipclab sim`, `fmt` and `parse` commands as a user runs them: output shape and exit statuses,
//! input that is not a regular file, and standard output that fails.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn ipclab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ipclab"))
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("scenarios").join(name)
}

fn temp_file(name: &str, text: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipclab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_passing_scenario_prints_its_trace_and_exits_0() {
    let output = ipclab().arg("sim").arg(scenario("pipe-parent-child.ipc")).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("read(p.r=3, 100) = 13 \"hello, child\\n\""), "{text}");
    let last = text.lines().last().unwrap();
    assert!(last.starts_with("outcome: all-exited;") && last.contains("trace hash: "), "{last}");
}

#[test]
fn a_failed_expectation_exits_1_and_says_where() {
    let path = temp_file("wrong.ipc", b"process a {\n  p = pipe\n  write p.w \"abc\" -> 4\n}\n");
    let output = ipclab().arg("sim").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains(&format!("{}:3:22: expectation failed in a: expected 4, got 3", path.display())), "{text}");
}

#[test]
fn parse_errors_exit_2_with_file_line_col_and_several_at_once() {
    let path = temp_file("bad.ipc", b"process a {\n  close\n  p = pipe\n  write p.q \"x\"\n  frobnicate 3\n}\n");
    let output = ipclab().arg("sim").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let errors = String::from_utf8(output.stderr).unwrap();
    let located: Vec<&str> = errors.lines().filter(|line| line.contains(": error: ")).collect();
    assert!(located.len() >= 2, "{errors}");
    assert!(located[0].starts_with(&format!("{}:2:", path.display())), "{errors}");
}

#[test]
fn unreadable_and_binary_files_are_clear_errors() {
    let output = ipclab().args(["sim", "/nonexistent/x.ipc"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot open the file"));
    let path = temp_file("binary.ipc", b"process a {\n  \xff\xfe\n}\n");
    let output = ipclab().arg("sim").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let errors = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(errors.starts_with(&format!("{}:2:3: error: the file is not valid UTF-8", path.display())), "{errors}");
    assert!(errors.contains("\n 2 |   \n   |   ^"), "the line up to the bad byte, and a caret after it: {errors}");
}

#[test]
fn an_error_shows_its_line_safely_and_its_place_on_a_long_one() {
    // Terminal escapes in the file are not sent to the terminal.
    let path = temp_file("escape.ipc", b"process a {\n  bogus # \x1b[2J\x1b]0;title\x07\r!\n}\n");
    let output = ipclab().arg("sim").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let errors = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(errors.contains(" 2 |   bogus # ?[2J?]0;title??!"), "{errors}");
    assert!(!errors.bytes().any(|byte| byte.is_ascii_control() && byte != b'\n'), "{errors:?}");
    // A bidirectional override cannot reorder the line shown, and the caret counts a wide character as
    // two columns.
    let path = temp_file("wide.ipc", "process a {\n  write 1 \"語\u{202E}語\" bogus\n}\n".as_bytes());
    let output = ipclab().arg("sim").arg(&path).output().unwrap();
    let errors = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(errors.contains(" 2 |   write 1 \"語?語\" bogus\n"), "{errors}");
    assert!(!errors.contains('\u{202E}'), "{errors}");
    let shown_before = "  write 1 \"語?語\" ".chars().map(|c| if c == '語' { 2 } else { 1 }).sum::<usize>();
    assert!(errors.contains(&format!("\n   | {}^", " ".repeat(shown_before))), "{errors}");
    // An error far along a long line: the part of the line around it, with the caret under it.
    let mut long = b"process a {\n  exit 0".to_vec();
    long.extend(std::iter::repeat_n(b' ', 5000));
    long.extend(b"bogus\n}\n");
    let path = temp_file("long.ipc", &long);
    let output = ipclab().arg("sim").arg(&path).output().unwrap();
    let errors = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(errors.len() < 1000, "{} bytes of errors", errors.len());
    let lines: Vec<&str> = errors.lines().collect();
    let excerpt = lines.iter().position(|line| line.starts_with(" 2 | ...")).expect("the line, cut at its start");
    let caret = lines[excerpt + 1].find('^').expect("a caret");
    assert_eq!(&lines[excerpt][caret..caret + 5], "bogus", "{errors}");
    // At the parser's cap on errors, the count says there may be more.
    let many: String = "process a {\n".to_string() + &"  bogus\n".repeat(80) + "}\n";
    let path = temp_file("many.ipc", many.as_bytes());
    let output = ipclab().arg("sim").arg(&path).output().unwrap();
    let errors = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        errors.trim_end().ends_with("50 errors, the most reported at once: fix these and run again to see any others"),
        "{errors}"
    );
}

#[test]
fn bad_schedules_are_usage_errors() {
    let file = scenario("pipe-parent-child.ipc");
    for schedule in ["2,,3", "2,nobody", "2,-3", "99"] {
        let output = ipclab().arg("sim").arg(&file).args(["--schedule", schedule]).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "--schedule {schedule}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("--schedule"), "--schedule {schedule}");
    }
    let output = ipclab().arg("sim").arg(&file).args(["--seed", "x"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    // Said once: which choice, which pid, at which step, who could run.
    let output = ipclab().arg("sim").arg(&file).args(["--schedule", "2,99"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--schedule: choice 2: pid 99 is not runnable at step 2 (runnable: 2)\n"), "{stderr}");
    // A pid past 32 bits in the scenario's own schedule line is named as such, where it stands.
    let path = temp_file("huge-pid.ipc", b"process a {\n  sched_yield\n}\nschedule a 4294967297\n");
    let output = ipclab().arg("sim").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let located = format!(
        "{}:4:12: error: pid 4294967297 is out of range in the `schedule`: a pid is at most 4294967295",
        path.display()
    );
    assert!(stderr.contains(&located), "{stderr}");
}

#[test]
fn schedules_by_name_follow_the_choices() {
    let file = scenario("pipe-parent-child.ipc");
    let output = ipclab().arg("sim").arg(&file).args(["--schedule", "parent,parent,child"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let steps: Vec<&str> = text.lines().filter(|line| line.starts_with("    3  ")).collect();
    assert!(steps.iter().any(|line| line.contains("child ")), "{text}");
}

/// `second` runs first, then `first`: the reverse of round-robin.
const PINNED: &[u8] =
    b"schedule second first\nprocess first expect exited 0 {\n  kill second 0 -> ESRCH\n}\nprocess second {\n  exit 0\n}\n";

fn choices(output: &Output) -> Vec<u64> {
    let text = String::from_utf8_lossy(&output.stdout);
    let summary: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    summary["choices"].as_array().unwrap().iter().map(|pid| pid.as_u64().unwrap()).collect()
}

#[test]
fn the_scenario_s_schedule_is_followed_by_default_and_an_explicit_schedule_replaces_it() {
    let path = temp_file("pinned.ipc", PINNED);
    let output = ipclab().arg("sim").arg(&path).args(["--format", "json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(choices(&output), [3, 2, 2], "second, then first's kill and its exit");
    let output =
        ipclab().arg("sim").arg(&path).args(["--format", "json", "--schedule", "round-robin"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "the expectation assumes the scenario's schedule");
    assert_eq!(choices(&output), [2, 3, 2]);
    let output = ipclab().arg("sim").arg(&path).args(["--format", "json", "--schedule", "first"]).output().unwrap();
    assert_eq!(choices(&output)[0], 2);
    // A schedule entry that names a process not runnable at its step is a usage error that points at it.
    let path = temp_file("unpinnable.ipc", b"schedule c\nprocess a {\n  fork c {\n    exit 0\n  }\n}\n");
    let output = ipclab().arg("sim").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let located = format!(
        "{}:1:10: error: the scenario's schedule, entry 1, at step 1: no runnable process is named c",
        path.display()
    );
    assert!(stderr.contains(&located), "{stderr}");
    assert!(stderr.contains("\n 1 | schedule c\n   |          ^"), "the line, with a caret under the entry: {stderr}");
    // The help says so.
    let help = ipclab().args(["sim", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("the scenario's own `schedule` line") && help.contains("replace"), "{help}");
}

#[test]
fn json_output_is_one_object_per_line_with_a_summary_last() {
    let output = ipclab().arg("sim").arg(scenario("eof-never-comes.ipc")).args(["--format", "json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert!(lines.len() > 5);
    assert!(lines[..lines.len() - 1].iter().all(|line| line["step"].is_u64() && line["text"].is_string()));
    let summary = lines.last().unwrap();
    assert_eq!(summary["outcome"]["kind"], "deadlock");
    assert_eq!(summary["trace_hash"].as_str().unwrap().len(), 16);
}

#[test]
fn the_same_run_twice_prints_the_same_hash_and_random_seeds_matter() {
    let file = scenario("pipe-buf-atomicity.ipc");
    let hash = |seed: &str| {
        let output = ipclab().arg("sim").arg(&file).args(["--schedule", "random", "--seed", seed]).output().unwrap();
        String::from_utf8(output.stdout).unwrap().lines().last().unwrap().to_string()
    };
    assert_eq!(hash("4"), hash("4"));
    let distinct: std::collections::BTreeSet<String> = (0..6).map(|seed| hash(&seed.to_string())).collect();
    assert!(distinct.len() > 1);
}

#[test]
fn fmt_prints_a_fixed_point_and_parse_prints_json() {
    let output = ipclab().arg("fmt").arg(scenario("shell-pipeline.ipc")).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let once = String::from_utf8(output.stdout).unwrap();
    let path = temp_file("formatted.ipc", once.as_bytes());
    let twice = String::from_utf8(ipclab().arg("fmt").arg(&path).output().unwrap().stdout).unwrap();
    assert_eq!(once, twice);
    let output = ipclab().arg("parse").arg(scenario("shell-pipeline.ipc")).output().unwrap();
    let tree: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(tree["processes"][0]["name"], "shell");
}

#[test]
fn a_step_limit_above_the_ceiling_is_refused() {
    let output = ipclab()
        .arg("sim")
        .arg(scenario("pipe-parent-child.ipc"))
        .args(["--max-steps", "1000000000000"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("max_steps_ceiling"));
}

/// Runs `command` to its end, or kills it and fails the test after `limit` (a hang is the bug).
fn output_within(mut command: Command, limit: Duration) -> Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} was still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn fifos_devices_and_directories_are_refused_without_blocking() {
    let dir = std::env::temp_dir().join(format!("ipclab-cli-special-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("scenario.ipc");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let cases = [
        (fifo.clone(), "this is a FIFO (named pipe), not a scenario file"),
        (PathBuf::from("/dev/zero"), "this is a character device, not a scenario file"),
        (dir.clone(), "this is a directory, not a scenario file"),
    ];
    for (path, expected) in &cases {
        for subcommand in ["sim", "fmt", "parse", "check"] {
            let mut command = ipclab();
            command.arg(subcommand).arg(path);
            let output = output_within(command, Duration::from_secs(20));
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{subcommand} {}: {stderr}", path.display());
            assert!(
                stderr.starts_with(&format!("{}: error: {expected}", path.display())),
                "{subcommand} {}: {stderr}",
                path.display()
            );
            assert!(output.stdout.is_empty());
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue: `sim` kept every event of a run (about 150 bytes a step with the text it printed at the end),
/// so `--max-steps 100000000`, the documented ceiling, needed about 9 GB on a loop of `sched_yield`.
/// It now prints each step as it goes and keeps none of it: two million steps run in an address space
/// of 256 MiB, which the old way overran by the first 1.5 million.
#[test]
fn a_long_run_prints_as_it_goes_in_bounded_memory() {
    use std::os::unix::process::CommandExt;
    let file = temp_file("yield-loop.ipc", b"process main {\n  repeat 10000000 {\n    sched_yield\n  }\n}\n");
    let mut command = ipclab();
    command.arg("sim").arg(&file).args(["--max-steps", "2000000"]);
    // SAFETY: setrlimit is async-signal-safe, and the closure touches nothing else.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 256 << 20, rlim_max: 256 << 20 };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    // The trace goes to a file: it is tens of megabytes, more than a pipe holds.
    let trace = file.with_extension("trace");
    command.stdout(std::fs::File::create(&trace).unwrap());
    let output = command.stderr(Stdio::piped()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "the run ends at the step limit, against its expectation: {stderr}");
    let stdout = std::fs::read_to_string(&trace).unwrap();
    let last = stdout.lines().last().expect("a summary line");
    assert!(last.starts_with("outcome: step-limit; steps: 2000000;"), "{last}");
    assert!(stdout.lines().count() > 2_000_000, "every step is printed");
}
