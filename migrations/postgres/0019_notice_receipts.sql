-- When a notice's delivery report arrived, by the service's clock (README "Events and notices"):
-- the report's own delivered_at is the caller's word, and one dated long before it arrived is an
-- anomaly the compliance report names. Reports made before this have none.
ALTER TABLE notices ADD COLUMN received_at TEXT;
