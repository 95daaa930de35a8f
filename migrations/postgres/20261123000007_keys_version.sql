-- Bumped in the same transaction as any API key revocation: every node checks this counter
-- (one read shared by all requests that arrive meanwhile) before trusting a cached key.
ALTER TABLE catalog_version ADD COLUMN keys_version BIGINT NOT NULL DEFAULT 0;
