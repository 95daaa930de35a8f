-- Sessions get an absolute lifetime beside the idle one, counted from when each began.
-- A row written without it (0) is already past any lifetime: the safe default.
ALTER TABLE sessions ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
-- Sessions open at the upgrade start their lifetime now instead of being signed out.
UPDATE sessions SET created_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
CREATE INDEX sessions_created_at ON sessions (created_at);
