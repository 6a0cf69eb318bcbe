//! Under the timeline: where a bad run's fate was sealed, the branches of the run's history, "What
//! else?" at the step on screen (see `state/branches.rs`), and every schedule of the scenario, explored
//! in a worker (`state/exploring.rs`).

use super::{on_click, tint};
use crate::engine::Engine;
use crate::state::{Exploring, Model, Msg};
use yew::prelude::*;

/// The marker on the strip at the sealed step, placed as a share of the run.
pub fn sealed_marker(model: &Model, engine: &Engine) -> Html {
    // Only the full module finds sealed steps.
    let Some(mark) = model.sealed_shown().filter(|_| crate::FULL) else { return html! {} };
    let total = engine.total_steps().max(1);
    // The strip is inset by 8 px on each side of its holder. Integers only: formatting a float would
    // bring the float printer into the page's module.
    let permyriad = mark.step.min(total) * 10_000 / total;
    let share = format!("{}.{:04}", permyriad / 10_000, permyriad % 10_000);
    html! {
        <div class="sealed-marker" id="sealed-marker" style={format!("left: calc(8px + (100% - 16px) * {share})")} title={mark.words.clone()}
            aria-hidden="true"></div>
    }
}

/// The row under the timeline.
pub fn row(model: &Model, engine: &Engine, send: &Callback<Msg>) -> Html {
    // Only the full module answers these: the first module's page never shows them.
    let sealed = model.sealed_shown().filter(|_| crate::FULL).map(|mark| {
        let past = engine.position() >= mark.step && mark.step > 0;
        html! {
            <p class={classes!("sealed-note", past.then_some("past"))} id="sealed">
                <button class="link" onclick={on_click(send, Msg::Goto(mark.step))} title="Go to that step">
                    {format!("step {}", mark.step)}
                </button>
                {" "}{mark.words.clone()}
            </p>
        }
    });
    // The first module has no explorer: a run that ends badly offers to find where, in the full one.
    let find = (!crate::FULL
        && engine.simulation().is_finished()
        && sim_core::explore::ended(engine.simulation()).goes_wrong())
    .then(|| {
        html! {
            <button id="find-sealed" onclick={on_click(send, Msg::FindSealed)}
                title="Find the last step at which another choice could still have avoided this end">
                {"Where was its fate sealed?"}
            </button>
        }
    });
    let branches = (!model.branches.is_empty()).then(|| {
        html! {
            <div class="branches" id="branches" aria-label="Branches of this run">
                <span class="branches-label">{"Branches:"}</span>
                <span class="branch current" id="branch-current" aria-current="true">
                    {format!("this one (step {})", engine.position())}
                </span>
                { for model.branches.iter().enumerate().map(|(index, branch)| html! {
                    <button class="branch" id={format!("branch-{index}")} onclick={on_click(send, Msg::Branch(index))}
                        title="Go back to this branch; the one on screen is kept">
                        {format!("{} (step {})", index + 1, branch.step)}
                    </button>
                }) }
            </div>
        }
    });
    let runnable = !engine.runnable().is_empty();
    let answer = model.what_else_shown().filter(|_| crate::FULL).map(|answer| {
        html! {
            <div class="what-else" id="what-else-panel" role="region" aria-label="What else can happen">
                <p class="what-else-title">{format!("From step {}, every way the run can still end:", answer.step)}</p>
                <ul>
                    { for answer.rows.iter().map(|row| {
                        let ends = row.ends.iter().map(|(words, count)| {
                            let share = (count * 100 + row.schedules / 2).checked_div(row.schedules).unwrap_or(0);
                            format!("{words}: {share}% ({count} of {})", row.schedules)
                        }).collect::<Vec<_>>().join("; ");
                        let cut = row.incomplete.as_ref().map(|why| format!(" (not every schedule: {why})")).unwrap_or_default();
                        html! {
                            <li class={classes!("what-else-row", tint(row.pid))} id={format!("what-else-{}", row.pid)}>
                                <button onclick={on_click(send, Msg::Pick(row.pid))} title="Run it next (a new branch if the run took another)">
                                    {format!("Run {}", row.name)}
                                </button>
                                {" "}<span>{format!("{ends}{cut}")}</span>
                            </li>
                        }
                    }) }
                </ul>
            </div>
        }
    });
    // A link checked on Linux says so, while its run is on screen.
    let checked = model.checked_shown().map(|checked| {
        html! {
            <p class="checked" id="checked" title="What `ipclab check --link` found when it replayed this run on Linux">
                {checked.verdict.clone()}
            </p>
        }
    });
    let exploring = model.exploring_shown();
    let running = matches!(exploring, Some(Exploring::Running { .. }));
    html! {
        <div class="run-tree">
            if runnable {
                <button id="what-else" onclick={on_click(send, Msg::WhatElse)}
                    title="Every way the run can still end, for each process that could run next">{"What else?"}</button>
            }
            <button id="explore-all" onclick={on_click(send, Msg::ExploreAll)} disabled={running}
                title="Run the scenario under every schedule and list each way it can end">
                { if running { "Exploring…" } else { "Every schedule" } }
            </button>
            {checked.unwrap_or_default()}
            {branches.unwrap_or_default()}
            {find.unwrap_or_default()}
            {sealed.unwrap_or_default()}
            {answer.unwrap_or_default()}
            {exploring.map(|exploring| explored(exploring, send)).unwrap_or_default()}
        </div>
    }
}

