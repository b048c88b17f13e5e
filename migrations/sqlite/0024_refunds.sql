-- Refunds of returned purchases and the credit balance (README "Refunds and the credit
-- balance"). A refund reduces its draw's instalments in place (their principal and fee are what
-- is still charged); what it took from each is kept in refund_allocations, so an instalment's
-- first amounts are always its row plus its refunds.
CREATE TABLE refunds (
    id                  TEXT    PRIMARY KEY,
    account_id          TEXT    NOT NULL REFERENCES accounts (id),
    draw_id             TEXT    NOT NULL REFERENCES draws (id),
    amount              INTEGER NOT NULL CHECK (amount >= 1),
    -- The merchant's reference for the return; never copied into the audit log.
    merchant_ref        TEXT    NOT NULL CHECK (length(merchant_ref) BETWEEN 1 AND 64),
    principal_to_credit INTEGER NOT NULL CHECK (principal_to_credit BETWEEN 0 AND amount),
    received_at         TEXT    NOT NULL,
    UNIQUE (draw_id, merchant_ref)
) STRICT;

CREATE INDEX refunds_account ON refunds (account_id, received_at);

CREATE TABLE refund_allocations (
    refund_id     TEXT    NOT NULL REFERENCES refunds (id),
    instalment_id TEXT    NOT NULL REFERENCES instalments (id),
    principal     INTEGER NOT NULL CHECK (principal >= 0),
    fee_cancelled INTEGER NOT NULL CHECK (fee_cancelled >= 0),
    fee_credited  INTEGER NOT NULL CHECK (fee_credited >= 0),
    PRIMARY KEY (refund_id, instalment_id)
) STRICT, WITHOUT ROWID;

-- Money the customer is owed back; it pays their next instalments and is never negative.
ALTER TABLE accounts ADD COLUMN credit_balance INTEGER NOT NULL DEFAULT 0 CHECK (credit_balance >= 0);

-- A repayment is money received, or the credit balance paying instalments.
ALTER TABLE repayments ADD COLUMN source TEXT NOT NULL DEFAULT 'payment' CHECK (source IN ('payment', 'credit_balance'));

-- A refund is told: a new notice kind. The kind's CHECK is part of the table, so it is rebuilt.
CREATE TABLE notices_with_refunds (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    kind             TEXT NOT NULL CHECK (kind IN ('activation_confirmation', 'adverse_action', 'review_outcome',
                         'limit_change', 'line_frozen', 'line_unfrozen', 'consent_expiring', 'pre_report_warning',
                         'limit_offer', 'terms_change', 'hardship_plan', 'refund')),
    locale           TEXT NOT NULL CHECK (locale IN ('zh-CN', 'en')),
    text             TEXT NOT NULL,
    content_sha256   TEXT NOT NULL CHECK (length(content_sha256) = 64),
    template_version TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    due_by           TEXT NOT NULL,
    delivered_at     TEXT,
    channel          TEXT CHECK (channel IS NULL OR channel IN ('app', 'sms', 'email', 'letter', 'phone', 'branch')),
    received_at      TEXT
) STRICT;

INSERT INTO notices_with_refunds SELECT id, account_id, kind, locale, text, content_sha256, template_version, created_at,
    due_by, delivered_at, channel, received_at FROM notices;
DROP TABLE notices;
ALTER TABLE notices_with_refunds RENAME TO notices;

CREATE INDEX notices_account ON notices (account_id, created_at);
CREATE INDEX notices_undelivered ON notices (due_by) WHERE delivered_at IS NULL;
