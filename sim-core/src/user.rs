//! User space: what a process does between system calls.
//!
//! A process runs its compiled program with its own program counter and variables. Computations,
//! conditions and jumps are its own work and take no step; [`settle`] runs them after each call
//! returns (and when a process starts), until the process reaches its next system call, its next
//! `fork`, or the end of its code. That is why a process always rests on a call, and the snapshot can
//! show which one. The work is bounded ([`crate::Limits::max_user_ops_per_step`]), so a loop that
//! makes no system call ends the run with a clear message instead of hanging it.

use crate::lang::ast::{BinaryOp, UnaryOp};
use crate::lang::compile::{Op, OpKind, Value};
use crate::trace::Pid;

/// What user-space code did that it cannot survive or finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A division (or remainder) the CPU cannot do: by zero, or of the most negative number by -1 (the
    /// quotient does not fit). x86-64's `idiv` traps on both and Linux raises `SIGFPE`, as for `x / 0`
    /// in C.
    DivideError,
}

/// Where [`settle`] left a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// At a call or a fork (its index).
    AtStep,
    /// At the end of its code: its next step is the implicit `exit(0)`.
    AtEnd,
    /// A fault at operation `op`.
    Fault { op: u32, fault: Fault },
    /// More than the budget of user-space operations without a system call, at operation `op`.
    OverBudget { op: u32 },
}

/// `a op b` as a 64-bit machine computes it; `None` where its division traps (by zero, or `i64::MIN / -1`).
pub fn binary(op: BinaryOp, a: i64, b: i64) -> Option<i64> {
    Some(match op {
        BinaryOp::Or => (a != 0 || b != 0) as i64,
        BinaryOp::And => (a != 0 && b != 0) as i64,
        BinaryOp::BitOr => a | b,
        BinaryOp::BitAnd => a & b,
        BinaryOp::Eq => (a == b) as i64,
        BinaryOp::Ne => (a != b) as i64,
        BinaryOp::Lt => (a < b) as i64,
        BinaryOp::Le => (a <= b) as i64,
        BinaryOp::Gt => (a > b) as i64,
        BinaryOp::Ge => (a >= b) as i64,
        BinaryOp::Add => a.wrapping_add(b),
        BinaryOp::Sub => a.wrapping_sub(b),
        BinaryOp::Mul => a.wrapping_mul(b),
        BinaryOp::Div => a.checked_div(b)?,
        BinaryOp::Rem => a.checked_rem(b)?,
    })
}

/// The value of `value` in a process with these variables.
#[cfg_attr(not(feature = "small"), inline(always))]
pub fn evaluate(value: &Value, vars: &[i64], pid: Pid) -> Result<i64, Fault> {
    match value {
        Value::Const(constant) => Ok(*constant),
        Value::Slot(slot) => Ok(vars[*slot as usize]),
        _ => evaluate_slow(value, vars, pid),
    }
}

#[inline(never)]
fn evaluate_slow(value: &Value, vars: &[i64], pid: Pid) -> Result<i64, Fault> {
    Ok(match value {
        Value::Const(constant) => *constant,
        Value::Slot(slot) => vars[*slot as usize],
        Value::SelfPid => pid as i64,
        Value::Unary(UnaryOp::Neg, operand) => evaluate(operand, vars, pid)?.wrapping_neg(),
        Value::Unary(UnaryOp::Not, operand) => (evaluate(operand, vars, pid)? == 0) as i64,
        Value::Binary(op @ (BinaryOp::And | BinaryOp::Or), left, right) => {
            // `&&` and `||` look at their right side only when they need it, as in C.
            let left = evaluate(left, vars, pid)? != 0;
            match (op, left) {
                (BinaryOp::And, false) => 0,
                (BinaryOp::Or, true) => 1,
                _ => (evaluate(right, vars, pid)? != 0) as i64,
            }
        }
        Value::Binary(op, left, right) => {
            binary(*op, evaluate(left, vars, pid)?, evaluate(right, vars, pid)?).ok_or(Fault::DivideError)?
        }
    })
}

