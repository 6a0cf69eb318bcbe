//! The name check: on a scenario that parsed cleanly, every name must be bound somewhere, and every
//! constant must suit the operand it is written in.
//!
//! A name is a variable of the process that evaluates it (a descriptor bound by `pipe`, `open` or
//! `dup`, a process bound by `process` or `fork`, a value bound by `NAME = ...`), the variable
//! `errno`, or a Linux constant (`O_NONBLOCK`, `EAGAIN`, `SIGTERM`, `stdin`). A typo is reported with
//! the names it could have meant. The work is linear in the scenario: suggestions compare against a
//! bounded number of candidates, and checking stops once enough errors are reported.

use super::ast::*;
use super::lexer::{show, MAX_DIAGNOSTICS};
use super::syscalls::{Binding, OperandKind, BYTES_FIELDS, EPOLL_FIELDS, POLL_FIELDS, RIGHTS_FIELDS, SELECT_FIELDS};
use crate::diagnostic::Diagnostic;
use crate::linux::{self, Family};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The variable every process has: the errno of its last failed call.
pub const ERRNO_VARIABLE: &str = "errno";

/// The variables a handler finds set when it starts: the signal's number, and with `SA_SIGINFO` who sent
/// it, the value `sigqueue` gave it, and how it was sent (`SI_USER`, `SI_QUEUE`, `SI_TKILL`, `SI_KERNEL`). Every
/// process has them, as it has `errno`.
pub const SIGNAL_VARIABLES: [&str; 4] = ["signo", "si_pid", "si_value", "si_code"];

/// How many candidates a "did you mean" hint compares a name against, at most.
const MAX_SUGGESTION_CANDIDATES: usize = 2_000;

/// Names, each with a number. Every map and set of names here is this one type, the type of the
/// kernel's and the renderer's name counts, so that the WebAssembly build carries a single B-tree
/// instead of one for each key and value type (about 1 KB gzipped each). As a set, a name maps to 0.
pub(crate) type Names = BTreeMap<Arc<str>, u32>;

/// What a name is bound as.
#[derive(Default)]
struct Bindings {
    /// Each top-level process's name, with the line of its `process` keyword.
    top: Names,
    processes: Names,
    descriptors: Names,
    pipes: Names,
    values: Names,
    handlers: Names,
}

impl Bindings {
    fn is_bound(&self, name: &str) -> bool {
        name == ERRNO_VARIABLE
            || SIGNAL_VARIABLES.contains(&name)
            || self.processes.contains_key(name)
            || self.descriptors.contains_key(name)
            || self.values.contains_key(name)
    }
}

/// Where a name is used, which decides what it may be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Operand(OperandKind),
    /// A condition, an assigned value: any integer.
    Value,
}

struct Checker<'s> {
    bindings: Bindings,
    diags: Vec<Diagnostic>,
    scenario: &'s Scenario,
}

pub fn check(scenario: &Scenario) -> Vec<Diagnostic> {
    let mut checker = Checker { bindings: Bindings::default(), diags: Vec::new(), scenario };
    checker.collect();
    if checker.diags.is_empty() {
        checker.uses();
    }
    checker.diags
}

