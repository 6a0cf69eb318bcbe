//! Time travel over one run: the whole run computed once, snapshots every few steps, and a cursor.
//!
//! The playground and the JavaScript API step through runs with it; neither reimplements the simulator. An [`Engine`] holds two [`Simulation`]s of the same
//! run: the *reference* ran to the end once and keeps every event (for the captions, the event log, the
//! trace export and the trace hash) and a [`Checkpoint`] every `interval` steps; the *cursor* is the run at
//! the step on screen. Jumping to a step restores the nearest checkpoint at or before it and replays the
//! recorded choices forward, so stepping back never replays from the start. At most
//! [`MAX_CHECKPOINTS`] are kept: when there would be more, every other one is dropped and the interval
//! doubles, which bounds memory on long runs and keeps any jump under `interval` replayed steps.

use crate::lang::compile::Program;
use crate::present::explain::{self, StepStory};
use crate::present::json;
use crate::present::render::ProcessNames;
use crate::share::SharedRun;
use crate::{Checkpoint, Diagnostic, Pid, Policy, RunConfig, RunOutcome, Scenario, Simulation, Snapshot, StepStatus};
use std::sync::Arc;

/// A scenario's canonical text (`crate::print`): comments, blank lines and spacing leave it as it is,
/// and any change to what runs changes it. Syntax trees themselves differ when a line moves, since their
/// spans take part in equality.
pub fn program_text(scenario: &Scenario) -> String {
    crate::print(scenario)
}

/// Steps between checkpoints at first.
pub const FIRST_INTERVAL: u64 = 128;
/// Most checkpoints kept for one run.
pub const MAX_CHECKPOINTS: usize = 256;

/// What decides a run: the same four always give the same run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSetup {
    pub source: String,
    pub seed: u64,
    /// Round-robin or random (or a list of choices, from a link).
    pub policy: Policy,
    /// Steps chosen by a person playing the scheduler, taken before the policy is asked.
    pub forced: Vec<Pid>,
}

pub struct Engine {
    pub setup: RunSetup,
    pub title: Option<String>,
    pub description: Option<String>,
    /// The parsed scenario (its spans say where each part is written).
    pub scenario: Scenario,
    /// The scenario in its canonical form ([`program_text`]): the same for every layout and comment,
    /// so it says whether an edit changed the program.
    pub program_text: String,
    reference: Simulation,
    checkpoints: Vec<Checkpoint>,
    interval: u64,
    cursor: Simulation,
    total: u64,
    /// Set when the run had to stop early (a forced choice that cannot be followed, or a model bug).
    pub error: Option<String>,
    strip: std::rc::Rc<Vec<StripSegment>>,
    names: std::rc::Rc<Vec<(Pid, String)>>,
    /// The names sim-core's words use, learnt from the whole run's events.
    story_names: ProcessNames,
    /// How many steps at the start of the run followed the scenario's own `schedule` line.
    pinned_steps: u64,
    /// The pid that ran at each step of the reference run.
    choices: std::rc::Rc<Vec<Pid>>,
}

/// Most segments in the "who ran" strip under the timeline.
pub const MAX_STRIP_SEGMENTS: usize = 400;

/// A stretch of the timeline where one process ran (the one that ran most, once steps are bucketed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StripSegment {
    pub pid: Pid,
    pub first_step: u64,
    pub steps: u64,
}

