//! The page, drawn from the [`Model`]: pure functions and small components, no state of their own.
//!
//! This is the only place that reads [`Snapshot`] fields. Each kind of kernel object has its own module
//! ([`process`], [`pipe`], [`fifo`], [`ipc`] for the IPC objects and their system-wide list);
//! [`objects`] is the one place that dispatches on the kind, so a new kind of object is a new module
//! and one more line there.

pub mod branches;
pub mod editor;
pub mod fifo;
pub mod help;
pub mod ipc;
pub mod library;
pub mod markdown;
// The charts belong to IPC scenarios, which only the full module runs: none in the first module.
#[cfg(feature = "full")]
pub mod measured;
pub mod pipe;
pub mod process;
pub mod signals;
pub mod teach;
pub mod timeline;
pub mod verdict;

use crate::engine::Engine;
use crate::facts;
use crate::state::{Document, Model, Msg, NoticeKind, Panel, Then};
use crate::teach::catalog;
use crate::teach::challenge::CHALLENGES;
use editor::{Editor, Heading, LineMark, MarkKind, Status};
use sim_core::present::snapshot::ObjectView;
use sim_core::{Pid, Snapshot};
use yew::prelude::*;

/// A click that sends `msg`. Every button goes through this one function, so the bundle holds one copy
/// of the callback machinery for them all instead of one per closure.
pub fn on_click(send: &Callback<Msg>, msg: Msg) -> Callback<MouseEvent> {
    let send = send.clone();
    Callback::from(move |_: MouseEvent| send.emit(msg.clone()))
}

/// A colour class per process, so a process has the same colour everywhere on the page.
pub fn tint(pid: Pid) -> String {
    format!("tint-{}", pid % 8)
}

/// The callbacks the page sends messages through. They are made once, so that components which
/// receive them see the same callback at every render and can skip redrawing.
#[derive(Clone, PartialEq)]
pub struct Callbacks {
    pub send: Callback<Msg>,
    pub pick: Callback<Pid>,
    pub edit: Callback<String>,
}

/// The whole page.
pub fn page(model: &Model, callbacks: &Callbacks) -> Html {
    let send = &callbacks.send;
    let snapshot = model.engine.as_ref().map(Engine::snapshot);
    if let Some(embed) = model.embed {
        return player(model, embed, snapshot.as_ref(), callbacks);
    }
    // While a dialog is open, the page behind it is inert: no focus, no clicks, hidden from screen readers.
    let inert = model.panel.is_some();
    html! {
        <div class="app-root">
            <div class="app" inert={inert}>
                {header(model, send)}
                {notice(model, send)}
                {scenario_band(model)}
                <main class="workspace">
                    {editor(model, snapshot.as_ref(), callbacks)}
                    {stage(model, snapshot.as_ref(), callbacks)}
                </main>
                if let Some(engine) = &model.engine {
                    {timeline::timeline(model, engine, send)}
                }
            </div>
            {match model.panel {
                Some(Panel::Help) => help::help(send),
                Some(Panel::Reference) => help::reference(&model.reference, send),
                None => Html::default(),
            }}
            <div id="announcer" class="visually-hidden" aria-live="polite" aria-atomic="true">{model.announcement.clone()}</div>
        </div>
    }
}

/// The embeddable player: the scenario's title, the run's pictures and controls, the editor only when
/// asked, and a link that opens the same run, at the same step, in the playground.
fn player(model: &Model, embed: crate::state::Embed, snapshot: Option<&Snapshot>, callbacks: &Callbacks) -> Html {
    let send = &callbacks.send;
    let title = model.engine.as_ref().and_then(|engine| engine.title.clone());
    html! {
        <div class="app-root player">
            <div class="app">
                <header class="player-bar">
                    <span class="logo">{"ipc"}<b>{"lab"}</b></span>
                    <h1 id="scenario-title">{title.unwrap_or_else(|| "A scenario without a title".to_string())}</h1>
                    if let Some(address) = model.playground_address() {
                        <a id="open-in-playground" href={address} target="_blank" rel="noopener">
                            {"Open in the playground"}
                        </a>
                    }
                </header>
                {notice(model, send)}
                <main class={classes!("workspace", (!embed.editor).then_some("no-editor"))}>
                    if embed.editor {
                        {editor(model, snapshot, callbacks)}
                    }
                    {stage(model, snapshot, callbacks)}
                </main>
                if let Some(engine) = &model.engine {
                    {timeline::timeline(model, engine, send)}
                }
            </div>
            <div id="announcer" class="visually-hidden" aria-live="polite" aria-atomic="true">{model.announcement.clone()}</div>
        </div>
    }
}