impl Checker<'_> {
    fn full(&self) -> bool {
        self.diags.len() >= MAX_DIAGNOSTICS
    }

    fn push(&mut self, diag: Diagnostic) {
        if !self.full() {
            self.diags.push(diag);
        }
    }

    /// First pass: every binding in the scenario, and the clashes between them.
    fn collect(&mut self) {
        for process in &self.scenario.processes {
            if let Some(&line) = self.bindings.top.get(process.name.as_str()) {
                self.push(
                    Diagnostic::new(
                        process.name_span,
                        format!("there are two processes named `{}`", show(&process.name)),
                    )
                    .with_help(format!(
                        "the first `process {}` is on line {}; process names must be unique",
                        show(&process.name),
                        line
                    )),
                );
            } else {
                self.bindings.top.insert(Arc::from(process.name.as_str()), process.name_span.line);
                self.bindings.processes.insert(Arc::from(process.name.as_str()), 0);
            }
        }
        for handler in &self.scenario.handlers {
            let clash = if self.bindings.handlers.contains_key(handler.name.as_str()) {
                Some("there are two handlers named `{}`")
            } else if self.bindings.top.contains_key(handler.name.as_str()) {
                Some("`{}` names a top-level process and a handler")
            } else {
                None
            };
            match clash {
                Some(message) => {
                    self.push(Diagnostic::new(handler.name_span, message.replace("{}", &show(&handler.name))))
                }
                None => {
                    self.bindings.handlers.insert(Arc::from(handler.name.as_str()), 0);
                }
            }
        }
        let mut pending: Vec<(String, Span, BindKind)> = Vec::new();
        for process in &self.scenario.processes {
            walk_bindings(&process.body, &mut pending);
        }
        for handler in &self.scenario.handlers {
            walk_bindings(&handler.body, &mut pending);
        }
        let mut clash_reported = Names::new();
        for (name, span, kind) in &pending {
            if let BindKind::Process = kind {
                if let Some(&line) = self.bindings.top.get(name.as_str()) {
                    self.push(
                        Diagnostic::new(
                            *span,
                            format!("the child `{}` has the name of a top-level process", show(name)),
                        )
                        .with_help(format!(
                            "`process {}` is on line {}; give the `fork` another name",
                            show(name),
                            line
                        )),
                    );
                }
                self.bindings.processes.insert(Arc::from(name.as_str()), 0);
            }
        }
        for (name, span, kind) in pending {
            match kind {
                BindKind::Process => {}
                BindKind::Descriptor | BindKind::Pipe | BindKind::Sockets => {
                    if self.bindings.processes.contains_key(name.as_str())
                        && clash_reported.insert(Arc::from(name.as_str()), 0).is_none()
                    {
                        self.push(
                            Diagnostic::new(
                                span,
                                format!("`{}` is used both as a process name and as a descriptor name", show(&name)),
                            )
                            .with_help("processes and descriptors share one set of names; rename one of them"),
                        );
                    }
                    if kind == BindKind::Pipe {
                        self.bindings.descriptors.insert(Arc::from(format!("{name}.r")), 0);
                        self.bindings.descriptors.insert(Arc::from(format!("{name}.w")), 0);
                        self.bindings.pipes.insert(Arc::from(name), 0);
                    } else if kind == BindKind::Sockets {
                        self.bindings.descriptors.insert(Arc::from(format!("{name}.0")), 0);
                        self.bindings.descriptors.insert(Arc::from(format!("{name}.1")), 0);
                        self.bindings.pipes.insert(Arc::from(name), 0);
                    } else {
                        self.bindings.descriptors.insert(Arc::from(name), 0);
                    }
                }
                BindKind::Value => {
                    if self.bindings.handlers.contains_key(name.as_str())
                        && clash_reported.insert(Arc::from(name.as_str()), 0).is_none()
                    {
                        self.push(Diagnostic::new(span, format!("`{}` names a handler", show(&name))));
                    }
                    if self.bindings.top.contains_key(name.as_str())
                        && clash_reported.insert(Arc::from(name.as_str()), 0).is_none()
                    {
                        self.push(
                            Diagnostic::new(span, format!("`{}` names a top-level process", show(&name))).with_help(
                                "every process knows the pids of the top-level processes by name; choose another name",
                            ),
                        );
                    }
                    self.bindings.values.insert(Arc::from(name), 0);
                }
            }
        }
    }

    /// Second pass: every use of a name.
    fn uses(&mut self) {
        let scenario = self.scenario;
        if let Some(schedule) = &scenario.schedule {
            for entry in &schedule.value {
                if let ScheduleTarget::Name(name) = &entry.target {
                    // `child#2` names a later child of the line that forks `child`.
                    if !self.bindings.processes.contains_key(crate::kernel::base_name(name)) {
                        let diag = self.unknown_process(name, entry.span);
                        self.push(diag);
                    }
                }
            }
        }
        for process in &scenario.processes {
            self.block(&process.body);
        }
        for handler in &scenario.handlers {
            self.block(&handler.body);
        }
    }

    fn block(&mut self, body: &[Stmt]) {
        for stmt in body {
            if self.full() {
                return;
            }
            match stmt {
                Stmt::Call(call) => {
                    let spec = call.call.spec();
                    for (arg, operand) in call.args.iter().zip(spec.operands) {
                        match arg {
                            Arg::Expr(expr) => {
                                self.operand_shape(expr, operand.kind, spec.name);
                                self.expr(expr, Use::Operand(operand.kind));
                            }
                            Arg::Sembuf(sembuf) => {
                                self.expr(&sembuf.num, Use::Value);
                                self.expr(&sembuf.op, Use::Value);
                                if let Some(flags) = &sembuf.flags {
                                    self.expr(flags, Use::Operand(OperandKind::Flags(Family::SemopFlag)));
                                }
                            }
                            Arg::List(values) if operand.kind == OperandKind::PollFd => {
                                // `{FD, EVENTS}`
                                self.expr(&values.value[0], Use::Operand(OperandKind::Fd));
                                self.expr(&values.value[1], Use::Operand(OperandKind::Flags(Family::PollEvent)));
                            }
                            Arg::List(values) if operand.kind == OperandKind::FdSet => {
                                for fd in &values.value {
                                    self.expr(fd, Use::Operand(OperandKind::Fd));
                                }
                            }
                            Arg::List(values) => {
                                for value in &values.value {
                                    self.expr(value, Use::Value);
                                }
                            }
                            Arg::Rights(rights) => {
                                for fd in &rights.fds {
                                    self.expr(fd, Use::Operand(OperandKind::Fd));
                                }
                            }
                            Arg::Payload(_) | Arg::Path(_) => {}
                        }
                    }
                    if let Some(expect) = &call.expect {
                        self.expect(&expect.value, expect.span);
                    }
                }
                Stmt::Assign(assign) => self.expr(&assign.value, Use::Value),
                Stmt::Fork(fork) => self.block(&fork.body),
                Stmt::Repeat(repeat) => self.block(&repeat.body),
                Stmt::If(stmt) => {
                    self.expr(&stmt.condition, Use::Value);
                    self.block(&stmt.then_body);
                    self.block(&stmt.else_body);
                }
                Stmt::While(stmt) => {
                    self.expr(&stmt.condition, Use::Value);
                    self.block(&stmt.body);
                }
                Stmt::Break(_) | Stmt::Continue(_) => {}
            }
        }
    }

    fn expect(&mut self, expect: &Expect, span: Span) {
        match expect {
            Expect::Child { name, .. } if !self.bindings.processes.contains_key(name.as_str()) => {
                let diag = self.unknown_process(name, span);
                self.push(diag);
            }
            Expect::AnyOf(alternatives) => {
                for alternative in alternatives {
                    self.expect(alternative, span);
                }
            }
            _ => {}
        }
    }

    /// An operand that takes one constant (a command, a signal) takes no `|`.
    fn operand_shape(&mut self, expr: &Expr, kind: OperandKind, call: &str) {
        let one = match kind {
            OperandKind::OneOf(family) => Some(family.noun()),
            OperandKind::Signal => Some("a signal"),
            _ => None,
        };
        if let (Some(noun), ExprKind::Binary { op: BinaryOp::BitOr, .. }) = (one, &expr.kind) {
            self.push(
                Diagnostic::new(expr.span, format!("`{}` takes {} here, not several joined by `|`", call, noun))
                    .with_help("flags are joined by `|`; a command or a signal is one name"),
            );
        }
    }

    fn expr(&mut self, expr: &Expr, used_as: Use) {
        match &expr.kind {
            ExprKind::Int(_) | ExprKind::SelfPid => {}
            ExprKind::Name(name) => self.name(name, expr.span, used_as),
            ExprKind::Unary { operand, .. } => self.expr(operand, used_as),
            ExprKind::Binary { op, left, right } => {
                // Flags keep their family through `|`; anything else computes a plain number.
                let inner = if *op == BinaryOp::BitOr { used_as } else { Use::Value };
                self.expr(left, inner);
                self.expr(right, inner);
            }
        }
    }

    fn name(&mut self, name: &str, span: Span, used_as: Use) {
        if self.full() {
            return;
        }
        if let Some(constant) = linux::lookup(name) {
            if let Some(diag) = self.constant_misuse(&constant, span, used_as) {
                self.push(diag);
            }
            return;
        }
        if self.bindings.handlers.contains_key(name) {
            if used_as != Use::Operand(OperandKind::Action) {
                self.push(
                    Diagnostic::new(span, format!("`{}` is a handler, not a value", show(name)))
                        .with_help("a handler's name goes where `sigaction` or `signal` takes an action"),
                );
            }
            return;
        }
        if self.bindings.is_bound(name) {
            let wrong = match used_as {
                Use::Operand(OperandKind::Fd) if self.bindings.processes.contains_key(name) => {
                    Some(format!("`{}` is a process, not a descriptor", show(name)))
                }
                Use::Operand(OperandKind::Pid) if self.bindings.descriptors.contains_key(name) => {
                    Some(format!("`{}` is a descriptor, not a process", show(name)))
                }
                _ => None,
            };
            if let Some(message) = wrong {
                self.push(Diagnostic::new(span, message));
            }
            return;
        }
        let diag = match used_as {
            _ if self.bindings.pipes.contains_key(name) => {
                Diagnostic::new(span, format!("`{}` is a pipe or a socket pair, not a descriptor", show(name)))
                    .with_help(format!(
                        "pipe ends are written `{}.r` and `{}.w`, a socket pair's ends `{}.0` and `{}.1`",
                        show(name),
                        show(name),
                        show(name),
                        show(name)
                    ))
            }
            Use::Operand(OperandKind::Fd) => {
                let mut known: Vec<String> = self.bindings.descriptors.keys().map(|name| name.to_string()).collect();
                known.extend(["stdin", "stdout", "stderr"].map(String::from));
                let mut diag = Diagnostic::new(
                    span,
                    format!("unknown descriptor `{}`; the descriptor names are {}", show(name), list(&known)),
                );
                diag = match closest(name, known.iter().map(String::as_str)) {
                    Some(c) => diag.with_help(format!("did you mean `{}`?", c)),
                    None => diag
                        .with_help("a descriptor name is bound by `NAME = pipe`, `NAME = open ...` or `NAME = dup FD`"),
                };
                diag
            }
            Use::Operand(OperandKind::Pid) => self.unknown_process(name, span),
            Use::Operand(OperandKind::Flags(family) | OperandKind::OneOf(family))
                if linux::looks_like_constant(name) =>
            {
                self.unknown_constant(name, span, Some(family))
            }
            Use::Operand(OperandKind::SignalSet) if linux::looks_like_constant(name) => {
                self.unknown_constant(name, span, Some(Family::Signal))
            }
            Use::Operand(OperandKind::Action) => {
                let mut known: Vec<String> = self.bindings.handlers.keys().map(|name| name.to_string()).collect();
                known.extend(["SIG_DFL", "SIG_IGN"].map(String::from));
                let diag = Diagnostic::new(span, format!("unknown handler `{}`", show(name)));
                match closest(name, known.iter().map(String::as_str)) {
                    Some(c) => diag.with_help(format!("did you mean `{}`?", c)),
                    None => diag.with_help("a handler is declared at the top level: `handler NAME { ... }`"),
                }
            }
            Use::Operand(OperandKind::Signal) if linux::looks_like_constant(name) => {
                self.unknown_constant(name, span, Some(Family::Signal))
            }
            _ if linux::looks_like_constant(name) => self.unknown_constant(name, span, None),
            _ => {
                // Every bound name once, in order.
                let mut bound = Names::new();
                let bindings = &self.bindings;
                for name in bindings.values.keys().chain(bindings.descriptors.keys()).chain(bindings.processes.keys()) {
                    bound.insert(name.clone(), 0);
                }
                bound.insert(Arc::from(ERRNO_VARIABLE), 0);
                let known: Vec<String> = bound.keys().map(|name| name.to_string()).collect();
                let mut diag = Diagnostic::new(span, format!("unknown name `{}`", show(name)));
                diag = match closest(name, known.iter().map(String::as_str)) {
                    Some(c) => diag.with_help(format!("did you mean `{}`?", c)),
                    None => diag.with_help("a name is bound by `NAME = ...`, `process NAME` or `fork NAME`"),
                };
                diag
            }
        };
        self.push(diag);
    }

    fn unknown_process(&self, name: &str, span: Span) -> Diagnostic {
        if self.bindings.descriptors.contains_key(name) || self.bindings.pipes.contains_key(name) {
            return Diagnostic::new(span, format!("`{}` is a descriptor, not a process", show(name)));
        }
        let known: Vec<String> = self.bindings.processes.keys().map(|name| name.to_string()).collect();
        let diag =
            Diagnostic::new(span, format!("unknown process `{}`; the process names are {}", show(name), list(&known)));
        match closest(name, known.iter().map(String::as_str)) {
            Some(c) => diag.with_help(format!("did you mean `{}`?", c)),
            None => diag.with_help("a process name comes from `process NAME { ... }` or `fork NAME { ... }`"),
        }
    }

    fn unknown_constant(&self, name: &str, span: Span, family: Option<Family>) -> Diagnostic {
        let candidates: Vec<&str> = match family {
            Some(family) => linux::names_of(family),
            None => linux::CONSTANTS
                .iter()
                .map(|constant| constant.name)
                .chain(linux::ERRNOS.iter().map(|(_, name, _)| *name))
                .chain(linux::SIGNALS.iter().map(|(_, name, _)| *name))
                .collect(),
        };
        let message = match family {
            Some(Family::Signal) => format!("unknown signal `{}`", show(name)),
            Some(family) => format!("unknown name `{}`: expected {}", show(name), family.noun()),
            None => format!("unknown constant `{}`", show(name)),
        };
        let diag = Diagnostic::new(span, message);
        match closest(name, candidates.iter().copied()) {
            Some(c) => diag.with_help(format!("did you mean `{}`?", c)),
            None => match family {
                Some(family) if family != Family::Errno && family != Family::Signal => diag.with_help(format!(
                    "the choices are {}",
                    list(&candidates.iter().map(|c| c.to_string()).collect::<Vec<_>>())
                )),
                _ => diag,
            },
        }
    }

    /// A constant written where it does not belong (`O_NONBLOCK` as a `waitpid` option).
    fn constant_misuse(&self, constant: &linux::Constant, span: Span, used_as: Use) -> Option<Diagnostic> {
        let name = constant.name;
        let expected = match used_as {
            Use::Value
            | Use::Operand(
                OperandKind::Int | OperandKind::Count | OperandKind::Id | OperandKind::SemArg | OperandKind::Sembuf,
            ) => return None,
            Use::Operand(OperandKind::Fd) if constant.is_in(Family::StandardFd) => return None,
            Use::Operand(OperandKind::Fd) => "a descriptor".to_string(),
            Use::Operand(OperandKind::Pid) => "a process".to_string(),
            Use::Operand(OperandKind::Signal | OperandKind::SignalSet) if constant.is_in(Family::Signal) => {
                return None
            }
            Use::Operand(OperandKind::Signal) => "a signal".to_string(),
            Use::Operand(OperandKind::SignalSet) => "a signal of a set".to_string(),
            Use::Operand(OperandKind::Action) if constant.is_in(Family::Disposition) => return None,
            Use::Operand(OperandKind::Action) => "a signal action".to_string(),
            Use::Operand(OperandKind::Flags(family) | OperandKind::OneOf(family)) if constant.is_in(family) => {
                return None
            }
            Use::Operand(OperandKind::Flags(family) | OperandKind::OneOf(family)) => family.noun().to_string(),
            Use::Operand(
                OperandKind::Payload
                | OperandKind::Path
                | OperandKind::Name
                | OperandKind::MqAttr
                | OperandKind::Rights
                | OperandKind::PollFd
                | OperandKind::FdSet,
            ) => return None,
        };
        let diag = Diagnostic::new(span, format!("`{}` is not {} here", name, expected));
        let family = match used_as {
            Use::Operand(OperandKind::Flags(family) | OperandKind::OneOf(family)) => Some(family),
            Use::Operand(OperandKind::Signal | OperandKind::SignalSet) => Some(Family::Signal),
            Use::Operand(OperandKind::Action) => Some(Family::Disposition),
            _ => None,
        };
        Some(match family {
            Some(family) => diag.with_help(format!(
                "{}: {}",
                capitalised(family.noun()),
                list(&linux::names_of(family).iter().map(|n| n.to_string()).collect::<Vec<_>>())
            )),
            None => diag,
        })
    }
}

