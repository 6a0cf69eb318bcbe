//! The compiled form of a scenario: one flat list of operations that every process walks with its own
//! program counter.
//!
//! Names are resolved here, once: every descriptor or process name becomes a *slot*, and each process
//! keeps an array of slot values (like a C program's local variables, copied by `fork`). `repeat`
//! becomes a pair of control operations, and a `fork` block is a range of operations that the child runs
//! and the parent skips. Control operations are not system calls and never take a step.

use crate::ast::{
    Call, Disposition, Expect, FcntlCmd, FdRef, Located, OpenFlags, Payload, ProcRef, ProcessOutcome, RunEnd, Scenario,
    Signal, Span, Stmt, WaitOptions,
};
use crate::diagnostic::Diagnostic;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Index of a name in [`Program::slots`].
pub type Slot = u32;

/// A descriptor operand after name resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdArg {
    Slot(Slot),
    Literal(i32),
}

/// A process operand after name resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcArg {
    Slot(Slot),
    SelfProc,
    AnyChild,
}

/// A system call ready to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOp {
    Pipe { read_slot: Slot, write_slot: Slot, flags: OpenFlags, is_pipe2: bool },
    Open { slot: Slot, path: Arc<str>, flags: OpenFlags },
    Dup { slot: Slot, fd: FdArg },
    Dup2 { old: FdArg, new: FdArg },
    Close { fd: FdArg },
    Write { fd: FdArg, data: Arc<[u8]> },
    Read { fd: FdArg, count: u32 },
    Mkfifo { path: Arc<str> },
    Unlink { path: Arc<str> },
    Fcntl { fd: FdArg, cmd: FcntlCmd },
    Kill { target: ProcArg, signal: Signal },
    SetDisposition { signal: Signal, disposition: Disposition },
    Wait,
    Waitpid { target: ProcArg, options: WaitOptions },
    Pause,
    SchedYield,
    Exit { code: u8 },
}

/// The Linux name of every system call a scenario can make, as [`CallOp::name`] gives them.
pub const SYSTEM_CALLS: &[&str] = &[
    "pipe",
    "pipe2",
    "open",
    "dup",
    "dup2",
    "close",
    "write",
    "read",
    "mkfifo",
    "unlink",
    "fcntl",
    "kill",
    "signal",
    "wait",
    "waitpid",
    "pause",
    "sched_yield",
    "exit",
];

impl CallOp {
    /// The Linux name of the call, as the trace prints it.
    pub fn name(&self) -> &'static str {
        match self {
            CallOp::Pipe { is_pipe2: false, .. } => "pipe",
            CallOp::Pipe { is_pipe2: true, .. } => "pipe2",
            CallOp::Open { .. } => "open",
            CallOp::Dup { .. } => "dup",
            CallOp::Dup2 { .. } => "dup2",
            CallOp::Close { .. } => "close",
            CallOp::Write { .. } => "write",
            CallOp::Read { .. } => "read",
            CallOp::Mkfifo { .. } => "mkfifo",
            CallOp::Unlink { .. } => "unlink",
            CallOp::Fcntl { .. } => "fcntl",
            CallOp::Kill { .. } => "kill",
            CallOp::SetDisposition { .. } => "signal",
            CallOp::Wait => "wait",
            CallOp::Waitpid { .. } => "waitpid",
            CallOp::Pause => "pause",
            CallOp::SchedYield => "sched_yield",
            CallOp::Exit { .. } => "exit",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpKind {
    Call(CallOp),
    /// Create a child that runs `self_index + 1 .. body_end`; the parent continues at `body_end`.
    Fork {
        slot: Slot,
        name: Arc<str>,
        body_end: u32,
        expect: Option<Located<ProcessOutcome>>,
    },
    /// Enter a loop whose body is `self_index + 1 .. end_index` (the matching `RepeatEnd`).
    RepeatStart {
        count: u32,
        end_index: u32,
    },
    /// Loop back to `start_index + 1` while iterations remain.
    RepeatEnd {
        start_index: u32,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    pub kind: OpKind,
    pub span: Span,
    pub expect: Option<Located<Expect>>,
}

/// A top-level process: its name, where its code lives, and how it is expected to end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopProcess {
    pub name: Arc<str>,
    pub slot: Slot,
    pub start: u32,
    pub end: u32,
    pub expect: Option<Located<ProcessOutcome>>,
    pub span: Span,
}

/// A compiled scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub title: Option<String>,
    pub description: Option<String>,
    pub ops: Vec<Op>,
    /// Slot number to name (`p.r`, `child`, ...).
    pub slots: Vec<Arc<str>>,
    /// Which slots hold process ids (the others hold descriptors).
    pub process_slots: Vec<bool>,
    /// Every path the scenario names, in order of first appearance (events refer to them by index).
    pub paths: Vec<Arc<str>>,
    pub processes: Vec<TopProcess>,
    pub expected_end: Option<Located<RunEnd>>,
}

impl Program {
    pub fn compile(scenario: &Scenario) -> Result<Program, Diagnostic> {
        let mut compiler = Compiler {
            ops: Vec::new(),
            slots: BTreeMap::new(),
            slot_names: Vec::new(),
            process_slots: Vec::new(),
            paths: Vec::new(),
        };
        // Process names first, so that their slots are the same in every process.
        for process in &scenario.processes {
            compiler.slot(&process.name, true);
        }
        let mut processes = Vec::new();
        for process in &scenario.processes {
            let start = compiler.ops.len() as u32;
            compiler.block(&process.body)?;
            let end = compiler.ops.len() as u32;
            processes.push(TopProcess {
                name: Arc::from(process.name.as_str()),
                slot: compiler.slot(&process.name, true),
                start,
                end,
                expect: process.expect.clone(),
                span: process.name_span,
            });
        }
        if processes.is_empty() {
            return Err(Diagnostic::new(
                Span { line: 1, col: 1, ..Span::default() },
                "a scenario needs at least one `process`",
            ));
        }
        Ok(Program {
            title: scenario.title.clone(),
            description: scenario.description.clone(),
            ops: compiler.ops,
            slots: compiler.slot_names,
            process_slots: compiler.process_slots,
            paths: compiler.paths,
            processes,
            expected_end: scenario.expected_end.clone(),
        })
    }

