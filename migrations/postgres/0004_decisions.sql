-- PostgreSQL's form of migrations/0004.
CREATE TABLE decisions (
    id                TEXT   PRIMARY KEY,
    account_id        TEXT   NOT NULL REFERENCES accounts (id),
    score             BIGINT NOT NULL CHECK (score BETWEEN 300 AND 850),
    tier              TEXT   NOT NULL CHECK (tier IN ('A', 'B', 'C', 'D', 'E')),
    outcome           TEXT   NOT NULL CHECK (outcome IN ('approve', 'review', 'decline')),
    recommended_limit BIGINT NOT NULL CHECK (recommended_limit >= 0),
    reasons           TEXT   NOT NULL,
    explanation       TEXT   NOT NULL,
    model_version     TEXT   NOT NULL,
    inputs            TEXT,
    inputs_sha256     TEXT   NOT NULL,
    scored_at         TEXT   NOT NULL,
    expires_at        TEXT   NOT NULL
);

CREATE INDEX decisions_account ON decisions (account_id, scored_at);
