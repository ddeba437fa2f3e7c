package location

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

const (
	acct  = "AC00000000000000000000000000000001"
	other = "AC00000000000000000000000000000002"
	alice = "alice@acme.example"
	bob   = "bob@acme.example"
)

func contractAdd(s *suite) {
	s.wantContacts(alice)
	u := Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 1, Set: []Binding{
		s.binding("sip:alice@192.0.2.7:5062;transport=tcp", 10*s.unit),
		s.binding("sip:alice@198.51.100.1", 20*s.unit),
	}}
	u.Set[1].Received = netip.MustParseAddrPort("[2001:db8::1]:5060")
	u.Set[1].Transport, u.Set[1].UserAgent, u.Set[1].Node = "udp", "", ""
	u.Set[1].CallID, u.Set[1].CSeq = "ignored", 99
	got := s.apply(u)
	if len(got) != 2 {
		s.t.Fatalf("Apply returned %d bindings, want 2", len(got))
	}
	want := []Binding{u.Set[0], u.Set[1]}
	for i := range want {
		want[i].AOR, want[i].AccountSID, want[i].CallID, want[i].CSeq = alice, acct, "c1", 1
	}
	looked, err := s.s.Lookup(s.ctx, alice)
	if err != nil {
		s.t.Fatal(err)
	}
	for name, list := range map[string][]Binding{"apply": got, "lookup": looked} {
		for i, b := range list {
			w := want[i]
			if !near(b.Expires, w.Expires, s.unit/2) {
				s.t.Errorf("%s[%d].Expires = %v, want about %v", name, i, b.Expires, w.Expires)
			}
			b.Expires, w.Expires = time.Time{}, time.Time{}
			if b != w {
				s.t.Errorf("%s[%d] = %+v\nwant %+v", name, i, b, w)
			}
		}
	}
	s.wantCount(acct, 2)
	s.wantCount(other, 0)
	s.wantContacts(bob)
}

func contractRefresh(s *suite) {
	c := "sip:alice@192.0.2.7"
	s.apply(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 1,
		Set: []Binding{s.binding(c, 2*s.unit)}})
	b := s.binding(c, 6*s.unit)
	b.UserAgent = "phone/2.0"
	got := s.apply(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 2,
		Set: []Binding{b}})
	if len(got) != 1 || got[0].UserAgent != "phone/2.0" || got[0].CSeq != 2 {
		s.t.Fatalf("refresh returned %+v", got)
	}
	s.wantCount(acct, 1)
	s.clock.Advance(3 * s.unit)
	s.wantContacts(alice, c)
	s.wantCount(acct, 1)
}

func contractRemove(s *suite) {
	a, b := "sip:a@192.0.2.1", "sip:b@192.0.2.2"
	s.apply(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 1,
		Set: []Binding{s.binding(a, 10*s.unit), s.binding(b, 10*s.unit)}})
	got := s.apply(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 2,
		Remove: []string{a, "sip:unknown@192.0.2.9"}})
	if fmt.Sprint(contactsOf(got)) != fmt.Sprint([]string{b}) {
		s.t.Fatalf("after remove: %v", contactsOf(got))
	}
	s.wantCount(acct, 1)
	expired := s.binding(b, -s.unit)
	got = s.apply(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 3,
		Set: []Binding{expired}})
	if len(got) != 0 {
		s.t.Fatalf("a binding set with a past expiry stayed: %v", contactsOf(got))
	}
	s.wantContacts(alice)
	s.wantCount(acct, 0)
}

func contractRemoveAll(s *suite) {
	s.apply(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 5,
		Set: []Binding{s.binding("sip:a@192.0.2.1", 10*s.unit)}})
	s.apply(Update{AOR: alice, AccountSID: acct, CallID: "c2", CSeq: 1,
		Set: []Binding{s.binding("sip:b@192.0.2.2", 10*s.unit)}})
	s.apply(Update{AOR: bob, AccountSID: acct, CallID: "c3", CSeq: 1,
		Set: []Binding{s.binding("sip:bob@192.0.2.3", 10*s.unit)}})
	s.applyErr(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 5, RemoveAll: true},
		ErrOutOfOrder)
	s.wantContacts(alice, "sip:a@192.0.2.1", "sip:b@192.0.2.2")
	if got := s.apply(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 6,
		RemoveAll: true}); len(got) != 0 {
		s.t.Fatalf("remove all left %v", contactsOf(got))
	}
	s.wantContacts(alice)
	s.wantContacts(bob, "sip:bob@192.0.2.3")
	s.wantCount(acct, 1)
	s.apply(Update{AOR: "nobody@acme.example", AccountSID: acct, CallID: "c9", CSeq: 1,
		RemoveAll: true})
}