/// Runs of the same pid, merged into at most [`MAX_STRIP_SEGMENTS`] buckets for long runs.
fn strip_of(choices: &[Pid]) -> Vec<StripSegment> {
    let total = choices.len();
    if total == 0 {
        return Vec::new();
    }
    let mut runs: Vec<StripSegment> = Vec::new();
    for (index, pid) in choices.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if run.pid == *pid => run.steps += 1,
            _ => runs.push(StripSegment { pid: *pid, first_step: index as u64 + 1, steps: 1 }),
        }
    }
    if runs.len() <= MAX_STRIP_SEGMENTS {
        return runs;
    }
    let bucket = total.div_ceil(MAX_STRIP_SEGMENTS);
    let mut merged: Vec<StripSegment> = Vec::new();
    for (index, chunk) in choices.chunks(bucket).enumerate() {
        // A few processes per bucket: a list counts them (a map would add a B-tree to the bundle).
        let mut counts: Vec<(Pid, usize)> = Vec::new();
        for pid in chunk {
            match counts.iter_mut().find(|(seen, _)| seen == pid) {
                Some((_, count)) => *count += 1,
                None => counts.push((*pid, 1)),
            }
        }
        let pid = counts.iter().max_by_key(|(pid, count)| (*count, std::cmp::Reverse(*pid))).map_or(0, |(pid, _)| *pid);
        match merged.last_mut() {
            Some(last) if last.pid == pid => last.steps += chunk.len() as u64,
            _ => merged.push(StripSegment { pid, first_step: (index * bucket) as u64 + 1, steps: chunk.len() as u64 }),
        }
    }
    merged
}

fn config(setup: &RunSetup, keep_events: bool) -> RunConfig {
    RunConfig {
        seed: setup.seed,
        policy: setup.policy.clone(),
        keep_events,
        check_invariants: false,
        ..RunConfig::default()
    }
}

impl Engine {
    /// Parses, compiles and runs the scenario to its end. Errors are located diagnostics for the editor.
    pub fn build(setup: RunSetup) -> Result<Engine, Vec<Diagnostic>> {
        let scenario = crate::parse(&setup.source)?;
        let program = Arc::new(Program::compile(&scenario).map_err(|diagnostic| vec![diagnostic])?);
        let mut reference = Simulation::from_program(program.clone(), config(&setup, true));
        let mut checkpoints = vec![reference.checkpoint()];
        let mut interval = FIRST_INTERVAL;
        let mut error = None;
        // Checkpoints count in the run's memory budget (`Limits::max_memory_bytes`): a run that would hold
        // too much with them ends with that limit, as it would in `ipclab sim`.
        let keep = |simulation: &mut Simulation, checkpoints: &mut Vec<Checkpoint>, interval: &mut u64| {
            if simulation.steps().is_multiple_of(*interval) && simulation.steps() > 0 {
                checkpoints.push(simulation.checkpoint());
                if checkpoints.len() > MAX_CHECKPOINTS {
                    let mut index = 0;
                    checkpoints.retain(|_| {
                        index += 1;
                        (index - 1) % 2 == 0
                    });
                    *interval *= 2;
                }
                simulation.set_held_outside(checkpoints.iter().map(Checkpoint::held_bytes).sum());
            }
        };
        for (index, pid) in setup.forced.iter().enumerate() {
            match reference.step_as(*pid) {
                Ok(StepStatus::Ran(_)) => keep(&mut reference, &mut checkpoints, &mut interval),
                Ok(StepStatus::Finished) => break,
                Err(failure) => {
                    error = Some(format!("schedule choice {} cannot be followed: {failure}", index + 1));
                    break;
                }
            }
        }
        let mut pinned_steps = 0;
        if error.is_none() {
            loop {
                // Only a run without choices of the visitor's follows the scenario's schedule.
                let pinned = reference.following_schedule();
                match reference.step() {
                    Ok(StepStatus::Ran(_)) => {
                        if pinned {
                            pinned_steps += 1;
                        }
                        keep(&mut reference, &mut checkpoints, &mut interval)
                    }
                    Ok(StepStatus::Finished) => break,
                    Err(failure) => {
                        error = Some(failure.to_string());
                        break;
                    }
                }
            }
        }
        let total = reference.steps();
        let choices = std::rc::Rc::new(reference.choices());
        let strip = std::rc::Rc::new(strip_of(&choices));
        let names = std::rc::Rc::new(
            reference.snapshot().processes.into_iter().map(|process| (process.pid, process.name)).collect(),
        );
        let story_names = ProcessNames::from_events(reference.program(), &reference.trace().events);
        let cursor = Simulation::from_program(program, config(&setup, false));
        Ok(Engine {
            title: scenario.title.clone(),
            description: scenario.description.clone(),
            program_text: program_text(&scenario),
            scenario,
            setup,
            reference,
            checkpoints,
            interval,
            cursor,
            total,
            error,
            strip,
            names,
            story_names,
            pinned_steps,
            choices,
        })
    }

