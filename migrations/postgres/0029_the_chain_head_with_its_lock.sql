-- The chain's lock and its head in one round trip (issue "PostgreSQL in fewer round trips"):
-- every write transaction takes the chain's advisory lock, then reads the head it appends to.
-- Inside a VOLATILE function each query takes a fresh snapshot under READ COMMITTED, so the
-- head is read after the lock is held and sees every entry committed before it.
CREATE FUNCTION creditline_locked_chain_head(lock_key BIGINT) RETURNS TABLE (seq BIGINT, hash TEXT)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN QUERY SELECT a.seq, a.hash FROM audit_log a ORDER BY a.seq DESC LIMIT 1;
END
$$;
