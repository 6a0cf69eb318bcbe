//! The signals of the step on screen, drawn on their way: each one sent goes from its sender (a
//! process, the kernel, or the clock) to its targets, and each one taken lands in its process.
//!
//! Everything comes from the step's events ([`facts::signal_moves`]), so a step looks the same however
//! it was reached. The motion is CSS alone (keyframes in `style.css`, none under
//! `prefers-reduced-motion: reduce`); an element is keyed by its step, so arriving at a step plays it.

use super::tint;
use crate::facts::{self, Sender, SignalMove};
use sim_core::lang::compile::Program;
use sim_core::Pid;
use yew::prelude::*;

/// A mark in a lane: the signal leaving it (`out`), arriving (`in`) or taken (`taken`), in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaneMark {
    pub class: &'static str,
    pub text: String,
}

/// The marks each lane shows for the step's moves, by pid: the sender's lane has the move's sentence
/// (`sentences`, one per move), and each target's lane the sentence about itself alone, so that a
/// signal to many processes does not list them all in every lane.
pub fn lane_marks(
    program: &Program,
    names: &[(Pid, String)],
    moves: &[SignalMove],
    sentences: &[String],
) -> Vec<(Pid, LaneMark)> {
    let mut marks = Vec::new();
    for (signal_move, sentence) in moves.iter().zip(sentences) {
        let taken = signal_move.kind.is_taken();
        if let (Sender::Process(pid), false) = (signal_move.from, taken) {
            if signal_move.to.iter().any(|to| *to != pid) {
                marks.push((pid, LaneMark { class: "out", text: sentence.clone() }));
            }
        }
        let class = if taken { "taken" } else { "in" };
        for to in &signal_move.to {
            let text = if signal_move.to.len() == 1 {
                sentence.clone()
            } else {
                let alone = SignalMove { to: vec![*to], ..signal_move.clone() };
                facts::move_sentence(program, names, &alone)
            };
            marks.push((*to, LaneMark { class, text }));
        }
    }
    marks
}

/// The step's signals, one line each: the sender, the signal along an arrow, the targets, and what
/// became of it (a signal taken: the signal landing in its process).
pub fn moves(
    step: u64,
    names: &[(Pid, String)],
    moves: &[SignalMove],
    sentences: &[String],
    whats: Vec<String>,
) -> Html {
    if moves.is_empty() {
        return Html::default();
    }
    html! {
        <ol class="signal-moves" id="signal-moves" aria-label="Signals in this step">
            { for moves.iter().zip(sentences).zip(whats).enumerate().map(|(index, ((signal_move, sentence), what))| {
                let taken = signal_move.kind.is_taken();
                let to = facts::target_names(names, signal_move);
                let from = if taken { to.clone() } else { facts::sender_name(names, signal_move.from) };
                let from_class = match signal_move.from {
                    Sender::Process(pid) => tint(pid),
                    Sender::Kernel => "sm-kernel".to_string(),
                    Sender::Clock => "sm-clock".to_string(),
                };
                let to_class = if signal_move.to.len() == 1 { tint(signal_move.to[0]) } else { "sm-many".to_string() };
                let signal = signal_move.signal.name();
                html! {
                    <li key={format!("{step}-{index}")} class={classes!("signal-move", taken.then_some("taken"))}
                        data-signal={signal} data-from={from.clone()} data-to={to.clone()}>
                        <span class="sm-draw" role="img" aria-label={sentence.clone()}>
                            if !taken { <span class={classes!("sm-end", from_class)}>{from}</span> }
                            <span class="sm-track"><span class="sm-token">{signal}</span></span>
                            <span class={classes!("sm-end", to_class)}>{to}</span>
                            <span class="sm-what">{what}</span>
                        </span>
                    </li>
                }
            }) }
        </ol>
    }
}
