-- The status-callback outbox: one row per event, delivered in order of id
-- per call. state: 0 pending, 1 delivered, 2 given up.
CREATE TABLE webhook_outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_sid  TEXT    NOT NULL,
    call_sid     TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    url          TEXT    NOT NULL,
    method       TEXT    NOT NULL,
    params       TEXT    NOT NULL,
    state        INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    last_error   TEXT    NOT NULL DEFAULT '',
    created      INTEGER NOT NULL,
    UNIQUE (call_sid, seq)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt);
CREATE INDEX webhook_outbox_call ON webhook_outbox (call_sid, state, id);
