//! Verifying an inbound request, one function per scheme. Each sees the raw bytes as
//! received, compares in constant time (`Mac::verify_slice`, `subtle`), checks signed
//! timestamps against a tolerance, accepts the previous secret during a rotation, and
//! fails closed: a missing header, an unreadable signature or an unknown prefix is a
//! refusal with its reason, never a pass.

use crate::types::sources::{HmacAlgorithm, SignatureEncoding, Verification};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

/// A request as received: header names in lower case, the raw query and body.
pub struct Inbound<'a> {
    pub headers: &'a [(String, String)],
    pub query: &'a str,
    pub body: &'a [u8],
    /// Unix seconds, now.
    pub now: i64,
}

impl Inbound<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    fn query_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// Why a request was refused: always 401 (not who it claims to be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

pub(super) type Verdict = Result<(), Refusal>;

pub(super) fn refuse(why: impl Into<String>) -> Verdict {
    Err(Refusal(why.into()))
}

/// Checks `r` against the source's scheme.
pub fn verify(v: &Verification, r: &Inbound) -> Verdict {
    match v {
        Verification::StandardWebhooks {
            secret,
            previous_secret,
            tolerance_secs,
        } => standard_webhooks(secrets(secret, previous_secret), *tolerance_secs, r),
        Verification::Stripe {
            secret,
            previous_secret,
            tolerance_secs,
        } => stripe(secrets(secret, previous_secret), *tolerance_secs, r),
        Verification::Github {
            secret,
            previous_secret,
        } => {
            let sig = required(r, "x-hub-signature-256")?;
            let hex = sig
                .strip_prefix("sha256=")
                .ok_or_else(|| Refusal("X-Hub-Signature-256 does not start with sha256=".into()))?;
            let mac =
                decode_hex(hex).ok_or_else(|| Refusal("X-Hub-Signature-256 is not hex".into()))?;
            any_secret(secrets(secret, previous_secret), |s| {
                hmac_ok(HmacAlgorithm::Sha256, s.as_bytes(), &[r.body], &mac)
            })
        }
        Verification::Shopify {
            secret,
            previous_secret,
        } => {
            let sig = required(r, "x-shopify-hmac-sha256")?;
            let mac = STANDARD
                .decode(sig.trim())
                .map_err(|_| Refusal("X-Shopify-Hmac-Sha256 is not base64".into()))?;
            any_secret(secrets(secret, previous_secret), |s| {
                hmac_ok(HmacAlgorithm::Sha256, s.as_bytes(), &[r.body], &mac)
            })
        }
        Verification::Slack {
            signing_secret,
            previous_secret,
            tolerance_secs,
        } => {
            let ts = required(r, "x-slack-request-timestamp")?;
            fresh(ts, *tolerance_secs, r.now)?;
            let sig = required(r, "x-slack-signature")?;
            let hex = sig
                .strip_prefix("v0=")
                .ok_or_else(|| Refusal("X-Slack-Signature does not start with v0=".into()))?;
            let mac =
                decode_hex(hex).ok_or_else(|| Refusal("X-Slack-Signature is not hex".into()))?;
            let prefix = format!("v0:{ts}:");
            any_secret(secrets(signing_secret, previous_secret), |s| {
                hmac_ok(
                    HmacAlgorithm::Sha256,
                    s.as_bytes(),
                    &[prefix.as_bytes(), r.body],
                    &mac,
                )
            })
        }
        Verification::Hmac {
            secret,
            previous_secret,
            header,
            algorithm,
            encoding,
            prefix,
            signed,
            timestamp_header,
            tolerance_secs,
        } => {
            let sig = required(r, header)?;
            let sig = sig
                .trim()
                .strip_prefix(prefix.as_str())
                .ok_or_else(|| Refusal(format!("{header} does not start with {prefix:?}")))?;
            let mac = match encoding {
                SignatureEncoding::Hex => decode_hex(sig),
                SignatureEncoding::Base64 => STANDARD.decode(sig).ok(),
            }
            .ok_or_else(|| Refusal(format!("{header} is not {encoding:?}").to_lowercase()))?;
            let timestamp = match timestamp_header {
                Some(h) => {
                    let ts = required(r, h)?;
                    fresh(ts, *tolerance_secs, r.now)?;
                    ts.to_owned()
                }
                None => String::new(),
            };
            // `{body}` stands for the raw bytes; the rest of the template is text.
            let with_ts = signed.replace("{timestamp}", &timestamp);
            let (before, after) = with_ts
                .split_once("{body}")
                .unwrap_or((with_ts.as_str(), ""));
            let parts: [&[u8]; 3] = [before.as_bytes(), r.body, after.as_bytes()];
            any_secret(secrets(secret, previous_secret), |s| {
                hmac_ok(*algorithm, s.as_bytes(), &parts, &mac)
            })
        }
        Verification::Jwt {
            algorithm,
            key,
            previous_key,
            audience,
            issuer,
            leeway_secs,
        } => {
            let auth = required(r, "authorization")?;
            let token = auth
                .strip_prefix("Bearer ")
                .or_else(|| auth.strip_prefix("bearer "))
                .ok_or_else(|| Refusal("Authorization is not Bearer".into()))?;
            let check = super::jwt::JwtCheck {
                algorithm: *algorithm,
                audience: audience.as_deref(),
                issuer: issuer.as_deref(),
                leeway: *leeway_secs,
            };
            check
                .verify(token.trim(), secrets(key, previous_key))
                .map_err(Refusal)
        }
        Verification::Basic {
            username,
            password,
            previous_password,
        } => {
            let auth = required(r, "authorization")?;
            let encoded = auth
                .strip_prefix("Basic ")
                .or_else(|| auth.strip_prefix("basic "))
                .ok_or_else(|| Refusal("Authorization is not Basic".into()))?;
            let decoded = STANDARD
                .decode(encoded.trim())
                .map_err(|_| Refusal("Authorization is not base64".into()))?;
            let given = String::from_utf8_lossy(&decoded);
            let (user, pass) = given
                .split_once(':')
                .ok_or_else(|| Refusal("Authorization has no user:password".into()))?;
            let user_ok = bool::from(user.as_bytes().ct_eq(username.as_bytes()));
            let pass_ok = secrets(password, previous_password)
                .iter()
                .fold(false, |ok, p| {
                    ok | bool::from(pass.as_bytes().ct_eq(p.as_bytes()))
                });
            if user_ok & pass_ok {
                Ok(())
            } else {
                refuse("wrong user name or password")
            }
        }
        Verification::ApiKey {
            header,
            query,
            key,
            previous_key,
        } => {
            let given = header
                .as_deref()
                .and_then(|h| r.header(h).map(str::to_owned))
                .or_else(|| query.as_deref().and_then(|q| r.query_param(q)))
                .ok_or_else(|| {
                    Refusal(match (header, query) {
                        (Some(h), Some(q)) => format!("no API key in header {h} or parameter {q}"),
                        (Some(h), None) => format!("missing header {h}"),
                        (None, Some(q)) => format!("missing query parameter {q}"),
                        (None, None) => "no API key expected anywhere".into(),
                    })
                })?;
            let ok = secrets(key, previous_key).iter().fold(false, |ok, k| {
                ok | bool::from(given.as_bytes().ct_eq(k.as_bytes()))
            });
            if ok { Ok(()) } else { refuse("wrong API key") }
        }
        Verification::None => Ok(()),
    }
}

