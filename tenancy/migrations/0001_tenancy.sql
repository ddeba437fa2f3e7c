-- Tenancy schema. Times are INTEGER nanoseconds since the Unix epoch (UTC).
-- Empty optional references are NULL so that foreign keys hold.

CREATE TABLE accounts (
	sid           TEXT PRIMARY KEY,
	parent_sid    TEXT REFERENCES accounts (sid),
	friendly_name TEXT NOT NULL,
	auth_token    TEXT NOT NULL,
	status        TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'closed')),
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL
);
CREATE INDEX accounts_parent ON accounts (parent_sid, created, sid);
CREATE INDEX accounts_created ON accounts (created, sid);

CREATE TABLE applications (
	sid                    TEXT PRIMARY KEY,
	account_sid            TEXT NOT NULL REFERENCES accounts (sid),
	friendly_name          TEXT NOT NULL,
	voice_url              TEXT NOT NULL,
	voice_method           TEXT NOT NULL,
	voice_fallback_url     TEXT NOT NULL,
	voice_fallback_method  TEXT NOT NULL,
	status_callback        TEXT NOT NULL,
	status_callback_method TEXT NOT NULL,
	status_callback_events TEXT NOT NULL,
	created                INTEGER NOT NULL,
	updated                INTEGER NOT NULL
);
CREATE INDEX applications_account ON applications (account_sid, created, sid);

CREATE TABLE trunks (
	sid           TEXT PRIMARY KEY,
	account_sid   TEXT NOT NULL REFERENCES accounts (sid),
	friendly_name TEXT NOT NULL,
	domain_name   TEXT UNIQUE COLLATE NOCASE,
	secure        INTEGER NOT NULL,
	auth_username TEXT NOT NULL,
	auth_password TEXT NOT NULL,
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL
);
CREATE INDEX trunks_account ON trunks (account_sid, created, sid);

CREATE TABLE incoming_numbers (
	sid                    TEXT PRIMARY KEY,
	account_sid            TEXT NOT NULL REFERENCES accounts (sid),
	phone_number           TEXT NOT NULL UNIQUE,
	friendly_name          TEXT NOT NULL,
	voice_application_sid  TEXT REFERENCES applications (sid) ON DELETE SET NULL,
	voice_url              TEXT NOT NULL,
	voice_method           TEXT NOT NULL,
	voice_fallback_url     TEXT NOT NULL,
	voice_fallback_method  TEXT NOT NULL,
	status_callback        TEXT NOT NULL,
	status_callback_method TEXT NOT NULL,
	trunk_sid              TEXT REFERENCES trunks (sid) ON DELETE SET NULL,
	created                INTEGER NOT NULL,
	updated                INTEGER NOT NULL
);
CREATE INDEX incoming_numbers_account ON incoming_numbers (account_sid, created, sid);
CREATE INDEX incoming_numbers_application ON incoming_numbers (voice_application_sid);
CREATE INDEX incoming_numbers_trunk ON incoming_numbers (trunk_sid);

CREATE TABLE domains (
	sid                          TEXT PRIMARY KEY,
	account_sid                  TEXT NOT NULL REFERENCES accounts (sid),
	domain_name                  TEXT NOT NULL UNIQUE COLLATE NOCASE,
	friendly_name                TEXT NOT NULL,
	voice_url                    TEXT NOT NULL,
	voice_method                 TEXT NOT NULL,
	voice_fallback_url           TEXT NOT NULL,
	voice_fallback_method        TEXT NOT NULL,
	voice_status_callback        TEXT NOT NULL,
	voice_status_callback_method TEXT NOT NULL,
	sip_registration             INTEGER NOT NULL,
	secure                       INTEGER NOT NULL,
	created                      INTEGER NOT NULL,
	updated                      INTEGER NOT NULL
);
CREATE INDEX domains_account ON domains (account_sid, created, sid);

CREATE TABLE credential_lists (
	sid           TEXT PRIMARY KEY,
	account_sid   TEXT NOT NULL REFERENCES accounts (sid),
	friendly_name TEXT NOT NULL,
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL
);
CREATE INDEX credential_lists_account ON credential_lists (account_sid, created, sid);

CREATE TABLE credentials (
	sid                 TEXT PRIMARY KEY,
	account_sid         TEXT NOT NULL REFERENCES accounts (sid),
	credential_list_sid TEXT NOT NULL REFERENCES credential_lists (sid) ON DELETE CASCADE,
	username            TEXT NOT NULL,
	ha1_md5             TEXT NOT NULL,
	ha1_sha256          TEXT NOT NULL,
	created             INTEGER NOT NULL,
	updated             INTEGER NOT NULL,
	UNIQUE (credential_list_sid, username)
);
CREATE INDEX credentials_list ON credentials (credential_list_sid, created, sid);

