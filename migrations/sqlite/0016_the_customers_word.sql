-- The customer's word (README "Activation, reviews and limits"): the limit a customer asked for
-- travels with their review, so no approval grants more; an operator may instead offer more,
-- which the customer takes or leaves. An operator's offer has no periodic review behind it, but a
-- reason code and the key that made it (an operator's note goes to `notes`, swept as the others
-- are). review_id's NOT NULL is part of the table, so the table is rebuilt.
ALTER TABLE reviews ADD COLUMN requested_limit INTEGER CHECK (requested_limit IS NULL OR requested_limit >= 0);

CREATE TABLE limit_offers_by_anyone (
    id            TEXT    PRIMARY KEY,
    account_id    TEXT    NOT NULL REFERENCES accounts (id),
    review_id     TEXT    REFERENCES portfolio_reviews (id),
    decision_id   TEXT    NOT NULL REFERENCES decisions (id),
    current_limit INTEGER NOT NULL CHECK (current_limit >= 0),
    offered_limit INTEGER NOT NULL CHECK (offered_limit > current_limit),
    status        TEXT    NOT NULL CHECK (status IN ('open', 'accepted', 'superseded')),
    created_at    TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL,
    accepted_at   TEXT,
    reason_code   TEXT,
    made_by       TEXT,
    -- Either a periodic review's or an operator's, with its reason.
    CHECK (review_id IS NOT NULL OR (reason_code IS NOT NULL AND made_by IS NOT NULL))
) STRICT;

INSERT INTO limit_offers_by_anyone (id, account_id, review_id, decision_id, current_limit, offered_limit, status,
                                    created_at, expires_at, accepted_at)
    SELECT id, account_id, review_id, decision_id, current_limit, offered_limit, status, created_at, expires_at,
           accepted_at
    FROM limit_offers;
DROP TABLE limit_offers;
ALTER TABLE limit_offers_by_anyone RENAME TO limit_offers;

CREATE INDEX limit_offers_account ON limit_offers (account_id, created_at);
