//! The canonical printer: syntax tree back to scenario text.
//!
//! The output is the one way of writing a scenario that `ipclab fmt` produces: title, description,
//! top-level `expect` and `schedule` first, then each process after a blank line; two spaces of
//! indentation per block; one statement per line; numbers without `_`; strings re-escaped;
//! expressions with single spaces around operators and only the parentheses they need. Comments are
//! not part of the tree, so they are not kept. For every valid scenario `s`, `parse(&print(&s))` gives
//! back `s` (spans aside).

use super::ast::*;
use super::syscalls::{CallId, OperandKind};
use crate::linux::Family;

/// Prints a scenario in canonical form.
pub fn print(scenario: &Scenario) -> String {
    let mut out = String::new();
    let mut header = false;
    if let Some(title) = &scenario.title {
        out.push_str(&format!("title {}\n", quote(title.as_bytes())));
        header = true;
    }
    if let Some(description) = &scenario.description {
        out.push_str(&format!("description {}\n", quote(description.as_bytes())));
        header = true;
    }
    if let Some(end) = &scenario.expected_end {
        out.push_str(&format!("expect {}\n", run_end(end.value)));
        header = true;
    }
    if let Some(schedule) = &scenario.schedule {
        out.push_str("schedule");
        for entry in &schedule.value {
            out.push(' ');
            match &entry.target {
                ScheduleTarget::Name(name) => out.push_str(name),
                ScheduleTarget::Pid(pid) => out.push_str(&pid.to_string()),
            }
            if entry.times != 1 {
                out.push_str(&format!("*{}", entry.times));
            }
        }
        out.push('\n');
        header = true;
    }
    for (index, process) in scenario.processes.iter().enumerate() {
        if header || index > 0 {
            out.push('\n');
        }
        out.push_str("process ");
        out.push_str(&process.name);
        if let Some(expect) = &process.expect {
            out.push_str(" expect ");
            out.push_str(&outcome(&expect.value));
        }
        out.push_str(" {\n");
        body(&mut out, &process.body, 1);
        out.push_str("}\n");
    }
    for handler in &scenario.handlers {
        out.push('\n');
        out.push_str("handler ");
        out.push_str(&handler.name);
        out.push_str(" {\n");
        body(&mut out, &handler.body, 1);
        out.push_str("}\n");
    }
    for declared in &scenario.outcomes {
        out.push('\n');
        out.push_str("outcome ");
        out.push_str(declared.quantifier.word());
        if let Some(label) = &declared.label {
            out.push(' ');
            out.push_str(&quote(label.as_bytes()));
        }
        out.push_str(" {\n");
        for condition in &declared.conditions {
            indent(&mut out, 1);
            out.push_str(&condition_text(&condition.value));
            out.push('\n');
        }
        out.push_str("}\n");
    }
    out
}

/// An `outcome` condition as it is written.
pub fn condition_text(condition: &Condition) -> String {
    match condition {
        Condition::RunEnds(end) => run_end(*end).to_string(),
        Condition::Process { name, end } => format!("{name} {}", outcome(end)),
        Condition::Compare { name, variable, op, value } => format!("{name}.{variable} {} {value}", op.symbol()),
        Condition::Left { kind, op, value } => format!("left {} {} {value}", kind.word(), op.symbol()),
        Condition::Copied { mechanism, toward, op, value } => {
            format!("copied {} {} {} {value}", mechanism.word(), toward.word(), op.symbol())
        }
        Condition::Calls { name, op, value } => format!("calls {name} {} {value}", op.symbol()),
    }
}

fn body(out: &mut String, stmts: &[Stmt], depth: usize) {
    for stmt in stmts {
        indent(out, depth);
        statement(out, stmt, depth);
    }
}

fn statement(out: &mut String, stmt: &Stmt, depth: usize) {
    match stmt {
        Stmt::Call(call) => {
            out.push_str(&call_text(call));
            out.push('\n');
        }
        Stmt::Assign(assign) => out.push_str(&format!("{} = {}\n", assign.name, expression(&assign.value))),
        Stmt::Fork(fork) => {
            out.push_str("fork ");
            out.push_str(&fork.name);
            if let Some(expect) = &fork.expect {
                out.push_str(" expect ");
                out.push_str(&outcome(&expect.value));
            }
            out.push_str(" {\n");
            body(out, &fork.body, depth + 1);
            indent(out, depth);
            out.push_str("}\n");
        }
        Stmt::Repeat(repeat) => {
            out.push_str(&format!("repeat {} {{\n", repeat.count));
            body(out, &repeat.body, depth + 1);
            indent(out, depth);
            out.push_str("}\n");
        }
        Stmt::If(stmt) => if_text(out, stmt, depth),
        Stmt::While(stmt) => {
            out.push_str(&format!("while {} {{\n", expression(&stmt.condition)));
            body(out, &stmt.body, depth + 1);
            indent(out, depth);
            out.push_str("}\n");
        }
        Stmt::Break(_) => out.push_str("break\n"),
        Stmt::Continue(_) => out.push_str("continue\n"),
    }
}

