package sip

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patchbay/patchbay/conf"
	"github.com/patchbay/patchbay/sip/digest"
	"github.com/patchbay/patchbay/tenancy"
)

// The sipp load benchmarks measure the whole edge over loopback as
// sip/bench/run.sh runs them, side by side with Kamailio: sipp drives the
// load, the server runs in this process. They read their load from the
// environment so that run.sh gives Kamailio the very same:
//
//	PATCHBAY_BENCH_SECONDS  length of each load (20)
//	PATCHBAY_BENCH_LIMIT    sipp -l, calls in flight at once (200)
//	PATCHBAY_BENCH_RATE     sipp -r, the rate cap per second (20000)
//	PATCHBAY_BENCH_USERS    users cycled through by the registrations (10000)
//	PATCHBAY_BENCH_DEVICES  devices registered for the memory figure (100000)
//
// Run: go test -run '^$' -bench SIPp -benchtime 1x ./sip/

// benchDomain is the SIP domain of the load users.
const (
	benchDomain    = "bench.test"
	benchDomainSID = "SD0000000000000000000000000000bead"
)

// benchDirectory is the test directory plus bench.test, whose users
// u<digits> have the password pw<digits>. Their credentials are made on
// request, so that a million users cost no memory of their own and the
// memory figure shows the edge, not a test table.
type benchDirectory struct{ *fakeDirectory }

func newBenchDirectory() benchDirectory {
	d := newDirectory()
	d.addDomain(tenancy.Domain{SID: benchDomainSID, AccountSID: acctA,
		DomainName: benchDomain, SIPRegistration: true})

	return benchDirectory{d}
}

func (d benchDirectory) DomainCredential(ctx context.Context, domainSID string,
	kind tenancy.MappingKind, username string) (*tenancy.Credential, error) {
	if domainSID != benchDomainSID || len(username) < 2 || username[0] != 'u' {
		return d.fakeDirectory.DomainCredential(ctx, domainSID, kind, username)
	}
	if _, err := strconv.Atoi(username[1:]); err != nil {
		return nil, notFound("credential")
	}
	pw := "pw" + username[1:]
	md5, _ := digest.HA1(digest.MD5, username, tenancy.Realm, pw)
	sha, _ := digest.HA1(digest.SHA256, username, tenancy.Realm, pw)

	return &tenancy.Credential{AccountSID: acctA, Username: username, HA1MD5: md5,
		HA1SHA256: sha}, nil
}

// benchLoad is the sipp load of one benchmark, from the environment.
type benchLoad struct {
	seconds, limit, rate, users, devices int
}

func loadFromEnv(b *testing.B) benchLoad {
	b.Helper()
	get := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("%s=%q is not a positive integer", name, v)
		}
		return n
	}

	return benchLoad{
		seconds: get("PATCHBAY_BENCH_SECONDS", 20), limit: get("PATCHBAY_BENCH_LIMIT", 200),
		rate: get("PATCHBAY_BENCH_RATE", 20000), users: get("PATCHBAY_BENCH_USERS", 10000),
		devices: get("PATCHBAY_BENCH_DEVICES", 100000),
	}
}

// startBenchServer starts the edge for sipp load, with the garbage
// collector's target of patchbay serve: MD5 offered first (sipp
// answers only the first challenge) and loopback exempt from the guard's
// per-source limits, as a load generator in front of it would be.
// At the end it logs the server's authentication failures and guard drops
// by reason, which explain failed sipp calls.
func startBenchServer(b *testing.B) *sippEnv {
	b.Helper()
	requireSipp(b)
	// The garbage collector runs as under patchbay serve.
	b.Logf("GOGC %d", conf.ApplyGCPercent(os.Environ()))
	reg := prometheus.NewRegistry()
	e, stop, err := startSippEnv(newBenchDirectory(), func(c *Config) {
		c.TrustedSources = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		c.Registerer = reg
	}, digest.MD5, digest.SHA256)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		logFailures(b, reg)
		stop()
	})

	return e
}

