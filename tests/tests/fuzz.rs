//! The fuzz targets in the suite: every input of the corpus in `tests/fuzz/corpus/` (the inputs that
//! broke something once, the resource cases of the hardening work, and the inputs earlier fuzzing
//! found showed new behaviour) still passes its check, and each target runs a bounded number of fresh
//! cases from a fixed seed. `cargo xtask fuzz` runs the same targets for as long as asked.

use ipclab_tests::fuzz::{self, Target, TARGETS};

fn replay(target: Target) {
    let corpus = fuzz::load_corpus(&target.corpus_dir());
    assert!(corpus.len() >= 3, "{}: the corpus has {} inputs", target.name(), corpus.len());
    let failures: Vec<String> = corpus
        .iter()
        .filter_map(|(path, input)| {
            fuzz::check(target, input).err().map(|message| format!("{}: {message}", path.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}: corpus inputs that fail:\n{}", target.name(), failures.join("\n"));
}

fn bounded(target: Target, cases: u64) {
    let corpus: Vec<Vec<u8>> = fuzz::load_corpus(&target.corpus_dir()).into_iter().map(|(_, input)| input).collect();
    let report = fuzz::run(target, 20261203, cases, &corpus, &Default::default(), |_| {});
    assert_eq!(report.cases, cases);
    let findings: Vec<String> = report
        .findings
        .iter()
        .map(|(input, message)| {
            format!("{message}\n--- input ({} bytes):\n{}", input.len(), String::from_utf8_lossy(input))
        })
        .collect();
    assert!(findings.is_empty(), "{}: findings:\n{}", target.name(), findings.join("\n"));
    assert!(!report.signatures.is_empty(), "the checks describe what each input did");
}

#[test]
fn every_target_is_named_and_has_a_corpus() {
    for target in TARGETS {
        assert_eq!(Target::from_name(target.name()), Some(target));
        assert!(target.corpus_dir().is_dir(), "{}", target.corpus_dir().display());
    }
}

#[test]
fn a_check_that_breaks_is_reported_not_raised() {
    // A share link whose scenario panics nowhere still passes; an input is judged, never thrown.
    assert!(fuzz::check(Target::Share, b"v1.").is_ok());
    assert!(fuzz::check(Target::Parser, b"process {").is_ok());
    // The driver is deterministic: the same seed and corpus give the same cases and behaviours.
    let a = fuzz::run(Target::Parser, 5, 40, &[], &Default::default(), |_| {});
    let b = fuzz::run(Target::Parser, 5, 40, &[], &Default::default(), |_| {});
    assert_eq!(a.signatures, b.signatures);
    assert_eq!(a.interesting, b.interesting);
}

#[test]
fn the_parser_corpus_passes_and_fresh_cases_find_nothing() {
    replay(Target::Parser);
    bounded(Target::Parser, 150);
}

#[test]
fn the_share_link_corpus_passes_and_fresh_cases_find_nothing() {
    replay(Target::Share);
    bounded(Target::Share, 150);
}

#[test]
fn the_compiler_corpus_passes_and_fresh_cases_find_nothing() {
    replay(Target::Compiler);
    bounded(Target::Compiler, 150);
}

#[test]
fn the_kernel_corpus_passes_and_fresh_cases_find_nothing() {
    replay(Target::Kernel);
    bounded(Target::Kernel, 100);
}
