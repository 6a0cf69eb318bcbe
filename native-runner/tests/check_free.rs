//! `ipclab check --free N` end to end: the library's scenarios that declare outcomes, run free on Linux
//! with fixed seeds, agree with the model's outcome set; a model made to forbid an outcome Linux
//! produces (the test hook `--forbid-outcome`) fails the check naming that outcome and the order of the
//! calls that led to it; a process killed by another one and a deadlock are read as the explorer
//! writes them; usage errors and refused scenarios; a stop signal that ends the check with the runs
//! made so far reported.
//!
//! Like `tests/check.rs`, these start real processes in namespaces of their own, so they expect root
//! and at least two CPUs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ipclab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ipclab"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("native-runner lives in the workspace").to_path_buf()
}

fn free_check(args: &[&str], file: &Path) -> (Output, serde_json::Value) {
    let output =
        ipclab().args(["check", "--quiet", "--format", "json"]).args(args).arg(file).output().expect("ipclab runs");
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "check --free printed no JSON ({error}); status {:?}; stderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output, json)
}

/// The library's scenarios that declare outcomes.
fn with_declared_outcomes() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("the scenario library exists")
        .map(|entry| entry.expect("readable directory").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "ipc"))
        .filter(|path| {
            std::fs::read_to_string(path).expect("readable").lines().any(|line| line.starts_with("outcome "))
        })
        .collect();
    files.sort();
    files
}

fn rows(json: &serde_json::Value) -> &Vec<serde_json::Value> {
    json["files"][0]["rows"].as_array().expect("rows is a list")
}

fn linux_runs(json: &serde_json::Value) -> u64 {
    rows(json).iter().map(|row| row["linux"].as_u64().expect("a count")).sum()
}

#[test]
fn library_scenarios_with_declared_outcomes_agree_with_the_model_on_linux() {
    let files = with_declared_outcomes();
    let names: Vec<String> =
        files.iter().map(|file| file.file_name().unwrap().to_string_lossy().into_owned()).collect();
    // The races and bugs the library teaches: the lost update, the swapped semaphore order, the
    // forgotten `close`, two writers above PIPE_BUF, the FIFO opened before it exists.
    for expected in [
        "shm-lost-update.ipc",
        "sem-producer-consumer-deadlock.ipc",
        "eof-never-comes.ipc",
        "pipe-buf-atomicity.ipc",
        "fifo-open-before-mkfifo.ipc",
    ] {
        assert!(names.iter().any(|name| name == expected), "{expected} declares outcomes: {names:?}");
    }
    let mut cut_models = 0;
    for file in &files {
        // The bounded buffer's every schedule is out of reach: a part of its model is enough here, as
        // it has one outcome.
        let (output, json) = free_check(&["--free", "20", "--seed", "1", "--max-states", "20000"], file);
        let report = &json["files"][0];
        let text = std::fs::read_to_string(file).unwrap();
        let counts = |word: &str| text.lines().any(|line| line.trim_start().starts_with(word));
        if counts("copied ") || counts("calls ") {
            // Bytes copied and system calls are counted by the model alone: such a scenario is refused,
            // never run.
            let why = if counts("copied ") { "counts bytes copied" } else { "counts system calls" };
            assert_eq!(output.status.code(), Some(2), "{}: {report:#}", file.display());
            assert!(report["refused"].as_str().unwrap().contains(why), "{report:#}");
            continue;
        }
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}: {report:#}\nstderr:\n{}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(report["agrees"], true, "{}", file.display());
        assert_eq!(report["unclear"].as_array().map(Vec::len), Some(0), "{}: {report:#}", file.display());
        assert_eq!(linux_runs(&json), 20, "{}: every run has an outcome", file.display());
        for row in rows(&json) {
            assert!(row["linux"] == 0 || row["allowed"] == true, "{}: {row:#}", file.display());
        }
        let verdicts = report["verdicts"].as_array().expect("verdicts");
        assert!(!verdicts.is_empty(), "{}", file.display());
        // The model's verdicts are final when it explored every schedule; cut (the bounded buffer's),
        // an `always` that no schedule refutes is not.
        let complete = report["model_incomplete"].is_null();
        cut_models += !complete as usize;
        for verdict in verdicts {
            assert_eq!(verdict["refuted_by_linux"], false, "{}: {verdict:#}", file.display());
            if complete || (verdict["quantifier"] == "always" && verdict["model_holds"] == true) {
                assert_eq!(verdict["model_settled"], complete, "{}: {verdict:#}", file.display());
            }
            assert_eq!(
                verdict["linux_witnesses"].as_u64().unwrap() + verdict["linux_others"].as_u64().unwrap(),
                20,
                "{}",
                file.display()
            );
        }
    }
    assert!(cut_models >= 1, "the bounded buffer's model is cut at 20,000 states");
}

