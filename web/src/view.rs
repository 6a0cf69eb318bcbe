//! Pure view functions: the editor with its gutter and inline errors, and the picture of the kernel.
//!
//! Each function turns plain data (text, diagnostics, a [`Snapshot`], a step story) into HTML; none keeps
//! state, so they are easy to test in the browser.

use crate::engine::Engine;
use sim_core::snapshot::{PipeView, ProcessStateView, ProcessView, Snapshot};
use sim_core::{Diagnostic, Pid, RunOutcome};
use std::collections::BTreeMap;
use yew::prelude::*;

/// A colour class per process, so a process has the same colour everywhere on the page.
pub fn tint(pid: Pid) -> String {
    format!("tint-{}", pid % 8)
}

/// The editor: line numbers, the call each process makes next marked on its line, and parse errors
/// under their line and column. The text area sits on top of a backdrop drawn with the same metrics.
pub fn editor(
    text: &str,
    diagnostics: &[Diagnostic],
    highlights: &[(u32, String, Pid)],
    on_edit: Callback<InputEvent>,
    stale: bool,
) -> Html {
    let lines: Vec<&str> = text.split('\n').collect();
    let widest = lines.iter().map(|line| line.chars().count()).max().unwrap_or(0).max(40);
    let mut errors: BTreeMap<u32, Vec<&Diagnostic>> = BTreeMap::new();
    for diagnostic in diagnostics.iter().take(8) {
        errors.entry(diagnostic.span.line.max(1)).or_default().push(diagnostic);
    }
    let mut marks: BTreeMap<u32, Vec<(String, Pid)>> = BTreeMap::new();
    for (line, name, pid) in highlights {
        marks.entry(*line).or_default().push((name.clone(), *pid));
    }
    let gutter = lines.iter().enumerate().map(|(index, _)| {
        let number = index as u32 + 1;
        let class = classes!("gutter-line", errors.contains_key(&number).then_some("has-error"));
        html! { <div class={class}>{number}</div> }
    });
    let backdrop = lines.iter().enumerate().map(|(index, line)| {
        let number = index as u32 + 1;
        let mut class = classes!("code-line");
        let mut tags = Html::default();
        if let Some(owners) = marks.get(&number) {
            class.push("next-call");
            class.push(tint(owners[0].1));
            let style = format!("left: calc({}ch + 2ch)", line.chars().count());
            tags = html! {
                <span class="line-tags" style={style}>
                    { for owners.iter().map(|(name, pid)| html! {
                        <span class={classes!("line-tag", tint(*pid))}>{format!("{name} next")}</span>
                    }) }
                </span>
            };
        }
        let body = match errors.get(&number) {
            Some(list) => {
                class.push("error-line");
                let column = (list[0].span.col.max(1) - 1) as usize;
                let before: String = line.chars().take(column).collect();
                let mut after: String = line.chars().skip(column).collect();
                if after.trim().is_empty() {
                    after.push_str("  ");
                }
                html! { <>{before}<span class="squiggle">{after}</span></> }
            }
            None => html! { {line.to_string()} },
        };
        html! { <div class={class}>{body}{tags}</div> }
    });
    let bubbles = errors.iter().map(|(line, list)| {
        let diagnostic = list[0];
        let style = format!(
            "top: calc({line} * var(--line-height) + var(--code-pad)); left: calc({}ch + var(--code-pad));",
            diagnostic.span.col.max(1) - 1
        );
        html! {
            <div class="error-bubble" style={style} role="alert">
                <span class="where">{format!("{}:{}", diagnostic.span.line, diagnostic.span.col)}</span>
                {" "}{diagnostic.message.clone()}
                if let Some(help) = &diagnostic.help {
                    <div class="help">{help.clone()}</div>
                }
            </div>
        }
    });
    let size = format!(
        "height: calc({} * var(--line-height) + 2 * var(--code-pad)); width: calc({}ch + 6ch);",
        lines.len(),
        widest
    );
    let status = if !diagnostics.is_empty() {
        html! {
            <div id="editor-status" class="editor-status error">
                {format!("{} error{} — showing the last run that worked", diagnostics.len(), if diagnostics.len() == 1 { "" } else { "s" })}
            </div>
        }
    } else if stale {
        html! { <div id="editor-status" class="editor-status">{"edited"}</div> }
    } else {
        html! { <div id="editor-status" class="editor-status ok">{"scenario runs"}</div> }
    };
    html! {
        <section class="editor-pane">
            <div class="pane-title">{"Scenario"}{status}</div>
            <div class="editor-scroll">
                <div class="gutter">{ for gutter }</div>
                <div class="code" style={size.clone()}>
                    <div class="backdrop" aria-hidden="true">{ for backdrop }</div>
                    <textarea id="editor" class="code-input" spellcheck="false" wrap="off" autocomplete="off"
                        style={size} value={text.to_string()} oninput={on_edit} aria-label="Scenario text" />
                    { for bubbles }
                </div>
            </div>
        </section>
    }
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
            html! { <div class="why">{format!("{}; waits to be reaped", sim_core::render::status_words(*status))}</div> }
        }
        ProcessStateView::Reaped { status } => {
            html! { <div class="why">{format!("{}; reaped", sim_core::render::status_words(*status))}</div> }
        }
        ProcessStateView::Stopped => html! { <div class="why">{"stopped until SIGCONT"}</div> },
        ProcessStateView::Runnable => html! {},
    }
}