fn capitalised(noun: &str) -> String {
    let mut chars = noun.chars();
    match chars.next() {
        // The nouns are the simulator's own words, in ASCII.
        Some(first) => format!("{}{} is one of", first.to_ascii_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BindKind {
    Process,
    Descriptor,
    Pipe,
    /// The two ends of a socket pair, `NAME.0` and `NAME.1`.
    Sockets,
    Value,
}

/// Every name a block binds, in order.
fn walk_bindings(body: &[Stmt], out: &mut Vec<(String, Span, BindKind)>) {
    for stmt in body {
        match stmt {
            Stmt::Call(call) => {
                if let Some(bind) = &call.bind {
                    let kind = match call.call.spec().binding {
                        Binding::PipeEnds => BindKind::Pipe,
                        Binding::SocketEnds => BindKind::Sockets,
                        Binding::Fd => BindKind::Descriptor,
                        Binding::Message(suffix) => {
                            out.push((format!("{}.{suffix}", bind.value), bind.span, BindKind::Value));
                            BindKind::Value
                        }
                        Binding::Bytes => {
                            for suffix in BYTES_FIELDS {
                                out.push((format!("{}.{suffix}", bind.value), bind.span, BindKind::Value));
                            }
                            BindKind::Value
                        }
                        Binding::Rights => {
                            for suffix in RIGHTS_FIELDS {
                                let kind = if suffix == "fd" { BindKind::Descriptor } else { BindKind::Value };
                                out.push((format!("{}.{suffix}", bind.value), bind.span, kind));
                            }
                            BindKind::Value
                        }
                        Binding::Polled => {
                            for suffix in POLL_FIELDS.iter().take(call.args.len().saturating_sub(1)) {
                                out.push((format!("{}.{suffix}", bind.value), bind.span, BindKind::Value));
                            }
                            BindKind::Value
                        }
                        Binding::Selected => {
                            for suffix in SELECT_FIELDS {
                                out.push((format!("{}.{suffix}", bind.value), bind.span, BindKind::Value));
                            }
                            BindKind::Value
                        }
                        Binding::Epolled => {
                            for suffix in EPOLL_FIELDS {
                                let kind =
                                    if suffix.starts_with("fd") { BindKind::Descriptor } else { BindKind::Value };
                                out.push((format!("{}.{suffix}", bind.value), bind.span, kind));
                            }
                            BindKind::Value
                        }
                        Binding::Value | Binding::OutValue | Binding::Nothing => BindKind::Value,
                    };
                    out.push((bind.value.clone(), bind.span, kind));
                }
            }
            Stmt::Assign(assign) => out.push((assign.name.clone(), assign.name_span, BindKind::Value)),
            Stmt::Fork(fork) => {
                out.push((fork.name.clone(), fork.span, BindKind::Process));
                walk_bindings(&fork.body, out);
            }
            Stmt::Repeat(repeat) => walk_bindings(&repeat.body, out),
            Stmt::If(stmt) => {
                walk_bindings(&stmt.then_body, out);
                walk_bindings(&stmt.else_body, out);
            }
            Stmt::While(stmt) => walk_bindings(&stmt.body, out),
            Stmt::Break(_) | Stmt::Continue(_) => {}
        }
    }
}

/// "`a`, `b`, `c`", shortened when long.
pub fn list(names: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = names.iter().take(SHOWN).map(|n| format!("`{}`", show(n))).collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    if names.is_empty() {
        text.push_str("(none)");
    }
    text
}

/// The candidate nearest to `name` (edit distance at most 2, and less than the name's length). Only
/// candidates whose length is within 2 of the name's are compared, and at most
/// [`MAX_SUGGESTION_CANDIDATES`] of them, so a hint costs a bounded amount of work.
pub fn closest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let length = name.chars().count();
    if length > 64 {
        return None;
    }
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates.into_iter().take(MAX_SUGGESTION_CANDIDATES) {
        let candidate_length = candidate.chars().count();
        if candidate == name || candidate_length > 64 || candidate_length.abs_diff(length) > 2 {
            continue;
        }
        let distance = edit_distance(name, candidate);
        if distance <= 2 && distance < length && !matches!(best, Some((d, _)) if d <= distance) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance with adjacent transpositions (optimal string alignment), in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut table = vec![0usize; (a.len() + 1) * width];
    for (i, row) in table.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in table.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (table[(i - 1) * width + j - 1] + cost)
                .min(table[(i - 1) * width + j] + 1)
                .min(table[i * width + j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(table[(i - 2) * width + j - 2] + 1);
            }
            table[i * width + j] = best;
        }
    }
    table[a.len() * width + b.len()]
}
