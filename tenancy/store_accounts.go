package tenancy

import (
	"context"
	"database/sql"
	"fmt"
)

// maxAccountDepth bounds the nesting of sub-accounts (a top-level account
// is level 1), well below the depth accountChainSQL follows.
const maxAccountDepth = 16

const accountCols = "sid, parent_sid, friendly_name, auth_token, status, created, updated"

// statusRank orders statuses by restriction in SQL, like rankOf.
const statusRank = "CASE %s WHEN 'closed' THEN 2 WHEN 'suspended' THEN 1 ELSE 0 END"

// rankOf orders statuses by restriction: active 0, suspended 1, closed 2.
// An unknown status ranks as closed.
func rankOf(s AccountStatus) int {
	switch s {
	case StatusActive:
		return 0
	case StatusSuspended:
		return 1
	}

	return 2
}

// statusOfRank is the inverse of rankOf.
func statusOfRank(rank int) AccountStatus {
	switch rank {
	case 0:
		return StatusActive
	case 1:
		return StatusSuspended
	}

	return StatusClosed
}

// accountChainSQL selects an account and its ancestors, nearest first.
const accountChainSQL = `WITH RECURSIVE chain (depth, sid, parent) AS (
	SELECT 0, sid, parent_sid FROM accounts WHERE sid = ?
	UNION ALL
	SELECT c.depth + 1, a.sid, a.parent_sid FROM accounts a JOIN chain c ON a.sid = c.parent
	WHERE c.depth < 64)
SELECT a.sid, a.parent_sid, a.friendly_name, a.auth_token, a.status, a.created, a.updated
FROM chain c JOIN accounts a ON a.sid = c.sid ORDER BY c.depth`

// accountTreeSQL selects accounts with their effective status rank, from
// the roots chosen by the first SELECT (a format verb) down, oldest first.
const accountTreeSQL = `WITH RECURSIVE tree (sid, rank) AS (
	%s
	UNION ALL
	SELECT a.sid, max(t.rank, %s)
	FROM accounts a JOIN tree t ON a.parent_sid = t.sid)
SELECT a.sid, a.parent_sid, a.friendly_name, a.auth_token, a.status, a.created, a.updated, t.rank
FROM tree t JOIN accounts a ON a.sid = t.sid`

func scanAccount(sc scanner) (*Account, error) {
	var a Account
	var parent sql.NullString
	var created, updated int64
	if err := sc.Scan(&a.SID, &parent, &a.FriendlyName, &a.AuthToken, &a.Status,
		&created, &updated); err != nil {
		return nil, err
	}
	a.ParentSID, a.Created, a.Updated = parent.String, fromNanos(created), fromNanos(updated)

	return &a, nil
}

func scanRankedAccount(sc scanner) (*Account, error) {
	var a Account
	var parent sql.NullString
	var created, updated int64
	var rank int
	if err := sc.Scan(&a.SID, &parent, &a.FriendlyName, &a.AuthToken, &a.Status,
		&created, &updated, &rank); err != nil {
		return nil, err
	}
	a.ParentSID, a.Created, a.Updated = parent.String, fromNanos(created), fromNanos(updated)
	a.EffectiveStatus = statusOfRank(rank)

	return &a, nil
}

// chainFrom scans an account chain (nearest first) and fills each
// account's EffectiveStatus.
func chainFrom(rows *sql.Rows, err error, sid string) ([]*Account, error) {
	chain, err := scanAll(rows, err, scanAccount)
	if err != nil {
		return nil, err
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: account %s", ErrNotFound, sid)
	}
	rank := 0
	for i := len(chain) - 1; i >= 0; i-- {
		rank = max(rank, rankOf(chain[i].Status))
		chain[i].EffectiveStatus = statusOfRank(rank)
	}

	return chain, nil
}

// AccountBySID returns the account with EffectiveStatus filled from its
// parent chain, or ErrNotFound.
func (s *Store) AccountBySID(ctx context.Context, sid string) (*Account, error) {
	chain, err := s.accountChain(ctx, sid)
	if err != nil {
		return nil, err
	}

	return chain[0], nil
}

func (s *Store) accountChain(ctx context.Context, sid string) ([]*Account, error) {
	rows, err := s.hot.accountChain.QueryContext(ctx, sid)

	return chainFrom(rows, err, sid)
}

// visibleAccount returns the account sid when callerSID is the account
// itself or one of its ancestors, and ErrNotFound otherwise.
func (s *Store) visibleAccount(ctx context.Context, callerSID, sid string) (*Account, error) {
	chain, err := s.accountChain(ctx, sid)
	if err != nil {
		return nil, err
	}
	for _, a := range chain {
		if a.SID == callerSID {
			return chain[0], nil
		}
	}

	return nil, fmt.Errorf("%w: account %s", ErrNotFound, sid)
}

// CreateAccount creates an active account with a fresh SID and auth token:
// a top-level account when parentSID is empty, else a sub-account of
// parentSID (ErrNotFound when it does not exist). An empty friendlyName is
// replaced by one naming the creation time.
func (s *Store) CreateAccount(ctx context.Context, parentSID,
	friendlyName string) (*Account, error) {
	name, err := parseFriendlyName(friendlyName)
	if err != nil {
		return nil, invalid("FriendlyName", err.Error())
	}
	now := s.now()
	if name == "" {
		name = "Account created at " + FormatTime(now)
		if parentSID != "" {
			name = "SubAccount created at " + FormatTime(now)
		}
	}
	a := &Account{SID: newSID(prefixAccount), ParentSID: parentSID, FriendlyName: name,
		AuthToken: newAuthToken(), Status: StatusActive, Created: now, Updated: now,
		EffectiveStatus: StatusActive}
	if parentSID != "" {
		chain, err := s.accountChain(ctx, parentSID)
		if err != nil {
			return nil, err
		}
		if len(chain) >= maxAccountDepth {
			return nil, invalid("AccountSid", fmt.Sprintf(
				"sub-accounts nest at most %d levels deep", maxAccountDepth))
		}
		a.EffectiveStatus = chain[0].EffectiveStatus
	}
	_, err = s.db.ExecContext(ctx, "INSERT INTO accounts ("+accountCols+") VALUES ("+
		placeholders(7)+")", a.SID, nullable(a.ParentSID), a.FriendlyName, a.AuthToken,
		a.Status, nanos(a.Created), nanos(a.Updated))
	s.changed()
	if err != nil {
		return nil, fmt.Errorf("tenancy: create account: %w", err)
	}

	return a, nil
}

