//! An endpoint's TLS settings as saved: each PEM parses into what it claims to be (a
//! certificate chain, one private key, a CA bundle), a client certificate comes with its
//! key, sizes are bounded, and the HTTPS-only rule holds. Whether the key matches the
//! certificate is judged when the engine builds the endpoint's client (an attempt then
//! fails with the reason).

use crate::types::FieldError;
use crate::types::endpoints::{EndpointAuth, EndpointInput, EndpointTls};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

const MAX_PEM_BYTES: usize = 64 * 1024;

fn certificates(path: &str, pem: &str, errors: &mut Vec<FieldError>) {
    let parsed: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem.as_bytes()).collect();
    match parsed {
        Ok(certs) if !certs.is_empty() => {}
        Ok(_) => errors.push(FieldError::new(
            path,
            "holds no PEM certificate (BEGIN CERTIFICATE)",
        )),
        Err(e) => errors.push(FieldError::new(path, format!("is not valid PEM: {e:?}"))),
    }
}

/// Every problem with `tls`, under `tls.`.
pub fn check(tls: &EndpointTls) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let fields = [
        ("tls.client_certificate", &tls.client_certificate),
        ("tls.client_key", &tls.client_key),
        ("tls.ca_bundle", &tls.ca_bundle),
    ];
    for (path, value) in fields {
        if value.as_ref().is_some_and(|v| v.len() > MAX_PEM_BYTES) {
            errors.push(FieldError::new(
                path,
                format!("must be at most {MAX_PEM_BYTES} bytes"),
            ));
        }
    }
    if !errors.is_empty() {
        return errors;
    }
    match (&tls.client_certificate, &tls.client_key) {
        (Some(_), None) => errors.push(FieldError::new(
            "tls.client_key",
            "is required with a client certificate",
        )),
        (None, Some(_)) => errors.push(FieldError::new(
            "tls.client_certificate",
            "is required with a client key",
        )),
        _ => {}
    }
    if let Some(cert) = &tls.client_certificate {
        certificates("tls.client_certificate", cert, &mut errors);
    }
    if let Some(key) = &tls.client_key
        && PrivateKeyDer::from_pem_slice(key.as_bytes()).is_err()
    {
        errors.push(FieldError::new(
            "tls.client_key",
            "is not a PEM private key (PKCS#8, PKCS#1 or SEC1)",
        ));
    }
    if let Some(ca) = &tls.ca_bundle {
        certificates("tls.ca_bundle", ca, &mut errors);
    }
    errors
}

/// HTTPS only (the endpoint's, or the platform's when `platform`): its URLs must be https.
pub fn check_https_only(input: &EndpointInput, platform: bool) -> Vec<FieldError> {
    if !(platform || input.https_only) {
        return Vec::new();
    }
    let why = if platform {
        "must be https:// (this server delivers over HTTPS only)"
    } else {
        "must be https:// (https_only is set)"
    };
    let mut urls = vec![("url", input.url.as_str())];
    if let EndpointAuth::Oauth2 { token_url, .. } = &input.auth {
        urls.push(("auth.token_url", token_url));
    }
    urls.into_iter()
        .filter(|(_, u)| !u.trim().to_ascii_lowercase().starts_with("https://"))
        .map(|(path, _)| FieldError::new(path, why))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_settings_are_checked_on_their_paths() {
        let paths = |t: EndpointTls| check(&t).into_iter().map(|e| e.path).collect::<Vec<_>>();
        assert_eq!(
            paths(EndpointTls {
                client_certificate: Some("x".into()),
                ..Default::default()
            }),
            ["tls.client_key", "tls.client_certificate"]
        );
        assert_eq!(
            paths(EndpointTls {
                ca_bundle: Some(
                    "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n".into()
                ),
                ..Default::default()
            }),
            ["tls.ca_bundle"]
        );
        assert_eq!(
            paths(EndpointTls {
                client_key: Some("x".repeat(70_000)),
                ..Default::default()
            }),
            ["tls.client_key"]
        );
        assert!(paths(EndpointTls::default()).is_empty());
    }

    #[test]
    fn https_only_refuses_plain_urls() {
        let mut input: EndpointInput =
            serde_json::from_value(serde_json::json!({"name": "n", "url": "http://a.example/"}))
                .unwrap();
        assert!(check_https_only(&input, false).is_empty());
        assert_eq!(check_https_only(&input, true)[0].path, "url");
        input.https_only = true;
        assert_eq!(check_https_only(&input, false)[0].path, "url");
        input.url = "https://a.example/".into();
        assert!(check_https_only(&input, false).is_empty());
    }
}
