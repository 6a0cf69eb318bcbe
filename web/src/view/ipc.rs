//! IPC objects: System V message queues, semaphore sets and shared memory segments, POSIX message queues
//! and named semaphores, each drawn as its own card (and a process's address space, whose pages point
//! at the frames a segment holds), and the system-wide list of them all (what `ipcs`, `/dev/mqueue` and
//! `/dev/shm` show): they belong to no process and outlive the processes that made them.
//!
//! Plain view functions, not components: each kind is small, and a component costs the bundle a copy of
//! Yew's component machinery. The kinds share the pieces they draw alike (messages, sleepers).

use super::pipe::name_of;
use super::tint;
use crate::facts::PageMove;
use sim_core::present::render::quote_bytes;
use sim_core::present::snapshot::{
    AddressSpaceView, EpollView, MessageView, MqueueView, MsgQueueView, NamedSemView, ObjectView, SemSetView,
    ShmSegmentView, SocketEndView, SocketPairView,
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

/// An epoll instance: each watched descriptor with what it watches, how it is reported and what its
/// file has now; the ready list's order, the next `epoll_wait` looking at its head first; who sleeps
/// on it.
pub fn epoll_card(epoll: &EpollView, names: &Names) -> Html {
    let id = format!("epoll-{}", epoll.id);
    let holders: Vec<String> = epoll.holders.iter().map(|pid| name_of(names, *pid)).collect();
    let held =
        if holders.is_empty() { "no descriptor left".to_string() } else { format!("open in {}", holders.join(", ")) };
    html! {
        <article class="pipe ipc epoll" key={id.clone()} id={id.clone()} data-ready={epoll.ready.len().to_string()}>
            {head("epoll instance", format!("epoll {}", epoll.id), format!("{} watched · {} ready", epoll.items.len(), epoll.ready.len()))}
            <div class="family">{held}</div>
            if epoll.items.is_empty() {
                <div class="messages empty-note" id={format!("{id}-items")}>{"watches nothing yet"}</div>
            } else {
                <ul class="epoll-items" id={format!("{id}-items")}>
                    { for epoll.items.iter().map(|item| {
                        let ready = item.ready_at.map(|at| format!("ready list #{}", at + 1));
                        let has = if item.has.is_empty() { "nothing now".to_string() } else { format!("has {}", item.has) };
                        html! {
                            <li class={classes!("poll-entry", "epoll-item", item.ready_at.map(|_| "ready"))} data-fd={item.fd.to_string()}>
                                <code>{format!("fd {}", item.fd)}</code>
                                {format!(" {} · watches {} · {} · {has}", item.file, item.events, item.mode)}
                                if let Some(ready) = ready {
                                    <span class="ready-place">{format!(" · {ready}")}</span>
                                }
                            </li>
                        }
                    }) }
                </ul>
            }
            {sleepers(names, "waiting in epoll_wait (next to wake first)", epoll.waiters.iter().map(|pid| (*pid, String::new())), format!("{id}-waiters"))}
            {sleepers(names, "polling it", epoll.pollers.iter().map(|pid| (*pid, String::new())), format!("{id}-pollers"))}
        </article>
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
                ObjectView::ShmObject(object) => (
                    "shm object",
                    object.name.clone().unwrap_or_else(|| format!("object {} (unlinked)", object.id)),
                    object.creator,
                    object.mode,
                    format!(
                        "{} B, {}, {}",
                        object.size,
                        count(object.opens as usize, "open file"),
                        count(object.mappings as usize, "mapping")
                    ),
                ),
                ObjectView::Pipe(_)
                | ObjectView::Fifo(_)
                | ObjectView::AddressSpace(_)
                | ObjectView::SocketPair(_)
                | ObjectView::Epoll(_) => return None,
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

/// The system-wide list, then the memory picture: one node, so the module without the IPC mechanisms
/// draws one empty node in their place.
pub fn panel_and_memory(objects: &[ObjectView], moved: &[PageMove], names: &Names) -> Html {
    html! { <>{panel(objects, names)}{memory_map(objects, moved, names)}</> }
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

/// The open files that messages hold in flight (`SCM_RIGHTS`), each with the socket whose receive
/// queue holds the message.
pub fn files_in_flight(objects: &[ObjectView]) -> Vec<(u32, u32)> {
    let mut files = Vec::new();
    for object in objects {
        if let ObjectView::SocketPair(pair) = object {
            for end in &pair.ends {
                for entry in &end.queue {
                    files.extend(entry.rights.iter().map(|passed| (passed.file, end.id)));
                }
            }
        }
    }
    files
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
    let inet = |end: &SocketEndView| {
        end.path.as_deref().is_some_and(|path| sim_core::linux::socket::parse_inet(path).is_some())
    };
    let family = if pair.ends.iter().any(|end| end.tcp_state.is_some()) {
        "TCP socket (loopback)"
    } else if pair.ends.iter().any(inet) {
        "UDP socket (loopback)"
    } else {
        "Unix-domain socket"
    };
    html! {
        <article class="pipe ipc" key={id.clone()} id={id.clone()} data-ends={pair.ends.len().to_string()}>
            {head(family, title, pair.kind.clone())}
            { for pair.ends.iter().map(|end| socket_end(end, names)) }
        </article>
    }
}

fn socket_end(end: &SocketEndView, names: &Names) -> Html {
    let id = format!("socket-end-{}", end.id);
    let holders: Vec<String> =
        end.holders.iter().map(|(pid, fd)| format!("{} fd {fd}", name_of(names, *pid))).collect();
    let mut facts = vec![format!("socket {}", end.id)];
    if let Some(state) = &end.tcp_state {
        // A TCP end: its connection's state, where it is, and whom it talks to.
        facts.push(state.clone());
        if let Some(address) = &end.path {
            facts.push(format!("at {address}"));
        }
        if end.peer_port != 0 {
            facts.push(format!("peer port {}", end.peer_port));
        }
        if end.orphan {
            facts.push("closed by its program; the connection is not over".to_string());
        }
    } else if let Some(address) = end.path.as_deref().filter(|path| sim_core::linux::socket::parse_inet(path).is_some())
    {
        facts.push(format!("UDP at {address}"));
        if end.peer_port != 0 {
            facts.push(format!("connected to port {}", end.peer_port));
        }
    } else if let Some(path) = &end.path {
        // An abstract name is written as `ss` writes it, with `@` for the NUL byte it starts with.
        match path.strip_prefix('\0') {
            Some(name) => facts.push(format!("bound to @{name} (abstract: no file)")),
            None => facts.push(format!("bound to {path}")),
        }
    }
    if end.autobound {
        facts.push("bound by the kernel to a name of its choosing".to_string());
    }
    if end.passcred {
        facts.push("SO_PASSCRED: told who sent each message".to_string());
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
                            <li class={classes!("message", (!entry.rights.is_empty()).then_some("carries-rights"))}>
                                <span class="message-size">{format!("{} B", entry.len)}</span>
                                <code class="preview">{quote_bytes(&entry.preview, 24)}</code>
                                if let Some(pid) = entry.creds {
                                    <span class="creds" title="SCM_CREDENTIALS: the kernel wrote the sender's pid, uid and gid on the message">
                                        {format!("from {} (pid {pid})", name_of(names, pid))}
                                    </span>
                                }
                                { for entry.rights.iter().map(|passed| html! {
                                    <span class="passed-file" data-file={passed.file.to_string()}
                                        title="SCM_RIGHTS: the message holds this open file until it is received">
                                        {format!("SCM_RIGHTS → open file {}: {}", passed.file, passed.object)}
                                    </span>
                                }) }
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

// The memory picture's geometry, in CSS pixels: page tables on the left, the arrows' gutter, then the
// strip of physical frames; narrow enough for the objects' column beside the editor and for a phone.
// Text is 11 px monospace: under 7 px a character.
const CHAR: i32 = 7;
const TOP: i32 = 22;
const TABLE_HEAD: i32 = 22;
/// A page's row: its address (and a copy-on-write mark), then its access and kind.
const ROW: i32 = 34;
const TABLE_WIDTH: i32 = 142;
const TABLE_GAP: i32 = 10;
const FRAME_X: i32 = 186;
const FRAME_WIDTH: i32 = 150;
/// A frame's number, then how many page tables hold it.
const FRAME_HEAD: i32 = 36;
const FRAME_LINE: i32 = 14;
const FRAME_GAP: i32 = 8;
/// Characters of a frame's integers on one line (a single longer one widens the strip).
const LINE_CHARS: usize = 19;
const PAGE: u64 = 4096;

/// One virtual page of one page table, placed.
struct PageRow {
    pid: Pid,
    page: u64,
    frame: u32,
    /// The middle of its row.
    y: i32,
}

/// One frame of the strip, placed.
struct FrameBox {
    frame: u32,
    /// Page-table entries (of the address spaces drawn) that map it.
    holders: usize,
    /// Its reference count: page-table entries and segments.
    refs: u32,
    lines: Vec<String>,
    top: i32,
    height: i32,
}

/// A frame's nonzero integers, `+offset: value`, packed into lines that fit its box.
fn word_lines(words: &[(u32, i64)]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for (offset, value) in words {
        let word = format!("+{offset}: {value}");
        match lines.last_mut() {
            Some(line) if line.len() + 2 + word.len() <= LINE_CHARS => {
                line.push_str("  ");
                line.push_str(&word);
            }
            _ => lines.push(word),
        }
    }
    lines
}

fn plural(value: usize, noun: &str) -> String {
    if value == 1 {
        format!("in 1 {noun}")
    } else {
        format!("in {value} {noun}s")
    }
}

/// A number for an attribute: one formatting function for them all.
fn num(value: i64) -> String {
    value.to_string()
}

/// An arrow from a page's row to a point on a frame's left edge.
fn arrow_path(from_y: i32, to_y: i32) -> (String, String) {
    let (x1, x2) = (TABLE_WIDTH, FRAME_X);
    let line = format!("M{x1} {from_y}C{} {from_y} {} {to_y} {} {to_y}", x1 + 22, x2 - 22, x2 - 7);
    let head = format!("M{} {}L{x2} {to_y}L{} {}Z", x2 - 8, to_y - 4, x2 - 8, to_y + 4);
    (line, head)
}

/// Every address space as its page table, one row per virtual page, with an arrow to the frame it maps
/// in a strip of physical memory. A frame that more than one page table maps is shared: nothing was
/// copied to share it. `moved` are the pages the step on screen gave a copy of their frame (a
/// copy-on-write fault): their arrow is marked, and a dashed one shows the frame they left.
pub fn memory_map(objects: &[ObjectView], moved: &[PageMove], names: &Names) -> Html {
    let spaces: Vec<&AddressSpaceView> = objects
        .iter()
        .filter_map(|object| match object {
            ObjectView::AddressSpace(space) if !space.mappings.is_empty() => Some(&**space),
            _ => None,
        })
        .collect();
    if spaces.is_empty() {
        return Html::default();
    }
    // The page tables, top to bottom.
    let mut rows: Vec<PageRow> = Vec::new();
    let mut tables: Vec<Html> = Vec::new();
    let mut y = TOP;
    for space in &spaces {
        let pid = space.pid;
        let top = y;
        y += TABLE_HEAD;
        let mut lines: Vec<Html> = Vec::new();
        for mapping in &space.mappings {
            let what = match (mapping.segment, mapping.object) {
                (Some(segment), _) => format!("shm {segment}"),
                (None, Some(object)) if mapping.shared => format!("shm object {object}"),
                (None, Some(object)) => format!("shm object {object}, private"),
                (None, None) if mapping.shared => "shared".to_string(),
                (None, None) => "private".to_string(),
            };
            let access = match mapping.prot & 3 {
                0 => "---",
                1 => "r--",
                _ => "rw-",
            };
            for (index, page) in mapping.pages.iter().enumerate() {
                let address = mapping.start + index as u64 * PAGE;
                let was_moved = moved.iter().any(|step| step.pid == pid && step.page == address);
                let (first, second) = (num((y + 15) as i64), num((y + 29) as i64));
                lines.push(html! {
                    <g class={classes!("pt-row", page.copy_on_write.then_some("page-cow"), was_moved.then_some("page-moved"))}
                        data-pid={num(pid as i64)} data-page={format!("{address:#x}")} data-frame={num(page.frame as i64)}>
                        <title>{format!("{address:#x} maps frame {}", page.frame)}</title>
                        <rect x="0" y={num((y + 1) as i64)} width={num(TABLE_WIDTH as i64)} height={num((ROW - 2) as i64)} rx="3" />
                        <text x="6" y={first.clone()}>{format!("{address:#x}")}</text>
                        <text class="pt-what" x="6" y={second}>{format!("{access} {what}")}</text>
                        if page.copy_on_write {
                            <text class="cow-mark" x={num((TABLE_WIDTH - 6) as i64)} y={first}><title>{"copy-on-write: a write copies the frame first"}</title>{"COW"}</text>
                        }
                    </g>
                });
                // A page past the end of its shared memory object has no frame to point at.
                if page.frame != u32::MAX {
                    rows.push(PageRow { pid, page: address, frame: page.frame, y: y + ROW / 2 });
                }
                y += ROW;
            }
        }
        tables.push(html! {
            <g class={classes!("page-table", tint(pid))} data-pid={num(pid as i64)}>
                <text class="pt-name" x="0" y={num((top + 15) as i64)}>{format!("{} ({pid}) page table", name_of(names, pid))}</text>
                { for lines }
            </g>
        });
        y += TABLE_GAP;
    }
    let left_height = y;
    // The frames they map, in physical order.
    let mut numbers: Vec<u32> = rows.iter().map(|row| row.frame).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let mut frames: Vec<FrameBox> = Vec::new();
    let mut y = TOP + TABLE_HEAD;
    for number in numbers {
        let page = spaces
            .iter()
            .flat_map(|space| space.mappings.iter().flat_map(|mapping| mapping.pages.iter()))
            .find(|page| page.frame == number);
        let (refs, words) = page.map_or((0, &[][..]), |page| (page.sharers, &page.words[..]));
        let holders = rows.iter().filter(|row| row.frame == number).count();
        let lines = word_lines(words);
        let height = FRAME_HEAD + FRAME_LINE * lines.len().max(1) as i32 + 6;
        frames.push(FrameBox { frame: number, holders, refs, lines, top: y, height });
        y += height + FRAME_GAP;
    }
    let height = left_height.max(y);
    let mut frame_width = FRAME_WIDTH;
    for line in frames.iter().flat_map(|frame| frame.lines.iter()) {
        frame_width = frame_width.max(14 + CHAR * line.len() as i32);
    }
    let frame_boxes: Vec<Html> = frames
        .iter()
        .map(|frame| {
            let first = frame.top + FRAME_HEAD + 10;
            let x = num((FRAME_X + 7) as i64);
            html! {
                <g class={classes!("frame", (frame.holders > 1).then_some("frame-shared"))}
                    data-frame={num(frame.frame as i64)} data-holders={num(frame.holders as i64)} data-refs={num(frame.refs as i64)}>
                    <title>{format!("frame {}: reference count {} (page-table entries and segments that hold it)", frame.frame, frame.refs)}</title>
                    <rect x={num(FRAME_X as i64)} y={num(frame.top as i64)} width={num(frame_width as i64)} height={num(frame.height as i64)} rx="4" />
                    <text class="frame-name" x={x.clone()} y={num((frame.top + 15) as i64)}>{format!("frame {}", frame.frame)}</text>
                    <text class="frame-held" x={x.clone()} y={num((frame.top + 29) as i64)}>{plural(frame.holders, "page table")}</text>
                    if frame.lines.is_empty() {
                        <text class="frame-words zeros" x={x.clone()} y={num(first as i64)}>{"all zeros"}</text>
                    }
                    { for frame.lines.iter().enumerate().map(|(index, line)| html! {
                        <text class="frame-words" x={x.clone()} y={num((first + FRAME_LINE * index as i32) as i64)}>{line.clone()}</text>
                    }) }
                </g>
            }
        })
        .collect();
    // Where an arrow ends: the arrows into one frame spread along its left edge.
    let end_y = |frame: u32, index: usize, count: usize| -> i32 {
        let found = frames.iter().find(|candidate| candidate.frame == frame);
        let middle = found.map_or(0, |frame| frame.top + frame.height / 2);
        middle + (2 * index as i32 - (count as i32 - 1)) * 4
    };
    let mut arrows: Vec<Html> = Vec::new();
    for frame in &frames {
        let into: Vec<&PageRow> = rows.iter().filter(|row| row.frame == frame.frame).collect();
        for (index, row) in into.iter().enumerate() {
            let was_moved = moved.iter().any(|step| step.pid == row.pid && step.page == row.page);
            let (line, head) = arrow_path(row.y, end_y(frame.frame, index, into.len()));
            arrows.push(html! {
                <g class={classes!("pt-arrow", tint(row.pid), was_moved.then_some("arrow-moved"))}
                    data-from={num(row.pid as i64)} data-page={format!("{:#x}", row.page)} data-frame={num(frame.frame as i64)}>
                    <path class="line" d={line} />
                    <path class="head" d={head} />
                </g>
            });
        }
    }
    // The frames the moved pages left, still mapped elsewhere: a dashed arrow to each.
    let left: Vec<Html> = moved
        .iter()
        .filter_map(|step| {
            let row = rows.iter().find(|row| row.pid == step.pid && row.page == step.page)?;
            frames.iter().find(|frame| frame.frame == step.from)?;
            let (line, head) = arrow_path(row.y, end_y(step.from, 0, 1) + 10);
            Some(html! {
                <g class={classes!("pt-arrow-was", tint(row.pid))} data-from={num(row.pid as i64)}
                    data-page={format!("{:#x}", row.page)} data-frame={num(step.from as i64)}>
                    <path class="line" d={line} />
                    <path class="head" d={head} />
                </g>
            })
        })
        .collect();
    let notes: Vec<String> = moved
        .iter()
        .map(|step| {
            format!(
                "{} ({})'s page {:#x} now maps frame {}, a copy of frame {}: its write faulted on a copy-on-write page another page table still maps.",
                name_of(names, step.pid),
                step.pid,
                step.page,
                step.to,
                step.from
            )
        })
        .collect();
    let label = format!(
        "Page tables of {} with arrows to {}",
        if spaces.len() == 1 { "1 process".to_string() } else { format!("{} processes", spaces.len()) },
        count(frames.len(), "physical frame")
    );
    html! {
        <section class="pipe memory-map" id="memory-map" aria-label="Memory: page tables and physical frames">
            {head("memory", "page tables → physical frames".to_string(), count(frames.len(), "frame"))}
            <div class="mm-scroll">
                <svg width={num((FRAME_X + frame_width + 2) as i64)} height={num(height as i64)} role="group" aria-label={label}>
                    <text class="mm-title" x="0" y="14">{"virtual pages"}</text>
                    <text class="mm-title" x={num(FRAME_X as i64)} y="14">{"physical frames"}</text>
                    { for tables }
                    { for left }
                    { for frame_boxes }
                    { for arrows }
                </svg>
            </div>
            if !notes.is_empty() {
                <p class="mm-note" id="memory-moved">{notes.join(" ")}</p>
            }
            <p class="mm-legend">{"A frame in more than one page table is shared (outlined in blue): a write through one page is seen through the other. COW: copy-on-write, shared since a fork until a write copies it."}</p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frames_integers_are_packed_into_lines_that_fit_its_box() {
        assert_eq!(word_lines(&[]), Vec::<String>::new());
        assert_eq!(word_lines(&[(0, 42), (8, 7)]), ["+0: 42  +8: 7"]);
        let wide = [(0, i64::MIN), (8, 1), (16, -1)];
        assert_eq!(word_lines(&wide), ["+0: -9223372036854775808", "+8: 1  +16: -1"]);
        let many: Vec<(u32, i64)> = (0..8).map(|index| (index * 8, 100)).collect();
        let lines = word_lines(&many);
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(lines.iter().all(|line| line.len() <= LINE_CHARS), "{lines:?}");
    }
}
