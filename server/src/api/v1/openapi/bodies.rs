//! Request bodies that one wire type serves differently per operation, each given a schema
//! of its own in the document:
//! - `EventTypeInput`: creating needs a `name` (`NewEventType`); replacing takes the name
//!   from the path (a body `name` must repeat it), so its body has none
//!   (`EventTypeChange`);
//! - `EndpointInput` and `SourceInput` under `PATCH`: any of their fields, none required
//!   (`EndpointPatch`, `SourcePatch`), merged onto the current settings.

use utoipa::Modify;
use utoipa::openapi::schema::Object;

pub struct DerivedBodies;

/// What a derived body changes in the type it comes from.
enum Change {
    Require(&'static str),
    Drop(&'static str),
    RequireNothing,
}

/// (from, new schema, its description, change, method, path)
const DERIVED: [(&str, &str, &str, Change, &str, &str); 4] = [
    (
        "EventTypeInput",
        "NewEventType",
        "A new event type (`POST /api/v1/event-types`).",
        Change::Require("name"),
        "post",
        "/api/v1/event-types",
    ),
    (
        "EventTypeInput",
        "EventTypeChange",
        "An event type's new settings; the name is the path's.",
        Change::Drop("name"),
        "put",
        "/api/v1/event-types/{name}",
    ),
    (
        "EndpointInput",
        "EndpointPatch",
        "Any fields of EndpointInput, replacing the current ones (`null` clears optional ones; \
         nested objects such as `auth` and `batch` are replaced whole).",
        Change::RequireNothing,
        "patch",
        "/api/v1/endpoints/{id}",
    ),
    (
        "SourceInput",
        "SourcePatch",
        "Any fields of SourceInput, replacing the current ones (`verification` is replaced \
         whole).",
        Change::RequireNothing,
        "patch",
        "/api/v1/sources/{id}",
    ),
];

impl Modify for DerivedBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Ref, RefOr, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for (from, name, description, change, method, path) in DERIVED {
            let Some(RefOr::T(Schema::Object(input))) = components.schemas.get(from) else {
                panic!("derived body {name}: no object schema {from}");
            };
            let mut derived: Object = input.clone();
            match change {
                Change::Require(field) => derived.required.push(field.into()),
                Change::Drop(field) => {
                    derived.properties.shift_remove(field);
                    derived.required.retain(|r| r != field);
                }
                Change::RequireNothing => derived.required.clear(),
            }
            derived.description = Some(description.into());
            components
                .schemas
                .insert(name.into(), Schema::Object(derived).into());
            let item = openapi.paths.paths.get_mut(path);
            let op = item.and_then(|i| match method {
                "post" => i.post.as_mut(),
                "put" => i.put.as_mut(),
                _ => i.patch.as_mut(),
            });
            let body = op.and_then(|o| o.request_body.as_mut());
            let Some(json) = body.and_then(|b| b.content.get_mut("application/json")) else {
                panic!("derived body {name}: {method} {path} takes no JSON body");
            };
            json.schema = Some(Ref::from_schema_name(name).into());
        }
    }
}