fn header(model: &Model, send: &Callback<Msg>) -> Html {
    html! {
        <header class="topbar">
            <div class="brand">
                <span class="logo">{"ipc"}<b>{"lab"}</b></span>
                <span class="tagline">{"watch processes talk through the kernel"}</span>
                <button id="help-button" class="help-button" title="What is this? Help and keyboard shortcuts (?)"
                    onclick={on_click(send, Msg::Help(true))}>{"What is this?"}</button>
            </div>
            {library::picker(model, send)}
            {teach::mode_switch(model, send)}
            <div class="actions">
                <button id="share" class="primary" onclick={on_click(send, Msg::Share)}>{"Share link"}</button>
                <button id="export-trace" onclick={on_click(send, Msg::ExportTrace)}>{"Export trace"}</button>
                <button id="export-scenario" onclick={on_click(send, Msg::ExportScenario)}>{"Export .ipc"}</button>
            </div>
        </header>
    }
}

fn notice(model: &Model, send: &Callback<Msg>) -> Html {
    let body = match &model.notice {
        Some(notice) => {
            let kind = match notice.kind {
                NoticeKind::Error => "error",
                NoticeKind::Success => "success",
                NoticeKind::Info => "info",
            };
            html! {
                <div id="notice" class={classes!("notice", kind)}>
                    <span class="notice-text">{notice.text.clone()}</span>
                    if let Some(address) = &notice.share_address {
                        <input id="share-url" class="share-url" readonly=true value={address.clone()} aria-label="Share link" />
                    }
                    if let Some((label, _)) = &notice.undo {
                        <button id="undo" class="undo" onclick={on_click(send, Msg::Undo)}>{label.clone()}</button>
                    }
                    <button class="dismiss" aria-label="Dismiss this message" title="Dismiss (Esc)"
                        onclick={on_click(send, Msg::DismissNotice)}>{"×"}</button>
                </div>
            }
        }
        None => html! {
            <div id="hint" class="hint">
                <kbd>{"→"}</kbd>{" step  "}<kbd>{"←"}</kbd>{" back  "}<kbd>{"Space"}</kbd>{" play  · "}
                <b>{"Pick"}</b>{" a process to choose who runs next  · "}<kbd>{"?"}</kbd>{" help"}
            </div>
        },
    };
    let error = model.notice.as_ref().is_some_and(|notice| notice.kind == NoticeKind::Error);
    html! {
        <div class="notice-area" role={if error { "alert" } else { "status" }}>{body}</div>
    }
}

/// Where the open scenario comes from, in a few words ("Learn · Pipes · 1 of 72").
fn whereabouts(model: &Model) -> String {
    match &model.document {
        Document::Library(stem) => match catalog::entry(stem) {
            Some(entry) => {
                let size = catalog::group_size(entry.group);
                if entry.section.is_empty() {
                    format!("{} · {} of {size}", entry.group.label(), entry.number)
                } else {
                    format!("{} · {} · {} of {size}", entry.group.label(), entry.section, entry.number)
                }
            }
            None => "Library".to_string(),
        },
        Document::Draft(id) => {
            format!("Your draft “{}”", model.drafts.get(*id).map_or("?", |draft| draft.name.as_str()))
        }
        Document::Link => "From a link".to_string(),
        Document::Challenge(index) => format!("Challenge {} of {}", index + 1, CHALLENGES.len()),
    }
}

fn scenario_band(model: &Model) -> Html {
    let (title, description) = match &model.engine {
        Some(engine) => (engine.title.clone(), engine.description.clone()),
        None => (None, None),
    };
    let fetching = model.library.pending().filter(|fetching| fetching.then == Then::Reload);
    let title = title.unwrap_or_else(|| match (&model.engine, fetching) {
        (Some(_), _) => "A scenario without a title".to_string(),
        (None, Some(fetching)) => format!(
            "Fetching “{}” from the library…",
            catalog::entry(fetching.stem).map_or(fetching.stem, |entry| entry.title)
        ),
        (None, None) => "This scenario does not run yet".to_string(),
    });
    html! {
        <section class="scenario-info" aria-labelledby="scenario-title">
            <div class="where" id="scenario-where">{whereabouts(model)}</div>
            <h1 id="scenario-title">{title}</h1>
            if let Some(description) = description {
                <p id="scenario-description" class="description">{description}</p>
            }
            {measured_chart(model)}
        </section>
    }
}

