-- PostgreSQL's form of migrations/0027: disputes of credit reporting, the dispute that upheld
-- against a standing report, and the bureau_dispute notice kind.
CREATE TABLE bureau_disputes (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    item        TEXT NOT NULL CHECK (item IN ('overdue', 'charge_off')),
    statement   TEXT CHECK (statement IS NULL OR length(statement) <= 1000),
    status      TEXT NOT NULL CHECK (status IN ('open', 'upheld', 'rejected')),
    opened_at   TEXT NOT NULL,
    due_by      TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT,
    reason_code TEXT,
    CHECK ((status = 'open') = (resolved_at IS NULL))
);

CREATE INDEX bureau_disputes_account ON bureau_disputes (account_id, opened_at);
CREATE INDEX bureau_disputes_waiting ON bureau_disputes (due_by) WHERE status = 'open';
CREATE UNIQUE INDEX bureau_disputes_one_open ON bureau_disputes (account_id) WHERE status = 'open';

ALTER TABLE bureau_standing ADD COLUMN upheld_dispute_id TEXT REFERENCES bureau_disputes (id);

ALTER TABLE notices DROP CONSTRAINT notices_kind_check;
ALTER TABLE notices ADD CONSTRAINT notices_kind_check CHECK (kind IN ('activation_confirmation', 'adverse_action',
    'review_outcome', 'limit_change', 'line_frozen', 'line_unfrozen', 'consent_expiring', 'pre_report_warning',
    'limit_offer', 'terms_change', 'hardship_plan', 'refund', 'payment_reminder', 'bureau_dispute'));
