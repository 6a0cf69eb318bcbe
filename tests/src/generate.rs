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
use sim_core::lang::syscalls::{Binding, CallId, CallSpec, Mechanism, OperandKind, ResultShape, CALLS};
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
pub const SOCKETS: &[&str] = &["sp"];
pub const FD_NAMES: &[&str] = &["p.r", "p.w", "q.r", "q.w", "f", "d", "mqd", "sp.0", "sp.1"];
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
        OperandKind::Rights => return rights(values),
        OperandKind::PollFd => return pollfd(values),
        OperandKind::FdSet => return fdset(values),
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

/// `{FD, ...} [* N]`: the descriptors of a `sendmsg`.
pub fn rights(values: Values) -> BoxedStrategy<Arg> {
    let fd = operand(OperandKind::Fd, values).prop_map(|arg| match arg {
        Arg::Expr(expr) => expr,
        _ => unreachable!("a descriptor is an expression"),
    });
    let times = match values {
        Values::Syntax => prop_oneof![Just(1u32), 1u32..=511].boxed(),
        Values::Run => prop_oneof![8 => Just(1u32), 1 => 2u32..4, 1 => 252u32..256].boxed(),
    };
    (prop::collection::vec(fd, 1..=5), times)
        .prop_map(|(fds, times)| Arg::Rights(RightsArg { fds, times, span: span() }))
        .boxed()
}

/// `{FD, EVENTS}`: one entry of a `poll`.
pub fn pollfd(values: Values) -> BoxedStrategy<Arg> {
    (listed_fd(values), flags(Family::PollEvent)).prop_map(|(fd, events)| Arg::List(located(vec![fd, events]))).boxed()
}

/// A descriptor in a `poll` entry or a `select` set: -1 (skipped) now and then.
fn listed_fd(values: Values) -> BoxedStrategy<Expr> {
    prop_oneof![
        6 => operand(OperandKind::Fd, values).prop_map(|arg| match arg {
            Arg::Expr(expr) => expr,
            _ => unreachable!("a descriptor is an expression"),
        }),
        1 => Just(expr(ExprKind::Int(-1))),
    ]
    .boxed()
}

/// A `select` set: `{}` or up to five descriptors, a negative one now and then.
pub fn fdset(values: Values) -> BoxedStrategy<Arg> {
    prop::collection::vec(listed_fd(values), 0..=sim_core::linux::poll::MAX_SET_FDS)
        .prop_map(|fds| Arg::List(located(fds)))
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
    call_with(spec, values, &|id, index, kind, values| {
        if kind == OperandKind::Path && id.spec().mechanism == Mechanism::Socket {
            return socket_address(values, id == CallId::Connect);
        }
        match (values, memory_operand(id, index)) {
            (Values::Run, Some(strategy)) => strategy,
            _ => operand(kind, values),
        }
    })
}

/// A socket's address: a path, or a name in the abstract namespace (a NUL, then the name). For a run,
/// two of each, so that binds collide, names are freed by closes, and lookups meet sockets of
/// another type. `connect` may also take `AF_UNSPEC`, which the syntax keeps as the empty path.
fn socket_address(values: Values, connect: bool) -> BoxedStrategy<Arg> {
    let unspec = if connect { 1 } else { 0 };
    let address = match values {
        Values::Run => prop_oneof![
            8 => prop::sample::select(&["/tmp/a", "/tmp/b", "\0a", "\0b"][..]).prop_map(str::to_string),
            3 => prop::sample::select(&["127.0.0.1:7000", "127.0.0.1:7001", "0.0.0.0:7000", "127.0.0.1:0"][..])
                .prop_map(str::to_string),
            unspec => Just(String::new()),
        ]
        .boxed(),
        Values::Syntax => prop_oneof![
            4 => path(),
            4 => "[a-z/._-]{0,30}".prop_map(|name| format!("\0{name}")),
            unspec => Just(String::new()),
        ]
        .boxed(),
    };
    address.prop_map(|address| Arg::Path(located(address))).boxed()
}