/// What `ipclab bench real` measured for the open library scenario's exchange, where it has a chart.
fn measured_chart(model: &Model) -> Html {
    #[cfg(feature = "full")]
    if let Document::Library(stem) = &model.document {
        return measured::chart(stem);
    }
    let _ = model;
    html! {}
}

fn editor(model: &Model, snapshot: Option<&Snapshot>, callbacks: &Callbacks) -> Html {
    let stale = model.stale();
    let mut marks = Vec::new();
    if let (Some(engine), Some(snapshot), false) = (&model.engine, snapshot, stale) {
        for process in &snapshot.processes {
            if let Some(span) = process.next_span {
                marks.push(LineMark {
                    line: span.line,
                    kind: MarkKind::Next,
                    label: format!("{} next", process.name),
                    pid: process.pid,
                });
            }
        }
        if let Some(ran) = facts::ran(engine, engine.position()) {
            marks.push(LineMark {
                line: ran.line,
                kind: MarkKind::Ran,
                label: format!("{} ran", model.process_name(ran.pid)),
                pid: ran.pid,
            });
        }
        for failure in facts::failures(engine).into_iter().filter(|failure| failure.step <= engine.position()) {
            marks.push(LineMark {
                line: failure.line,
                kind: MarkKind::Failed,
                label: format!("✗ {}", failure.short),
                pid: 0,
            });
        }
    }
    let heading = match &model.document {
        Document::Library(stem) => Heading { kind: "Library", name: format!("{stem}.ipc"), is_draft: false },
        Document::Draft(id) => Heading {
            kind: "Draft",
            name: model.drafts.get(*id).map_or(String::new(), |draft| draft.name.clone()),
            is_draft: true,
        },
        Document::Link => {
            Heading { kind: "From a link", name: "not saved until you edit it".to_string(), is_draft: false }
        }
        Document::Challenge(index) => {
            Heading { kind: "Challenge", name: CHALLENGES[*index].title.to_string(), is_draft: false }
        }
    };
    // While the full module is on its way, the calls this one leaves out are not errors.
    let diagnostics = if model.handing_over { Vec::new() } else { model.diagnostics.clone() };
    let status = match (model.handing_over, diagnostics.len()) {
        (true, _) => Status::LoadingFull,
        (false, 0) => Status::Runs,
        (false, count) => Status::Errors(count),
    };
    html! {
        <Editor text={AttrValue::from(model.text.clone())} diagnostics={diagnostics} marks={marks}
            status={status} on_edit={callbacks.edit.clone()} send={callbacks.send.clone()} heading={heading} />
    }
}

/// The kernel objects other than processes: one card per object, drawn by its kind's own module. This
/// `match` is the one place that dispatches on the kind of an object.
fn objects(engine: &Engine, snapshot: &Snapshot) -> Html {
    if snapshot.objects.is_empty() {
        let text = if facts::made_an_object_by(engine, engine.position()) {
            "No kernel object is left: each pipe was closed by the last process holding it, each IPC object removed."
        } else {
            "No kernel object yet: a pipe, a FIFO or an IPC object appears here when a process makes it."
        };
        return html! { <p class="quiet" id="objects-empty">{text}</p> };
    }
    let names = engine.process_names();
    // Keyed, in a wrapper of their own, so that an object coming or going redraws no other.
    html! {
        <>
        { if sim_core::IPC { ipc::panel_and_memory(&snapshot.objects, &facts::page_moves_now(engine), &names) } else { Html::default() } }
        <div class="object-list">
            { for snapshot.objects.iter().map(|object| match object {
                ObjectView::Pipe(pipe) => html! {
                    <pipe::PipeCard key={format!("pipe-{}", pipe.id)} pipe={(**pipe).clone()} names={names.clone()} />
                },
                ObjectView::Fifo(fifo) => fifo::fifo_card(fifo),
                // Only the build with the IPC mechanisms has their objects, and their views.
                ObjectView::MsgQueue(queue) if sim_core::IPC => ipc::msg_queue_card(queue, &names),
                ObjectView::SemSet(set) if sim_core::IPC => ipc::sem_set_card(set, &names),
                ObjectView::Mqueue(queue) if sim_core::IPC => ipc::mqueue_card(queue, &names),
                ObjectView::NamedSem(sem) if sim_core::IPC => ipc::named_sem_card(sem, &names),
                ObjectView::ShmSegment(segment) if sim_core::IPC => ipc::shm_segment_card(segment, &names),
                // Address spaces are drawn together, as page tables pointing at frames (`ipc::memory_map`).
                ObjectView::SocketPair(pair) if sim_core::IPC => ipc::socket_pair_card(pair, &names),
                ObjectView::Epoll(epoll) if sim_core::IPC => ipc::epoll_card(epoll, &names),
                ObjectView::MsgQueue(_)
                | ObjectView::SemSet(_)
                | ObjectView::Mqueue(_)
                | ObjectView::NamedSem(_)
                | ObjectView::ShmSegment(_)
                | ObjectView::AddressSpace(_)
                | ObjectView::SocketPair(_)
                | ObjectView::Epoll(_)
                | ObjectView::ShmObject(_) => Html::default(),
            }) }
        </div>
        </>
    }
}

