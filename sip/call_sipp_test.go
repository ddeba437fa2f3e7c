package sip

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/patchbay/patchbay/accounting"
	"github.com/patchbay/patchbay/conf"
)

// ccLoad is one sipp run through the B2BUA.
type ccLoad struct {
	rate  int           // calls started per second
	calls int           // calls in all
	hold  time.Duration // talk time of each call
	limit int           // most calls open at once (sipp -l)
}

// ccLoadResult is what the caller side of a run saw.
type ccLoadResult struct {
	success, failed int
	elapsed         time.Duration
	responseMS      float64 // sipp's mean INVITE-to-200 time
	peak            int     // most calls live in call control at once
	peakFDs         int     // most files open in this process, sampled every 0.5 s
	peakRSS         string  // /proc/self/status VmRSS and VmHWM at the peakFDs sample
}

// ccSample is one look at the test process while a load runs.
type ccSample struct {
	calls, fds int
	rss        string
}

// ccOpenFDs counts the files this process has open.
func ccOpenFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}

	return len(ents)
}

func ccFreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	return c.LocalAddr().(*net.UDPAddr).Port
}

func ccScenario(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "testdata", "sipp", name))
	if err != nil {
		t.Fatal(err)
	}

	return p
}

// runB2BUALoad runs a sipp callee, points the account's application at it
// and runs a sipp caller against the server.
func runB2BUALoad(t *testing.T, e *ccEnv, load ccLoad) ccLoadResult {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Fatal("sipp not installed: run the test command, bash .ci/test, which installs it")
	}
	dir := t.TempDir()
	var trace []string
	if d := os.Getenv("PATCHBAY_SIPP_TRACE"); d != "" {
		dir, trace = d, []string{"-trace_err"}
	}
	uasPort := ccFreeUDPPort(t)
	e.app.doc("/voice", fmt.Sprintf(`<Response><Dial><Sip>sip:uas@127.0.0.1:%d</Sip>`+
		`</Dial></Response>`, uasPort))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	uas := exec.CommandContext(ctx, "sipp", "-sf", ccScenario(t, "b2bua_uas.xml"),
		"-i", "127.0.0.1", "-p", strconv.Itoa(uasPort), "-nostdin", "-max_socket", "65000")
	uas.Args = append(uas.Args, trace...)
	uas.Dir = dir
	if err := uas.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); uas.Wait() })
	time.Sleep(300 * time.Millisecond)

	peak := make(chan ccSample, 1)
	stop := make(chan struct{})
	go func() {
		var m ccSample
		for tick := 1; ; tick++ {
			select {
			case <-stop:
				peak <- m

				return
			case <-time.After(50 * time.Millisecond):
				m.calls = max(m.calls, e.cc.ActiveCalls())
			}
			if tick%10 != 0 {
				continue
			}
			if n := ccOpenFDs(); n > m.fds {
				status, _ := os.ReadFile("/proc/self/status")
				m.fds, m.rss = n, vmLines(string(status))
			}
		}
	}()
	limit := load.limit
	if limit == 0 {
		limit = load.calls
	}
	stat := filepath.Join(dir, "uac.csv")
	uac := exec.CommandContext(ctx, "sipp", e.addr, "-sf", ccScenario(t, "b2bua_uac.xml"),
		"-s", "+14155550100", "-i", "127.0.0.1", "-p", strconv.Itoa(ccFreeUDPPort(t)),
		"-m", strconv.Itoa(load.calls), "-r", strconv.Itoa(load.rate),
		"-d", strconv.Itoa(int(load.hold/time.Millisecond)), "-l", strconv.Itoa(limit),
		"-nostdin", "-timeout", "600s", "-max_socket", "65000",
		"-trace_stat", "-stf", stat, "-fd", "1")
	uac.Args = append(uac.Args, trace...)
	uac.Dir = dir
	start := time.Now()
	out, err := uac.CombinedOutput()
	res := ccLoadResult{elapsed: time.Since(start)}
	close(stop)
	p := <-peak
	res.peak, res.peakFDs, res.peakRSS = p.calls, p.fds, p.rss
	if err != nil {
		t.Logf("sipp caller: %v\n%s", err, ccTail(string(out), 2000))
	}
	res.success, res.failed, res.responseMS = readSippStats(t, stat)

	return res
}

func ccTail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}

	return s
}