/// Runs user-space operations from `*pc` until the process reaches a step (a call or a fork) or the end
/// of its code at `end_pc`, doing at most `budget` of them.
#[cfg_attr(not(feature = "small"), inline(always))]
pub fn settle(ops: &[Op], pc: &mut u32, end_pc: u32, vars: &mut [i64], pid: Pid, budget: u32) -> Settled {
    let mut done = 0u32;
    while *pc < end_pc {
        let op = *pc;
        match &ops[op as usize].kind {
            OpKind::Call(_) | OpKind::Fork { .. } => return Settled::AtStep,
            OpKind::RepeatNext { counter, body } => {
                let left = &mut vars[*counter as usize];
                *left -= 1;
                *pc = if *left > 0 { *body } else { op + 1 };
            }
            OpKind::Jump { target } => *pc = *target,
            OpKind::Assign { slot, value } => match evaluate(value, vars, pid) {
                Ok(result) => {
                    vars[*slot as usize] = result;
                    *pc = op + 1;
                }
                Err(fault) => return Settled::Fault { op, fault },
            },
            OpKind::JumpUnless { condition, target } => match evaluate(condition, vars, pid) {
                Ok(0) => *pc = *target,
                Ok(_) => *pc = op + 1,
                Err(fault) => return Settled::Fault { op, fault },
            },
        }
        done += 1;
        if done >= budget {
            return Settled::OverBudget { op };
        }
    }
    Settled::AtEnd
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::compile::Program;

    fn program(text: &str) -> Program {
        Program::compile(&crate::parse(text).expect("parses")).expect("compiles")
    }

    #[test]
    fn settling_runs_computations_up_to_the_next_call() {
        let program = program("process a {\n n = 0\n while n < 3 {\n  n = n + 1\n }\n exit n\n}\n");
        let mut vars = vec![-1; program.slots.len()];
        let mut pc = 0;
        let settled = settle(&program.ops, &mut pc, program.processes[0].end, &mut vars, 2, 1000);
        assert_eq!(settled, Settled::AtStep);
        assert_eq!(program.call(pc).map(|call| call.name()), Some("exit"));
        assert_eq!(vars[program.slots.iter().position(|name| &**name == "n").unwrap()], 3);
    }

    #[test]
    fn a_loop_without_calls_runs_out_of_budget_and_a_bad_division_faults() {
        let spin = program("process a {\n n = 0\n while 1 {\n  n = n + 1\n }\n}\n");
        let mut vars = vec![-1; spin.slots.len()];
        let mut pc = 0;
        assert!(matches!(
            settle(&spin.ops, &mut pc, spin.processes[0].end, &mut vars, 2, 100),
            Settled::OverBudget { .. }
        ));
        let divide = program("process a {\n n = 0\n n = 5 / n\n}\n");
        let mut vars = vec![-1; divide.slots.len()];
        let mut pc = 0;
        assert_eq!(
            settle(&divide.ops, &mut pc, divide.processes[0].end, &mut vars, 2, 100),
            Settled::Fault { op: 1, fault: Fault::DivideError }
        );
    }

    #[test]
    fn division_traps_where_the_cpu_does_and_wraps_elsewhere() {
        assert_eq!(binary(BinaryOp::Div, 7, 0), None);
        assert_eq!(binary(BinaryOp::Rem, 7, 0), None);
        assert_eq!(binary(BinaryOp::Div, i64::MIN, -1), None);
        assert_eq!(binary(BinaryOp::Rem, i64::MIN, -1), None);
        assert_eq!(binary(BinaryOp::Div, -7, 2), Some(-3));
        assert_eq!(binary(BinaryOp::Rem, -7, 2), Some(-1));
        assert_eq!(binary(BinaryOp::Add, i64::MAX, 1), Some(i64::MIN));
        assert_eq!(binary(BinaryOp::Mul, i64::MIN, -1), Some(i64::MIN));
        assert_eq!(binary(BinaryOp::Lt, -1, 0), Some(1));
    }
}
