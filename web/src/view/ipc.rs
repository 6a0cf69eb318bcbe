//! IPC objects: System V message queues, semaphore sets and shared memory segments, POSIX message queues
//! and named semaphores, each drawn as its own card (and a process's address space, whose pages point
//! at the frames a segment holds), and the system-wide list of them all (what `ipcs`, `/dev/mqueue` and
//! `/dev/shm` show): they belong to no process and outlive the processes that made them.
//!
//! Plain view functions, not components: each kind is small, and a component costs the bundle a copy of
//! Yew's component machinery. The kinds share the pieces they draw alike (messages, sleepers).

use super::pipe::name_of;
use super::tint;
use sim_core::present::render::quote_bytes;
use sim_core::present::snapshot::{
    AddressSpaceView, MessageView, MqueueView, MsgQueueView, NamedSemView, ObjectView, SemSetView, ShmSegmentView,
    SocketEndView, SocketPairView,
};
use sim_core::Pid;
use yew::prelude::*;

type Names = [(Pid, String)];

/// Permission bits as `ipcs` shows them.
fn mode(mode: u32) -> String {
    format!("{:o}", mode)
}

/// `1 message`, `2 messages`.
fn count(value: usize, noun: &str) -> String {
    if value == 1 {
        format!("1 {noun}")
    } else {
        format!("{value} {noun}s")
    }
}

fn key(key: i32) -> String {
    if key == 0 {
        "IPC_PRIVATE".to_string()
    } else {
        format!("0x{:08x}", key as u32)
    }
}

fn sleepers(names: &Names, label: &str, pids: impl Iterator<Item = (Pid, String)>, id: String) -> Html {
    let pills: Vec<Html> = pids
        .map(|(pid, detail)| {
            let text = if detail.is_empty() {
                format!("{} ({pid})", name_of(names, pid))
            } else {
                format!("{} ({pid}): {detail}", name_of(names, pid))
            };
            html! { <span class={classes!("pill", "waiter", tint(pid))}>{text}</span> }
        })
        .collect();
    if pills.is_empty() {
        return Html::default();
    }
    html! { <div class="queue" id={id}><span class="label">{label.to_string()}</span>{ for pills }</div> }
}

/// A queue's messages, the next one to leave first.
fn messages(list: &[MessageView], tag: &str, id: String) -> Html {
    if list.is_empty() {
        return html! { <div class="messages empty-note" id={id}>{"no messages"}</div> };
    }
    html! {
        <ol class="messages" id={id}>
            { for list.iter().map(|message| html! {
                <li class="message">
                    <span class="message-tag">{format!("{tag} {}", message.tag)}</span>
                    <span class="message-size">{format!("{} B", message.len)}</span>
                    <code class="preview">{quote_bytes(&message.preview, 24)}</code>
                </li>
            }) }
        </ol>
    }
}

fn head(kind: &str, name: String, detail: String) -> Html {
    html! {
        <header class="pipe-head">
            <span class="fifo-kind">{kind.to_string()}</span>
            <span class="pipe-name">{name}</span>
            <span class="grow"></span>
            <span class="usage">{detail}</span>
        </header>
    }
}

pub fn msg_queue_card(queue: &MsgQueueView, names: &Names) -> Html {
    let id = format!("msq-{}", queue.id);
    html! {
        <article class="pipe ipc" key={id.clone()} id={id.clone()} data-messages={queue.messages.len().to_string()}>
            {head("System V queue", format!("msqid {}", queue.id), format!("{} / {} bytes", queue.used_bytes, queue.capacity_bytes))}
            <div class="family">{format!("key {} · mode {} · made by {}", key(queue.key), mode(queue.mode), name_of(names, queue.creator))}</div>
            {messages(&queue.messages, "type", format!("{id}-messages"))}
            {sleepers(names, "waiting to send", queue.send_waiters.iter().map(|(pid, bytes)| (*pid, format!("{bytes} B"))), format!("{id}-senders"))}
            {sleepers(names, "waiting to receive", queue.receive_waiters.iter().cloned(), format!("{id}-receivers"))}
        </article>
    }
}

