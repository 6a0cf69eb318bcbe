//! Property tests on the kernel: random scenarios (every call of the table, with control flow) under
//! random schedules never panic, never break a kernel invariant (checked after every step), always
//! end (all exited, deadlock, step limit or a limit), replay exactly from their choices, and render.
//! Scenarios weighted toward signals and timers keep the laws of signals across every step (see
//! [`ipclab_tests::signal_laws`]), and the checker of those laws is shown to catch each broken law
//! and to see real signal activity. Scenarios of shared memory, mappings and memory instructions with
//! forks keep the memory invariants (frame reference counts, attach counts) at every step, replay
//! exactly, and are shown to share frames, copy on write and fault.

use ipclab_tests::generate::{memory_scenario, scenario, signal_scenario, socket_scenario, Values};
use ipclab_tests::signal_laws::{check_step, run_checked, Law, Tally, View};
use proptest::prelude::*;
use sim_core::{Event, Pid, Policy, RunConfig, Simulation, StepStatus};

/// Runs a scenario with invariants checked after every step, replays its choices, and checks the replay
/// gives the same trace, outcome and state hash (the latter also from a clone of the kernel, which
/// shares every frame's bytes); every event renders, and a snapshot can be taken.
fn run_and_replay(scenario: &sim_core::ast::Scenario, seed: u64, random: bool) -> Result<(), TestCaseError> {
    let policy = if random { Policy::Random } else { Policy::RoundRobin };
    let config = RunConfig { seed, policy, max_steps: 2_000, check_invariants: true, ..RunConfig::default() };
    let mut simulation = Simulation::new(scenario, config).expect("compiles");
    let outcome = simulation
        .run()
        .map_err(|error| TestCaseError::fail(format!("{error}\n{}", sim_core::print(scenario))))?
        .clone();
    let replay_config = RunConfig {
        seed,
        policy: Policy::Choices { pids: simulation.choices() },
        max_steps: 2_000,
        check_invariants: true,
        ..RunConfig::default()
    };
    let mut replay = Simulation::new(scenario, replay_config).expect("compiles");
    replay.run().map_err(|error| TestCaseError::fail(error.to_string()))?;
    prop_assert_eq!(replay.trace().hash(), simulation.trace().hash());
    prop_assert_eq!(replay.outcome(), Some(&outcome));
    prop_assert_eq!(replay.kernel().state_hash(), simulation.kernel().clone().state_hash());
    let _ = ipclab_tests::trace_text(&simulation);
    let _ = simulation.snapshot();
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_scenarios_under_random_schedules_keep_every_invariant(scenario in scenario(Values::Run), seed in any::<u64>(), random in any::<bool>()) {
        let policy = if random { Policy::Random } else { Policy::RoundRobin };
        let config = RunConfig { seed, policy, max_steps: 3_000, check_invariants: true, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).expect("compiles");
        let outcome = simulation.run().map_err(|error| TestCaseError::fail(error.to_string()))?.clone();
        // Every run ends, and the same inputs give the same run; the replay goes step by step with the
        // laws of signals checked after every step.
        let replay_config = RunConfig { seed, policy: Policy::Choices { pids: simulation.choices() }, max_steps: 3_000, check_invariants: true, ..RunConfig::default() };
        let mut replay = Simulation::new(&scenario, replay_config).expect("compiles");
        run_checked(&mut replay, &mut Tally::default()).map_err(TestCaseError::fail)?;
        prop_assert_eq!(replay.trace().hash(), simulation.trace().hash());
        prop_assert_eq!(replay.outcome(), Some(&outcome));
        // Rendering every event works (no panics on any event of any run), and so does a snapshot.
        let text = ipclab_tests::trace_text(&simulation);
        prop_assert!(text.lines().count() >= simulation.trace().events.len());
        let _ = simulation.snapshot();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Memory scenarios: invariants after every step, an exact replay, and a state hash that a clone of
    /// the kernel (which shares every frame's bytes) gives too.
    #[test]
    fn memory_scenarios_keep_every_invariant(scenario in memory_scenario(), seed in any::<u64>(), random in any::<bool>()) {
        run_and_replay(&scenario, seed, random)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Socket scenarios: the socket invariants (bytes conserved in every queue, every sleeper asleep on
    /// what it waits for, every open file a message carries counted) after every step, an exact
    /// replay, and a state hash that a clone of the kernel gives too.
    #[test]
    fn socket_scenarios_keep_every_invariant(scenario in socket_scenario(), seed in any::<u64>(), random in any::<bool>()) {
        run_and_replay(&scenario, seed, random)?;
    }
}

/// The socket scenarios do what they are for: over 300 of them, connections are accepted, bytes are
/// received, descriptors are passed, `poll` and `select` both find descriptors ready and sleep, and TCP
/// connections are made and reset.
#[test]
fn socket_scenarios_connect_send_pass_descriptors_and_poll() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use sim_core::lang::syscalls::CallId;
    use sim_core::trace::CallResult;
    use sim_core::EventKind;
    let mut runner = TestRunner::deterministic();
    let (mut accepted, mut received, mut passed, mut polled_ready, mut poll_slept) = (0, 0, 0, 0, 0);
    let (mut selected_ready, mut select_slept) = (0, 0);
    let (mut epoll_events, mut epoll_slept) = (0, 0);
    let (mut handshakes, mut resets) = (0, 0);
    for _ in 0..300 {
        let scenario = socket_scenario().new_tree(&mut runner).expect("a scenario").current();
        let config = RunConfig { max_steps: 2_000, check_invariants: true, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).expect("compiles");
        if let Err(error) = simulation.run() {
            panic!("{error:?}\n{}", sim_core::print(&scenario));
        }
        for event in &simulation.trace().events {
            let call = |op: u32| simulation.program().call(op).map(|call| call.id);
            match &event.kind {
                EventKind::Call { op, result, .. } => match (call(*op), result) {
                    (Some(CallId::Accept), CallResult::Value { value }) if *value >= 0 => accepted += 1,
                    (Some(CallId::Recv | CallId::Recvfrom | CallId::Read), CallResult::Data { len, .. })
                        if *len > 0 =>
                    {
                        received += 1
                    }
                    (_, CallResult::Received { fds, .. }) if *fds > 0 => passed += 1,
                    (Some(CallId::Select), CallResult::Polled { ready, .. }) if *ready > 0 => selected_ready += 1,
                    (_, CallResult::Polled { ready, .. }) if *ready > 0 => polled_ready += 1,
                    (_, CallResult::Epolled { ready, .. }) if *ready > 0 => epoll_events += 1,
                    _ => {}
                },
                EventKind::Segment { flags, .. }
                    if *flags == sim_core::trace::SEGMENT_SYN | sim_core::trace::SEGMENT_ACK =>
                {
                    handshakes += 1
                }
                EventKind::Segment { flags, .. } if flags & sim_core::trace::SEGMENT_RST != 0 => resets += 1,
                EventKind::Block { op, .. } if call(*op) == Some(CallId::EpollWait) => epoll_slept += 1,
                EventKind::Block { op, .. } if call(*op) == Some(CallId::Poll) => poll_slept += 1,
                EventKind::Block { op, .. } if call(*op) == Some(CallId::Select) => select_slept += 1,
                _ => {}
            }
        }
    }
    eprintln!(
        "300 socket scenarios: {accepted} accepts, {received} receives with bytes, {passed} descriptors passed, \
         {polled_ready} polls with entries ready, {poll_slept} polls asleep, {selected_ready} selects with \
         descriptors ready, {select_slept} selects asleep, {epoll_events} epoll_waits with events, \
         {epoll_slept} epoll_waits asleep, {handshakes} TCP handshakes, {resets} TCP resets"
    );
    assert!(
        accepted > 0
            && received > 0
            && passed > 0
            && polled_ready > 0
            && poll_slept > 0
            && selected_ready > 0
            && select_slept > 0
            && epoll_events > 0
            && epoll_slept > 0
            && handshakes > 0
            && resets > 0,
        "accepted {accepted}, received {received}, passed {passed}, polled ready {polled_ready}, poll slept \
         {poll_slept}, selected ready {selected_ready}, select slept {select_slept}, epoll events \
         {epoll_events}, epoll slept {epoll_slept}, TCP handshakes {handshakes}, resets {resets}"
    );
}

#[test]
fn memory_scenarios_share_frames_copy_on_write_and_fault() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use sim_core::EventKind;
    let mut runner = TestRunner::deterministic();
    let (mut copies, mut faults, mut values_read) = (0, 0, 0);
    for _ in 0..300 {
        let scenario = memory_scenario().new_tree(&mut runner).expect("a scenario").current();
        let config = RunConfig { max_steps: 2_000, check_invariants: true, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).expect("compiles");
        simulation.run().expect("runs");
        for event in &simulation.trace().events {
            match &event.kind {
                EventKind::PageCopied { .. } => copies += 1,
                EventKind::Fault { .. } => faults += 1,
                EventKind::Call { result: sim_core::trace::CallResult::Value { value }, op, .. }
                    if *value != 0
                        && simulation
                            .program()
                            .call(*op)
                            .is_some_and(|call| call.id == sim_core::lang::syscalls::CallId::Load) =>
                {
                    values_read += 1
                }
                _ => {}
            }
        }
    }
    assert!(copies > 0 && faults > 0 && values_read > 0, "copies {copies}, faults {faults}, values read {values_read}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Scenarios weighted toward signals and timers: after every step, no pending signal is lost, no
    /// blocked signal is delivered, and every handler returns to the frame it interrupted.
    #[test]
    fn signal_scenarios_keep_the_laws_of_signals_at_every_step(scenario in signal_scenario(), seed in any::<u64>(), random in any::<bool>()) {
        let policy = if random { Policy::Random } else { Policy::RoundRobin };
        let config = RunConfig { seed, policy, max_steps: 1_500, check_invariants: true, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).expect("compiles");
        let mut tally = Tally::default();
        // A failure (a broken law, or a panic in the kernel) shows the scenario as text and the schedule.
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_checked(&mut simulation, &mut tally)))
            .unwrap_or_else(|panic| Err(format!("panicked: {}", panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string())).unwrap_or_default())));
        checked.map_err(|error| {
            TestCaseError::fail(format!("{error}\nchoices: {:?}\n{}", simulation.choices(), sim_core::print(&scenario)))
        })?;
    }
}

