package sip

import (
	"context"
	"errors"
	"fmt"

	"github.com/patchbay/patchbay/tenancy"
)

// maxAccountDepth bounds the walk up the sub-account tree.
const maxAccountDepth = 8

// admit loads the account and checks that it and every parent is active
// and that service is enabled for it. Refusals carry the reason phrase
// ("403 Account Suspended", "403 Service Disabled").
func (s *Server) admit(ctx context.Context, sid string, service tenancy.ServiceName) (
	*tenancy.Account, error,
) {
	acct, err := s.activeAccount(ctx, sid)
	if err != nil {
		return nil, err
	}
	svc, err := s.dir.ServiceSetting(ctx, sid, service)
	if err != nil {
		return nil, lookupErr(err)
	}
	if !svc.Enabled {
		return nil, errServiceDisabled
	}

	return acct, nil
}

// activeAccount loads the account and checks that it and every parent is
// active.
func (s *Server) activeAccount(ctx context.Context, sid string) (*tenancy.Account, error) {
	acct, err := s.dir.AccountBySID(ctx, sid)
	if err != nil {
		return nil, lookupErr(err)
	}
	for a, depth := acct, 0; ; depth++ {
		if err := accountStatusErr(a); err != nil {
			return nil, err
		}
		if a.ParentSID == "" {
			break
		}
		if depth >= maxAccountDepth {
			return nil, refuse(errForbidden, fmt.Errorf("sip: account %s nested too deep", sid))
		}
		if a, err = s.dir.AccountBySID(ctx, a.ParentSID); err != nil {
			return nil, lookupErr(err)
		}
	}

	return acct, nil
}

// accountStatusErr maps a non-active account to its refusal.
func accountStatusErr(a *tenancy.Account) error {
	switch a.Status {
	case tenancy.StatusActive:
		return nil
	case tenancy.StatusClosed:
		return errAccountClosed
	default:
		return errAccountSuspended
	}
}

// lookupErr maps a directory error: not found is the uniform 403, anything
// else an internal error.
func lookupErr(err error) error {
	if errors.Is(err, tenancy.ErrNotFound) {
		return refuse(errForbidden, err)
	}

	return refuse(errInternal, err)
}
