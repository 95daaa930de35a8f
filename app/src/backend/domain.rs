//! Domain newtypes that validate at the edge: inside the core, a value that exists is valid.

use crate::error::AppError;

/// A normalised (trimmed, lower-cased) e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, AppError> {
        let value = raw.trim().to_lowercase();
        let problem = if value.is_empty() {
            Some("is required")
        } else if value.len() > 254 {
            Some("must be at most 254 characters")
        } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Some("must not contain spaces")
        } else {
            match value.split_once('@') {
                Some((local, domain))
                    if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
                {
                    None
                }
                _ => Some("must look like name@example.com"),
            }
        };
        match problem {
            Some(message) => Err(AppError::invalid("email", message)),
            None => Ok(Email(value)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that meets the policy. Never `Debug`-printed or serialised.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_LEN: usize = 10;
    pub const MAX_LEN: usize = 1024;

    pub fn parse(raw: String) -> Result<NewPassword, AppError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_LEN {
            return Err(AppError::invalid(
                "password",
                format!("must be at least {} characters", Self::MIN_LEN),
            ));
        }
        if chars > Self::MAX_LEN {
            return Err(AppError::invalid(
                "password",
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        Ok(NewPassword(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in ["", "ada", "@x", "a@", "a b@c", "a@b@c"] {
            let err = Email::parse(bad).unwrap_err();
            assert!(err.field("email").is_some(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn password_policy() {
        assert!(NewPassword::parse("short".into()).is_err());
        assert!(NewPassword::parse("long enough!".into()).is_ok());
        assert_eq!(
            format!("{:?}", NewPassword::parse("long enough!".into()).unwrap()),
            "NewPassword(***)"
        );
    }
}

/// The tenant rule, shared by endpoints and events: 1 to 64 characters of
/// a-z, A-Z, 0-9, '_', '.', '-'.
pub fn check_tenant(tenant: &str) -> Result<(), &'static str> {
    let ok = !tenant.is_empty()
        && tenant.len() <= 64
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err("must be 1 to 64 characters of a-z, A-Z, 0-9, '_', '.', '-'")
    }
}

/// An event type name: dotted lowercase segments (`order.created`, `stock.level_low`).
/// `hookline.*` is reserved for the platform's own operational events.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventTypeName(String);

impl EventTypeName {
    pub fn parse(raw: &str) -> Result<EventTypeName, AppError> {
        let name = raw.trim();
        let bad = |m: &str| Err(AppError::invalid("name", m.to_string()));
        if name.is_empty() {
            return bad("is required");
        }
        // A name is an identifier: `order.created ` is not `order.created`, so it is
        // refused rather than quietly trimmed (the document's pattern says the same).
        if name != raw {
            return bad("must not begin or end with white space");
        }
        if name.len() > 128 {
            return bad("must be at most 128 characters");
        }
        for segment in name.split('.') {
            let mut chars = segment.chars();
            match chars.next() {
                Some(c) if c.is_ascii_lowercase() => {}
                _ => {
                    return bad(
                        "must be dotted lowercase segments that start with a letter, e.g. order.created",
                    );
                }
            }
            if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
            {
                return bad(
                    "may contain only a-z, 0-9, '_' and '-' between dots, e.g. order.created",
                );
            }
        }
        Ok(EventTypeName(name.to_string()))
    }

    /// A name a user may create: any valid name outside `hookline.*`, the namespace of the
    /// events Hookline publishes itself (`hookline.endpoint.disabled`).
    pub fn parse_user_defined(raw: &str) -> Result<EventTypeName, AppError> {
        let name = Self::parse(raw)?;
        if name.0 == "hookline" || name.0.starts_with("hookline.") {
            return Err(AppError::invalid(
                "name",
                "the hookline.* names are reserved for Hookline's own events",
            ));
        }
        Ok(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod event_type_name_tests {
    use super::EventTypeName;

    #[test]
    fn dotted_lowercase_only() {
        for ok in [
            "order.created",
            "stock.level_low",
            "a",
            "crm.contact-merged.v2",
        ] {
            assert!(EventTypeName::parse_user_defined(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Order.created",
            "order..created",
            ".order",
            "order.",
            "1order",
            "order created",
            "order.*",
            "hookline.endpoint.disabled",
        ] {
            assert!(EventTypeName::parse_user_defined(bad).is_err(), "{bad:?}");
        }
    }
}
