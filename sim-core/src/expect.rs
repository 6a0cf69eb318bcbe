//! Expectations: what the scenario says should happen, checked against what did.
//!
//! Three kinds: a result on a call's line (`-> 5`), checked after the step in which the call returned;
//! how a process ends (`expect exited 0` on its `process` or `fork` line) and how the whole run ends
//! (`expect deadlock`), checked when the run ends. The kernel only reports the calls that completed
//! ([`crate::kernel::Completion`]); everything about expectations lives here.

use crate::kernel::{base_name, Completion, Kernel, ProcState};
use crate::lang::ast::{ChildStatus, Expect, Located, ProcessOutcome, Quantifier, RunEnd, Span};
use crate::lang::compile::OutcomeCondition;
use crate::lang::print::status_text;
use crate::present::render::quote_bytes;
use crate::trace::{CallResult, Event, EventKind, Mismatch, Pid, RunOutcome, Trace, NO_OP};

/// An expectation from the scenario that did not hold.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExpectationFailure {
    pub span: Span,
    pub process: String,
    pub expected: String,
    pub got: String,
}

/// Records a failure as an event and in the list.
fn fail(
    kernel: &Kernel,
    failures: &mut Vec<ExpectationFailure>,
    trace: &mut Trace,
    (pid, op, span): (Pid, u32, Span),
    expected: String,
    got: String,
) {
    trace.record(Event {
        step: kernel.step as u32,
        kind: EventKind::ExpectFailed {
            pid,
            op,
            mismatch: Box::new(Mismatch { expected: expected.clone(), got: got.clone(), span }),
        },
    });
    let process = if pid == 0 { "the run".to_string() } else { kernel.process(pid).name.to_string() };
    failures.push(ExpectationFailure { span, process, expected, got });
}

/// Checks the expectations of the calls that returned in the step just taken.
pub fn check_completions(
    kernel: &Kernel,
    completions: &[Completion],
    failures: &mut Vec<ExpectationFailure>,
    trace: &mut Trace,
) {
    for completion in completions {
        let Some(expect) = &kernel.program.ops[completion.op as usize].expect else { continue };
        let got = match completion.killed_by {
            Some(signal) => format!("no return: the process was killed by {}", signal.name()),
            None if holds(kernel, &expect.value, &completion.result, &completion.data) => continue,
            None => describe_result(kernel, &completion.result, &completion.data),
        };
        let at = (completion.pid, completion.op, expect.span);
        fail(kernel, failures, trace, at, describe_expect(&expect.value), got);
    }
}

fn holds(kernel: &Kernel, expect: &Expect, result: &CallResult, data: &[u8]) -> bool {
    match (expect, result) {
        (Expect::AnyOf(alternatives), _) => {
            alternatives.iter().any(|alternative| holds(kernel, alternative, result, data))
        }
        (Expect::Ok, CallResult::Error { .. }) => false,
        (Expect::Ok, _) => true,
        (Expect::Value(_), CallResult::Error { .. }) => false,
        (Expect::Value(value), CallResult::Out { value: stored }) => stored == value,
        (Expect::Value(value), other) => other.return_value() == *value,
        (Expect::Data(bytes), CallResult::Data { .. } | CallResult::Message { .. } | CallResult::Received { .. }) => {
            data == bytes.as_slice()
        }
        (
            Expect::ByteCount(count),
            CallResult::Data { len, .. } | CallResult::Message { len, .. } | CallResult::Received { len, .. },
        ) => len == count,
        (Expect::Values(values), CallResult::Array { .. }) => {
            let got: Vec<i64> =
                data.chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]]) as i64).collect();
            &got == values
        }
        (Expect::Error(errno), CallResult::Error { errno: got }) => errno == got,
        (
            Expect::Child { name, status, no_core },
            CallResult::Waited { child, status: got } | CallResult::WaitedInfo { child, status: got },
        ) => {
            base_name(&kernel.process(*child).name) == name
                && match (status, got) {
                    (
                        ChildStatus::Killed { signal, core: false },
                        ChildStatus::Killed { signal: got_signal, core: got_core },
                    ) => signal == got_signal && !(*no_core && *got_core),
                    _ => status == got,
                }
        }
        (Expect::NoChild, CallResult::Value { value: 0 }) => true,
        _ => false,
    }
}

