-- Delivery of the outbox by the gateway: each attempt is a record, a row whose retries ran out is
-- marked failed (an operator may redeliver it), and a commit that adds rows wakes the dispatchers.

-- Set when the retries ran out; cleared by a redelivery.
ALTER TABLE outbox ADD COLUMN failed_at TIMESTAMPTZ;
-- The attempt count at the last redelivery: the retry schedule restarts from there, while attempt
-- numbers keep counting, so every attempt record keeps a number of its own.
ALTER TABLE outbox ADD COLUMN retry_from INTEGER NOT NULL DEFAULT 0;
-- What dispatchers claim: due, neither delivered nor failed, oldest first.
CREATE INDEX outbox_due ON outbox (available_at, outbox_id)
    WHERE delivered_at IS NULL AND failed_at IS NULL;

CREATE TABLE delivery_attempts (
    attempt_id       BIGSERIAL PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    message_id       UUID NOT NULL REFERENCES outbox (message_id),
    supplier_id      UUID NOT NULL,
    return_id        UUID,
    -- 1 for the first try; a try held back by an open circuit breaker repeats the next number.
    attempt_no       INTEGER NOT NULL CHECK (attempt_no > 0),
    started_at       TIMESTAMPTZ NOT NULL,
    duration_ms      BIGINT NOT NULL CHECK (duration_ms >= 0),
    delivered        BOOLEAN NOT NULL,
    -- http_status and grpc_code carry status_code; the others have none.
    outcome          TEXT NOT NULL CHECK (outcome IN ('http_status', 'grpc_code', 'timeout',
                         'connect_error', 'breaker_open', 'destination_refused')),
    status_code      INTEGER,
    -- The start of the supplier's answer (or the error), at most 4 KiB.
    response_excerpt TEXT NOT NULL,
    -- NULL when delivered, or when the retries ran out.
    next_attempt_at  TIMESTAMPTZ,
    FOREIGN KEY (tenant_id, supplier_id) REFERENCES suppliers (tenant_id, supplier_id)
);
CREATE INDEX delivery_attempts_by_return ON delivery_attempts (tenant_id, return_id, attempt_id);
CREATE INDEX delivery_attempts_by_supplier ON delivery_attempts (tenant_id, supplier_id, attempt_id);

-- Every replica's dispatcher LISTENs here; a notification is sent when the inserting transaction
-- commits (and folded with others of the same transaction), so a new row is delivered at once.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('returnbridge_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
