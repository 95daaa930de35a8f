//! Typed ids. Each kind of record has its own id type, so an endpoint id cannot be passed
//! where a delivery id is meant, and each is checked where it comes in (a URL, a query, a
//! server function's arguments): a prefix naming the kind, `_`, and a 26-character ULID in
//! Crockford base32 (`ep_01JD8X5W7R2M9K3Q4T6V8Y0ZAB`). Ids read back from the database
//! are trusted as they are.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An id that is not one of the kind asked for: what was given and what one looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    pub what: &'static str,
    pub given: String,
    pub prefix: &'static str,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.given.chars().take(64).collect();
        write!(
            f,
            "{shown:?} is not {} id ({} ids look like {}_01JD8X5W7R2M9K3Q4T6V8Y0ZAB)",
            self.what, self.what, self.prefix
        )
    }
}

impl std::error::Error for IdError {}

const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn well_formed(raw: &str, prefix: &str) -> bool {
    raw.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|ulid| ulid.len() == 26 && ulid.chars().all(|c| ALPHABET.contains(c)))
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type, utoipa::ToSchema), sqlx(transparent))]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// Checks an id from outside.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                if well_formed(raw, $prefix) {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err(IdError { what: $what, given: raw.to_owned(), prefix: $prefix })
                }
            }

            /// An id read back from the database, where only well-formed ids are written.
            #[cfg(feature = "ssr")]
            pub fn from_db(stored: String) -> Self {
                Self(stored)
            }

            /// A new id of this kind.
            #[cfg(feature = "ssr")]
            pub fn generate() -> Self {
                Self(crate::backend::ids::new_id($prefix))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(raw: String) -> Result<Self, IdError> {
                if well_formed(&raw, $prefix) {
                    Ok(Self(raw))
                } else {
                    Err(IdError { what: $what, given: raw, prefix: $prefix })
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(raw: &str) -> Result<Self, IdError> {
                Self::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// Shown in pages as its text.
        impl leptos::prelude::IntoRender for $name {
            type Output = String;
            fn into_render(self) -> String {
                self.0
            }
        }

        impl leptos::prelude::IntoAttributeValue for $name {
            type Output = String;
            fn into_attribute_value(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

typed_id!(
    /// An endpoint: where events go.
    EndpointId, "ep", "an endpoint"
);
typed_id!(
    /// A published event.
    EventId, "evt", "an event"
);
typed_id!(
    /// One event's delivery to one endpoint.
    DeliveryId, "dlv", "a delivery"
);
typed_id!(
    /// A replay: many dead or failed deliveries sent again.
    ReplayId, "rpl", "a replay"
);
typed_id!(
    /// An API key (the record, not the secret key).
    ApiKeyId, "key", "an API key"
);
typed_id!(
    /// A dashboard user.
    UserId, "usr", "a user"
);

typed_id!(
    /// A source: where a partner's webhooks come in.
    SourceId, "src", "a source"
);
typed_id!(
    /// One request a source received.
    InboundRequestId, "inb", "an inbound request"
);
typed_id!(
    /// A portal link: one tenant's signed, expiring way into the tenant portal.
    PortalLinkId, "pl", "a portal link"
);
typed_id!(
    /// An alert rule: a condition on an endpoint's deliveries, or on the queue.
    AlertRuleId, "alr", "an alert rule"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_for_their_kind_and_shape() {
        let ok = "ep_01JD8X5W7R2M9K3Q4T6V8Y0ZAB";
        assert_eq!(EndpointId::parse(ok).unwrap().as_str(), ok);
        for bad in [
            "",
            "ep_",
            "ep_01JD8X5W7R2M9K3Q4T6V8Y0ZA",   // 25 characters
            "ep_01JD8X5W7R2M9K3Q4T6V8Y0ZABC", // 27
            "ep_01JD8X5W7R2M9K3Q4T6V8Y0ZAI",  // I is not Crockford
            "ep_01jd8x5w7r2m9k3q4t6v8y0zab",
            "dlv_01JD8X5W7R2M9K3Q4T6V8Y0ZAB", // another kind
            "ep-01JD8X5W7R2M9K3Q4T6V8Y0ZAB",
            "ep_01JD8X5W7R2M9K3Q4T6V8Y0ZA'",
        ] {
            let e = EndpointId::parse(bad).unwrap_err();
            assert!(e.to_string().contains("ep_01JD"), "{e}");
        }
        let err = serde_json::from_str::<DeliveryId>("\"ep_01JD8X5W7R2M9K3Q4T6V8Y0ZAB\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a delivery id"), "{err}");
    }
}
