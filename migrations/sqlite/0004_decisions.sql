-- Scoring decisions (SPEC "Decision"). `inputs` holds the features as given and is erased (set
-- to NULL) when the credit_assessment consent is withdrawn; the score, reasons and the inputs'
-- hash remain as the record of the decision (PIPL Art. 47).
CREATE TABLE decisions (
    id                TEXT    PRIMARY KEY,
    account_id        TEXT    NOT NULL REFERENCES accounts (id),
    score             INTEGER NOT NULL CHECK (score BETWEEN 300 AND 850),
    tier              TEXT    NOT NULL CHECK (tier IN ('A', 'B', 'C', 'D', 'E')),
    outcome           TEXT    NOT NULL CHECK (outcome IN ('approve', 'review', 'decline')),
    recommended_limit INTEGER NOT NULL CHECK (recommended_limit >= 0),
    reasons           TEXT    NOT NULL,
    -- Per characteristic: bin, points and best points (no values), kept after inputs are erased.
    explanation       TEXT    NOT NULL,
    model_version     TEXT    NOT NULL,
    inputs            TEXT,
    inputs_sha256     TEXT    NOT NULL,
    scored_at         TEXT    NOT NULL,
    expires_at        TEXT    NOT NULL
) STRICT;

CREATE INDEX decisions_account ON decisions (account_id, scored_at);
