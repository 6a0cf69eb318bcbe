//! A FIFO: a name in the file system, and the pipe behind it while somebody has it open.
//!
//! The pipe itself is drawn by its own card ([`super::pipe`]); this card says which name leads to it.
//! A plain function, not a component: it is small, and each component costs the bundle a copy of Yew's
//! component machinery.

use sim_core::present::snapshot::FifoView;
use yew::prelude::*;

/// One FIFO name, as a small card beside the pipes.
pub fn fifo_card(fifo: &FifoView) -> Html {
    let text = match fifo.pipe {
        Some(pipe) => format!("open: its bytes go through pipe {pipe}"),
        None => "nobody has it open: no pipe behind it".to_string(),
    };
    html! {
        <div class="fifo" key={format!("fifo-{}", fifo.path)} data-path={fifo.path.clone()}>
            <span class="fifo-kind">{"FIFO"}</span>
            <code class="fifo-path">{fifo.path.clone()}</code>
            <span class="fifo-state">{text}</span>
        </div>
    }
}
