-- The final status callback of each call in progress whose application
-- asked for it, stored when the call starts and removed when its final
-- event is enqueued. A row still here at start-up belongs to a call cut by
-- a crash; the server then enqueues its completed event from the CDR.
CREATE TABLE webhook_outbox_final (
    call_sid    TEXT    PRIMARY KEY,
    account_sid TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    method      TEXT    NOT NULL,
    params      TEXT    NOT NULL,
    created     INTEGER NOT NULL
);
