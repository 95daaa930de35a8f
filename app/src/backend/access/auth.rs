//! Signing in and out, the first-run setup token, and turning a session into an `Actor`.

use crate::backend::Actor;
use crate::backend::access::password;
use crate::backend::access::throttle::{LoginThrottle, ThrottleKeys, ThrottlePolicy};
use crate::backend::access::users::{NewUser, Users};
use crate::backend::domain::Email;
use crate::error::{AppError, AppResult};
use crate::types::{Me, Role};
use std::net::IpAddr;
use std::sync::Mutex;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

/// The session key holding the signed-in user's id.
pub const SESSION_USER_KEY: &str = "uid";

pub struct Auth {
    users: Users,
    throttle: LoginThrottle,
    /// Present while no user exists; printed in the server log at start.
    setup_token: Mutex<Option<String>>,
}

impl Auth {
    pub fn new(users: Users, policy: ThrottlePolicy) -> Self {
        Self {
            users,
            throttle: LoginThrottle::new(policy),
            setup_token: Mutex::new(None),
        }
    }

    /// Issues the one-time setup token if no user exists yet; returns it for the log.
    pub async fn prepare_first_run(&self) -> AppResult<Option<String>> {
        if self.users.count().await? > 0 {
            return Ok(None);
        }
        let token = crate::backend::ids::random_hex(16);
        *self.setup_token.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
        Ok(Some(token))
    }

    pub async fn needs_setup(&self) -> AppResult<bool> {
        Ok(self.users.count().await? == 0)
    }

    /// Creates the first admin. Refused once any user exists or with a wrong token.
    pub async fn create_first_admin(
        &self,
        token: &str,
        email: &str,
        password: String,
    ) -> AppResult<Me> {
        let new = NewUser::parse(email, password, "admin")?;
        {
            let guard = self.setup_token.lock().unwrap_or_else(|p| p.into_inner());
            let valid = guard
                .as_deref()
                .is_some_and(|t| bool::from(t.as_bytes().ct_eq(token.trim().as_bytes())));
            if !valid {
                return Err(AppError::invalid(
                    "token",
                    "the setup token is wrong or already used; it is printed in the server log at start",
                ));
            }
        }
        if !self.needs_setup().await? {
            return Err(AppError::Conflict(
                "setup is already complete; sign in instead".into(),
            ));
        }
        let created = self.users.insert(&Actor::first_run(), new).await?;
        self.setup_token
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        // Setup signs the new admin in: that is their first sign-in.
        self.users.record_login(created.id.as_str()).await?;
        tracing::info!(user = %created.email, "first admin created; setup token retired");
        Ok(Me {
            id: created.id,
            email: created.email,
            role: Role::Admin,
        })
    }

    /// Checks the credentials, throttling repeated failures per account and per address.
    /// The attempt is reserved before the password is checked, so parallel attempts cannot
    /// all pass the throttle. The error never tells whether the account exists.
    pub async fn login(
        &self,
        address: Option<IpAddr>,
        email: &str,
        password: String,
    ) -> AppResult<Me> {
        let attempt = self.throttle.reserve(ThrottleKeys::new(email, address))?;
        let record = match Email::parse(email) {
            Ok(email) => match self.users.login_record(&email).await {
                Ok(record) => record,
                Err(e) => {
                    // The database failed before any check: the attempt was not spent.
                    attempt.withdrawn();
                    return Err(e);
                }
            },
            Err(_) => None,
        };
        let (me, hash) = match record {
            Some(r) => (Some(r.me), Some(r.password_hash)),
            None => (None, None),
        };
        let ok = match password::verify(password, hash).await {
            Ok(ok) => ok,
            Err(busy @ AppError::Busy { .. }) => {
                // Refused before any check: the attempt was not spent.
                attempt.withdrawn();
                return Err(busy);
            }
            Err(e) => return Err(e),
        };
        match me {
            Some(me) if ok => {
                attempt.succeeded();
                self.users.record_login(me.id.as_str()).await?;
                Ok(me)
            }
            _ => {
                attempt.failed();
                tracing::info!(?address, "failed sign-in");
                Err(AppError::InvalidCredentials)
            }
        }
    }

    /// Starts a fresh session for `me` (a new id, against fixation).
    pub async fn start_session(&self, session: &Session, me: &Me) -> AppResult<()> {
        session
            .cycle_id()
            .await
            .map_err(|e| AppError::internal("session store failed", e))?;
        session
            .insert(SESSION_USER_KEY, &me.id)
            .await
            .map_err(|e| AppError::internal("session store failed", e))
    }

    pub async fn end_session(&self, session: &Session) -> AppResult<()> {
        session
            .flush()
            .await
            .map_err(|e| AppError::internal("session store failed", e))
    }

    /// The signed-in user behind this session, re-read from the database so that a role
    /// change or a removal takes effect on the next request.
    pub async fn session_user(&self, session: &Session) -> AppResult<Option<Me>> {
        let id: Option<String> = session
            .get(SESSION_USER_KEY)
            .await
            .map_err(|e| AppError::internal("session store failed", e))?;
        match id {
            Some(id) => self.users.get(&id).await,
            None => Ok(None),
        }
    }

    pub async fn actor(&self, session: &Session) -> AppResult<Actor> {
        self.session_user(session)
            .await?
            .map(|me| Actor::user(&me))
            .ok_or(AppError::Unauthorized)
    }
}
