-- Every change of a line's terms is told to the customer (README "Activation, reviews and
-- limits"): a new notice kind. The kind's CHECK is part of the table, so it is rebuilt.
CREATE TABLE notices_with_terms (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    kind             TEXT NOT NULL CHECK (kind IN ('activation_confirmation', 'adverse_action', 'review_outcome',
                         'limit_change', 'line_frozen', 'line_unfrozen', 'consent_expiring', 'pre_report_warning',
                         'limit_offer', 'terms_change')),
    locale           TEXT NOT NULL CHECK (locale IN ('zh-CN', 'en')),
    text             TEXT NOT NULL,
    content_sha256   TEXT NOT NULL CHECK (length(content_sha256) = 64),
    template_version TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    due_by           TEXT NOT NULL,
    delivered_at     TEXT,
    channel          TEXT CHECK (channel IS NULL OR channel IN ('app', 'sms', 'email', 'letter', 'phone', 'branch'))
) STRICT;

INSERT INTO notices_with_terms SELECT id, account_id, kind, locale, text, content_sha256, template_version, created_at,
    due_by, delivered_at, channel FROM notices;
DROP TABLE notices;
ALTER TABLE notices_with_terms RENAME TO notices;

CREATE INDEX notices_account ON notices (account_id, created_at);
CREATE INDEX notices_undelivered ON notices (due_by) WHERE delivered_at IS NULL;
