//! The explorer's verdicts on the library: every teaching scenario (one without a `schedule` line) meets
//! its expectations on every schedule, and the scenarios that show a bug report it with a schedule that
//! replays it.

use ipclab_tests::library;
use sim_core::explore::{explore, Exploration, ExploreLimits, Reduction};
use sim_core::{Policy, RunConfig, Simulation};

/// States explored per scenario at most (every schedule, without reduction): more than every library
/// scenario has but the few in [`LARGE`] (the bounded buffer has 149,984).
const MAX_STATES: u64 = 200_000;

/// The teaching scenarios with more states than [`MAX_STATES`], checked this far here. With
/// `ipclab explore` (release, its default reduction), `epoll-socket-server` meets its expectations on
/// every schedule in 2,341,943 states (16 s) and `tcp-time-wait-restart` in 541,836 (4 s).
const LARGE: [&str; 3] = ["epoll-socket-server.ipc", "large-payload-ring.ipc", "tcp-time-wait-restart.ipc"];

/// The scenarios of [`LARGE`] explored to the end here with the default reduction of `ipclab explore`
/// (sleep sets and ample sets): `large-payload-ring`, whose ring and pipe never meet, in some 100,000
/// states, where without reduction every state of one side is paired with every state of the other.
const REDUCED: [&str; 1] = ["large-payload-ring.ipc"];

fn explored_with(text: &str, reduction: Reduction) -> Exploration {
    let scenario = sim_core::parse(text).expect("a library scenario parses");
    let config = RunConfig { follow_schedule: false, ..RunConfig::default() };
    let mut simulation = Simulation::new(&scenario, config).expect("compiles");
    explore(
        &mut simulation,
        ExploreLimits { max_nodes: MAX_STATES, max_depth: 10_000, reduction, ..ExploreLimits::default() },
        &mut |_| {},
    )
}

fn explored(text: &str) -> Exploration {
    explored_with(text, Reduction::None)
}

fn text(stem: &str) -> String {
    std::fs::read_to_string(ipclab_tests::root().join("scenarios").join(format!("{stem}.ipc"))).unwrap()
}

