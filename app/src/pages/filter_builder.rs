//! The filter builder: conditions (field path, operator, value) in nested AND/OR groups,
//! kept in step with the endpoint's filter JSON, and a live preview that evaluates the
//! filter on an event type's example (or a pasted payload) and says why it matches or not.
//! The template preview (`template_preview`) shares its sample chooser.

use crate::api::tools::PreviewFilter;
use crate::types::EventTypeView;
use crate::types::filter::FilterOp;
use leptos::prelude::*;
use serde_json::{Value, json};

/// The builder's tree. Values are kept as typed text (see [`text_to_value`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Group {
        any: bool,
        not: bool,
        children: Vec<Node>,
    },
    Cond {
        field: String,
        op: FilterOp,
        value: String,
    },
}

impl Node {
    fn empty_group() -> Node {
        Node::Group {
            any: false,
            not: false,
            children: Vec::new(),
        }
    }

    fn new_cond() -> Node {
        Node::Cond {
            field: "data.".into(),
            op: FilterOp::Eq,
            value: String::new(),
        }
    }

    fn at_mut(&mut self, path: &[usize]) -> Option<&mut Node> {
        match path.split_first() {
            None => Some(self),
            Some((i, rest)) => match self {
                Node::Group { children, .. } => children.get_mut(*i)?.at_mut(rest),
                Node::Cond { .. } => None,
            },
        }
    }

    /// The builder's view of a stored filter (`None`: not expressible, edit as JSON).
    pub fn from_json(v: &Value) -> Option<Node> {
        let root = Self::parse(v)?;
        Some(match root {
            g @ Node::Group { .. } => g,
            c => Node::Group {
                any: false,
                not: false,
                children: vec![c],
            },
        })
    }

    fn parse(v: &Value) -> Option<Node> {
        let o = v.as_object()?;
        if let Some(list) = o.get("all").or_else(|| o.get("any")) {
            let children = list
                .as_array()?
                .iter()
                .map(Self::parse)
                .collect::<Option<Vec<_>>>()?;
            return Some(Node::Group {
                any: o.contains_key("any"),
                not: false,
                children,
            });
        }
        if let Some(inner) = o.get("not") {
            return Some(match Self::parse(inner)? {
                Node::Group { any, not, children } => Node::Group {
                    any,
                    not: !not,
                    children,
                },
                c => Node::Group {
                    any: false,
                    not: true,
                    children: vec![c],
                },
            });
        }
        Some(Node::Cond {
            field: o.get("field")?.as_str()?.to_string(),
            op: FilterOp::parse(o.get("op")?.as_str()?)?,
            value: o.get("value").map(value_to_text).unwrap_or_default(),
        })
    }

    pub fn to_json(&self) -> Value {
        match self {
            Node::Group { any, not, children } => {
                let list: Vec<Value> = children.iter().map(Node::to_json).collect();
                let g = if *any {
                    json!({ "any": list })
                } else {
                    json!({ "all": list })
                };
                if *not { json!({ "not": g }) } else { g }
            }
            Node::Cond { field, op, value } => {
                json!({ "field": field, "op": op, "value": text_to_value(*op, value) })
            }
        }
    }
}

/// Strings as they are; anything else as JSON.
pub fn value_to_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(|i| !i.is_array() && !i.is_object()) => items
            .iter()
            .map(value_to_text)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// What was typed: JSON when it parses (`100`, `true`, `"100"`), text otherwise; for
/// `in`/`not_in` a comma-separated list; for `exists` true unless `false`.
pub fn text_to_value(op: FilterOp, text: &str) -> Value {
    let one = |t: &str| {
        serde_json::from_str(t.trim()).unwrap_or_else(|_| Value::String(t.trim().to_string()))
    };
    match op {
        FilterOp::Exists => Value::Bool(text.trim() != "false"),
        FilterOp::In | FilterOp::NotIn => match serde_json::from_str::<Value>(text.trim()) {
            Ok(v @ Value::Array(_)) => v,
            _ => Value::Array(
                text.split(',')
                    .filter(|p| !p.trim().is_empty())
                    .map(one)
                    .collect(),
            ),
        },
        FilterOp::Regex | FilterOp::StartsWith | FilterOp::EndsWith => {
            Value::String(text.to_string())
        }
        _ => one(text),
    }
}