// readSippStats reads the cumulative counters of sipp's last statistics line.
func readSippStats(t *testing.T, file string) (success, failed int, responseMS float64) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("sipp statistics: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		t.Fatalf("sipp statistics: %d lines", len(lines))
	}
	head := strings.Split(lines[0], ";")
	last := strings.Split(lines[len(lines)-1], ";")
	for i, h := range head {
		if i >= len(last) {
			break
		}
		switch h {
		case "SuccessfulCall(C)":
			success, _ = strconv.Atoi(last[i])
		case "FailedCall(C)":
			failed, _ = strconv.Atoi(last[i])
		case "ResponseTime1(C)":
			responseMS = sippDurationMS(last[i])
		}
	}

	return success, failed, responseMS
}

// sippDurationMS converts sipp's "hh:mm:ss:uuuuuu" to milliseconds.
func sippDurationMS(s string) float64 {
	parts := strings.Split(s, ":")
	if len(parts) != 4 {
		return 0
	}
	h, _ := strconv.Atoi(parts[0])
	m, _ := strconv.Atoi(parts[1])
	sec, _ := strconv.Atoi(parts[2])
	us, _ := strconv.Atoi(parts[3])

	return float64(h*3600+m*60+sec)*1000 + float64(us)/1000
}

// TestCallSippB2BUA runs a short sipp load through the B2BUA: every call is
// a webhook fetch, a relayed media session, a dialled sipp callee, CDRs
// and a completed callback.
func TestCallSippB2BUA(t *testing.T) {
	e := newCCEnv(t)
	res := runB2BUALoad(t, e, ccLoad{rate: 20, calls: 20, hold: 100 * time.Millisecond})
	if res.success != 20 || res.failed != 0 {
		t.Fatalf("sipp: %d successful, %d failed calls", res.success, res.failed)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.cc.Stats().Ended < 20 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if st := e.cc.Stats(); st.Started != 20 || st.Ended != 20 || st.Fetches != 20 {
		t.Errorf("call control stats = %+v", st)
	}
	deadline = time.Now().Add(5 * time.Second)
	for len(e.app.requests("/status")) < 20 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(e.app.requests("/status")); n != 20 {
		t.Errorf("%d completed callbacks, want 20", n)
	}
}

// TestCallSippLoad is the benchmark of docs/benchmarks.md. It runs
// only when PATCHBAY_CALLS_LOAD is "rate,calls,hold_ms[,limit]". The
// media engine gets ports 20000-59999 (20,000 pairs: 10,000 calls of two
// relayed legs); the scenarios offer rtcp-mux, so a held call holds two
// media sockets. It logs the peak of live calls, of this process's open
// files and its memory at that moment, and the CPU time the process used
// per call (the application's in-process HTTP server included). The
// garbage collector runs at patchbay serve's target (conf.GCPercent)
// unless GOGC is set.
func TestCallSippLoad(t *testing.T) {
	spec := os.Getenv("PATCHBAY_CALLS_LOAD")
	if spec == "" {
		t.Skip("set PATCHBAY_CALLS_LOAD=rate,calls,hold_ms[,limit] to run the load")
	}
	var v [4]int
	for i, f := range strings.Split(spec, ",") {
		if i < 4 {
			v[i], _ = strconv.Atoi(f)
		}
	}
	// The garbage collector runs as under patchbay serve.
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })
	gogc := conf.ApplyGCPercent(os.Environ())
	e := newCCEnvPorts(t, 20000, 59999)
	cpu0 := processCPU(t)
	res := runB2BUALoad(t, e, ccLoad{rate: v[0], calls: v[1],
		hold: time.Duration(v[2]) * time.Millisecond, limit: v[3]})
	deadline := time.Now().Add(30 * time.Second)
	for e.cc.ActiveCalls() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cpu := processCPU(t) - cpu0
	st := e.cc.Stats()
	meanApp := time.Duration(0)
	if st.Fetches > 0 {
		meanApp = st.AppWait / time.Duration(st.Fetches)
	}
	share := 0.0
	if res.responseMS > 0 {
		share = float64(meanApp) / float64(time.Millisecond) / res.responseMS * 100
	}
	status, _ := os.ReadFile("/proc/self/status")
	t.Logf("peak_open_files=%d (%s); after the run: %s", res.peakFDs, res.peakRSS,
		vmLines(string(status)))
	t.Logf("calls=%d successful=%d failed=%d (%.3f%%) elapsed=%s achieved=%.0f cps "+
		"peak_live=%d setup_mean=%.1fms app_wait_mean=%s (%.0f%% of setup) "+
		"cpu=%s (%.2f ms/call, in-process application included) gogc=%d",
		v[1], res.success, res.failed, 100*float64(res.failed)/float64(max(v[1], 1)),
		res.elapsed.Round(time.Millisecond),
		float64(res.success+res.failed)/res.elapsed.Seconds(), res.peak, res.responseMS,
		meanApp.Round(time.Microsecond), share, cpu.Round(time.Millisecond),
		float64(cpu)/float64(time.Millisecond)/float64(max(v[1], 1)), gogc)
}

