-- Idempotency keys belong to whoever sent them (an API key, a dashboard user, Hookline
-- itself) and to the request they came with (SHA-256 of event type, data, tenant and
-- context): the same key from another caller is another key, and the same key with another
-- request is refused instead of answered with the first event.
-- The old keys were global and carry no caller or request to bind them to, so they are
-- dropped: for at most 24 h after the upgrade, a retry of an earlier publish is stored anew.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