/// For a run, the operands of the memory calls and instructions that reach memory: addresses in the
/// first pages the kernel hands out (from `MAP_BASE`), offsets in a page (aligned or not) or just past
/// it, lengths of a page or a few, so that runs map, share, copy on write, and fault.
fn memory_operand(id: CallId, index: usize) -> Option<BoxedStrategy<Arg>> {
    let base = sim_core::kernel::mm::MAP_BASE as i64;
    let values: BoxedStrategy<i64> = match (id.spec().mechanism, id.spec().operands[index].word) {
        (_, "ADDR") => {
            prop_oneof![4 => (0i64..4).prop_map(move |page| base + page * 4096), 1 => Just(base + 8)].boxed()
        }
        (_, "OFFSET") => {
            prop_oneof![6 => (0i64..2).prop_map(|word| word * 8), 1 => Just(4092i64), 1 => Just(4096i64)].boxed()
        }
        (Mechanism::Shm | Mechanism::Mm, "LENGTH" | "SIZE") => {
            prop_oneof![3 => Just(4096i64), 1 => 1i64..12_000].boxed()
        }
        (Mechanism::Mm, "PROT") => {
            use linux::mman::{PROT_NONE, PROT_READ, PROT_WRITE};
            prop_oneof![6 => Just(PROT_READ | PROT_WRITE), 1 => Just(PROT_READ), 1 => Just(PROT_NONE)].boxed()
        }
        (Mechanism::Mm, "FLAGS") => {
            use linux::mman::{MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED};
            let flags =
                [MAP_PRIVATE | MAP_ANONYMOUS, MAP_SHARED | MAP_ANONYMOUS, MAP_PRIVATE | MAP_ANONYMOUS, MAP_SHARED];
            prop::sample::select(flags.to_vec()).boxed()
        }
        _ => return None,
    };
    Some(values.prop_map(|value| Arg::Expr(int_expr(value))).boxed())
}

/// Chooses operand `index` (of kind `kind`) of a call.
pub type OperandChooser = dyn Fn(CallId, usize, OperandKind, Values) -> BoxedStrategy<Arg>;

