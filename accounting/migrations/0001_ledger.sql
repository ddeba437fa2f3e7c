-- Call detail records: one row per call leg, written when the leg opens and
-- closed when it ends. Times are Unix milliseconds (UTC); NULL until known.
CREATE TABLE accounting_cdrs (
	sid            TEXT PRIMARY KEY,
	parent_sid     TEXT NOT NULL DEFAULT '',
	account_sid    TEXT NOT NULL,
	direction      TEXT NOT NULL,
	from_uri       TEXT NOT NULL DEFAULT '',
	to_uri         TEXT NOT NULL DEFAULT '',
	forwarded_from TEXT NOT NULL DEFAULT '',
	caller_name    TEXT NOT NULL DEFAULT '',
	sip_call_id    TEXT NOT NULL DEFAULT '',
	application    TEXT NOT NULL DEFAULT '',
	trunk_sid      TEXT NOT NULL DEFAULT '',
	media_mode     TEXT NOT NULL DEFAULT '',
	node           TEXT NOT NULL,
	created        INTEGER NOT NULL,
	ringing        INTEGER,
	answered       INTEGER,
	ended          INTEGER,
	status         TEXT NOT NULL,
	end_cause      TEXT NOT NULL DEFAULT '',
	sip_code       INTEGER NOT NULL DEFAULT 0,
	sip_reason     TEXT NOT NULL DEFAULT '',
	ring_ms        INTEGER NOT NULL DEFAULT 0,
	talk_ms        INTEGER NOT NULL DEFAULT 0,
	billable_s     INTEGER NOT NULL DEFAULT 0,
	codec          TEXT NOT NULL DEFAULT '',
	srtp           INTEGER NOT NULL DEFAULT 0,
	pkts_sent      INTEGER NOT NULL DEFAULT 0,
	pkts_recv      INTEGER NOT NULL DEFAULT 0,
	bytes_sent     INTEGER NOT NULL DEFAULT 0,
	bytes_recv     INTEGER NOT NULL DEFAULT 0,
	pkts_lost      INTEGER NOT NULL DEFAULT 0,
	jitter_us      INTEGER NOT NULL DEFAULT 0,
	rtt_us         INTEGER NOT NULL DEFAULT 0,
	recording_ms   INTEGER NOT NULL DEFAULT 0,
	price_micro    INTEGER NOT NULL DEFAULT 0,
	price_unit     TEXT NOT NULL DEFAULT '',
	recovered      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX accounting_cdrs_account_created ON accounting_cdrs (account_sid, created);
CREATE INDEX accounting_cdrs_account_ended ON accounting_cdrs (account_sid, ended);
CREATE INDEX accounting_cdrs_parent ON accounting_cdrs (parent_sid) WHERE parent_sid <> '';
CREATE INDEX accounting_cdrs_open ON accounting_cdrs (node) WHERE ended IS NULL;

-- Usage records: per account, category, UTC day and subject (a trunk SID
-- for per-trunk call categories, otherwise empty). usage is in the
-- category's base unit (seconds for minutes and hours, else the count).
CREATE TABLE accounting_usage (
	account_sid TEXT NOT NULL,
	category    TEXT NOT NULL,
	day         TEXT NOT NULL,
	subject     TEXT NOT NULL DEFAULT '',
	count       INTEGER NOT NULL DEFAULT 0,
	usage       INTEGER NOT NULL DEFAULT 0,
	price_micro INTEGER NOT NULL DEFAULT 0,
	price_unit  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (account_sid, category, day, subject)
);
CREATE INDEX accounting_usage_day ON accounting_usage (account_sid, day);

-- Running spend per account and UTC month ("2026-12"), in micro-units.
CREATE TABLE accounting_spend (
	account_sid TEXT NOT NULL,
	month       TEXT NOT NULL,
	price_micro INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (account_sid, month)
);

-- Last heartbeat of each node, Unix milliseconds.
CREATE TABLE accounting_nodes (
	node      TEXT PRIMARY KEY,
	heartbeat INTEGER NOT NULL
);

-- Price plans, owned by an account, and which plan each account uses.
CREATE TABLE accounting_price_plans (
	sid           TEXT PRIMARY KEY,
	account_sid   TEXT NOT NULL,
	friendly_name TEXT NOT NULL DEFAULT '',
	price_unit    TEXT NOT NULL,
	monthly_fee   INTEGER NOT NULL DEFAULT 0,
	body          TEXT NOT NULL,
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL
);
CREATE INDEX accounting_price_plans_account ON accounting_price_plans (account_sid);

CREATE TABLE accounting_plan_assignments (
	account_sid TEXT PRIMARY KEY,
	plan_sid    TEXT NOT NULL REFERENCES accounting_price_plans (sid),
	updated     INTEGER NOT NULL
);
