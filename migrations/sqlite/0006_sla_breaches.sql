-- Every missed supplier deadline, once: the primary key makes a second record of the same request's
-- deadline fail, whichever replica's clock fires. ListSlaBreaches and the SLA figures read it.
CREATE TABLE sla_breaches (
    tenant_id            TEXT NOT NULL,
    request_id           TEXT NOT NULL,
    deadline_kind        TEXT NOT NULL,
    return_id            TEXT NOT NULL,
    supplier_id          TEXT NOT NULL,
    request_kind         TEXT NOT NULL,
    deadline_at          TEXT NOT NULL,
    breached_at          TEXT NOT NULL,
    action               TEXT NOT NULL,
    failover_supplier_id TEXT,
    contract_version     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, request_id, deadline_kind),
    FOREIGN KEY (tenant_id, return_id) REFERENCES returns (tenant_id, return_id)
);
CREATE INDEX sla_breaches_newest_first ON sla_breaches (tenant_id, breached_at, request_id);
