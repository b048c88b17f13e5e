-- PostgreSQL's form of migrations/0023: hardship requests and plans, and the delinquency cap
-- while a plan is in force.
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
);

CREATE INDEX hardship_requests_account ON hardship_requests (account_id, requested_at);
CREATE INDEX hardship_requests_waiting ON hardship_requests (requested_at) WHERE status = 'pending';
CREATE UNIQUE INDEX hardship_requests_one_pending ON hardship_requests (account_id) WHERE status = 'pending';
CREATE UNIQUE INDEX hardship_requests_one_in_force ON hardship_requests (account_id) WHERE status = 'approved';

-- While a plan is in force the line's delinquency is never worse than when it was approved.
ALTER TABLE accounts ADD COLUMN delinquency_cap TEXT CHECK (delinquency_cap IS NULL OR delinquency_cap IN
    ('current', 'dpd_1_30', 'dpd_31_60', 'dpd_61_90', 'dpd_90_plus'));

-- Every step of a plan is told: a new notice kind.
ALTER TABLE notices DROP CONSTRAINT notices_kind_check;
ALTER TABLE notices ADD CONSTRAINT notices_kind_check CHECK (kind IN ('activation_confirmation', 'adverse_action',
    'review_outcome', 'limit_change', 'line_frozen', 'line_unfrozen', 'consent_expiring', 'pre_report_warning',
    'limit_offer', 'terms_change', 'hardship_plan'));
