//! A run's history as a tree, "What else?" and where a bad run's fate was sealed. Part of the reducer;
//! see [`super`].
//!
//! Picking a process other than the one the run took at a step starts a new branch: the run that was
//! left is kept in [`Model::branches`] (its forced choices and the step it was looked at), and
//! [`Msg::Branch`] goes back to it, keeping the one it leaves in its place. The branches belong to one
//! scenario, seed and policy; a run of anything else forgets them. Share links carry them (format v2).
//!
//! [`Msg::WhatElse`] explores, from the step on screen, every way the run can still end for each
//! process that could run next ([`Engine::what_else`]); [`Model::sealed`] is computed for every run
//! that ends badly ([`Engine::sealed`]): the step from which every continuation ends the same bad way.
//! Both are bounded, so a large scenario says it could not finish instead of freezing the page. Both
//! need the explorer, which only the full module has (`crate::FULL`): in the first module, asking for
//! either hands the page over (`handover.rs`), and the full module answers.

use super::*;
use sim_core::explore::{ExploreLimits, Outcome};
use sim_core::share::Branch;

/// States one "What else?" explores at most, for each process that could run next.
pub const WHAT_ELSE_NODES: u64 = 20_000;

/// States each exploration behind the sealed step may visit (it explores from a handful of steps).
pub const SEALED_NODES: u64 = 4_000;

/// What the first module was asked that needs the explorer: the full module does it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExplorerAsk {
    /// "What else?" at the step on screen.
    WhatElse,
    /// Where the run's fate was sealed (the full module finds it for every run).
    Sealed,
}

impl ExplorerAsk {
    pub fn word(self) -> &'static str {
        match self {
            ExplorerAsk::WhatElse => "what-else",
            ExplorerAsk::Sealed => "sealed",
        }
    }
}

/// "What else?" at one step of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhatElse {
    /// The step and the run it was asked at (shown only while they are on screen).
    pub step: u64,
    pub trace_hash: u64,
    pub rows: Vec<WhatElseRow>,
}

/// What can happen if one process runs next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhatElseRow {
    pub pid: Pid,
    pub name: String,
    /// Each kind of end (in words) and the schedules that reach it, most first.
    pub ends: Vec<(String, u128)>,
    pub schedules: u128,
    /// Why the exploration stopped early, if it did.
    pub incomplete: Option<String>,
}

/// Where the run on screen was sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedMark {
    pub trace_hash: u64,
    pub step: u64,
    pub words: String,
}

/// A kind of end in words, as the playground says it.
pub fn end_words(category: &str) -> String {
    match category {
        "good" => "every process exits and every expectation holds".to_string(),
        "fails" => "an expectation fails".to_string(),
        "deadlock" => "deadlock".to_string(),
        other => other.replace('-', " "),
    }
}

impl Model {
    /// The other branches, cleared when the run on screen is of another scenario, seed or policy.
    pub(super) fn keep_branches_of(&mut self, setup: &RunSetup) {
        let same = self.engine.as_ref().is_some_and(|engine| {
            engine.setup.source == setup.source
                && engine.setup.seed == setup.seed
                && engine.setup.policy == setup.policy
        });
        if !same {
            self.branches.clear();
        }
    }

    /// Keeps the run on screen as a branch, before a choice leaves it.
    pub(super) fn leave_branch(&mut self) {
        let Some(engine) = &self.engine else { return };
        let branch = Branch { forced: engine.setup.forced.clone(), step: engine.position() };
        self.branches.retain(|kept| kept.forced != branch.forced);
        self.branches.push(branch);
        if self.branches.len() > share::MAX_BRANCHES {
            self.branches.remove(0);
        }
    }

    /// Computes where the run on screen was sealed, if it ends badly (in the full module only).
    pub(super) fn find_sealed(&mut self) {
        if !crate::FULL {
            self.sealed = None;
            return;
        }
        self.sealed = self.engine.as_ref().and_then(|engine| {
            let limits = ExploreLimits { max_nodes: SEALED_NODES, ..ExploreLimits::default() };
            let (outcome, fate) = engine.sealed(limits)?;
            Some(SealedMark {
                trace_hash: engine.trace_hash(),
                step: fate.step,
                words: self.sealed_words(&outcome, &fate),
            })
        });
    }

