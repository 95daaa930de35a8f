//! The OpenAPI 3.1 document of the REST API, generated from the handlers' annotations and
//! the wire types' derives: `GET /api/v1/openapi.json`.

use super::{api_keys, audit, deliveries, endpoints, event_types, events, sources, tools};
use app::types::FieldError;
use axum::Json;
use axum::routing::get;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::api_error::ApiError;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description =
            Some("An API key from `hookline api-key create` or the dashboard (`hlk_…`)".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The error answers every operation may give, added where the operation does not state
/// them itself (its own entries, with their specific descriptions, win): so that the
/// document lists every status the server sends, and each with the one error body.
struct ErrorAnswers;

impl Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let answer = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ApiError")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let params = op.parameters.as_deref().unwrap_or_default();
                let in_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
                let in_query_or_header = params
                    .iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query | ParameterIn::Header));
                let has_body = op.request_body.is_some();
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let mut add = vec![(
                    "400",
                    "Malformed request: JSON that does not parse, or a path that does not decode",
                )];
                if secured {
                    add.push(("401", "Missing or invalid API key"));
                    add.push(("403", "The key's scope or role does not allow this"));
                }
                if in_path {
                    add.push(("404", "Not found (or an id that is not of its kind)"));
                }
                if has_body {
                    add.push(("413", "The request body is over the configured limit"));
                    add.push(("415", "The body is not sent as application/json"));
                }
                if has_body || in_query_or_header {
                    add.push((
                        "422",
                        "Invalid input; `errors` lists each problem with its path or parameter",
                    ));
                }
                add.push((
                    "503",
                    "The database is busy or unreachable, or the request ran past its time \
                     limit; nothing was changed, retry after `Retry-After` seconds",
                ));
                for (status, description) in add {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| answer(description).into());
                }
            }
        }
    }
}

/// `EventTypeInput` serves two operations that read it differently: creating needs a
/// `name`; replacing takes the name from the path (a body `name` must repeat it), so the
/// document gives each its own body: `NewEventType` (name required) and `EventTypeChange`
/// (no name).
struct EventTypeBodies;

impl Modify for EventTypeBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Ref, RefOr, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let Some(RefOr::T(Schema::Object(input))) = components.schemas.get("EventTypeInput") else {
            return;
        };
        let mut create = input.clone();
        create.required.push("name".into());
        create.description = Some("A new event type (`POST /api/v1/event-types`).".into());
        let mut change = input.clone();
        change.properties.shift_remove("name");
        change.description = Some("An event type's new settings; the name is the path's.".into());
        components
            .schemas
            .insert("NewEventType".into(), Schema::Object(create).into());
        components
            .schemas
            .insert("EventTypeChange".into(), Schema::Object(change).into());
        let point = |op: Option<&mut utoipa::openapi::path::Operation>, to: &str| {
            let body = op.and_then(|o| o.request_body.as_mut());
            if let Some(json) = body.and_then(|b| b.content.get_mut("application/json")) {
                json.schema = Some(Ref::from_schema_name(to).into());
            }
        };
        if let Some(item) = openapi.paths.paths.get_mut("/api/v1/event-types") {
            point(item.post.as_mut(), "NewEventType");
        }
        if let Some(item) = openapi.paths.paths.get_mut("/api/v1/event-types/{name}") {
            point(item.put.as_mut(), "EventTypeChange");
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hookline",
        description = "Publish events, manage event types, endpoints and API keys. JSON in and out; \
                       errors are `{code, message, errors: [{path, message}]}`.",
        license(name = "Apache-2.0")
    ),
    paths(
        api_keys::create, api_keys::list, api_keys::revoke,
        event_types::create, event_types::list, event_types::read, event_types::replace, event_types::remove,
        endpoints::create, endpoints::list, endpoints::read, endpoints::update, endpoints::remove,
        endpoints::secret, endpoints::rotate, endpoints::test_fire,
        events::publish, events::publish_batch, events::list, events::read,
        deliveries::list, deliveries::read, deliveries::retry, deliveries::replay, deliveries::replay_progress,
        tools::test_filter, tools::preview_template,
        sources::create, sources::list, sources::read, sources::update, sources::remove, sources::requests,
        sources::request, sources::replay, sources::sample, sources::preview, sources::secret,
        sources::rotate, sources::retire,
        audit::list,
    ),
    components(schemas(ApiError, FieldError)),
    modifiers(&BearerAuth, &ErrorAnswers, &EventTypeBodies),
    tags(
        (name = "events", description = "Publishing and reading events"),
        (name = "event-types", description = "The event catalogue"),
        (name = "endpoints", description = "Where events are delivered"),
        (name = "deliveries", description = "The delivery log, retries and replays"),
        (name = "api-keys", description = "Keys for this API (admin)"),
        (name = "tools", description = "Try filters and templates"),
        (name = "sources", description = "Inbound webhooks: where partners post, and what came in"),
        (name = "audit", description = "Who changed what (admin)"),
    )
)]
pub struct ApiDoc;

pub fn router<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    let doc = ApiDoc::openapi();
    axum::Router::new().route(
        "/openapi.json",
        get(move || std::future::ready(Json(doc.clone()))),
    )
}
