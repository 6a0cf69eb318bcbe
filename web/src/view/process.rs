//! A process, drawn as a lane: its state, family, next call, descriptor table and signals, and the Pick
//! button that lets the visitor be the scheduler.
//!
//! Lanes are keyed by pid, so when a fork adds a lane the other lanes keep their elements (and a
//! focused Pick button stays with its process). A process that cannot run keeps its button, marked
//! unavailable, so the focus is never dropped on the page. A lane redraws only when its process changes.

use super::signals::LaneMark;
use super::tint;
use sim_core::linux::{value_text, Family};
use sim_core::present::render::status_words;
use sim_core::present::snapshot::{ProcessStateView, ProcessView};
use sim_core::Pid;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LaneProps {
    pub process: ProcessView,
    pub runnable: bool,
    pub ran_last: bool,
    /// How many ancestors it has below `init` (for the indent).
    pub depth: usize,
    /// `parent (2)`.
    pub parent: String,
    /// `child (3)`, one per child.
    pub children: Vec<String>,
    /// Whether the run can still go on (once it is over, nobody can be picked).
    pub live_run: bool,
    pub on_pick: Callback<Pid>,
    /// Its process group in words: `leads process group 3`, `in process group 2 (led by shell (2))`.
    pub group: String,
    /// The variables its code names, with their values now (`errno` as well once a call set it).
    pub variables: Vec<(String, i64)>,
    /// Whether picking now leaves the scenario's own `schedule` line (it still pins the next step).
    pub leaves_schedule: bool,
    /// The signals this step sent from it, sent to it and it took (none for most lanes, most steps).
    pub marks: Vec<LaneMark>,
    /// Descriptors the step on screen installed in this process from a message, with the socket each
    /// came through.
    #[prop_or_default]
    pub received: Vec<(i32, u32)>,
    /// Open files that a message holds in flight (`SCM_RIGHTS`), and the socket whose queue holds it.
    #[prop_or_default]
    pub in_flight: Vec<(u32, u32)>,
    /// The step on screen, which keys the marks, so that each step's marks play their motion afresh.
    pub step: u64,
}

fn state_badge(process: &ProcessView, runnable: bool) -> Html {
    let (word, class) = match &process.state {
        ProcessStateView::Runnable if runnable => ("runnable", "runnable"),
        ProcessStateView::Runnable => ("ready", "runnable"),
        ProcessStateView::Blocked { .. } => ("blocked", "blocked"),
        ProcessStateView::Stopped => ("stopped", "stopped"),
        ProcessStateView::Zombie { .. } => ("zombie", "zombie"),
        ProcessStateView::Reaped { .. } => ("reaped", "reaped"),
    };
    html! { <span class={classes!("badge", class)}>{word}</span> }
}

fn state_detail(process: &ProcessView) -> Html {
    match &process.state {
        ProcessStateView::Blocked { text, .. } => html! { <div class="why">{format!("sleeps: {text}")}</div> },
        ProcessStateView::Zombie { status } => {
            html! { <div class="why">{format!("{}; waits to be reaped", status_words(*status))}</div> }
        }
        ProcessStateView::Reaped { status } => {
            html! { <div class="why">{format!("{}; reaped", status_words(*status))}</div> }
        }
        ProcessStateView::Stopped => html! { <div class="why">{"stopped until SIGCONT"}</div> },
        ProcessStateView::Runnable => html! {},
    }
}

/// `total = 15000`, and `errno = 2 (ENOENT)` with the errno's Linux name.
fn variable_text(name: &str, value: i64) -> String {
    if name == "errno" && value != 0 {
        format!("errno = {value} ({})", value_text(Family::Errno, value))
    } else {
        format!("{name} = {value}")
    }
}

/// Why a process cannot take the next step, for its unavailable Pick button.
fn cannot_run(process: &ProcessView) -> &'static str {
    match &process.state {
        ProcessStateView::Blocked { .. } => "it is blocked",
        ProcessStateView::Stopped => "it is stopped",
        _ => "it cannot run now",
    }
}

