//! The timeline under the run: transport buttons, the step slider with its strip of who ran when, the
//! step counter, and the scheduler's settings.

use super::on_click;
use super::tint;
use crate::engine::{Engine, StripSegment};
use crate::state::{Model, Msg, SPEEDS};
use sim_core::{Pid, Policy};
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

pub fn timeline(model: &Model, engine: &Engine, send: &Callback<Msg>) -> Html {
    let on_scrub = send.reform(|event: InputEvent| {
        let input: HtmlInputElement = event.target_unchecked_into();
        Msg::Goto(input.value().parse().unwrap_or(0))
    });
    let on_speed = send.reform(|event: Event| {
        let select: HtmlSelectElement = event.target_unchecked_into();
        Msg::Speed(select.value().parse().unwrap_or(4))
    });
    let on_policy = send.reform(|event: Event| {
        let select: HtmlSelectElement = event.target_unchecked_into();
        Msg::Policy(select.value())
    });
    let on_seed = send.reform(|event: Event| {
        let input: HtmlInputElement = event.target_unchecked_into();
        Msg::Seed(input.value())
    });
    let policy_name = match engine.setup.policy {
        Policy::Random => "random",
        _ => "round-robin",
    };
    let position = engine.position();
    let total = engine.total_steps();
    html! {
        <footer class="timeline" aria-label="Timeline">
            <div class="transport">
                <button id="to-start" aria-label="Jump to the start" title="Jump to the start (Home)" onclick={on_click(send, Msg::ToStart)}>{"|◀"}</button>
                <button id="back" aria-label="Step back" title="Step back (←)" onclick={on_click(send, Msg::Back)}>{"◀"}</button>
                <button id="play" class="play" title="Play or pause (Space)" onclick={on_click(send, Msg::TogglePlay)}>
                    { if model.playing { "❚❚ Pause" } else { "▶ Play" } }
                </button>
                <button id="forward" aria-label="Step forward" title="Step forward (→)" onclick={on_click(send, Msg::Forward)}>{"▶"}</button>
                <button id="to-end" aria-label="Jump to the end" title="Jump to the end (End)" onclick={on_click(send, Msg::ToEnd)}>{"▶|"}</button>
            </div>
            <div class="scrub">
                <div class="strip-holder">
                    <Strip segments={engine.strip()} names={engine.process_names()} />
                    {super::branches::sealed_marker(model, engine)}
                </div>
                <input id="scrubber" class="scrubber" type="range" min="0" max={total.to_string()}
                    value={position.to_string()} oninput={on_scrub} aria-label="Step"
                    aria-valuetext={format!("step {position} of {total}")} />
            </div>
            <div class="position">
                <span id="step-label">{format!("step {position} / {total}")}</span>
            </div>
            <div class="settings">
                <label class="field"><span>{"Speed"}</span>
                    <select id="speed" onchange={on_speed}>
                        { for SPEEDS.iter().map(|speed| html! {
                            <option value={speed.to_string()} selected={*speed == model.speed}>{format!("{speed}/s")}</option>
                        }) }
                    </select>
                </label>
                <label class="field"><span>{"Scheduler"}</span>
                    <select id="policy" onchange={on_policy}>
                        <option value="round-robin" selected={policy_name == "round-robin"}>{"round-robin"}</option>
                        <option value="random" selected={policy_name == "random"}>{"seeded random"}</option>
                    </select>
                </label>
                <label class="field"><span>{"Seed"}</span>
                    <input id="seed" class="seed" type="number" min="0" value={engine.setup.seed.to_string()} onchange={on_seed} />
                </label>
                <span class="hash" title="Trace hash: the same run gives the same hash everywhere">
                    {"trace "}<code id="trace-hash">{format!("{:016x}", engine.trace_hash())}</code>
                </span>
            </div>
            {super::branches::row(model, engine, send)}
        </footer>
    }
}

#[derive(Properties, PartialEq)]
pub struct StripProps {
    pub segments: Rc<Vec<StripSegment>>,
    pub names: Rc<Vec<(Pid, String)>>,
}

/// A thin bar of who ran at each step, coloured per process; redrawn only when the run changes.
#[function_component(Strip)]
pub fn strip(props: &StripProps) -> Html {
    let name = |pid: Pid| {
        props
            .names
            .iter()
            .find(|(candidate, _)| *candidate == pid)
            .map_or(format!("pid {pid}"), |(_, name)| name.clone())
    };
    html! {
        <div class="strip" id="strip" aria-hidden="true">
            { for props.segments.iter().map(|segment| {
                let last = segment.first_step + segment.steps - 1;
                let title = if segment.steps == 1 {
                    format!("step {}: {}", segment.first_step, name(segment.pid))
                } else {
                    format!("steps {}–{last}: {}", segment.first_step, name(segment.pid))
                };
                html! { <div class={classes!("segment", tint(segment.pid))} style={format!("flex-grow: {}", segment.steps)} title={title}></div> }
            }) }
        </div>
    }
}