#[test]
fn a_deadlock_on_linux_is_the_model_s_deadlock() {
    let (output, json) = free_check(&["--free", "5", "--seed", "3"], &root().join("scenarios/eof-never-comes.ipc"));
    assert_eq!(output.status.code(), Some(0));
    let rows = rows(&json);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["linux"], 5);
    assert_eq!(rows[0]["ending"]["ending"], "deadlock");
    assert_eq!(rows[0]["ending"]["processes"], serde_json::json!([["child", "running"], ["parent", "running"]]));
    assert_eq!(json["files"][0]["verdicts"][0]["linux_witnesses"], 5);
}

#[test]
fn a_model_that_forbids_an_outcome_linux_produces_fails_the_free_check_naming_it() {
    let file = root().join("scenarios/shm-lost-update.ipc");
    // The model with every schedule where both updates count taken out: Linux shows that outcome on
    // most runs, so the free check must fail and name it.
    let hook = ["--free", "20", "--seed", "1", "--forbid-outcome", "both updates count"];
    let (output, json) = free_check(&hook, &file);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(json["files"][0]["agrees"], false);
    let forbidden: Vec<&serde_json::Value> =
        rows(&json).iter().filter(|row| row["allowed"] == false && row["linux"].as_u64() > Some(0)).collect();
    assert_eq!(forbidden.len(), 1, "{:#?}", rows(&json));
    let row = forbidden[0];
    assert_eq!(row["model"], "0", "in decimal, as every count of the model's schedules");
    assert!(row["outcome"].as_str().unwrap().contains("sometimes \"both updates count\""), "{row:#}");
    let order: Vec<&str> =
        row["order"].as_array().expect("the order of its calls").iter().map(|line| line.as_str().unwrap()).collect();
    assert!(order.iter().any(|line| line.starts_with("main (pid 2): fork() = ")), "{order:#?}");
    assert!(order.iter().any(|line| line.starts_with("main (pid 2): total = ") && line.ends_with("= 2")), "{order:#?}");
    assert_eq!(order.last().copied(), Some("b (pid 4) exited with status 0"), "{order:#?}");

    // The text report says it in words, with the run's stirring and its calls.
    let output = ipclab().args(["check", "--quiet"]).args(hook).arg(&file).output().expect("ipclab runs");
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Linux showed an outcome the model says cannot happen"), "{text}");
    assert!(text.contains("<- the model forbids it"), "{text}");
    assert!(text.contains("in the order the calls returned"), "{text}");
    assert!(text.contains("DISAGREES with the model"), "{text}");

    // Without the hook the same runs agree.
    let (output, json) = free_check(&hook[..4], &file);
    assert_eq!(output.status.code(), Some(0), "{json:#}");
}

