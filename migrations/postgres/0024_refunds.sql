-- PostgreSQL's form of migrations/0024: refunds, their allocations, the credit balance, a
-- repayment's source and the refund notice kind.
CREATE TABLE refunds (
    id                  TEXT   PRIMARY KEY,
    account_id          TEXT   NOT NULL REFERENCES accounts (id),
    draw_id             TEXT   NOT NULL REFERENCES draws (id),
    amount              BIGINT NOT NULL CHECK (amount >= 1),
    merchant_ref        TEXT   NOT NULL CHECK (length(merchant_ref) BETWEEN 1 AND 64),
    principal_to_credit BIGINT NOT NULL CHECK (principal_to_credit BETWEEN 0 AND amount),
    received_at         TEXT   NOT NULL,
    UNIQUE (draw_id, merchant_ref)
);

CREATE INDEX refunds_account ON refunds (account_id, received_at);

CREATE TABLE refund_allocations (
    refund_id     TEXT   NOT NULL REFERENCES refunds (id),
    instalment_id TEXT   NOT NULL REFERENCES instalments (id),
    principal     BIGINT NOT NULL CHECK (principal >= 0),
    fee_cancelled BIGINT NOT NULL CHECK (fee_cancelled >= 0),
    fee_credited  BIGINT NOT NULL CHECK (fee_credited >= 0),
    PRIMARY KEY (refund_id, instalment_id)
);

ALTER TABLE accounts ADD COLUMN credit_balance BIGINT NOT NULL DEFAULT 0 CHECK (credit_balance >= 0);

ALTER TABLE repayments ADD COLUMN source TEXT NOT NULL DEFAULT 'payment' CHECK (source IN ('payment', 'credit_balance'));

ALTER TABLE notices DROP CONSTRAINT notices_kind_check;
ALTER TABLE notices ADD CONSTRAINT notices_kind_check CHECK (kind IN ('activation_confirmation', 'adverse_action',
    'review_outcome', 'limit_change', 'line_frozen', 'line_unfrozen', 'consent_expiring', 'pre_report_warning',
    'limit_offer', 'terms_change', 'hardship_plan', 'refund'));
