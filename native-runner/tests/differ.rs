//! A bounded run of `cargo xtask differ`: scenarios drawn by the property tests' generators (every kind
//! in turn, from a fixed seed) are checked against Linux in lockstep, and none may differ. A case that
//! differs is shrunk, and the test fails with the shrunk scenario and the check's report.
//!
//! The cases that differed when this driver was first run (a `sigsuspend` that lets a fatal signal
//! through, glibc's `sigprocmask`, `semop`'s E2BIG before a bad id, `pipe2` with `O_DIRECT`,
//! `FUTEX_WAKE_PRIVATE` of an unmapped word, control messages on TCP, timed waits too short to see
//! asleep, and the objects a run stopped at its step limit leaves) are all among these seeds' cases.

use ipclab_tests::differ::{self, Case, Checker, Verdict};
use std::path::PathBuf;

/// Cases checked: the first 200 of seed 1, which drew every case listed above.
const CASES: u64 = 200;
const SEED: u64 = 1;

#[test]
fn drawn_scenarios_do_on_linux_what_they_do_in_the_simulator() {
    let checker = Checker { ipclab: PathBuf::from(env!("CARGO_BIN_EXE_ipclab")), max_steps: 2000 };
    let dir = std::env::temp_dir().join(format!("ipclab-differ-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let mut findings = Vec::new();
    let mut checked = 0;
    let mut refused = 0;
    for number in 0..CASES {
        let mut case = Case::draw(SEED, number, None);
        let file = dir.join(format!("{number}.ipc"));
        std::fs::write(&file, case.text()).expect("the case is written");
        match differ::check(&checker, &file, case.seed).expect("ipclab check runs") {
            Verdict::Same => checked += 1,
            Verdict::Refused(_) => refused += 1,
            Verdict::Differs(report) => {
                let (text, report, _) = differ::shrink(&checker, &mut case, &dir, 100, report).expect("shrinks");
                findings.push(format!(
                    "case {number} ({}), `ipclab check {}`:\n{text}\n{report}",
                    case.kind.name(),
                    checker.options(case.seed).join(" ")
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(findings.is_empty(), "{} drawn scenarios differ from Linux:\n\n{}", findings.len(), findings.join("\n\n"));
    // Most cases must really have been checked, not refused: the check has to be able to fail.
    assert!(checked >= CASES * 3 / 4, "only {checked} of {CASES} cases were checked ({refused} refused)");
}
