//! Who is asking. Every service method takes an `Actor` and checks its role itself, so
//! neither door (REST or server function) can forget the check.

use crate::error::AppError;
use crate::types::{Me, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<String>,
    /// Shown in logs and, later, the audit log: an e-mail, or `cli` for the local operator.
    pub label: String,
    pub role: Role,
}

impl Actor {
    pub fn user(me: &Me) -> Actor {
        Actor {
            user_id: Some(me.id.clone()),
            label: me.email.clone(),
            role: me.role,
        }
    }

    /// The operator at the server's own command line (`hookline user create`): whoever can
    /// run the binary against the database already holds every key.
    pub fn cli() -> Actor {
        Actor {
            user_id: None,
            label: "cli".into(),
            role: Role::Admin,
        }
    }

    pub fn require(&self, needed: Role) -> Result<(), AppError> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "this needs the {needed} role; you are {}",
                self.role
            )))
        }
    }
}
