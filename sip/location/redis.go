package location

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store kept in a Redis server (7.0 or later), shared by every
// node that uses the same server and prefix. It is safe for concurrent use.
//
// Expiry is kept by Redis: each binding's expiry is the server's TIME plus
// the binding's remaining lifetime, computed from the local clock just
// before the call, so node clocks need not agree with each other; Expires
// in returned bindings is on the server's clock, in milliseconds. Each
// update runs as one Lua script, which makes the ordering check, the
// account limit and the change atomic across nodes.
//
// Redis Cluster is not supported: a script touches keys of an AOR and of
// an account, which need not share a slot. When the server is unreachable
// every call fails with ErrUnavailable after the client's retries (about a
// second), and the client reconnects by itself once it is back.
type Redis struct {
	client *redis.Client
	prefix string
	closed atomic.Bool
	apply  *redis.Script
	lookup *redis.Script
	count  *redis.Script
}

var _ Store = (*Redis)(nil)

// NewRedis connects to the server at url (redis://[user:pass@]host:port/db,
// as go-redis parses it) and checks it with PING within ctx. Keys start
// with prefix (say "patchbay:loc:").
func NewRedis(ctx context.Context, url, prefix string) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("location: redis url: %w", err)
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = time.Second
	}
	opts.DialerRetries = 2
	opts.MaxRetries = 2
	opts.ContextTimeoutEnabled = true
	opts.DisableIdentity = true
	r := &Redis{
		client: redis.NewClient(opts),
		prefix: prefix,
		apply:  redis.NewScript(applySource),
		lookup: redis.NewScript(lookupSource),
		count:  redis.NewScript(countSource),
	}
	if err := r.client.Ping(ctx).Err(); err != nil {
		r.client.Close()
		return nil, fmt.Errorf("%w: ping %s: %w", ErrUnavailable, opts.Addr, err)
	}

	return r, nil
}

// Close closes the connections. It is idempotent.
func (r *Redis) Close() error {
	if !r.closed.CompareAndSwap(false, true) {
		return nil
	}

	return r.client.Close()
}

// payload is the JSON-encoded part of a stored binding.
type payload struct {
	Received  string `json:"r,omitempty"`
	Transport string `json:"t,omitempty"`
	UserAgent string `json:"u,omitempty"`
	Node      string `json:"n,omitempty"`
}

func (r *Redis) aorKeys(aor string) []string {
	return []string{r.prefix + "b:" + aor, r.prefix + "e:" + aor, r.prefix + "o:" + aor}
}

// Apply applies u atomically; see Store.
func (r *Redis) Apply(ctx context.Context, u Update) ([]Binding, error) {
	if r.closed.Load() {
		return nil, ErrClosed
	}
	if err := u.validate(); err != nil {
		return nil, err
	}
	keys := append(r.aorKeys(u.AOR), r.prefix+"a:"+u.AccountSID)
	args := []any{r.prefix, u.AOR, u.AccountSID, u.CallID, u.CSeq, u.AccountLimit,
		u.RemoveAll, len(u.Set)}
	now := time.Now()
	for i := range u.Set {
		b := &u.Set[i]
		ttl := b.Expires.Sub(now).Milliseconds()
		if ttl <= 0 && b.Expires.After(now) {
			ttl = 1
		}
		p, err := encodePayload(b)
		if err != nil {
			return nil, err
		}
		args = append(args, b.Contact, ttl, p)
	}
	for _, c := range u.Remove {
		args = append(args, c)
	}
	res, err := r.apply.Run(ctx, r.client, keys, args...).Slice()
	if err != nil {
		return nil, fmt.Errorf("%w: apply %s: %w", ErrUnavailable, u.AOR, err)
	}

	return r.decodeApply(u.AOR, res)
}

