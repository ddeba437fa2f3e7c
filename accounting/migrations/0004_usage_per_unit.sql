-- Usage rows are kept per price unit too, so that a plan changing currency
-- mid-day never adds amounts of two currencies together.
CREATE TABLE accounting_usage_new (
	account_sid TEXT NOT NULL,
	category    TEXT NOT NULL,
	day         TEXT NOT NULL,
	subject     TEXT NOT NULL DEFAULT '',
	price_unit  TEXT NOT NULL DEFAULT '',
	count       INTEGER NOT NULL DEFAULT 0,
	usage       INTEGER NOT NULL DEFAULT 0,
	price_micro INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (account_sid, category, day, subject, price_unit)
);
INSERT INTO accounting_usage_new (account_sid, category, day, subject, price_unit, count,
	usage, price_micro)
	SELECT account_sid, category, day, subject, price_unit, count, usage, price_micro
	FROM accounting_usage;
DROP TABLE accounting_usage;
ALTER TABLE accounting_usage_new RENAME TO accounting_usage;
CREATE INDEX accounting_usage_day ON accounting_usage (account_sid, day);