/// Field paths offered for picking: the envelope's, and `data.…` from the schemas.
pub fn schema_paths(types: &[EventTypeView]) -> Vec<String> {
    fn walk(schema: &Value, at: String, out: &mut Vec<String>) {
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                let p = format!("{at}.{k}");
                out.push(p.clone());
                walk(v, p, out);
            }
        }
        if let Some(items) = schema.get("items") {
            let p = format!("{at}[*]");
            walk(items, p, out);
        }
    }
    let mut out = vec![
        "event_type".to_string(),
        "id".into(),
        "event_time".into(),
        "current_context".into(),
    ];
    for t in types {
        if let Some(s) = &t.schema {
            walk(s, "data".into(), &mut out);
        }
    }
    out.sort();
    out.dedup();
    out
}

#[component]
pub fn FilterBuilder(
    /// The filter as JSON text (the endpoint form's field).
    filter: RwSignal<String>,
    types: Vec<EventTypeView>,
    ro: bool,
) -> impl IntoView {
    let parsed = |text: &str| -> Option<Node> {
        match text.trim() {
            "" | "null" => Some(Node::empty_group()),
            t => serde_json::from_str::<Value>(t)
                .ok()
                .and_then(|v| Node::from_json(&v)),
        }
    };
    let tree = RwSignal::new(parsed(&filter.get_untracked()).unwrap_or_else(Node::empty_group));
    let expressible = RwSignal::new(parsed(&filter.get_untracked()).is_some());
    // Builder changes write the JSON; an empty root means no filter.
    let write = move |t: &Node| {
        let text = match t {
            Node::Group {
                children,
                not: false,
                ..
            } if children.is_empty() => String::new(),
            t => serde_json::to_string_pretty(&t.to_json()).unwrap_or_default(),
        };
        filter.set(text);
        expressible.set(true);
    };
    let edit = move |path: Vec<usize>, f: Box<dyn FnOnce(&mut Node)>| {
        tree.update(|t| {
            if let Some(n) = t.at_mut(&path) {
                f(n);
            }
        });
        tree.with_untracked(write);
    };
    let reload = move |_| {
        if let Some(t) = parsed(&filter.get_untracked()) {
            tree.set(t);
            expressible.set(true);
        } else {
            expressible.set(false);
        }
    };
    let paths = schema_paths(&types);
    let names: Vec<String> = types
        .iter()
        .filter(|t| t.example.is_some())
        .map(|t| t.name.clone())
        .collect();
    view! {
        <div class="filter-builder" data-testid="filter-builder">
            <datalist id="filter-paths">
                {paths.into_iter().map(|p| view! { <option value=p.clone()></option> }).collect_view()}
            </datalist>
            {move || (!expressible.get()).then(|| view! {
                <p class="notice">"This filter is edited as JSON below; the builder shows it again once it is valid."</p>
            })}
            {move || group_view(tree.get(), Vec::new(), edit, ro)}
            <button type="button" class="secondary small" on:click=reload>"Reload the builder from the JSON"</button>
            <FilterPreview filter names/>
        </div>
    }
}