/// An expectation in the words the scenario uses.
pub fn describe_expect(expect: &Expect) -> String {
    match expect {
        Expect::Value(value) => value.to_string(),
        Expect::Ok => "ok (no error)".to_string(),
        Expect::Data(bytes) => quote_bytes(bytes, 48),
        Expect::ByteCount(count) => format!("{count} bytes"),
        Expect::Error(errno) => errno.name().to_string(),
        Expect::Child { name, status, no_core } => {
            format!("{name} {}", crate::lang::print::expected_status_text(*status, *no_core))
        }
        Expect::NoChild => "none".to_string(),
        Expect::Values(values) => {
            format!("{{{}}}", values.iter().map(|value| value.to_string()).collect::<Vec<_>>().join(", "))
        }
        Expect::AnyOf(alternatives) => alternatives.iter().map(describe_expect).collect::<Vec<_>>().join(" or "),
    }
}

/// A call's result in the words expectations use.
pub fn describe_result(kernel: &Kernel, result: &CallResult, data: &[u8]) -> String {
    match result {
        CallResult::Value { value } | CallResult::Out { value } => value.to_string(),
        CallResult::Error { errno } => errno.name().to_string(),
        CallResult::Data { len, .. } => format!("{} ({} bytes)", quote_bytes(data, 48), len),
        CallResult::Message { len, tag, .. } => format!("{} ({} bytes, tagged {tag})", quote_bytes(data, 48), len),
        CallResult::Received { len, fds, .. } => format!("{} ({} bytes, {fds} fds)", quote_bytes(data, 48), len),
        CallResult::Array { .. } => crate::present::render::values_text(data),
        CallResult::Polled { ready, .. } | CallResult::Epolled { ready, .. } => ready.to_string(),
        CallResult::Pair { .. } => "0".to_string(),
        CallResult::Fork { child } => child.to_string(),
        CallResult::Waited { child, status } | CallResult::WaitedInfo { child, status } => {
            format!("{} {}", kernel.process(*child).name, status_text(*status))
        }
    }
}

/// Whether a process that ended with `status` (`None`: it has not) ended as `expect` says.
fn ends_as(expect: &ProcessOutcome, status: Option<ChildStatus>) -> bool {
    match (expect, status) {
        (ProcessOutcome::Running, None) => true,
        (ProcessOutcome::Exited(code), Some(ChildStatus::Exited(got))) => *code == got,
        (
            ProcessOutcome::Killed { signal, core, no_core },
            Some(ChildStatus::Killed { signal: got_signal, core: got_core }),
        ) => signal == &got_signal && (!core || got_core) && !(*no_core && got_core),
        _ => false,
    }
}

/// Whether a condition of a declared outcome holds at the end of a run that ended as `outcome`. A
/// condition on a process name holds when every process of that name (each copy a `repeat` forks)
/// meets it, and there is at least one.
fn condition_holds(kernel: &Kernel, outcome: &RunOutcome, condition: &OutcomeCondition) -> bool {
    let named = |name: &str, test: &dyn Fn(&crate::kernel::Process) -> bool| {
        let mut any = false;
        for process in kernel.procs.iter().skip(1).filter(|process| base_name(&process.name) == name) {
            if !test(process) {
                return false;
            }
            any = true;
        }
        any
    };
    match condition {
        OutcomeCondition::RunEnds(end) => matches!(
            (end, outcome),
            (RunEnd::AllExited, RunOutcome::AllExited)
                | (RunEnd::Deadlock, RunOutcome::Deadlock { .. })
                | (RunEnd::StepLimit, RunOutcome::StepLimit { .. })
        ),
        OutcomeCondition::Process { name, end } => named(name, &|process| ends_as(end, process.status)),
        OutcomeCondition::Compare { name, slot, op, value, .. } => {
            named(name, &|process| op.holds(process.vars.get(*slot as usize).copied().unwrap_or(-1), *value))
        }
        OutcomeCondition::Left { kind, op, value } => op.holds(kernel.leftover_count(*kind) as i64, *value),
        OutcomeCondition::Copied { mechanism, toward, op, value } => {
            op.holds(kernel.copied(*mechanism, *toward) as i64, *value)
        }
        OutcomeCondition::Calls { name, op, value } => {
            named(name, &|process| op.holds(process.syscalls as i64, *value))
        }
    }
}

