//! The two panels over the page: "What is this?" (the playground in a few lines, its modes, and the
//! keyboard shortcuts) and the language reference (`docs/scenario-language.md`, fetched from beside the
//! page the first time its panel opens).
//!
//! Both are modal dialogs: they take the focus when they open, Esc or the close button shuts them, and
//! the focus goes back to the button that opened them.

use super::on_click;
use crate::state::keys::SHORTCUTS;
use crate::state::{Msg, Reference};
use yew::prelude::*;

fn dialog(id: &'static str, title: &'static str, close: Callback<MouseEvent>, body: Html) -> Html {
    let title_id = format!("{id}-title");
    html! {
        <div class="overlay">
            <div id={id} class="dialog" role="dialog" aria-modal="true" aria-labelledby={title_id.clone()} tabindex="-1">
                <header class="dialog-head">
                    <h2 id={title_id}>{title}</h2>
                    <button class="dismiss" aria-label="Close" title="Close (Esc)" onclick={close}>{"×"}</button>
                </header>
                <div class="dialog-body">{body}</div>
            </div>
        </div>
    }
}

/// "What is this?", with the shortcuts.
pub fn help(send: &Callback<Msg>) -> Html {
    let body = html! {
        <>
            <p>
                {"ipclab runs small programs of processes that talk through a simulated Linux kernel: pipes, \
                  FIFOs, signals, fork and wait, message queues and semaphores. Each step is one system call by \
                  one process. You see which process ran, what the call did, and what the kernel holds \
                  afterwards: descriptor tables, pipe buffers, queued messages, semaphore counters, sleeping \
                  processes, pending signals."}
            </p>
            <p>
                {"The scenario in the editor is the program. Its title and description say what it shows; \
                  each line is one call, and "}<code>{"-> ..."}</code>{" says what the call should return. \
                  At the end of the run, the verdict says whether every expectation held. Edit the text \
                  and the run follows as you type; your edits are kept as drafts in this browser."}
            </p>
            <h3>{"Four ways to use it"}</h3>
            <ul>
                <li><b>{"Explore"}</b>{": step forward and back, play, and pick which process runs next."}</li>
                <li><b>{"Predict"}</b>{": before each read, write, open or wait, say what it will do; then see."}</li>
                <li><b>{"Challenges"}</b>{": be the scheduler and break a working program."}</li>
                <li><b>{"Tours"}</b>{": a scenario explained stop by stop, one tour per mechanism."}</li>
            </ul>
            <h3>{"Keyboard"}</h3>
            <table class="shortcuts">
                <tbody>
                    { for SHORTCUTS.iter().map(|(keys, what)| html! {
                        <tr><td><kbd>{*keys}</kbd></td><td>{*what}</td></tr>
                    }) }
                </tbody>
            </table>
            <p>{"Keys typed in the editor stay in the editor. Tab moves between the controls."}</p>
            <p>
                <button class="link-button" onclick={on_click(send, Msg::Reference(true))}>{"The scenario language reference"}</button>
            </p>
        </>
    };
    dialog("help-dialog", "What is this?", on_click(send, Msg::Help(false)), body)
}

/// The language reference, once it has arrived.
pub fn reference(reference: &Reference, send: &Callback<Msg>) -> Html {
    let body = match reference {
        Reference::Loaded(text) => super::markdown::render(text),
        Reference::NotFetched | Reference::Loading => {
            html! { <p class="quiet" id="reference-loading">{"Loading the reference…"}</p> }
        }
        Reference::Failed(why) => html! {
            <p class="notice error" id="reference-failed">
                {format!(
                    "The reference could not be loaded ({why}). Close this panel and open it again to retry; \
                     it is also docs/scenario-language.md in ipclab's repository."
                )}
            </p>
        },
    };
    dialog("reference-dialog", "The scenario language", on_click(send, Msg::Reference(false)), body)
}