pub fn sem_set_card(set: &SemSetView, names: &Names) -> Html {
    let id = format!("sem-{}", set.id);
    html! {
        <article class="pipe ipc" key={id.clone()} id={id.clone()}>
            {head("semaphore set", format!("semid {}", set.id), format!("{} semaphores", set.sems.len()))}
            <div class="family">{format!("key {} · mode {} · made by {}", key(set.key), mode(set.mode), name_of(names, set.creator))}</div>
            <div class="sems">
                { for set.sems.iter().enumerate().map(|(num, sem)| html! {
                    <div class="sem" id={format!("{id}-{num}")} data-value={sem.value.to_string()}>
                        <span class="label">{format!("sem {num}")}</span>
                        <span class="sem-value">{sem.value}</span>
                        if sem.last_pid != 0 {
                            <span class="totals">{format!("last: {}", name_of(names, sem.last_pid))}</span>
                        }
                        {sleepers(names, "waiting to take", sem.decrease_waiters.iter().map(|pid| (*pid, String::new())), format!("{id}-{num}-take"))}
                        {sleepers(names, "waiting for 0", sem.zero_waiters.iter().map(|pid| (*pid, String::new())), format!("{id}-{num}-zero"))}
                    </div>
                }) }
            </div>
            if !set.undo.is_empty() {
                <div class="undo" id={format!("{id}-undo")}>
                    <span class="label">{"SEM_UNDO"}</span>
                    { for set.undo.iter().map(|(pid, adjust)| html! {
                        <span class={classes!("pill", tint(*pid))}>{format!("{}: {}", name_of(names, *pid), adjust.iter().map(|value| format!("{value:+}")).collect::<Vec<_>>().join(" "))}</span>
                    }) }
                </div>
            }
        </article>
    }
}

pub fn mqueue_card(queue: &MqueueView, names: &Names) -> Html {
    let id = format!("mq-{}", queue.id);
    let name = queue.name.clone().unwrap_or_else(|| format!("queue {} (unlinked)", queue.id));
    html! {
        <article class="pipe ipc" key={id.clone()} id={id.clone()} data-messages={queue.messages.len().to_string()}>
            {head("POSIX queue", name, format!("{} / {} messages", queue.messages.len(), queue.maxmsg))}
            <div class="family">{format!("at most {} B each · mode {} · open {} times · made by {}", queue.msgsize, mode(queue.mode), queue.opens, name_of(names, queue.creator))}</div>
            {messages(&queue.messages, "prio", format!("{id}-messages"))}
            {sleepers(names, "waiting to send", queue.send_waiters.iter().map(|pid| (*pid, String::new())), format!("{id}-senders"))}
            {sleepers(names, "waiting to receive", queue.receive_waiters.iter().map(|pid| (*pid, String::new())), format!("{id}-receivers"))}
            if let Some((pid, signal)) = &queue.notify {
                <div class="queue"><span class="label">{"mq_notify"}</span><span class={classes!("pill", tint(*pid))}>{format!("{} gets {signal}", name_of(names, *pid))}</span></div>
            }
        </article>
    }
}

pub fn named_sem_card(sem: &NamedSemView, names: &Names) -> Html {
    let id = format!("nsem-{}", sem.id);
    let name = sem.name.clone().unwrap_or_else(|| format!("semaphore {} (unlinked)", sem.id));
    html! {
        <article class="pipe ipc" key={id.clone()} id={id.clone()} data-value={sem.value.to_string()}>
            {head("named semaphore", name, format!("value {}", sem.value))}
            <div class="family">{format!("mode {} · open in {} mappings · made by {}", mode(sem.mode), sem.mappings, name_of(names, sem.creator))}</div>
            {sleepers(names, "waiting in sem_wait", sem.waiters.iter().map(|pid| (*pid, String::new())), format!("{id}-waiters"))}
        </article>
    }
}

