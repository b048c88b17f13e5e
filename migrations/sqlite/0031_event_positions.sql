-- Events take their position from their audit entry (docs/audit-chain.md, "Reading the log"):
-- `chain` is the account's chain and `chain_seq` the entry's seq in it, so that a reader polling
-- GET /v1/events moves a position chain by chain, and each chain's events commit in the order of
-- their chain_seq, as its entries do. `seq` stays the event's number for webhooks and deliveries.
-- Events from before take chain 0 and their order as chain_seq (1, 2, …): there are no more of
-- them than chain 0's entries, so every later event of chain 0 comes after them.
ALTER TABLE events ADD COLUMN chain INTEGER NOT NULL DEFAULT 0 CHECK (chain >= 0);
ALTER TABLE events ADD COLUMN chain_seq INTEGER;

UPDATE events SET chain_seq = numbered.n
FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM events) AS numbered
WHERE numbered.seq = events.seq;

CREATE UNIQUE INDEX events_position ON events (chain, chain_seq);
