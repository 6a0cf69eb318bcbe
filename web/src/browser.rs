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
