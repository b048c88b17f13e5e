-- SQLite evaluates `x IN ('a', 'b', 'c')` with three or more constants in a CHECK by filling a
-- temporary b-tree with the list, on every insert and on every update of the column: four such
-- tables for each decision recorded, two for each update of an account (BENCHMARKS.md, "A fifth
-- of the cost per request", cut 13). The same rules written as comparisons cost a few opcodes.
-- A CHECK is part of its table, so both tables are rebuilt (SQLite's "Making Other Kinds Of
-- Table Schema Changes"; the runner turns foreign keys off around this file and checks every
-- reference before it commits). Nothing they accept changes.
CREATE TABLE accounts_rebuilt (
    id                     TEXT    PRIMARY KEY,
    tenant                 TEXT    NOT NULL CHECK (length(tenant) BETWEEN 1 AND 32),
    customer_ref           TEXT    NOT NULL,
    status                 TEXT    NOT NULL CHECK (status = 'prospect' OR status = 'pending_review' OR status = 'active'
                                                   OR status = 'frozen' OR status = 'declined' OR status = 'closed'
                                                   OR status = 'charged_off'),
    credit_limit           INTEGER NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
    currency               TEXT    NOT NULL DEFAULT 'CNY',
    limit_increase_opt_out INTEGER NOT NULL DEFAULT 0 CHECK (limit_increase_opt_out IN (0, 1)),
    version                INTEGER NOT NULL DEFAULT 1,
    created_at             TEXT    NOT NULL,
    updated_at             TEXT    NOT NULL,
    terms_version          TEXT,
    terms                  TEXT,
    tier                   TEXT,
    consent_id             TEXT,
    decision_id            TEXT,
    declined_at            TEXT,
    last_increase_at       TEXT,
    activated_at           TEXT,
    balance                INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    fees_outstanding       INTEGER NOT NULL DEFAULT 0 CHECK (fees_outstanding >= 0),
    oldest_unpaid_due      TEXT,
    delinquency            TEXT    NOT NULL DEFAULT 'current'
                                   CHECK (delinquency = 'current' OR delinquency = 'dpd_1_30' OR delinquency = 'dpd_31_60'
                                          OR delinquency = 'dpd_61_90' OR delinquency = 'dpd_90_plus'),
    locale                 TEXT    NOT NULL DEFAULT 'zh-CN' CHECK (locale IN ('zh-CN', 'en')),
    limit_basis            TEXT,
    delinquency_cap        TEXT    CHECK (delinquency_cap IS NULL OR delinquency_cap = 'current'
                                          OR delinquency_cap = 'dpd_1_30' OR delinquency_cap = 'dpd_31_60'
                                          OR delinquency_cap = 'dpd_61_90' OR delinquency_cap = 'dpd_90_plus'),
    credit_balance         INTEGER NOT NULL DEFAULT 0 CHECK (credit_balance >= 0),
    time_zone              TEXT    NOT NULL DEFAULT 'Asia/Shanghai' CHECK (length(time_zone) BETWEEN 1 AND 64),
    reminder_channels      TEXT,
    UNIQUE (tenant, customer_ref)
) STRICT;

INSERT INTO accounts_rebuilt (id, tenant, customer_ref, status, credit_limit, currency, limit_increase_opt_out, version,
                              created_at, updated_at, terms_version, terms, tier, consent_id, decision_id, declined_at,
                              last_increase_at, activated_at, balance, fees_outstanding, oldest_unpaid_due, delinquency,
                              locale, limit_basis, delinquency_cap, credit_balance, time_zone, reminder_channels)
    SELECT id, tenant, customer_ref, status, credit_limit, currency, limit_increase_opt_out, version, created_at,
           updated_at, terms_version, terms, tier, consent_id, decision_id, declined_at, last_increase_at, activated_at,
           balance, fees_outstanding, oldest_unpaid_due, delinquency, locale, limit_basis, delinquency_cap,
           credit_balance, time_zone, reminder_channels
    FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_rebuilt RENAME TO accounts;
CREATE INDEX accounts_owing ON accounts (oldest_unpaid_due) WHERE oldest_unpaid_due IS NOT NULL;

CREATE TABLE decisions_rebuilt (
    id                       TEXT    PRIMARY KEY,
    account_id               TEXT    NOT NULL REFERENCES accounts (id),
    score                    INTEGER NOT NULL CHECK (score BETWEEN 300 AND 850),
    tier                     TEXT    NOT NULL CHECK (tier = 'A' OR tier = 'B' OR tier = 'C' OR tier = 'D' OR tier = 'E'),
    outcome                  TEXT    NOT NULL CHECK (outcome = 'approve' OR outcome = 'review' OR outcome = 'decline'),
    recommended_limit        INTEGER NOT NULL CHECK (recommended_limit >= 0),
    reasons                  TEXT    NOT NULL,
    -- Per characteristic: bin, points and best points (no values), kept after inputs are erased.
    explanation              TEXT    NOT NULL,
    model_version            TEXT    NOT NULL,
    inputs                   TEXT,
    inputs_sha256            TEXT    NOT NULL,
    scored_at                TEXT    NOT NULL,
    expires_at               TEXT    NOT NULL,
    challenger_model_version TEXT,
    challenger_score         INTEGER CHECK (challenger_score IS NULL OR challenger_score BETWEEN 300 AND 850),
    challenger_tier          TEXT    CHECK (challenger_tier IS NULL OR challenger_tier = 'A' OR challenger_tier = 'B'
                                            OR challenger_tier = 'C' OR challenger_tier = 'D' OR challenger_tier = 'E'),
    challenger_outcome       TEXT    CHECK (challenger_outcome IS NULL OR challenger_outcome = 'approve'
                                            OR challenger_outcome = 'review' OR challenger_outcome = 'decline'),
    portfolio_review_id      TEXT
) STRICT;

INSERT INTO decisions_rebuilt (id, account_id, score, tier, outcome, recommended_limit, reasons, explanation,
                               model_version, inputs, inputs_sha256, scored_at, expires_at, challenger_model_version,
                               challenger_score, challenger_tier, challenger_outcome, portfolio_review_id)
    SELECT id, account_id, score, tier, outcome, recommended_limit, reasons, explanation, model_version, inputs,
           inputs_sha256, scored_at, expires_at, challenger_model_version, challenger_score, challenger_tier,
           challenger_outcome, portfolio_review_id
    FROM decisions;
DROP TABLE decisions;
ALTER TABLE decisions_rebuilt RENAME TO decisions;
CREATE INDEX decisions_account ON decisions (account_id, scored_at);
CREATE INDEX decisions_scored_at ON decisions (scored_at);
