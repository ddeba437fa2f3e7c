package media

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestPortPoolQuarantine(t *testing.T) {
	lo := freeRange(t, 4)
	p := newPortPool(netip.MustParseAddr("127.0.0.1"), lo, lo+3, time.Hour)
	now := time.Unix(1000, 0)
	p.now = func() time.Time { return now }

	first, err := p.acquire(false)
	if err != nil {
		t.Fatal(err)
	}
	second, err := p.acquire(false)
	if err != nil {
		t.Fatal(err)
	}
	if first.port%2 != 0 || second.port == first.port {
		t.Fatalf("ports %d %d", first.port, second.port)
	}
	if _, err := p.acquire(false); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("exhausted pool: %v", err)
	}
	_ = first.rtp.Close()
	_ = first.rtcp.Close()
	p.release(first.port)
	if _, err := p.acquire(false); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("quarantined port handed out: %v", err)
	}
	now = now.Add(time.Hour + time.Second)
	again, err := p.acquire(false)
	if err != nil || again.port != first.port {
		t.Fatalf("after quarantine: %v %v", again.port, err)
	}
	if inUse, free := p.counts(); inUse != 2 || free != 0 {
		t.Fatalf("counts %d %d", inUse, free)
	}
	for _, sp := range []socketPair{second, again} {
		_ = sp.rtp.Close()
		_ = sp.rtcp.Close()
	}
}

// freeRange returns an even port lo such that lo..lo+n-1 could all be
// bound a moment ago on 127.0.0.1 (the machine is shared).
func freeRange(t *testing.T, n int) int {
	t.Helper()
	for try := range 200 {
		lo := 40000 + 2*((int(time.Now().UnixNano())/7+try*97)%10000)
		ok := true
		var conns []*net.UDPConn
		for p := lo; p < lo+n && ok; p++ {
			c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
			ok = err == nil
			if ok {
				conns = append(conns, c)
			}
		}
		for _, c := range conns {
			_ = c.Close()
		}
		if ok {
			return lo
		}
	}
	t.Skip("no free port range found")

	return 0
}

func TestPortPoolSkipsBusyPorts(t *testing.T) {
	// Occupy a port, then build a pool whose first pair is that port.
	busy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	bp := busy.LocalAddr().(*net.UDPAddr).Port
	lo := bp - bp%2
	p := newPortPool(netip.MustParseAddr("127.0.0.1"), lo, lo+5, 0)
	sp, err := p.acquire(false)
	if err != nil {
		t.Skipf("neighbouring ports busy too: %v", err)
	}
	defer sp.rtp.Close()
	defer sp.rtcp.Close()
	if sp.port == lo {
		t.Fatalf("pool handed out busy pair %d", lo)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"defaults", Config{}, ""},
		{"inverted range", Config{PortMin: 5000, PortMax: 4000}, "port_min"},
		{"no pair", Config{PortMin: 5001, PortMax: 5001}, "no even/odd pair"},
		{"too high", Config{PortMin: 5000, PortMax: 70000}, "port_max"},
		{"quarantine off", Config{Quarantine: -1}, ""},
		{"unknown suite", Config{CryptoSuites: []string{"NULL"}}, "crypto_suites"},
		{"unspecified public", Config{PublicAddr: netip.IPv4Unspecified()}, "public_addr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEngine(tc.cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				_ = e.Close()
				if _, err := e.NewSession(SessionOptions{}); !errors.Is(err, ErrEngineClosed) {
					t.Fatalf("NewSession after Close: %v", err)
				}

				return
			}
			if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestEngineCloseEndsSessions(t *testing.T) {
	e := testEngine(t, Config{})
	s := testSession(t, e, SessionOptions{})
	relayCall(t, s, newPeer(t), newPeer(t))
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("session still running after engine Close")
	}
	if inUse, _ := e.PortsInUse(); inUse != 0 {
		t.Fatalf("%d pairs in use", inUse)
	}
}

// TestPortPoolOutOfFiles: when the process may open no more files the
// pool says ErrNoPorts (call control's 503), with the system's error.
func TestPortPoolOutOfFiles(t *testing.T) {
	lo := freeRange(t, 2)
	p := newPortPool(netip.MustParseAddr("127.0.0.1"), lo, lo+1, 0)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = 3 // stdin, stdout and stderr hold 0-2: no descriptor is free
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	sp, err := p.acquire(true)
	if rerr := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); rerr != nil {
		t.Fatalf("restore the open-files limit: %v", rerr)
	}
	if err == nil {
		_ = sp.rtp.Close()
		t.Fatal("acquire succeeded with no file descriptor free")
	}
	if !errors.Is(err, ErrNoPorts) || !errors.Is(err, syscall.EMFILE) {
		t.Fatalf("acquire with no file descriptor free: %v, want ErrNoPorts and EMFILE", err)
	}
}
