-- PostgreSQL's form of migrations/0010: `charged_off` joins the states (the CHECK is replaced,
-- not the table), the account carries the ledger's sums, and the ledger's tables.
ALTER TABLE accounts DROP CONSTRAINT accounts_status_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_status_check CHECK (status IN
    ('prospect', 'pending_review', 'active', 'frozen', 'declined', 'closed', 'charged_off'));
ALTER TABLE accounts ADD COLUMN activated_at TEXT;
ALTER TABLE accounts ADD COLUMN balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0);
ALTER TABLE accounts ADD COLUMN fees_outstanding BIGINT NOT NULL DEFAULT 0 CHECK (fees_outstanding >= 0);
ALTER TABLE accounts ADD COLUMN oldest_unpaid_due TEXT;
ALTER TABLE accounts ADD COLUMN delinquency TEXT NOT NULL DEFAULT 'current' CHECK (delinquency IN
    ('current', 'dpd_1_30', 'dpd_31_60', 'dpd_61_90', 'dpd_90_plus'));

-- A line opened before this migration started its cooling-off when the audit log says it opened.
UPDATE accounts SET activated_at =
    (SELECT min(at) FROM audit_log WHERE audit_log.account_id = accounts.id AND action = 'account.activated');

CREATE INDEX accounts_owing ON accounts (oldest_unpaid_due) WHERE oldest_unpaid_due IS NOT NULL;

CREATE TABLE draws (
    id              TEXT   PRIMARY KEY,
    account_id      TEXT   NOT NULL REFERENCES accounts (id),
    amount          BIGINT NOT NULL CHECK (amount >= 1),
    plan_months     BIGINT CHECK (plan_months IS NULL OR plan_months >= 1),
    monthly_fee_bps BIGINT NOT NULL DEFAULT 0 CHECK (monthly_fee_bps >= 0),
    merchant_ref    TEXT   CHECK (merchant_ref IS NULL OR length(merchant_ref) BETWEEN 1 AND 64),
    drawn_at        TEXT   NOT NULL
);

CREATE INDEX draws_account ON draws (account_id, drawn_at);

CREATE TABLE instalments (
    id             TEXT   PRIMARY KEY,
    draw_id        TEXT   NOT NULL REFERENCES draws (id),
    account_id     TEXT   NOT NULL REFERENCES accounts (id),
    number         BIGINT NOT NULL CHECK (number >= 1),
    due_on         TEXT   NOT NULL CHECK (length(due_on) = 10),
    principal      BIGINT NOT NULL CHECK (principal >= 0),
    fee            BIGINT NOT NULL CHECK (fee >= 0),
    principal_paid BIGINT NOT NULL DEFAULT 0 CHECK (principal_paid BETWEEN 0 AND principal),
    fee_paid       BIGINT NOT NULL DEFAULT 0 CHECK (fee_paid >= 0),
    fee_waived     BIGINT NOT NULL DEFAULT 0 CHECK (fee_waived >= 0),
    CHECK (fee_paid + fee_waived <= fee),
    UNIQUE (draw_id, number)
);

CREATE INDEX instalments_account ON instalments (account_id, due_on);

CREATE TABLE repayments (
    id          TEXT   PRIMARY KEY,
    account_id  TEXT   NOT NULL REFERENCES accounts (id),
    amount      BIGINT NOT NULL CHECK (amount >= 1),
    received_at TEXT   NOT NULL
);

CREATE INDEX repayments_account ON repayments (account_id, received_at);

CREATE TABLE repayment_allocations (
    repayment_id  TEXT   NOT NULL REFERENCES repayments (id),
    instalment_id TEXT   NOT NULL REFERENCES instalments (id),
    fee           BIGINT NOT NULL CHECK (fee >= 0),
    principal     BIGINT NOT NULL CHECK (principal >= 0),
    PRIMARY KEY (repayment_id, instalment_id)
);

CREATE TABLE charge_off_approvals (
    account_id     TEXT PRIMARY KEY REFERENCES accounts (id),
    reason_code    TEXT NOT NULL CHECK (reason_code IN ('prolonged_non_payment', 'insolvency', 'deceased', 'fraud')),
    first_approver TEXT NOT NULL,
    approved_at    TEXT NOT NULL
);
