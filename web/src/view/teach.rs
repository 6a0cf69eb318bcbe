//! The teaching panel above the run: the mode switch, and what each mode shows (the prediction asked
//! and its answer, the challenge being played and its win, the tour's narration).

use super::on_click;
use crate::facts;
use crate::state::{Mode, ModeKind, Model, Msg};
use crate::teach::challenge::CHALLENGES;
use crate::teach::predict;
use crate::teach::tour::{self, TOURS};
use sim_core::Snapshot;
use yew::prelude::*;

/// The four modes, as a row of toggle buttons.
pub fn mode_switch(model: &Model, send: &Callback<Msg>) -> Html {
    let current = model.mode.kind();
    let button = |kind: ModeKind, id: &'static str, label: &'static str, title: &'static str| {
        let pressed = current == kind;
        html! {
            <button id={id} class={classes!("mode", pressed.then_some("active"))} aria-pressed={pressed.to_string()}
                title={title} onclick={on_click(send, Msg::SetMode(kind))}>{label}</button>
        }
    };
    html! {
        <div class="modes" role="group" aria-label="How to use the playground">
            {button(ModeKind::Explore, "mode-explore", "Explore", "Step, play and pick freely")}
            {button(ModeKind::Predict, "mode-predict", "Predict", "Say what each call will do before it runs")}
            {button(ModeKind::Challenges, "mode-challenges", "Challenges", "Be the scheduler and break a program")}
            {button(ModeKind::Tours, "mode-tours", "Tours", "A scenario explained stop by stop")}
        </div>
    }
}

/// The panel for the current mode (nothing in Explore).
pub fn panel(model: &Model, snapshot: Option<&Snapshot>, send: &Callback<Msg>) -> Html {
    let body = match &model.mode {
        Mode::Explore => return Html::default(),
        Mode::Predict(_) => predict_panel(model, snapshot, send),
        Mode::Challenges(None) => challenge_list(send),
        Mode::Challenges(Some(_)) => challenge_panel(model, send),
        Mode::Tours(None) => tour_list(send),
        Mode::Tours(Some(_)) => tour_panel(model, send),
    };
    html! { <section id="teach-panel" class="teach" tabindex="-1" aria-label="Lesson">{body}</section> }
}

fn predict_panel(model: &Model, snapshot: Option<&Snapshot>, send: &Callback<Msg>) -> Html {
    let Mode::Predict(predictions) = &model.mode else { return Html::default() };
    let Some(engine) = &model.engine else { return Html::default() };
    let (right, asked) = predictions.score();
    let position = engine.position();
    // The answer about the step on screen, if the visitor gave one.
    let reveal = predictions.answer(position).and_then(|answer| {
        let call = facts::step_call(engine, position)?;
        let choices = predict::choices(call.asked);
        let chosen = choices.get(answer.chosen)?.label();
        Some(html! {
            <div id="reveal" class={classes!("reveal", if answer.right { "right" } else { "wrong" })}>
                <p class="reveal-title">
                    <b>{if answer.right { "Right." } else { "Not this time." }}</b>
                    {" "}{predict::answer_words(&call.happened)}
                </p>
                if !answer.right {
                    <p class="you-said">{format!("You said: {}.", chosen.to_ascii_lowercase())}</p>
                }
                <p class="why"><span class="label">{"Why: "}</span>{facts::caption(engine)}</p>
            </div>
        })
    });
    // The question about the next step, if it is one worth asking and not answered yet.
    let question = model.question().map(|(step, call)| {
        let who = model.process_name(call.pid);
        // The call as the lane shows it ("read(p.r=3, 100)"), from the picture of the kernel.
        let written = snapshot
            .and_then(|snapshot| snapshot.processes.iter().find(|process| process.pid == call.pid))
            .and_then(|process| process.next_call.clone())
            .unwrap_or_else(|| predict::call_word(call.asked).to_string());
        let choices = predict::choices(call.asked);
        html! {
            <div class="ask">
                <p class="question" id="question">
                    {format!("Step {step}: {who} calls ")}<code>{written}</code>{". What happens?"}
                </p>
                <div class="answers" role="group" aria-labelledby="question">
                    { for choices.iter().enumerate().map(|(index, choice)| html! {
                        <button id={format!("answer-{}", index + 1)} class="answer"
                            onclick={on_click(send, Msg::Answer(index))}>
                            <kbd>{index + 1}</kbd>{" "}{choice.label()}
                        </button>
                    }) }
                </div>
            </div>
        }
    });
    let footer = if engine.at_end() {
        html! {
            <p class="final-score" id="final-score">
                {predict::score_words(right, asked)}{" "}
                <button class="link-button" onclick={on_click(send, Msg::RestartPredictions)}>{"Predict again from the start"}</button>
            </p>
        }
    } else if question.is_none() {
        html! { <p class="quiet">{"Press → to go on. Before each read, write, open or wait, you will be asked what it does."}</p> }
    } else {
        Html::default()
    };
    html! {
        <div class="predict">
            <div class="teach-head"><b>{"Predict"}</b><span class="score" id="score">{format!("Score: {right} of {asked}")}</span></div>
            {reveal.unwrap_or_default()}
            {question.unwrap_or_default()}
            {footer}
        </div>
    }
}

