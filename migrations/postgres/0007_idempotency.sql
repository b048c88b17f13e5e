-- PostgreSQL's form of migrations/0007.
CREATE TABLE idempotency_keys (
    api_key_id       TEXT   NOT NULL,
    idempotency_key  TEXT   NOT NULL,
    request_sha256   TEXT   NOT NULL,
    state            TEXT   NOT NULL CHECK (state IN ('in_progress', 'done')),
    response_status  BIGINT,
    response_headers TEXT,
    response_body    BYTEA,
    created_at       TEXT   NOT NULL,
    PRIMARY KEY (api_key_id, idempotency_key)
);

CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