/// The declared outcomes at the end of a run: whether each happened, and a failure for an `always`
/// that did not or a `never` that did.
pub fn check_outcomes(
    kernel: &Kernel,
    outcome: &RunOutcome,
    failures: &mut Vec<ExpectationFailure>,
    trace: &mut Trace,
) -> Vec<bool> {
    let program = kernel.program.clone();
    let mut happened = Vec::with_capacity(program.outcomes.len());
    for declared in &program.outcomes {
        let unmet = declared.conditions.iter().find(|(_, condition)| !condition_holds(kernel, outcome, condition));
        happened.push(unmet.is_none());
        let got = match (declared.quantifier, unmet) {
            (Quantifier::Always, Some((_, condition))) => format!("not on this run: not {}", condition.text()),
            (Quantifier::Never, None) => format!(
                "it happened: {}",
                declared.conditions.iter().map(|(_, condition)| condition.text()).collect::<Vec<_>>().join("; ")
            ),
            _ => continue,
        };
        fail(kernel, failures, trace, (0, NO_OP, declared.span), format!("outcome {}", declared.title()), got);
    }
    happened
}

/// When the run ends: calls still waiting that expected a result, how each process ended, and how the
/// run ended.
pub fn check_end(
    kernel: &Kernel,
    expected_end: Option<&Located<RunEnd>>,
    outcome: &RunOutcome,
    failures: &mut Vec<ExpectationFailure>,
    trace: &mut Trace,
) {
    for index in 1..kernel.procs.len() {
        let pid = index as Pid + 1;
        let process = &kernel.procs[index];
        if let ProcState::Blocked(_) = process.state {
            if let Some(op) = kernel.next_op(pid) {
                if let Some(expect) = &kernel.program.ops[op as usize].expect {
                    fail(
                        kernel,
                        failures,
                        trace,
                        (pid, op, expect.span),
                        describe_expect(&expect.value),
                        "no return: the call was still blocked when the run ended".to_string(),
                    );
                }
            }
        }
        let Some(expect) = &process.expect else { continue };
        if !ends_as(&expect.value, process.status) {
            let got = match process.status {
                Some(status) => status_text(status),
                None => "running".to_string(),
            };
            let expected = match expect.value {
                ProcessOutcome::Running => "running".to_string(),
                ProcessOutcome::Exited(code) => format!("exited {code}"),
                ProcessOutcome::Killed { signal, core, no_core } => {
                    crate::lang::print::expected_status_text(ChildStatus::Killed { signal, core }, no_core)
                }
            };
            fail(kernel, failures, trace, (pid, NO_OP, expect.span), expected, got);
        }
    }
    let (expected, span) = match expected_end {
        Some(located) => (located.value, located.span),
        None => (RunEnd::AllExited, Span::START),
    };
    let matches = matches!(
        (expected, outcome),
        (RunEnd::AllExited, RunOutcome::AllExited)
            | (RunEnd::Deadlock, RunOutcome::Deadlock { .. })
            | (RunEnd::StepLimit, RunOutcome::StepLimit { .. })
    );
    if !matches {
        let expected_text = match expected {
            RunEnd::AllExited => "all-exited",
            RunEnd::Deadlock => "deadlock",
            RunEnd::StepLimit => "step-limit",
        };
        trace.record(Event {
            step: kernel.step as u32,
            kind: EventKind::ExpectFailed {
                pid: 0,
                op: NO_OP,
                mismatch: Box::new(Mismatch {
                    expected: expected_text.to_string(),
                    got: outcome.name().to_string(),
                    span,
                }),
            },
        });
        failures.push(ExpectationFailure {
            span,
            process: "the run".to_string(),
            expected: format!("the run to end: {expected_text}"),
            got: outcome.name().to_string(),
        });
    }
}