#[test]
fn every_teaching_scenario_holds_on_every_schedule_explored() {
    let mut problems = Vec::new();
    let mut teaching = 0;
    for path in library() {
        let source = std::fs::read_to_string(&path).unwrap();
        if source.lines().any(|line| line.starts_with("schedule ")) {
            continue;
        }
        let large = LARGE.iter().any(|name| path.ends_with(name));
        let found = explored(&source);
        if found.incomplete.is_some() != large {
            problems.push(format!("{}: explored to the end: {}", path.display(), found.incomplete.is_none()));
        }
        let found = if REDUCED.iter().any(|name| path.ends_with(name)) {
            let reduced = explored_with(&source, Reduction::SleepSets);
            if let Some(why) = &reduced.incomplete {
                problems.push(format!("{}: not explored to the end with reduction: {why}", path.display()));
            }
            reduced
        } else {
            found
        };
        teaching += 1;
        for (outcome, reached) in found.outcomes.iter().filter(|(outcome, _)| !outcome.holds()) {
            problems.push(format!(
                "{}: {} schedules end {} with {:?} (shortest: {:?})",
                path.display(),
                reached.schedules,
                outcome.ending,
                outcome.failures,
                reached.shortest
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(teaching >= 40, "the library's teaching scenarios are there ({teaching})");
}

#[test]
fn the_bugs_the_library_shows_are_found_and_their_schedules_replay_them() {
    // The lost update without a mutex: some schedules fail the final count.
    let found = explored(&text("sem-no-mutex"));
    assert!(found.incomplete.is_none());
    let (lost, reached) = found.outcomes.iter().find(|(outcome, _)| !outcome.holds()).expect("a lost update");
    let replay = |stem: &str, schedule: &[u32]| {
        let scenario = sim_core::parse(&text(stem)).unwrap();
        let config = RunConfig {
            policy: Policy::Choices { pids: schedule.to_vec() },
            follow_schedule: false,
            ..RunConfig::default()
        };
        let mut simulation = Simulation::new(&scenario, config).unwrap();
        simulation.run().unwrap();
        simulation.report().unwrap()
    };
    let report = replay("sem-no-mutex", &reached.shortest);
    assert_eq!(report.failures.len(), lost.failures.len(), "the shortest schedule replays the failure");
    // The lost update in shared memory: the pinned schedule's outcome (1) and the one that counts both (2)
    // are both found, and the schedule that loses the update replays it.
    let found = explored(&text("shm-lost-update"));
    assert!(found.incomplete.is_none());
    let lost = found.outcomes.iter().find(|(outcome, _)| outcome.holds()).expect("a schedule loses an update");
    let counted = found.outcomes.iter().find(|(outcome, _)| !outcome.holds()).expect("a schedule counts both");
    assert!(replay("shm-lost-update", &lost.1.shortest).failures.is_empty());
    assert_eq!(replay("shm-lost-update", &counted.1.shortest).failures.len(), counted.0.failures.len());
    // The forgotten close: end of file never comes, on every schedule.
    let found = explored(&text("eof-never-comes"));
    assert!(found.incomplete.is_none());
    assert!(found.outcomes.iter().all(|(outcome, _)| outcome.ending == "deadlock"), "{:?}", found.outcomes);
    // The swapped P(mutex) before P(empty): a deadlock on some schedules, reached by its shortest one.
    let found = explored(&text("sem-producer-consumer-deadlock"));
    let (_, reached) = found.outcomes.iter().find(|(outcome, _)| outcome.ending == "deadlock").expect("the deadlock");
    assert_eq!(replay("sem-producer-consumer-deadlock", &reached.shortest).outcome.name(), "deadlock");
    // With the P's in the right order, no schedule deadlocks.
    let found = explored(&text("sem-producer-consumer"));
    assert!(found.incomplete.is_none());
    assert!(found.holds() && found.outcomes.iter().all(|(outcome, _)| outcome.ending == "all-exited"));
}

#[test]
fn the_outcomes_the_library_declares_hold_over_every_schedule_explored() {
    let mut declared = 0;
    for path in library() {
        let source = std::fs::read_to_string(&path).unwrap();
        if !source.lines().any(|line| line.starts_with("outcome ")) {
            continue;
        }
        let found = explored(&source);
        let program = sim_core::lang::compile::Program::compile(&sim_core::parse(&source).unwrap()).unwrap();
        let verdicts = found.verdicts(&program);
        assert_eq!(verdicts.len(), program.outcomes.len());
        for verdict in &verdicts {
            declared += 1;
            assert!(verdict.holds, "{}: {verdict:?}", path.display());
            // Settled on every schedule, or, when the exploration was cut, only by a schedule that shows
            // a `sometimes`.
            let every = found.incomplete.is_none();
            assert_eq!(verdict.settled, every || verdict.quantifier == "sometimes", "{}: {verdict:?}", path.display());
            assert_eq!(verdict.word(), if verdict.settled { "holds" } else { "unproven" });
            // An `always` or `sometimes` that holds is shown by some schedule; a `never` by none.
            assert_eq!(verdict.witnesses > 0, verdict.quantifier != "never", "{}: {verdict:?}", path.display());
        }
    }
    assert!(declared >= 3, "the library declares outcomes ({declared})");
    // A `sometimes` that no schedule shows, and a `never` that one does, are refuted.
    let text =
        format!("{}\noutcome sometimes {{\n  deadlock\n}}\n\noutcome never {{\n  all-exited\n}}\n", text("sem-mutex"));
    let program = sim_core::lang::compile::Program::compile(&sim_core::parse(&text).unwrap()).unwrap();
    let verdicts = explored(&text).verdicts(&program);
    assert_eq!(verdicts.iter().map(|verdict| verdict.holds).collect::<Vec<_>>(), [false, false]);
    assert_eq!(verdicts[0].witnesses, 0);
    assert_eq!(verdicts[1].others, 0);
    assert!(verdicts.iter().all(|verdict| verdict.settled && verdict.word() == "REFUTED"), "{verdicts:?}");
}

#[test]
fn a_verdict_is_settled_by_every_schedule_or_by_one_that_decides_it() {
    use sim_core::explore::{sample, Strategy};
    let declaring = format!(
        "{}\noutcome always \"ends\" {{\n  all-exited\n}}\n\noutcome never \"a deadlock\" {{\n  deadlock\n}}\n\n\
         outcome sometimes \"a deadlock\" {{\n  deadlock\n}}\n\noutcome never \"an end\" {{\n  all-exited\n}}\n",
        text("sem-mutex")
    );
    let scenario = sim_core::parse(&declaring).unwrap();
    let program = sim_core::lang::compile::Program::compile(&scenario).unwrap();
    let simulation =
        || Simulation::new(&scenario, RunConfig { follow_schedule: false, ..RunConfig::default() }).unwrap();
    let words = |found: &Exploration| found.verdicts(&program).iter().map(|verdict| verdict.word()).collect::<Vec<_>>();
    // Every schedule: each verdict is final, the `sometimes` and the last `never` refuted.
    let every = explore(&mut simulation(), ExploreLimits::default(), &mut |_| {});
    assert!(every.every_schedule && every.incomplete.is_none());
    assert_eq!(words(&every), ["holds", "holds", "REFUTED", "REFUTED"]);
    // Cut after a few states, or by a bound on preemptions, or sampled: no schedule refutes the first
    // two and none shows the third, which settles none of them; one that ends refutes the last.
    let cut = explore(&mut simulation(), ExploreLimits { max_nodes: 30, ..ExploreLimits::default() }, &mut |_| {});
    assert!(!cut.every_schedule && cut.incomplete.is_some() && !cut.outcomes.is_empty(), "{cut:?}");
    assert_eq!(words(&cut), ["unproven", "unproven", "not seen", "REFUTED"]);
    let bounded = ExploreLimits {
        max_preemptions: Some(0),
        reduction: sim_core::explore::Reduction::None,
        ..ExploreLimits::default()
    };
    let bounded = explore(&mut simulation(), bounded, &mut |_| {});
    assert!(!bounded.every_schedule && bounded.incomplete.is_none());
    assert_eq!(words(&bounded), ["unproven", "unproven", "not seen", "REFUTED"]);
    let sampled = sample(&mut simulation(), Strategy::Random, 20, 7, &mut |_| {});
    assert!(!sampled.every_schedule);
    assert_eq!(words(&sampled), ["unproven", "unproven", "not seen", "REFUTED"]);
    // Every schedule, but each cut at a depth before it ends: what comes after the cut was not
    // explored, so the cut schedules, counted among those that do not show the `always`, refute nothing.
    let shallow = explore(&mut simulation(), ExploreLimits { max_depth: 4, ..ExploreLimits::default() }, &mut |_| {});
    assert!(shallow.every_schedule && shallow.outcomes.iter().all(|(outcome, _)| outcome.ending == "depth-limit"));
    let verdicts = shallow.verdicts(&program);
    assert!(verdicts[0].witnesses == 0 && verdicts[0].others > 0, "{verdicts:?}");
    assert_eq!(words(&shallow), ["unproven", "unproven", "not seen", "unproven"]);
    // Cut where the shortest schedules have ended: those that ended settle what they can (none
    // deadlocks, so the `sometimes` is still not seen, nor ruled out).
    let ends = |found: &Exploration, ending: &str| found.outcomes.iter().any(|(outcome, _)| outcome.ending == ending);
    let (limits, some) = (1..100)
        .map(|depth| ExploreLimits { max_depth: depth, ..ExploreLimits::default() })
        .map(|limits| (limits, explore(&mut simulation(), limits, &mut |_| {})))
        .find(|(_, found)| ends(found, "all-exited"))
        .expect("a depth at which some schedules end");
    assert!(ends(&some, "depth-limit"), "{some:?}");
    assert_eq!(words(&some), ["unproven", "unproven", "not seen", "REFUTED"]);
    // An `always` that a schedule which ended refutes is refuted, cut schedules or not.
    let deadlocks = format!("{}\noutcome always {{\n  deadlock\n}}\n", text("sem-mutex"));
    let scenario = sim_core::parse(&deadlocks).unwrap();
    let program = sim_core::lang::compile::Program::compile(&scenario).unwrap();
    let mut simulation =
        Simulation::new(&scenario, RunConfig { follow_schedule: false, ..RunConfig::default() }).unwrap();
    let some = explore(&mut simulation, limits, &mut |_| {});
    assert_eq!(some.verdicts(&program)[0].word(), "REFUTED");
}
