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
