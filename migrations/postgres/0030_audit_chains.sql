-- PostgreSQL's form of migrations/sqlite/0030 (docs/audit-chain.md, "Chains"): the log becomes
-- several chains, positions (chain, seq); every entry from before stays in chain 0 as it was.
ALTER TABLE audit_log ADD COLUMN chain BIGINT NOT NULL DEFAULT 0 CHECK (chain >= 0);
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;
ALTER TABLE audit_log ADD PRIMARY KEY (chain, seq);

ALTER TABLE accounts ADD COLUMN audit_chain BIGINT NOT NULL DEFAULT 0 CHECK (audit_chain >= 0);

CREATE TABLE audit_chains (
    id             BIGINT PRIMARY KEY CHECK (id = 1),
    account_chains BIGINT NOT NULL CHECK (account_chains >= 1)
);

INSERT INTO audit_chains (id, account_chains) VALUES (1, 1);

-- The write lock and every chain's head in one round trip (as migration 0029 for the one chain):
-- chain 0 and the account chains, each head one probe of the primary key; a chain without an
-- entry yet answers seq 0 and the genesis hash.
CREATE FUNCTION creditline_locked_chain_heads(lock_key BIGINT) RETURNS TABLE (chain BIGINT, seq BIGINT, hash TEXT)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN QUERY
        SELECT c.n::BIGINT, coalesce(h.seq, 0)::BIGINT, coalesce(h.hash, repeat('0', 64))
        FROM generate_series(0::BIGINT, (SELECT account_chains FROM audit_chains WHERE id = 1)) AS c(n)
        LEFT JOIN LATERAL (SELECT a.seq, a.hash FROM audit_log a WHERE a.chain = c.n ORDER BY a.seq DESC LIMIT 1) h ON true;
END
$$;

DROP FUNCTION creditline_locked_chain_head(BIGINT);
