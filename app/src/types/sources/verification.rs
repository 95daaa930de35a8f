//! How a source verifies its partner's requests: one scheme per provider (and generic
//! HMAC, JWT, basic, API key, none), each with its secrets and the previous ones accepted
//! during a rotation; what is masked, rotated and read from which header.

use serde::{Deserialize, Serialize};

/// How a source checks that a request really comes from its partner. Every scheme that
/// signs a timestamp refuses one older (or newer) than `tolerance_secs` (default 300).
/// Each secret may have a `previous_*` companion, accepted too while a rotation is rolled
/// out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Verification {
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,<base64>`, several).
    StandardWebhooks {
        /// `whsec_…`
        secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_secret: Option<String>,
        #[serde(default = "five_minutes")]
        tolerance_secs: u64,
    },
    /// `Stripe-Signature: t=…,v1=…` (several `v1`), over `{t}.{body}`.
    Stripe {
        /// `whsec_…`
        secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_secret: Option<String>,
        #[serde(default = "five_minutes")]
        tolerance_secs: u64,
    },
    /// `X-Hub-Signature-256: sha256=<hex>` over the body.
    Github {
        secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_secret: Option<String>,
    },
    /// `X-Shopify-Hmac-Sha256: <base64>` over the body.
    Shopify {
        secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_secret: Option<String>,
    },
    /// `X-Slack-Signature: v0=<hex>` over `v0:{X-Slack-Request-Timestamp}:{body}`; the
    /// `url_verification` challenge is answered by Hookline itself.
    Slack {
        signing_secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_secret: Option<String>,
        #[serde(default = "five_minutes")]
        tolerance_secs: u64,
    },
    /// Any HMAC: the header it comes in, SHA-256 or SHA-512, hex or base64, an optional
    /// prefix (`sha256=`), and what is signed: `{body}`, or a template such as
    /// `{timestamp}.{body}` with the timestamp from `timestamp_header`.
    Hmac {
        secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_secret: Option<String>,
        header: String,
        #[serde(default)]
        algorithm: HmacAlgorithm,
        #[serde(default)]
        encoding: SignatureEncoding,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        prefix: String,
        #[serde(default = "body_only")]
        signed: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timestamp_header: Option<String>,
        #[serde(default = "five_minutes")]
        tolerance_secs: u64,
    },
    /// `Authorization: Bearer <JWT>`: HS256 with a shared secret, or RS256/ES256 with the
    /// partner's public key (PEM). `exp` is required; `nbf`, `aud` and `iss` are checked
    /// when given, with `leeway_secs` (60) of clock skew.
    Jwt {
        #[serde(default)]
        algorithm: JwtAlgorithm,
        /// The HS256 secret, or the RS256/ES256 public key in PEM.
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_key: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audience: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        issuer: Option<String>,
        #[serde(default = "one_minute")]
        leeway_secs: u64,
    },
    /// `Authorization: Basic …`.
    Basic {
        username: String,
        password: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_password: Option<String>,
    },
    /// A key in a header (`header`) or, failing that, a query parameter (`query`).
    ApiKey {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        query: Option<String>,
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_key: Option<String>,
    },
    /// Nothing is checked: anyone who knows the URL may post. Only when chosen explicitly;
    /// shown as a warning.
    None,
}

fn five_minutes() -> u64 {
    300
}

fn one_minute() -> u64 {
    60
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum JwtAlgorithm {
    #[default]
    HS256,
    RS256,
    ES256,
}

fn body_only() -> String {
    "{body}".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum HmacAlgorithm {
    #[default]
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum SignatureEncoding {
    #[default]
    Hex,
    Base64,
}

impl Verification {
    /// The scheme's name as sent (`github`, `hmac`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::StandardWebhooks { .. } => "standard_webhooks",
            Self::Stripe { .. } => "stripe",
            Self::Github { .. } => "github",
            Self::Shopify { .. } => "shopify",
            Self::Slack { .. } => "slack",
            Self::Hmac { .. } => "hmac",
            Self::Jwt { .. } => "jwt",
            Self::Basic { .. } => "basic",
            Self::ApiKey { .. } => "api_key",
            Self::None => "none",
        }
    }

    /// The current secret and the previous one's place, each with its path (`secret`,
    /// `previous_secret`, …); `None` for `none`, which has no secret.
    #[allow(clippy::type_complexity)]
    fn slots(
        &mut self,
    ) -> Option<(
        (&'static str, &mut String),
        (&'static str, &mut Option<String>),
    )> {
        Some(match self {
            Self::StandardWebhooks {
                secret,
                previous_secret,
                ..
            }
            | Self::Stripe {
                secret,
                previous_secret,
                ..
            }
            | Self::Github {
                secret,
                previous_secret,
            }
            | Self::Shopify {
                secret,
                previous_secret,
            }
            | Self::Hmac {
                secret,
                previous_secret,
                ..
            } => (("secret", secret), ("previous_secret", previous_secret)),
            Self::Slack {
                signing_secret,
                previous_secret,
                ..
            } => (
                ("signing_secret", signing_secret),
                ("previous_secret", previous_secret),
            ),
            Self::Basic {
                password,
                previous_password,
                ..
            } => (
                ("password", password),
                ("previous_password", previous_password),
            ),
            Self::ApiKey {
                key, previous_key, ..
            }
            | Self::Jwt {
                key, previous_key, ..
            } => (("key", key), ("previous_key", previous_key)),
            Self::None => return None,
        })
    }

    /// Every secret with its path (`verification.secret`, …): what is sealed at rest and
    /// masked in answers.
    pub fn secrets_mut(&mut self) -> Vec<(&'static str, &mut String)> {
        let Some((main, previous)) = self.slots() else {
            return Vec::new();
        };
        let mut out = vec![main];
        if let Some(p) = previous.1.as_mut() {
            out.push((previous.0, p));
        }
        out
    }

    /// The current secret becomes the previous one (still accepted) and `new` the
    /// current; `None` for `none`, which has no secret.
    pub fn rotate(&mut self, new: String) -> Option<()> {
        let ((_, current), (_, previous)) = self.slots()?;
        *previous = Some(std::mem::replace(current, new));
        Some(())
    }

    /// Ends a rotation: only the current secret is accepted from now on.
    pub fn retire_previous(&mut self) {
        if let Some((_, (_, previous))) = self.slots() {
            *previous = None;
        }
    }

    /// Whether Hookline may make up a new secret (the provider issues Stripe's, Slack's
    /// and Shopify's, and a JWT's public key is the partner's).
    pub fn hookline_chooses_secret(&self) -> bool {
        match self {
            Self::Stripe { .. } | Self::Slack { .. } | Self::Shopify { .. } | Self::None => false,
            Self::Jwt { algorithm, .. } => *algorithm == JwtAlgorithm::HS256,
            _ => true,
        }
    }

    /// The headers (lower case) this scheme reads its signature or credential from: masked
    /// in the inbound log whatever their names.
    pub fn credential_headers(&self) -> Vec<String> {
        let fixed: &[&str] = match self {
            Self::StandardWebhooks { .. } => &["webhook-signature"],
            Self::Stripe { .. } => &["stripe-signature"],
            Self::Github { .. } => &["x-hub-signature-256", "x-hub-signature"],
            Self::Shopify { .. } => &["x-shopify-hmac-sha256"],
            Self::Slack { .. } => &["x-slack-signature"],
            Self::Jwt { .. } | Self::Basic { .. } => &["authorization"],
            Self::Hmac { header, .. } => return vec![header.to_ascii_lowercase()],
            Self::ApiKey { header, .. } => {
                return header.iter().map(|h| h.to_ascii_lowercase()).collect();
            }
            Self::None => &[],
        };
        fixed.iter().map(|h| h.to_string()).collect()
    }

    /// The same scheme with every secret shown as `***`.
    pub fn masked(&self) -> Verification {
        let mut copy = self.clone();
        for (_, v) in copy.secrets_mut() {
            *v = crate::types::endpoints::MASK.to_string();
        }
        copy
    }
}