/// A count with its thousands apart: 12,288.
fn grouped(count: u64) -> String {
    sim_core::present::with_commas(count as u128)
}

/// What a class of schedules is, beside the counts of an exploration with sleep sets.
const CLASSES: &str = "Each class stands for the schedules that differ only in the order of steps that touch nothing \
     in common; every way to end is still found.";

/// What the exploration of every schedule found, each outcome with a link that replays it.
fn explored(exploring: &Exploring, send: &Callback<Msg>) -> Html {
    match exploring {
        // Not a live region while it runs: its counts change four times a second (the start and the end
        // are announced).
        Exploring::Running { progress, .. } => html! {
            <div class="explored" id="explore-panel" role="region" aria-label="Every schedule" aria-busy="true">
                <span id="explore-progress">
                    { if progress.states == 0 {
                        "Exploring every schedule…".to_string()
                    } else {
                        format!(
                            "Exploring every schedule… {} states, {} steps, {} deep",
                            grouped(progress.states),
                            grouped(progress.steps),
                            progress.depth
                        )
                    } }
                </span>
                {" "}
                <button id="explore-stop" onclick={on_click(send, Msg::StopExploring)} title="Stop exploring">{"Stop"}</button>
            </div>
        },
        Exploring::Stopped { progress, .. } => html! {
            <div class="explored" id="explore-panel" role="status">
                { format!(
                    "Stopped after {} states and {} steps; \"Every schedule\" starts again.",
                    grouped(progress.states),
                    grouped(progress.steps)
                ) }
            </div>
        },
        Exploring::Failed { error, .. } => html! {
            <div class="explored" id="explore-panel" role="status">{format!("The exploration could not run: {error}")}</div>
        },
        Exploring::Done { report, .. } => {
            let summary = format!(
                "{} {} over {} {} ({} states){}",
                report.outcomes.len(),
                if report.outcomes.len() == 1 { "way to end" } else { "ways to end" },
                report.schedules,
                report.counted(),
                report.states,
                if report.incomplete.is_empty() {
                    String::new()
                } else {
                    format!("; not every schedule: {}", report.incomplete)
                }
            );
            html! {
                <div class={classes!("explored", if report.holds { "holds" } else { "fails" })} id="explore-panel" role="region"
                    aria-label="Every schedule">
                    <p class="what-else-title" title={(report.counts == "classes").then_some(CLASSES)}>{summary}</p>
                    <ul>
                        { for report.outcomes.iter().enumerate().map(|(index, row)| html! {
                            <li class={classes!("explored-row", if row.holds { "good" } else { "bad" })} id={format!("explored-{index}")}>
                                <a href={format!("#{}", row.link)} title="Open the shortest schedule that ends so">
                                    {format!("replay ({} steps)", row.steps)}
                                </a>
                                {" "}<span>{format!("{} {}: {}", row.schedules, report.counted(), row.words)}</span>
                            </li>
                        }) }
                        { for report.declared.iter().map(|(words, holds)| html! {
                            <li class={classes!("explored-row", "declared", match holds {
                                Some(true) => "good",
                                Some(false) => "bad",
                                None => "open",
                            })}>{format!("outcome {words}")}</li>
                        }) }
                    </ul>
                </div>
            }
        }
    }
}
