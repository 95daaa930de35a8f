-- Custom response handling: the endpoint's response rule that decided an attempt (for
-- example `body: ok is false, not true` or `no_retry: 422`); NULL when the defaults did.
ALTER TABLE attempts ADD COLUMN decided_by TEXT;