func contractExpiry(s *suite) {
	short, long := "sip:short@192.0.2.1", "sip:long@192.0.2.2"
	s.apply(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 1,
		Set: []Binding{s.binding(short, 2*s.unit), s.binding(long, 5*s.unit)}})
	s.apply(Update{AOR: bob, AccountSID: acct, CallID: "c2", CSeq: 1,
		Set: []Binding{s.binding("sip:bob@192.0.2.3", 2*s.unit)}})
	s.wantCount(acct, 3)
	s.clock.Advance(3 * s.unit)
	s.wantContacts(alice, long)
	s.wantContacts(bob)
	s.wantCount(acct, 1)
	got := s.apply(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 2,
		Set: []Binding{s.binding("sip:new@192.0.2.4", 5*s.unit)}})
	if fmt.Sprint(contactsOf(got)) != fmt.Sprint([]string{long, "sip:new@192.0.2.4"}) {
		s.t.Fatalf("Apply after expiry returned %v", contactsOf(got))
	}
	s.clock.Advance(6 * s.unit)
	s.wantContacts(alice)
	s.wantCount(acct, 0)
}

func contractOrdering(s *suite) {
	c := "sip:alice@192.0.2.7"
	s.apply(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 10,
		Set: []Binding{s.binding(c, 10*s.unit)}})
	for _, tt := range []struct {
		name string
		u    Update
	}{
		{"same cseq", Update{CSeq: 10, Set: []Binding{s.binding(c, 20*s.unit)}}},
		{"lower cseq", Update{CSeq: 9, Set: []Binding{s.binding(c, 20*s.unit)}}},
		{"lower cseq remove", Update{CSeq: 9, Remove: []string{c}}},
		{"lower cseq with a new contact", Update{CSeq: 9, Set: []Binding{
			s.binding("sip:new@192.0.2.8", 20*s.unit), s.binding(c, 20*s.unit)}}},
	} {
		tt.u.AOR, tt.u.AccountSID, tt.u.CallID = alice, acct, "c1"
		if _, err := s.s.Apply(s.ctx, tt.u); !errors.Is(err, ErrOutOfOrder) {
			s.t.Errorf("%s: %v, want ErrOutOfOrder", tt.name, err)
		}
	}
	s.wantContacts(alice, c)
	got := s.apply(Update{AOR: alice, AccountSID: acct, CallID: "other", CSeq: 1,
		Set: []Binding{s.binding(c, 10*s.unit)}})
	if len(got) != 1 || got[0].CallID != "other" || got[0].CSeq != 1 {
		s.t.Fatalf("another Call-ID with a lower CSeq: %+v", got)
	}
	s.apply(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 1,
		Set: []Binding{s.binding("sip:x@192.0.2.9", 10*s.unit)}})
}

func contractLimit(s *suite) {
	u := func(aor, contact string, cseq uint32, limit int) Update {
		return Update{AOR: aor, AccountSID: acct, CallID: "c-" + aor, CSeq: cseq,
			AccountLimit: limit, Set: []Binding{s.binding(contact, 10*s.unit)}}
	}
	s.apply(u(alice, "sip:a1@192.0.2.1", 1, 3))
	s.apply(u(alice, "sip:a2@192.0.2.2", 2, 3))
	s.apply(u(bob, "sip:b1@192.0.2.3", 1, 3))
	s.applyErr(u(bob, "sip:b2@192.0.2.4", 2, 3), ErrLimit)
	s.wantContacts(bob, "sip:b1@192.0.2.3")
	s.apply(u(bob, "sip:b1@192.0.2.3", 3, 3))
	s.apply(Update{AOR: "carol@acme.example", AccountSID: other, CallID: "x", CSeq: 1,
		AccountLimit: 1, Set: []Binding{s.binding("sip:c@192.0.2.5", 10*s.unit)}})
	s.apply(u(alice, "sip:a1@192.0.2.1", 3, 1))
	s.applyErr(u(alice, "sip:a3@192.0.2.6", 4, 1), ErrLimit)
	swap := u(alice, "sip:a3@192.0.2.6", 5, 3)
	swap.Remove = []string{"sip:a1@192.0.2.1"}
	s.apply(swap)
	s.wantContacts(alice, "sip:a2@192.0.2.2", "sip:a3@192.0.2.6")
	s.wantCount(acct, 3)
	s.apply(u(bob, "sip:b2@192.0.2.4", 4, 0))
	s.wantCount(acct, 4)
}

