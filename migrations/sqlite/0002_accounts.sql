-- Credit line accounts (SPEC "Domain: Account"). Money is integer fen.
CREATE TABLE accounts (
    id                     TEXT    PRIMARY KEY,
    customer_ref           TEXT    NOT NULL UNIQUE,
    status                 TEXT    NOT NULL CHECK (status IN
                               ('prospect', 'pending_review', 'active', 'frozen', 'declined', 'closed')),
    credit_limit           INTEGER NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
    currency               TEXT    NOT NULL DEFAULT 'CNY',
    limit_increase_opt_out INTEGER NOT NULL DEFAULT 0 CHECK (limit_increase_opt_out IN (0, 1)),
    version                INTEGER NOT NULL DEFAULT 1,
    created_at             TEXT    NOT NULL,
    updated_at             TEXT    NOT NULL
) STRICT;
