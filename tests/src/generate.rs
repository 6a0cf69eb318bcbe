//! Generators of scenarios for property tests, read from the table of system calls: every call, with
//! operands of the kinds its row names, results of the shapes it returns, and the names it binds;
//! assignments, `if`, `while`, `repeat`, `fork`, `break` and `continue` around them.
//!
//! Names come from small fixed sets, and a last process `binder` binds every name the others use, so
//! the name check always passes. [`Values::Syntax`] draws operands from the whole range the language
//! accepts (for the parser and printer); [`Values::Run`] keeps them to what makes a run that does
//! something in a few thousand steps (for the kernel).

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use sim_core::ast::*;
use sim_core::lang::syscalls::{Binding, CallId, CallSpec, OperandKind, ResultShape, CALLS};
use sim_core::linux::{self, Family, ERRNOS};
use sim_core::Limits;

/// Which values operands take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// Anything the language accepts.
    Syntax,
    /// What gives a short run that exercises the kernel.
    Run,
}

pub const PIPES: &[&str] = &["p", "q"];
pub const PLAIN_FDS: &[&str] = &["f", "d"];
pub const FD_NAMES: &[&str] = &["p.r", "p.w", "q.r", "q.w", "f", "d", "mqd"];
/// Names bound to System V ids and named semaphore handles (by `binder`).
pub const IDS: &[&str] = &["qid", "sid", "h"];
pub const VALUES: &[&str] = &["n", "m", "errno"];
pub const CHILDREN: &[&str] = &["kid", "kid2"];
pub const PROCESSES: &[&str] = &["main", "binder", "kid", "kid2"];
/// The handlers every generated scenario declares (their bodies vary).
pub const HANDLERS: &[&str] = &["on_a", "on_b"];

pub fn span() -> Span {
    Span::default()
}

pub fn located<T>(value: T) -> Located<T> {
    Located { value, span: span() }
}

pub fn expr(kind: ExprKind) -> Expr {
    Expr { kind, span: span() }
}

pub fn pick(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(names).prop_map(str::to_string)
}

pub fn signal() -> impl Strategy<Value = Signal> {
    (1u8..=31).prop_map(Signal)
}

pub fn errno() -> impl Strategy<Value = Errno> {
    prop::sample::select(ERRNOS).prop_map(|(number, _, _)| Errno(number))
}

pub fn name(names: &'static [&'static str]) -> impl Strategy<Value = Expr> {
    pick(names).prop_map(|name| expr(ExprKind::Name(name)))
}

pub fn constant_of(family: Family) -> BoxedStrategy<Expr> {
    prop::sample::select(linux::names_of(family)).prop_map(|name| expr(ExprKind::Name(name.to_string()))).boxed()
}

pub fn int(values: Values) -> BoxedStrategy<Expr> {
    match values {
        Values::Syntax => prop_oneof![0i64..5000, any::<i64>()].prop_map(|value| expr(ExprKind::Int(value))).boxed(),
        Values::Run => (-3i64..12).prop_map(|value| expr(ExprKind::Int(value))).boxed(),
    }
}

/// A whole expression over the value names, with every operator.
pub fn full_expression(values: Values) -> BoxedStrategy<Expr> {
    let leaf = prop_oneof![
        3 => int(values),
        3 => name(VALUES),
        1 => name(FD_NAMES),
        1 => constant_of(Family::Errno),
        1 => Just(expr(ExprKind::SelfPid)),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        let unary = prop_oneof![Just(UnaryOp::Neg), Just(UnaryOp::Not)];
        let binary = prop::sample::select(vec![
            BinaryOp::Or,
            BinaryOp::And,
            BinaryOp::BitOr,
            BinaryOp::BitAnd,
            BinaryOp::Eq,
            BinaryOp::Ne,
            BinaryOp::Lt,
            BinaryOp::Le,
            BinaryOp::Gt,
            BinaryOp::Ge,
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Mul,
            BinaryOp::Div,
            BinaryOp::Rem,
        ]);
        prop_oneof![
            (unary, inner.clone()).prop_map(|(op, operand)| expr(ExprKind::Unary { op, operand: Box::new(operand) })),
            (binary, inner.clone(), inner).prop_map(|(op, left, right)| expr(ExprKind::Binary {
                op,
                left: Box::new(left),
                right: Box::new(right)
            })),
        ]
    })
    .boxed()
}

