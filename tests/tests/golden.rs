//! Golden traces: every library scenario, run under round-robin, must print exactly the trace stored
//! beside it (`scenarios/NAME.trace`). `cargo xtask bless` rewrites them (IPCLAB_BLESS=1); nothing else does.

use ipclab_tests::{library, run_file};
use sim_core::Policy;

#[test]
fn every_library_scenario_matches_its_golden_trace() {
    let bless = std::env::var_os("IPCLAB_BLESS").is_some();
    let mut problems = Vec::new();
    let files = library();
    assert!(files.len() >= 9, "the library should hold at least the nine foundation scenarios");
    for path in files {
        let run = run_file(&path, 0, Policy::RoundRobin);
        let golden = path.with_extension("trace");
        if bless {
            std::fs::write(&golden, &run.text).expect("golden file is writable");
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Err(_) => problems.push(format!("{}: no golden trace; run `cargo xtask bless`", golden.display())),
            Ok(expected) if expected != run.text => {
                let first_difference = expected
                    .lines()
                    .zip(run.text.lines())
                    .position(|(want, got)| want != got)
                    .unwrap_or(expected.lines().count().min(run.text.lines().count()));
                problems.push(format!(
                    "{}:{}: trace differs\n  golden: {}\n  now:    {}",
                    golden.display(),
                    first_difference + 1,
                    expected.lines().nth(first_difference).unwrap_or("<end>"),
                    run.text.lines().nth(first_difference).unwrap_or("<end>")
                ));
            }
            Ok(_) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n(if the change is intended: cargo xtask bless, then review git diff)",
        problems.join("\n")
    );
}

#[test]
fn every_library_scenario_meets_its_own_expectations_under_round_robin() {
    for path in library() {
        let run = run_file(&path, 0, Policy::RoundRobin);
        assert!(run.report.failures.is_empty(), "{}: {:?}\n{}", path.display(), run.report.failures, run.text);
    }
}

#[test]
fn every_golden_trace_belongs_to_a_scenario() {
    let root = ipclab_tests::root().join("scenarios");
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|extension| extension == "trace") {
            assert!(path.with_extension("ipc").exists(), "{} has no scenario", path.display());
        }
    }
}
