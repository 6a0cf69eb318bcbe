//! Small wrappers over browser APIs: the URL fragment, local storage, focus, downloads, the clipboard,
//! fetching a file beside the page, timings.
//!
//! Everything here fails quietly (a missing API gives `None` or does nothing): the playground must keep
//! working in a locked-down page, and none of these is needed to watch a run.

use wasm_bindgen::{JsCast, JsValue};

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// The URL fragment without its `#`.
pub fn fragment() -> String {
    window()
        .and_then(|window| window.location().hash().ok())
        .map(|hash| hash.trim_start_matches('#').to_string())
        .unwrap_or_default()
}

/// The page address without any fragment.
pub fn page_address() -> String {
    window()
        .and_then(|window| window.location().href().ok())
        .map(|href| href.split('#').next().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// Puts `fragment` in the address bar without reloading or adding a history entry.
pub fn set_fragment(fragment: &str) {
    if let Some(window) = window() {
        if let Ok(history) = window.history() {
            let address = format!("{}#{fragment}", page_address());
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&address));
        }
    }
}

/// Removes the fragment from the address bar (after an edit, the old link no longer describes the page,
/// and a reload should show the visitor's own text).
pub fn clear_fragment() {
    if let Some(window) = window() {
        if let Ok(history) = window.history() {
            if !fragment().is_empty() {
                let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&page_address()));
            }
        }
    }
}

/// Where the drafts are kept (JSON).
pub const DRAFTS_KEY: &str = "ipclab.drafts";
/// What was open last (`library:STEM`, `draft:ID`, `challenge:ID`).
pub const OPEN_KEY: &str = "ipclab.open";
/// The single draft kept by earlier versions of the page.
pub const LEGACY_DRAFT_KEY: &str = "ipclab.draft";

fn storage() -> Option<web_sys::Storage> {
    window()?.local_storage().ok()?
}

/// The value stored under `key`, if any.
pub fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok()?
}

/// Stores `value` under `key` (a full or refused storage loses nothing on the page itself).
pub fn store(key: &str, value: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(key, value);
    }
}

pub fn forget(key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(key);
    }
}

/// Gives the keyboard focus to the element with this id, if it exists and can take it.
pub fn focus(id: &str) {
    let element = window().and_then(|window| window.document()).and_then(|document| document.get_element_by_id(id));
    if let Some(element) = element.and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = element.focus();
    }
}

/// Sets the value of the `<select>` with this id, if it differs (which moves no focus and fires no event).
pub fn set_select_value(id: &str, value: &str) {
    let element = window().and_then(|window| window.document()).and_then(|document| document.get_element_by_id(id));
    if let Some(select) = element.and_then(|element| element.dyn_into::<web_sys::HtmlSelectElement>().ok()) {
        if select.value() != value {
            select.set_value(value);
        }
    }
}

/// Offers `text` as a file download named `file_name`.
pub fn download(file_name: &str, mime: &str, text: &str) {
    let Some(document) = window().and_then(|window| window.document()) else { return };
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else { return };
    let Ok(address) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    if let Ok(anchor) = document.create_element("a") {
        if let Ok(anchor) = anchor.dyn_into::<web_sys::HtmlAnchorElement>() {
            anchor.set_href(&address);
            anchor.set_download(file_name);
            anchor.click();
        }
    }
    let _ = web_sys::Url::revoke_object_url(&address);
}

/// Copies `text` to the clipboard where the page may (the result is not awaited: the link is also shown).
pub fn copy_to_clipboard(text: &str) {
    let Some(window) = window() else { return };
    let Ok(navigator) = js_sys::Reflect::get(&window, &JsValue::from_str("navigator")) else { return };
    let Ok(clipboard) = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard")) else { return };
    if clipboard.is_undefined() {
        return;
    }
    if let Ok(write) = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText")) {
        if let Ok(write) = write.dyn_into::<js_sys::Function>() {
            if let Ok(promise) = write.call1(&clipboard, &JsValue::from_str(text)) {
                // Swallow a refusal (no permission, page not focused): the link is on screen anyway.
                if let Ok(promise) = promise.dyn_into::<js_sys::Promise>() {
                    let ignore = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {});
                    let _ = promise.catch(&ignore);
                    ignore.forget();
                }
            }
        }
    }
}

