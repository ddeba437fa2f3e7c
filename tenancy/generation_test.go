package tenancy

import (
	"context"
	"testing"
)

// TestGenerationAdvancesOnWrites: every write the SIP edge's caches depend
// on moves Store.Generation, reads and notifications leave it alone.
func TestGenerationAdvancesOnWrites(t *testing.T) {
	h := newHarness(t, APIOptions{})
	s, ctx := h.store, context.Background()
	acct, err := s.CreateAccount(ctx, "", "gen")
	if err != nil {
		t.Fatal(err)
	}
	dom, err := s.CreateDomain(ctx, &Domain{AccountSID: acct.SID, DomainName: "gen.test",
		VoiceURL: "http://127.0.0.1/voice", VoiceMethod: "POST"})
	if err != nil {
		t.Fatal(err)
	}
	suspended := StatusSuspended
	writes := []struct {
		name string
		fn   func() error
	}{
		{"create account", func() error { _, err := s.CreateAccount(ctx, "", "other"); return err }},
		{"update account", func() error {
			_, err := s.UpdateAccount(ctx, acct.SID, AccountUpdate{Status: &suspended})
			return err
		}},
		{"set service", func() error {
			_, err := s.SetService(ctx, acct.SID, ServiceCalls, func(v *Service) error {
				v.Enabled = false
				return nil
			})
			return err
		}},
		{"set limits", func() error {
			_, err := s.SetLimits(ctx, acct.SID, func(l *Limits) error {
				l.ConcurrentCalls = 3
				return nil
			})
			return err
		}},
		{"update domain", func() error {
			_, err := s.UpdateDomain(ctx, acct.SID, dom.SID, func(d *Domain) error {
				d.VoiceURL = "http://127.0.0.1/other"
				return nil
			})
			return err
		}},
		{"delete domain", func() error { return s.DeleteDomain(ctx, acct.SID, dom.SID) }},
		{"failed delete", func() error {
			if err := s.DeleteDomain(ctx, acct.SID, dom.SID); err == nil {
				t.Error("second delete succeeded")
			}
			return nil
		}},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			before := s.Generation()
			if err := w.fn(); err != nil {
				t.Fatal(err)
			}
			if s.Generation() == before {
				t.Errorf("generation still %d after %s", before, w.name)
			}
		})
	}

	before := s.Generation()
	if _, err := s.AccountBySID(ctx, acct.SID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ServiceSetting(ctx, acct.SID, ServiceCalls); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddNotification(ctx, Notification{AccountSID: acct.SID,
		ErrorCode: 11200, Message: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := s.Generation(); got != before {
		t.Errorf("generation %d after reads and a notification, want %d", got, before)
	}
}
