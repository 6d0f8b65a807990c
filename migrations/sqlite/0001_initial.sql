-- Returnbridge's initial schema (SQLite twin of migrations/postgres/0001: UUIDs and instants as
-- canonical text, which sorts in time order). Every tenant-owned table is keyed by (tenant_id, ...) so that tenant
-- isolation is part of every index and every lookup.

CREATE TABLE tenants (
    tenant_id      TEXT PRIMARY KEY,
    created_at     TEXT NOT NULL,
    -- Per-tenant event counter: bumping it inside the writing transaction serializes a tenant's event
    -- writers, so event sequence numbers become visible in order (a plain sequence would let a reader
    -- skip a lower number that commits later).
    last_event_seq BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE suppliers (
    tenant_id          TEXT NOT NULL REFERENCES tenants (tenant_id),
    supplier_id        TEXT NOT NULL,
    display_name       TEXT NOT NULL,
    connector_kind     TEXT NOT NULL CHECK (connector_kind IN ('webhook', 'grpc')),
    connector_url      TEXT NOT NULL,
    webhook_secret     TEXT NOT NULL,
    backup_supplier_id TEXT,
    version            BIGINT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, supplier_id),
    -- The backup must be a supplier of the same tenant.
    FOREIGN KEY (tenant_id, backup_supplier_id) REFERENCES suppliers (tenant_id, supplier_id)
);

CREATE TABLE api_keys (
    key_id      TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (tenant_id),
    supplier_id TEXT,
    name        TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    -- SHA-256 of the whole key; the key itself is shown once and never stored.
    secret_hash BLOB NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    FOREIGN KEY (tenant_id, supplier_id) REFERENCES suppliers (tenant_id, supplier_id)
);

CREATE TABLE contract_versions (
    tenant_id      TEXT NOT NULL,
    supplier_id    TEXT NOT NULL,
    version        BIGINT NOT NULL CHECK (version > 0),
    effective_from TEXT NOT NULL,
    -- The v1 ContractTerms message, validated before it was stored.
    terms          BLOB NOT NULL,
    -- Free text for humans (PublishContractRequest.description).
    description    TEXT NOT NULL,
    published_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, supplier_id, version),
    FOREIGN KEY (tenant_id, supplier_id) REFERENCES suppliers (tenant_id, supplier_id)
);
CREATE INDEX contract_versions_in_effect ON contract_versions (tenant_id, supplier_id, effective_from);

CREATE TABLE seller_settings (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (tenant_id),
    -- The v1 SellerSettings message.
    settings   BLOB NOT NULL,
    version    BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    -- Signs the tenant's event webhooks; shown once, when issued. NULL until one is issued.
    event_webhook_secret TEXT
);

CREATE TABLE returns (
    tenant_id         TEXT NOT NULL,
    return_id         TEXT NOT NULL,
    supplier_id       TEXT NOT NULL,
    order_id          TEXT NOT NULL,
    reason            TEXT NOT NULL,
    status            TEXT NOT NULL,
    version           BIGINT NOT NULL,
    contract_version  INTEGER NOT NULL,
    statutory_profile TEXT NOT NULL,
    currency          TEXT NOT NULL,
    ship_by           TEXT,
    -- The v1 Return message: the return's whole record. The columns above are copies for queries.
    document          BLOB NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, return_id),
    FOREIGN KEY (tenant_id, supplier_id) REFERENCES suppliers (tenant_id, supplier_id)
);
CREATE INDEX returns_by_status ON returns (tenant_id, status, return_id);
CREATE INDEX returns_by_supplier ON returns (tenant_id, supplier_id, return_id);
CREATE INDEX returns_awaiting_shipment ON returns (ship_by) WHERE status = 'AUTHORIZED';

-- Units returned so far per order line, across all of an order's returns.
CREATE TABLE returned_units (
    tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
    order_id  TEXT NOT NULL,
    sku       TEXT NOT NULL,
    quantity  BIGINT NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (tenant_id, order_id, sku)
);

