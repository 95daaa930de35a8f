//! Outbound TLS against real local TLS receivers whose certificates the test makes (rcgen):
//! a custom CA bundle per endpoint, mutual TLS with a client certificate, HTTPS only, and
//! the three refusals an operator must tell apart (an expired certificate, a name
//! mismatch, an unknown CA), each recorded with its own error class.

use crate::endpoints::event_type;
use crate::events::endpoint;
use crate::helpers::*;
use app::types::ApiKeyScope;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use reqwest::{Method, StatusCode};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

crate::on_both_backends!(
    tls_refusals_are_classified_and_a_ca_bundle_and_client_certificate_work,
    https_only_refuses_plain_urls_on_save_and_on_send,
);

/// A receiver's name, its certificate and key, the endpoint's TLS settings, and the error
/// class its first attempt must record (`None`: delivered).
type Case<'a> = (&'a str, (String, String), Value, Option<&'a str>);

struct Ca {
    cert: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = p.self_signed(&key).unwrap().pem();
    Ca {
        cert,
        issuer: Issuer::new(p, key),
    }
}

/// A certificate for `names` signed by `ca`, valid in `years` (or expired when `expired`),
/// with its key: (certificate PEM, key PEM).
fn leaf(ca: &Ca, names: &[&str], expired: bool, client: bool) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut p =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or("client"),
    );
    if expired {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    } else {
        p.not_before = rcgen::date_time_ymd(2025, 1, 1);
        p.not_after = rcgen::date_time_ymd(2035, 1, 1);
    }
    p.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    (
        p.signed_by(&key, &ca.issuer).unwrap().pem(),
        key.serialize_pem(),
    )
}

/// A TLS receiver on 127.0.0.1 presenting `cert`; with `client_ca`, it asks for a client
/// certificate signed by it (and refuses the handshake without one). Counts the requests
/// it answered.
struct TlsReceiver {
    url: String,
    answered: Arc<AtomicUsize>,
}

async fn tls_receiver((cert, key): (String, String), client_ca: Option<&str>) -> TlsReceiver {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let config = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                roots.add(c.unwrap()).unwrap();
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    }
    .with_single_cert(chain, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/hook", listener.local_addr().unwrap());
    let answered = Arc::new(AtomicUsize::new(0));
    let count = answered.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, count) = (acceptor.clone(), count.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return; // the handshake failed: the client refused us, or we it
                };
                let app = axum::Router::new().fallback(move || {
                    count.fetch_add(1, Ordering::SeqCst);
                    async { "ok" }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(
                    hyper_util::rt::TokioIo::new(tls),
                    hyper_util::service::TowerToHyperService::new(app),
                )
                .await;
            });
        }
    });
    TlsReceiver { url, answered }
}

