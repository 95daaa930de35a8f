-- Portal links: a tenant's signed, expiring way into the tenant portal. The token itself
-- is never stored (it is signed with a key derived from the master key); the row holds
-- what it grants, so a link can be listed and revoked.
CREATE TABLE portal_links (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    -- A JSON array of capability names, `view` always among them.
    capabilities TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX portal_links_by_tenant ON portal_links (tenant, id);
