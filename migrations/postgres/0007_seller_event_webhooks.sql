-- Seller event webhooks: every event of a tenant with an event_webhook_url is POSTed to it through
-- the outbox, the same dispatcher, retries and attempt records as supplier requests. A relay copies
-- events into the outbox behind a per-tenant cursor, so the write path of a change is unchanged.

-- Who receives the row: the supplier of supplier_id, or the seller (the tenant). A seller row keeps
-- the return's supplier in supplier_id, for attribution only.
ALTER TABLE outbox ADD COLUMN recipient TEXT NOT NULL DEFAULT 'supplier'
    CHECK (recipient IN ('supplier', 'seller'));
-- The event's sequence number, on seller rows.
ALTER TABLE outbox ADD COLUMN event_seq BIGINT;
-- A seller row waits for the earlier undelivered seller rows of its return: events arrive in order.
CREATE INDEX outbox_seller_pending ON outbox (tenant_id, return_id, outbox_id)
    WHERE recipient = 'seller' AND delivered_at IS NULL AND failed_at IS NULL;

ALTER TABLE delivery_attempts ADD COLUMN recipient TEXT NOT NULL DEFAULT 'supplier'
    CHECK (recipient IN ('supplier', 'seller'));

-- The last event of each tenant the relay has put in the outbox. Created at the tenant's current
-- event when a webhook secret is first issued, so a new webhook gets what happens from then on.
CREATE TABLE seller_event_cursors (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (tenant_id),
    last_seq  BIGINT NOT NULL
);
