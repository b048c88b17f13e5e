-- Ability to repay (README "Ability to repay"): the customer's income and obligations, as they
-- declared them or as they were verified, each assessment valid 12 months. Financial
-- information is sensitive (PIPL Art. 28): the amounts are erased, the row kept as the record
-- that an assessment was made, when the credit_assessment consent ends.
CREATE TABLE affordability_assessments (
    id                  TEXT    PRIMARY KEY,
    account_id          TEXT    NOT NULL REFERENCES accounts (id),
    monthly_income      INTEGER CHECK (monthly_income IS NULL OR monthly_income > 0),
    monthly_obligations INTEGER CHECK (monthly_obligations IS NULL OR monthly_obligations >= 0),
    source              TEXT    NOT NULL CHECK (source IN ('self_declared', 'verified')),
    evidence_ref        TEXT,
    assessed_at         TEXT    NOT NULL,
    valid_until         TEXT    NOT NULL,
    erased_at           TEXT,
    CHECK ((erased_at IS NULL) = (monthly_income IS NOT NULL AND monthly_obligations IS NOT NULL))
) STRICT;

CREATE INDEX affordability_assessments_account ON affordability_assessments (account_id, assessed_at);

-- Why a line has its limit: the bounds weighed when it was last set, and which one binds.
ALTER TABLE accounts ADD COLUMN limit_basis TEXT;