fn secrets<'a>(current: &'a str, previous: &'a Option<String>) -> Vec<&'a str> {
    std::iter::once(current)
        .chain(previous.as_deref())
        .filter(|s| !s.is_empty())
        .collect()
}

fn required<'a>(r: &'a Inbound, name: &str) -> Result<&'a str, Refusal> {
    r.header(name)
        .ok_or_else(|| Refusal(format!("missing header {name}")))
}

/// Signed timestamps must be within `tolerance` seconds of now, either way.
fn fresh(ts: &str, tolerance: u64, now: i64) -> Verdict {
    let t: i64 = ts
        .trim()
        .parse()
        .map_err(|_| Refusal(format!("timestamp {ts:?} is not Unix seconds")))?;
    let age = now - t;
    if age.unsigned_abs() <= tolerance {
        return Ok(());
    }
    let (n, unit) = if age.unsigned_abs() >= 120 {
        (age.unsigned_abs() / 60, "min")
    } else {
        (age.unsigned_abs(), "s")
    };
    refuse(if age > 0 {
        format!("timestamp {n} {unit} old (tolerance {tolerance} s)")
    } else {
        format!("timestamp {n} {unit} in the future (tolerance {tolerance} s)")
    })
}

/// True when any of `secrets` makes `ok` true; a refusal naming the mismatch otherwise.
fn any_secret(secrets: Vec<&str>, ok: impl Fn(&str) -> bool) -> Verdict {
    // Every secret is tried, so the time taken does not say which one matched.
    let matched = secrets.iter().fold(false, |m, s| m | ok(s));
    if matched {
        Ok(())
    } else {
        refuse("signature mismatch")
    }
}

/// HMAC of `parts` (concatenated) under `key`: the one primitive verifying and signing
/// samples share.
pub(super) fn mac(alg: HmacAlgorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    macro_rules! sign {
        ($d:ty) => {{
            let mut m = <Hmac<$d> as Mac>::new_from_slice(key).expect("HMAC takes any key");
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().to_vec()
        }};
    }
    match alg {
        HmacAlgorithm::Sha256 => sign!(Sha256),
        HmacAlgorithm::Sha512 => sign!(Sha512),
    }
}

