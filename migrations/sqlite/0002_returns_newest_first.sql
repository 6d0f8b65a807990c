-- ListReturns pages newest first: (created_at, return_id) descending, resumed after the token's row.
CREATE INDEX returns_newest_first ON returns (tenant_id, created_at, return_id);
