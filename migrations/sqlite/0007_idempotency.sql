-- Idempotency keys (Stripe's semantics; IETF httpapi Idempotency-Key draft): the first
-- request's status and body, replayed for the same key from the same caller.
CREATE TABLE idempotency_keys (
    api_key_id       TEXT    NOT NULL,
    idempotency_key  TEXT    NOT NULL,
    request_sha256   TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('in_progress', 'done')),
    response_status  INTEGER,
    response_headers TEXT,
    response_body    BLOB,
    created_at       TEXT    NOT NULL,
    PRIMARY KEY (api_key_id, idempotency_key)
) STRICT;

CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