fn challenge_list(send: &Callback<Msg>) -> Html {
    html! {
        <div class="choose">
            <div class="teach-head"><b>{"Challenges"}</b></div>
            <p class="quiet">{"Each program works under the round-robin scheduler. Be the scheduler and break it."}</p>
            <ol class="choices">
                { for CHALLENGES.iter().enumerate().map(|(index, challenge)| html! {
                    <li>
                        <button id={format!("challenge-{}", challenge.id)} class="choice"
                            onclick={on_click(send, Msg::StartChallenge(index))}>
                            <b>{challenge.title}</b><span>{challenge.goal_text}</span>
                        </button>
                    </li>
                }) }
            </ol>
        </div>
    }
}

fn challenge_panel(model: &Model, send: &Callback<Msg>) -> Html {
    let Some((index, intact)) = model.challenge() else { return Html::default() };
    let Some(engine) = &model.engine else { return Html::default() };
    let challenge = &CHALLENGES[index];
    let position = engine.position();
    let won = model.challenge_won_at().filter(|step| *step <= position);
    let chosen = engine.setup.forced.len();
    let status = if !intact {
        html! {
            <p class="challenge-status" id="challenge-status">
                {"You changed the program, so this challenge is set aside: it counts only on its own program. "}
                <button class="link-button" onclick={on_click(send, Msg::StartChallenge(index))}>{"Start it again"}</button>
            </p>
        }
    } else if let Some(step) = won {
        let next = (index + 1) % CHALLENGES.len();
        html! {
            <div class="win" id="challenge-win" role="status">
                <p><b>{format!("Won at step {step}.")}</b>{" "}{challenge.win_text}</p>
                <p>
                    <button id="share-win" class="primary" onclick={on_click(send, Msg::Share)}>{"Copy a link to your winning run"}</button>
                    {" "}
                    <button class="link-button" onclick={on_click(send, Msg::StartChallenge(next))}>{"Next challenge"}</button>
                </p>
            </div>
        }
    } else if engine.at_end() {
        html! {
            <p class="challenge-status" id="challenge-status">
                {"The run is over and the goal did not happen. Step back (←) and pick differently, or forget your choices and start again."}
            </p>
        }
    } else {
        html! {
            <p class="challenge-status quiet" id="challenge-status">
                {format!(
                    "Press Pick on a process to run it next; → lets the scheduler take a step. You have chosen {} so far.",
                    if chosen == 1 { "1 step".to_string() } else { format!("{chosen} steps") }
                )}
            </p>
        }
    };
    html! {
        <div class="challenge">
            <div class="teach-head">
                <b>{format!("Challenge {} of {}: {}", index + 1, CHALLENGES.len(), challenge.title)}</b>
                <button class="link-button" onclick={on_click(send, Msg::SetMode(ModeKind::Explore))}>{"Leave"}</button>
            </div>
            <p class="goal" id="goal"><span class="label">{"Goal: "}</span>{challenge.goal_text}</p>
            {status}
            <details class="hint"><summary>{"Hint"}</summary><p>{challenge.hint}</p></details>
        </div>
    }
}

fn tour_list(send: &Callback<Msg>) -> Html {
    html! {
        <div class="choose">
            <div class="teach-head"><b>{"Tours"}</b></div>
            <p class="quiet">{"A library scenario explained one stop at a time, one tour per mechanism."}</p>
            <ol class="choices">
                { for TOURS.iter().enumerate().map(|(index, tour)| html! {
                    <li>
                        <button id={format!("tour-{}", tour.id)} class="choice" onclick={on_click(send, Msg::StartTour(index))}>
                            <b>{tour.section}</b><span>{tour.title}</span>
                        </button>
                    </li>
                }) }
            </ol>
        </div>
    }
}

fn tour_panel(model: &Model, send: &Callback<Msg>) -> Html {
    let Some((index, steps)) = model.tour() else { return Html::default() };
    let tour = &TOURS[index];
    let position = model.position();
    let current = tour::current_stop(&steps, position);
    let has_next = tour::next_stop(&steps, position).is_some();
    let has_back = tour::previous_stop(&steps, position).is_some();
    let changed = model.engine.as_ref().is_some_and(|engine| {
        model
            .library
            .text(tour.scenario)
            .and_then(|text| sim_core::parse(text).ok())
            .is_some_and(|scenario| crate::engine::program_text(&scenario) != engine.program_text)
    });
    let (counter, text) = match current {
        Some(stop) => (format!("Stop {} of {}", stop + 1, tour.stops.len()), tour.stops[stop].text),
        None => (String::new(), ""),
    };
    let at_stop = current.is_some_and(|stop| steps[stop] == Some(position));
    html! {
        <div class="tour">
            <div class="teach-head">
                <b>{format!("Tour: {}", tour.title)}</b>
                <span class="counter" id="tour-counter">{counter}</span>
            </div>
            if changed {
                <p class="quiet">{"You changed the scenario; the stops follow the library's version and may not match."}</p>
            }
            <p class="narration" id="narration">{text}</p>
            if !at_stop && current.is_some() {
                <p class="quiet">{format!("You are at step {position}, past this stop. Next goes on from here.")}</p>
            }
            <div class="tour-nav">
                <button id="tour-back" aria-disabled={(!has_back).to_string()} onclick={on_click(send, Msg::TourBack)}>{"◀ Back"}</button>
                <button id="tour-next" class="primary" aria-disabled={(!has_next).to_string()} onclick={on_click(send, Msg::TourNext)}>{"Next ▶"}</button>
                if !has_next {
                    <span class="quiet">{"End of the tour. "}
                        <button class="link-button" onclick={on_click(send, Msg::SetMode(ModeKind::Tours))}>{"Other tours"}</button>
                    </span>
                }
            </div>
        </div>
    }
}
