-- The consent ledger (SPEC "Consent"; PIPL Art. 14, 15). One row per act of consent; a
-- withdrawal or an expiry changes its status, never its evidence.
CREATE TABLE consents (
    id                 TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES accounts (id),
    purpose            TEXT NOT NULL CHECK (purpose IN ('credit_assessment', 'credit_line')),
    notice_version     TEXT NOT NULL,
    notice_sha256      TEXT NOT NULL CHECK (length(notice_sha256) = 64),
    channel            TEXT NOT NULL CHECK (channel IN ('app', 'web', 'phone', 'branch')),
    -- Storage refuses non-explicit consent too, whatever the code above it does.
    method             TEXT NOT NULL CHECK (method IN ('explicit_opt_in', 'written_signature')),
    evidence           TEXT CHECK (evidence IS NULL OR length(evidence) <= 256),
    status             TEXT NOT NULL CHECK (status IN ('active', 'withdrawn', 'expired')),
    granted_at         TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    withdrawn_at       TEXT,
    withdrawal_channel TEXT CHECK (withdrawal_channel IS NULL OR withdrawal_channel IN ('app', 'web', 'phone', 'branch')),
    withdrawal_reason  TEXT
) STRICT;

CREATE INDEX consents_account ON consents (account_id, purpose, status);

-- At most one consent in force per purpose: a withdrawal then always withdraws "the" consent.
CREATE UNIQUE INDEX consents_one_active ON consents (account_id, purpose) WHERE status = 'active';

-- A withdrawn or expired consent is never reactivated: the customer grants a new one.
CREATE TRIGGER consents_no_reactivation BEFORE UPDATE OF status ON consents
WHEN OLD.status <> 'active' AND NEW.status <> OLD.status
BEGIN
    SELECT RAISE(ABORT, 'a withdrawn or expired consent cannot change status');
END;

-- The evidence of the act itself never changes.
CREATE TRIGGER consents_evidence_fixed BEFORE UPDATE OF
    account_id, purpose, notice_version, notice_sha256, channel, method, evidence, granted_at, expires_at ON consents
BEGIN
    SELECT RAISE(ABORT, 'consent evidence is immutable');
END;
