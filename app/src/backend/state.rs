//! The one application state, built once at start and shared by the REST handlers and the
//! server functions (through leptos context).

use super::Db;
use super::auth::Auth;
use super::throttle::ThrottlePolicy;
use super::users::Users;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub users: Users,
    pub auth: Arc<Auth>,
}

impl AppState {
    pub fn new(db: Db, throttle: ThrottlePolicy) -> Self {
        let users = Users::new(db.clone());
        Self {
            auth: Arc::new(Auth::new(users.clone(), throttle)),
            users,
            db,
        }
    }
}
