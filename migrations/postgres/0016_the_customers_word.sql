-- The customer's word (README "Activation, reviews and limits"): the limit a customer asked for
-- travels with their review, so no approval grants more; an operator may instead offer more,
-- which the customer takes or leaves. An operator's offer has no periodic review behind it, but a
-- reason code and the key that made it (an operator's note goes to `notes`, swept as the others are).
ALTER TABLE reviews ADD COLUMN requested_limit BIGINT CHECK (requested_limit IS NULL OR requested_limit >= 0);

ALTER TABLE limit_offers ALTER COLUMN review_id DROP NOT NULL;
ALTER TABLE limit_offers ADD COLUMN reason_code TEXT;
ALTER TABLE limit_offers ADD COLUMN made_by TEXT;
ALTER TABLE limit_offers ADD CONSTRAINT limit_offers_made_by_someone
    CHECK (review_id IS NOT NULL OR (reason_code IS NOT NULL AND made_by IS NOT NULL));
