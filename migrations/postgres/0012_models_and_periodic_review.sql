-- PostgreSQL's form of migrations/0012: the risk role, model reviews, the challenger's columns,
-- periodic reviews and limit offers; CHECKs replaced where SQLite rebuilds the table.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check CHECK (role IN ('service', 'operator', 'auditor', 'risk'));

CREATE TABLE model_reviews (
    id            TEXT PRIMARY KEY,
    version       TEXT NOT NULL,
    model_version TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('approved', 'rejected')),
    findings      TEXT CHECK (findings IS NULL OR length(findings) <= 2000),
    valid_until   TEXT NOT NULL,
    reviewed_by   TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE INDEX model_reviews_latest ON model_reviews (model_version, created_at);

ALTER TABLE decisions ADD COLUMN challenger_model_version TEXT;
ALTER TABLE decisions ADD COLUMN challenger_score BIGINT CHECK (challenger_score IS NULL OR challenger_score BETWEEN 300 AND 850);
ALTER TABLE decisions ADD COLUMN challenger_tier TEXT CHECK (challenger_tier IS NULL OR challenger_tier IN ('A', 'B', 'C', 'D', 'E'));
ALTER TABLE decisions ADD COLUMN challenger_outcome TEXT
    CHECK (challenger_outcome IS NULL OR challenger_outcome IN ('approve', 'review', 'decline'));
ALTER TABLE decisions ADD COLUMN portfolio_review_id TEXT;

CREATE INDEX decisions_scored_at ON decisions (scored_at);

ALTER TABLE reviews ADD COLUMN reason TEXT CHECK (reason IS NULL OR reason IN ('model-review-overdue'));

CREATE TABLE portfolio_reviews (
    id             TEXT   PRIMARY KEY,
    scope          TEXT   NOT NULL,
    content_sha256 TEXT   NOT NULL CHECK (length(content_sha256) = 64),
    status         TEXT   NOT NULL CHECK (status IN ('running', 'completed')),
    rows_total     BIGINT NOT NULL CHECK (rows_total >= 0),
    rows_done      BIGINT NOT NULL CHECK (rows_done >= 0),
    summary        TEXT   NOT NULL,
    model_version  TEXT   NOT NULL,
    created_by     TEXT   NOT NULL,
    created_at     TEXT   NOT NULL,
    completed_at   TEXT,
    UNIQUE (scope, content_sha256)
);

CREATE TABLE limit_offers (
    id            TEXT   PRIMARY KEY,
    account_id    TEXT   NOT NULL REFERENCES accounts (id),
    review_id     TEXT   NOT NULL REFERENCES portfolio_reviews (id),
    decision_id   TEXT   NOT NULL REFERENCES decisions (id),
    current_limit BIGINT NOT NULL CHECK (current_limit >= 0),
    offered_limit BIGINT NOT NULL CHECK (offered_limit > current_limit),
    status        TEXT   NOT NULL CHECK (status IN ('open', 'accepted', 'superseded')),
    created_at    TEXT   NOT NULL,
    expires_at    TEXT   NOT NULL,
    accepted_at   TEXT
);

CREATE INDEX limit_offers_account ON limit_offers (account_id, created_at);

ALTER TABLE notices DROP CONSTRAINT notices_kind_check;
ALTER TABLE notices ADD CONSTRAINT notices_kind_check CHECK (kind IN ('activation_confirmation', 'adverse_action',
    'review_outcome', 'limit_change', 'line_frozen', 'line_unfrozen', 'consent_expiring', 'pre_report_warning',
    'limit_offer'));
