-- Human reviews (SPEC principles 4 and 5): `contest` when a customer asks a person to look at an
-- automated decision (PIPL Art. 24), `activation` when tier D waits for an operator.
CREATE TABLE reviews (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('contest', 'activation')),
    status      TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'cancelled')),
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    decision_id TEXT NOT NULL REFERENCES decisions (id),
    statement   TEXT CHECK (statement IS NULL OR length(statement) <= 1000),
    created_at  TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT,
    resolution  TEXT
) STRICT;

CREATE INDEX reviews_queue ON reviews (status, kind, created_at);

-- One open contest per decision.
CREATE UNIQUE INDEX reviews_one_open_contest ON reviews (decision_id) WHERE kind = 'contest' AND status = 'open';
