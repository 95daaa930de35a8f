use crate::helpers::*;
use reqwest::{Method, StatusCode};

crate::on_both_backends!(the_openapi_document_matches_the_router);

/// The document is generated from the handlers; this checks it against the live router:
/// every documented operation exists and refuses a caller without a key.
async fn the_openapi_document_matches_the_router(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, doc) = api(Method::GET, app.url("/api/v1/openapi.json"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, _) in item.as_object().unwrap() {
            let url = app.url(
                &path
                    .replace("{id}", "x")
                    .replace("{name}", "x")
                    .replace("{request}", "x"),
            );
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, body) = api(method.clone(), url, None, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
            operations += 1;
        }
    }
    assert_eq!(operations, 50, "every REST operation is documented");
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "EndpointInput",
        "PublishEvent",
        "EventTypeInput",
        "ApiError",
        "EndpointAuth",
        "SourceInput",
        "Verification",
        "InboundRequestView",
        "InboundPreview",
        "SourceSecret",
        "NewPortalLink",
        "CreatedPortalLink",
        "PortalCapability",
        "NewAlertRule",
        "AlertRuleView",
        "AlertKind",
        "PresetView",
        "Diagnosis",
        "EndpointCheck",
    ] {
        assert!(schemas.contains_key(s), "{s}");
    }
    let input = serde_json::to_string(&schemas["EndpointInput"]).unwrap();
    for field in [
        "rate_limit_per_minute",
        "max_concurrency",
        "retry_schedule",
        "event_types",
        "tenant",
    ] {
        assert!(input.contains(field), "{field} in EndpointInput");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    app.stop().await;
}
