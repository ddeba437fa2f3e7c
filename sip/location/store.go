package location

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Binding is one registered contact of an address-of-record.
type Binding struct {
	AOR        string // "user@domain", lower-case; compared byte for byte
	AccountSID string
	Contact    string         // the Contact URI as registered (without header params)
	Received   netip.AddrPort // source address of the REGISTER (RFC 3581)
	Transport  string         // "udp", "tcp", "tls", "ws", "wss" or empty
	CallID     string
	CSeq       uint32
	Expires    time.Time
	UserAgent  string
	Node       string // the node holding the flow (for connection transports)
}

// Update is one REGISTER's change to an AOR, applied atomically.
//
// The update's CallID and CSeq are stored on every binding it sets (the
// CallID and CSeq fields of the bindings in Set are ignored), and so are
// AOR and AccountSID. A binding in Set whose Expires is not in the future
// is removed like one in Remove. When an AOR is stored for another account
// than the update's, its old bindings are dropped first (the AOR moved),
// even when the update then fails.
type Update struct {
	AOR, AccountSID string
	CallID          string
	CSeq            uint32
	Set             []Binding // add or refresh, keyed by Contact
	Remove          []string  // Contacts to remove (expires=0)
	RemoveAll       bool      // Contact: * with Expires: 0; Set and Remove must be empty
	AccountLimit    int       // max unexpired bindings of the account over all AORs; 0 = none
}

// Store keeps bindings with their expiry. Implementations are safe for
// concurrent use. Bindings come back ordered by Contact.
type Store interface {
	// Apply applies u atomically and returns the AOR's unexpired bindings
	// afterwards. On ErrLimit, ErrOutOfOrder and ErrInvalid nothing changed.
	Apply(ctx context.Context, u Update) ([]Binding, error)
	// Lookup returns the unexpired bindings of aor, none when unknown.
	Lookup(ctx context.Context, aor string) ([]Binding, error)
	// CountAccount returns the number of unexpired bindings of an account.
	CountAccount(ctx context.Context, accountSID string) (int, error)
	// Close releases the store; later calls return ErrClosed.
	Close() error
}

// transports lists the Transport values a Binding may hold; the index is
// the compact code that Memory stores.
var transports = [...]string{"", "udp", "tcp", "tls", "ws", "wss"}

func transportCode(s string) (uint8, bool) {
	for i, t := range transports {
		if t == s {
			return uint8(i), true
		}
	}

	return 0, false
}

// validate checks u against the rules of Update.
func (u *Update) validate() error {
	switch {
	case u.AOR == "":
		return fmt.Errorf("%w: aor is empty", ErrInvalid)
	case u.AccountSID == "":
		return fmt.Errorf("%w: account_sid is empty", ErrInvalid)
	case u.CallID == "":
		return fmt.Errorf("%w: call_id is empty", ErrInvalid)
	case u.AccountLimit < 0:
		return fmt.Errorf("%w: account_limit %d is negative", ErrInvalid, u.AccountLimit)
	case u.RemoveAll && (len(u.Set) > 0 || len(u.Remove) > 0):
		return fmt.Errorf("%w: remove_all with contacts", ErrInvalid)
	}
	for _, s := range []string{u.AOR, u.AccountSID, u.CallID} {
		if strings.ContainsAny(s, "\r\n\x00") {
			return fmt.Errorf("%w: control character in %q", ErrInvalid, s)
		}
	}
	for i := range u.Set {
		b := &u.Set[i]
		if b.Contact == "" || strings.ContainsAny(b.Contact, "\r\n\x00") {
			return fmt.Errorf("%w: set[%d].contact %q", ErrInvalid, i, b.Contact)
		}
		if _, ok := transportCode(b.Transport); !ok {
			return fmt.Errorf("%w: set[%d].transport %q", ErrInvalid, i, b.Transport)
		}
	}
	for i, c := range u.Remove {
		if c == "" {
			return fmt.Errorf("%w: remove[%d] is empty", ErrInvalid, i)
		}
	}

	return nil
}

// conflicts reports whether a stored binding with callID and cseq forbids
// the update (RFC 3261 section 10.3 step 7).
func (u *Update) conflicts(callID string, cseq uint32) bool {
	return callID == u.CallID && u.CSeq <= cseq
}

// touched returns the contacts u sets or removes, with the set ones mapped
// to their index in Set (the last one wins) and removed ones to -1.
// Bindings in Set that expire by now count as removals.
func (u *Update) touched(now time.Time) map[string]int {
	out := make(map[string]int, len(u.Set)+len(u.Remove))
	for _, c := range u.Remove {
		out[c] = -1
	}
	for i := range u.Set {
		if u.Set[i].Expires.After(now) {
			out[u.Set[i].Contact] = i
		} else {
			out[u.Set[i].Contact] = -1
		}
	}

	return out
}

// overLimit reports whether going from before to after bindings breaks
// limit. An account already over a lowered limit may still refresh and
// shrink.
func overLimit(limit, before, after int) bool {
	return limit > 0 && after > limit && after > before
}
