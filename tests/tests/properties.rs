//! Property tests on the kernel: random scenarios (every call of the table, with control flow) under
//! random schedules never panic, never break a kernel invariant (checked after every step), always
//! end (all exited, deadlock, step limit or a limit), replay exactly from their choices, and render.

use ipclab_tests::generate::{scenario, Values};
use proptest::prelude::*;
use sim_core::{Policy, RunConfig, Simulation};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_scenarios_under_random_schedules_keep_every_invariant(scenario in scenario(Values::Run), seed in any::<u64>(), random in any::<bool>()) {
        let policy = if random { Policy::Random } else { Policy::RoundRobin };
        let config = RunConfig { seed, policy, max_steps: 3_000, check_invariants: true, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).expect("compiles");
        let outcome = simulation.run().map_err(|error| TestCaseError::fail(error.to_string()))?.clone();
        // Every run ends, and the same inputs give the same run.
        let replay_config = RunConfig { seed, policy: Policy::Choices { pids: simulation.choices() }, max_steps: 3_000, check_invariants: true, ..RunConfig::default() };
        let mut replay = Simulation::new(&scenario, replay_config).expect("compiles");
        replay.run().map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert_eq!(replay.trace().hash(), simulation.trace().hash());
        prop_assert_eq!(replay.outcome(), Some(&outcome));
        // Rendering every event works (no panics on any event of any run), and so does a snapshot.
        let text = ipclab_tests::trace_text(&simulation);
        prop_assert!(text.lines().count() >= simulation.trace().events.len());
        let _ = simulation.snapshot();
    }
}
