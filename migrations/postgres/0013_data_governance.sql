-- PostgreSQL's form of migrations/0013: notes outside the chain, the customer's confirmations,
-- coded reasons, and where the chain's rule begins.
CREATE TABLE notes (
    id         TEXT PRIMARY KEY,
    account_id TEXT REFERENCES accounts (id),
    subject_id TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('limit_adjustment', 'operator_action')),
    text       TEXT CHECK (text IS NULL OR length(text) <= 1000),
    created_at TEXT NOT NULL,
    erased_at  TEXT,
    CHECK ((text IS NULL) = (erased_at IS NOT NULL))
);

CREATE INDEX notes_subject ON notes (subject_id);
CREATE INDEX notes_account ON notes (account_id, created_at);
CREATE INDEX notes_unerased ON notes (created_at) WHERE erased_at IS NULL;

CREATE TABLE customer_confirmations (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    subject_id    TEXT NOT NULL,
    channel       TEXT NOT NULL CHECK (channel IN ('app', 'web', 'phone', 'branch')),
    method        TEXT NOT NULL CHECK (method IN ('explicit_opt_in')),
    notice_sha256 TEXT NOT NULL CHECK (length(notice_sha256) = 64),
    confirmed_at  TEXT NOT NULL
);

CREATE INDEX customer_confirmations_account ON customer_confirmations (account_id, confirmed_at);

INSERT INTO notes (id, account_id, subject_id, kind, text, created_at)
SELECT 'nte_' || id, account_id, id, 'limit_adjustment', reason, effective_at FROM limit_adjustments
WHERE reason NOT IN ('periodic_review', 'limit_offer');

ALTER TABLE limit_adjustments RENAME COLUMN reason TO reason_code;
UPDATE limit_adjustments SET reason_code = 'other' WHERE reason_code NOT IN ('periodic_review', 'limit_offer');
ALTER TABLE limit_adjustments ADD CHECK (length(reason_code) BETWEEN 1 AND 64);

CREATE TABLE chain_rules (
    name     TEXT   PRIMARY KEY,
    from_seq BIGINT NOT NULL CHECK (from_seq >= 1)
);

INSERT INTO chain_rules (name, from_seq) SELECT 'reason_codes', coalesce(max(seq), 0) + 1 FROM audit_log;