/// Who decides the steps: the visitor's choices, the scenario's own `schedule` line, the scheduler.
/// Said plainly, because a Pick leaves a scenario's schedule for good (until the choices are forgotten).
fn schedule_note(engine: &Engine, position: u64, send: &Callback<Msg>) -> Html {
    let forced = engine.setup.forced.len();
    let scheduler = match engine.setup.policy {
        sim_core::Policy::Random => "seeded random",
        _ => "round-robin",
    };
    let pinned = engine.pinned_steps();
    let steps = |count: u64| if count == 1 { "step 1".to_string() } else { format!("steps 1–{count}") };
    if forced > 0 {
        let set_aside = match engine.schedule_line() {
            Some(line) => format!(", so the scenario's own schedule (line {line}) is not followed"),
            None => String::new(),
        };
        let forget = if engine.schedule_line().is_some() {
            "Forget my choices and follow the schedule"
        } else {
            "Forget my choices"
        };
        return html! {
            <div class="forced" id="forced">
                {format!(
                    "You chose the first {forced} step{}{set_aside}; the {scheduler} scheduler picks after that. ",
                    if forced == 1 { "" } else { "s" },
                )}
                <button class="link-button" id="forget" onclick={on_click(send, Msg::ForgetChoices)}>{forget}</button>
            </div>
        };
    }
    let Some(line) = engine.schedule_line() else { return Html::default() };
    if pinned == 0 || engine.error.is_some() {
        // The schedule could not be followed to its end: the run's error says where and why.
        return Html::default();
    }
    let text = if pinned >= engine.total_steps() {
        format!(
            "This run follows the scenario's schedule (line {line}), which pins all {pinned} of its steps. \
             Picking a process yourself leaves the schedule."
        )
    } else if position < pinned {
        format!(
            "This run follows the scenario's schedule (line {line}), which pins {}; the {scheduler} scheduler \
             picks after that. Picking a process yourself leaves the schedule.",
            steps(pinned)
        )
    } else {
        format!(
            "The scenario's schedule (line {line}) pinned {}; the {scheduler} scheduler picked after that.",
            steps(pinned)
        )
    };
    html! { <div class="schedule" id="schedule">{text}</div> }
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

fn stage(model: &Model, snapshot: Option<&Snapshot>, callbacks: &Callbacks) -> Html {
    let send = &callbacks.send;
    let (Some(engine), Some(snapshot)) = (&model.engine, snapshot) else {
        return html! {
            <section id="stage" class="stage empty" tabindex="-1" aria-label="The run">
                <p>{"Fix the errors in the scenario to see it run."}</p>
            </section>
        };
    };
    let position = engine.position();
    let live_run = !engine.at_end() || snapshot.outcome.is_none();
    let name_with_pid = |pid: Pid| {
        if pid == 1 {
            "init (1)".to_string()
        } else {
            format!("{} ({pid})", model.process_name(pid))
        }
    };
    let verdict = snapshot.outcome.as_ref().map(|outcome| {
        verdict::verdict(outcome, &facts::failures(engine), &engine.deadlock_lines(), engine.error.as_deref())
    });
    let signals = facts::signals_so_far(engine, 6);
    let moves = facts::signal_moves_now(engine);
    let names = engine.process_names();
    let program = engine.simulation().program();
    let sentences: Vec<String> = moves.iter().map(|each| facts::move_sentence(program, &names, each)).collect();
    let whats: Vec<String> = moves.iter().map(|each| facts::move_words(program, each.kind)).collect();
    let marks = signals::lane_marks(program, &names, &moves, &sentences);
    // Descriptors passed over sockets: those the step installed, and the open files messages hold.
    let received = if sim_core::IPC { facts::received_now(engine) } else { Vec::new() };
    let in_flight = if sim_core::IPC { ipc::files_in_flight(&snapshot.objects) } else { Vec::new() };
    // A pick now would set aside the scenario's schedule, which still has steps to pin.
    let leaves_schedule = engine.setup.forced.is_empty() && position < engine.pinned_steps();
    html! {
        <section id="stage" class="stage" tabindex="-1" aria-label="The run">
            { if crate::FULL { teach::panel(model, Some(snapshot), send) } else { Html::default() } }
            <div class="caption">
                <div class="caption-step" id="caption-step">{format!("Step {position} of {}", engine.total_steps())}</div>
                <div class="caption-text" id="caption">{facts::caption(engine)}</div>
            </div>
            if let Some(error) = &engine.error {
                <div class="notice error">{error.clone()}</div>
            }
            {schedule_note(engine, position, send)}
            {verdict.unwrap_or_default()}
            <div class="kernel-grid">
                <div class="column processes">
                    <h2>{"Processes"}</h2>
                    {signals::moves(position, &names, &moves, &sentences, whats)}
                    // Keyed lanes in a wrapper of their own: Yew lines up a list's children from its end,
                    // so a list that grows beside other children would be redrawn (and lose the focus).
                    <div class="lanes">
                    { for snapshot.processes.iter().map(|process| {
                        let children = process.children.iter().map(|child| name_with_pid(*child)).collect::<Vec<_>>();
                        let group = if process.pgid == process.pid {
                            format!("leads process group {}", process.pgid)
                        } else {
                            format!("in process group {} (led by {})", process.pgid, name_with_pid(process.pgid))
                        };
                        let variables = process.variables.clone();
                        let lane_marks: Vec<signals::LaneMark> = marks
                            .iter()
                            .filter(|(pid, _)| *pid == process.pid)
                            .map(|(_, mark)| mark.clone())
                            .collect();
                        let lane_received: Vec<(i32, u32)> = received
                            .iter()
                            .filter(|each| each.pid == process.pid)
                            .map(|each| (each.fd, each.socket))
                            .collect();
                        // Only a lane with marks depends on the step, so the other lanes need not redraw.
                        html! {
                            <process::Lane key={process.pid} process={process.clone()}
                                runnable={snapshot.runnable.contains(&process.pid)}
                                ran_last={snapshot.last_ran == Some(process.pid)}
                                depth={depth_of(snapshot, process.pid)} parent={name_with_pid(process.ppid)}
                                children={children} live_run={live_run} on_pick={callbacks.pick.clone()}
                                leaves_schedule={leaves_schedule} group={group} variables={variables}
                                step={if lane_marks.is_empty() { 0 } else { position }} marks={lane_marks}
                                received={lane_received} in_flight={in_flight.clone()} />
                        }
                    }) }
                    </div>
                </div>
                <div class="column objects">
                    <h2>{"Kernel objects"}</h2>
                    {objects(engine, snapshot)}
                    <h2>{"This step"}</h2>
                    <ol class="events" id="events">
                        { for facts::event_lines(engine).into_iter().map(|line| html! {
                            <li class={classes!("event", line.kind)}>
                                <span class="actor">{line.actor}</span>{" "}{line.text}
                            </li>
                        }) }
                    </ol>
                    if !signals.is_empty() {
                        <h2>{"Signals so far"}</h2>
                        <ol class="events signals-log">
                            { for signals.into_iter().map(|(step, text)| html! { <li class="event signal"><span class="actor">{format!("step {step}")}</span>{" "}{text}</li> }) }
                        </ol>
                    }
                    { copies(snapshot) }
                    if facts::uses_time(engine) {
                        <div class="clock" id="clock">{format!("virtual time: {}", sim_core::kernel::time::time_text(snapshot.now_ns))}</div>
                    }
                </div>
            </div>
        </section>
    }
}

/// Bytes copied between processes' memory and the kernel, by mechanism and direction: what a pipe costs
/// (every byte twice) and shared memory does not (its loads and stores copy nothing).
fn copies(snapshot: &sim_core::Snapshot) -> Html {
    let name = |mechanism: &str| {
        match mechanism {
            "pipes" => "pipes and FIFOs",
            "msg_queues" => "System V queues",
            "mqueues" => "POSIX queues",
            "sockets" => "sockets",
            other => other,
        }
        .to_string()
    };
    html! {
        <div class="copies" id="copies">
            if snapshot.copies.is_empty() {
                {"no bytes copied between processes and the kernel yet"}
            } else {
                <table>
                    <tr><th>{"bytes copied"}</th><th>{"into the kernel"}</th><th>{"out to processes"}</th></tr>
                    { for snapshot.copies.iter().map(|count| html! {
                        <tr class={format!("copies-{}", count.mechanism)}>
                            <td>{name(&count.mechanism)}</td><td>{count.to_kernel}</td><td>{count.to_user}</td>
                        </tr>
                    }) }
                </table>
            }
        </div>
    }
}