// logFailures logs the non-zero auth failure and guard drop counters.
func logFailures(b *testing.B, reg *prometheus.Registry) {
	families, err := reg.Gather()
	if err != nil {
		return
	}
	for _, f := range families {
		name := f.GetName()
		if !strings.Contains(name, "auth_failures") && !strings.Contains(name, "guard_drops") &&
			!strings.Contains(name, "requests_total") {
			continue
		}
		for _, m := range f.GetMetric() {
			if v := m.GetCounter().GetValue(); v > 0 {
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, l.GetName()+"="+l.GetValue())
				}
				b.Logf("%s{%s} %v", name, strings.Join(labels, ","), v)
			}
		}
	}
}

// cpuTime is the user plus system CPU time of who: syscall.RUSAGE_SELF for
// this process, syscall.RUSAGE_CHILDREN for its children already waited for.
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}

	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// userLines returns injection lines for users from..to-1; callee, when
// set, is added as the fourth field.
func userLines(from, to int, callee string) string {
	var sb strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&sb, "u%06d;%s;[authentication username=u%06d password=pw%06d];%s\n",
			i, benchDomain, i, i, callee)
	}

	return sb.String()
}

// rated runs r for load.seconds and returns its successful calls per second
// of wall time and its failures. It also reports the CPU time this process
// (the server under test) and the sipp run spent per successful call, in
// µs: unlike the rate, these hardly depend on what else shares the cores.
func rated(ctx context.Context, b *testing.B, dir string, r sippRun) (float64, int) {
	b.Helper()
	self0, sipp0 := cpuTime(syscall.RUSAGE_SELF), cpuTime(syscall.RUSAGE_CHILDREN)
	start := time.Now()
	res := r.run(ctx, b, dir)
	secs := time.Since(start).Seconds()
	if res.succeeded <= 0 {
		b.Fatalf("sipp %s: nothing succeeded: %v", r.name, res)
	}
	perOp := func(d time.Duration) float64 {
		return float64(d.Microseconds()) / float64(res.succeeded)
	}
	b.ReportMetric(perOp(cpuTime(syscall.RUSAGE_SELF)-self0), "server-CPU-µs/op")
	b.ReportMetric(perOp(cpuTime(syscall.RUSAGE_CHILDREN)-sipp0), "sipp-CPU-µs/op")
	if res.failed > 0 {
		b.Logf("sipp %s: %d failed (%s): %s; first errors:\n%s", r.name, res.failed,
			res.failures, failureKinds(res.errors), redactAuth(head(res.errors, 1500)))
	}

	return float64(res.succeeded) / secs, res.failed
}

// BenchmarkSIPpRegister measures REGISTERs with digest authentication
// (REGISTER, 401, REGISTER with credentials, 200) per second.
func BenchmarkSIPpRegister(b *testing.B) {
	load := loadFromEnv(b)
	e := startBenchServer(b)
	dir := b.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(),
		time.Duration(load.seconds+30)*time.Second)
	defer cancel()
	perSec, failed := rated(ctx, b, dir, sippRun{name: "register", load: true,
		scenario: "uac_register_auth.xml", transport: "udp", server: e.addr,
		calls: 100000000, rate: load.rate, limit: load.limit,
		timeout: time.Duration(load.seconds) * time.Second,
		fields:  userLines(1, 1+load.users, "")})
	b.ReportMetric(perSec, "registrations/s")
	b.ReportMetric(float64(failed), "failed")
}

