-- A rotated supplier webhook secret keeps signing beside the new one until previous_secret_until, so
-- the supplier can switch over without a delivery it cannot verify.
ALTER TABLE suppliers ADD COLUMN previous_webhook_secret TEXT;
ALTER TABLE suppliers ADD COLUMN previous_secret_until TIMESTAMPTZ;
