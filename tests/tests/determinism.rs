//! Determinism: the same scenario, seed and choices always give the same trace hash; a run replayed
//! from its recorded choices is the same run; stepping back to a checkpoint and forward again changes
//! nothing.

use ipclab_tests::{library, run_file, run_text};
use sim_core::{Policy, RunConfig, Simulation, StepStatus};

#[test]
fn every_scenario_twice_gives_the_same_hash() {
    for path in library() {
        for (seed, policy) in [(0, Policy::RoundRobin), (1, Policy::Random), (2, Policy::Random), (99, Policy::Random)]
        {
            let first = run_file(&path, seed, policy.clone());
            let second = run_file(&path, seed, policy.clone());
            assert_eq!(first.report.trace_hash, second.report.trace_hash, "{} seed {seed}", path.display());
            assert_eq!(first.text, second.text, "{} seed {seed}", path.display());
        }
    }
}

#[test]
fn replaying_recorded_choices_repeats_the_run() {
    for path in library() {
        let original = run_file(&path, 7, Policy::Random);
        let replay = run_file(&path, 12345, Policy::Choices { pids: original.report.choices.clone() });
        assert_eq!(original.report.trace_hash, replay.report.trace_hash, "{}", path.display());
    }
}

#[test]
fn different_schedules_can_give_different_traces() {
    // The hash must depend on the interleaving, or determinism tests would prove nothing.
    let path = ipclab_tests::root().join("scenarios").join("pipe-buf-atomicity.ipc");
    let hashes: std::collections::BTreeSet<u64> =
        (0..8).map(|seed| run_file(&path, seed, Policy::Random).report.trace_hash).collect();
    assert!(hashes.len() > 1, "eight random schedules all gave one trace");
}

#[test]
fn stepping_back_to_a_checkpoint_and_forward_again_is_exact() {
    for path in library() {
        let source = std::fs::read_to_string(&path).unwrap();
        let scenario = sim_core::parse(&source).unwrap();
        let config = RunConfig { seed: 3, policy: Policy::Random, check_invariants: true, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).unwrap();
        for _ in 0..4 {
            simulation.step().unwrap();
        }
        let checkpoint = simulation.checkpoint();
        let snapshot_at_checkpoint = simulation.snapshot();
        simulation.run().unwrap();
        let end_hash = simulation.trace().hash();
        let end_events = simulation.trace().events.len();
        simulation.restore(&checkpoint);
        assert_eq!(simulation.snapshot(), snapshot_at_checkpoint, "{}", path.display());
        while simulation.step().unwrap() != StepStatus::Finished {}
        assert_eq!(simulation.trace().hash(), end_hash, "{}", path.display());
        assert_eq!(simulation.trace().events.len(), end_events, "{}", path.display());
    }
}

#[test]
fn a_text_scenario_run_through_the_helper_is_deterministic() {
    let text = "process a {\n p = pipe\n fork b {\n  write p.w \"x\"\n }\n read p.r 1 -> \"x\"\n}\n";
    assert_eq!(
        run_text("inline", text, 5, Policy::Random).report.trace_hash,
        run_text("inline", text, 5, Policy::Random).report.trace_hash
    );
}

#[test]
fn a_packed_trace_holds_exactly_the_events_of_a_kept_trace() {
    for path in library() {
        let source = std::fs::read_to_string(&path).unwrap();
        let scenario = sim_core::parse(&source).unwrap();
        for seed in [0, 1, 2] {
            let run = |keep_events: bool| {
                let config = RunConfig {
                    seed,
                    policy: Policy::Random,
                    keep_events,
                    pack_events: !keep_events,
                    ..RunConfig::default()
                };
                let mut simulation = Simulation::new(&scenario, config).unwrap();
                simulation.run().unwrap();
                simulation
            };
            let kept = run(true);
            let packed = run(false);
            let decoded: Vec<sim_core::Event> = packed.trace().packed().unwrap().events().collect();
            assert_eq!(decoded, kept.trace().events, "{} seed {seed}", path.display());
            assert_eq!(packed.trace().data, kept.trace().data);
            assert_eq!(packed.trace().hash(), kept.trace().hash());
        }
    }
}
