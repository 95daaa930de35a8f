-- Signing secrets and endpoint credentials are stored sealed under the master key
-- (enc:v1:<key id>:...). This one row holds a value sealed under the key that sealed the
-- database, so a start with another key stops with both key ids before anything is read.
-- Plaintext rows from before are sealed by the server at start, not here: SQL has no key.
CREATE TABLE secret_key_check (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    key_id     TEXT NOT NULL,
    sealed     TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
