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

thread_local! {
    /// The mounted app, kept to be stopped by [`stop`].
    static MOUNTED: std::cell::RefCell<Option<yew::AppHandle<app::App>>> = const { std::cell::RefCell::new(None) };
}

/// Mounts the playground on the element with id `app` (or on `<body>`).
#[wasm_bindgen]
pub fn start() {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else { return };
    let handle = match document.get_element_by_id("app") {
        Some(root) => {
            root.set_inner_html("");
            yew::Renderer::<app::App>::with_root(root).render()
        }
        None => yew::Renderer::<app::App>::new().render(),
    };
    MOUNTED.with(|mounted| *mounted.borrow_mut() = Some(handle));
}

/// Takes the playground off the page, leaving what the full module needs to take over (the page's
/// loader calls it once the full module is ready: see `state/handover.rs`).
#[wasm_bindgen]
pub fn stop() {
    if let Some(handle) = MOUNTED.with(|mounted| mounted.borrow_mut().take()) {
        handle.destroy();
    }
}
