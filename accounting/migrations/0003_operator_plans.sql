-- A plan created by the operator may be changed only by the operator, even
-- though it is filed under the account it was made for.
ALTER TABLE accounting_price_plans ADD COLUMN operator INTEGER NOT NULL DEFAULT 0;
