//! The ipclab playground: a Yew app that edits, runs, steps through, teaches and shares scenarios in the
//! browser.
//!
//! The simulation is `sim-core`'s, used through its public API: [`engine::Engine`] keeps a run with
//! checkpoints for instant time travel, [`facts`] reads the few things the page needs from its events,
//! [`state`] is the pure reducer (messages in, effects out, tested natively), [`teach`] holds the
//! library's order, predictions, challenges and tours, [`view`] draws the page, and [`app::App`] connects
//! the reducer to the browser. `index.html` calls [`start`].

pub mod app;
pub mod browser;
/// Time travel over one run lives in sim-core (`sim_core::session`), shared with the JavaScript API.
pub use sim_core::session as engine;
pub mod facts;
pub mod state;
pub mod teach;
pub mod view;

/// The scenario library's texts, with each scenario's native trace hash, as `build.rs` embeds them for
/// the unit tests. The page itself fetches the texts from beside it (see [`teach::catalog`]); the
/// integration tests include the same file.
#[cfg(test)]
pub mod library {
    include!(concat!(env!("OUT_DIR"), "/library.rs"));
}

use wasm_bindgen::prelude::*;

/// Whether this is the full module (the `full` feature): with the System V and POSIX IPC mechanisms and
/// the teaching modes. The page's first module has neither, and hands the page to the full module when
/// a scenario or a choice needs them (see `state/handover.rs`).
pub const FULL: bool = cfg!(feature = "full");

thread_local! {
    /// The mounted app, kept to be stopped by [`stop`].
    static MOUNTED: std::cell::RefCell<Option<yew::AppHandle<app::App>>> = const { std::cell::RefCell::new(None) };
    /// Set by [`stop`]: the full module has the page, and this one answers nothing more.
    static STOPPED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether [`stop`] was called.
pub(crate) fn stopped() -> bool {
    STOPPED.with(std::cell::Cell::get)
}

/// Mounts the playground on `root` if given, else on the element with id `app` (or on `<body>`). The
/// page's loader gives the full module a fresh element not yet in the page, and puts it in the first
/// module's place once it has drawn (see `static/loader.js`).
#[wasm_bindgen]
pub fn start(root: Option<web_sys::Element>) {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else { return };
    let handle = match root.or_else(|| document.get_element_by_id("app")) {
        Some(root) => {
            root.set_inner_html("");
            yew::Renderer::<app::App>::with_root(root).render()
        }
        None => yew::Renderer::<app::App>::new().render(),
    };
    MOUNTED.with(|mounted| *mounted.borrow_mut() = Some(handle));
}

/// Stops the playground for the full module (see `state/handover.rs`): from now on this module answers
/// no message. Its page stays where it is, so that keys typed while the full module draws still land in
/// its editor, until the loader calls [`discard`]. What the full module is to show is already on the
/// page (`window.ipclab.handover`), kept up to date by every update since the handover was asked for.
#[wasm_bindgen]
pub fn stop() {
    STOPPED.with(|stopped| stopped.set(true));
}

/// Takes the stopped playground down (its elements and its listeners on the document), once the full
/// module has drawn in its place.
#[wasm_bindgen]
pub fn discard() {
    stop();
    if let Some(handle) = MOUNTED.with(|mounted| mounted.borrow_mut().take()) {
        handle.destroy();
    }
}
