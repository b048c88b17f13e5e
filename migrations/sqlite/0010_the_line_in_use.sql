-- The line in use (README "The line in use"): draws, their instalments, repayments and how each
-- was applied, and charge-off approvals. The accounts table is rebuilt because a CHECK
-- constraint cannot be altered in place: `charged_off` joins the states, and the account carries
-- what the ledger keeps equal to its instalments' sums. Foreign keys are off while a migration
-- runs and every reference is checked before it commits (README "Storage").

CREATE TABLE accounts_with_ledger (
    id                     TEXT    PRIMARY KEY,
    tenant                 TEXT    NOT NULL CHECK (length(tenant) BETWEEN 1 AND 32),
    customer_ref           TEXT    NOT NULL,
    status                 TEXT    NOT NULL CHECK (status IN
                               ('prospect', 'pending_review', 'active', 'frozen', 'declined', 'closed', 'charged_off')),
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
    activated_at           TEXT,
    balance                INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    fees_outstanding       INTEGER NOT NULL DEFAULT 0 CHECK (fees_outstanding >= 0),
    oldest_unpaid_due      TEXT,
    delinquency            TEXT    NOT NULL DEFAULT 'current' CHECK (delinquency IN
                               ('current', 'dpd_1_30', 'dpd_31_60', 'dpd_61_90', 'dpd_90_plus')),
    UNIQUE (tenant, customer_ref)
) STRICT;

-- A line opened before this migration started its cooling-off when the audit log says it opened.
INSERT INTO accounts_with_ledger (id, tenant, customer_ref, status, credit_limit, currency, limit_increase_opt_out,
                                  version, created_at, updated_at, terms_version, terms, tier, consent_id, decision_id,
                                  declined_at, last_increase_at, activated_at)
SELECT id, tenant, customer_ref, status, credit_limit, currency, limit_increase_opt_out, version, created_at,
       updated_at, terms_version, terms, tier, consent_id, decision_id, declined_at, last_increase_at,
       (SELECT min(at) FROM audit_log WHERE audit_log.account_id = accounts.id AND action = 'account.activated')
FROM accounts;

DROP TABLE accounts;
ALTER TABLE accounts_with_ledger RENAME TO accounts;

-- The delinquency sweep reads only the lines that owe something.
CREATE INDEX accounts_owing ON accounts (oldest_unpaid_due) WHERE oldest_unpaid_due IS NOT NULL;

CREATE TABLE draws (
    id              TEXT    PRIMARY KEY,
    account_id      TEXT    NOT NULL REFERENCES accounts (id),
    amount          INTEGER NOT NULL CHECK (amount >= 1),
    plan_months     INTEGER CHECK (plan_months IS NULL OR plan_months >= 1),
    monthly_fee_bps INTEGER NOT NULL DEFAULT 0 CHECK (monthly_fee_bps >= 0),
    -- The calling service's reference for the purchase; never copied into the audit log.
    merchant_ref    TEXT    CHECK (merchant_ref IS NULL OR length(merchant_ref) BETWEEN 1 AND 64),
    drawn_at        TEXT    NOT NULL
) STRICT;

CREATE INDEX draws_account ON draws (account_id, drawn_at);

CREATE TABLE instalments (
    id             TEXT    PRIMARY KEY,
    draw_id        TEXT    NOT NULL REFERENCES draws (id),
    account_id     TEXT    NOT NULL REFERENCES accounts (id),
    number         INTEGER NOT NULL CHECK (number >= 1),
    due_on         TEXT    NOT NULL CHECK (length(due_on) = 10),
    principal      INTEGER NOT NULL CHECK (principal >= 0),
    fee            INTEGER NOT NULL CHECK (fee >= 0),
    -- Nothing is paid twice: what is paid or waived never exceeds what was due.
    principal_paid INTEGER NOT NULL DEFAULT 0 CHECK (principal_paid BETWEEN 0 AND principal),
    fee_paid       INTEGER NOT NULL DEFAULT 0 CHECK (fee_paid >= 0),
    fee_waived     INTEGER NOT NULL DEFAULT 0 CHECK (fee_waived >= 0),
    CHECK (fee_paid + fee_waived <= fee),
    UNIQUE (draw_id, number)
) STRICT;

-- Repayments walk what is owed oldest due first; statements read a period by due date.
CREATE INDEX instalments_account ON instalments (account_id, due_on);

CREATE TABLE repayments (
    id          TEXT    PRIMARY KEY,
    account_id  TEXT    NOT NULL REFERENCES accounts (id),
    amount      INTEGER NOT NULL CHECK (amount >= 1),
    received_at TEXT    NOT NULL
) STRICT;

CREATE INDEX repayments_account ON repayments (account_id, received_at);

CREATE TABLE repayment_allocations (
    repayment_id  TEXT    NOT NULL REFERENCES repayments (id),
    instalment_id TEXT    NOT NULL REFERENCES instalments (id),
    fee           INTEGER NOT NULL CHECK (fee >= 0),
    principal     INTEGER NOT NULL CHECK (principal >= 0),
    PRIMARY KEY (repayment_id, instalment_id)
) STRICT, WITHOUT ROWID;

-- The first of two operators approving a charge-off; removed when the line leaves dpd_90_plus,
-- so an approval never outlives the arrears it was given for.
CREATE TABLE charge_off_approvals (
    account_id     TEXT PRIMARY KEY REFERENCES accounts (id),
    reason_code    TEXT NOT NULL CHECK (reason_code IN ('prolonged_non_payment', 'insolvency', 'deceased', 'fraud')),
    first_approver TEXT NOT NULL,
    approved_at    TEXT NOT NULL
) STRICT;