fn name_of(snapshot: &Snapshot, pid: Pid) -> String {
    if pid == 1 {
        return "init".to_string();
    }
    snapshot
        .processes
        .iter()
        .find(|process| process.pid == pid)
        .map_or(format!("pid {pid}"), |process| process.name.clone())
}

fn depth_of(snapshot: &Snapshot, pid: Pid) -> usize {
    let mut depth = 0;
    let mut current = pid;
    while let Some(process) = snapshot.processes.iter().find(|process| process.pid == current) {
        if process.ppid <= 1 || depth > 16 {
            break;
        }
        depth += 1;
        current = process.ppid;
    }
    depth
}

fn lane(snapshot: &Snapshot, process: &ProcessView, on_choose: &Callback<Pid>) -> Html {
    let runnable = snapshot.runnable.contains(&process.pid);
    let pid = process.pid;
    let choose = on_choose.reform(move |_: MouseEvent| pid);
    let ran_last = snapshot.last_ran == Some(pid);
    let class = classes!(
        "lane",
        tint(pid),
        format!("state-{}", process.state.word()),
        runnable.then_some("can-run"),
        ran_last.then_some("ran-last")
    );
    let depth = depth_of(snapshot, pid);
    let style = format!("margin-left: {}rem", depth as f32 * 1.25);
    let children: Vec<String> =
        process.children.iter().map(|child| format!("{} ({child})", name_of(snapshot, *child))).collect();
    html! {
        <article class={class} style={style} id={format!("lane-{pid}")} data-pid={pid.to_string()} data-state={process.state.word()}>
            <header class="lane-head">
                <span class="dot"></span>
                <span class="pname">{process.name.clone()}</span>
                <span class="pid">{format!("pid {pid}")}</span>
                {state_badge(process, runnable)}
                if ran_last { <span class="ran">{"just ran"}</span> }
                <span class="grow"></span>
                if runnable {
                    <button class="run-button" title={format!("Be the scheduler: let {} take the next step", process.name)} onclick={choose}>{"Run ▸"}</button>
                }
            </header>
            <div class="family">
                {format!("child of {} ({})", name_of(snapshot, process.ppid), process.ppid)}
                if !children.is_empty() { {format!(" · parent of {}", children.join(", "))} }
            </div>
            {state_detail(process)}
            if let Some(call) = &process.next_call {
                <div class="next"><span class="label">{"next"}</span><code>{call.clone()}</code></div>
            }
            if !process.fds.is_empty() {
                <table class="fds">
                    <tbody>
                        { for process.fds.iter().map(|fd| {
                            let names = fd.names.join(", ");
                            let mut flags = Vec::new();
                            if fd.nonblock { flags.push("O_NONBLOCK"); }
                            if fd.cloexec { flags.push("FD_CLOEXEC"); }
                            html! {
                                <tr class={classes!(fd.pipe.is_some().then_some("is-pipe"))}>
                                    <td class="fd-number">{fd.fd}</td>
                                    <td class="fd-names">{names}</td>
                                    <td class="fd-object">{fd.object.clone()}</td>
                                    <td class="fd-flags">{flags.join(" ")}</td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            }
            if !process.pending_signals.is_empty() || !process.ignored_signals.is_empty() {
                <div class="signals">
                    { for process.pending_signals.iter().map(|signal| html! { <span class="pill pending">{format!("pending {}", signal.name())}</span> }) }
                    { for process.ignored_signals.iter().map(|signal| html! { <span class="pill ignored">{format!("ignores {}", signal.name())}</span> }) }
                </div>
            }
        </article>
    }
}

/// Bytes shown in a pipe's preview: printable text, with escapes for the rest.
fn preview_text(bytes: &[u8]) -> String {
    sim_core::render::quote_bytes(bytes, 48)
}

fn holders(snapshot: &Snapshot, list: &[(Pid, i32)]) -> Html {
    if list.is_empty() {
        return html! { <span class="nobody">{"nobody"}</span> };
    }
    html! {
        { for list.iter().map(|(pid, fd)| html! {
            <span class={classes!("holder", tint(*pid))}>{format!("{} fd {fd}", name_of(snapshot, *pid))}</span>
        }) }
    }
}

fn queue(snapshot: &Snapshot, label: &str, pids: &[Pid], id: String) -> Html {
    if pids.is_empty() {
        return html! {};
    }
    html! {
        <div class="queue" id={id}>
            <span class="label">{label.to_string()}</span>
            { for pids.iter().map(|pid| html! { <span class={classes!("pill", "waiter", tint(*pid))}>{format!("{} ({pid})", name_of(snapshot, *pid))}</span> }) }
        </div>
    }
}

/// A pipe as a horizontal buffer: writers on the left, page slots filling up, readers on the right.
fn pipe_card(snapshot: &Snapshot, pipe: &PipeView) -> Html {
    let page = 4096u32;
    let slots = pipe.max_slots.clamp(1, 64);
    // Slot cells, oldest (next to be read) at the right, next to the read end.
    let cells = (0..slots).rev().map(|index| {
        let bytes = pipe.slot_bytes.get(index as usize).copied();
        // A slot with a single byte still shows a sliver, so that "not empty" is visible at a glance.
        let fill = bytes.map_or(0.0, |bytes| ((bytes as f64 / page as f64).min(1.0) * 100.0).max(12.0));
        let title = match bytes {
            Some(bytes) => format!("slot {}: {bytes} bytes", index + 1),
            None => format!("slot {}: free", index + 1),
        };
        html! {
            <div class={classes!("cell", bytes.is_some().then_some("used"))} title={title}>
                <div class="fill" style={format!("width: {fill:.1}%")}></div>
            </div>
        }
    });
    let percent =
        if pipe.capacity_bytes == 0 { 0.0 } else { pipe.used_bytes as f64 * 100.0 / pipe.capacity_bytes as f64 };
    let name = match &pipe.fifo_path {
        Some(path) => format!("FIFO {path}"),
        None => format!("pipe {}", pipe.id),
    };
    html! {
        <article class="pipe" id={format!("pipe-{}", pipe.id)} data-used={pipe.used_bytes.to_string()}>
            <header class="pipe-head">
                <span class="pipe-name">{name}</span>
                if pipe.fifo_path.is_some() { <span class="pid">{format!("pipe {}", pipe.id)}</span> }
                <span class="grow"></span>
                <span class="usage" id={format!("pipe-{}-usage", pipe.id)}>
                    {format!("{} / {} bytes", pipe.used_bytes, pipe.capacity_bytes)}
                </span>
                <span class="slots">{format!("{} of {} slots", pipe.slots_used, pipe.max_slots)}</span>
            </header>
            <div class="flow">
                <div class="end write-end">
                    <div class="end-label">{format!("write end ×{}", pipe.writers)}</div>
                    {holders(snapshot, &pipe.write_holders)}
                </div>
                <div class="arrow">{"→"}</div>
                <div class="buffer" title={format!("{percent:.1}% full")}>{ for cells }</div>
                <div class="arrow">{"→"}</div>
                <div class="end read-end">
                    <div class="end-label">{format!("read end ×{}", pipe.readers)}</div>
                    {holders(snapshot, &pipe.read_holders)}
                </div>
            </div>
            <div class="pipe-foot">
                if pipe.used_bytes > 0 {
                    <code class="preview">{preview_text(&pipe.preview)}</code>
                } else {
                    <span class="empty-note">{"empty"}</span>
                }
                <span class="grow"></span>
                <span class="totals">{format!("{} written · {} read", pipe.bytes_written, pipe.bytes_read)}</span>
            </div>
            {queue(snapshot, "waiting to write", &pipe.write_waiters, format!("pipe-{}-write-waiters", pipe.id))}
            {queue(snapshot, "waiting to read", &pipe.read_waiters, format!("pipe-{}-read-waiters", pipe.id))}
            {queue(snapshot, "waiting to open", &pipe.open_waiters, format!("pipe-{}-open-waiters", pipe.id))}
        </article>
    }
}

fn outcome_banner(engine: &Engine, snapshot: &Snapshot) -> Html {
    let Some(outcome) = &snapshot.outcome else { return html! {} };
    let failures: Vec<(u32, u32, String)> =
        crate::facts::failures(engine).into_iter().map(|failure| (failure.line, failure.col, failure.text)).collect();
    let (class, title) = match outcome {
        RunOutcome::AllExited => ("good", "Every process has exited".to_string()),
        RunOutcome::Deadlock { .. } => ("bad", "Deadlock: every living process waits".to_string()),
        RunOutcome::StepLimit { steps } => ("warn", format!("Stopped at the step limit ({steps} steps)")),
        RunOutcome::LimitReached { limit, detail } => ("warn", format!("Limit {limit} reached: {detail}")),
    };
    html! {
        <div id="outcome" class={classes!("outcome", class)}>
            <div class="outcome-title">{title}</div>
            if matches!(outcome, RunOutcome::Deadlock { .. }) {
                <ul class="wait-for" id="deadlock">
                    { for engine.deadlock_lines().into_iter().map(|line| html! { <li>{line}</li> }) }
                </ul>
            }
            if failures.is_empty() {
                <div class="expectations ok">{"Every expectation in the scenario holds."}</div>
            } else {
                <ul class="expectations bad">
                    { for failures.into_iter().map(|(line, col, text)| html! { <li>{format!("{line}:{col}: {text}")}</li> }) }
                </ul>
            }
        </div>
    }
}

/// The middle of the page: caption, lanes, pipes, and what happened in this step.
pub fn kernel(engine: &Engine, snapshot: &Snapshot, on_choose: Callback<Pid>, on_forget: Callback<()>) -> Html {
    let story = engine.story();
    let signals = crate::facts::signals_so_far(engine, 6);
    let forced = engine.setup.forced.len();
    html! {
        <section class="kernel">
            <div class="caption">
                <div class="caption-step" id="caption-step">{format!("Step {} of {}", engine.position(), engine.total_steps())}</div>
                <div class="caption-text" id="caption">{story.sentence.clone()}</div>
            </div>
            if let Some(error) = &engine.error {
                <div class="notice error">{error.clone()}</div>
            }
            if forced > 0 {
                <div class="forced" id="forced">
                    {format!("You chose the first {forced} step{}; the {} scheduler picks after that. ", if forced == 1 { "" } else { "s" }, engine.setup.policy.name())}
                    <button class="link-button" onclick={on_forget.reform(|_: MouseEvent| ())}>{"Forget my choices"}</button>
                </div>
            }
            <div class="kernel-grid">
                <div class="column processes">
                    <h2>{"Processes"}</h2>
                    { for snapshot.processes.iter().map(|process| lane(snapshot, process, &on_choose)) }
                </div>
                <div class="column objects">
                    <h2>{"Pipes and FIFOs"}</h2>
                    if snapshot.pipes.is_empty() {
                        <p class="quiet">{"No pipe exists yet."}</p>
                    }
                    { for snapshot.pipes.iter().map(|pipe| pipe_card(snapshot, pipe)) }
                    if !snapshot.fifos.is_empty() {
                        <div class="fifos">
                            { for snapshot.fifos.iter().map(|fifo| html! {
                                <span class="pill fifo">{match fifo.pipe {
                                    Some(pipe) => format!("{} → pipe {pipe}", fifo.path),
                                    None => format!("{} (nobody has it open)", fifo.path),
                                }}</span>
                            }) }
                        </div>
                    }
                    {outcome_banner(engine, snapshot)}
                    <h2>{"This step"}</h2>
                    <ol class="events" id="events">
                        { for story.lines.iter().filter(|line| line.kind != "switch").map(|line| html! {
                            <li class={classes!("event", line.kind)}><span class="actor">{if line.actor == "-" { "kernel".to_string() } else { line.actor.clone() }}</span>{" "}{line.text.clone()}</li>
                        }) }
                    </ol>
                    if !signals.is_empty() {
                        <h2>{"Signals so far"}</h2>
                        <ol class="events signals-log">
                            { for signals.into_iter().map(|(step, text)| html! { <li class="event signal"><span class="actor">{format!("step {step}")}</span>{" "}{text}</li> }) }
                        </ol>
                    }
                    <div class="copies">
                        {format!("copied into the kernel: {} bytes · out to processes: {} bytes", snapshot.copied_to_kernel, snapshot.copied_to_user)}
                    </div>
                </div>
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct StripProps {
    pub segments: std::rc::Rc<Vec<crate::engine::StripSegment>>,
    pub names: std::rc::Rc<Vec<(Pid, String)>>,
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
