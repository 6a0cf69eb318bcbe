//! "Every schedule": the scenario on screen explored to the end, as `ipclab explore` does, in a Web
//! Worker (`static/explore-worker.js`, with the JavaScript module in `api/`) so that the page stays
//! responsive. Part of the reducer; see [`super`].
//!
//! [`Msg::ExploreAll`] asks for it ([`Effect::Explore`]); the answer comes back as [`Msg::Explored`]
//! and is shown while the scenario on screen is the one explored. Each outcome carries a share link
//! that replays its shortest schedule: opening it is opening a link.

use super::*;

/// States an exploration in the page visits at most.
pub const EXPLORE_STATES: u64 = 200_000;

/// An answer that belongs to whatever exploration is running (a worker that could not start).
pub const ANY_EXPLORATION: u32 = u32::MAX;

/// What the worker found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExploreReport {
    /// Every schedule explored met every expectation, and no declared outcome is refuted or (a
    /// `sometimes`) unseen. When not every schedule was explored, that is over those that were.
    pub holds: bool,
    /// Schedules explored in all, or classes of them (digits: the count can pass 2^64).
    pub schedules: String,
    /// What `schedules` counts: `"classes"` (of schedules that differ only in the order of independent
    /// steps, the worker's sleep sets) or `"schedules"`.
    pub counts: String,
    pub states: u64,
    /// Why it stopped early (empty when it finished).
    pub incomplete: String,
    pub outcomes: Vec<ExploredRow>,
    /// Each declared outcome's verdict in words, and whether it holds (`None` when the schedules explored,
    /// not all of them, do not settle it).
    pub declared: Vec<(String, Option<bool>)>,
}

impl ExploreReport {
    /// What the counts count, in words.
    pub fn counted(&self) -> &'static str {
        if self.counts == "classes" {
            "classes of schedules"
        } else {
            "schedules"
        }
    }
}

/// One way the scenario can end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExploredRow {
    pub words: String,
    /// Every process exited and every expectation held.
    pub holds: bool,
    pub schedules: String,
    /// Steps of the shortest schedule that ends so.
    pub steps: u64,
    /// A share link that replays that schedule.
    pub link: String,
}

/// How far an exploration has got, as the worker says on the way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExploreProgress {
    pub states: u64,
    pub steps: u64,
    /// The deepest schedule so far, in steps.
    pub depth: u64,
}

/// The exploration of a scenario's text: asked (with how far it has got), answered, failed, or stopped
/// by the visitor (where it had got).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exploring {
    Running { id: u32, source: String, progress: ExploreProgress },
    Done { source: String, report: ExploreReport },
    Failed { source: String, error: String },
    Stopped { source: String, progress: ExploreProgress },
}

impl Exploring {
    fn source(&self) -> &str {
        match self {
            Exploring::Running { source, .. }
            | Exploring::Done { source, .. }
            | Exploring::Failed { source, .. }
            | Exploring::Stopped { source, .. } => source,
        }
    }
}

impl Model {
    /// The exploration of the scenario on screen, if one was asked for it.
    pub fn exploring_shown(&self) -> Option<&Exploring> {
        let engine = self.engine.as_ref()?;
        self.exploring.as_ref().filter(|exploring| exploring.source() == engine.setup.source)
    }
}

/// Asks for every schedule of the scenario on screen.
pub(super) fn ask(model: &mut Model, effects: &mut Vec<Effect>) {
    model.stop(effects);
    let Some(engine) = &model.engine else { return };
    if matches!(model.exploring_shown(), Some(Exploring::Running { .. })) {
        return;
    }
    model.explorations += 1;
    let id = model.explorations;
    let source = engine.setup.source.clone();
    // One still running for another text (the visitor edited since) would hold the worker up: it ends.
    if matches!(model.exploring, Some(Exploring::Running { .. })) {
        effects.push(Effect::StopExploring);
    }
    model.exploring = Some(Exploring::Running { id, source: source.clone(), progress: ExploreProgress::default() });
    model.announce("Exploring every schedule…");
    effects.push(Effect::Explore { id, scenario: source, max_states: EXPLORE_STATES });
}

/// How far exploration `id` has got.
pub(super) fn progressed(model: &mut Model, id: u32, now: ExploreProgress) {
    if let Some(Exploring::Running { id: running, progress, .. }) = &mut model.exploring {
        if *running == id {
            *progress = now;
        }
    }
}

/// Stops the exploration that is running: its worker is ended, and the page says where it had got.
pub(super) fn stop(model: &mut Model, effects: &mut Vec<Effect>) {
    let Some(Exploring::Running { source, progress, .. }) = &model.exploring else { return };
    let (source, progress) = (source.clone(), *progress);
    model.announce(format!("Exploration stopped after {} states.", progress.states));
    model.exploring = Some(Exploring::Stopped { source, progress });
    effects.push(Effect::StopExploring);
}

/// The worker's answer to exploration `id`. A worker that failed (it could not load, or its module
/// could not start) is ended, so that the next exploration starts a new one rather than wait on it.
pub(super) fn answered(model: &mut Model, id: u32, answer: Result<ExploreReport, String>, effects: &mut Vec<Effect>) {
    let Some(Exploring::Running { id: running, source, .. }) = &model.exploring else { return };
    if id != *running && id != ANY_EXPLORATION {
        return;
    }
    let source = source.clone();
    model.exploring = Some(match answer {
        Ok(report) => {
            let ways = if report.outcomes.len() == 1 { "way" } else { "ways" };
            model.announce(format!(
                "{} {ways} to end over {} {}.",
                report.outcomes.len(),
                report.schedules,
                report.counted()
            ));
            Exploring::Done { source, report }
        }
        Err(error) => {
            effects.push(Effect::StopExploring);
            Exploring::Failed { source, error }
        }
    });
}