/// Flags of one family joined by `|` (left to right, as the parser builds them), or 0.
pub fn flags(family: Family) -> BoxedStrategy<Expr> {
    prop_oneof![
        1 => Just(expr(ExprKind::Int(0))),
        4 => prop::collection::vec(constant_of(family), 1..4).prop_map(|names| {
            let mut names = names.into_iter();
            let first = names.next().expect("one at least");
            names.fold(first, |left, right| {
                expr(ExprKind::Binary { op: BinaryOp::BitOr, left: Box::new(left), right: Box::new(right) })
            })
        }),
    ]
    .boxed()
}

pub fn operand(kind: OperandKind, values: Values) -> BoxedStrategy<Arg> {
    if values == Values::Run {
        if let Some(run) = run_operand(kind) {
            return run;
        }
    }
    let value = match kind {
        OperandKind::Fd => prop_oneof![
            4 => name(FD_NAMES),
            1 => constant_of(Family::StandardFd),
            1 => (0i64..2000).prop_map(|value| expr(ExprKind::Int(value))),
            1 => (name(VALUES), full_expression(values)).prop_map(|(left, right)| expr(ExprKind::Binary {
                op: BinaryOp::Add,
                left: Box::new(left),
                right: Box::new(right)
            })),
        ]
        .boxed(),
        OperandKind::Pid => prop_oneof![
            4 => name(PROCESSES),
            1 => Just(expr(ExprKind::SelfPid)),
            1 => Just(expr(ExprKind::Int(-1))),
            1 => int(values),
        ]
        .boxed(),
        OperandKind::Int => prop_oneof![int(values), full_expression(values)].boxed(),
        OperandKind::Count => prop_oneof![0i64..100_000, 0..=Limits::DEFAULT.max_io_bytes as i64]
            .prop_map(|value| expr(ExprKind::Int(value)))
            .boxed(),
        OperandKind::Signal => prop_oneof![4 => constant_of(Family::Signal), 1 => Just(expr(ExprKind::Int(0)))].boxed(),
        OperandKind::Flags(family) => flags(family),
        // Permission bits have no names: a number (which prints in octal).
        OperandKind::OneOf(family) if linux::names_of(family).is_empty() => {
            (0i64..0o7777).prop_map(|value| expr(ExprKind::Int(value))).boxed()
        }
        OperandKind::OneOf(family) => constant_of(family),
        OperandKind::Payload => {
            return prop_oneof![
                bytes(24).prop_map(|bytes| Arg::Payload(Payload::Bytes(bytes))),
                (
                    prop_oneof![0u32..100_000, 0..=Limits::DEFAULT.max_io_bytes],
                    prop_oneof![Just(b"x".to_vec()), prop::collection::vec(any::<u8>(), 1..6)]
                )
                    .prop_map(|(len, pattern)| Arg::Payload(Payload::Fill { len, pattern })),
            ]
            .boxed()
        }
        OperandKind::Path | OperandKind::Name => return path().prop_map(|path| Arg::Path(located(path))).boxed(),
        OperandKind::Id => prop_oneof![3 => name(IDS), 1 => int(values)].boxed(),
        OperandKind::Sembuf => return sembuf(values),
        OperandKind::SemArg => {
            return prop_oneof![
                2 => int(values).prop_map(Arg::Expr),
                1 => constant_of(Family::SemField).prop_map(Arg::Expr),
                1 => list(values, 1, sim_core::lang::parser::MAX_SETALL_VALUES),
            ]
            .boxed()
        }
        OperandKind::MqAttr => return list(values, 2, 2),
        OperandKind::SignalSet => prop_oneof![
            3 => flags(Family::Signal),
            1 => Just(expr(ExprKind::Int(0))),
            1 => name(VALUES),
        ]
        .boxed(),
        OperandKind::Action => prop_oneof![
            2 => name(HANDLERS),
            1 => constant_of(Family::Disposition),
            1 => name(VALUES),
        ]
        .boxed(),
    };
    value.prop_map(Arg::Expr).boxed()
}

