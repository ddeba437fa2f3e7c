-- Per-application webhook timeouts, in milliseconds: how long Patchbay
-- waits to connect to the application and for its whole answer. 0 keeps
-- the account's webhooks service setting (or Patchbay's default).
ALTER TABLE applications ADD COLUMN webhook_connect_timeout INTEGER NOT NULL DEFAULT 0;
ALTER TABLE applications ADD COLUMN webhook_timeout INTEGER NOT NULL DEFAULT 0;
