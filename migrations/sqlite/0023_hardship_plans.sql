-- Hardship plans (README "Hardship plans"): the customer's request, an operator's decision, and
-- the plan while it is in force. At most one request waits and one plan is in force per line.
CREATE TABLE hardship_requests (
    id                      TEXT    PRIMARY KEY,
    account_id              TEXT    NOT NULL REFERENCES accounts (id),
    kind                    TEXT    NOT NULL CHECK (kind IN ('payment_holiday', 'restructure')),
    months                  INTEGER NOT NULL CHECK (months BETWEEN 1 AND 24),
    status                  TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'ended')),
    requested_at            TEXT    NOT NULL,
    resolved_at             TEXT,
    resolved_by             TEXT,
    reason_code             TEXT,
    delinquency_at_approval TEXT    CHECK (delinquency_at_approval IS NULL OR delinquency_at_approval IN
                                        ('current', 'dpd_1_30', 'dpd_31_60', 'dpd_61_90', 'dpd_90_plus')),
    ended_at                TEXT,
    end_reason              TEXT    CHECK (end_reason IS NULL OR end_reason IN ('broken', 'completed'))
) STRICT;

CREATE INDEX hardship_requests_account ON hardship_requests (account_id, requested_at);
CREATE INDEX hardship_requests_waiting ON hardship_requests (requested_at) WHERE status = 'pending';
CREATE UNIQUE INDEX hardship_requests_one_pending ON hardship_requests (account_id) WHERE status = 'pending';
CREATE UNIQUE INDEX hardship_requests_one_in_force ON hardship_requests (account_id) WHERE status = 'approved';

-- While a plan is in force the line's delinquency is never worse than when it was approved.
ALTER TABLE accounts ADD COLUMN delinquency_cap TEXT CHECK (delinquency_cap IS NULL OR delinquency_cap IN
    ('current', 'dpd_1_30', 'dpd_31_60', 'dpd_61_90', 'dpd_90_plus'));

-- Every step of a plan is told: a new notice kind. The kind's CHECK is part of the table, so it
-- is rebuilt.
CREATE TABLE notices_with_hardship (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    kind             TEXT NOT NULL CHECK (kind IN ('activation_confirmation', 'adverse_action', 'review_outcome',
                         'limit_change', 'line_frozen', 'line_unfrozen', 'consent_expiring', 'pre_report_warning',
                         'limit_offer', 'terms_change', 'hardship_plan')),
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

INSERT INTO notices_with_hardship SELECT id, account_id, kind, locale, text, content_sha256, template_version, created_at,
    due_by, delivered_at, channel, received_at FROM notices;
DROP TABLE notices;
ALTER TABLE notices_with_hardship RENAME TO notices;

CREATE INDEX notices_account ON notices (account_id, created_at);
CREATE INDEX notices_undelivered ON notices (due_by) WHERE delivered_at IS NULL;
