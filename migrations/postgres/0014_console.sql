-- PostgreSQL's form of migrations/0014.
CREATE TABLE console_sessions (
    id_sha256    TEXT PRIMARY KEY CHECK (length(id_sha256) = 64),
    key_id       TEXT NOT NULL,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at     TEXT
);