/// Whether `expected` is the HMAC of `parts`, compared in constant time.
fn hmac_ok(alg: HmacAlgorithm, key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    bool::from(mac(alg, key, parts).as_slice().ct_eq(expected))
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Standard Webhooks: `{id}.{timestamp}.{body}` signed with the base64 key after `whsec_`;
/// the header holds space-separated `v1,<base64>` signatures, any of which may match.
fn standard_webhooks(secrets: Vec<&str>, tolerance: u64, r: &Inbound) -> Verdict {
    let id = required(r, "webhook-id")?;
    let ts = required(r, "webhook-timestamp")?;
    fresh(ts, tolerance, r.now)?;
    let header = required(r, "webhook-signature")?;
    let given: Vec<Vec<u8>> = header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b| STANDARD.decode(b).ok())
        .collect();
    if given.is_empty() {
        return refuse("webhook-signature holds no v1 signature");
    }
    let mut keys = Vec::new();
    for s in secrets {
        let raw = s.strip_prefix("whsec_").unwrap_or(s);
        match STANDARD.decode(raw) {
            Ok(k) => keys.push(k),
            Err(_) => return refuse("the source's secret is not whsec_<base64>"),
        }
    }
    let prefix = format!("{id}.{ts}.");
    let matched = keys.iter().fold(false, |m, k| {
        m | given.iter().fold(false, |m, sig| {
            m | hmac_ok(HmacAlgorithm::Sha256, k, &[prefix.as_bytes(), r.body], sig)
        })
    });
    if matched {
        Ok(())
    } else {
        refuse("signature mismatch")
    }
}