/// `{NUM, OP[, FLAGS]} [* N]`.
pub fn sembuf(values: Values) -> BoxedStrategy<Arg> {
    let (num, op, times) = match values {
        Values::Syntax => (int(values), full_expression(values), prop_oneof![Just(1u32), 1u32..=65_535].boxed()),
        Values::Run => (
            (0i64..4).prop_map(|value| expr(ExprKind::Int(value))).boxed(),
            (-2i64..3).prop_map(|value| expr(ExprKind::Int(value))).boxed(),
            prop_oneof![8 => Just(1u32), 1 => 2u32..4, 1 => 499u32..502].boxed(),
        ),
    };
    (num, op, prop::option::of(flags(Family::SemopFlag)), times)
        .prop_map(|(num, op, flags, times)| Arg::Sembuf(SembufArg { num, op, flags, times, span: span() }))
        .boxed()
}

/// `{V, ...}` with between `min` and `max` values.
pub fn list(values: Values, min: usize, max: usize) -> BoxedStrategy<Arg> {
    let element = match values {
        Values::Syntax => full_expression(values),
        Values::Run => prop_oneof![(0i64..12), (60i64..9000)].prop_map(|value| expr(ExprKind::Int(value))).boxed(),
    };
    prop::collection::vec(element, min..=max).prop_map(|list| Arg::List(located(list))).boxed()
}

/// The operands a short run wants, where they differ from the whole range.
fn run_operand(kind: OperandKind) -> Option<BoxedStrategy<Arg>> {
    Some(match kind {
        OperandKind::Count => {
            prop_oneof![1i64..10, 4000i64..70_000].prop_map(|count| Arg::Expr(expr(ExprKind::Int(count)))).boxed()
        }
        OperandKind::Payload => prop_oneof![
            (1u32..20).prop_map(|len| Payload::Fill { len, pattern: b"ab".to_vec() }),
            (3000u32..9000).prop_map(|len| Payload::Fill { len, pattern: b"z".to_vec() }),
            (60000u32..140000).prop_map(|len| Payload::Fill { len, pattern: b"L".to_vec() }),
        ]
        .prop_map(Arg::Payload)
        .boxed(),
        OperandKind::Path => prop::sample::select(&["/tmp/a", "/tmp/b"][..])
            .prop_map(|path| Arg::Path(located(path.to_string())))
            .boxed(),
        OperandKind::Pid => prop_oneof![
            6 => name(PROCESSES),
            1 => Just(expr(ExprKind::SelfPid)),
            1 => (-3i64..4).prop_map(|value| expr(ExprKind::Int(value))),
        ]
        .prop_map(Arg::Expr)
        .boxed(),
        OperandKind::Int => (-2i64..2_000_000).prop_map(|value| Arg::Expr(expr(ExprKind::Int(value)))).boxed(),
        // Ids and handles start at 0 and 1: small numbers reach the objects other processes made.
        OperandKind::Id => prop_oneof![2 => name(IDS), 1 => (-1i64..4).prop_map(|value| expr(ExprKind::Int(value)))]
            .prop_map(Arg::Expr)
            .boxed(),
        OperandKind::Name => prop::sample::select(&["/q", "/s", "q", "/q/x"][..])
            .prop_map(|name| Arg::Path(located(name.to_string())))
            .boxed(),
        OperandKind::Flags(Family::IpcGetFlag) => prop::sample::select(&[0o1600i64, 0o3600, 0o1400, 0, 0o1000][..])
            .prop_map(|value| Arg::Expr(expr(ExprKind::Int(value))))
            .boxed(),
        OperandKind::OneOf(Family::IpcKey) => (0i64..3).prop_map(|value| Arg::Expr(expr(ExprKind::Int(value)))).boxed(),
        OperandKind::OneOf(Family::Mode) => prop::sample::select(&[0o600i64, 0o400, 0o200][..])
            .prop_map(|value| Arg::Expr(expr(ExprKind::Int(value))))
            .boxed(),
        _ => return None,
    })
}

