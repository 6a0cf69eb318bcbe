//! Which variables are still to be read: a backward liveness analysis of the compiled operations.
//!
//! A variable is *live* at an operation when some path from there reads it before writing it. The
//! state hash ([`crate::kernel::Kernel::state_hash`]) hashes only the live variables of each process
//! at its program counter: two states that differ only in a value no one will read again have the same
//! futures, and an explorer that caches states should meet them as one (the model checker Spin does
//! the same by default, as its "dead variable elimination"). The values themselves are kept as they
//! are; only the hash looks away from them.
//!
//! The analysis is the textbook one over the operations' control flow: each operation reads the
//! variables of its operands and conditions, a call or an assignment always writes the variable its
//! result is bound to (a failed call stores -1 there), and the end of a block (a process's code, a
//! `fork` body) leads nowhere. What a process still holds when it has ended is dead, except the
//! variables a declared outcome compares at the end of the run, which are live everywhere. A scenario
//! with `handler` blocks keeps every variable live: a handler can run between any two steps.

use super::compile::{Bind, OpKind, Program, Slot};

/// The live variables at each operation and at a process's end (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Liveness {
    /// 64-bit words per set.
    words: usize,
    /// One set per operation, then the set at a process's end.
    sets: Vec<u64>,
    /// The row of the set at a process's end (the number of operations).
    end_row: usize,
    /// Every variable is live everywhere.
    all: bool,
    /// Whether the program may read who last changed a semaphore ([`Program::observes_sempid`]).
    pub reads_sempid: bool,
    /// Whether the state hash also takes the operands a call was made with after it returned, which
    /// nothing reads again (see `Kernel::state_hash`): only in the default, which looks away from
    /// nothing, to compare with.
    pub spent_operands: bool,
}

impl Default for Liveness {
    /// Every variable live everywhere, until [`Liveness::of`] says otherwise.
    fn default() -> Liveness {
        Liveness { words: 1, sets: Vec::new(), end_row: 0, all: true, reads_sempid: true, spent_operands: true }
    }
}

impl Liveness {
    /// Whether `slot` may still be read by a process at operation `pc` whose block ends at `end_pc`
    /// (a process that has reached its end or ended reads nothing more).
    #[inline]
    pub fn is_live(&self, pc: u32, end_pc: u32, ended: bool, slot: Slot) -> bool {
        if self.all {
            return true;
        }
        let row = if ended || pc >= end_pc { self.end_row } else { pc as usize };
        let word = self.sets[row * self.words + slot as usize / 64];
        word >> (slot % 64) & 1 == 1
    }

    /// The set [`Liveness::is_live`] reads, as a bit per slot (slot `n` is bit `n % 64` of word
    /// `n / 64`), or `None` when every variable is live.
    #[inline]
    pub fn row(&self, pc: u32, end_pc: u32, ended: bool) -> Option<&[u64]> {
        if self.all {
            return None;
        }
        let row = if ended || pc >= end_pc { self.end_row } else { pc as usize };
        Some(&self.sets[row * self.words..(row + 1) * self.words])
    }