#[function_component(Lane)]
pub fn lane(props: &LaneProps) -> Html {
    let process = &props.process;
    let pid = process.pid;
    let alive = matches!(
        process.state,
        ProcessStateView::Runnable | ProcessStateView::Blocked { .. } | ProcessStateView::Stopped
    );
    let class = classes!(
        "lane",
        tint(pid),
        format!("state-{}", process.state.word()),
        props.runnable.then_some("can-run"),
        props.ran_last.then_some("ran-last")
    );
    let style = format!("margin-left: {}rem", props.depth.min(6));
    let pick = {
        let on_pick = props.on_pick.clone();
        Callback::from(move |_: MouseEvent| on_pick.emit(pid))
    };
    let name = process.name.clone();
    let leaving = if props.leaves_schedule { ", leaving the scenario's schedule" } else { "" };
    let pick_button = if props.live_run && alive {
        if props.runnable {
            html! {
                <button class="pick-button" aria-label={format!("Pick {name} (pid {pid}) to take the next step{leaving}")}
                    title={format!("Be the scheduler: {name} takes the next step{leaving}")} onclick={pick}>{"Pick"}</button>
            }
        } else {
            let why = cannot_run(process);
            html! {
                <button class="pick-button unavailable" aria-disabled="true"
                    aria-label={format!("Pick {name} (pid {pid}): not now, {why}")}
                    title={format!("{name} cannot take the next step: {why}")} onclick={pick}>{"Pick"}</button>
            }
        }
    } else {
        Html::default()
    };
    html! {
        <article class={class} style={style} id={format!("lane-{pid}")} data-pid={pid.to_string()} data-state={process.state.word()}>
            <header class="lane-head">
                <span class="dot"></span>
                <span class="pname">{name.clone()}</span>
                <span class="pid">{format!("pid {pid}")}</span>
                {state_badge(process, props.runnable)}
                if props.ran_last { <span class="ran">{"just ran"}</span> }
                <span class="grow"></span>
                {pick_button}
            </header>
            if !props.marks.is_empty() {
                <div class="lane-signals">
                    { for props.marks.iter().enumerate().map(|(index, mark)| html! {
                        <span key={format!("{}-{index}", props.step)} class={classes!("lane-signal", mark.class)}>{mark.text.clone()}</span>
                    }) }
                </div>
            }
            <div class="family">
                {format!("child of {}", props.parent)}
                if !props.children.is_empty() { {format!(" · parent of {}", props.children.join(", "))} }
                {format!(" · {}", props.group)}
            </div>
            {state_detail(process)}
            if let Some(call) = &process.next_call {
                <div class="next"><span class="label">{"next"}</span><code>{call.clone()}</code></div>
            }
            if !props.variables.is_empty() {
                <div class="variables" aria-label={format!("Variables of {name}")}>
                    { for props.variables.iter().map(|(variable, value)| html! {
                        <code class="variable">{variable_text(variable, *value)}</code>
                    }) }
                </div>
            }
            if !process.poll_set.is_empty() {
                <div class="poll-set" aria-label={format!("poll set of {name}")}>
                    <span class="label">{if process.poll_set.iter().any(|entry| entry.select) { "select sets" } else { "poll set" }}</span>
                    { for process.poll_set.iter().map(|entry| {
                        let ready = !entry.ready.is_empty();
                        let text = if entry.fd < 0 {
                            format!("fd {}: skipped", entry.fd)
                        } else if entry.select && ready {
                            format!("fd {} in {}: ready in {}", entry.fd, entry.events, entry.ready)
                        } else if entry.select {
                            format!("fd {} in {}: not ready", entry.fd, entry.events)
                        } else if ready {
                            format!("fd {} asks {}: ready, {}", entry.fd, entry.events, entry.ready)
                        } else {
                            format!("fd {} asks {}: not ready", entry.fd, entry.events)
                        };
                        html! { <code class={classes!("poll-entry", ready.then_some("ready"))}>{text}</code> }
                    }) }
                </div>
            }
            if !process.fds.is_empty() {
                <table class="fds">
                    <caption class="visually-hidden">{format!("Descriptors of {name}")}</caption>
                    <tbody>
                        { for process.fds.iter().map(|fd| {
                            let names = fd.names.join(", ");
                            let mut flags = Vec::new();
                            if fd.nonblock { flags.push("O_NONBLOCK"); }
                            if fd.cloexec { flags.push("FD_CLOEXEC"); }
                            let received = props.received.iter().find(|(number, _)| *number == fd.fd).map(|(_, socket)| *socket);
                            let flying = props.in_flight.iter().find(|(file, _)| *file == fd.file).map(|(_, socket)| *socket);
                            let polled = process.poll_set.iter().find(|entry| entry.fd == fd.fd);
                            let poll_class = polled.map(|entry| if entry.ready.is_empty() { "fd-polled" } else { "fd-ready" });
                            html! {
                                <tr class={classes!(fd.pipe.is_some().then_some("is-pipe"), received.map(|_| "fd-received"), flying.map(|_| "fd-in-flight"), poll_class)}
                                    data-fd={fd.fd.to_string()} data-file={fd.file.to_string()}>
                                    <td class="fd-number">{fd.fd}</td>
                                    <td class="fd-names">{names}</td>
                                    <td class="fd-object">
                                        {fd.object.clone()}
                                        if let Some(socket) = received {
                                            <span class="fd-note received-note">{format!("↘ just received through socket {socket}: open file {}", fd.file)}</span>
                                        }
                                        if let Some(socket) = flying {
                                            <span class="fd-note flight-note">{format!("open file {} is also in flight in socket {socket}'s queue", fd.file)}</span>
                                        }
                                    </td>
                                    <td class="fd-flags">{flags.join(" ")}</td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            }
            if has_signal_state(process) {
                <div class="signals" aria-label={format!("Signals of {name}")}>
                    <span class="pending-signals">
                        { for process.pending_signals.iter().map(|signal| {
                            let blocked = process.blocked_signals.contains(signal);
                            let text = if blocked { format!("pending {} (blocked)", signal.name()) } else { format!("pending {}", signal.name()) };
                            html! { <span class="pill pending">{text}</span> }
                        }) }
                    </span>
                    <span class="blocked-signals">
                        { for process.blocked_signals.iter().map(|signal| html! { <span class="pill blocked">{format!("blocks {}", signal.name())}</span> }) }
                    </span>
                    <span class="ignored-signals">
                        { for process.ignored_signals.iter().map(|signal| html! { <span class="pill ignored">{format!("ignores {}", signal.name())}</span> }) }
                    </span>
                    <span class="handled-signals">
                        { for process.handlers.iter().map(|handler| {
                            let flags = if handler.flags == "0" { String::new() } else { format!(", {}", handler.flags) };
                            html! { <span class="pill handled">{format!("{} → {}{flags}", handler.signal.name(), handler.handler)}</span> }
                        }) }
                    </span>
                    if let Some(at) = process.alarm_at {
                        <span class="pill alarm">{format!("alarm at {}", sim_core::kernel::time::time_text(at))}</span>
                    }
                </div>
            }
            if !process.running_handlers.is_empty() {
                <ol class="frames" aria-label={format!("Handlers {name} is running, innermost first")}>
                    { for process.running_handlers.iter().rev().map(|frame| html! {
                        <li class="frame">{format!("in {} for {}, back to line {} after", frame.handler, frame.signal.name(), frame.return_line)}</li>
                    }) }
                </ol>
            }
        </article>
    }
}

/// Whether a lane has anything to say about signals.
fn has_signal_state(process: &ProcessView) -> bool {
    !process.pending_signals.is_empty()
        || !process.blocked_signals.is_empty()
        || !process.ignored_signals.is_empty()
        || !process.handlers.is_empty()
        || process.alarm_at.is_some()
}
