-- Data governance (README "Data governance"): coded reasons in the chain and free text beside
-- it, erasable; the customer's confirmation kept as evidence; where the chain's rule begins.

-- Free text a person writes beside a coded reason (an operator's note on a limit change or a
-- freeze): never in the audit chain, erased after free_text_retention_days.
CREATE TABLE notes (
    id         TEXT PRIMARY KEY,
    account_id TEXT REFERENCES accounts (id),
    -- What the note is about: a limit adjustment, or the account itself for a freeze, unfreeze or
    -- closure.
    subject_id TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('limit_adjustment', 'operator_action')),
    text       TEXT CHECK (text IS NULL OR length(text) <= 1000),
    created_at TEXT NOT NULL,
    erased_at  TEXT,
    CHECK ((text IS NULL) = (erased_at IS NOT NULL))
) STRICT;

CREATE INDEX notes_subject ON notes (subject_id);
CREATE INDEX notes_account ON notes (account_id, created_at);
CREATE INDEX notes_unerased ON notes (created_at) WHERE erased_at IS NULL;

-- What the customer saw and confirmed when a change is theirs (a limit change they asked for, a
-- cancellation, an offer they took): the same evidence as a consent.
CREATE TABLE customer_confirmations (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    subject_id    TEXT NOT NULL,
    channel       TEXT NOT NULL CHECK (channel IN ('app', 'web', 'phone', 'branch')),
    method        TEXT NOT NULL CHECK (method IN ('explicit_opt_in')),
    notice_sha256 TEXT NOT NULL CHECK (length(notice_sha256) = 64),
    confirmed_at  TEXT NOT NULL
) STRICT;

CREATE INDEX customer_confirmations_account ON customer_confirmations (account_id, confirmed_at);

-- A limit adjustment's free-text reason becomes a note; the row keeps a code. Rows the periodic
-- review and offers wrote already hold a code.
INSERT INTO notes (id, account_id, subject_id, kind, text, created_at)
SELECT 'nte_' || id, account_id, id, 'limit_adjustment', reason, effective_at FROM limit_adjustments
WHERE reason NOT IN ('periodic_review', 'limit_offer');

CREATE TABLE limit_adjustments_coded (
    id                TEXT    PRIMARY KEY,
    account_id        TEXT    NOT NULL REFERENCES accounts (id),
    old_limit         INTEGER NOT NULL CHECK (old_limit >= 0),
    new_limit         INTEGER NOT NULL CHECK (new_limit >= 0),
    direction         TEXT    NOT NULL CHECK (direction IN ('increase', 'decrease')),
    reason_code       TEXT    NOT NULL CHECK (length(reason_code) BETWEEN 1 AND 64),
    initiated_by      TEXT    NOT NULL CHECK (initiated_by IN ('customer', 'system', 'operator')),
    customer_accepted INTEGER NOT NULL CHECK (customer_accepted IN (0, 1)),
    notice_due        INTEGER NOT NULL CHECK (notice_due IN (0, 1)),
    actor             TEXT    NOT NULL,
    effective_at      TEXT    NOT NULL
) STRICT;

INSERT INTO limit_adjustments_coded (id, account_id, old_limit, new_limit, direction, reason_code, initiated_by,
                                     customer_accepted, notice_due, actor, effective_at)
SELECT id, account_id, old_limit, new_limit, direction,
       CASE WHEN reason IN ('periodic_review', 'limit_offer') THEN reason ELSE 'other' END,
       initiated_by, customer_accepted, notice_due, actor, effective_at
FROM limit_adjustments;

DROP TABLE limit_adjustments;
ALTER TABLE limit_adjustments_coded RENAME TO limit_adjustments;
CREATE INDEX limit_adjustments_account ON limit_adjustments (account_id, effective_at);

-- A review's note and a contest's statement were already outside the chain, in the review's row;
-- they stay there and the retention sweep erases them.

-- Where a rule of the chain begins: entries before it were written under the older rule and stay
-- as they are (the chain is immutable).
CREATE TABLE chain_rules (
    name     TEXT    PRIMARY KEY,
    from_seq INTEGER NOT NULL CHECK (from_seq >= 1)
) STRICT;

INSERT INTO chain_rules (name, from_seq) SELECT 'reason_codes', coalesce(max(seq), 0) + 1 FROM audit_log;
