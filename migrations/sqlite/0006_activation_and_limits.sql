-- Activation, reviews' four-eyes approval and limit changes (SPEC "Activation", "Limit policy").
ALTER TABLE accounts ADD COLUMN terms_version TEXT;
ALTER TABLE accounts ADD COLUMN terms TEXT;
ALTER TABLE accounts ADD COLUMN tier TEXT;
ALTER TABLE accounts ADD COLUMN consent_id TEXT;
ALTER TABLE accounts ADD COLUMN decision_id TEXT;
ALTER TABLE accounts ADD COLUMN declined_at TEXT;
ALTER TABLE accounts ADD COLUMN last_increase_at TEXT;

-- The first of two operators approving a limit above the tier-D recommendation.
ALTER TABLE reviews ADD COLUMN first_approver TEXT;
ALTER TABLE reviews ADD COLUMN first_approved_limit INTEGER;

CREATE TABLE limit_adjustments (
    id                TEXT    PRIMARY KEY,
    account_id        TEXT    NOT NULL REFERENCES accounts (id),
    old_limit         INTEGER NOT NULL CHECK (old_limit >= 0),
    new_limit         INTEGER NOT NULL CHECK (new_limit >= 0),
    direction         TEXT    NOT NULL CHECK (direction IN ('increase', 'decrease')),
    reason            TEXT    NOT NULL,
    initiated_by      TEXT    NOT NULL CHECK (initiated_by IN ('customer', 'system', 'operator')),
    customer_accepted INTEGER NOT NULL CHECK (customer_accepted IN (0, 1)),
    notice_due        INTEGER NOT NULL CHECK (notice_due IN (0, 1)),
    actor             TEXT    NOT NULL,
    effective_at      TEXT    NOT NULL
) STRICT;

CREATE INDEX limit_adjustments_account ON limit_adjustments (account_id, effective_at);
