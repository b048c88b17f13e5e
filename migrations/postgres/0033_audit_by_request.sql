-- An auditor asks which entries one request wrote (GET /v1/audit?request_id=req_…, README
-- "Operations", "Request ids"): the server's request id, read through an index instead of the
-- whole log, chain by chain in order as every page is read.
CREATE INDEX audit_log_request ON audit_log (request_id, chain, seq);
