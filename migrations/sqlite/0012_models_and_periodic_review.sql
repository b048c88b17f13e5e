-- Model governance and periodic review (README "Periodic review").

-- The `risk` role (model validation) joins the keys: the role's CHECK is part of the table, so
-- the table is rebuilt (SQLite's documented procedure; the runner checks foreign keys after).
CREATE TABLE api_keys_with_risk (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('service', 'operator', 'auditor', 'risk')),
    secret_hash BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    tenant      TEXT CHECK (tenant IS NULL OR length(tenant) BETWEEN 1 AND 32),
    person      TEXT CHECK (person IS NULL OR length(person) BETWEEN 1 AND 64)
) STRICT;

INSERT INTO api_keys_with_risk (id, name, role, secret_hash, created_at, revoked_at, tenant, person)
SELECT id, name, role, secret_hash, created_at, revoked_at, tenant, person FROM api_keys;

DROP TABLE api_keys;
ALTER TABLE api_keys_with_risk RENAME TO api_keys;

CREATE TRIGGER api_keys_service_has_a_tenant BEFORE INSERT ON api_keys
WHEN NEW.role = 'service' AND NEW.tenant IS NULL
BEGIN
    SELECT RAISE(ABORT, 'a service key belongs to exactly one tenant');
END;

-- A model's reviews by the risk team. Only an approved one in force lets the model approve
-- anyone by itself; `findings` is the reviewer's text and stays out of the audit chain.
CREATE TABLE model_reviews (
    id            TEXT PRIMARY KEY,
    version       TEXT NOT NULL,
    -- The version with its file's hash: a review covers exactly the file that was reviewed.
    model_version TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('approved', 'rejected')),
    findings      TEXT CHECK (findings IS NULL OR length(findings) <= 2000),
    valid_until   TEXT NOT NULL,
    reviewed_by   TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;

CREATE INDEX model_reviews_latest ON model_reviews (model_version, created_at);

-- The challenger's view of the same request, stored beside the champion's: it decides nothing
-- and is never in the answer to the calling service.
ALTER TABLE decisions ADD COLUMN challenger_model_version TEXT;
ALTER TABLE decisions ADD COLUMN challenger_score INTEGER CHECK (challenger_score IS NULL OR challenger_score BETWEEN 300 AND 850);
ALTER TABLE decisions ADD COLUMN challenger_tier TEXT CHECK (challenger_tier IS NULL OR challenger_tier IN ('A', 'B', 'C', 'D', 'E'));
ALTER TABLE decisions ADD COLUMN challenger_outcome TEXT
    CHECK (challenger_outcome IS NULL OR challenger_outcome IN ('approve', 'review', 'decline'));
-- The portfolio review that scored the account, when one did.
ALTER TABLE decisions ADD COLUMN portfolio_review_id TEXT;

CREATE INDEX decisions_scored_at ON decisions (scored_at);

-- Why an activation waits for a person beyond its tier (NULL: tier D).
ALTER TABLE reviews ADD COLUMN reason TEXT CHECK (reason IS NULL OR reason IN ('model-review-overdue'));

-- One row per review file: the same content twice is the same review (idempotent by content).
-- Rows are applied in chunks, each in its own transaction with `rows_done`, so a review cut
-- short by a crash resumes where it stopped when the same file is sent again.
CREATE TABLE portfolio_reviews (
    id             TEXT    PRIMARY KEY,
    -- The tenant the operator acted for ('*' for every tenant).
    scope          TEXT    NOT NULL,
    content_sha256 TEXT    NOT NULL CHECK (length(content_sha256) = 64),
    status         TEXT    NOT NULL CHECK (status IN ('running', 'completed')),
    rows_total     INTEGER NOT NULL CHECK (rows_total >= 0),
    rows_done      INTEGER NOT NULL CHECK (rows_done >= 0),
    -- Counts only: per action, per skip reason, per tier move.
    summary        TEXT    NOT NULL,
    model_version  TEXT    NOT NULL,
    created_by     TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    completed_at   TEXT,
    UNIQUE (scope, content_sha256)
) STRICT;

-- An increase the customer may take, never one applied for them.
CREATE TABLE limit_offers (
    id            TEXT    PRIMARY KEY,
    account_id    TEXT    NOT NULL REFERENCES accounts (id),
    review_id     TEXT    NOT NULL REFERENCES portfolio_reviews (id),
    decision_id   TEXT    NOT NULL REFERENCES decisions (id),
    current_limit INTEGER NOT NULL CHECK (current_limit >= 0),
    offered_limit INTEGER NOT NULL CHECK (offered_limit > current_limit),
    status        TEXT    NOT NULL CHECK (status IN ('open', 'accepted', 'superseded')),
    created_at    TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL,
    accepted_at   TEXT
) STRICT;

CREATE INDEX limit_offers_account ON limit_offers (account_id, created_at);

-- The notice kinds gain the offer; the kind's CHECK is part of the table, so it is rebuilt.
CREATE TABLE notices_with_offers (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id),
    kind             TEXT NOT NULL CHECK (kind IN ('activation_confirmation', 'adverse_action', 'review_outcome',
                         'limit_change', 'line_frozen', 'line_unfrozen', 'consent_expiring', 'pre_report_warning',
                         'limit_offer')),
    locale           TEXT NOT NULL CHECK (locale IN ('zh-CN', 'en')),
    text             TEXT NOT NULL,
    content_sha256   TEXT NOT NULL CHECK (length(content_sha256) = 64),
    template_version TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    due_by           TEXT NOT NULL,
    delivered_at     TEXT,
    channel          TEXT CHECK (channel IS NULL OR channel IN ('app', 'sms', 'email', 'letter', 'phone', 'branch'))
) STRICT;

INSERT INTO notices_with_offers SELECT id, account_id, kind, locale, text, content_sha256, template_version, created_at,
    due_by, delivered_at, channel FROM notices;
DROP TABLE notices;
ALTER TABLE notices_with_offers RENAME TO notices;

CREATE INDEX notices_account ON notices (account_id, created_at);
CREATE INDEX notices_undelivered ON notices (due_by) WHERE delivered_at IS NULL;
