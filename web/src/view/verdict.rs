//! The verdict at the end of a run: what the scenario expected against what happened, in one box.
//!
//! It is green only when every expectation holds, whatever the run did: a scenario that expects a
//! deadlock passes when the deadlock happens. Otherwise it is red and lists each expectation that did
//! not hold, with the line it is written on (the same line is marked in the editor).

use crate::facts::Failure;
use sim_core::RunOutcome;
use yew::prelude::*;

/// What happened, in a sentence.
fn what_happened(outcome: &RunOutcome) -> String {
    match outcome {
        RunOutcome::AllExited => "Every process exited.".to_string(),
        RunOutcome::Deadlock { .. } => "The run ended in a deadlock: every process still alive waits.".to_string(),
        RunOutcome::StepLimit { steps } => format!("The run stopped at its limit of {steps} steps."),
        RunOutcome::LimitReached { limit, detail } => {
            format!("The run stopped at a limit of the simulator ({limit}: {detail}).")
        }
    }
}

/// The verdict box, for the last step of a run.
pub fn verdict(outcome: &RunOutcome, failures: &[Failure], deadlock: &[String], error: Option<&str>) -> Html {
    let passed = failures.is_empty() && error.is_none();
    let title = if passed {
        "Pass: everything the scenario expects holds".to_string()
    } else if failures.len() == 1 {
        "Fail: one expectation does not hold".to_string()
    } else if failures.is_empty() {
        "Fail: the run could not be followed to its end".to_string()
    } else {
        format!("Fail: {} expectations do not hold", failures.len())
    };
    let happened = match (passed, outcome) {
        (true, RunOutcome::Deadlock { .. }) => {
            "The run ended in a deadlock, as the scenario says it should.".to_string()
        }
        _ => what_happened(outcome),
    };
    html! {
        <section id="verdict" class={classes!("verdict", if passed { "pass" } else { "fail" })}
            aria-labelledby="verdict-title">
            <h2 id="verdict-title" class="verdict-title">
                <span class="verdict-mark" aria-hidden="true">{if passed { "✓" } else { "✗" }}</span>
                {title}
            </h2>
            <p class="verdict-happened">{happened}</p>
            if !deadlock.is_empty() {
                <ul class="wait-for" id="deadlock" aria-label="Who waits for whom">
                    { for deadlock.iter().map(|line| html! { <li>{line.clone()}</li> }) }
                </ul>
            }
            if let Some(error) = error {
                <p class="verdict-error">{error.to_string()}</p>
            }
            if !failures.is_empty() {
                <ul class="failures" id="failures">
                    { for failures.iter().map(|failure| html! {
                        <li>
                            <span class="where">{format!("line {}:{}", failure.line, failure.col)}</span>
                            {" "}{failure.text.clone()}
                        </li>
                    }) }
                </ul>
            }
        </section>
    }
}