/// Fetches `path` (relative to the page) as text, and hands `done` the text or why there is none.
pub fn fetch_text(path: &str, done: impl FnOnce(Result<String, String>) + 'static) {
    let Some(window) = window() else {
        done(Err("the page has no window".to_string()));
        return;
    };
    let request = window.fetch_with_str(path);
    wasm_bindgen_futures::spawn_local(async move { done(fetched(request).await) });
}

async fn fetched(request: js_sys::Promise) -> Result<String, String> {
    use wasm_bindgen_futures::JsFuture;
    let response = JsFuture::from(request).await.map_err(|_| "the server could not be reached".to_string())?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| "the answer was not a response".to_string())?;
    if !response.ok() {
        return Err(format!("the server answered with status {}", response.status()));
    }
    let text = response.text().map_err(|_| "its text could not be read".to_string())?;
    let text = JsFuture::from(text).await.map_err(|_| "its text could not be read".to_string())?;
    text.as_string().ok_or_else(|| "its text was not text".to_string())
}

/// Milliseconds since the page started loading.
pub fn now_ms() -> f64 {
    window().and_then(|window| window.performance()).map(|performance| performance.now()).unwrap_or(0.0)
}

/// `window.ipclab`, where the playground leaves timings for benchmarks and tests to read.
fn timings_object() -> Option<js_sys::Object> {
    let window = window()?;
    let key = JsValue::from_str("ipclab");
    let existing = js_sys::Reflect::get(&window, &key).ok()?;
    if existing.is_object() {
        return existing.dyn_into().ok();
    }
    let object = js_sys::Object::new();
    js_sys::Reflect::set(&window, &key, &object).ok()?;
    Some(object)
}

/// Records `window.ipclab[name] = value`.
pub fn record_timing(name: &str, value: f64) {
    if let Some(object) = timings_object() {
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(name), &JsValue::from_f64(value));
    }
}

/// Records a string at `window.ipclab[name]`.
pub fn record_text(name: &str, value: &str) {
    if let Some(object) = timings_object() {
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(name), &JsValue::from_str(value));
    }
}

/// Takes the string at `window.ipclab[name]`, if there is one, and removes it.
pub fn take_text(name: &str) -> Option<String> {
    let object = timings_object()?;
    let key = JsValue::from_str(name);
    let value = js_sys::Reflect::get(&object, &key).ok()?.as_string()?;
    let _ = js_sys::Reflect::delete_property(&object, &key);
    Some(value)
}

/// Asks the page's loader to start the full module in place of this one (`window.ipclab.loadFull`, set
/// by `index.html` and `embed.html`). A page without a loader keeps this module.
pub fn load_full_module() {
    let Some(object) = timings_object() else { return };
    let load = js_sys::Reflect::get(&object, &JsValue::from_str("loadFull")).ok();
    if let Some(load) = load.and_then(|load| load.dyn_into::<js_sys::Function>().ok()) {
        let _ = load.call0(&JsValue::UNDEFINED);
    }
}

/// Calls `window.ipclab[name]()` once, if the page set such a function, and removes it.
pub fn call_hook(name: &str) {
    let Some(object) = timings_object() else { return };
    let key = JsValue::from_str(name);
    let hook = js_sys::Reflect::get(&object, &key).ok();
    if let Some(hook) = hook.and_then(|hook| hook.dyn_into::<js_sys::Function>().ok()) {
        let _ = js_sys::Reflect::delete_property(&object, &key);
        let _ = hook.call0(&JsValue::UNDEFINED);
    }
}

/// The worker that explores scenarios (`explore-worker.js`, a module worker beside the page), with the
/// handlers that turn its answers into messages.
pub struct ExploreWorker {
    worker: web_sys::Worker,
    _on_message: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::Event)>,
}

/// The file of the exploring worker, beside the page.
pub const EXPLORE_WORKER: &str = "explore-worker.js";

