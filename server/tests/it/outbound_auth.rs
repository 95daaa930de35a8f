//! JWT auth to receivers: a token signed per request with HS256, RS256 or ES256 and the
//! configured claims, verified at a real receiver with `jsonwebtoken` (crates.io) against
//! the public key; the key is masked in every answer and log; bad settings are refused on
//! their path.

use crate::endpoints::event_type;
use crate::events::endpoint;
use crate::helpers::*;
use crate::receiver::Receiver;
use app::types::ApiKeyScope;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

crate::on_both_backends!(
    jwts_are_signed_per_request_and_verify,
    bad_jwt_settings_are_refused_on_their_path
);

const RSA_PRIVATE: &str = include_str!("fixtures/jwt_rsa_private.pem");
const RSA_PUBLIC: &str = include_str!("fixtures/jwt_rsa_public.pem");
const SECRET: &str = "a shared secret of thirty-two bytes or more";

fn bearer(hit: &crate::receiver::Hit) -> String {
    hit.headers["authorization"]
        .to_str()
        .unwrap()
        .strip_prefix("Bearer ")
        .expect("a bearer token")
        .to_owned()
}

async fn jwts_are_signed_per_request_and_verify(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let ec = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cases = [
        (
            "HS256",
            SECRET.to_owned(),
            DecodingKey::from_secret(SECRET.as_bytes()),
            Algorithm::HS256,
        ),
        (
            "RS256",
            RSA_PRIVATE.to_owned(),
            DecodingKey::from_rsa_pem(RSA_PUBLIC.as_bytes()).unwrap(),
            Algorithm::RS256,
        ),
        (
            "ES256",
            ec.serialize_pem(),
            DecodingKey::from_ec_pem(ec.public_key_pem().as_bytes()).unwrap(),
            Algorithm::ES256,
        ),
    ];
    for (alg, private, public, algorithm) in cases {
        let receiver = Receiver::start().await;
        let id = endpoint(&app, &key, json!({
            "name": alg, "url": receiver.url, "tenant": alg.to_lowercase(),
            "auth": {"type": "jwt", "algorithm": alg, "key": private, "ttl_seconds": 120, "key_id": "k-2026",
                     "claims": {"iss": "hookline", "aud": "orders-service", "scope": ["orders:write"]}},
        })).await;
        // Never shown again: the key is masked in the answer.
        let (_, shown) = api(
            Method::GET,
            app.url(&format!("/api/v1/endpoints/{id}")),
            Some(&key),
            None,
        )
        .await;
        assert_eq!(shown["auth"]["key"], "***", "{shown}");
        assert_eq!(shown["auth"]["claims"]["aud"], "orders-service");
        let mut events = Vec::new();
        for n in 0..2 {
            let (s, b) = api(Method::POST, app.url("/api/v1/events"), Some(&key),
                Some(json!({"event_type": "order.created", "data": {"n": n}, "tenant": alg.to_lowercase()}))).await;
            assert_eq!(s, StatusCode::ACCEPTED, "{b}");
            events.push(b["id"].as_str().unwrap().to_owned());
        }
        let hits = receiver.wait_for(2, Duration::from_secs(10)).await;
        let mut validation = Validation::new(algorithm);
        validation.set_audience(&["orders-service"]);
        validation.set_issuer(&["hookline"]);
        let mut jtis = Vec::new();
        for hit in &hits {
            let data = jsonwebtoken::decode::<Value>(&bearer(hit), &public, &validation)
                .unwrap_or_else(|e| panic!("{alg}: the receiver verifies the token: {e}"));
            assert_eq!(data.header.alg, algorithm);
            assert_eq!(data.header.kid.as_deref(), Some("k-2026"));
            let c = &data.claims;
            assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 120);
            let sent_at: i64 = hit.headers["webhook-timestamp"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(
                c["iat"].as_i64().unwrap(),
                sent_at,
                "issued when the request was signed"
            );
            assert_eq!(c["scope"], json!(["orders:write"]));
            jtis.push(c["jti"].as_str().unwrap().to_owned());
        }
        assert_ne!(jtis[0], jtis[1], "{alg}: a new token for every request");
        if alg == "HS256" {
            let other = DecodingKey::from_secret(b"another secret of thirty-two bytes, at least");
            assert!(
                jsonwebtoken::decode::<Value>(&bearer(&hits[0]), &other, &validation).is_err(),
                "another key does not verify it"
            );
        }
        // The attempt log shows the header masked.
        let d =
            wait_for_delivery(&app, &key, &events[0], "succeeded", Duration::from_secs(10)).await;
        let (_, detail) = api(
            Method::GET,
            app.url(&format!("/api/v1/deliveries/{}", d["id"].as_str().unwrap())),
            Some(&key),
            None,
        )
        .await;
        let headers = &detail["attempt_log"][0]["request_headers"];
        assert!(
            headers
                .as_array()
                .unwrap()
                .contains(&json!(["authorization", "***"])),
            "{headers}"
        );
        for hit in &hits {
            assert!(!detail.to_string().contains(&bearer(hit)), "{detail}");
        }
    }
    app.stop().await;
}

async fn bad_jwt_settings_are_refused_on_their_path(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    let ec = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cases = [
        (
            json!({"algorithm": "HS256", "key": "too short"}),
            "auth.key",
        ),
        (
            json!({"algorithm": "RS256", "key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}),
            "auth.key",
        ),
        // An EC key for RS256, an RSA key for ES256: the kind must match the algorithm.
        (
            json!({"algorithm": "RS256", "key": ec.serialize_pem()}),
            "auth.key",
        ),
        (
            json!({"algorithm": "ES256", "key": RSA_PRIVATE}),
            "auth.key",
        ),
        (
            json!({"algorithm": "HS256", "key": SECRET, "claims": {"exp": 1}}),
            "auth.claims.exp",
        ),
        (
            json!({"algorithm": "HS256", "key": SECRET, "ttl_seconds": 86400}),
            "auth.ttl_seconds",
        ),
        (
            json!({"algorithm": "HS256", "key": SECRET, "claims": {"big": "x".repeat(5000)}}),
            "auth.claims",
        ),
        (
            json!({"algorithm": "HS256", "key": "x".repeat(20_000)}),
            "auth.key",
        ),
        (json!({"algorithm": "PS512", "key": SECRET}), "auth"),
    ];
    for (auth, path) in cases {
        let mut auth = auth;
        auth["type"] = json!("jwt");
        let (status, body) = api(
            Method::POST,
            app.url("/api/v1/endpoints"),
            Some(&key),
            Some(json!({"name": "bad", "url": "https://example.com/hook", "auth": auth})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{auth}: {body}");
        let paths = error_paths(&body);
        assert!(
            paths.iter().any(|p| p.starts_with(path)),
            "{auth}: {path} in {paths:?}"
        );
        assert!(
            !body.to_string().contains("BEGIN PRIVATE KEY"),
            "a key is never echoed: {body}"
        );
    }
    app.stop().await;
}