/// One step: its number, the process that ran, the state before, its events, the state after.
#[derive(Clone)]
struct Step {
    number: u64,
    stepped: Option<Pid>,
    before: View,
    events: Vec<Event>,
    after: View,
}

/// Every step of a run of `text` under round-robin.
fn steps_of(text: &str) -> (Simulation, Vec<Step>) {
    let scenario = sim_core::parse(text).unwrap_or_else(|errors| panic!("{:?}", errors[0]));
    let config = RunConfig { policy: Policy::RoundRobin, check_invariants: true, ..RunConfig::default() };
    let mut simulation = Simulation::new(&scenario, config).expect("compiles");
    let mut steps = Vec::new();
    while !simulation.is_finished() {
        let before = View::of(simulation.kernel());
        let first = simulation.trace().events.len();
        let stepped = match simulation.step().expect("runs") {
            StepStatus::Ran(pid) => Some(pid),
            _ => None,
        };
        let events = simulation.trace().events[first..].to_vec();
        steps.push(Step { number: simulation.steps(), stepped, before, events, after: View::of(simulation.kernel()) });
    }
    (simulation, steps)
}

const BLOCK_RAISE_UNBLOCK: &str = "handler h {\n  n = 1\n}\nprocess main expect exited 0 {\n  n = 0\n  \
     sigaction SIGUSR1 h SA_RESTART SIGUSR2 -> 0\n  sigprocmask SIG_BLOCK SIGUSR1 -> ok\n  raise SIGUSR1 -> 0\n  \
     getpid\n  sigprocmask SIG_UNBLOCK SIGUSR1 -> ok\n  if n != 1 {\n    exit 1\n  }\n}\n";

