-- PostgreSQL's form of migrations/0002.
CREATE TABLE accounts (
    id                     TEXT   PRIMARY KEY,
    customer_ref           TEXT   NOT NULL CONSTRAINT accounts_customer_ref_key UNIQUE,
    status                 TEXT   NOT NULL CONSTRAINT accounts_status_check CHECK (status IN
                               ('prospect', 'pending_review', 'active', 'frozen', 'declined', 'closed')),
    credit_limit           BIGINT NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
    currency               TEXT   NOT NULL DEFAULT 'CNY',
    limit_increase_opt_out BIGINT NOT NULL DEFAULT 0 CHECK (limit_increase_opt_out IN (0, 1)),
    version                BIGINT NOT NULL DEFAULT 1,
    created_at             TEXT   NOT NULL,
    updated_at             TEXT   NOT NULL
);