fn if_text(out: &mut String, stmt: &IfStmt, depth: usize) {
    out.push_str(&format!("if {} {{\n", expression(&stmt.condition)));
    body(out, &stmt.then_body, depth + 1);
    indent(out, depth);
    match stmt.else_body.as_slice() {
        [] => out.push_str("}\n"),
        [Stmt::If(inner)] => {
            out.push_str("} else ");
            if_text(out, inner, depth);
        }
        else_body => {
            out.push_str("} else {\n");
            body(out, else_body, depth + 1);
            indent(out, depth);
            out.push_str("}\n");
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn run_end(end: RunEnd) -> &'static str {
    match end {
        RunEnd::AllExited => "all-exited",
        RunEnd::Deadlock => "deadlock",
        RunEnd::StepLimit => "step-limit",
    }
}

fn outcome(outcome: &ProcessOutcome) -> String {
    match outcome {
        ProcessOutcome::Exited(code) => format!("exited {}", code),
        ProcessOutcome::Killed { signal, core, no_core } => killed(*signal, *core, *no_core),
        ProcessOutcome::Running => "running".to_string(),
    }
}

fn killed(signal: Signal, core: bool, no_core: bool) -> String {
    if core {
        format!("killed {} core", signal.name())
    } else if no_core {
        format!("killed {} no core", signal.name())
    } else {
        format!("killed {}", signal.name())
    }
}

/// A statement that makes a call, as written: `n = read f 100 retry EINTR -> 5`.
pub fn call_text(call: &CallStmt) -> String {
    let mut text = String::new();
    if let Some(bind) = &call.bind {
        text.push_str(&bind.value);
        text.push_str(" = ");
    }
    text.push_str(call.call.name());
    // `socket`'s DOMAIN is its second operand but is written first, as C writes it.
    if call.call == CallId::Socket {
        if let Some(domain) = call.args.get(1) {
            text.push(' ');
            // The parser reads DOMAIN only as an `AF_` name: a number is written as its name.
            match domain {
                Arg::Expr(Expr { kind: ExprKind::Int(value), .. }) => {
                    text.push_str(&crate::linux::value_text(Family::SockDomain, *value))
                }
                _ => text.push_str(&arg_text(domain)),
            }
        }
    }
    let shown = if call.call == CallId::Socket { &call.args[..call.args.len().min(1)] } else { &call.args[..] };
    for (arg, operand) in shown.iter().zip(call.call.spec().operands) {
        text.push(' ');
        if is_mode_operand(operand.kind) {
            text.push_str(&mode_operand(arg));
        } else {
            text.push_str(&arg_text(arg));
        }
    }
    if !call.retry.is_empty() {
        text.push_str(" retry ");
        text.push_str(&call.retry.iter().map(|errno| errno.name()).collect::<Vec<_>>().join("|"));
    }
    if let Some(expect) = &call.expect {
        text.push_str(" -> ");
        text.push_str(&expect_text(&expect.value));
    }
    text
}

/// Operands that hold permission bits, whose numbers print in octal as C writes them (`IPC_CREAT|0600`).
fn is_mode_operand(kind: OperandKind) -> bool {
    matches!(kind, OperandKind::Flags(Family::IpcGetFlag) | OperandKind::OneOf(Family::Mode))
}

/// An operand with permission bits: its numbers of more than one digit in octal with a leading 0, which
/// reads back as the same number.
fn mode_operand(arg: &Arg) -> String {
    match arg {
        Arg::Expr(expr) if is_flag_chain(expr) => {
            let text = flag_chain(expr);
            text.split('|')
                .map(|part| match part.parse::<i64>() {
                    Ok(value) if value >= 8 => format!("0{value:o}"),
                    _ => part.to_string(),
                })
                .collect::<Vec<_>>()
                .join("|")
        }
        other => arg_text(other),
    }
}

pub fn arg_text(arg: &Arg) -> String {
    match arg {
        Arg::Expr(expr) => operand(expr),
        Arg::Sembuf(sembuf) => {
            let mut text = format!("{{{}, {}", expression(&sembuf.num), expression(&sembuf.op));
            if let Some(flags) = &sembuf.flags {
                text.push_str(&format!(", {}", expression(flags)));
            }
            text.push('}');
            if sembuf.times != 1 {
                text.push_str(&format!(" * {}", sembuf.times));
            }
            text
        }
        Arg::List(values) => {
            format!("{{{}}}", values.value.iter().map(expression).collect::<Vec<_>>().join(", "))
        }
        Arg::Rights(rights) => {
            let mut text = format!("{{{}}}", rights.fds.iter().map(expression).collect::<Vec<_>>().join(", "));
            if rights.times != 1 {
                text.push_str(&format!(" * {}", rights.times));
            }
            text
        }
        Arg::Payload(Payload::Bytes(bytes)) => quote(bytes),
        Arg::Payload(Payload::Fill { len, pattern }) if pattern == b"x" => format!("{len} bytes"),
        Arg::Payload(Payload::Fill { len, pattern }) => format!("{len} bytes of {}", quote(pattern)),
        // The empty path is `connect`'s `AF_UNSPEC` (the parser makes no other).
        Arg::Path(path) if path.value.is_empty() => "AF_UNSPEC".to_string(),
        Arg::Path(path) => quote(path.value.as_bytes()),
    }
}

/// An expression in operand position: an atom or flags joined by `|` as they are, anything wider in
/// parentheses (operands are separated by spaces, so they cannot contain any).
pub fn operand(expr: &Expr) -> String {
    if is_flag_chain(expr) {
        flag_chain(expr)
    } else {
        format!("({})", expression(expr))
    }
}

fn is_atom(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Int(_) | ExprKind::Name(_) | ExprKind::SelfPid => true,
        ExprKind::Unary { operand, .. } => is_atom(operand),
        ExprKind::Binary { .. } => false,
    }
}

fn is_flag_chain(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Binary { op: BinaryOp::BitOr, left, right } => is_flag_chain(left) && is_atom(right),
        _ => is_atom(expr),
    }
}