    /// Does the range `start..end` contain a call or a fork (anything that takes a step)?
    fn has_steps(ops: &[Op]) -> bool {
        ops.iter().any(|op| matches!(op.kind, OpKind::Call(_) | OpKind::Fork { .. }))
    }
}

struct Compiler {
    ops: Vec<Op>,
    slots: BTreeMap<String, Slot>,
    slot_names: Vec<Arc<str>>,
    process_slots: Vec<bool>,
    paths: Vec<Arc<str>>,
}

impl Compiler {
    fn path(&mut self, path: &str) -> Arc<str> {
        if let Some(known) = self.paths.iter().find(|known| &***known == path) {
            return known.clone();
        }
        let path: Arc<str> = Arc::from(path);
        self.paths.push(path.clone());
        path
    }

    fn slot(&mut self, name: &str, is_process: bool) -> Slot {
        if let Some(slot) = self.slots.get(name) {
            return *slot;
        }
        let slot = self.slot_names.len() as Slot;
        self.slots.insert(name.to_string(), slot);
        self.slot_names.push(Arc::from(name));
        self.process_slots.push(is_process);
        slot
    }

    fn fd(&mut self, fd: &FdRef) -> FdArg {
        match fd {
            FdRef::Number(number) => FdArg::Literal(*number),
            FdRef::Name(name) => match name.as_str() {
                "stdin" => FdArg::Literal(0),
                "stdout" => FdArg::Literal(1),
                "stderr" => FdArg::Literal(2),
                other => FdArg::Slot(self.slot(other, false)),
            },
        }
    }

    fn process(&mut self, target: &ProcRef) -> ProcArg {
        match target {
            ProcRef::Name(name) => ProcArg::Slot(self.slot(name, true)),
            ProcRef::SelfProc => ProcArg::SelfProc,
            ProcRef::AnyChild => ProcArg::AnyChild,
        }
    }

    fn block(&mut self, body: &[Stmt]) -> Result<(), Diagnostic> {
        for stmt in body {
            match stmt {
                Stmt::Call(call) => {
                    let op = self.call(&call.call);
                    self.ops.push(Op { kind: OpKind::Call(op), span: call.span, expect: call.expect.clone() });
                }
                Stmt::Fork(fork) => {
                    let slot = self.slot(&fork.name, true);
                    let index = self.ops.len();
                    self.ops.push(Op {
                        kind: OpKind::Fork {
                            slot,
                            name: Arc::from(fork.name.as_str()),
                            body_end: 0,
                            expect: fork.expect.clone(),
                        },
                        span: fork.span,
                        expect: None,
                    });
                    self.block(&fork.body)?;
                    let body_end = self.ops.len() as u32;
                    if let OpKind::Fork { body_end: end, .. } = &mut self.ops[index].kind {
                        *end = body_end;
                    }
                }
                Stmt::Repeat(repeat) => {
                    let index = self.ops.len();
                    self.ops.push(Op {
                        kind: OpKind::RepeatStart { count: repeat.count, end_index: 0 },
                        span: repeat.span,
                        expect: None,
                    });
                    self.block(&repeat.body)?;
                    if repeat.count == 0 || !Program::has_steps(&self.ops[index + 1..]) {
                        // A loop that takes no step would spin inside one step: leave it out entirely.
                        self.ops.truncate(index);
                        continue;
                    }
                    let end_index = self.ops.len() as u32;
                    self.ops.push(Op {
                        kind: OpKind::RepeatEnd { start_index: index as u32 },
                        span: repeat.span,
                        expect: None,
                    });
                    if let OpKind::RepeatStart { end_index: end, .. } = &mut self.ops[index].kind {
                        *end = end_index;
                    }
                }
            }
        }
        Ok(())
    }

