-- Supplier delivery settings: webhook secret rotation and a delivery policy per supplier.

-- A rotated supplier webhook secret keeps signing beside the new one until previous_secret_until, so
-- the supplier can switch over without a delivery it cannot verify.
ALTER TABLE suppliers ADD COLUMN previous_webhook_secret TEXT;
ALTER TABLE suppliers ADD COLUMN previous_secret_until TEXT;

-- The supplier's delivery policy (its own retry schedule, a rate limit) as the store's JSON
-- (`{"retry_delays_secs": [...], "max_per_second": n}`); NULL takes the gateway's defaults.
ALTER TABLE suppliers ADD COLUMN delivery_policy TEXT;
