//! The inbound phase: a Standard Webhooks source, and partners' requests posted to it,
//! each signed (HMAC-SHA256 over `{id}.{timestamp}.{body}`) with its own `webhook-id`.
//! Measured: signed requests per second verified, published and logged (each answered
//! 202 only after its event and log entry are committed), their deliveries end to end,
//! and refusals (a wrong signature, still logged) per second.

use super::{Bench, closed_loop, now_us};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn signed(id: &str, ts: i64, body: &[u8], key: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Posts `total` signed requests (`forged`: with a wrong signature) with `concurrency`
/// workers; every answer must be 202 (401 when forged).
async fn post_all(
    b: &Arc<Bench>,
    url: &str,
    total: usize,
    concurrency: usize,
    forged: bool,
) -> anyhow::Result<Duration> {
    let key = Arc::new(STANDARD.decode(&SECRET["whsec_".len()..])?);
    let (b, url) = (b.clone(), url.to_owned());
    let expect = if forged { 401 } else { 202 };
    closed_loop(total, concurrency, move |i| {
        let (b, url, key) = (b.clone(), url.clone(), key.clone());
        async move {
            let body = serde_json::to_vec(&serde_json::json!({"n": i, "sent_us": now_us()}))?;
            let id = format!("msg_bench_{forged}_{i}");
            let ts = (now_us() / 1_000_000) as i64;
            let mut sig = signed(&id, ts, &body, &key);
            if forged {
                sig = signed(&id, ts + 1, &body, &key);
            }
            let r = b
                .client
                .post(&url)
                .header("content-type", "application/json")
                .header("webhook-id", id)
                .header("webhook-timestamp", ts.to_string())
                .header("webhook-signature", sig)
                .body(body)
                .send()
                .await?;
            anyhow::ensure!(
                r.status().as_u16() == expect,
                "inbound: {} {}",
                r.status(),
                r.text().await.unwrap_or_default()
            );
            Ok(())
        }
    })
    .await
}

pub(super) async fn phase(
    b: &Arc<Bench>,
    n: usize,
    concurrency: usize,
    out: &mut super::report::Run,
) -> anyhow::Result<()> {
    let r = b
        .client
        .post(format!("{}/api/v1/sources", b.base))
        .bearer_auth(&b.key)
        .json(
            &serde_json::json!({"name": "bench partner", "event_type": "bench.event",
            "verification": {"type": "standard_webhooks", "secret": SECRET}}),
        )
        .send()
        .await?;
    anyhow::ensure!(
        r.status().as_u16() == 201,
        "creating the source: {}",
        r.status()
    );
    let source: serde_json::Value = r.json().await?;
    let url = format!("{}{}", b.base, source["url"].as_str().unwrap_or_default());
    b.reset();
    let start_us = now_us();
    let accepted = post_all(b, &url, n, concurrency, false).await?;
    let all = b.wait_received(n, Duration::from_secs(600)).await;
    let e2e = b.sink.since(start_us);
    b.reset();
    let refused_n = (n / 4).max(1);
    let refused = post_all(b, &url, refused_n, concurrency, true).await?;
    out.rate(
        "inbound, signed requests verified and stored",
        n as f64 / accepted.as_secs_f64(),
        "req/s",
    );
    out.rate(
        "  their deliveries end to end",
        n as f64 / e2e.as_secs_f64().max(1e-9),
        "/s",
    );
    if !all {
        out.notes
            .push("not every inbound event was delivered within the time limit".into());
    }
    out.rate(
        "inbound, forged signatures refused and logged",
        refused_n as f64 / refused.as_secs_f64(),
        "req/s",
    );
    Ok(())
}
