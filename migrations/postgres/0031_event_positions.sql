-- PostgreSQL's form of migrations/sqlite/0031: events positioned by their audit entry's
-- (chain, seq), the events from before numbered in chain 0 in their order.
ALTER TABLE events ADD COLUMN chain BIGINT NOT NULL DEFAULT 0 CHECK (chain >= 0);
ALTER TABLE events ADD COLUMN chain_seq BIGINT;

UPDATE events SET chain_seq = numbered.n
FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM events) AS numbered
WHERE numbered.seq = events.seq;

CREATE UNIQUE INDEX events_position ON events (chain, chain_seq);
