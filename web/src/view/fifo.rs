//! A FIFO: a name in the file system, and the pipe behind it while somebody has it open.
//!
//! The pipe itself is drawn by its own card ([`super::pipe`]); this card says which name leads to it.

use sim_core::present::snapshot::FifoView;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FifoProps {
    pub fifo: FifoView,
}

/// One FIFO name, as a small card beside the pipes; redrawn only when its FIFO changes.
#[function_component(FifoCard)]
pub fn fifo_card(props: &FifoProps) -> Html {
    let fifo = &props.fifo;
    let text = match fifo.pipe {
        Some(pipe) => format!("open: its bytes go through pipe {pipe}"),
        None => "nobody has it open: no pipe behind it".to_string(),
    };
    html! {
        <div class="fifo" data-path={fifo.path.clone()}>
            <span class="fifo-kind">{"FIFO"}</span>
            <code class="fifo-path">{fifo.path.clone()}</code>
            <span class="fifo-state">{text}</span>
        </div>
    }
}
