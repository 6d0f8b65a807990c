-- Every version of each tenant's seller settings, kept: a return's split applies the settings its
-- decision was made under (Decision.seller_settings_version), never whatever they are today.
CREATE TABLE seller_settings_versions (
    tenant_id   TEXT NOT NULL REFERENCES tenants (tenant_id),
    version     BIGINT NOT NULL,
    -- The v1 SellerSettings message, as in seller_settings.
    settings    BLOB NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, version)
);

-- Earlier versions were overwritten in place and are gone; the current one is kept from here on.
INSERT INTO seller_settings_versions (tenant_id, version, settings, recorded_at)
SELECT tenant_id, version, settings, updated_at FROM seller_settings;
