//! Every library scenario holds on every schedule tried: under round-robin and under 50 random
//! seeds, each run meets every expectation the scenario writes. A scenario that shows one interleaving
//! on purpose pins it with a `schedule` line, which runs follow by default (after its last entry the
//! policy picks as usual), so a probe is tried under its own schedule and then random choices.

use ipclab_tests::library;
use sim_core::{Policy, RunConfig, Simulation};

const SEEDS: u64 = 50;

#[test]
fn every_library_scenario_meets_its_expectations_under_round_robin_and_fifty_random_seeds() {
    let mut problems = Vec::new();
    for path in library() {
        let source = std::fs::read_to_string(&path).unwrap();
        let scenario = sim_core::parse(&source).unwrap_or_else(|errors| panic!("{}: {:?}", path.display(), errors[0]));
        let runs = std::iter::once((0, Policy::RoundRobin)).chain((0..SEEDS).map(|seed| (seed, Policy::Random)));
        for (seed, policy) in runs {
            let described = match policy {
                Policy::RoundRobin => "round-robin".to_string(),
                _ => format!("seed {seed}"),
            };
            let config = RunConfig { seed, policy, check_invariants: true, ..RunConfig::default() };
            let mut simulation = Simulation::new(&scenario, config).expect("a library scenario compiles");
            if let Err(error) = simulation.run() {
                problems.push(format!("{} ({described}): {error}", path.display()));
                continue;
            }
            let report = simulation.report().expect("finished");
            if let Some(failure) = report.failures.first() {
                problems.push(format!(
                    "{}:{}:{} ({described}): {}: expected {}, got {} ({} failures in this run; replay with --seed {seed})",
                    path.display(),
                    failure.span.line,
                    failure.span.col,
                    failure.process,
                    failure.expected,
                    failure.got,
                    report.failures.len()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{} runs failed:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn every_pinned_schedule_is_needed() {
    // A `schedule` line says "this case needs this interleaving": without it, some of the schedules
    // tried must break an expectation, or the line pins nothing and should go.
    let mut unneeded = Vec::new();
    for path in library() {
        let scenario = sim_core::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if scenario.schedule.is_none() {
            continue;
        }
        let runs = std::iter::once((0, Policy::RoundRobin)).chain((0..SEEDS).map(|seed| (seed, Policy::Random)));
        let some_fail = runs.into_iter().any(|(seed, policy)| {
            let config = RunConfig { seed, policy, follow_schedule: false, ..RunConfig::default() };
            let mut simulation = Simulation::new(&scenario, config).unwrap();
            simulation.run().is_err() || !simulation.report().unwrap().failures.is_empty()
        });
        if !some_fail {
            unneeded.push(path.display().to_string());
        }
    }
    assert!(unneeded.is_empty(), "these hold on every schedule without their `schedule` line: {unneeded:?}");
}
