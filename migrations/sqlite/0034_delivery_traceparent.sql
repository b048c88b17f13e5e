-- Traces (README "Operations", "Traces"): a webhook push joins the trace of the request whose
-- write owed it. The W3C traceparent of that write's span, kept on the delivery; NULL while
-- tracing is off. It names ids the tracer made, nothing of the customer.
ALTER TABLE webhook_deliveries ADD COLUMN traceparent TEXT CHECK (traceparent IS NULL OR length(traceparent) <= 64);
