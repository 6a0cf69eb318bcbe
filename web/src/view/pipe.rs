//! A pipe (anonymous, or the pipe behind an open FIFO), drawn as a buffer of page slots between its
//! write end and its read end, with who holds each end and who waits on it.
//!
//! The card redraws only when its pipe or the names of the processes change.

use super::tint;
use sim_core::present::render::quote_bytes;
use sim_core::present::snapshot::PipeView;
use sim_core::Pid;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct PipeProps {
    pub pipe: PipeView,
    /// Every process of the run by pid, for naming holders and waiters.
    pub names: Rc<Vec<(Pid, String)>>,
}

pub(crate) fn name_of(names: &[(Pid, String)], pid: Pid) -> String {
    if pid == 1 {
        return "init".to_string();
    }
    names.iter().find(|(candidate, _)| *candidate == pid).map_or(format!("pid {pid}"), |(_, name)| name.clone())
}

fn holders(names: &[(Pid, String)], list: &[(Pid, i32)]) -> Html {
    if list.is_empty() {
        return html! { <span class="nobody">{"nobody"}</span> };
    }
    html! {
        { for list.iter().map(|(pid, fd)| html! {
            <span class={classes!("holder", tint(*pid))}>{format!("{} fd {fd}", name_of(names, *pid))}</span>
        }) }
    }
}

fn queue(names: &[(Pid, String)], label: &str, pids: &[Pid], id: String) -> Html {
    if pids.is_empty() {
        return html! {};
    }
    html! {
        <div class="queue" id={id}>
            <span class="label">{label.to_string()}</span>
            { for pids.iter().map(|pid| html! { <span class={classes!("pill", "waiter", tint(*pid))}>{format!("{} ({pid})", name_of(names, *pid))}</span> }) }
        </div>
    }
}

/// `part` of `whole` in tenths of a percent, rounded (0 for an empty whole).
fn per_mille(part: u64, whole: u64) -> u64 {
    (part * 1000 + whole / 2).checked_div(whole).unwrap_or(0)
}

/// Tenths as a decimal: 125 is `12.5`. Integer arithmetic keeps float formatting out of the bundle.
fn tenths(value: u64) -> String {
    format!("{}.{}", value / 10, value % 10)
}

#[function_component(PipeCard)]
pub fn pipe_card(props: &PipeProps) -> Html {
    let pipe = &props.pipe;
    let names = props.names.as_slice();
    let page = 4096u32;
    let slots = pipe.max_slots.clamp(1, 64);
    // Slot cells, oldest (next to be read) at the right, next to the read end.
    let cells = (0..slots).rev().map(|index| {
        let bytes = pipe.slot_bytes.get(index as usize).copied();
        // A slot with a single byte still shows a sliver, so that "not empty" is visible at a glance.
        let fill = bytes.map_or(0, |bytes| (bytes.min(page) as u64 * 1000 / page as u64).max(120));
        let title = match bytes {
            Some(bytes) => format!("slot {}: {bytes} bytes", index + 1),
            None => format!("slot {}: free", index + 1),
        };
        html! {
            <div class={classes!("cell", bytes.is_some().then_some("used"))} title={title}>
                <div class="fill" style={format!("width: {}%", tenths(fill))}></div>
            </div>
        }
    });
    let percent = tenths(per_mille(pipe.used_bytes as u64, pipe.capacity_bytes as u64));
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
                    {holders(names, &pipe.write_holders)}
                </div>
                <div class="arrow" aria-hidden="true">{"→"}</div>
                <div class="buffer" role="img" aria-label={format!("{percent}% full")} title={format!("{percent}% full")}>{ for cells }</div>
                <div class="arrow" aria-hidden="true">{"→"}</div>
                <div class="end read-end">
                    <div class="end-label">{format!("read end ×{}", pipe.readers)}</div>
                    {holders(names, &pipe.read_holders)}
                </div>
            </div>
            <div class="pipe-foot">
                if pipe.used_bytes > 0 {
                    <code class="preview">{quote_bytes(&pipe.preview, 48)}</code>
                } else {
                    <span class="empty-note">{"empty"}</span>
                }
                <span class="grow"></span>
                <span class="totals">{format!("{} written · {} read", pipe.bytes_written, pipe.bytes_read)}</span>
            </div>
            {queue(names, "waiting to write", &pipe.write_waiters, format!("pipe-{}-write-waiters", pipe.id))}
            {queue(names, "waiting to read", &pipe.read_waiters, format!("pipe-{}-read-waiters", pipe.id))}
            {queue(names, "waiting to open", &pipe.open_waiters, format!("pipe-{}-open-waiters", pipe.id))}
        </article>
    }
}
