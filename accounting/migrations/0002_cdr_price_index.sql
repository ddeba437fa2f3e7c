-- Statements sum CDR prices per account and period; a covering index lets
-- SQLite do it from the index alone. It replaces the narrower one.
DROP INDEX accounting_cdrs_account_ended;
CREATE INDEX accounting_cdrs_account_ended_price
	ON accounting_cdrs (account_sid, ended, price_unit, price_micro);
