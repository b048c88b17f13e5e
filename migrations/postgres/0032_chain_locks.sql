-- One lock a chain (docs/architecture.md, "Chains and their locks"): a write transaction takes
-- the write lock shared and the locks of the chains its writes belong to, in the order of their
-- numbers (so two transactions never wait on each other in a circle), and reads those chains'
-- heads after they are held; a write of no one account (keys, model reviews, sweeps) takes the
-- write lock alone, exclusive, as every write did before, and reads every head. `chains` is the
-- chains' numbers joined by commas. The answer's account_chains is the database's count.
CREATE FUNCTION creditline_lock_chains(lock_key INTEGER, chains TEXT, exclusive BOOLEAN)
RETURNS TABLE (chain BIGINT, seq BIGINT, hash TEXT, account_chains BIGINT)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    wanted BIGINT[];
    one BIGINT;
    chain_count BIGINT;
BEGIN
    IF exclusive THEN
        PERFORM pg_advisory_xact_lock(lock_key::BIGINT);
    ELSE
        PERFORM pg_advisory_xact_lock_shared(lock_key::BIGINT);
    END IF;
    SELECT c.account_chains INTO chain_count FROM audit_chains c WHERE c.id = 1;
    IF exclusive THEN
        SELECT array_agg(n) INTO wanted FROM generate_series(0::BIGINT, chain_count) AS n;
    ELSE
        SELECT coalesce(array_agg(DISTINCT v::BIGINT ORDER BY v::BIGINT), '{}') INTO wanted
        FROM unnest(string_to_array(chains, ',')) AS v WHERE v <> '';
        FOREACH one IN ARRAY wanted LOOP
            PERFORM pg_advisory_xact_lock(lock_key, one::INTEGER);
        END LOOP;
    END IF;
    RETURN QUERY
        SELECT w.n, coalesce(h.seq, 0)::BIGINT, coalesce(h.hash, repeat('0', 64)), chain_count
        FROM unnest(wanted) AS w(n)
        LEFT JOIN LATERAL (SELECT a.seq, a.hash FROM audit_log a WHERE a.chain = w.n ORDER BY a.seq DESC LIMIT 1) h ON true;
END
$$;

-- One more chain's lock and head, for a write that reaches a chain it did not name at its start:
-- taken only if it is free (waiting for it out of order could deadlock; the caller then runs its
-- work again with the chain locked first). `locked` is false and the head empty when it is not.
CREATE FUNCTION creditline_try_lock_chain(lock_key INTEGER, wanted BIGINT)
RETURNS TABLE (locked BOOLEAN, seq BIGINT, hash TEXT)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(lock_key, wanted::INTEGER) THEN
        RETURN QUERY SELECT false, 0::BIGINT, repeat('0', 64);
        RETURN;
    END IF;
    RETURN QUERY
        SELECT true, coalesce(max(a.seq), 0)::BIGINT,
               coalesce((SELECT b.hash FROM audit_log b WHERE b.chain = wanted ORDER BY b.seq DESC LIMIT 1), repeat('0', 64))
        FROM audit_log a WHERE a.chain = wanted;
END
$$;

DROP FUNCTION creditline_locked_chain_heads(BIGINT);
