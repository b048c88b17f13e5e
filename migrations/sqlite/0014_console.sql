-- The operators' and compliance officers' console (README "Console"): a session is the hash of
-- its cookie, the key it was opened with, its CSRF token, and its clock (30 minutes idle, 8 hours
-- at most); signing out ends it here, so a copied cookie is worth nothing after.
CREATE TABLE console_sessions (
    id_sha256    TEXT PRIMARY KEY CHECK (length(id_sha256) = 64),
    key_id       TEXT NOT NULL,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at     TEXT
) STRICT;