    fn call(&mut self, call: &Call) -> CallOp {
        match call {
            Call::Pipe { name } => CallOp::Pipe {
                read_slot: self.slot(&format!("{name}.r"), false),
                write_slot: self.slot(&format!("{name}.w"), false),
                flags: OpenFlags::default(),
                is_pipe2: false,
            },
            Call::Pipe2 { name, flags } => CallOp::Pipe {
                read_slot: self.slot(&format!("{name}.r"), false),
                write_slot: self.slot(&format!("{name}.w"), false),
                flags: *flags,
                is_pipe2: true,
            },
            Call::Open { name, path, flags } => {
                CallOp::Open { slot: self.slot(name, false), path: self.path(path), flags: *flags }
            }
            Call::Dup { name, fd } => {
                let fd = self.fd(fd);
                CallOp::Dup { slot: self.slot(name, false), fd }
            }
            Call::Dup2 { old, new } => CallOp::Dup2 { old: self.fd(old), new: self.fd(new) },
            Call::Close { fd } => CallOp::Close { fd: self.fd(fd) },
            Call::Write { fd, payload } => CallOp::Write { fd: self.fd(fd), data: payload_bytes(payload) },
            Call::Read { fd, count } => CallOp::Read { fd: self.fd(fd), count: *count },
            Call::Mkfifo { path } => CallOp::Mkfifo { path: self.path(path) },
            Call::Unlink { path } => CallOp::Unlink { path: self.path(path) },
            Call::Fcntl { fd, cmd } => CallOp::Fcntl { fd: self.fd(fd), cmd: *cmd },
            Call::Kill { target, signal } => CallOp::Kill { target: self.process(target), signal: *signal },
            Call::SignalDisposition { signal, disposition } => {
                CallOp::SetDisposition { signal: *signal, disposition: *disposition }
            }
            Call::Wait => CallOp::Wait,
            Call::Waitpid { target, options } => CallOp::Waitpid { target: self.process(target), options: *options },
            Call::Pause => CallOp::Pause,
            Call::SchedYield => CallOp::SchedYield,
            Call::Exit { code } => CallOp::Exit { code: *code },
        }
    }
}

/// The bytes a payload stands for. `N bytes of "ab"` repeats the pattern and cuts it at N bytes.
pub fn payload_bytes(payload: &Payload) -> Arc<[u8]> {
    match payload {
        Payload::Bytes(bytes) => Arc::from(bytes.as_slice()),
        Payload::Fill { len, pattern } => {
            let pattern: &[u8] = if pattern.is_empty() { b"x" } else { pattern };
            pattern.iter().copied().cycle().take(*len as usize).collect::<Vec<u8>>().into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(text: &str) -> Program {
        Program::compile(&crate::parse(text).expect("parses")).expect("compiles")
    }

    #[test]
    fn names_become_slots_shared_by_every_process() {
        let program =
            compile("process a {\n p = pipe\n fork c {\n  close p.w\n }\n}\nprocess b {\n kill a SIGTERM\n}\n");
        let names: Vec<&str> = program.slots.iter().map(|name| &**name).collect();
        assert_eq!(names, ["a", "b", "p.r", "p.w", "c"]);
        assert_eq!(program.process_slots, [true, true, false, false, true]);
        assert_eq!(program.processes.len(), 2);
    }

    #[test]
    fn a_fork_block_is_a_range_the_parent_skips() {
        let program = compile("process a {\n fork c {\n  sched_yield\n  sched_yield\n }\n pause\n}\n");
        let OpKind::Fork { body_end, .. } = &program.ops[0].kind else { panic!("first op is the fork") };
        assert_eq!(*body_end, 3);
        assert_eq!(program.ops[3].kind, OpKind::Call(CallOp::Pause));
        assert_eq!((program.processes[0].start, program.processes[0].end), (0, 4));
    }

    #[test]
    fn repeat_becomes_a_pair_of_control_operations_and_empty_loops_vanish() {
        let program = compile("process a {\n repeat 3 {\n  sched_yield\n }\n repeat 5 {\n }\n exit 0\n}\n");
        assert_eq!(program.ops.len(), 4);
        assert_eq!(program.ops[0].kind, OpKind::RepeatStart { count: 3, end_index: 2 });
        assert_eq!(program.ops[2].kind, OpKind::RepeatEnd { start_index: 0 });
        assert_eq!(program.ops[3].kind, OpKind::Call(CallOp::Exit { code: 0 }));
    }

    #[test]
    fn payloads_repeat_their_pattern_and_cut_it() {
        assert_eq!(&*payload_bytes(&Payload::Fill { len: 5, pattern: b"ab".to_vec() }), b"ababa");
        assert_eq!(&*payload_bytes(&Payload::Fill { len: 3, pattern: Vec::new() }), b"xxx");
        assert_eq!(&*payload_bytes(&Payload::Bytes(b"hi".to_vec())), b"hi");
    }

    #[test]
    fn paths_are_kept_once_each() {
        let program =
            compile("process a {\n mkfifo \"/f\"\n r = open \"/f\" O_RDWR\n unlink \"/f\"\n mkfifo \"/g\"\n}\n");
        assert_eq!(program.paths.iter().map(|path| &**path).collect::<Vec<_>>(), ["/f", "/g"]);
    }
}
