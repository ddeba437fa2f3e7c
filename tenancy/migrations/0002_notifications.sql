-- Notifications: what went wrong for an account that it should learn of
-- (an application that failed, a cap that refused calls), listed by the
-- CPaaS Notifications resource.
CREATE TABLE notifications (
	sid           TEXT PRIMARY KEY,
	account_sid   TEXT NOT NULL REFERENCES accounts (sid),
	call_sid      TEXT NOT NULL,
	error_code    INTEGER NOT NULL,
	log_level     INTEGER NOT NULL,
	message_text  TEXT NOT NULL,
	request_url   TEXT NOT NULL,
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL
);
CREATE INDEX notifications_account ON notifications (account_sid, created, sid);
