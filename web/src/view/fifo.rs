//! A FIFO's name in the file system, and the pipe behind it while somebody has it open.

use sim_core::snapshot::FifoView;
use yew::prelude::*;

/// One FIFO name, as a small label under the pipes.
pub fn name_card(fifo: &FifoView) -> Html {
    let text = match fifo.pipe {
        Some(pipe) => format!("{} → pipe {pipe}", fifo.path),
        None => format!("{} (nobody has it open)", fifo.path),
    };
    html! { <span class="pill fifo" key={fifo.path.clone()}>{text}</span> }
}