/// Non-empty, no NUL, at most 255 bytes: any characters otherwise.
pub fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z/._-]{1,30}",
        "[^\u{0}]{1,20}",
        prop::collection::vec(Just('x'), Limits::DEFAULT.max_path_bytes as usize).prop_map(String::from_iter),
    ]
}

pub fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..max),
        "[ -~]{0,12}".prop_map(String::into_bytes),
        any::<String>().prop_map(String::into_bytes),
    ]
}

pub fn child_status() -> impl Strategy<Value = ChildStatus> {
    prop_oneof![
        any::<u8>().prop_map(ChildStatus::Exited),
        (signal(), any::<bool>()).prop_map(|(signal, core)| ChildStatus::Killed { signal, core }),
        signal().prop_map(ChildStatus::Stopped),
        Just(ChildStatus::Continued),
    ]
}

/// One result a call of this shape can be expected to give.
pub fn one_expect(shape: ResultShape) -> BoxedStrategy<Expect> {
    let mut choices: Vec<BoxedStrategy<Expect>> = vec![
        any::<i64>().prop_map(Expect::Value).boxed(),
        (-5i64..70_000).prop_map(Expect::Value).boxed(),
        Just(Expect::Ok).boxed(),
        errno().prop_map(Expect::Error).boxed(),
    ];
    if matches!(shape, ResultShape::Data | ResultShape::Message) {
        choices.push(bytes(16).prop_map(Expect::Data).boxed());
        choices.push(any::<u32>().prop_map(Expect::ByteCount).boxed());
    }
    if shape == ResultShape::Values {
        choices.push(prop::collection::vec(-3i64..40_000, 1..5).prop_map(Expect::Values).boxed());
    }
    if matches!(shape, ResultShape::Child | ResultShape::ChildInfo) {
        choices.push(Just(Expect::NoChild).boxed());
        choices.push(
            (pick(PROCESSES), child_status(), any::<bool>())
                .prop_map(|(name, status, no_core)| Expect::Child {
                    name,
                    no_core: no_core && matches!(status, ChildStatus::Killed { core: false, .. }),
                    status,
                })
                .boxed(),
        );
    }
    prop::strategy::Union::new(choices).boxed()
}

pub fn expect(shape: ResultShape) -> BoxedStrategy<Expect> {
    prop_oneof![
        4 => one_expect(shape),
        1 => prop::collection::vec(one_expect(shape), 2..4).prop_map(Expect::AnyOf),
    ]
    .boxed()
}

pub fn call_of(spec: &'static CallSpec, values: Values) -> BoxedStrategy<Stmt> {
    let required = spec.required_operands();
    let args =
        spec.operands.iter().map(|operand_spec| operand(operand_spec.kind, values)).collect::<Vec<_>>().prop_flat_map(
            move |all| {
                let count = all.len();
                (required..=count).prop_map(move |written| all[..written].to_vec())
            },
        );
    let bind = match spec.binding {
        Binding::PipeEnds => pick(PIPES).prop_map(Some).boxed(),
        Binding::Fd => prop::option::of(pick(PLAIN_FDS)).boxed(),
        Binding::Value | Binding::OutValue | Binding::Message(_) => prop::option::of(pick(&["n", "m"])).boxed(),
        Binding::Nothing => Just(None).boxed(),
    };
    let retry = if spec.result == ResultShape::NoReturn {
        Just(Vec::new()).boxed()
    } else {
        prop_oneof![3 => Just(Vec::new()), 1 => prop::collection::vec(errno(), 1..3)].boxed()
    };
    let expect = if spec.result == ResultShape::NoReturn {
        Just(None).boxed()
    } else {
        prop::option::of(expect(spec.result)).boxed()
    };
    let id = spec.id;
    (args, bind, retry, expect)
        .prop_map(move |(args, bind, mut retry, expect)| {
            retry.dedup();
            let mut seen = Vec::new();
            retry.retain(|errno| {
                if seen.contains(errno) {
                    false
                } else {
                    seen.push(*errno);
                    true
                }
            });
            Stmt::Call(CallStmt {
                bind: bind.map(located),
                call: id,
                args,
                retry,
                span: span(),
                expect: expect.map(located),
            })
        })
        .boxed()
}

