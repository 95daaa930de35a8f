//! Replaying a logged request: mapping, the schema and the duplicate check run again on
//! the request as it was stored, under the source's current settings (after a mapping or
//! a schema was fixed, say). Verification is not run again: only a request that passed it
//! may be replayed, and its stored headers have their signatures masked. The replay is a
//! new log entry (`via: replay`, `replay_of`); a request already published answers as a
//! duplicate of its event unless its duplicate window has passed.

use super::Sources;
use super::receive::Received;
use crate::backend::Actor;
use crate::backend::audit::AuditEntry;
use crate::backend::events::Events;
use crate::error::{AppError, AppResult};
use crate::types::Role;
use crate::types::ids::{InboundRequestId, SourceId};
use crate::types::sources::{InboundRequestView, Via};
use crate::with_db;
use serde_json::json;

impl Sources {
    pub async fn replay(
        &self,
        actor: &Actor,
        events: &Events,
        id: &SourceId,
        request: &InboundRequestId,
    ) -> AppResult<InboundRequestView> {
        actor.require(Role::Editor)?;
        let row = self.row(id.as_str()).await?;
        let source = self.open(&row.id, &row.config)?;
        let stored = self.stored_request(id, request).await?;
        if !stored.view.verified {
            return Err(AppError::Conflict(format!(
                "inbound request {request} did not pass verification ({}): only verified requests can be replayed",
                stored.view.reason.as_deref().unwrap_or("refused")
            )));
        }
        let remote = stored
            .view
            .remote_addr
            .parse()
            .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
        let received = Received {
            remote,
            headers: stored.headers,
            query: &stored.view.query,
            body: &stored.body,
            via: Via::Replay,
            replay_of: Some(request.clone()),
        };
        let reply = self.handle(events, id, &source, received).await?;
        let audit = AuditEntry::new(
            actor,
            "replay",
            "inbound_request",
            request.as_str(),
            json!({ "source": id.as_str(), "replay": reply.logged_as.as_str() }),
        );
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            audit.insert_in(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })?;
        self.request(actor, id, &reply.logged_as).await
    }
}
