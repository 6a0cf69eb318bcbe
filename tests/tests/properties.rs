//! Property tests on the kernel: random scenarios under random schedules never panic, never break a
//! kernel invariant (checked after every step), and always end (all exited, deadlock or step limit).

use proptest::prelude::*;
use sim_core::ast::*;
use sim_core::{Policy, RunConfig, Simulation};

const PIPES: &[&str] = &["p", "q"];
const FDS: &[&str] = &["p.r", "p.w", "q.r", "q.w", "f", "d", "stdin", "stdout"];
const CHILDREN: &[&str] = &["c1", "c2"];
const SIGNALS: &[u8] = &[2, 9, 11, 13, 15, 17, 18, 19, 20, 10];

fn fd() -> impl Strategy<Value = FdRef> {
    prop_oneof![
        4 => proptest::sample::select(FDS).prop_map(|name| FdRef::Name(name.to_string())),
        1 => (0i32..8).prop_map(FdRef::Number),
    ]
}

fn proc_ref() -> impl Strategy<Value = ProcRef> {
    prop_oneof![
        4 => proptest::sample::select(CHILDREN).prop_map(|name| ProcRef::Name(name.to_string())),
        1 => Just(ProcRef::SelfProc),
        1 => Just(ProcRef::AnyChild),
    ]
}

fn signal() -> impl Strategy<Value = Signal> {
    proptest::sample::select(SIGNALS).prop_map(Signal)
}

fn flags() -> impl Strategy<Value = OpenFlags> {
    (0u8..3, any::<bool>()).prop_map(|(access, nonblock)| OpenFlags {
        access: [Access::ReadOnly, Access::WriteOnly, Access::ReadWrite][access as usize],
        nonblock,
        cloexec: false,
    })
}

fn call() -> impl Strategy<Value = Call> {
    let path = proptest::sample::select(&["/tmp/a", "/tmp/b"][..]).prop_map(str::to_string);
    prop_oneof![
        3 => proptest::sample::select(PIPES).prop_map(|name| Call::Pipe { name: name.to_string() }),
        1 => (proptest::sample::select(PIPES), any::<bool>()).prop_map(|(name, nonblock)| Call::Pipe2 {
            name: name.to_string(),
            flags: OpenFlags { nonblock, ..OpenFlags::default() }
        }),
        2 => (path.clone(), flags()).prop_map(|(path, flags)| Call::Open { name: "f".to_string(), path, flags }),
        1 => fd().prop_map(|fd| Call::Dup { name: "d".to_string(), fd }),
        1 => (fd(), fd()).prop_map(|(old, new)| Call::Dup2 { old, new }),
        3 => fd().prop_map(|fd| Call::Close { fd }),
        4 => (fd(), prop_oneof![
            (1u32..20).prop_map(|len| Payload::Fill { len, pattern: b"ab".to_vec() }),
            (3000u32..9000).prop_map(|len| Payload::Fill { len, pattern: b"z".to_vec() }),
            (60000u32..140000).prop_map(|len| Payload::Fill { len, pattern: b"L".to_vec() }),
        ]).prop_map(|(fd, payload)| Call::Write { fd, payload }),
        4 => (fd(), prop_oneof![1u32..10, 4000u32..70000]).prop_map(|(fd, count)| Call::Read { fd, count }),
        1 => path.clone().prop_map(|path| Call::Mkfifo { path }),
        1 => path.prop_map(|path| Call::Unlink { path }),
        1 => (fd(), prop_oneof![
            Just(FcntlCmd::GetPipeSize),
            (0u32..2_000_000).prop_map(FcntlCmd::SetPipeSize),
            Just(FcntlCmd::GetFlags),
            any::<bool>().prop_map(|nonblock| FcntlCmd::SetFlags { nonblock }),
        ]).prop_map(|(fd, cmd)| Call::Fcntl { fd, cmd }),
        2 => (proc_ref(), signal()).prop_map(|(target, signal)| Call::Kill { target, signal }),
        1 => (signal(), any::<bool>()).prop_map(|(signal, ignore)| Call::SignalDisposition {
            signal,
            disposition: if ignore { Disposition::Ignore } else { Disposition::Default }
        }),
        1 => Just(Call::Wait),
        2 => (proc_ref(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(target, nohang, untraced, continued)| {
            Call::Waitpid { target, options: WaitOptions { nohang, untraced, continued } }
        }),
        1 => Just(Call::Pause),
        1 => Just(Call::SchedYield),
        1 => (0u8..4).prop_map(|code| Call::Exit { code }),
    ]
}

fn stmt_call() -> impl Strategy<Value = Stmt> {
    call().prop_map(|call| Stmt::Call(CallStmt { call, span: Span::default(), expect: None }))
}

fn body() -> impl Strategy<Value = Vec<Stmt>> {
    let leaf = proptest::collection::vec(stmt_call(), 0..6);
    leaf.prop_recursive(3, 40, 6, |inner| {
        proptest::collection::vec(
            prop_oneof![
                6 => stmt_call(),
                1 => (proptest::sample::select(CHILDREN), inner.clone()).prop_map(|(name, body)| Stmt::Fork(ForkStmt {
                    name: name.to_string(),
                    span: Span::default(),
                    expect: None,
                    body,
                })),
                1 => (1u32..4, inner).prop_map(|(count, body)| Stmt::Repeat(RepeatStmt { count, span: Span::default(), body })),
            ],
            0..8,
        )
    })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    proptest::collection::vec(body(), 1..3).prop_map(|bodies| Scenario {
        title: None,
        description: None,
        processes: bodies
            .into_iter()
            .enumerate()
            .map(|(index, body)| ProcessDecl {
                name: format!("top{index}"),
                name_span: Span::default(),
                expect: None,
                body,
            })
            .collect(),
        expected_end: None,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_scenarios_under_random_schedules_keep_every_invariant(scenario in scenario(), seed in any::<u64>(), random in any::<bool>()) {
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
        // Rendering every event works (no panics on any event of any run).
        let text = ipclab_tests::trace_text(&simulation);
        prop_assert!(text.lines().count() >= simulation.trace().events.len());
    }
}
