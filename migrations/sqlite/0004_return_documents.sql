-- A return is stored as the store's own document, the domain return as versioned JSON
-- (`document_format` 'return-json-1'), no longer as the public v1 message, so changing the API never
-- rewrites stored data. Rows written before keep 'v1-proto' until the upgrade that runs after
-- migrations (`returnbridge migrate`, and `serve` at start) rewrites them and fills the columns below.
ALTER TABLE returns ADD COLUMN document_format TEXT NOT NULL DEFAULT 'v1-proto';
CREATE INDEX returns_to_upgrade ON returns (document_format) WHERE document_format <> 'return-json-1';

-- The earliest running deadline of each kind over the return's open supplier requests: what the SLA
-- clock scans. NULL when none runs.
ALTER TABLE returns ADD COLUMN ack_by TEXT;
ALTER TABLE returns ADD COLUMN decide_by TEXT;
ALTER TABLE returns ADD COLUMN credit_by TEXT;
CREATE INDEX returns_ack_due ON returns (ack_by) WHERE ack_by IS NOT NULL;
CREATE INDEX returns_decision_due ON returns (decide_by) WHERE decide_by IS NOT NULL;
CREATE INDEX returns_credit_due ON returns (credit_by) WHERE credit_by IS NOT NULL;

-- contract_version, statutory_profile and currency were written empty until now; they hold the
-- decision's contract version and profile version and the order's currency from here on.