fn group_view(
    node: Node,
    path: Vec<usize>,
    edit: impl Fn(Vec<usize>, Box<dyn FnOnce(&mut Node)>) + Copy + Send + Sync + 'static,
    ro: bool,
) -> AnyView {
    let Node::Group { any, not, children } = node else {
        return ().into_any();
    };
    let depth = path.len();
    let label = if depth == 0 {
        "Filter".to_string()
    } else {
        format!(
            "Group {}",
            path.iter()
                .map(|i| (i + 1).to_string())
                .collect::<Vec<_>>()
                .join(".")
        )
    };
    let (p1, p2, p3, p4, p5) = (
        path.clone(),
        path.clone(),
        path.clone(),
        path.clone(),
        path.clone(),
    );
    let rows = children
        .into_iter()
        .enumerate()
        .map(|(i, child)| {
            let mut at = path.clone();
            at.push(i);
            match child {
                g @ Node::Group { .. } => group_view(g, at, edit, ro),
                Node::Cond { field, op, value } => cond_view(field, op, value, at, edit, ro),
            }
        })
        .collect_view();
    view! {
        <fieldset class="filter-group" role="group" aria-label=label.clone()>
            <legend>
                <label class="inline-label">
                    <span class="sr-only">{format!("{label}: combine with")}</span>
                    <select aria-label=format!("{label}: combine with") disabled=ro on:change=move |ev| {
                        let any = event_target_value(&ev) == "any";
                        edit(p1.clone(), Box::new(move |n| if let Node::Group { any: a, .. } = n { *a = any }));
                    }>
                        <option value="all" selected=!any>"ALL of (AND)"</option>
                        <option value="any" selected=any>"ANY of (OR)"</option>
                    </select>
                </label>
                <label class="checkbox">
                    <input type="checkbox" checked=not disabled=ro on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        edit(p2.clone(), Box::new(move |n| if let Node::Group { not: x, .. } = n { *x = on }));
                    }/>
                    "NOT (none may hold)"
                </label>
            </legend>
            {rows}
            <div class="row-gap">
                <button type="button" class="secondary small" disabled=ro on:click=move |_| {
                    edit(p3.clone(), Box::new(|n| if let Node::Group { children, .. } = n { children.push(Node::new_cond()) }));
                }>{format!("+ Condition in {}", label.to_lowercase())}</button>
                {(depth < 4).then(|| view! {
                    <button type="button" class="secondary small" disabled=ro on:click=move |_| {
                        edit(p4.clone(), Box::new(|n| if let Node::Group { children, .. } = n {
                            children.push(Node::Group { any: true, not: false, children: vec![Node::new_cond()] })
                        }));
                    }>"+ Group"</button>
                })}
                {(depth > 0).then(|| view! {
                    <button type="button" class="link-button" disabled=ro on:click=move |_| remove(p5.clone(), edit)>"Remove group"</button>
                })}
            </div>
        </fieldset>
    }
    .into_any()
}

fn remove(path: Vec<usize>, edit: impl Fn(Vec<usize>, Box<dyn FnOnce(&mut Node)>)) {
    if let Some((last, parent)) = path.split_last() {
        let last = *last;
        edit(
            parent.to_vec(),
            Box::new(move |n| {
                if let Node::Group { children, .. } = n
                    && last < children.len()
                {
                    children.remove(last);
                }
            }),
        );
    }
}

fn cond_view(
    field: String,
    op: FilterOp,
    value: String,
    path: Vec<usize>,
    edit: impl Fn(Vec<usize>, Box<dyn FnOnce(&mut Node)>) + Copy + Send + Sync + 'static,
    ro: bool,
) -> AnyView {
    let name = format!(
        "Condition {}",
        path.iter()
            .map(|i| (i + 1).to_string())
            .collect::<Vec<_>>()
            .join(".")
    );
    let (p1, p2, p3, p4) = (path.clone(), path.clone(), path.clone(), path.clone());
    let set = move |p: Vec<usize>, which: u8, text: String| {
        edit(
            p,
            Box::new(move |n| {
                if let Node::Cond { field, op, value } = n {
                    match which {
                        0 => *field = text,
                        1 => *op = FilterOp::parse(&text).unwrap_or(*op),
                        _ => *value = text,
                    }
                }
            }),
        );
    };
    let hint = match op {
        FilterOp::In | FilterOp::NotIn => "comma-separated",
        FilterOp::Exists => "true or false",
        _ => "number, text, true/false",
    };
    view! {
        <div class="filter-cond" role="group" aria-label=name.clone()>
            <input list="filter-paths" aria-label=format!("{name} field") value=field disabled=ro
                on:change=move |ev| set(p1.clone(), 0, event_target_value(&ev))/>
            <select aria-label=format!("{name} operator") disabled=ro on:change=move |ev| set(p2.clone(), 1, event_target_value(&ev))>
                {FilterOp::ALL.into_iter().map(|o| view! { <option value=o.as_str() selected=o == op>{o.label()}</option> }).collect_view()}
            </select>
            <input aria-label=format!("{name} value") value=value placeholder=hint disabled=ro
                on:change=move |ev| set(p3.clone(), 2, event_target_value(&ev))/>
            <button type="button" class="link-button" aria-label=format!("Remove {}", name.to_lowercase()) disabled=ro
                on:click=move |_| remove(p4.clone(), edit)>"Remove"</button>
        </div>
    }
    .into_any()
}