    /// Computes the liveness of `program`'s variables.
    pub fn of(program: &Program) -> Liveness {
        let slots = program.slots.len();
        let words = slots.div_ceil(64).max(1);
        let ops = &program.ops;
        if !program.handlers.is_empty() {
            return Liveness {
                words,
                sets: Vec::new(),
                end_row: 0,
                all: true,
                reads_sempid: program.observes_sempid(),
                spent_operands: false,
            };
        }
        let block_end = block_ends(program);
        // What a process's end keeps live: the variables the declared outcomes compare.
        let mut at_end = vec![0u64; words];
        for declared in &program.outcomes {
            for (_, condition) in &declared.conditions {
                if let super::compile::OutcomeCondition::Compare { slot, .. } = condition {
                    at_end[*slot as usize / 64] |= 1 << (slot % 64);
                }
            }
        }
        let exit = ops.len();
        let mut sets = vec![0u64; (ops.len() + 1) * words];
        sets[exit * words..].copy_from_slice(&at_end);
        let successor = |index: usize, target: u32| -> usize {
            if target >= block_end[index] {
                exit
            } else {
                target as usize
            }
        };
        let mut uses = vec![0u64; words];
        let mut changed = true;
        while changed {
            changed = false;
            for index in (0..ops.len()).rev() {
                if block_end[index] == u32::MAX {
                    continue;
                }
                let next = successor(index, index as u32 + 1);
                // The live variables after the operation, less the ones it surely writes, plus the ones
                // it reads.
                let mut live: Vec<u64> = at_end.clone();
                let add = |live: &mut Vec<u64>, row: usize| {
                    for word in 0..words {
                        live[word] |= sets[row * words + word];
                    }
                };
                uses.iter_mut().for_each(|word| *word = 0);
                let mut killed: Option<Slot> = None;
                match &ops[index].kind {
                    OpKind::Call(call) => {
                        if call.id != super::syscalls::CallId::Exit {
                            add(&mut live, next);
                        }
                        if !call.retry.is_empty() {
                            // Made again on these errors, before its result is bound.
                            add(&mut live, index);
                        }
                        killed = match call.bind {
                            Bind::Value(slot) => Some(slot),
                            Bind::Message { count, .. }
                            | Bind::Bytes { count, .. }
                            | Bind::Rights { count, .. }
                            | Bind::Polled { count, .. }
                            | Bind::Epolled { count, .. } => Some(count),
                            Bind::None | Bind::Pair { .. } => None,
                        };
                        for operand in call.operands.iter() {
                            operand.for_each_slot(&mut |slot| set(&mut uses, slot));
                        }
                    }
                    OpKind::Fork { slot, body_end, .. } => {
                        add(&mut live, successor(index, *body_end));
                        // The child starts in the body, and an empty body ends it at once.
                        add(&mut live, if index as u32 + 1 >= *body_end { exit } else { index + 1 });
                        killed = Some(*slot);
                    }
                    OpKind::Assign { slot, value } => {
                        add(&mut live, next);
                        killed = Some(*slot);
                        value.for_each_slot(&mut |slot| set(&mut uses, slot));
                    }
                    OpKind::Jump { target } => add(&mut live, successor(index, *target)),
                    OpKind::JumpUnless { condition, target } => {
                        add(&mut live, next);
                        add(&mut live, successor(index, *target));
                        condition.for_each_slot(&mut |slot| set(&mut uses, slot));
                    }
                    OpKind::RepeatNext { counter, body } => {
                        add(&mut live, next);
                        add(&mut live, successor(index, *body));
                        set(&mut uses, *counter);
                    }
                }
                if let Some(slot) = killed {
                    live[slot as usize / 64] &= !(1 << (slot % 64));
                }
                for word in 0..words {
                    let new = live[word] | uses[word] | at_end[word];
                    if new != sets[index * words + word] {
                        sets[index * words + word] = new;
                        changed = true;
                    }
                }
            }
        }
        Liveness {
            words,
            sets,
            end_row: exit,
            all: false,
            reads_sempid: program.observes_sempid(),
            spent_operands: false,
        }
    }
}

/// The end of the innermost block around each operation: a top-level process's code, or a `fork` body
/// inside it (nested bodies follow their fork directly); `u32::MAX` for code outside every process.
pub(crate) fn block_ends(program: &Program) -> Vec<u32> {
    let ops = &program.ops;
    let mut block_end = vec![u32::MAX; ops.len()];
    for process in &program.processes {
        let mut ends: Vec<u32> = vec![process.end];
        for index in process.start..process.end {
            while ends.last().is_some_and(|end| *end <= index) {
                ends.pop();
            }
            block_end[index as usize] = *ends.last().expect("the process's own block");
            if let OpKind::Fork { body_end, .. } = ops[index as usize].kind {
                ends.push(body_end);
            }
        }
    }
    block_end
}