// AccountUpdate holds the changes UpdateAccount makes; nil fields stay.
type AccountUpdate struct {
	FriendlyName *string
	Status       *AccountStatus
}

// UpdateAccount changes an account's friendly name or status. A closed
// account stays closed: reopening it is an ErrInvalid *FieldError.
func (s *Store) UpdateAccount(ctx context.Context, sid string, u AccountUpdate) (*Account, error) {
	var out *Account
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, accountChainSQL, sid)
		chain, err := chainFrom(rows, err, sid)
		if err != nil {
			return err
		}
		a := chain[0]
		if err := applyAccountUpdate(a, u); err != nil {
			return err
		}
		a.Updated = s.now()
		_, err = tx.ExecContext(ctx, `UPDATE accounts SET friendly_name = ?, status = ?,
			updated = ? WHERE sid = ?`, a.FriendlyName, a.Status, nanos(a.Updated), a.SID)
		if err != nil {
			return fmt.Errorf("tenancy: update account: %w", err)
		}
		out = a

		return nil
	})
	if err != nil {
		return nil, err
	}

	return s.AccountBySID(ctx, out.SID) // refresh EffectiveStatus
}

func applyAccountUpdate(a *Account, u AccountUpdate) error {
	if u.FriendlyName != nil {
		name, err := parseFriendlyName(*u.FriendlyName)
		if err != nil {
			return invalid("FriendlyName", err.Error())
		}
		a.FriendlyName = name
	}
	if u.Status == nil {
		return nil
	}
	switch *u.Status {
	case StatusActive, StatusSuspended, StatusClosed:
	default:
		return invalid("Status", "must be active, suspended or closed")
	}
	if a.Status == StatusClosed && *u.Status != StatusClosed {
		return invalid("Status", "a closed account cannot be reopened")
	}
	a.Status = *u.Status

	return nil
}

// ListAccounts returns page p of accounts, oldest first, with their
// EffectiveStatus: every account when parentSID is empty (the operator's
// view), else parentSID itself followed by all its descendants, as the
// CPaaS API lists an account and its sub-accounts. The bool reports whether
// a further page exists.
func (s *Store) ListAccounts(ctx context.Context, parentSID string,
	p Page) ([]*Account, bool, error) {
	return s.FindAccounts(ctx, parentSID, p, AccountFilter{})
}

// AccountFilter narrows FindAccounts; empty fields match everything.
type AccountFilter struct {
	FriendlyName string        // exact match
	Status       AccountStatus // the account's own status, not the effective one
}

// FindAccounts is ListAccounts restricted to the accounts matching f.
func (s *Store) FindAccounts(ctx context.Context, parentSID string, p Page,
	f AccountFilter) ([]*Account, bool, error) {
	p = p.normalized()
	roots := "SELECT sid, " + fmt.Sprintf(statusRank, "status") +
		" FROM accounts WHERE parent_sid IS NULL"
	var args []any
	if parentSID != "" {
		root, err := s.AccountBySID(ctx, parentSID)
		if err != nil {
			return nil, false, err
		}
		roots = "SELECT sid, ? FROM accounts WHERE sid = ?"
		args = []any{rankOf(root.EffectiveStatus), parentSID}
	}
	query := fmt.Sprintf(accountTreeSQL, roots, fmt.Sprintf(statusRank, "a.status")) +
		" WHERE (? = '' OR a.friendly_name = ?) AND (? = '' OR a.status = ?)" +
		" ORDER BY a.created, a.sid LIMIT ? OFFSET ?"
	args = append(args, f.FriendlyName, f.FriendlyName, f.Status, f.Status)
	rows, err := s.db.QueryContext(ctx, query, append(args, limitArgs(p)...)...)

	return scanPage(rows, err, p, scanRankedAccount)
}

// SubAccountSIDs lists every descendant of sid (all depths, oldest first),
// for roll-ups. It is ErrNotFound when sid does not exist.
func (s *Store) SubAccountSIDs(ctx context.Context, sid string) ([]string, error) {
	if _, err := s.AccountBySID(ctx, sid); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `WITH RECURSIVE tree (sid) AS (
		SELECT sid FROM accounts WHERE parent_sid = ?
		UNION ALL
		SELECT a.sid FROM accounts a JOIN tree t ON a.parent_sid = t.sid)
	SELECT a.sid FROM tree t JOIN accounts a ON a.sid = t.sid ORDER BY a.created, a.sid`, sid)
	if err != nil {
		return nil, fmt.Errorf("tenancy: sub-accounts of %s: %w", sid, err)
	}
	defer rows.Close()

	var out []string
	for rows.Next() {
		var sub string
		if err := rows.Scan(&sub); err != nil {
			return nil, fmt.Errorf("tenancy: sub-accounts of %s: %w", sid, err)
		}
		out = append(out, sub)
	}

	return out, rows.Err()
}
