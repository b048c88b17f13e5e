-- Tenants (README "Tenants") and the audit chain numbered from 1. Every account belongs to one tenant, and its customer_ref is unique
-- within that tenant only: two lenders may both have a customer "c-1". SQLite cannot drop a
-- column's UNIQUE constraint, so the table is rebuilt (the procedure of SQLite's documentation,
-- "Making Other Kinds Of Table Schema Changes"); foreign keys are checked at commit, when every
-- row is back under the same id.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE accounts_with_tenant (
    id                     TEXT    PRIMARY KEY,
    tenant                 TEXT    NOT NULL CHECK (length(tenant) BETWEEN 1 AND 32),
    customer_ref           TEXT    NOT NULL,
    status                 TEXT    NOT NULL CHECK (status IN
                               ('prospect', 'pending_review', 'active', 'frozen', 'declined', 'closed')),
    credit_limit           INTEGER NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
    currency               TEXT    NOT NULL DEFAULT 'CNY',
    limit_increase_opt_out INTEGER NOT NULL DEFAULT 0 CHECK (limit_increase_opt_out IN (0, 1)),
    version                INTEGER NOT NULL DEFAULT 1,
    created_at             TEXT    NOT NULL,
    updated_at             TEXT    NOT NULL,
    terms_version          TEXT,
    terms                  TEXT,
    tier                   TEXT,
    consent_id             TEXT,
    decision_id            TEXT,
    declined_at            TEXT,
    last_increase_at       TEXT,
    UNIQUE (tenant, customer_ref)
) STRICT;

INSERT INTO accounts_with_tenant (id, tenant, customer_ref, status, credit_limit, currency, limit_increase_opt_out,
                                  version, created_at, updated_at, terms_version, terms, tier, consent_id, decision_id,
                                  declined_at, last_increase_at)
SELECT id, 'default', customer_ref, status, credit_limit, currency, limit_increase_opt_out, version, created_at,
       updated_at, terms_version, terms, tier, consent_id, decision_id, declined_at, last_increase_at
FROM accounts;

DROP TABLE accounts;
ALTER TABLE accounts_with_tenant RENAME TO accounts;

-- Keys: the tenant a key acts for (NULL: every tenant, for operator and auditor keys only) and
-- the person behind it (NULL: the key is its own person). Four eyes are two persons.
ALTER TABLE api_keys ADD COLUMN tenant TEXT CHECK (tenant IS NULL OR length(tenant) BETWEEN 1 AND 32);
ALTER TABLE api_keys ADD COLUMN person TEXT CHECK (person IS NULL OR length(person) BETWEEN 1 AND 64);
UPDATE api_keys SET tenant = 'default';

CREATE TRIGGER api_keys_service_has_a_tenant BEFORE INSERT ON api_keys
WHEN NEW.role = 'service' AND NEW.tenant IS NULL
BEGIN
    SELECT RAISE(ABORT, 'a service key belongs to exactly one tenant');
END;

-- The audit chain is numbered from 1 (docs/audit-chain.md); a row below that is refused here,
-- and found by the verifier if it got in some other way.
CREATE TRIGGER audit_log_seq_from_one BEFORE INSERT ON audit_log
WHEN NEW.seq < 1
BEGIN
    SELECT RAISE(ABORT, 'audit entries are numbered from 1');
END;

-- One row that readiness rewrites while a storage fault is recorded, to learn when writes work
-- again (README "Operations").
CREATE TABLE storage_probe (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    at   TEXT    NOT NULL,
    room BLOB
) STRICT;