pub fn call_stmt(values: Values) -> BoxedStrategy<Stmt> {
    let calls: Vec<BoxedStrategy<Stmt>> =
        CALLS.iter().filter(|spec| spec.id != CallId::Fork).map(|spec| call_of(spec, values)).collect();
    prop::strategy::Union::new(calls).boxed()
}

pub fn simple_stmt(in_loop: bool, values: Values) -> BoxedStrategy<Stmt> {
    let assign = (pick(&["n", "m"]), full_expression(values))
        .prop_map(|(name, value)| Stmt::Assign(AssignStmt { name, name_span: span(), value }));
    if in_loop {
        prop_oneof![8 => call_stmt(values), 2 => assign, 1 => Just(Stmt::Break(span())), 1 => Just(Stmt::Continue(span()))].boxed()
    } else {
        prop_oneof![8 => call_stmt(values), 2 => assign].boxed()
    }
}

pub fn outcome() -> impl Strategy<Value = ProcessOutcome> {
    prop_oneof![
        any::<u8>().prop_map(ProcessOutcome::Exited),
        (signal(), any::<bool>(), any::<bool>()).prop_map(|(signal, core, no_core)| ProcessOutcome::Killed {
            signal,
            core,
            no_core: no_core && !core
        }),
        Just(ProcessOutcome::Running),
    ]
}

/// Statements, nested up to `depth` blocks; `break` and `continue` only inside a loop of the same process.
pub fn stmt(depth: u32, in_loop: bool, values: Values) -> BoxedStrategy<Stmt> {
    if depth == 0 {
        return simple_stmt(in_loop, values);
    }
    let body = |in_loop: bool| prop::collection::vec(stmt(depth - 1, in_loop, values), 0..4);
    let repeat_count = match values {
        Values::Syntax => prop_oneof![1u32..5, 1..=Limits::DEFAULT.max_repeat_count].boxed(),
        Values::Run => (1u32..4).boxed(),
    };
    prop_oneof![
        6 => simple_stmt(in_loop, values),
        1 => (pick(CHILDREN), prop::option::of(outcome()), body(false)).prop_map(|(name, expect, body)| {
            Stmt::Fork(ForkStmt { name, span: span(), expect: expect.map(located), body })
        }),
        1 => (repeat_count, body(true))
            .prop_map(|(count, body)| Stmt::Repeat(RepeatStmt { count, span: span(), body })),
        1 => (full_expression(values), body(true)).prop_map(|(condition, body)| Stmt::While(WhileStmt { condition, span: span(), body })),
        1 => (full_expression(values), body(in_loop), body(in_loop)).prop_map(|(condition, then_body, else_body)| {
            Stmt::If(IfStmt { condition, span: span(), then_body, else_body })
        }),
    ]
    .boxed()
}

