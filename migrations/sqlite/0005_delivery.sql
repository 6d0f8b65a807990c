-- Delivery of the outbox by the gateway: each attempt is a record, a row whose retries ran out is
-- marked failed (an operator may redeliver it). The in-process wake-up on commit needs no schema.

-- Set when the retries ran out; cleared by a redelivery.
ALTER TABLE outbox ADD COLUMN failed_at TEXT;
-- The attempt count at the last redelivery: the retry schedule restarts from there, while attempt
-- numbers keep counting, so every attempt record keeps a number of its own.
ALTER TABLE outbox ADD COLUMN retry_from INTEGER NOT NULL DEFAULT 0;
-- What the dispatcher claims: due, neither delivered nor failed, oldest first.
CREATE INDEX outbox_due ON outbox (available_at, outbox_id)
    WHERE delivered_at IS NULL AND failed_at IS NULL;

CREATE TABLE delivery_attempts (
    attempt_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        TEXT NOT NULL,
    message_id       TEXT NOT NULL REFERENCES outbox (message_id),
    supplier_id      TEXT NOT NULL,
    return_id        TEXT,
    -- 1 for the first try; a try held back by an open circuit breaker repeats the next number.
    attempt_no       INTEGER NOT NULL CHECK (attempt_no > 0),
    started_at       TEXT NOT NULL,
    duration_ms      INTEGER NOT NULL CHECK (duration_ms >= 0),
    delivered        BOOLEAN NOT NULL,
    -- http_status and grpc_code carry status_code; the others have none.
    outcome          TEXT NOT NULL CHECK (outcome IN ('http_status', 'grpc_code', 'timeout',
                         'connect_error', 'breaker_open', 'destination_refused')),
    status_code      INTEGER,
    -- The start of the supplier's answer (or the error), at most 4 KiB.
    response_excerpt TEXT NOT NULL,
    -- NULL when delivered, or when the retries ran out.
    next_attempt_at  TEXT,
    FOREIGN KEY (tenant_id, supplier_id) REFERENCES suppliers (tenant_id, supplier_id)
);
CREATE INDEX delivery_attempts_by_return ON delivery_attempts (tenant_id, return_id, attempt_id);
CREATE INDEX delivery_attempts_by_supplier ON delivery_attempts (tenant_id, supplier_id, attempt_id);