CREATE TABLE ip_acls (
	sid           TEXT PRIMARY KEY,
	account_sid   TEXT NOT NULL REFERENCES accounts (sid),
	friendly_name TEXT NOT NULL,
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL
);
CREATE INDEX ip_acls_account ON ip_acls (account_sid, created, sid);

-- first_ip and last_ip are the 16-byte forms (IPv4 as IPv4-mapped IPv6) of
-- the range's ends, so that "which range holds this address" is a BLOB
-- comparison.
CREATE TABLE ip_addresses (
	sid           TEXT PRIMARY KEY,
	account_sid   TEXT NOT NULL REFERENCES accounts (sid),
	ip_acl_sid    TEXT NOT NULL REFERENCES ip_acls (sid) ON DELETE CASCADE,
	friendly_name TEXT NOT NULL,
	prefix        TEXT NOT NULL,
	first_ip      BLOB NOT NULL,
	last_ip       BLOB NOT NULL,
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL,
	UNIQUE (ip_acl_sid, prefix)
);
CREATE INDEX ip_addresses_list ON ip_addresses (ip_acl_sid, created, sid);
CREATE INDEX ip_addresses_range ON ip_addresses (first_ip, last_ip);

-- kind is 'calls' or 'registrations' (MappingKind).
CREATE TABLE domain_credential_lists (
	domain_sid          TEXT NOT NULL REFERENCES domains (sid) ON DELETE CASCADE,
	kind                TEXT NOT NULL,
	credential_list_sid TEXT NOT NULL REFERENCES credential_lists (sid) ON DELETE CASCADE,
	created             INTEGER NOT NULL,
	PRIMARY KEY (domain_sid, kind, credential_list_sid)
);
CREATE INDEX domain_credential_lists_list ON domain_credential_lists (credential_list_sid);

CREATE TABLE domain_ip_acls (
	domain_sid TEXT NOT NULL REFERENCES domains (sid) ON DELETE CASCADE,
	kind       TEXT NOT NULL,
	ip_acl_sid TEXT NOT NULL REFERENCES ip_acls (sid) ON DELETE CASCADE,
	created    INTEGER NOT NULL,
	PRIMARY KEY (domain_sid, kind, ip_acl_sid)
);
CREATE INDEX domain_ip_acls_list ON domain_ip_acls (ip_acl_sid);

CREATE TABLE trunk_credential_lists (
	trunk_sid           TEXT NOT NULL REFERENCES trunks (sid) ON DELETE CASCADE,
	credential_list_sid TEXT NOT NULL REFERENCES credential_lists (sid) ON DELETE CASCADE,
	created             INTEGER NOT NULL,
	PRIMARY KEY (trunk_sid, credential_list_sid)
);
CREATE INDEX trunk_credential_lists_list ON trunk_credential_lists (credential_list_sid);

CREATE TABLE trunk_ip_acls (
	trunk_sid  TEXT NOT NULL REFERENCES trunks (sid) ON DELETE CASCADE,
	ip_acl_sid TEXT NOT NULL REFERENCES ip_acls (sid) ON DELETE CASCADE,
	created    INTEGER NOT NULL,
	PRIMARY KEY (trunk_sid, ip_acl_sid)
);
CREATE INDEX trunk_ip_acls_list ON trunk_ip_acls (ip_acl_sid);

CREATE TABLE origination_urls (
	sid           TEXT PRIMARY KEY,
	account_sid   TEXT NOT NULL REFERENCES accounts (sid),
	trunk_sid     TEXT NOT NULL REFERENCES trunks (sid) ON DELETE CASCADE,
	friendly_name TEXT NOT NULL,
	sip_url       TEXT NOT NULL,
	priority      INTEGER NOT NULL,
	weight        INTEGER NOT NULL,
	enabled       INTEGER NOT NULL,
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL
);
CREATE INDEX origination_urls_trunk ON origination_urls (trunk_sid, created, sid);

-- options is a JSON object of strings.
CREATE TABLE services (
	account_sid    TEXT NOT NULL REFERENCES accounts (sid),
	name           TEXT NOT NULL,
	enabled        INTEGER NOT NULL,
	options        TEXT NOT NULL,
	price_plan_sid TEXT NOT NULL,
	updated        INTEGER NOT NULL,
	PRIMARY KEY (account_sid, name)
);

-- allowed_prefixes is comma separated.
CREATE TABLE limits (
	account_sid             TEXT PRIMARY KEY REFERENCES accounts (sid),
	concurrent_calls        INTEGER NOT NULL,
	calls_per_second        INTEGER NOT NULL,
	registrations           INTEGER NOT NULL,
	monthly_spend_cap_micro INTEGER NOT NULL,
	allowed_prefixes        TEXT NOT NULL,
	updated                 INTEGER NOT NULL
);