/// The system-wide list: one row per IPC object, whoever made it.
pub fn panel(objects: &[ObjectView], names: &Names) -> Html {
    let rows: Vec<Html> = objects
        .iter()
        .filter_map(|object| {
            let (kind, name, owner, mode_bits, holds) = match object {
                ObjectView::MsgQueue(queue) => (
                    "msg",
                    format!("{} ({})", queue.id, key(queue.key)),
                    queue.creator,
                    queue.mode,
                    format!("{}, {} B", count(queue.messages.len(), "message"), queue.used_bytes),
                ),
                ObjectView::SemSet(set) => (
                    "sem",
                    format!("{} ({})", set.id, key(set.key)),
                    set.creator,
                    set.mode,
                    count(set.sems.len(), "semaphore"),
                ),
                ObjectView::Mqueue(queue) => (
                    "mqueue",
                    queue.name.clone().unwrap_or_else(|| "(unlinked)".to_string()),
                    queue.creator,
                    queue.mode,
                    count(queue.messages.len(), "message"),
                ),
                ObjectView::NamedSem(sem) => (
                    "named sem",
                    sem.name.clone().unwrap_or_else(|| "(unlinked)".to_string()),
                    sem.creator,
                    sem.mode,
                    format!("value {}", sem.value),
                ),
                ObjectView::ShmSegment(segment) => (
                    "shm",
                    format!("{} ({})", segment.id, key(segment.key)),
                    segment.creator,
                    segment.mode,
                    format!("{} B, {}", segment.size, count(segment.attached as usize, "attach")),
                ),
                ObjectView::Pipe(_)
                | ObjectView::Fifo(_)
                | ObjectView::AddressSpace(_)
                | ObjectView::SocketPair(_) => return None,
            };
            Some(html! {
                <tr>
                    <td>{kind}</td><td class="fd-names">{name}</td><td>{name_of(names, owner)}</td><td>{mode(mode_bits)}</td><td>{holds}</td>
                </tr>
            })
        })
        .collect();
    if rows.is_empty() {
        return Html::default();
    }
    html! {
        <section class="ipc-panel" id="ipc-panel" aria-label="IPC objects in the system">
            <h2>{"IPC objects (system-wide)"}</h2>
            <table class="fds">
                <tr><th>{"kind"}</th><th>{"id or name"}</th><th>{"made by"}</th><th>{"mode"}</th><th>{"holds"}</th></tr>
                { for rows }
            </table>
        </section>
    }
}

/// A System V shared memory segment: its size, its attaches, and the frames that hold its pages.
pub fn shm_segment_card(segment: &ShmSegmentView, names: &Names) -> Html {
    let id = format!("shm-{}", segment.id);
    let frames: Vec<String> = segment.frames.iter().map(|frame| format!("frame {frame}")).collect();
    let removed = if segment.removed { " · removed: goes at its last detach" } else { "" };
    html! {
        <article class="pipe ipc" key={id.clone()} id={id.clone()} data-attached={segment.attached.to_string()}>
            {head("System V shared memory", format!("shmid {}", segment.id), format!("{} bytes · {}", segment.size, count(segment.attached as usize, "attach")))}
            <div class="family">{format!("key {} · mode {} · made by {}{removed}", key(segment.key), mode(segment.mode & 0o777), name_of(names, segment.creator))}</div>
            <div class="family" id={format!("{id}-frames")}>{frames.join(", ")}</div>
        </article>
    }
}

/// A pair of connected Unix-domain sockets (or a socket alone: unconnected, listening, or its peer
/// closed): each end with the descriptors on it and its receive queue, one entry per buffer sent.
pub fn socket_pair_card(pair: &SocketPairView, names: &Names) -> Html {
    let first = pair.ends.first().map_or(0, |end| end.id);
    let id = format!("socket-{first}");
    let title = match &pair.ends[..] {
        [one, two] => format!("sockets {} and {}", one.id, two.id),
        [one] => format!("socket {}", one.id),
        _ => String::new(),
    };
    html! {
        <article class="pipe ipc" key={id.clone()} id={id.clone()} data-ends={pair.ends.len().to_string()}>
            {head("Unix-domain socket", title, pair.kind.clone())}
            { for pair.ends.iter().map(|end| socket_end(end, names)) }
        </article>
    }
}

