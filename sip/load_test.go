package sip

import (
	"context"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patchbay/patchbay/sip/digest"
	"github.com/patchbay/patchbay/sip/location"
)

// TestLoadServe runs the edge over the fake directory for an external load
// generator (sipp), when PATCHBAY_SIP_LOAD_ADDR is set (e.g.
// 127.0.0.1:5090); PATCHBAY_SIP_LOAD_SECONDS is how long it serves (30).
// It is skipped otherwise. docs/benchmarks.md shows the commands.
func TestLoadServe(t *testing.T) {
	addr := os.Getenv("PATCHBAY_SIP_LOAD_ADDR")
	if addr == "" {
		t.Skip("PATCHBAY_SIP_LOAD_ADDR not set")
	}
	secs, _ := strconv.Atoi(os.Getenv("PATCHBAY_SIP_LOAD_SECONDS"))
	if secs <= 0 {
		secs = 30
	}
	dir := newDirectory()
	users, _ := strconv.Atoi(os.Getenv("PATCHBAY_SIP_LOAD_USERS"))
	for i := range users {
		dir.addUser(domA, acctA, "u"+strconv.Itoa(i), "pw-"+strconv.Itoa(i))
	}
	loc := location.NewMemory(nil)
	defer loc.Close()
	srv, err := NewServer(Config{Listen: addr, Registerer: prometheus.NewRegistry(),
		TrustedSources: []netip.Prefix{mustPrefix("127.0.0.0/8")}, Logger: testLogger(),
		DigestAlgorithms: []digest.Algorithm{digest.MD5, digest.SHA256}},
		dir, loc)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Duration(secs)*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if path := os.Getenv("PATCHBAY_SIP_LOAD_CPU"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
	}
	<-ctx.Done()
	if path := os.Getenv("PATCHBAY_SIP_LOAD_HEAP"); path != "" {
		if f, err := os.Create(path); err == nil {
			runtime.GC()
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	n, _ := loc.CountAccount(context.Background(), acctA)
	status, _ := os.ReadFile("/proc/self/status")
	t.Logf("registrations bound %v, refused %v, bindings %d, heap in use %d MiB\n%s",
		metricValue(t, srv.m.registrations.WithLabelValues("bound")),
		metricValue(t, srv.m.registrations.WithLabelValues("refused")), n,
		ms.HeapInuse>>20, vmLines(string(status)))
}

// vmLines keeps the VmRSS and VmHWM lines of /proc/self/status.
func vmLines(status string) string {
	var out []string
	for _, l := range strings.Split(status, "\n") {
		if strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "VmHWM") {
			out = append(out, l)
		}
	}

	return strings.Join(out, "; ")
}