// BenchmarkSIPpCall measures calls per second through the proxy: a
// registered callee answers every call (uac_register_auth.xml with
// uas_answer.xml), callers authenticate their INVITEs (uac_invite_auth.xml:
// INVITE, 407, ACK, INVITE, 200, ACK, BYE, 200).
func BenchmarkSIPpCall(b *testing.B) {
	load := loadFromEnv(b)
	e := startBenchServer(b)
	dir := b.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(),
		time.Duration(load.seconds+60)*time.Second)
	defer cancel()
	callee := sippRun{name: "callee", load: true, scenario: "uac_register_auth.xml",
		oocs: "uas_answer.xml", transport: "udp", server: e.addr, calls: 1,
		hold:    time.Duration(load.seconds+20) * time.Second,
		timeout: time.Duration(load.seconds+40) * time.Second, fields: userLines(0, 1, "")}
	cctx, stopCallee := context.WithCancel(ctx)
	cmd, _ := callee.start(cctx, b, dir)
	defer func() {
		stopCallee()
		cmd.Wait()
	}()
	waitBinding(ctx, b, e, "u000000@"+benchDomain)

	perSec, failed := rated(ctx, b, dir, sippRun{name: "caller", load: true,
		scenario: "uac_invite_auth.xml", transport: "udp", server: e.addr,
		calls: 100000000, rate: load.rate, limit: load.limit,
		timeout: time.Duration(load.seconds) * time.Second,
		fields:  userLines(1, 1001, "u000000")})
	b.ReportMetric(perSec, "calls/s")
	b.ReportMetric(float64(failed), "failed")
	if errs, err := os.ReadFile(filepath.Join(dir, "callee_errors.log")); err == nil &&
		failed > 0 {
		b.Logf("callee errors: %s; first:\n%s", failureKinds(string(errs)),
			redactAuth(head(string(errs), 1500)))
	}
}

// BenchmarkSIPpMemory registers PATCHBAY_BENCH_DEVICES distinct devices
// with digest authentication and reports the process's resident memory
// right after the burst and once the transactions have expired. Run it in
// a process of its own (run.sh does), or the other benchmarks' garbage
// counts too.
func BenchmarkSIPpMemory(b *testing.B) {
	load := loadFromEnv(b)
	e := startBenchServer(b)
	dir := b.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	runtime.GC()
	before := residentBytes(b)
	res := sippRun{name: "devices", load: true, scenario: "uac_register_auth.xml",
		transport: "udp", server: e.addr, calls: load.devices, rate: load.rate, limit: load.limit,
		timeout: 9 * time.Minute, fields: userLines(1, 1+load.devices, "")}.run(ctx, b, dir)
	n, err := e.loc.CountAccount(ctx, acctA)
	if err != nil || n < load.devices*99/100 {
		b.Fatalf("%d of %d devices registered (%v): %v", n, load.devices, err, res)
	}
	runtime.GC()
	burst := residentBytes(b)
	// Completed REGISTER transactions stay for Timer J (64*T1 = 32s over
	// UDP, RFC 3261 17.2.2) with their messages; wait them out, then give
	// freed pages back as the runtime's scavenger would in time.
	time.Sleep(35 * time.Second)
	runtime.GC()
	debug.FreeOSMemory()
	settled := residentBytes(b)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(n), "devices")
	b.ReportMetric(float64(burst)/(1<<20), "MiB-RSS-burst")
	b.ReportMetric(float64(settled)/(1<<20), "MiB-RSS")
	b.ReportMetric(float64(settled-before)/float64(n), "RSS-bytes/device")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MiB-heap")
}

// residentBytes reads this process's resident set size from /proc.
func residentBytes(b *testing.B) int64 {
	b.Helper()
	f, err := os.Open(filepath.Join("/proc", "self", "status"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(
				strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")

	return 0
}

// head returns the first n bytes of s.
func head(s string, n int) string {
	if len(s) <= n {
		return s
	}

	return s[:n] + "..."
}

// failureKinds counts sipp's abort reasons by what it expected and what it
// got ("expecting '200', got 407: 12").
func failureKinds(errs string) string {
	counts := map[string]int{}
	for _, line := range strings.Split(errs, "\n") {
		_, rest, ok := strings.Cut(line, "while expecting ")
		if !ok {
			if _, r, ok := strings.Cut(line, "receive timeout"); ok && r != "" {
				counts["receive timeout"]++
			}
			continue
		}
		want, got, _ := strings.Cut(rest, ", received '")
		want, _, _ = strings.Cut(want, " (")
		got = strings.TrimPrefix(got, "SIP/2.0 ")
		got, _, _ = strings.Cut(got, " ")
		counts["expecting "+want+", got "+got]++
	}
	var parts []string
	for k, v := range counts {
		parts = append(parts, fmt.Sprintf("%s: %d", k, v))
	}
	slices.Sort(parts)

	return strings.Join(parts, "; ")
}