// processCPU returns the user and system CPU time this process has used.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}

	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCallSippPlaysThroughRelay: a sipp caller plays one second of PCMU
// (testdata/media/pcmu_tone_1s.pcap) into a call the B2BUA dials to a
// sipp callee with media anchored; the relay carries it to the callee,
// as the caller's CDR shows.
func TestCallSippPlaysThroughRelay(t *testing.T) {
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Fatal("sipp not installed: run the test command, bash .ci/test, which installs it")
	}
	e := newCCEnv(t)
	dir := t.TempDir()
	uasPort := ccFreeUDPPort(t)
	e.app.doc("/voice", fmt.Sprintf(`<Response><Dial><Sip>sip:uas@127.0.0.1:%d</Sip>`+
		`</Dial></Response>`, uasPort))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	uas := exec.CommandContext(ctx, "sipp", "-sf", ccScenario(t, "b2bua_uas.xml"),
		"-i", "127.0.0.1", "-p", strconv.Itoa(uasPort), "-mp", strconv.Itoa(ccFreeUDPPort(t)),
		"-nostdin")
	uas.Dir = dir
	if err := uas.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); uas.Wait() })
	time.Sleep(300 * time.Millisecond)

	inf := filepath.Join(dir, "caller.csv")
	if err := os.WriteFile(inf, []byte("SEQUENTIAL\nsipp;acme.test;unused;+14155550100\n"),
		0o600); err != nil {
		t.Fatal(err)
	}
	// The scenario names the pcap as ../media/pcmu_tone_1s.pcap: run it from
	// a folder of the temporary dir, beside a copy, so sipp's logs stay there.
	pcap, err := os.ReadFile(filepath.Join("..", "testdata", "media", "pcmu_tone_1s.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"sipp", "media"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "media", "pcmu_tone_1s.pcap"), pcap, 0o600); err != nil {
		t.Fatal(err)
	}
	uac := exec.CommandContext(ctx, "sipp", e.addr, "-sf", ccScenario(t, "uac_pcap_play.xml"),
		"-inf", inf, "-m", "1", "-i", "127.0.0.1", "-p", strconv.Itoa(ccFreeUDPPort(t)),
		"-mp", strconv.Itoa(ccFreeUDPPort(t)), "-nostdin", "-timeout", "20s", "-trace_err")
	uac.Dir = filepath.Join(dir, "sipp")
	if out, err := uac.CombinedOutput(); err != nil {
		logs, _ := filepath.Glob(filepath.Join(uac.Dir, "*_errors.log"))
		var errs []byte
		if len(logs) > 0 {
			errs, _ = os.ReadFile(logs[0])
		}
		t.Fatalf("sipp caller: %v\n%s\n%s", err, ccTail(string(out), 600), ccTail(string(errs), 2000))
	}

	parent := closedCDR(t, e, accounting.DirInbound)
	if q := parent.Quality; q.PacketsReceived < 40 || q.Codec != "PCMU/8000" {
		t.Fatalf("caller's leg: %d packets received from the caller (want the ~50 of the "+
			"pcap), codec %q; CDR %+v", q.PacketsReceived, q.Codec, parent)
	}
	if child := closedCDR(t, e, accounting.DirOutboundDial); child.Quality.PacketsSent < 40 {
		t.Fatalf("callee's leg: %d packets relayed to the callee; CDR %+v",
			child.Quality.PacketsSent, child)
	}
}

// closedCDR waits for the account's one closed CDR of direction dir.
func closedCDR(t *testing.T, e *ccEnv, dir accounting.Direction) accounting.CDR {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		cdrs, _, err := e.ledger.ListCDRs(t.Context(), accounting.CDRFilter{
			AccountSID: e.acct.SID, Direction: dir})
		if err != nil {
			t.Fatal(err)
		}
		if len(cdrs) == 1 && !cdrs[0].Open() {
			return cdrs[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no closed %s CDR", dir)

	return accounting.CDR{}
}