impl ExploreWorker {
    /// Starts the worker; `answer(id, result)` is called with each answer (or, if the worker cannot
    /// load, with [`crate::state::ANY_EXPLORATION`] and why), `progress(id, progress)` with each word
    /// on the way.
    pub fn start(
        answer: impl Fn(u32, Result<crate::state::ExploreReport, String>) + Clone + 'static,
        progress: impl Fn(u32, crate::state::ExploreProgress) + 'static,
    ) -> Result<ExploreWorker, String> {
        use wasm_bindgen::closure::Closure;
        let options = web_sys::WorkerOptions::new();
        options.set_type(web_sys::WorkerType::Module);
        let worker = web_sys::Worker::new_with_options(EXPLORE_WORKER, &options)
            .map_err(|error| format!("the exploring worker could not start ({})", describe(&error)))?;
        let on_answer = answer.clone();
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let data = event.data();
            let id = number(&data, "id").map_or(crate::state::ANY_EXPLORATION, |id| id as u32);
            let so_far = field(&data, "progress");
            if so_far.is_object() {
                let count = |key| number(&so_far, key).unwrap_or(0.0) as u64;
                let (states, steps, depth) = (count("states"), count("steps"), count("depth"));
                progress(id, crate::state::ExploreProgress { states, steps, depth });
            } else {
                on_answer(id, read_report(&data));
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            event.prevent_default();
            let message = js_sys::Reflect::get(&event, &JsValue::from_str("message"))
                .ok()
                .and_then(|message| message.as_string())
                .filter(|message| !message.is_empty())
                .unwrap_or_else(|| format!("{EXPLORE_WORKER} or the JavaScript module could not be loaded"));
            answer(crate::state::ANY_EXPLORATION, Err(message));
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(ExploreWorker { worker, _on_message: on_message, _on_error: on_error })
    }

    /// Asks for every schedule of `scenario`, at most `max_states` states.
    pub fn explore(&self, id: u32, scenario: &str, max_states: u64) -> Result<(), String> {
        let request = js_sys::Object::new();
        let set = |key: &str, value: JsValue| js_sys::Reflect::set(&request, &JsValue::from_str(key), &value);
        let _ = set("id", JsValue::from_f64(id as f64));
        let _ = set("scenario", JsValue::from_str(scenario));
        let _ = set("maxStates", JsValue::from_f64(max_states as f64));
        self.worker
            .post_message(&request)
            .map_err(|error| format!("the exploring worker refused it ({})", describe(&error)))
    }
}

impl ExploreWorker {
    /// Ends the worker and whatever it runs; nothing more reaches its handlers.
    pub fn end(&self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

impl Drop for ExploreWorker {
    fn drop(&mut self) {
        self.end();
    }
}

fn describe(error: &JsValue) -> String {
    error
        .as_string()
        .or_else(|| js_sys::Reflect::get(error, &JsValue::from_str("message")).ok().and_then(|m| m.as_string()))
        .unwrap_or_else(|| "no reason given".to_string())
}

fn field(object: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn number(object: &JsValue, key: &str) -> Option<f64> {
    field(object, key).as_f64()
}

fn text(object: &JsValue, key: &str) -> String {
    field(object, key).as_string().unwrap_or_default()
}

fn flag(object: &JsValue, key: &str) -> bool {
    field(object, key).as_bool().unwrap_or(false)
}

fn list(object: &JsValue, key: &str) -> Vec<JsValue> {
    field(object, key).dyn_into::<js_sys::Array>().map(|array| array.iter().collect()).unwrap_or_default()
}

/// The worker's answer as the reducer takes it.
fn read_report(data: &JsValue) -> Result<crate::state::ExploreReport, String> {
    if !flag(data, "ok") {
        let error = text(data, "error");
        return Err(if error.is_empty() { "the exploration failed".to_string() } else { error });
    }
    Ok(crate::state::ExploreReport {
        holds: flag(data, "holds"),
        schedules: text(data, "schedules"),
        counts: text(data, "counts"),
        states: number(data, "states").unwrap_or(0.0) as u64,
        incomplete: text(data, "incomplete"),
        outcomes: list(data, "outcomes")
            .iter()
            .map(|row| crate::state::ExploredRow {
                words: text(row, "words"),
                holds: flag(row, "holds"),
                schedules: text(row, "schedules"),
                steps: number(row, "steps").unwrap_or(0.0) as u64,
                link: text(row, "link"),
            })
            .collect(),
        declared: list(data, "declared")
            .iter()
            .map(|verdict| (text(verdict, "words"), flag(verdict, "settled").then(|| flag(verdict, "holds"))))
            .collect(),
    })
}
