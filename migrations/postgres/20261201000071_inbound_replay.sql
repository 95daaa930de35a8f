-- Replaying a logged request re-runs mapping and validation on it, so the log keeps what
-- that needs: the query string, whether the request passed verification (only those may
-- be replayed; the stored headers have their signatures masked), and how it came in
-- (`http` from the partner, `sample` from the dashboard's signed sample, `replay` of
-- `replay_of`).
ALTER TABLE inbound_requests ADD COLUMN query TEXT NOT NULL DEFAULT '';
ALTER TABLE inbound_requests ADD COLUMN verified BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE inbound_requests ADD COLUMN via TEXT NOT NULL DEFAULT 'http' CHECK (via IN ('http', 'sample', 'replay'));
ALTER TABLE inbound_requests ADD COLUMN replay_of TEXT;