    fn sealed_words(&self, outcome: &Outcome, fate: &sim_core::explore::Sealed) -> String {
        let ends = match outcome.category() {
            "deadlock" => "deadlocks".to_string(),
            "fails" => "fails an expectation".to_string(),
            other => format!("ends with {}", end_words(other)),
        };
        match fate.chosen {
            None => format!("Sealed from the start: every schedule {ends}."),
            Some(chosen) => {
                let others: Vec<String> = fate.avoid.iter().map(|pid| self.process_name(*pid)).collect();
                let instead = if others.is_empty() {
                    String::new()
                } else {
                    format!(" Had {} run instead, it could still have been avoided.", others.join(" or "))
                };
                format!(
                    "From step {} on, every continuation {ends}: {} ran there.{instead}",
                    fate.step,
                    self.process_name(chosen)
                )
            }
        }
    }

    /// The share link of the run on screen with its other branches.
    pub fn share_text(&self) -> Option<String> {
        let engine = self.engine.as_ref()?;
        Some(share::encode_tree(&share::SharedTree {
            run: engine.share(),
            branches: self.branches.clone(),
            checked: self.checked_shown().cloned(),
        }))
    }

    /// "What else?" at the step on screen (the first module asks the full one).
    pub(super) fn what_else_here(&mut self) {
        if !crate::FULL {
            self.explorer_asked = Some(ExplorerAsk::WhatElse);
            return;
        }
        let Some(engine) = &self.engine else { return };
        let limits = ExploreLimits { max_nodes: WHAT_ELSE_NODES, ..ExploreLimits::default() };
        let rows = engine
            .what_else(limits)
            .into_iter()
            .map(|(pid, found)| {
                let mut ends: Vec<(String, u128)> = Vec::new();
                for (outcome, reached) in &found.outcomes {
                    let words = end_words(outcome.category());
                    match ends.iter_mut().find(|(kind, _)| *kind == words) {
                        Some((_, count)) => *count += reached.schedules,
                        None => ends.push((words, reached.schedules)),
                    }
                }
                ends.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                WhatElseRow {
                    pid,
                    name: self.process_name(pid),
                    schedules: found.schedules(),
                    ends,
                    incomplete: found.incomplete.clone(),
                }
            })
            .collect();
        self.what_else = Some(WhatElse { step: engine.position(), trace_hash: engine.trace_hash(), rows });
    }

    /// The verdict of a check on Linux that the link opened carried, while its run is on screen (the
    /// same trace hash: the choices after it, the scenario and the model are the same).
    pub fn checked_shown(&self) -> Option<&share::Checked> {
        let engine = self.engine.as_ref()?;
        self.checked.as_ref().filter(|checked| checked.trace_hash == engine.trace_hash())
    }

    /// The "What else?" answer for the step on screen, if it was asked there.
    pub fn what_else_shown(&self) -> Option<&WhatElse> {
        let engine = self.engine.as_ref()?;
        self.what_else
            .as_ref()
            .filter(|answer| answer.step == engine.position() && answer.trace_hash == engine.trace_hash())
    }

    /// Where the run on screen was sealed, if it ends badly and that could be found.
    pub fn sealed_shown(&self) -> Option<&SealedMark> {
        let engine = self.engine.as_ref()?;
        self.sealed.as_ref().filter(|mark| mark.trace_hash == engine.trace_hash())
    }
}

/// Goes back to branch `index`; the run it leaves takes its place in the list.
pub(super) fn switch(model: &mut Model, index: usize, effects: &mut Vec<Effect>) {
    model.stop(effects);
    let Some(engine) = &model.engine else { return };
    let Some(branch) = model.branches.get(index).cloned() else { return };
    let left = Branch { forced: engine.setup.forced.clone(), step: engine.position() };
    let setup = RunSetup { forced: branch.forced, ..engine.setup.clone() };
    if model.build(setup, branch.step) {
        model.branches[index] = left;
        model.announce(format!("Back on branch {}, at step {}.", index + 1, model.position()));
    }
}