fn flag_chain(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Binary { op: BinaryOp::BitOr, left, right } => format!("{}|{}", flag_chain(left), atom(right)),
        _ => atom(expr),
    }
}

fn atom(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Int(value) => value.to_string(),
        ExprKind::Name(name) => name.clone(),
        ExprKind::SelfPid => "self".to_string(),
        ExprKind::Unary { op, operand } => {
            let symbol = match op {
                UnaryOp::Neg => "-",
                UnaryOp::Not => "!",
            };
            // `-(5)`: written `-5` it would read back as the number -5.
            if *op == UnaryOp::Neg && matches!(operand.kind, ExprKind::Int(value) if value >= 0) {
                format!("-({})", atom(operand))
            } else if is_atom(operand) {
                format!("{symbol}{}", atom(operand))
            } else {
                format!("{symbol}({})", expression(operand))
            }
        }
        ExprKind::Binary { .. } => format!("({})", expression(expr)),
    }
}

/// A full expression with the parentheses precedence needs.
pub fn expression(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Binary { op, left, right } => {
            let left_text = match &left.kind {
                ExprKind::Binary { op: inner, .. } if inner.precedence() < op.precedence() => {
                    format!("({})", expression(left))
                }
                _ => expression(left),
            };
            let right_text = match &right.kind {
                ExprKind::Binary { op: inner, .. } if inner.precedence() <= op.precedence() => {
                    format!("({})", expression(right))
                }
                _ => expression(right),
            };
            format!("{left_text} {} {right_text}", op.symbol())
        }
        _ => atom(expr),
    }
}

/// The text of an expectation, as written after `->`.
pub fn expect_text(expect: &Expect) -> String {
    match expect {
        Expect::Value(value) => value.to_string(),
        Expect::Ok => "ok".to_string(),
        Expect::Data(bytes) => quote(bytes),
        Expect::ByteCount(count) => format!("{} bytes", count),
        Expect::Error(errno) => errno.name().to_string(),
        Expect::Child { name, status, no_core } => format!("{} {}", name, expected_status_text(*status, *no_core)),
        Expect::NoChild => "none".to_string(),
        Expect::Values(values) => {
            format!("{{{}}}", values.iter().map(|value| value.to_string()).collect::<Vec<_>>().join(", "))
        }
        Expect::AnyOf(alternatives) => alternatives.iter().map(expect_text).collect::<Vec<_>>().join(" | "),
    }
}

/// An expected child status, `no core` included when the expectation says it.
pub fn expected_status_text(status: ChildStatus, no_core: bool) -> String {
    match status {
        ChildStatus::Killed { signal, core } => killed(signal, core, no_core),
        other => status_text(other),
    }
}

/// A child status in the words of an expectation: `exited 0`, `killed SIGKILL core`.
pub fn status_text(status: ChildStatus) -> String {
    match status {
        ChildStatus::Exited(code) => format!("exited {}", code),
        ChildStatus::Killed { signal, core } => killed(signal, core, false),
        ChildStatus::Stopped(signal) => format!("stopped {}", signal.name()),
        ChildStatus::Continued => "continued".to_string(),
    }
}

/// A double-quoted string literal whose decoding gives back exactly `bytes`.
///
/// Printable ASCII stays as it is, and so do non-ASCII characters of valid UTF-8 (except control and
/// invisible formatting characters); `\n \t \r \0 \\ \"` use their short escapes; every other byte
/// is written `\xHH`.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                '\0' => out.push_str("\\0"),
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                ' '..='~' => out.push(c),
                c if !c.is_ascii() && !c.is_control() && !is_invisible(c) => out.push(c),
                c => {
                    let mut buffer = [0u8; 4];
                    for byte in c.encode_utf8(&mut buffer).bytes() {
                        out.push_str(&format!("\\x{:02x}", byte));
                    }
                }
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{:02x}", byte));
        }
    }
    out.push('"');
    out
}

/// Characters that would hide or reorder text if printed as they are.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
    )
}
