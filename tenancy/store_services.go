package tenancy

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// validService reports whether name is one of ServiceNames.
func validService(name ServiceName) bool {
	for _, n := range ServiceNames {
		if n == name {
			return true
		}
	}

	return false
}

func scanService(sc scanner) (*Service, error) {
	var v Service
	var opts string
	var updated int64
	if err := sc.Scan(&v.AccountSID, &v.Name, &v.Enabled, &opts, &v.PricePlanSID,
		&updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(opts), &v.Options); err != nil {
		return nil, fmt.Errorf("stored options of %s: %w", v.Name, err)
	}
	v.Updated = fromNanos(updated)

	return &v, nil
}

// defaultService is the setting of a service with no stored row.
func defaultService(accountSID string, name ServiceName) *Service {
	return &Service{AccountSID: accountSID, Name: name, Enabled: true, Options: map[string]string{}}
}

// ServiceSetting returns the stored setting, or Enabled=true with empty
// Options when none is stored. An unknown name is ErrNotFound.
func (s *Store) ServiceSetting(ctx context.Context, accountSID string,
	name ServiceName) (*Service, error) {
	if !validService(name) {
		return nil, fmt.Errorf("%w: service %q", ErrNotFound, name)
	}
	v, err := scanOne(s.hot.service.QueryRowContext(ctx, accountSID, name), scanService)
	if errors.Is(err, ErrNotFound) {
		return defaultService(accountSID, name), nil
	}

	return v, err
}

// Services returns the settings of every service of the account, in the
// order of ServiceNames.
func (s *Store) Services(ctx context.Context, accountSID string) ([]*Service, error) {
	out := make([]*Service, 0, len(ServiceNames))
	for _, name := range ServiceNames {
		v, err := s.ServiceSetting(ctx, accountSID, name)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}

	return out, nil
}

// SetService applies mutate to the account's setting of service name (the
// default when none is stored) and stores it, in one transaction. The
// options are checked: media_relay's media_mode must be a MediaMode.
func (s *Store) SetService(ctx context.Context, accountSID string, name ServiceName,
	mutate func(*Service) error) (*Service, error) {
	if !validService(name) {
		return nil, fmt.Errorf("%w: service %q", ErrNotFound, name)
	}
	var out *Service
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		v, err := scanOne(tx.QueryRowContext(ctx, serviceSQL, accountSID, name), scanService)
		if errors.Is(err, ErrNotFound) {
			v, err = defaultService(accountSID, name), nil
		}
		if err != nil {
			return err
		}
		if err := mutate(v); err != nil {
			return err
		}
		if err := checkServiceOptions(v); err != nil {
			return err
		}
		v.Updated = s.now()
		out = v

		return writeService(ctx, tx, v)
	})
	if err != nil {
		return nil, err
	}

	return out, nil
}

const serviceSQL = `SELECT account_sid, name, enabled, options, price_plan_sid, updated
	FROM services WHERE account_sid = ? AND name = ?`

func writeService(ctx context.Context, tx *sql.Tx, v *Service) error {
	opts, err := json.Marshal(v.Options)
	if err != nil {
		return fmt.Errorf("tenancy: service options: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO services
		(account_sid, name, enabled, options, price_plan_sid, updated) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_sid, name) DO UPDATE SET enabled = excluded.enabled,
		options = excluded.options, price_plan_sid = excluded.price_plan_sid,
		updated = excluded.updated`,
		v.AccountSID, v.Name, v.Enabled, string(opts), v.PricePlanSID, nanos(v.Updated))
	if err != nil {
		return fmt.Errorf("tenancy: store service %s: %w", v.Name, err)
	}

	return nil
}

// checkServiceOptions validates the options a service understands.
func checkServiceOptions(v *Service) error {
	if v.Name != ServiceMediaRelay {
		return nil
	}
	for k, val := range v.Options {
		if k != "media_mode" {
			return invalid("Options."+k, "unknown option of media_relay")
		}
		if MediaMode(val) != MediaRelayed && MediaMode(val) != MediaPeerToPeer {
			return invalid("Options.media_mode", "must be relayed or peer_to_peer")
		}
	}

	return nil
}

// AccountLimits returns the stored limits, or zero Limits (unlimited)
// when none are stored.
func (s *Store) AccountLimits(ctx context.Context, accountSID string) (*Limits, error) {
	l, err := scanOne(s.hot.limits.QueryRowContext(ctx, accountSID), scanLimits)
	if errors.Is(err, ErrNotFound) {
		return &Limits{AccountSID: accountSID}, nil
	}

	return l, err
}

const limitsSQL = `SELECT account_sid, concurrent_calls, calls_per_second, registrations,
	monthly_spend_cap_micro, allowed_prefixes, updated FROM limits WHERE account_sid = ?`

func scanLimits(sc scanner) (*Limits, error) {
	var l Limits
	var prefixes string
	var updated int64
	err := sc.Scan(&l.AccountSID, &l.ConcurrentCalls, &l.CallsPerSecond, &l.Registrations,
		&l.MonthlySpendCapMicro, &prefixes, &updated)
	if prefixes != "" {
		l.AllowedPrefixes = strings.Split(prefixes, ",")
	}
	l.Updated = fromNanos(updated)

	return &l, err
}

// SetLimits applies mutate to the account's limits and stores them, in one
// transaction.
func (s *Store) SetLimits(ctx context.Context, accountSID string,
	mutate func(*Limits) error) (*Limits, error) {
	var out *Limits
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		l, err := scanOne(tx.QueryRowContext(ctx, limitsSQL, accountSID), scanLimits)
		if errors.Is(err, ErrNotFound) {
			l, err = &Limits{AccountSID: accountSID}, nil
		}
		if err != nil {
			return err
		}
		if err := mutate(l); err != nil {
			return err
		}
		l.Updated = s.now()
		out = l
		_, err = tx.ExecContext(ctx, `INSERT INTO limits (account_sid, concurrent_calls,
			calls_per_second, registrations, monthly_spend_cap_micro, allowed_prefixes, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_sid) DO UPDATE SET
			concurrent_calls = excluded.concurrent_calls,
			calls_per_second = excluded.calls_per_second, registrations = excluded.registrations,
			monthly_spend_cap_micro = excluded.monthly_spend_cap_micro,
			allowed_prefixes = excluded.allowed_prefixes, updated = excluded.updated`,
			l.AccountSID, l.ConcurrentCalls, l.CallsPerSecond, l.Registrations,
			l.MonthlySpendCapMicro, strings.Join(l.AllowedPrefixes, ","), nanos(l.Updated))
		if err != nil {
			return fmt.Errorf("tenancy: store limits: %w", err)
		}

		return nil
	})
	if err != nil {
		return nil, err
	}

	return out, nil
}
