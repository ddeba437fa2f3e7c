package tenancy

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"
)

func credentialTable() *table[Credential] {
	return newTable("credentials", []string{"sid", "account_sid", "credential_list_sid",
		"username", "ha1_md5", "ha1_sha256", "created", "updated"},
		[]string{"account_sid", "credential_list_sid"}, scanCredential,
		func(c *Credential) []any {
			return []any{c.SID, c.AccountSID, c.CredentialListSID, c.Username, c.HA1MD5,
				c.HA1SHA256, nanos(c.Created), nanos(c.Updated)}
		})
}

func scanCredential(sc scanner) (*Credential, error) {
	var c Credential
	var created, updated int64
	err := sc.Scan(&c.SID, &c.AccountSID, &c.CredentialListSID, &c.Username, &c.HA1MD5,
		&c.HA1SHA256, &created, &updated)
	c.Created, c.Updated = fromNanos(created), fromNanos(updated)

	return &c, err
}

// DigestHA1 returns the RFC 7616 HA1 values, hex MD5 and hex SHA-256 of
// "username:Realm:password", under which credentials are stored.
func DigestHA1(username, password string) (md5Hex, sha256Hex string) {
	in := []byte(username + ":" + Realm + ":" + password)
	m := md5.Sum(in)
	s := sha256.Sum256(in)

	return hex.EncodeToString(m[:]), hex.EncodeToString(s[:])
}

// CreateCredential adds username with password to the account's credential
// list (ErrNotFound when the list is not the account's). Only the HA1
// values of the password are stored. A malformed username or weak password
// is an ErrInvalid *FieldError, a username already in the list an
// ErrConflict one.
func (s *Store) CreateCredential(ctx context.Context, accountSID, listSID, username,
	password string) (*Credential, error) {
	if _, err := parseUsername(username); err != nil {
		return nil, invalid("Username", err.Error())
	}
	if err := checkPassword(password); err != nil {
		return nil, invalid("Password", err.Error())
	}
	c := &Credential{AccountSID: accountSID, CredentialListSID: listSID, Username: username}
	s.stamp(&c.SID, prefixCredential, &c.Created, &c.Updated)
	c.HA1MD5, c.HA1SHA256 = DigestHA1(username, password)

	return createRow(ctx, s, s.t.creds, c, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, "credential_lists", accountSID, listSID); err != nil {
			return err
		}
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM credentials
			WHERE credential_list_sid = ? AND username = ?`, listSID, username).Scan(&n)
		if err != nil {
			return fmt.Errorf("tenancy: check username: %w", err)
		}
		if n > 0 {
			return conflict("Username", "username already in this credential list")
		}

		return nil
	})
}

// Credential returns credential sid of the account's list, or ErrNotFound.
func (s *Store) Credential(ctx context.Context, accountSID, listSID,
	sid string) (*Credential, error) {
	return s.t.creds.get(ctx, s.db, accountSID, listSID, sid)
}

// ListCredentials returns page p of the list's credentials; ErrNotFound
// when the list is not the account's.
func (s *Store) ListCredentials(ctx context.Context, accountSID, listSID string,
	p Page) ([]*Credential, bool, error) {
	if err := exists(ctx, s.db, "credential_lists", accountSID, listSID); err != nil {
		return nil, false, err
	}

	return s.t.creds.list(ctx, s.db, p, accountSID, listSID)
}

// SetCredentialPassword replaces the credential's password (its HA1
// values); a weak password is an ErrInvalid *FieldError.
func (s *Store) SetCredentialPassword(ctx context.Context, accountSID, listSID, sid,
	password string) (*Credential, error) {
	if err := checkPassword(password); err != nil {
		return nil, invalid("Password", err.Error())
	}
	return modifyRow(ctx, s, s.t.creds, []any{accountSID, listSID, sid},
		func(c *Credential) error {
			c.HA1MD5, c.HA1SHA256 = DigestHA1(c.Username, password)

			return nil
		}, nil, func(c *Credential, t time.Time) { c.Updated = t })
}

// DeleteCredential removes the credential from the list.
func (s *Store) DeleteCredential(ctx context.Context, accountSID, listSID, sid string) error {
	return s.t.creds.delete(ctx, s.db, accountSID, listSID, sid)
}
