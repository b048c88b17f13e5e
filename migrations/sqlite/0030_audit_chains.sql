-- Audit chains by shard (docs/audit-chain.md, "Chains"): the log becomes several chains, each
-- numbered from 1 and linked on its own. Chain 0 is the installation's own (keys, model reviews,
-- review completions) and keeps every entry written before this migration as it was; an
-- account's entries go to the chain fixed on the account when it is created (`audit_chain`;
-- chain 0 for every account from before). Positions are (chain, seq). SQLite cannot change a
-- primary key in place, so the log is rebuilt (SQLite's documentation, "Making Other Kinds Of
-- Table Schema Changes"): every row copied as it is, no hash recomputed.
CREATE TABLE audit_log_chained (
    seq        INTEGER NOT NULL,
    at         TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    account_id TEXT,
    subject_id TEXT,
    detail     TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    chain      INTEGER NOT NULL DEFAULT 0 CHECK (chain >= 0),
    PRIMARY KEY (chain, seq)
) STRICT;

INSERT INTO audit_log_chained (seq, at, actor, role, action, account_id, subject_id, detail, request_id, prev_hash,
                               hash, chain)
SELECT seq, at, actor, role, action, account_id, subject_id, detail, request_id, prev_hash, hash, 0
FROM audit_log ORDER BY seq;

DROP TABLE audit_log;
ALTER TABLE audit_log_chained RENAME TO audit_log;

CREATE INDEX audit_log_account ON audit_log (account_id, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_seq_from_one BEFORE INSERT ON audit_log
WHEN NEW.seq < 1
BEGIN
    SELECT RAISE(ABORT, 'audit entries are numbered from 1');
END;

-- The chain an account's entries go to, fixed when it is created.
ALTER TABLE accounts ADD COLUMN audit_chain INTEGER NOT NULL DEFAULT 0 CHECK (audit_chain >= 0);

-- How many account chains new accounts are spread over (chains 1 to account_chains): raised by
-- the `audit_chains` setting at start, never lowered.
CREATE TABLE audit_chains (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    account_chains INTEGER NOT NULL CHECK (account_chains >= 1)
) STRICT;

INSERT INTO audit_chains (id, account_chains) VALUES (1, 1);