async fn publish(app: &TestApp, key: &str, tenant: &str) -> String {
    let (s, b) = api(
        Method::POST,
        app.url("/api/v1/events"),
        Some(key),
        Some(json!({"event_type": "order.created", "data": {}, "tenant": tenant})),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

/// The error class and message of the first attempt of `event`'s delivery.
async fn first_attempt(app: &TestApp, key: &str, event: &str) -> (Option<String>, String) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, e) = api(
            Method::GET,
            app.url(&format!("/api/v1/events/{event}")),
            Some(key),
            None,
        )
        .await;
        let id = e["deliveries"][0]["id"].as_str().unwrap().to_owned();
        let (_, d) = api(
            Method::GET,
            app.url(&format!("/api/v1/deliveries/{id}")),
            Some(key),
            None,
        )
        .await;
        if let Some(a) = d["attempt_log"].as_array().and_then(|a| a.first()) {
            return (
                a["error_class"].as_str().map(str::to_owned),
                a["error"].as_str().unwrap_or("").to_owned(),
            );
        }
        assert!(std::time::Instant::now() < deadline, "no attempt: {d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn tls_refusals_are_classified_and_a_ca_bundle_and_client_certificate_work(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let server_ca = ca("Receiver CA");
    let other_ca = ca("Some other CA");
    let client_ca = ca("Client CA");
    let trusting = |tls: Value| json!({"ca_bundle": server_ca.cert, "client_certificate": tls["client_certificate"], "client_key": tls["client_key"]});

    // (receiver certificate, the endpoint's TLS settings, the error class expected)
    let good = leaf(&server_ca, &["127.0.0.1"], false, false);
    let cases: Vec<Case> = vec![
        (
            "expired",
            leaf(&server_ca, &["127.0.0.1"], true, false),
            trusting(json!({})),
            Some("tls_certificate_expired"),
        ),
        (
            "mismatch",
            leaf(&server_ca, &["receiver.example"], false, false),
            trusting(json!({})),
            Some("tls_name_mismatch"),
        ),
        (
            "unknown-ca",
            leaf(&other_ca, &["127.0.0.1"], false, false),
            trusting(json!({})),
            Some("tls_unknown_ca"),
        ),
        // No CA bundle: the system's roots do not know the test's CA either.
        (
            "system-roots",
            good.clone(),
            Value::Null,
            Some("tls_unknown_ca"),
        ),
        ("trusted", good.clone(), trusting(json!({})), None),
    ];
    for (tenant, cert, tls, class) in cases {
        let receiver = tls_receiver(cert, None).await;
        let mut body = json!({"name": tenant, "url": receiver.url, "tenant": tenant, "retry_schedule": ["1h"]});
        if !tls.is_null() {
            body["tls"] = tls;
        }
        endpoint(&app, &key, body).await;
        let event = publish(&app, &key, tenant).await;
        let (got, error) = first_attempt(&app, &key, &event).await;
        assert_eq!(got.as_deref(), class, "{tenant}: {error}");
        if class.is_some() {
            assert_eq!(
                receiver.answered.load(Ordering::SeqCst),
                0,
                "{tenant}: refused before any request"
            );
            assert!(
                error.contains("certificate") || error.contains("Certificate"),
                "{tenant}: the reason is kept: {error}"
            );
        } else {
            assert_eq!(
                receiver.answered.load(Ordering::SeqCst),
                1,
                "{tenant}: {error}"
            );
        }
    }

    // Mutual TLS: a receiver that asks for a client certificate signed by its CA.
    let (client_cert, client_key) = leaf(&client_ca, &["hookline"], false, true);
    let receiver = tls_receiver(
        leaf(&server_ca, &["127.0.0.1"], false, false),
        Some(&client_ca.cert),
    )
    .await;
    let without = endpoint(
        &app,
        &key,
        json!({"name": "no-cert", "url": receiver.url, "tenant": "mtls-none",
        "retry_schedule": ["1h"], "tls": {"ca_bundle": server_ca.cert}}),
    )
    .await;
    let event = publish(&app, &key, "mtls-none").await;
    let (got, error) = first_attempt(&app, &key, &event).await;
    assert_eq!(
        got.as_deref(),
        Some("tls"),
        "without a client certificate the receiver refuses: {error}"
    );
    let with = endpoint(&app, &key, json!({"name": "cert", "url": receiver.url, "tenant": "mtls",
        "tls": {"ca_bundle": server_ca.cert, "client_certificate": client_cert, "client_key": client_key}})).await;
    let event = publish(&app, &key, "mtls").await;
    let d = wait_for_delivery(&app, &key, &event, "succeeded", Duration::from_secs(10)).await;
    assert_eq!(d["attempts"], 1);
    assert_eq!(receiver.answered.load(Ordering::SeqCst), 1);
    // The key is a credential: masked in answers, kept by a PATCH that sends the mask back.
    let (_, shown) = api(
        Method::GET,
        app.url(&format!("/api/v1/endpoints/{with}")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(shown["tls"]["client_key"], "***", "{shown}");
    assert!(
        shown["tls"]["client_certificate"]
            .as_str()
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    assert!(!shown.to_string().contains("PRIVATE KEY"), "{shown}");
    let (s, b) = api(
        Method::PATCH,
        app.url(&format!("/api/v1/endpoints/{with}")),
        Some(&key),
        Some(json!({"description": "kept", "tls": shown["tls"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let event = publish(&app, &key, "mtls").await;
    wait_for_delivery(&app, &key, &event, "succeeded", Duration::from_secs(10)).await;
    assert_eq!(
        receiver.answered.load(Ordering::SeqCst),
        2,
        "the kept key still signs the handshake"
    );
    let _ = without;

    // Bad TLS settings are refused on their paths, and a key is never echoed.
    for (tls, path) in [
        (json!({"client_certificate": client_cert}), "tls.client_key"),
        (
            json!({"client_certificate": "not pem", "client_key": "not pem"}),
            "tls.client_certificate",
        ),
        (
            json!({"ca_bundle": "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"}),
            "tls.ca_bundle",
        ),
        (
            json!({"client_certificate": client_cert, "client_key": "x".repeat(70_000)}),
            "tls.client_key",
        ),
    ] {
        let (s, b) = api(
            Method::POST,
            app.url("/api/v1/endpoints"),
            Some(&key),
            Some(json!({"name": "bad", "url": "https://example.com/hook", "tls": tls})),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(error_paths(&b).contains(&path.to_string()), "{path}: {b}");
    }
    app.stop().await;
}

async fn https_only_refuses_plain_urls_on_save_and_on_send(backend: Backend) {
    let dir = std::sync::Arc::new(TempDir::new());
    let url = fresh_db_url(backend, &dir);
    // A plain endpoint saved first, then the server restarted with --https-only.
    let app = spawn_app_on(url.clone(), dir.clone(), Duration::from_secs(3600)).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let receiver = crate::receiver::Receiver::start().await;
    let (s, b) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(&key),
        Some(json!({"name": "locked", "url": receiver.url, "https_only": true})),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the endpoint's own https_only: {b}"
    );
    assert_eq!(error_paths(&b), ["url"]);
    endpoint(
        &app,
        &key,
        json!({"name": "plain", "url": receiver.url, "tenant": "plain", "retry_schedule": ["1h"]}),
    )
    .await;
    app.stop().await;

    let app = spawn_app_with(url, dir, |a| a.https_only = true).await;
    let (s, b) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(&key),
        Some(json!({"name": "new", "url": receiver.url})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b.to_string().contains("HTTPS only"), "{b}");
    let (s, b) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(&key),
        Some(
            json!({"name": "tok", "url": "https://example.com/hook", "auth": {"type": "oauth2",
            "token_url": "http://auth.example.com/token", "client_id": "c", "client_secret": "s"}}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(error_paths(&b), ["auth.token_url"]);
    // The endpoint saved before is not sent to: its attempt fails visibly.
    let event = publish(&app, &key, "plain").await;
    let (class, error) = first_attempt(&app, &key, &event).await;
    assert_eq!(class.as_deref(), Some("https_required"), "{error}");
    assert!(receiver.hits().is_empty(), "nothing went over http");
    app.stop().await;
}