pub fn binder() -> ProcessDecl {
    let call = |bind: &str, call: CallId, args: Vec<Arg>| {
        Stmt::Call(CallStmt {
            bind: Some(located(bind.to_string())),
            call,
            args,
            retry: Vec::new(),
            span: span(),
            expect: None,
        })
    };
    let fork = |name: &str| Stmt::Fork(ForkStmt { name: name.into(), span: span(), expect: None, body: vec![] });
    let assign =
        |name: &str| Stmt::Assign(AssignStmt { name: name.into(), name_span: span(), value: expr(ExprKind::Int(0)) });
    ProcessDecl {
        name: "binder".into(),
        name_span: span(),
        expect: None,
        body: vec![
            call("p", CallId::Pipe, vec![]),
            call("q", CallId::Pipe, vec![]),
            call(
                "f",
                CallId::Open,
                vec![Arg::Path(located("fifo".into())), Arg::Expr(expr(ExprKind::Name("O_RDONLY".into())))],
            ),
            call("d", CallId::Dup, vec![Arg::Expr(expr(ExprKind::Int(0)))]),
            call("qid", CallId::Msgget, vec![int_arg(0), int_arg(0o1600)]),
            call("sid", CallId::Semget, vec![int_arg(0), int_arg(2), int_arg(0o1600)]),
            call(
                "h",
                CallId::SemOpen,
                vec![Arg::Path(located("/s".into())), int_arg(0o100), int_arg(0o600), int_arg(1)],
            ),
            call("mqd", CallId::MqOpen, vec![Arg::Path(located("/q".into())), int_arg(0o102), int_arg(0o600)]),
            assign("n"),
            assign("m"),
            fork("kid"),
            fork("kid2"),
        ],
    }
}

fn int_arg(value: i64) -> Arg {
    Arg::Expr(expr(ExprKind::Int(value)))
}

pub fn process(name: &'static str, values: Values) -> impl Strategy<Value = ProcessDecl> {
    (prop::option::of(outcome()), prop::collection::vec(stmt(3, false, values), 0..8)).prop_map(
        move |(expect, body)| ProcessDecl {
            name: name.to_string(),
            name_span: span(),
            expect: expect.map(located),
            body,
        },
    )
}

/// A signal handler: a few statements, often none.
pub fn handler(name: &'static str, values: Values) -> impl Strategy<Value = HandlerDecl> {
    prop::collection::vec(stmt(2, false, values), 0..4).prop_map(move |body| HandlerDecl {
        name: name.to_string(),
        name_span: span(),
        body,
    })
}

pub fn schedule() -> impl Strategy<Value = Vec<ScheduleEntry>> {
    let target = prop_oneof![pick(PROCESSES).prop_map(ScheduleTarget::Name), (2u32..10).prop_map(ScheduleTarget::Pid),];
    prop::collection::vec((target, prop_oneof![Just(1u32), 2u32..50]), 1..6).prop_map(|entries| {
        entries.into_iter().map(|(target, times)| ScheduleEntry { target, times, span: Span::default() }).collect()
    })
}

pub fn scenario(values: Values) -> impl Strategy<Value = Scenario> {
    let run_end = prop_oneof![Just(RunEnd::AllExited), Just(RunEnd::Deadlock), Just(RunEnd::StepLimit)];
    let schedule = match values {
        Values::Syntax => prop::option::of(schedule()).boxed(),
        Values::Run => Just(None).boxed(),
    };
    (
        prop::option::of(any::<String>()),
        prop::option::of("[ -~]{0,40}"),
        prop::option::of(run_end),
        schedule,
        process("main", values),
        prop::option::of(process("helper", values)),
        (handler("on_a", values), handler("on_b", values)),
    )
        .prop_map(|(title, description, end, schedule, main, helper, (on_a, on_b))| {
            let mut processes = vec![main];
            processes.extend(helper);
            processes.push(binder());
            Scenario {
                title,
                description,
                expected_end: end.map(located),
                schedule: schedule.map(located),
                processes,
                handlers: vec![on_a, on_b],
            }
        })
}

/// A syntax tree with every span zeroed: the printer moves things, so trees are compared without them.
pub fn without_spans(scenario: &Scenario) -> serde_json::Value {
    fn is_span(value: &serde_json::Value) -> bool {
        value.as_object().is_some_and(|map| {
            map.len() == 4 && ["line", "col", "start_byte", "end_byte"].iter().all(|key| map.contains_key(*key))
        })
    }
    fn strip(value: &mut serde_json::Value) {
        if is_span(value) {
            *value = serde_json::Value::Null;
            return;
        }
        match value {
            serde_json::Value::Object(map) => {
                for (key, field) in map.iter_mut() {
                    if key == "span" || key == "name_span" {
                        *field = serde_json::Value::Null;
                    } else {
                        strip(field);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(scenario).expect("syntax trees serialize");
    strip(&mut value);
    value
}