func contractLimitConcurrent(s *suite) {
	const workers, limit = 24, 10
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			aor := fmt.Sprintf("user%d@acme.example", i%6)
			_, errs[i] = s.s.Apply(s.ctx, Update{AOR: aor, AccountSID: acct,
				CallID: fmt.Sprintf("call-%d", i), CSeq: 1, AccountLimit: limit,
				Set: []Binding{s.binding(fmt.Sprintf("sip:dev%d@192.0.2.1", i), 10*s.unit)}})
		})
	}
	wg.Wait()
	ok, limited := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrLimit):
			limited++
		default:
			s.t.Errorf("worker %d: %v", i, err)
		}
	}
	if ok != limit || limited != workers-limit {
		s.t.Errorf("%d accepted and %d limited, want %d and %d", ok, limited, limit,
			workers-limit)
	}
	s.wantCount(acct, limit)
}

func contractInvalid(s *suite) {
	good := s.binding("sip:a@192.0.2.1", 10*s.unit)
	badTransport := good
	badTransport.Transport = "carrier-pigeon"
	noContact := good
	noContact.Contact = ""
	for _, u := range []Update{
		{AccountSID: acct, CallID: "c", Set: []Binding{good}},
		{AOR: alice, CallID: "c", Set: []Binding{good}},
		{AOR: alice, AccountSID: acct, Set: []Binding{good}},
		{AOR: alice, AccountSID: acct, CallID: "c\nd", Set: []Binding{good}},
		{AOR: alice, AccountSID: acct, CallID: "c", AccountLimit: -1},
		{AOR: alice, AccountSID: acct, CallID: "c", RemoveAll: true, Set: []Binding{good}},
		{AOR: alice, AccountSID: acct, CallID: "c", Set: []Binding{badTransport}},
		{AOR: alice, AccountSID: acct, CallID: "c", Set: []Binding{noContact}},
		{AOR: alice, AccountSID: acct, CallID: "c", Remove: []string{""}},
	} {
		s.applyErr(u, ErrInvalid)
	}
	s.wantContacts(alice)
	s.wantCount(acct, 0)
}

func contractMove(s *suite) {
	s.apply(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 1,
		Set: []Binding{s.binding("sip:a@192.0.2.1", 10*s.unit)}})
	got := s.apply(Update{AOR: alice, AccountSID: other, CallID: "c1", CSeq: 1,
		Set: []Binding{s.binding("sip:b@192.0.2.2", 10*s.unit)}})
	if len(got) != 1 || got[0].AccountSID != other || got[0].Contact != "sip:b@192.0.2.2" {
		s.t.Fatalf("after the move: %+v", got)
	}
	s.wantCount(acct, 0)
	s.wantCount(other, 1)
}

func contractClose(s *suite) {
	s.apply(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 1,
		Set: []Binding{s.binding("sip:a@192.0.2.1", 10*s.unit)}})
	if err := s.s.Close(); err != nil {
		s.t.Fatal(err)
	}
	if err := s.s.Close(); err != nil {
		s.t.Errorf("second Close: %v", err)
	}
	if _, err := s.s.Lookup(s.ctx, alice); !errors.Is(err, ErrClosed) {
		s.t.Errorf("Lookup after Close: %v", err)
	}
	if _, err := s.s.CountAccount(s.ctx, acct); !errors.Is(err, ErrClosed) {
		s.t.Errorf("CountAccount after Close: %v", err)
	}
	s.applyErr(Update{AOR: alice, AccountSID: acct, CallID: "c1", CSeq: 2}, ErrClosed)
}