CREATE TABLE return_events (
    tenant_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    return_id   TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    occurred_at TEXT NOT NULL,
    -- The v1 ReturnEvent message.
    detail      BLOB NOT NULL,
    PRIMARY KEY (tenant_id, seq),
    FOREIGN KEY (tenant_id, return_id) REFERENCES returns (tenant_id, return_id)
);
CREATE INDEX return_events_by_return ON return_events (tenant_id, return_id, seq);

-- Supplier-bound messages, written in the same transaction as the change that causes them and
-- claimed by gateway replicas with FOR UPDATE SKIP LOCKED.
CREATE TABLE outbox (
    outbox_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Stable across retries: the Standard Webhooks `webhook-id` suppliers deduplicate on.
    message_id    TEXT NOT NULL UNIQUE,
    tenant_id     TEXT NOT NULL,
    supplier_id   TEXT NOT NULL,
    return_id     TEXT,
    kind          TEXT NOT NULL,
    -- The v1 message forwarded to the supplier.
    payload       BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    available_at  TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    claimed_until TEXT,
    delivered_at  TEXT,
    last_error    TEXT,
    FOREIGN KEY (tenant_id, supplier_id) REFERENCES suppliers (tenant_id, supplier_id)
);
CREATE INDEX outbox_pending ON outbox (available_at) WHERE delivered_at IS NULL;

CREATE TABLE idempotency_records (
    tenant_id       TEXT NOT NULL REFERENCES tenants (tenant_id),
    idempotency_key TEXT NOT NULL,
    -- SHA-256 over the RPC name and the request bytes: the same key with another request is refused.
    request_hash    BLOB NOT NULL,
    response        BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX idempotency_records_by_age ON idempotency_records (created_at);

-- Units sold, reported by the seller, for return-rate analytics. One row per supplier, SKU and period;
-- reporting the same period again replaces it.
CREATE TABLE sales_records (
    tenant_id    TEXT NOT NULL,
    supplier_id  TEXT NOT NULL,
    sku          TEXT NOT NULL,
    category     TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    units_sold   BIGINT NOT NULL CHECK (units_sold >= 0),
    recorded_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, supplier_id, sku, period_start, period_end),
    FOREIGN KEY (tenant_id, supplier_id) REFERENCES suppliers (tenant_id, supplier_id)
);

-- The final liability split of each resolved return, written once in the resolving transaction and
-- never changed: the line a settlement statement lists, with its signed amounts for the totals.
CREATE TABLE liability_splits (
    tenant_id                 TEXT NOT NULL,
    return_id                 TEXT NOT NULL,
    supplier_id               TEXT NOT NULL,
    currency                  TEXT NOT NULL,
    resolved_at               TEXT NOT NULL,
    contract_version          BIGINT NOT NULL,
    statutory_profile_version TEXT NOT NULL,
    supplier_owes_seller      BIGINT NOT NULL CHECK (supplier_owes_seller >= 0),
    seller_owes_supplier      BIGINT NOT NULL CHECK (seller_owes_supplier >= 0),
    -- The v1 LiabilitySplit and SettlementLine messages.
    split                     BLOB NOT NULL,
    line                      BLOB NOT NULL,
    PRIMARY KEY (tenant_id, return_id),
    FOREIGN KEY (tenant_id, return_id) REFERENCES returns (tenant_id, return_id)
);
CREATE INDEX liability_splits_for_settlement
    ON liability_splits (tenant_id, supplier_id, currency, resolved_at, return_id);

-- One posting per allocation of a final split: who bears how much of which cost, under which rule.
CREATE TABLE ledger_entries (
    tenant_id   TEXT NOT NULL,
    return_id   TEXT NOT NULL,
    entry_no    INTEGER NOT NULL,
    party       TEXT NOT NULL,
    component   TEXT NOT NULL,
    amount      BIGINT NOT NULL CHECK (amount >= 0),
    currency    TEXT NOT NULL,
    rule        TEXT NOT NULL,
    posted_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, return_id, entry_no),
    FOREIGN KEY (tenant_id, return_id) REFERENCES liability_splits (tenant_id, return_id)
);
