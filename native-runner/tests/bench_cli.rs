//! `ipclab bench` as a user runs it, on a short ping-pong: every arm runs, the counts add up, every
//! simulator arm gives the same trace hash, and the JSON holds the same numbers. No timing is asserted:
//! the speed is what the command reports, not something a test can fairly demand of a shared machine.

use std::process::Command;

fn ipclab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ipclab"))
}

#[test]
fn a_short_benchmark_runs_every_arm_and_writes_its_json() {
    let json = std::env::temp_dir().join(format!("ipclab-bench-{}.json", std::process::id()));
    let output = ipclab().args(["bench", "--messages", "2000", "--repeat", "2", "--json"]).arg(&json).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    for arm in [
        "| simulator, trace stored packed | 8006 | 12006 | 36021 |",
        "| simulator, trace stored as events | 8006 | 12006 | 36021 |",
        "| simulator, trace hashed only | 8006 | 12006 | 36021 |",
        "| linux pipes, two processes | 8000 |",
    ] {
        assert!(text.contains(arm), "missing {arm:?} in:\n{text}");
    }
    assert!(text.contains("trace hash ") && text.contains("in every simulator run"), "{text}");
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    std::fs::remove_file(&json).unwrap();
    assert_eq!(value["messages"], 2000);
    let arms = value["simulator"].as_array().unwrap();
    assert_eq!(arms.len(), 3);
    let hash = &arms[0]["trace_hash"];
    for arm in arms {
        assert_eq!(&arm["trace_hash"], hash);
        assert_eq!(arm["calls"], 8006);
        assert!(arm["seconds"].as_f64().unwrap() > 0.0);
        assert!(arm["best_seconds"].as_f64().unwrap() <= arm["seconds"].as_f64().unwrap());
    }
    assert_eq!(arms[2]["trace_bytes"], 0, "the hashed-only arm stores nothing");
    assert_eq!(value["linux"]["calls"], 8000);
}

/// A `--json` path that cannot be written is refused before the run, not after it, and nothing is
/// measured.
#[test]
fn a_json_path_that_cannot_be_written_is_refused_at_once() {
    let dir = std::env::temp_dir();
    let missing = dir.join(format!("ipclab-no-such-dir-{}", std::process::id())).join("out.json");
    for (path, words) in [(dir.clone(), "this is a directory"), (missing, "no such directory")] {
        // A million round trips would take seconds: refused at once, the run never starts.
        let output = ipclab().args(["bench", "--messages", "1000000", "--json"]).arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(words), "{stderr}");
        assert!(output.stdout.is_empty(), "nothing measured: {}", String::from_utf8_lossy(&output.stdout));
    }
}

#[test]
fn zero_messages_or_rounds_is_a_usage_error() {
    for args in [["bench", "--messages", "0"], ["bench", "--repeat", "0"]] {
        let output = ipclab().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("must be at least 1"));
    }
}