/// The sample chooser shared by both previews: an event type's example, or a pasted envelope.
#[component]
pub(crate) fn SampleChooser(
    names: Vec<String>,
    event_type: RwSignal<String>,
    payload: RwSignal<String>,
    id: &'static str,
) -> impl IntoView {
    if event_type.get_untracked().is_empty()
        && let Some(first) = names.first()
    {
        event_type.set(first.clone());
    }
    view! {
        <div class="row-gap sample">
            <label for=format!("{id}-sample")>"Try it on"</label>
            <select id=format!("{id}-sample") on:change=move |ev| event_type.set(event_target_value(&ev))>
                {names.iter().map(|n| view! { <option value=n.clone()>{format!("the example of {n}")}</option> }).collect_view()}
                <option value="">"a pasted payload"</option>
            </select>
        </div>
        <Show when=move || event_type.get().is_empty()>
            <label for=format!("{id}-payload")>"Payload (an event envelope: {id, event_type, data, …})"</label>
            <textarea id=format!("{id}-payload") class="code" rows="5" spellcheck="false"
                prop:value=move || payload.get() on:change=move |ev| payload.set(event_target_value(&ev))></textarea>
        </Show>
    }
}

#[component]
fn FilterPreview(filter: RwSignal<String>, names: Vec<String>) -> impl IntoView {
    let event_type = RwSignal::new(String::new());
    let payload = RwSignal::new(String::new());
    let run = ServerAction::<PreviewFilter>::new();
    // No filter lets everything through: nothing to ask the server.
    let unfiltered = move || filter.with(|f| f.trim().is_empty() || f.trim() == "null");
    // In the browser: evaluate again whenever the filter or the sample changes.
    Effect::new(move |_| {
        let (filter, event_type, payload) = (filter.get(), event_type.get(), payload.get());
        if !unfiltered() {
            run.dispatch(PreviewFilter {
                filter,
                event_type,
                payload,
            });
        }
    });
    view! {
        <div class="preview" data-testid="filter-preview" aria-live="polite">
            <h4>"Live preview"</h4>
            <SampleChooser names event_type payload id="fp"/>
            {move || if unfiltered() {
                view! {
                    <p data-testid="filter-verdict" class="verdict ok">"✓ No filter: every event of the subscribed types is delivered."</p>
                }.into_any()
            } else { match run.value().get() {
                None => view! { <p class="muted">"Evaluating…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                Some(Ok(v)) => view! {
                    <p data-testid="filter-verdict" class=if v.matches { "verdict ok" } else { "verdict no" }>
                        {if v.matches { "✓ Matches: it would be delivered. " } else { "✗ No match: it would not be delivered. " }}
                        <span class="muted">{v.reason.clone()}</span>
                    </p>
                    <ul class="conditions">
                        {v.conditions.into_iter().map(|c| view! {
                            <li>
                                {if c.matched { "✓ " } else { "✗ " }}
                                <code>{c.field}</code> " " {c.op} " " <code>{c.value.to_string()}</code>
                                <span class="muted">" (found: " {if c.actual.is_empty() { "nothing".to_string() } else { c.actual.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ") }} ")"</span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_filters_round_trip_through_the_builder() {
        let f = json!({"all": [
            {"field": "data.total", "op": "gte", "value": 100},
            {"any": [{"field": "data.sku", "op": "starts_with", "value": "BK-"},
                     {"not": {"any": [{"field": "data.channel", "op": "in", "value": ["pos", "kiosk"]}]}}]}
        ]});
        let node = Node::from_json(&f).expect("expressible");
        assert_eq!(node.to_json(), f);
        let single = json!({"field": "event_type", "op": "eq", "value": "order.created"});
        assert_eq!(
            Node::from_json(&single).unwrap().to_json(),
            json!({"all": [single]})
        );
        assert!(Node::from_json(&json!({"bogus": 1})).is_none());
    }

    #[test]
    fn typed_values_become_json() {
        assert_eq!(text_to_value(FilterOp::Gte, "100"), json!(100));
        assert_eq!(text_to_value(FilterOp::Eq, "BK-1"), json!("BK-1"));
        assert_eq!(text_to_value(FilterOp::Eq, "\"100\""), json!("100"));
        assert_eq!(
            text_to_value(FilterOp::In, "pos, kiosk, 3"),
            json!(["pos", "kiosk", 3])
        );
        assert_eq!(text_to_value(FilterOp::Exists, "false"), json!(false));
        assert_eq!(value_to_text(&json!(["pos", "kiosk"])), "pos, kiosk");
    }
}