fn socket_end(end: &SocketEndView, names: &Names) -> Html {
    let id = format!("socket-end-{}", end.id);
    let holders: Vec<String> =
        end.holders.iter().map(|(pid, fd)| format!("{} fd {fd}", name_of(names, *pid))).collect();
    let mut facts = vec![format!("socket {}", end.id)];
    if let Some(path) = &end.path {
        facts.push(format!("bound to {path}"));
    }
    if end.listening {
        facts.push(format!("listening, backlog {}, {} to accept", end.backlog, end.pending.len()));
    }
    if !holders.is_empty() {
        facts.push(holders.join(", "));
    }
    facts.push(format!("sent and unread: {} of {} B", end.unread_sent, end.sndbuf));
    match (end.no_more_reads, end.no_more_writes) {
        (true, true) => facts.push("shut down both ways".to_string()),
        (true, false) => facts.push("no more reading".to_string()),
        (false, true) => facts.push("no more writing".to_string()),
        (false, false) => {}
    }
    html! {
        <div class="socket-end" id={id.clone()}>
            <div class="family">{facts.join(" · ")}</div>
            if !end.listening {
                if end.queue.is_empty() {
                    <div class="messages empty-note" id={format!("{id}-queue")}>{"nothing received"}</div>
                } else {
                    <ol class="messages" id={format!("{id}-queue")}>
                        { for end.queue.iter().map(|entry| html! {
                            <li class="message">
                                <span class="message-size">{format!("{} B", entry.len)}</span>
                                <code class="preview">{quote_bytes(&entry.preview, 24)}</code>
                            </li>
                        }) }
                    </ol>
                }
            }
            {sleepers(names, if end.listening { "waiting in accept" } else { "waiting to receive" }, end.read_waiters.iter().map(|pid| (*pid, String::new())), format!("{id}-readers"))}
            {sleepers(names, "waiting to send", end.write_waiters.iter().map(|pid| (*pid, String::new())), format!("{id}-writers"))}
            {sleepers(names, "waiting to connect", end.connect_waiters.iter().map(|pid| (*pid, String::new())), format!("{id}-connectors"))}
        </div>
    }
}

/// A process's address space: each mapping, and each of its pages with the frame it maps (a frame
/// that more than one page table maps is shared: nothing was copied to share it).
pub fn address_space_card(space: &AddressSpaceView, names: &Names) -> Html {
    let id = format!("mm-{}", space.pid);
    html! {
        <article class={classes!("pipe", tint(space.pid))} key={id.clone()} id={id.clone()}>
            {head("address space", name_of(names, space.pid), count(space.mappings.len(), "mapping"))}
            <ol class="messages">
                { for space.mappings.iter().map(|mapping| {
                    let what = match mapping.segment {
                        Some(segment) => format!("segment {segment}"),
                        None if mapping.shared => "shared".to_string(),
                        None => "private".to_string(),
                    };
                    let access = match mapping.prot & 3 {
                        0 => "---",
                        1 => "r--",
                        _ => "rw-",
                    };
                    html! {
                        <li class="message">
                            <span class="message-tag">{format!("{:#x}", mapping.start)}</span>
                            <span class="message-size">{format!("{access} {what}")}</span>
                            { for mapping.pages.iter().map(|page| {
                                let words: Vec<String> = page.words.iter().map(|(offset, value)| format!("+{offset}: {value}")).collect();
                                let cow = if page.copy_on_write { ", copy-on-write" } else { "" };
                                html! { <code class="preview">{format!("frame {} (held {}×{cow}) {}", page.frame, page.sharers, words.join(" "))}</code> }
                            }) }
                        </li>
                    }
                }) }
            </ol>
        </article>
    }
}