func (r *Redis) decodeApply(aor string, res []any) ([]Binding, error) {
	if len(res) == 0 {
		return nil, fmt.Errorf("%w: apply %s: empty reply", ErrUnavailable, aor)
	}
	switch status, _ := res[0].(int64); status {
	case 0:
	case 1:
		return nil, ErrLimit
	case 2:
		return nil, ErrOutOfOrder
	default:
		return nil, fmt.Errorf("%w: apply %s: status %v", ErrUnavailable, aor, res[0])
	}
	if len(res) < 2 {
		return nil, fmt.Errorf("%w: apply %s: short reply", ErrUnavailable, aor)
	}

	return decodeLive(aor, res[1], res[2:])
}

// Lookup returns the unexpired bindings of aor.
func (r *Redis) Lookup(ctx context.Context, aor string) ([]Binding, error) {
	if r.closed.Load() {
		return nil, ErrClosed
	}
	res, err := r.lookup.RunRO(ctx, r.client, r.aorKeys(aor)).Slice()
	if err != nil {
		return nil, fmt.Errorf("%w: lookup %s: %w", ErrUnavailable, aor, err)
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("%w: lookup %s: empty reply", ErrUnavailable, aor)
	}

	return decodeLive(aor, res[0], res[1:])
}

// CountAccount returns the number of unexpired bindings of accountSID.
func (r *Redis) CountAccount(ctx context.Context, accountSID string) (int, error) {
	if r.closed.Load() {
		return 0, ErrClosed
	}
	n, err := r.count.RunRO(ctx, r.client, []string{r.prefix + "a:" + accountSID}).Int()
	if err != nil {
		return 0, fmt.Errorf("%w: count %s: %w", ErrUnavailable, accountSID, err)
	}

	return n, nil
}

// decodeLive turns the scripts' (contact, stored value, expiry ms) triples
// into bindings ordered by contact.
func decodeLive(aor string, owner any, rows []any) ([]Binding, error) {
	account, _ := owner.(string)
	if len(rows)%3 != 0 {
		return nil, fmt.Errorf("%w: %s: reply of %d fields", ErrUnavailable, aor, len(rows))
	}
	out := make([]Binding, 0, len(rows)/3)
	for i := 0; i < len(rows); i += 3 {
		contact, _ := rows[i].(string)
		stored, _ := rows[i+1].(string)
		ms, _ := rows[i+2].(int64)
		b, err := decodeBinding(stored)
		if err != nil {
			return nil, fmt.Errorf("%w: %s %s: %w", ErrUnavailable, aor, contact, err)
		}
		b.AOR, b.AccountSID, b.Contact = aor, account, contact
		b.Expires = time.UnixMilli(ms)
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b Binding) int { return strings.Compare(a.Contact, b.Contact) })

	return out, nil
}

// decodeBinding parses "<cseq>\n<call-id>\n<json>".
func decodeBinding(v string) (Binding, error) {
	var b Binding
	cs, rest, ok1 := strings.Cut(v, "\n")
	callID, js, ok2 := strings.Cut(rest, "\n")
	cseq, err := strconv.ParseUint(cs, 10, 32)
	if !ok1 || !ok2 || err != nil {
		return b, errCorrupt
	}
	var p payload
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		return b, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	if p.Received != "" {
		if b.Received, err = netip.ParseAddrPort(p.Received); err != nil {
			return b, fmt.Errorf("%w: %w", errCorrupt, err)
		}
	}
	b.CallID, b.CSeq = callID, uint32(cseq)
	b.Transport, b.UserAgent, b.Node = p.Transport, p.UserAgent, p.Node

	return b, nil
}

// encodePayload is the JSON part of b's stored value; the script puts the
// CSeq and Call-ID in front of it.
func encodePayload(b *Binding) ([]byte, error) {
	p, err := json.Marshal(payload{
		Received: addrString(b.Received), Transport: b.Transport,
		UserAgent: b.UserAgent, Node: b.Node,
	})
	if err != nil {
		return nil, fmt.Errorf("location: encode binding: %w", err)
	}

	return p, nil
}

func addrString(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}

	return a.String()
}
