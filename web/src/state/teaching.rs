//! The teaching modes' messages: switching modes, starting a challenge or a tour, moving between tour
//! stops, and answering predictions. Part of the reducer; see [`super`].

use super::*;

/// Starts a challenge from step 0, under round-robin.
pub(super) fn start_challenge(model: &mut Model, index: usize, effects: &mut Vec<Effect>) {
    let Some(challenge) = CHALLENGES.get(index) else { return };
    let before = model.remember();
    let before_label = model.document_label();
    model.open_document(Document::Challenge(index), challenge.scenario.to_string(), effects);
    model.mode = Mode::Challenges(Some(ChallengePlay { index, announced: false }));
    if before.document != model.document {
        model.offer_back(before, before_label);
    }
    model.announce(format!("Challenge: {}", challenge.goal_text));
    effects.push(Effect::Focus("stage"));
}

/// Starts a tour at its first stop.
pub(super) fn start_tour(model: &mut Model, index: usize, effects: &mut Vec<Effect>) {
    let Some(tour) = TOURS.get(index) else { return };
    let Some(stem) = catalog::stem(tour.scenario) else { return };
    let Some(text) = model.library.text(stem).map(str::to_string) else {
        library::fetch(model, stem, Then::Tour(index), effects);
        return;
    };
    let before = model.remember();
    let before_label = model.document_label();
    // A tour follows the scenario as the round-robin scheduler runs it.
    let as_written = model.engine.as_ref().is_some_and(|engine| engine.setup == default_setup(text.to_string()));
    if before.document != Document::Library(stem) || model.stale() || !as_written {
        model.open_document(Document::Library(stem), text.to_string(), effects);
        if before.document != model.document {
            model.offer_back(before, before_label);
        }
    } else if let Some(engine) = &mut model.engine {
        engine.goto(0);
    }
    model.mode = Mode::Tours(Some(index));
    model.announce(format!("Tour: {}. {}", tour.title, tour.stops[0].text));
    effects.push(Effect::Focus("tour-next"));
}

/// Moves to the next or the previous stop of the tour being followed.
pub(super) fn tour_move(model: &mut Model, forward: bool, effects: &mut Vec<Effect>) {
    let Some((index, steps)) = model.tour() else { return };
    let position = model.position();
    let target = if forward { tour::next_stop(&steps, position) } else { tour::previous_stop(&steps, position) };
    let Some((stop, step)) = target else { return };
    model.stop(effects);
    if let Some(engine) = &mut model.engine {
        engine.goto(step);
    }
    let tour = &TOURS[index];
    model.announce(format!("Stop {} of {}, step {step}. {}", stop + 1, tour.stops.len(), tour.stops[stop].text));
}

/// A prediction: recorded, then the step runs and the answer is revealed.
pub(super) fn answer(model: &mut Model, chosen: usize, effects: &mut Vec<Effect>) {
    let Some((step, call)) = model.question() else { return };
    let choices = predict::choices(call.asked);
    if chosen >= choices.len() {
        return;
    }
    let right = predict::right_choice(call.asked, &call.happened) == Some(chosen);
    if let Mode::Predict(predictions) = &mut model.mode {
        predictions.record(step, chosen, right);
    }
    if let Some(engine) = &mut model.engine {
        engine.forward();
    }
    let verdict = if right { "Right." } else { "Not this time." };
    let reason = model.engine.as_ref().map(facts::caption).unwrap_or_default();
    model.announce(format!("{verdict} {} {reason}", predict::answer_words(&call.happened)));
    effects.push(Effect::Focus("stage"));
}

/// Predict again from step 0, with a fresh score.
pub(super) fn restart_predictions(model: &mut Model, effects: &mut Vec<Effect>) {
    model.stop(effects);
    model.mode = Mode::Predict(Predictions::default());
    if let Some(engine) = &mut model.engine {
        engine.goto(0);
    }
    effects.push(Effect::Focus("stage"));
}

pub(super) fn set_mode(model: &mut Model, kind: ModeKind, effects: &mut Vec<Effect>) {
    if model.mode.kind() == kind {
        // Pressed again: from a challenge or a tour back to the list of them.
        match kind {
            ModeKind::Challenges => model.mode = Mode::Challenges(None),
            ModeKind::Tours => model.mode = Mode::Tours(None),
            _ => return,
        }
        effects.push(Effect::Focus("teach-panel"));
        return;
    }
    model.stop(effects);
    model.mode = match kind {
        ModeKind::Explore => Mode::Explore,
        ModeKind::Predict => {
            if let Some(engine) = &mut model.engine {
                engine.goto(0);
            }
            model.announce(
                "Predict mode: before each read, write, open or wait, say what it will do. Press → to begin.",
            );
            Mode::Predict(Predictions::default())
        }
        ModeKind::Challenges => match model.document {
            Document::Challenge(index) => Mode::Challenges(Some(ChallengePlay { index, announced: false })),
            _ => Mode::Challenges(None),
        },
        ModeKind::Tours => Mode::Tours(None),
    };
    effects.push(Effect::Focus(match kind {
        ModeKind::Challenges | ModeKind::Tours => "teach-panel",
        _ => "stage",
    }));
}
