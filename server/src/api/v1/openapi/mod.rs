//! The OpenAPI 3.1 document of the REST API, generated from the handlers' annotations and
//! the wire types' derives: `GET /api/v1/openapi.json`.

use super::{
    alerts, api_keys, audit, deliveries, endpoints, event_types, events, portal_links, sources,
    tools,
};
use app::types::FieldError;
use axum::Json;
use axum::routing::get;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::api_error::ApiError;

mod answers;
mod bodies;
pub mod requests;
mod rules;

use answers::ErrorAnswers;
use bodies::DerivedBodies;

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
        endpoints::secret, endpoints::rotate, endpoints::test_fire, endpoints::diagnosis, endpoints::check,
        events::publish, events::publish_batch, events::list, events::read,
        deliveries::list, deliveries::read, deliveries::retry, deliveries::replay, deliveries::replay_progress,
        tools::test_filter, tools::preview_template,
        sources::create, sources::list, sources::read, sources::update, sources::remove, sources::requests,
        sources::request, sources::replay, sources::sample, sources::preview, sources::secret,
        sources::rotate, sources::retire,
        audit::list,
        portal_links::create, portal_links::list, portal_links::revoke,
        alerts::create, alerts::list, alerts::remove, alerts::presets,
    ),
    components(schemas(ApiError, FieldError)),
    modifiers(&BearerAuth, &ErrorAnswers, &DerivedBodies),
    tags(
        (name = "events", description = "Publishing and reading events"),
        (name = "event-types", description = "The event catalogue"),
        (name = "endpoints", description = "Where events are delivered"),
        (name = "deliveries", description = "The delivery log, retries and replays"),
        (name = "api-keys", description = "Keys for this API (admin)"),
        (name = "tools", description = "Try filters and templates"),
        (name = "sources", description = "Inbound webhooks: where partners post, and what came in"),
        (name = "audit", description = "Who changed what (admin)"),
        (name = "portal-links", description = "Signed, expiring links into the tenant portal (admin)"),
        (name = "alerts", description = "Alert rules, and the integration presets that deliver them"),
    )
)]
pub struct ApiDoc;

/// The document as served (and enforced, see [`requests`]), built once: what the derives
/// and modifiers give, with the [`rules`] they cannot state.
pub fn document() -> &'static serde_json::Value {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc =
            serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes");
        rules::apply(&mut doc);
        rules::flatten_views(&mut doc);
        rules::tuples_as_arrays(&mut doc);
        doc
    })
}

pub fn router<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    axum::Router::new().route(
        "/openapi.json",
        get(|| std::future::ready(Json(document()))),
    )
}