/// Stripe: `Stripe-Signature: t=<ts>,v1=<hex>[,v1=<hex>…]` over `{t}.{body}`, keyed by the
/// whole `whsec_…` secret as text.
fn stripe(secrets: Vec<&str>, tolerance: u64, r: &Inbound) -> Verdict {
    let header = required(r, "stripe-signature")?;
    let mut ts = None;
    let mut given = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => ts = Some(v),
            Some(("v1", v)) => given.extend(decode_hex(v)),
            _ => {}
        }
    }
    let ts = ts.ok_or_else(|| Refusal("Stripe-Signature has no t=".into()))?;
    fresh(ts, tolerance, r.now)?;
    if given.is_empty() {
        return refuse("Stripe-Signature has no v1 signature");
    }
    let prefix = format!("{ts}.");
    any_secret(secrets, |s| {
        given.iter().fold(false, |m, sig| {
            m | hmac_ok(
                HmacAlgorithm::Sha256,
                s.as_bytes(),
                &[prefix.as_bytes(), r.body],
                sig,
            )
        })
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::backend::sources) fn req<'a>(
        headers: &'a [(String, String)],
        body: &'a [u8],
        now: i64,
    ) -> Inbound<'a> {
        Inbound {
            headers,
            query: "",
            body,
            now,
        }
    }

    pub(in crate::backend::sources) fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect()
    }

    /// GitHub's own example (docs: "Validating webhook deliveries").
    #[test]
    fn github_matches_its_documented_example() {
        let v = Verification::Github {
            secret: "It's a Secret to Everybody".into(),
            previous_secret: None,
        };
        let headers = h(&[(
            "X-Hub-Signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        )]);
        assert_eq!(verify(&v, &req(&headers, b"Hello, World!", 0)), Ok(()));
        assert_eq!(
            verify(&v, &req(&headers, b"Hello, World?", 0)),
            Err(Refusal("signature mismatch".into()))
        );
        assert!(verify(&v, &req(&[], b"Hello, World!", 0)).is_err());
    }

    /// Slack's own example from "Verifying requests from Slack" (a slash command).
    #[test]
    fn slack_matches_its_documented_example() {
        let v = Verification::Slack {
            signing_secret: "8f742231b10e8888abcd99yyyzzz85a5".into(),
            previous_secret: None,
            tolerance_secs: 300,
        };
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let headers = h(&[
            ("X-Slack-Request-Timestamp", "1531420618"),
            (
                "X-Slack-Signature",
                "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            ),
        ]);
        let at = 1_531_420_618 + 30;
        assert_eq!(verify(&v, &req(&headers, body, at)), Ok(()));
        let mut changed = body.to_vec();
        changed[6] = b'X';
        assert_eq!(
            verify(&v, &req(&headers, &changed, at)),
            Err(Refusal("signature mismatch".into()))
        );
        assert_eq!(
            verify(&v, &req(&headers, body, at + 600)),
            Err(Refusal("timestamp 10 min old (tolerance 300 s)".into()))
        );
        assert_eq!(
            verify(&v, &req(&headers[..1], body, at)),
            Err(Refusal("missing header x-slack-signature".into()))
        );
    }

    /// Shopify's algorithm (HMAC-SHA256 of the raw body, base64), the expected value made
    /// with Python's `hmac` module rather than with this code.
    #[test]
    fn shopify_checks_the_base64_hmac_of_the_raw_body() {
        let v = Verification::Shopify {
            secret: "hush".into(),
            previous_secret: None,
        };
        let body = br#"{"id":820982911946154508,"email":"jon@example.com"}"#;
        let headers = h(&[(
            "X-Shopify-Hmac-Sha256",
            "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8=",
        )]);
        assert_eq!(verify(&v, &req(&headers, body, 0)), Ok(()));
        assert_eq!(
            verify(
                &v,
                &req(
                    &headers,
                    br#"{"id":820982911946154509,"email":"jon@example.com"}"#,
                    0
                )
            ),
            Err(Refusal("signature mismatch".into()))
        );
        let wrong = Verification::Shopify {
            secret: "hash".into(),
            previous_secret: None,
        };
        assert!(verify(&wrong, &req(&headers, body, 0)).is_err());
        let garbled = h(&[("X-Shopify-Hmac-Sha256", "not base64!")]);
        assert_eq!(
            verify(&v, &req(&garbled, body, 0)),
            Err(Refusal("X-Shopify-Hmac-Sha256 is not base64".into()))
        );
    }

    #[test]
    fn timestamps_outside_the_tolerance_are_refused_with_their_age() {
        assert_eq!(fresh("1000", 300, 1300), Ok(()));
        assert_eq!(
            fresh("1000", 300, 1420),
            Err(Refusal("timestamp 7 min old (tolerance 300 s)".into()))
        );
        assert!(fresh("2000", 300, 1000).unwrap_err().0.contains("future"));
        assert!(fresh("soon", 300, 1000).is_err());
    }

    #[test]
    fn rotation_accepts_both_secrets_and_basic_auth_checks_both_parts() {
        let sign = |key: &str| {
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).unwrap();
            m.update(b"{}");
            STANDARD.encode(m.finalize().into_bytes())
        };
        let v = Verification::Shopify {
            secret: "new".into(),
            previous_secret: Some("old".into()),
        };
        for key in ["new", "old"] {
            let headers = h(&[("X-Shopify-Hmac-Sha256", &sign(key))]);
            assert_eq!(verify(&v, &req(&headers, b"{}", 0)), Ok(()), "{key}");
        }
        let headers = h(&[("X-Shopify-Hmac-Sha256", &sign("other"))]);
        assert!(verify(&v, &req(&headers, b"{}", 0)).is_err());

        let basic = Verification::Basic {
            username: "partner".into(),
            password: "pw".into(),
            previous_password: None,
        };
        let auth = |u: &str, p: &str| {
            h(&[(
                "Authorization",
                &format!("Basic {}", STANDARD.encode(format!("{u}:{p}"))),
            )])
        };
        assert_eq!(verify(&basic, &req(&auth("partner", "pw"), b"", 0)), Ok(()));
        assert!(verify(&basic, &req(&auth("partner", "px"), b"", 0)).is_err());
        assert!(verify(&basic, &req(&auth("other", "pw"), b"", 0)).is_err());
    }

    #[test]
    fn generic_hmac_signs_a_template_with_the_timestamp() {
        let v = Verification::Hmac {
            secret: "s3cret".into(),
            previous_secret: None,
            header: "X-Signature".into(),
            algorithm: HmacAlgorithm::Sha512,
            encoding: SignatureEncoding::Hex,
            prefix: "sha512=".into(),
            signed: "{timestamp}.{body}".into(),
            timestamp_header: Some("X-Timestamp".into()),
            tolerance_secs: 300,
        };
        let mut m = <Hmac<Sha512> as Mac>::new_from_slice(b"s3cret").unwrap();
        m.update(b"1000.{\"a\":1}");
        let hex: String = m
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let headers = h(&[
            ("X-Signature", &format!("sha512={hex}")),
            ("X-Timestamp", "1000"),
        ]);
        assert_eq!(verify(&v, &req(&headers, b"{\"a\":1}", 1010)), Ok(()));
        assert!(verify(&v, &req(&headers, b"{\"a\":2}", 1010)).is_err());
        assert!(
            verify(&v, &req(&headers, b"{\"a\":1}", 2000))
                .unwrap_err()
                .0
                .contains("old")
        );
        let unprefixed = h(&[("X-Signature", &hex), ("X-Timestamp", "1000")]);
        assert!(verify(&v, &req(&unprefixed, b"{\"a\":1}", 1010)).is_err());
    }
}
