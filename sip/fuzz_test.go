package sip

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/patchbay/patchbay/sip/internal/keyedmac"
	"github.com/patchbay/patchbay/sip/location"
)

// seedLines adds every line of testdata/edge/name to f.
func seedLines(f *testing.F, name string) {
	f.Helper()
	fh, err := os.Open(filepath.Join("testdata", "edge", name))
	if err != nil {
		f.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		f.Add(sc.Text())
	}
}

func FuzzParseE164(f *testing.F) {
	seedLines(f, "e164.txt")
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := ParseE164(in)
		if !ok {
			return
		}
		if len(out) < 2 || len(out) > 16 || out[0] != '+' || out[1] == '0' {
			t.Fatalf("ParseE164(%q) = %q", in, out)
		}
		for _, c := range out[1:] {
			if c < '0' || c > '9' {
				t.Fatalf("ParseE164(%q) = %q has a non-digit", in, out)
			}
		}
		if again, ok := ParseE164(out); !ok || again != out {
			t.Fatalf("not idempotent: %q -> %q", out, again)
		}
	})
}

func FuzzParseExpires(f *testing.F) {
	seedLines(f, "expires.txt")
	f.Fuzz(func(t *testing.T, in string) {
		d, err := parseExpires(in)
		if err == nil && (d < 0 || d > time.Duration(1<<32-1)*time.Second) {
			t.Fatalf("parseExpires(%q) = %s", in, d)
		}
	})
}

func FuzzFlowToken(f *testing.F) {
	f.Add("dWRwIDEyNy4wLjAuMTo1MDcw.AAAA")
	f.Add("")
	f.Add("....")
	s := &Server{rrMAC: keyedmac.New([]byte("fuzz-key-0123456789abcdef0123456"))}
	a := flow{"udp", netip.MustParseAddrPort("127.0.0.1:5070")}
	b := flow{"tcp", netip.MustParseAddrPort("[::1]:5080")}
	f.Add(s.flowToken(a, b))
	f.Fuzz(func(t *testing.T, tok string) {
		x, y, ok := s.parseFlowToken(tok)
		if ok && (!x.valid() || !y.valid()) {
			t.Fatalf("accepted invalid flows from %q", tok)
		}
		if ok && s.flowToken(x, y) != tok {
			t.Fatalf("token %q does not round-trip", tok)
		}
	})
}

// recordTx is a ServerTransaction that records responses, for feeding
// parsed messages straight into dispatch.
type recordTx struct {
	sipmsg.ServerTransaction
	mu    sync.Mutex
	codes []int
	done  chan struct{}
}

func (r *recordTx) Respond(res *sipmsg.Response) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.codes = append(r.codes, int(res.StatusCode))
	return nil
}
func (r *recordTx) OnCancel(sipmsg.FnTxCancel) bool { return true }
func (r *recordTx) Done() <-chan struct{}           { return r.done }
func (r *recordTx) Terminate()                      {}

// FuzzDispatch feeds arbitrary messages through the request handlers: no
// input may panic, and every request but ACK gets exactly one final answer.
func FuzzDispatch(f *testing.F) {
	for _, name := range []string{"register.sip", "invite.sip", "bye-routed.sip"} {
		b, err := os.ReadFile(filepath.Join("testdata", "edge", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	loc := location.NewMemory(nil)
	f.Cleanup(func() { loc.Close() })
	s, err := NewServer(Config{Listen: "127.0.0.1:0", Logger: testLogger(),
		Registerer: prometheus.NewRegistry()}, newDirectory(), loc)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := sipmsg.ParseMessage(data)
		if err != nil {
			return
		}
		req, ok := msg.(*sipmsg.Request)
		if !ok {
			return
		}
		req.SetSource("127.0.0.1:5070")
		req.SetTransport("UDP")
		tx := &recordTx{done: make(chan struct{})}
		s.dispatch(req, tx)
		finals := 0
		for _, c := range tx.codes {
			if c >= 200 {
				finals++
			}
		}
		if want := 1; req.Method != sipmsg.ACK && finals != want &&
			!strings.EqualFold(string(req.Method), "ACK") {
			t.Fatalf("%s got %d final responses %v", req.Method, finals, tx.codes)
		}
	})
}