/// The checker is not vacuous: a step that keeps every law passes, and each law broken by hand in an
/// otherwise real step is caught and named.
#[test]
fn the_signal_laws_catch_a_fabricated_violation_of_each() {
    use sim_core::trace::{Delivery, EventKind, IMPLICIT_SIGRETURN_OP};
    let (simulation, steps) = steps_of(BLOCK_RAISE_UNBLOCK);
    let program = simulation.program();
    assert_eq!(simulation.report().expect("finished").failures, vec![]);
    let check = |step: &Step| {
        check_step(program, step.number, step.stepped, &step.before, &step.events, &step.after, &mut Tally::default())
    };
    for step in &steps {
        assert_eq!(check(step), Ok(()), "the real step {} keeps every law", step.number);
    }
    let main = steps[0].before.procs.iter().find(|view| view.name == "main").expect("main").pid;
    let index_of = |view: &View| view.procs.iter().position(|process| process.pid == main).expect("main");

    // (a) The getpid step: SIGUSR1 is pending and blocked before and after. Make it vanish.
    let quiet = steps
        .iter()
        .find(|Step { before, events, .. }| {
            before.get(main).is_some_and(|view| view.sig.pending != 0)
                && events.iter().all(|event| !matches!(event.kind, EventKind::Delivered { .. }))
        })
        .expect("a step with SIGUSR1 pending throughout");
    let mut lost = quiet.clone();
    let at = index_of(&lost.after);
    lost.after.procs[at].sig.queue.clear();
    lost.after.procs[at].sig.pending = 0;
    let violation = check(&lost).expect_err("a vanished signal is caught");
    assert_eq!(
        (violation.law, violation.pid, violation.signal.map(|signal| signal.0)),
        (Law::PendingLost, main, Some(10))
    );
    assert_eq!(violation.step, quiet.number);

    // (b) The unblocking step delivers SIGUSR1 to its handler: without the sigprocmask event that
    // unblocked it, the delivery happens while it is blocked.
    let unblocking = steps
        .iter()
        .find(|Step { events, .. }| {
            events
                .iter()
                .any(|event| matches!(event.kind, EventKind::Delivered { delivery: Delivery::Handler { .. }, .. }))
        })
        .expect("a step that runs the handler");
    let mut blocked = unblocking.clone();
    blocked.events.retain(|event| !matches!(event.kind, EventKind::Call { pid, .. } if pid == main));
    let violation = check(&blocked).expect_err("a blocked delivery is caught");
    assert_eq!(
        (violation.law, violation.pid, violation.signal.map(|signal| signal.0)),
        (Law::DeliveredWhileBlocked, main, Some(10))
    );

    // (c) The handler's return: the mask must come back, the frame must go, and the process must come
    // back to the code it was running.
    let returning = steps
        .iter()
        .find(|Step { events, .. }| {
            events.iter().any(|event| matches!(event.kind, EventKind::Call { op, .. } if op == IMPLICIT_SIGRETURN_OP))
        })
        .expect("a step where the handler returns");
    let mut mask_kept = returning.clone();
    let at = index_of(&mask_kept.after);
    mask_kept.after.procs[at].sig.blocked |= 1 << 11;
    assert_eq!(check(&mask_kept).expect_err("a mask not put back is caught").law, Law::HandlerReturn);
    let mut frame_kept = returning.clone();
    frame_kept.after.procs[at].sig.frames = frame_kept.before.procs[at].sig.frames.clone();
    assert_eq!(check(&frame_kept).expect_err("a frame left in place is caught").law, Law::HandlerReturn);
    let mut elsewhere = returning.clone();
    elsewhere.after.procs[at].end_pc = elsewhere.before.procs[at].end_pc;
    assert_eq!(check(&elsewhere).expect_err("a return to other code is caught").law, Law::HandlerReturn);
    let mut other_call = returning.clone();
    other_call.after.procs[at].call.restart = !other_call.after.procs[at].call.restart;
    assert_eq!(check(&other_call).expect_err("a call state not put back is caught").law, Law::HandlerReturn);
}

