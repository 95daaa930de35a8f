//! Following a live view in the browser: one `EventSource` on a `/live/…` URL, reopened
//! when the URL changes and closed when the view goes away. Each event named `event`
//! carries a JSON array of rows; an `end` event means the server ended the stream on
//! purpose (signed out) and it is not reopened. On the server it does nothing: the page
//! is rendered with its first rows.

use leptos::prelude::*;
use serde::de::DeserializeOwned;

#[cfg(not(feature = "hydrate"))]
pub fn follow<T: DeserializeOwned + 'static>(
    _url: Signal<String>,
    _event: &'static str,
    _on_rows: impl Fn(Vec<T>) + Send + Sync + 'static,
    _live: RwSignal<bool>,
) {
}

#[cfg(feature = "hydrate")]
pub fn follow<T: DeserializeOwned + 'static>(
    url: Signal<String>,
    event: &'static str,
    on_rows: impl Fn(Vec<T>) + Send + Sync + 'static,
    live: RwSignal<bool>,
) {
    use send_wrapper::SendWrapper;
    use std::sync::Arc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    type Listener = Closure<dyn FnMut(web_sys::MessageEvent)>;
    let current: StoredValue<Option<SendWrapper<(web_sys::EventSource, Listener, Listener)>>> =
        StoredValue::new(None);
    let close = move || {
        if let Some(old) = current.try_update_value(Option::take).flatten() {
            old.0.close();
        }
    };
    let on_rows = Arc::new(on_rows);
    Effect::new(move |_| {
        let url = url.get();
        close();
        live.set(false);
        let Ok(source) = web_sys::EventSource::new(&url) else {
            return;
        };
        let handle = on_rows.clone();
        let rows: Listener = Closure::new(move |ev: web_sys::MessageEvent| {
            if let Some(text) = ev.data().as_string()
                && let Ok(changed) = serde_json::from_str::<Vec<T>>(&text)
            {
                handle(changed);
            }
        });
        // The server ended the stream on purpose (signed out): do not reconnect.
        let on_end: Listener = Closure::new(move |ev: web_sys::MessageEvent| {
            live.set(false);
            if let Some(source) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::EventSource>().ok())
            {
                source.close();
            }
        });
        let _ = source.add_event_listener_with_callback(event, rows.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("end", on_end.as_ref().unchecked_ref());
        let opened: Closure<dyn FnMut()> = Closure::new(move || live.set(true));
        source.set_onopen(Some(opened.as_ref().unchecked_ref()));
        opened.forget();
        current.set_value(Some(SendWrapper::new((source, rows, on_end))));
    });
    on_cleanup(close);
}

/// `s` as a URL query value.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
