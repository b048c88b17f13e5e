-- The audit chain and the API keys. Applied once, in one transaction; its SHA-256 is recorded.

-- Append-only, hash-chained audit log (SPEC "Audit entry"). `detail` is canonical JSON holding
-- ids, codes, amounts and versions only: no personal data, so deletion duties never require
-- rewriting history.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    account_id TEXT,
    subject_id TEXT,
    detail     TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
) STRICT;

CREATE INDEX audit_log_account ON audit_log (account_id, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);

-- The table refuses UPDATE and DELETE: history is changed only by appending.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- API keys: only a SHA-256 of the secret part is kept; the key itself is shown once.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('service', 'operator', 'auditor')),
    secret_hash BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
) STRICT;