/// The signal scenarios do what the laws are about: over a fixed sample (fixed generator seed and run
/// seeds), handlers run and return, signals blocked while pending are delivered later, timers fire,
/// `sigwaitinfo`/`sigtimedwait` take signals, and actions come with flags and masks.
#[test]
fn signal_scenarios_exercise_deliveries_handlers_masks_and_timers() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
    let mut runner =
        TestRunner::new_with_rng(ProptestConfig::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    let strategy = signal_scenario();
    let mut tally = Tally::default();
    for seed in 0..48u64 {
        let scenario = strategy.new_tree(&mut runner).expect("generates").current();
        let policy = if seed % 2 == 0 { Policy::Random } else { Policy::RoundRobin };
        let config = RunConfig { seed, policy, max_steps: 1_500, check_invariants: true, ..RunConfig::default() };
        let mut simulation = Simulation::new(&scenario, config).expect("compiles");
        run_checked(&mut simulation, &mut tally).unwrap_or_else(|error| panic!("sample {seed}: {error}"));
    }
    println!("{tally:#?}");
    assert!(tally.handler_deliveries > 0, "{tally:?}");
    assert!(tally.default_deliveries > 0, "{tally:?}");
    assert!(tally.sigreturns > 0, "{tally:?}");
    assert!(tally.blocked_then_delivered > 0, "{tally:?}");
    assert!(tally.alarms > 0, "{tally:?}");
    assert!(tally.timer_wakes > 0, "{tally:?}");
    assert!(tally.sigwait_taken > 0, "{tally:?}");
    assert!(tally.sigsuspends > 0, "{tally:?}");
    assert!(tally.sigactions_with_flags_or_mask > 0, "{tally:?}");
    assert!(tally.discards > 0, "{tally:?}");
}