fn set(words: &mut [u64], slot: Slot) {
    words[slot as usize / 64] |= 1 << (slot % 64);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(text: &str) -> Program {
        Program::compile(&crate::lang::parse(text).expect("parses")).expect("compiles")
    }

    fn slot(program: &Program, name: &str) -> Slot {
        program.slots.iter().position(|slot| &**slot == name).expect("the variable") as Slot
    }

    /// The row the state hash walks for the first process says of every slot, at every operation,
    /// ended or not, what `is_live` says.
    fn rows_agree_with_is_live(program: &Program) {
        let (live, main) = (&program.live, &program.processes[0]);
        for pc in 0..=program.ops.len() as u32 {
            for ended in [false, true] {
                let row = live.row(pc, main.end, ended).expect("no handler: liveness is computed");
                for slot in 0..program.slots.len() as u32 {
                    let bit = row[slot as usize / 64] >> (slot % 64) & 1 == 1;
                    assert_eq!(bit, live.is_live(pc, main.end, ended, slot), "pc {pc}, slot {slot}");
                }
            }
        }
    }

    fn op_at_line(program: &Program, line: u32) -> u32 {
        program.ops.iter().position(|op| op.span.line == line).expect("an operation on that line") as u32
    }

    #[test]
    fn a_value_is_dead_after_its_last_read_and_before_it_is_written_again() {
        let program = program(
            "process main {\n  \
               p = pipe\n  \
               repeat 3 {\n    \
                 write p.w \"x\"\n    \
                 n = ioctl p.r FIONREAD\n    \
                 if n > 3 {\n      \
                   exit 1\n    \
                 }\n    \
                 read p.r 1\n  \
               }\n\
             }\n",
        );
        let live = &program.live;
        let main = &program.processes[0];
        let (n, pr) = (slot(&program, "n"), slot(&program, "p.r"));
        let write = op_at_line(&program, 4);
        let ioctl = op_at_line(&program, 5);
        let read = op_at_line(&program, 9);
        // `n` is written by the ioctl, read by the `if`, and dead everywhere else.
        assert!(!live.is_live(write, main.end, false, n));
        assert!(!live.is_live(ioctl, main.end, false, n));
        assert!(!live.is_live(read, main.end, false, n));
        // The pipe's read end is read again on the next round.
        assert!(live.is_live(write, main.end, false, pr));
        assert!(live.is_live(read, main.end, false, pr));
        // At the end nothing is live.
        assert!(!live.is_live(main.end, main.end, false, pr));
        assert!(!live.is_live(read, main.end, true, pr));
        // The row the state hash walks says the same of every slot at every operation.
        rows_agree_with_is_live(&program);
    }

    #[test]
    fn a_fork_body_ends_where_its_block_does_and_the_parent_goes_on_after_it() {
        let program = program(
            "process main {\n  \
               a = 5\n  \
               b = 7\n  \
               fork child {\n    \
                 exit a\n  \
               }\n  \
               exit b\n\
             }\n",
        );
        let live = &program.live;
        let main = &program.processes[0];
        let (a, b) = (slot(&program, "a"), slot(&program, "b"));
        let fork = op_at_line(&program, 4);
        let child_exit = op_at_line(&program, 5);
        let parent_exit = op_at_line(&program, 7);
        // Before the fork both are live: the child reads `a`, the parent `b`.
        assert!(live.is_live(fork, main.end, false, a) && live.is_live(fork, main.end, false, b));
        // The child's last operation does not fall through into the parent's code.
        let OpKind::Fork { body_end, .. } = program.ops[fork as usize].kind else { panic!("a fork") };
        assert!(live.is_live(child_exit, body_end, false, a));
        assert!(!live.is_live(child_exit, body_end, false, b));
        assert!(!live.is_live(parent_exit, main.end, false, a));
    }

    /// `semctl` takes an `int` command: a constant whose low 32 bits are `GETPID` reads who last
    /// changed the semaphore as `GETPID` does, so that pid stays in the state.
    #[test]
    fn a_getpid_written_as_a_wider_constant_still_keeps_semaphore_pids() {
        let scenario = |command: &str| {
            program(&format!(
                "process main {{\n  s = semget IPC_PRIVATE 1 IPC_CREAT|0600\n  who = semctl s 0 {command}\n}}\n"
            ))
        };
        assert!(scenario("GETPID").live.reads_sempid);
        assert!(scenario("4294967307").live.reads_sempid, "2^32 + 11 is GETPID to the kernel");
        assert!(!scenario("GETVAL").live.reads_sempid);
    }

    #[test]
    fn outcome_comparisons_and_handlers_keep_variables_live() {
        let compared = program("process main {\n  n = 1\n  m = 2\n}\noutcome always \"n\" {\n  main.n == 1\n}\n");
        let main = &compared.processes[0];
        assert!(compared.live.is_live(main.end, main.end, true, slot(&compared, "n")));
        assert!(!compared.live.is_live(main.end, main.end, true, slot(&compared, "m")));
        let handled =
            program("handler h {\n  x = 1\n}\nprocess main {\n  n = 1\n  signal SIGUSR1 h\n  kill self SIGUSR1\n}\n");
        let main = &handled.processes[0];
        assert!(handled.live.is_live(main.end, main.end, true, slot(&handled, "n")));
        // With a handler, the state hash is told to hash every variable.
        assert_eq!(handled.live.row(0, main.end, false), None);
    }

    /// Past 64 variables a row is more than one word: slot 64 is bit 0 of the second word, and the row
    /// says what `is_live` says of every slot at every operation.
    #[test]
    fn a_row_of_more_than_64_variables_spans_words() {
        let mut text = String::from("process main {\n");
        for number in 0..70 {
            text.push_str(&format!("  v{number} = {number}\n"));
        }
        for number in 0..70 {
            text.push_str(&format!("  if v{number} > 100 {{\n    exit 1\n  }}\n"));
        }
        text.push_str("}\n");
        let program = program(&text);
        assert!(program.slots.len() > 64, "{} slots", program.slots.len());
        let (live, main) = (&program.live, &program.processes[0]);
        let v69 = slot(&program, "v69");
        // v69 is live from its assignment until the last `if` reads it: bit 5 of the second word.
        let after_assignments = op_at_line(&program, 72);
        let row = live.row(after_assignments, main.end, false).expect("no handler");
        assert_eq!(row.len(), 2);
        assert!(live.is_live(after_assignments, main.end, false, v69));
        assert_eq!(row[v69 as usize / 64] >> (v69 % 64) & 1, 1, "{row:?}");
        rows_agree_with_is_live(&program);
    }
}
