package sip

import (
	"context"
	"strconv"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/patchbay/patchbay/sip/location"

	"github.com/patchbay/patchbay/sip/location/redistest"
)

// TestRedisLocation: registration, limits and a proxied call with the
// Redis location store against a real redis-server.
func TestRedisLocation(t *testing.T) {
	url := redistest.URL(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	prefix := "pb-sip-test:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	loc, err := location.NewRedis(ctx, url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvStore(t, loc)
	e.dir.setLimit(acctA, 2)
	alice := e.phone("udp", "alice", "acme.test", "alice-pw")
	bob := e.phone("tcp", "bob", "acme.test", "bob-pw")
	alice.mustRegister()
	bob.mustRegister()
	carol := e.phone("udp", "carol", "acme.test", "carol-pw")
	if res := carol.register(300); res.StatusCode != 403 {
		t.Fatalf("third device over a limit of 2: %d", res.StatusCode)
	}
	bs, err := e.srv.Contacts(t.Context(), "bob@acme.test")
	if err != nil || len(bs) != 1 || bs[0].Transport != "tcp" || !bs[0].Received.IsValid() {
		t.Fatalf("bob's binding from redis: %+v %v", bs, err)
	}
	inv, tx := alice.invite("bob", "acme.test")
	res := alice.final(tx)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("call: %v", res)
	}
	alice.ack(inv, res)
	bob.waitFor(sipmsg.ACK, 2*time.Second)
}
