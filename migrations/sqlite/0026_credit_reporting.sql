-- Credit reporting (README "Credit reporting"): each day's run, claimed once per installation;
-- every report and correction it made; and the negative report that stands for each account.
CREATE TABLE bureau_runs (
    report_date TEXT    PRIMARY KEY CHECK (length(report_date) = 10),
    claimed_at  TEXT    NOT NULL,
    reports     INTEGER NOT NULL DEFAULT 0 CHECK (reports >= 0),
    -- The file the run was written to, once it was.
    file        TEXT,
    written_at  TEXT
) STRICT;

CREATE TABLE bureau_reports (
    id                TEXT    PRIMARY KEY,
    account_id        TEXT    NOT NULL REFERENCES accounts (id),
    report_date       TEXT    NOT NULL REFERENCES bureau_runs (report_date),
    kind              TEXT    NOT NULL CHECK (kind IN ('negative', 'correction')),
    status_code       TEXT    NOT NULL CHECK (status_code IN ('overdue_30_59', 'overdue_60_89', 'overdue_90_plus', 'charged_off')),
    reason            TEXT    CHECK (reason IS NULL OR reason IN ('settled', 'dispute_upheld')),
    corrects          TEXT    REFERENCES bureau_reports (id),
    days_past_due     INTEGER NOT NULL CHECK (days_past_due >= 0),
    oldest_unpaid_due TEXT,
    amount_overdue    INTEGER NOT NULL CHECK (amount_overdue >= 0),
    balance           INTEGER NOT NULL CHECK (balance >= 0),
    fees_outstanding  INTEGER NOT NULL CHECK (fees_outstanding >= 0),
    reported_at       TEXT    NOT NULL,
    CHECK ((kind = 'negative') = (reason IS NULL AND corrects IS NULL))
) STRICT;

CREATE INDEX bureau_reports_account ON bureau_reports (account_id, reported_at);
CREATE INDEX bureau_reports_run ON bureau_reports (report_date);

-- The negative report that stands for an account until it is corrected.
CREATE TABLE bureau_standing (
    account_id     TEXT PRIMARY KEY REFERENCES accounts (id),
    report_id      TEXT NOT NULL REFERENCES bureau_reports (id),
    status_code    TEXT NOT NULL,
    episode_due_on TEXT
) STRICT;