    /// Builds the run a share link describes and moves to its step.
    pub fn from_link(run: &SharedRun) -> Result<Engine, Vec<Diagnostic>> {
        let mut engine = Engine::build(RunSetup {
            source: run.scenario.clone(),
            seed: run.seed,
            policy: run.policy.clone(),
            forced: run.forced.clone(),
        })?;
        engine.goto(run.step);
        Ok(engine)
    }

    /// The link for this run at the step on screen.
    pub fn share(&self) -> SharedRun {
        SharedRun {
            scenario: self.setup.source.clone(),
            seed: self.setup.seed,
            policy: self.setup.policy.clone(),
            forced: self.setup.forced.clone(),
            step: self.position(),
        }
    }

    /// Who ran when, for the strip under the timeline.
    pub fn strip(&self) -> std::rc::Rc<Vec<StripSegment>> {
        self.strip.clone()
    }

    /// Every process the run ever had, by pid.
    pub fn process_names(&self) -> std::rc::Rc<Vec<(Pid, String)>> {
        self.names.clone()
    }

    pub fn total_steps(&self) -> u64 {
        self.total
    }

    pub fn position(&self) -> u64 {
        self.cursor.steps()
    }

    pub fn at_end(&self) -> bool {
        self.position() >= self.total
    }

    /// Steps between kept checkpoints (at most this many steps are replayed by any jump).
    pub fn interval(&self) -> u64 {
        self.interval
    }

    pub fn checkpoint_count(&self) -> usize {
        self.checkpoints.len()
    }

    /// Moves the cursor to `target` (clamped to the run).
    pub fn goto(&mut self, target: u64) {
        let target = target.min(self.total);
        let here = self.cursor.steps();
        let replay_from_here = here <= target && target - here < self.interval;
        if !replay_from_here {
            let index = ((target / self.interval) as usize).min(self.checkpoints.len() - 1);
            self.cursor.restore(&self.checkpoints[index]);
        }
        let choices = self.choices.clone();
        while self.cursor.steps() < target {
            let pid = choices[self.cursor.steps() as usize];
            if self.cursor.step_as(pid).is_err() {
                break;
            }
        }
    }

    pub fn forward(&mut self) {
        self.goto(self.position() + 1);
    }

    pub fn back(&mut self) {
        self.goto(self.position().saturating_sub(1));
    }

    /// Processes that may run next (none once the run is over).
    pub fn runnable(&self) -> Vec<Pid> {
        if self.at_end() && self.reference.is_finished() {
            Vec::new()
        } else {
            self.cursor.runnable().to_vec()
        }
    }

    /// The kernel at the step on screen.
    pub fn snapshot(&self) -> Snapshot {
        let mut snapshot = self.cursor.snapshot();
        if self.at_end() {
            snapshot.outcome = self.reference.outcome().cloned();
            if self.reference.is_finished() {
                snapshot.runnable.clear();
            }
        } else {
            snapshot.outcome = None;
        }
        snapshot
    }

    /// What the step on screen did, in sim-core's words.
    pub fn story(&self) -> StepStory {
        self.story_of(self.position())
    }

    /// What any step of the run did, in sim-core's words.
    pub fn story_of(&self, step: u64) -> StepStory {
        explain::step_story(self.reference.program(), self.reference.trace(), &self.story_names, step)
    }

