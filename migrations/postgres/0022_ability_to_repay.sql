-- PostgreSQL's form of migrations/0022: affordability assessments and a line's limit basis.
CREATE TABLE affordability_assessments (
    id                  TEXT   PRIMARY KEY,
    account_id          TEXT   NOT NULL REFERENCES accounts (id),
    monthly_income      BIGINT CHECK (monthly_income IS NULL OR monthly_income > 0),
    monthly_obligations BIGINT CHECK (monthly_obligations IS NULL OR monthly_obligations >= 0),
    source              TEXT   NOT NULL CHECK (source IN ('self_declared', 'verified')),
    evidence_ref        TEXT,
    assessed_at         TEXT   NOT NULL,
    valid_until         TEXT   NOT NULL,
    erased_at           TEXT,
    CHECK ((erased_at IS NULL) = (monthly_income IS NOT NULL AND monthly_obligations IS NOT NULL))
);

CREATE INDEX affordability_assessments_account ON affordability_assessments (account_id, assessed_at);

ALTER TABLE accounts ADD COLUMN limit_basis TEXT;
