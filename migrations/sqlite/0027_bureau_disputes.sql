-- Disputes of credit reporting (README "Credit reporting"): one open at a time per account,
-- answered within 20 days; the customer's statement stays here, outside the chain, until the
-- retention sweep erases it after the answer. An upheld dispute marks the report that stands,
-- which the next run corrects. A new notice kind: the notices table is rebuilt for its CHECK.
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
) STRICT;

CREATE INDEX bureau_disputes_account ON bureau_disputes (account_id, opened_at);
CREATE INDEX bureau_disputes_waiting ON bureau_disputes (due_by) WHERE status = 'open';
CREATE UNIQUE INDEX bureau_disputes_one_open ON bureau_disputes (account_id) WHERE status = 'open';

ALTER TABLE bureau_standing ADD COLUMN upheld_dispute_id TEXT REFERENCES bureau_disputes (id);

CREATE TABLE notices_with_disputes (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    kind             TEXT NOT NULL CHECK (kind IN ('activation_confirmation', 'adverse_action', 'review_outcome',
                         'limit_change', 'line_frozen', 'line_unfrozen', 'consent_expiring', 'pre_report_warning',
                         'limit_offer', 'terms_change', 'hardship_plan', 'refund', 'payment_reminder', 'bureau_dispute')),
    locale           TEXT NOT NULL CHECK (locale IN ('zh-CN', 'en')),
    text             TEXT NOT NULL,
    content_sha256   TEXT NOT NULL CHECK (length(content_sha256) = 64),
    template_version TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    due_by           TEXT NOT NULL,
    delivered_at     TEXT,
    channel          TEXT CHECK (channel IS NULL OR channel IN ('app', 'sms', 'email', 'letter', 'phone', 'branch')),
    received_at      TEXT,
    channels         TEXT
) STRICT;

INSERT INTO notices_with_disputes SELECT id, account_id, kind, locale, text, content_sha256, template_version, created_at,
    due_by, delivered_at, channel, received_at, channels FROM notices;
DROP TABLE notices;
ALTER TABLE notices_with_disputes RENAME TO notices;

CREATE INDEX notices_account ON notices (account_id, created_at);
CREATE INDEX notices_undelivered ON notices (due_by) WHERE delivered_at IS NULL;