    /// The names of the run's processes as sim-core's words give them, for the playground's facts.
    pub fn story_names(&self) -> &ProcessNames {
        &self.story_names
    }

    /// The line of the scenario's `schedule` line, if it pins an interleaving.
    pub fn schedule_line(&self) -> Option<u32> {
        self.scenario.schedule.as_ref().map(|schedule| schedule.span.line)
    }

    /// How many steps at the start of this run follow the scenario's `schedule` line: all it pins when
    /// nobody chose a step by hand, and none once the visitor has (a choice from outside leaves it).
    pub fn pinned_steps(&self) -> u64 {
        self.pinned_steps
    }

    pub fn outcome(&self) -> Option<&RunOutcome> {
        self.reference.outcome()
    }

    /// Who waits for whom, when the run ended in a deadlock.
    pub fn deadlock_lines(&self) -> Vec<String> {
        match self.reference.outcome() {
            Some(RunOutcome::Deadlock { waiting }) => {
                explain::deadlock_lines(self.reference.program(), &self.story_names, waiting)
            }
            _ => Vec::new(),
        }
    }

    pub fn trace_hash(&self) -> u64 {
        self.reference.trace().hash()
    }

    /// The pid that ran at each step of the whole run.
    pub fn choices(&self) -> &[Pid] {
        &self.choices
    }

    /// "What else?" at the cursor: for each process that could run next, every way the run can still end
    /// if it does ([`crate::explore::what_else`]).
    pub fn what_else(&self, limits: crate::explore::ExploreLimits) -> Vec<(Pid, crate::explore::Exploration)> {
        let mut here = self.cursor.clone();
        crate::explore::what_else(&mut here, limits)
    }

    /// Where this run's fate was sealed, if it ends badly (a deadlock, a failed expectation, a limit):
    /// the outcome, and the last step at which another choice could still have avoided such an end
    /// ([`crate::explore::sealed`], over the run's own schedule from its start). `None` for a run that
    /// ends well, or when an exploration it needed went past `limits`.
    pub fn sealed(
        &self,
        limits: crate::explore::ExploreLimits,
    ) -> Option<(crate::explore::Outcome, crate::explore::Sealed)> {
        if !self.reference.is_finished() {
            return None;
        }
        let outcome = crate::explore::ended(&self.reference);
        if !outcome.goes_wrong() {
            return None;
        }
        let mut start = self.cursor.clone();
        start.restore(self.checkpoints.first()?);
        let kind = outcome.category().to_string();
        let bad = |other: &crate::explore::Outcome| other.category() == kind;
        let fate = crate::explore::sealed(&mut start, &self.choices, &bad, limits)?;
        Some((outcome, fate))
    }

    /// The reference run: every event of the whole run, for the playground's facts to read.
    pub fn simulation(&self) -> &Simulation {
        &self.reference
    }

    /// A person playing the scheduler runs `pid` at the step on screen: the steps so far are kept as
    /// forced choices, `pid` is added, and the policy picks again after it.
    pub fn choose(&mut self, pid: Pid) -> Result<(), String> {
        let position = self.position();
        if !self.runnable().contains(&pid) {
            return Err(format!("pid {pid} cannot run at step {}: it is not runnable", position + 1));
        }
        let mut forced: Vec<Pid> = self.choices[..position as usize].to_vec();
        forced.push(pid);
        let setup = RunSetup { forced, ..self.setup.clone() };
        let mut engine = Engine::build(setup).map_err(|errors| errors[0].message.clone())?;
        engine.goto(position + 1);
        *self = engine;
        Ok(())
    }

    /// The trace as JSON lines, as `ipclab sim --format json` writes it (the same records, from sim-core).
    pub fn trace_json_lines(&self) -> String {
        let report = self.reference.report();
        json::trace_lines(self.reference.program(), self.reference.trace(), &self.story_names, report.as_ref())
    }
}
