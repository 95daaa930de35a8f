-- Charts read attempts by time; endpoint health keeps its last success and failure.
CREATE INDEX attempts_started ON attempts (started_at);
ALTER TABLE endpoints ADD COLUMN last_success_at INTEGER;
ALTER TABLE endpoints ADD COLUMN last_failure_at INTEGER;