#[test]
fn a_process_killed_by_another_ends_as_the_model_says() {
    let dir = std::env::temp_dir().join(format!("ipclab-free-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("kill.ipc");
    std::fs::write(
        &file,
        "process parent {\n  p = pipe\n  fork reader {\n    read p.r 1\n  }\n  fork sleeper {\n    pause\n  }\n  \
         kill reader SIGTERM\n  kill sleeper SIGKILL\n  w = wait\n  wait\n}\n\
         outcome always \"both are killed\" {\n  all-exited\n  reader killed SIGTERM\n  sleeper killed SIGKILL\n  \
         parent.w > 2\n}\n",
    )
    .unwrap();
    let (output, json) = free_check(&["--free", "10", "--seed", "5"], &file);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(output.status.code(), Some(0), "{json:#}");
    let rows = rows(&json);
    let seen: Vec<&serde_json::Value> = rows.iter().filter(|row| row["linux"].as_u64() > Some(0)).collect();
    assert_eq!(seen.len(), 1, "{rows:#?}");
    assert_eq!(
        seen[0]["ending"]["processes"],
        serde_json::json!([
            ["parent", "exited with status 0"],
            ["reader", "killed by SIGTERM"],
            ["sleeper", "killed by SIGKILL"]
        ])
    );
    assert_eq!(json["files"][0]["verdicts"][0]["linux_witnesses"], 10);
}

#[test]
fn what_a_run_leaves_behind_is_counted_on_linux_as_in_the_model() {
    // Every run leaves one queue (with a message) and one semaphore set, and removes a second queue:
    // each count must be read in the run's own IPC namespace for the `always` to hold on Linux.
    let dir = std::env::temp_dir().join(format!("ipclab-free-left-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("left.ipc");
    std::fs::write(
        &file,
        "process main {\n  q = msgget IPC_PRIVATE IPC_CREAT|0600\n  msgsnd q 1 \"kept\"\n  \
         gone = msgget IPC_PRIVATE IPC_CREAT|0600\n  msgctl gone IPC_RMID\n  \
         s = semget IPC_PRIVATE 2 IPC_CREAT|0600\n}\n\
         outcome always \"a queue and a set outlive the run\" {\n  all-exited\n  left msg_queues == 1\n  \
         left sem_sets == 1\n  left shm_segments == 0\n  left ipc_objects == 2\n}\n",
    )
    .unwrap();
    let (output, json) = free_check(&["--free", "5", "--seed", "2"], &file);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(output.status.code(), Some(0), "{json:#}");
    let verdict = &json["files"][0]["verdicts"][0];
    assert_eq!(verdict["linux_witnesses"], 5, "{json:#}");
    assert_eq!(verdict["refuted_by_linux"], false, "{json:#}");
}

#[test]
fn usage_errors_and_refused_scenarios() {
    let lost = root().join("scenarios/shm-lost-update.ipc");
    let status = |args: &[&str]| ipclab().arg("check").args(args).output().expect("ipclab runs");
    let zero = status(&["--free", "0", lost.to_str().unwrap()]);
    assert_eq!(zero.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&zero.stderr).contains("--free must be at least 1"));
    assert_eq!(status(&["--free", "2", "--runs", "3", lost.to_str().unwrap()]).status.code(), Some(2));
    // A model with no room for a single state would forbid every run Linux makes.
    let no_room = status(&["--free", "2", "--max-states", "0", lost.to_str().unwrap()]);
    assert_eq!(no_room.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_room.stderr).contains("--max-states"), "{no_room:?}");
    assert_eq!(status(&["--free", "2", "--schedule", "random", lost.to_str().unwrap()]).status.code(), Some(2));
    let unknown = status(&["--free", "2", "--forbid-outcome", "no such label", lost.to_str().unwrap()]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no outcome labelled \"no such label\""));
    // Handlers and timers are refused, with the reason, and nothing is run for them.
    let (output, json) = free_check(&["--free", "3"], &root().join("scenarios/alarm-timeout.ipc"));
    assert_eq!(output.status.code(), Some(2));
    let refused = json["files"][0]["refused"].as_str().expect("a reason");
    assert!(refused.contains("lockstep check"), "{refused}");
    assert_eq!(json["summary"]["refused"], 1);
    // So is a count of system calls, which only the model keeps.
    let dir = std::env::temp_dir().join(format!("ipclab-free-calls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let calls = dir.join("calls.ipc");
    std::fs::write(&calls, "process main {\n  getpid\n}\noutcome always \"two calls\" {\n  calls main == 2\n}\n")
        .unwrap();
    let (output, json) = free_check(&["--free", "3"], &calls);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(output.status.code(), Some(2), "{json:#}");
    assert!(json["files"][0]["refused"].as_str().expect("a reason").contains("counts system calls"), "{json:#}");
    // A child the kernel reaps by itself leaves no status to read: no run can be compared, and that is
    // no agreement.
    let dir = std::env::temp_dir().join(format!("ipclab-free-ignored-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ignored = dir.join("ignored.ipc");
    std::fs::write(
        &ignored,
        "process parent {\n  signal SIGCHLD SIG_IGN\n  fork child {\n    exit 3\n  }\n  wait\n}\n",
    )
    .unwrap();
    let (output, json) = free_check(&["--free", "2"], &ignored);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(output.status.code(), Some(2));
    let refused = json["files"][0]["refused"].as_str().expect("a reason");
    assert!(
        refused.contains("none of its 2 runs could be compared") && refused.contains("ignores SIGCHLD"),
        "{refused}"
    );
    assert_eq!(json["files"][0]["unclear"].as_array().map(Vec::len), Some(2));
    // A refused file beside one that is checked: the other is still run and reported, and the refusal
    // decides the exit status.
    let output = ipclab()
        .args(["check", "--quiet", "--format", "json", "--free", "3"])
        .arg(root().join("scenarios/alarm-timeout.ipc"))
        .arg(root().join("scenarios/shm-counter-atomic.ipc"))
        .output()
        .expect("ipclab runs");
    assert_eq!(output.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(json["files"][0]["refused"].is_string());
    assert_eq!(json["files"][1]["agrees"], true);
    assert_eq!(json["files"][1]["rows"][0]["linux"], 3);
    assert_eq!(json["summary"]["agree"], 1);
}

#[test]
fn a_stop_signal_ends_the_free_check_with_the_runs_made_so_far() {
    let child = ipclab()
        .args(["check", "--quiet", "--format", "json", "--free", "100000"])
        .arg(root().join("scenarios/eof-never-comes.ipc"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ipclab starts");
    std::thread::sleep(std::time::Duration::from_secs(3));
    let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(sent.success());
    let output = child.wait_with_output().expect("ipclab ends");
    assert_eq!(output.status.code(), Some(128 + 15), "stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the partial report is JSON");
    assert_eq!(json["summary"]["interrupted"], 15);
    let runs = linux_runs(&json);
    assert!((1..100_000).contains(&runs), "{runs} runs reported");
    assert_eq!(json["files"][0]["unclear"].as_array().map(Vec::len), Some(0), "{json:#}");
    assert_eq!(json["files"][0]["agrees"], true);
}