/// A call of `spec` whose operands `choose` draws.
pub fn call_with(spec: &'static CallSpec, values: Values, choose: &OperandChooser) -> BoxedStrategy<Stmt> {
    let required = spec.required_operands();
    let args = spec
        .operands
        .iter()
        .enumerate()
        .map(|(index, operand_spec)| choose(spec.id, index, operand_spec.kind, values))
        .collect::<Vec<_>>()
        .prop_flat_map(move |all| {
            let count = all.len();
            (required..=count).prop_map(move |written| all[..written].to_vec())
        });
    let bind = match spec.binding {
        Binding::PipeEnds => pick(PIPES).prop_map(Some).boxed(),
        Binding::SocketEnds => pick(SOCKETS).prop_map(Some).boxed(),
        Binding::Fd => prop::option::of(pick(PLAIN_FDS)).boxed(),
        Binding::Value
        | Binding::OutValue
        | Binding::Message(_)
        | Binding::Bytes
        | Binding::Rights
        | Binding::Polled
        | Binding::Selected
        | Binding::Epolled => prop::option::of(pick(&["n", "m"])).boxed(),
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

/// The calls of shared memory, mappings and memory instructions only (with the control flow and forks
/// around them that [`scenario_with`] adds): runs that map, share, copy on write and fault.
pub fn memory_calls(values: Values) -> BoxedStrategy<Stmt> {
    let calls: Vec<BoxedStrategy<Stmt>> = CALLS
        .iter()
        .filter(|spec| matches!(spec.mechanism, Mechanism::Shm | Mechanism::Mm | Mechanism::Memory))
        .map(|spec| call_of(spec, values))
        .collect();
    prop::strategy::Union::new(calls).boxed()
}

/// The idiom random calls rarely line up, for memory: main maps a page (private or shared, or a System V
/// segment attached) and stores in it, makes memory calls, forks a worker, and both go on with memory
/// calls of their own on the same addresses: pages shared, copied on write, unmapped, faulted on.
pub fn memory_scenario() -> impl Strategy<Value = Scenario> {
    use linux::mman::{MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE};
    let body = || prop::collection::vec(memory_calls(Values::Run), 1..6);
    (0u8..3, body(), body(), body()).prop_map(|(kind, before, child, after)| {
        let call = |bind: Option<&str>, call: CallId, args: Vec<i64>| {
            Stmt::Call(CallStmt {
                bind: bind.map(|name| located(name.to_string())),
                call,
                args: args.into_iter().map(int_arg).collect(),
                retry: Vec::new(),
                span: span(),
                expect: None,
            })
        };
        let rw = PROT_READ | PROT_WRITE;
        let mut body = match kind {
            0 => vec![call(Some("m"), CallId::Mmap, vec![4096, rw, MAP_PRIVATE | MAP_ANONYMOUS])],
            1 => vec![call(Some("m"), CallId::Mmap, vec![4096, rw, MAP_SHARED | MAP_ANONYMOUS])],
            _ => vec![call(Some("s"), CallId::Shmget, vec![0, 4096, 0o1600]), call(Some("m"), CallId::Shmat, vec![0])],
        };
        body.push(call(None, CallId::Store, vec![sim_core::kernel::mm::MAP_BASE as i64, 0, 1]));
        body.extend(before);
        body.push(Stmt::Fork(ForkStmt { name: "worker".into(), span: span(), expect: None, body: child }));
        body.extend(after);
        let main = ProcessDecl { name: "main".into(), name_span: span(), expect: None, body };
        Scenario {
            title: None,
            description: None,
            expected_end: None,
            schedule: None,
            processes: vec![main, binder()],
            handlers: Vec::new(),
            outcomes: Vec::new(),
        }
    })
}

/// Descriptors a socket scenario's calls name: the pair, the listener, and what `socket`, `accept`
/// and `recvmsg` bind; a few small numbers too (other descriptors, or none).
const SOCKET_FDS: &[&str] = &["sp.0", "sp.1", "l", "f", "d", "r.fd", "ep"];

fn socket_fd() -> BoxedStrategy<Expr> {
    prop_oneof![8 => name(SOCKET_FDS), 1 => (-1i64..9).prop_map(|value| expr(ExprKind::Int(value)))].boxed()
}

/// The calls of a socket scenario: every socket call and `poll`, with `read`, `write` and `close`,
/// their descriptors drawn from [`SOCKET_FDS`].
pub fn socket_calls() -> BoxedStrategy<Stmt> {
    let calls: Vec<BoxedStrategy<Stmt>> = CALLS
        .iter()
        .filter(|spec| {
            matches!(spec.mechanism, Mechanism::Socket | Mechanism::Poll)
                || matches!(spec.id, CallId::Read | CallId::Write | CallId::Close)
        })
        .map(|spec| {
            call_with(spec, Values::Run, &|id, index, kind, values| match kind {
                // An epoll call's instance: mostly the scenario's own.
                OperandKind::Fd if matches!(id, CallId::EpollCtl | CallId::EpollWait) && index == 0 => {
                    prop_oneof![6 => name(&["ep"]), 1 => socket_fd()].prop_map(Arg::Expr).boxed()
                }
                OperandKind::Fd => socket_fd().prop_map(Arg::Expr).boxed(),
                OperandKind::PollFd => (socket_fd(), flags(Family::PollEvent))
                    .prop_map(|(fd, events)| Arg::List(located(vec![fd, events])))
                    .boxed(),
                OperandKind::FdSet => {
                    prop::collection::vec(socket_fd(), 0..3).prop_map(|fds| Arg::List(located(fds))).boxed()
                }
                OperandKind::Rights => {
                    (prop::collection::vec(socket_fd(), 1..3), prop_oneof![4 => Just(1u32), 1 => 2u32..4])
                        .prop_map(|(fds, times)| Arg::Rights(RightsArg { fds, times, span: span() }))
                        .boxed()
                }
                OperandKind::Path => socket_address(values, id == CallId::Connect),
                // `poll`'s timeout: none, just a look, or a short or a long wait.
                OperandKind::Int
                    if matches!(id, CallId::Poll | CallId::Select) && index == 0
                        || id == CallId::EpollWait && index == 2 =>
                {
                    prop::sample::select(&[-1i64, 0, 5, 1000][..]).prop_map(int_arg).boxed()
                }
                // `epoll_wait`'s MAXEVENTS: mostly a few, sometimes none (`EINVAL`) or plenty.
                OperandKind::Int if id == CallId::EpollWait => {
                    prop::sample::select(&[1i64, 2, 5, 5, 0, 64][..]).prop_map(int_arg).boxed()
                }
                _ => operand(kind, values),
            })
        })
        .collect();
    prop::strategy::Union::new(calls).boxed()
}

/// The idiom random calls rarely line up, for sockets: main makes a socket pair and a listening
/// socket bound to a name, makes socket calls, forks a worker (which holds everything too), and both
/// go on with socket calls on the same descriptors: connections made and accepted, bytes and
/// descriptors sent and received, ends shut down and closed, sleepers in `poll`, `recv`, `send`,
/// `accept` and `connect` woken (or left asleep).
pub fn socket_scenario() -> impl Strategy<Value = Scenario> {
    use linux::socket::{SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};
    let body = || prop::collection::vec(socket_calls(), 1..7);
    let kind = || prop::sample::select(&[SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET][..]);
    // The listener: a Unix-domain socket named by a path or an abstract name, or a TCP socket.
    let address = prop::sample::select(&["/tmp/a", "\0a", "127.0.0.1:7000"][..]);
    // Which of the idioms random calls would rarely line up are there: the worker connects to the
    // listener, main accepts, the worker passes a descriptor through the pair and main receives it.
    let idioms = (any::<bool>(), any::<bool>(), any::<bool>());
    // What the epoll instance watches from the start: one end of the pair, level- or edge-triggered.
    let watched = prop::sample::select(
        &[linux::epoll::EPOLLIN, linux::epoll::EPOLLIN | linux::epoll::EPOLLOUT | linux::epoll::EPOLLET][..],
    );
    (kind(), kind(), address, 0i64..3, idioms, watched, body(), body(), body()).prop_map(
        |(pair, listener, address, backlog, (connects, accepts, passes), watched, mut before, mut child, mut after)| {
            let call = |bind: Option<&str>, call: CallId, args: Vec<Arg>| {
                Stmt::Call(CallStmt {
                    bind: bind.map(|name| located(name.to_string())),
                    call,
                    args,
                    retry: Vec::new(),
                    span: span(),
                    expect: None,
                })
            };
            let name_arg = |name: &str| Arg::Expr(expr(ExprKind::Name(name.into())));
            // A TCP listener is a stream socket of `AF_INET` (its DOMAIN is the call's second operand).
            let tcp = linux::socket::parse_inet(address).is_some();
            let listener_args = || {
                if tcp {
                    vec![int_arg(SOCK_STREAM), name_arg("AF_INET")]
                } else {
                    vec![int_arg(listener)]
                }
            };
            let mut body = vec![
                call(Some("ep"), CallId::EpollCreate1, vec![]),
                call(Some("sp"), CallId::Socketpair, vec![int_arg(pair)]),
                call(
                    None,
                    CallId::EpollCtl,
                    vec![name_arg("ep"), int_arg(linux::epoll::EPOLL_CTL_ADD), name_arg("sp.0"), int_arg(watched)],
                ),
                call(Some("l"), CallId::Socket, listener_args()),
                call(None, CallId::Bind, vec![name_arg("l"), Arg::Path(located(address.to_string()))]),
                call(None, CallId::Listen, vec![name_arg("l"), int_arg(backlog)]),
            ];
            let mut idiom_child = Vec::new();
            let mut idiom_after = Vec::new();
            if connects {
                idiom_child.push(call(Some("f"), CallId::Socket, listener_args()));
                idiom_child.push(call(
                    None,
                    CallId::Connect,
                    vec![name_arg("f"), Arg::Path(located(address.to_string()))],
                ));
            }
            if accepts {
                idiom_after.push(call(Some("d"), CallId::Accept, vec![name_arg("l")]));
            }
            if passes {
                let rights =
                    Arg::Rights(RightsArg { fds: vec![expr(ExprKind::Name("sp.1".into()))], times: 1, span: span() });
                idiom_child.push(call(
                    None,
                    CallId::Sendmsg,
                    vec![name_arg("sp.1"), Arg::Payload(Payload::Bytes(b"m".to_vec())), rights],
                ));
                idiom_after.push(call(Some("r"), CallId::Recvmsg, vec![name_arg("sp.0"), int_arg(100)]));
            }
            idiom_child.append(&mut child);
            idiom_after.append(&mut after);
            let (child, after) = (idiom_child, idiom_after);
            body.append(&mut before);
            body.push(Stmt::Fork(ForkStmt { name: "worker".into(), span: span(), expect: None, body: child }));
            body.extend(after);
            let main = ProcessDecl { name: "main".into(), name_span: span(), expect: None, body };
            let mut binder = binder();
            // `recvmsg`'s `r.fd` and the listener are bound here too, for the name check.
            binder.body.push(call(Some("r"), CallId::Recvmsg, vec![int_arg(-1), int_arg(1)]));
            binder.body.push(call(Some("l"), CallId::Socket, vec![int_arg(SOCK_STREAM)]));
            Scenario {
                title: None,
                description: None,
                expected_end: None,
                schedule: None,
                processes: vec![main, binder],
                handlers: Vec::new(),
                outcomes: Vec::new(),
            }
        },
    )
}

pub fn call_stmt(values: Values) -> BoxedStrategy<Stmt> {
    let calls: Vec<BoxedStrategy<Stmt>> =
        CALLS.iter().filter(|spec| spec.id != CallId::Fork).map(|spec| call_of(spec, values)).collect();
    prop::strategy::Union::new(calls).boxed()
}

pub fn simple_stmt(in_loop: bool, values: Values) -> BoxedStrategy<Stmt> {
    simple_stmt_with(in_loop, values, call_stmt)
}

/// Which calls a generated scenario makes (all of the table evenly: [`call_stmt`]).
pub type Calls = fn(Values) -> BoxedStrategy<Stmt>;

pub fn simple_stmt_with(in_loop: bool, values: Values, calls: Calls) -> BoxedStrategy<Stmt> {
    let assign = (pick(&["n", "m"]), full_expression(values))
        .prop_map(|(name, value)| Stmt::Assign(AssignStmt { name, name_span: span(), value }));
    if in_loop {
        prop_oneof![8 => calls(values), 2 => assign, 1 => Just(Stmt::Break(span())), 1 => Just(Stmt::Continue(span()))]
            .boxed()
    } else {
        prop_oneof![8 => calls(values), 2 => assign].boxed()
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
    stmt_with(depth, in_loop, values, call_stmt)
}

pub fn stmt_with(depth: u32, in_loop: bool, values: Values, calls: Calls) -> BoxedStrategy<Stmt> {
    if depth == 0 {
        return simple_stmt_with(in_loop, values, calls);
    }
    let body = |in_loop: bool| prop::collection::vec(stmt_with(depth - 1, in_loop, values, calls), 0..4);
    let repeat_count = match values {
        Values::Syntax => prop_oneof![1u32..5, 1..=Limits::DEFAULT.max_repeat_count].boxed(),
        Values::Run => (1u32..4).boxed(),
    };
    prop_oneof![
        6 => simple_stmt_with(in_loop, values, calls),
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
            call("sp", CallId::Socketpair, vec![Arg::Expr(expr(ExprKind::Name("SOCK_STREAM".into())))]),
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
    process_with(name, values, call_stmt)
}

pub fn process_with(name: &'static str, values: Values, calls: Calls) -> impl Strategy<Value = ProcessDecl> {
    (prop::option::of(outcome()), prop::collection::vec(stmt_with(3, false, values, calls), 0..8)).prop_map(
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
    handler_with(name, values, call_stmt)
}

pub fn handler_with(name: &'static str, values: Values, calls: Calls) -> impl Strategy<Value = HandlerDecl> {
    prop::collection::vec(stmt_with(2, false, values, calls), 0..4).prop_map(move |body| HandlerDecl {
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
    scenario_with(values, call_stmt)
}

pub fn scenario_with(values: Values, calls: Calls) -> impl Strategy<Value = Scenario> {
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
        process_with("main", values, calls),
        prop::option::of(process_with("helper", values, calls)),
        (handler_with("on_a", values, calls), handler_with("on_b", values, calls)),
        prop::collection::vec(outcome_decl(), 0..3),
    )
        .prop_map(|(title, description, end, schedule, main, helper, (on_a, on_b), outcomes)| {
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
                outcomes,
            }
        })
}

/// A declared outcome over what every generated scenario has: `main`, the run's end and `errno`.
pub fn outcome_decl() -> impl Strategy<Value = OutcomeDecl> {
    let quantifier = prop_oneof![Just(Quantifier::Always), Just(Quantifier::Sometimes), Just(Quantifier::Never)];
    let compare = prop_oneof![
        Just(Compare::Eq),
        Just(Compare::Ne),
        Just(Compare::Lt),
        Just(Compare::Le),
        Just(Compare::Gt),
        Just(Compare::Ge)
    ];
    let condition = prop_oneof![
        prop_oneof![Just(RunEnd::AllExited), Just(RunEnd::Deadlock), Just(RunEnd::StepLimit)]
            .prop_map(Condition::RunEnds),
        (0u8..=255).prop_map(|code| Condition::Process { name: "main".into(), end: ProcessOutcome::Exited(code) }),
        Just(Condition::Process { name: "main".into(), end: ProcessOutcome::Running }),
        (compare, -3i64..40).prop_map(|(op, value)| Condition::Compare {
            name: "main".into(),
            variable: "errno".into(),
            op,
            value
        }),
    ];
    (quantifier, prop::option::of("[ -~]{0,20}"), prop::collection::vec(condition, 1..4)).prop_map(
        |(quantifier, label, conditions)| OutcomeDecl {
            quantifier,
            label,
            span: Span::default(),
            conditions: conditions.into_iter().map(located).collect(),
        },
    )
}

/// Signals that meet in a short run, with weights: the user signals and the real-time ones (which
/// queue) most, then those the kernel sends on its own (`SIGALRM`, `SIGCHLD`), job control, and a few
/// whose default kills.
pub const RUN_SIGNALS: &[(u32, i64)] = &[
    (5, 10), // SIGUSR1
    (5, 12), // SIGUSR2
    (2, 14), // SIGALRM
    (2, 17), // SIGCHLD
    (2, 18), // SIGCONT
    (1, 19), // SIGSTOP
    (1, 20), // SIGTSTP
    (2, 34), // SIGRTMIN
    (1, 35), // SIGRTMIN+1
    (1, 15), // SIGTERM
    (1, 1),  // SIGHUP
    (1, 9),  // SIGKILL
];

/// `sigaction SIGNAL HANDLER FLAGS MASK`, with no expectation.
fn sigaction_stmt(signal: i64, handler: Expr, flags: i64, mask: i64) -> Stmt {
    Stmt::Call(CallStmt {
        bind: None,
        call: CallId::Sigaction,
        args: vec![
            Arg::Expr(int_expr(signal)),
            Arg::Expr(handler),
            Arg::Expr(int_expr(flags)),
            Arg::Expr(int_expr(mask)),
        ],
        retry: Vec::new(),
        span: span(),
        expect: None,
    })
}

fn int_expr(value: i64) -> Expr {
    expr(ExprKind::Int(value))
}

/// One signal of [`RUN_SIGNALS`], by number.
pub fn run_signal() -> BoxedStrategy<i64> {
    let choices: Vec<(u32, BoxedStrategy<i64>)> =
        RUN_SIGNALS.iter().map(|(weight, number)| (*weight, Just(*number).boxed())).collect();
    prop::strategy::Union::new_weighted(choices).boxed()
}

/// A set of up to three signals of [`RUN_SIGNALS`] (often one, sometimes none).
pub fn run_signal_set() -> BoxedStrategy<i64> {
    prop_oneof![
        1 => Just(0i64),
        6 => prop::collection::vec(run_signal(), 1..4)
            .prop_map(|numbers| numbers.into_iter().fold(0i64, |set, number| set | (1i64 << (number - 1)))),
    ]
    .boxed()
}

/// `sa_flags`: `SA_RESTART` half the time, `SA_SIGINFO`, `SA_NODEFER`, `SA_RESETHAND` and
/// `SA_NOCLDSTOP` now and then.
pub fn run_sigaction_flags() -> BoxedStrategy<i64> {
    use sim_core::linux::signal::{SA_NOCLDSTOP, SA_NODEFER, SA_RESETHAND, SA_RESTART, SA_SIGINFO};
    (any::<bool>(), 0u8..4, 0u8..6, 0u8..6, 0u8..6)
        .prop_map(move |(restart, info, nodefer, resethand, nocldstop)| {
            let mut flags = 0;
            if restart {
                flags |= SA_RESTART;
            }
            if info == 0 {
                flags |= SA_SIGINFO;
            }
            if nodefer == 0 {
                flags |= SA_NODEFER;
            }
            if resethand == 0 {
                flags |= SA_RESETHAND;
            }
            if nocldstop == 0 {
                flags |= SA_NOCLDSTOP;
            }
            flags
        })
        .boxed()
}

/// Operands for the calls of signals and time: signals that meet, sets of them, handlers with flags and
/// masks, and times a run of a few thousand steps reaches (a step is a microsecond).
pub fn signal_operand(call: CallId, index: usize, kind: OperandKind, values: Values) -> BoxedStrategy<Arg> {
    let value: BoxedStrategy<i64> = match (call, index, kind) {
        (_, _, OperandKind::Signal) => prop_oneof![12 => run_signal(), 1 => Just(0i64)].boxed(),
        (_, _, OperandKind::SignalSet) => run_signal_set(),
        (CallId::Sigaction, _, OperandKind::Flags(_)) => run_sigaction_flags(),
        (_, _, OperandKind::Action) => {
            return prop_oneof![
                4 => name(HANDLERS),
                1 => Just(int_expr(sim_core::linux::signal::SIG_IGN)),
                1 => Just(int_expr(sim_core::linux::signal::SIG_DFL)),
            ]
            .prop_map(Arg::Expr)
            .boxed()
        }
        (_, _, OperandKind::Pid) => {
            return prop_oneof![
                6 => name(SIGNAL_PROCESSES),
                3 => Just(expr(ExprKind::SelfPid)),
                1 => prop::sample::select(&[0i64, -1][..]).prop_map(int_expr),
            ]
            .prop_map(Arg::Expr)
            .boxed()
        }
        (CallId::Alarm | CallId::Sleep, _, OperandKind::Int) => prop_oneof![0i64..3, -1i64..0].boxed(),
        // No wait of a few microseconds: scaled to real time (`TIME_DIVISOR`), its timer runs out before
        // the driver can see the sleeper asleep, and the check refuses the run; from 20 ms of simulated
        // time (2 ms real) up, it can follow one. A wait that need not sleep is drawn with any timeout.
        (CallId::Nanosleep, _, OperandKind::Int) => {
            prop_oneof![1 => Just(0i64), 3 => CHECKABLE_WAIT_NS, 2 => Just(1_000_000_000)].boxed()
        }
        (CallId::Sigtimedwait, 1, OperandKind::Int) => prop_oneof![
            1 => Just(0i64),
            3 => CHECKABLE_WAIT_NS,
            2 => Just(2_000_000_000)
        ]
        .boxed(),
        // The timeouts of the timed calls on IPC objects: none, short, long, and invalid (or long past).
        (CallId::Semtimedop, 1, OperandKind::Int)
        | (CallId::MqTimedsend, 3, OperandKind::Int)
        | (CallId::MqTimedreceive, 2, OperandKind::Int)
        | (CallId::SemTimedwait, 1, OperandKind::Int) => prop_oneof![
            1 => Just(0i64),
            3 => CHECKABLE_WAIT_NS,
            2 => Just(2_000_000_000),
            1 => Just(-1)
        ]
        .boxed(),
        _ => return operand(kind, values),
    };
    value.prop_map(|value| Arg::Expr(int_expr(value))).boxed()
}

/// Timed waits, in simulated nanoseconds, long enough for the check to follow in lockstep.
const CHECKABLE_WAIT_NS: std::ops::Range<i64> = 20_000_000..300_000_000;

/// Whether a call belongs to signals or time (those [`signal_calls`] weights up).
pub fn is_signal_or_time(spec: &CallSpec) -> bool {
    matches!(spec.mechanism, Mechanism::Signal | Mechanism::Time)
}

/// How often [`signal_calls`] makes each call of signals and time: senders most (a run needs signals
/// to deliver), then masks and actions, then the calls that wait, which end a run's activity soon.
pub fn signal_call_weight(id: CallId) -> u32 {
    match id {
        CallId::Kill => 6,
        CallId::Raise => 5,
        CallId::Sigqueue => 3,
        CallId::Killpg => 1,
        CallId::Sigprocmask => 5,
        CallId::Sigaction => 3,
        CallId::Signal => 2,
        CallId::Sigpending => 1,
        CallId::Alarm => 3,
        CallId::Nanosleep => 2,
        CallId::Sigtimedwait => 2,
        CallId::Sigsuspend => 2,
        CallId::Sleep | CallId::Pause | CallId::Sigwaitinfo => 1,
        _ => 1,
    }
}

/// A call with signals and timers five times out of six (operands from [`signal_operand`], weights
/// from [`signal_call_weight`]), any other call of the table otherwise.
pub fn signal_calls(values: Values) -> BoxedStrategy<Stmt> {
    let signals: Vec<(u32, BoxedStrategy<Stmt>)> = CALLS
        .iter()
        .filter(|spec| is_signal_or_time(spec))
        .map(|spec| (signal_call_weight(spec.id), call_with(spec, values, &signal_operand)))
        .collect();
    prop_oneof![5 => prop::strategy::Union::new_weighted(signals), 1 => call_stmt(values)].boxed()
}

/// The processes of a [`signal_scenario`] (`helper` is always there), the first two most often.
pub const SIGNAL_PROCESSES: &[&str] = &["main", "helper", "main", "helper", "binder", "kid", "kid2"];

/// `sigaction SIGNAL on_a|on_b [FLAGS [MASK]]` on a signal of [`RUN_SIGNALS`], or a `sigprocmask`.
pub fn signal_setup() -> BoxedStrategy<Stmt> {
    let sigaction = CALLS.iter().find(|spec| spec.id == CallId::Sigaction).expect("sigaction is in the table");
    let sigprocmask = CALLS.iter().find(|spec| spec.id == CallId::Sigprocmask).expect("sigprocmask is in the table");
    let handler = (run_signal(), name(HANDLERS), run_sigaction_flags(), run_signal_set())
        .prop_map(|(signal, handler, flags, mask)| sigaction_stmt(signal, handler, flags, mask));
    prop_oneof![
        4 => handler,
        1 => call_with(sigaction, Values::Run, &signal_operand),
        1 => call_with(sigprocmask, Values::Run, &signal_operand),
    ]
    .boxed()
}

/// A call statement with constant operands and nothing bound or expected.
fn plain_call(call: CallId, args: Vec<Expr>) -> Stmt {
    Stmt::Call(CallStmt {
        bind: None,
        call,
        args: args.into_iter().map(Arg::Expr).collect(),
        retry: Vec::new(),
        span: span(),
        expect: None,
    })
}

/// A short sequence that random calls rarely line up, in an `if 1 { ... }`: block a signal, send it,
/// and take it with `sigwaitinfo`/`sigtimedwait`, unblock it, wait for it in `sigsuspend` or ignore
/// it (which discards it); or
/// set an alarm and wait for it in `pause`, `sigsuspend` or `sleep`.
pub fn signal_idiom() -> BoxedStrategy<Stmt> {
    use sim_core::linux::signal::{SIG_BLOCK, SIG_UNBLOCK};
    let send = (run_signal(), prop_oneof![Just(expr(ExprKind::SelfPid)), self::name(&["main", "helper"])])
        .prop_map(|(signal, to)| (signal, vec![plain_call(CallId::Kill, vec![to, int_expr(signal)])]));
    let block_send_take =
        (send, 0u8..6, prop_oneof![Just(0i64), CHECKABLE_WAIT_NS]).prop_map(|((signal, send), end, timeout)| {
            let set = 1i64 << (signal - 1);
            let mut body = vec![plain_call(CallId::Sigprocmask, vec![int_expr(SIG_BLOCK), int_expr(set)])];
            body.extend(send);
            body.push(match end {
                0 => plain_call(CallId::Sigwaitinfo, vec![int_expr(set)]),
                1 => plain_call(CallId::Sigtimedwait, vec![int_expr(set), int_expr(timeout)]),
                2 => plain_call(CallId::Sigsuspend, vec![int_expr(0)]),
                3 => plain_call(CallId::Signal, vec![int_expr(signal), int_expr(sim_core::linux::signal::SIG_IGN)]),
                _ => plain_call(CallId::Sigprocmask, vec![int_expr(SIG_UNBLOCK), int_expr(set)]),
            });
            body
        });
    let alarm_wait = (1i64..3, 0u8..3).prop_map(|(seconds, wait)| {
        vec![
            plain_call(CallId::Alarm, vec![int_expr(seconds)]),
            match wait {
                0 => plain_call(CallId::Pause, vec![]),
                1 => plain_call(CallId::Sigsuspend, vec![int_expr(0)]),
                _ => plain_call(CallId::Sleep, vec![int_expr(seconds + 1)]),
            },
        ]
    });
    prop_oneof![3 => block_send_take, 1 => alarm_wait]
        .prop_map(|then_body| {
            Stmt::If(IfStmt { condition: int_expr(1), span: span(), then_body, else_body: Vec::new() })
        })
        .boxed()
}

/// The signals a [`signal_process`] most often sets a handler for first: `SIGUSR1`, `SIGUSR2`,
/// `SIGRTMIN`, `SIGALRM` and `SIGCHLD`.
pub const HANDLED_FIRST: [i64; 5] = [10, 12, 34, 14, 17];

/// A process of a [`signal_scenario`]: handlers for most of [`HANDLED_FIRST`] (each with its flags and
/// mask) and perhaps another setup call, then code weighted toward signals.
pub fn signal_process(name: &'static str) -> impl Strategy<Value = ProcessDecl> {
    let handled = HANDLED_FIRST.map(|signal| {
        prop::option::weighted(0.75, (self::name(HANDLERS), run_sigaction_flags(), run_signal_set()))
            .prop_map(move |choice| choice.map(|(handler, flags, mask)| sigaction_stmt(signal, handler, flags, mask)))
    });
    (
        handled,
        prop::collection::vec(signal_setup(), 0..2),
        prop::collection::vec(
            prop_oneof![4 => stmt_with(2, false, Values::Run, signal_calls), 1 => signal_idiom()],
            2..10,
        ),
    )
        .prop_map(move |(handled, setup, body)| ProcessDecl {
            name: name.to_string(),
            name_span: span(),
            expect: None,
            body: handled.into_iter().flatten().chain(setup).chain(body).collect(),
        })
}

/// Scenarios weighted toward signals and timers: `main` and `helper` set up handlers (with flags and
/// masks) and then mostly send, block, wait for and time signals, to themselves and each other.
pub fn signal_scenario() -> impl Strategy<Value = Scenario> {
    (
        signal_process("main"),
        signal_process("helper"),
        (handler_with("on_a", Values::Run, signal_calls), handler_with("on_b", Values::Run, signal_calls)),
    )
        .prop_map(|(main, helper, (on_a, on_b))| Scenario {
            title: None,
            description: None,
            expected_end: None,
            schedule: None,
            processes: vec![main, helper, binder()],
            handlers: vec![on_a, on_b],
            outcomes: Vec::new(),
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
