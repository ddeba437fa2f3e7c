package accounting

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// crashChildEnv, when set to a database file, turns the test binary into a
// child that records legs until it is killed.
const crashChildEnv = "PATCHBAY_ACCOUNTING_CRASH_CHILD"

// TestCrashChild is the child side of TestCrashRecovery. It writes legs
// from several goroutines and prints "open SID" and "close SID" after each
// acknowledged write, and "ready" once a good number are done.
func TestCrashChild(t *testing.T) {
	file := os.Getenv(crashChildEnv)
	if file == "" {
		t.Skip("child of TestCrashRecovery only")
	}
	l := openLedgerAt(t, file, Config{Node: "node-crash",
		HeartbeatInterval: 10 * time.Millisecond})
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		mu.Lock()
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
		mu.Unlock()
	}
	var wg sync.WaitGroup
	var done sync.Once
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				childLegs(t, l, g, i, say)
				if g == 0 && i == 20 {
					done.Do(func() { say("ready") })
				}
			}
		})
	}
	wg.Wait()
}

// childLegs opens two legs, answers both and closes only the first.
func childLegs(t *testing.T, l *Ledger, g, i int, say func(string, ...any)) {
	ctx := context.Background()
	for k := range 2 {
		sid := fmt.Sprintf("CA%08x%08x%016x", g, i, k)
		err := l.OpenLeg(ctx, LegStart{SID: sid, AccountSID: acctA, Direction: DirInbound,
			To: "+14155550100", MediaMode: "relayed"})
		if err != nil {
			t.Error(err)

			return
		}
		say("open %s", sid)
		if err := l.LegAnswered(ctx, sid, time.Time{}); err != nil {
			t.Error(err)

			return
		}
		if k == 1 {
			continue
		}
		err = l.CloseLeg(ctx, LegEnd{SID: sid, Status: StatusCompleted,
			Cause: CauseCallerHangup})
		if err != nil {
			t.Error(err)

			return
		}
		say("close %s", sid)
	}
}

// TestCrashRecovery kills a child with legs being written and checks that,
// after restart, every leg has exactly one closed CDR, counted once.
func TestCrashRecovery(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("parent only")
	}
	ctx := context.Background()
	l, file := openTestLedger(t, Config{Node: "node-crash"})
	legPlan(t, l, acctA)
	l.Close()

	opened, closed := runCrashChild(t, file)
	if len(opened) < 40 {
		t.Fatalf("child acknowledged only %d legs", len(opened))
	}
	var beat int64
	if err := l.db.QueryRow(`SELECT heartbeat FROM accounting_nodes WHERE node = ?`,
		"node-crash").Scan(&beat); err != nil {
		t.Fatal(err)
	}

	for round := range 2 {
		l2 := openLedgerAt(t, file, Config{Node: "node-crash"})
		all, _, err := l2.ListCDRs(ctx, CDRFilter{})
		if err != nil {
			t.Fatal(err)
		}
		checkRecovered(t, all, opened, closed, beat)
		checkCountedOnce(t, l2, len(all))
		l2.Close()
		t.Logf("round %d: %d legs, %d acknowledged open, %d closed", round, len(all),
			len(opened), len(closed))
	}
}

func runCrashChild(t *testing.T, file string) (opened, closed map[string]bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+file)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	opened, closed = map[string]bool{}, map[string]bool{}
	lines := bufio.NewScanner(stdout)
	killed := false
	for lines.Scan() {
		verb, sid, _ := strings.Cut(lines.Text(), " ")
		switch verb {
		case "open":
			opened[sid] = true
		case "close":
			closed[sid] = true
		case "ready":
			time.AfterFunc(30*time.Millisecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed || err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("child did not die by SIGKILL: %v", err)
	}

	return opened, closed
}

func checkRecovered(t *testing.T, all []CDR, opened, closed map[string]bool, beat int64) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range all {
		seen[c.SID] = true
		switch {
		case c.Open():
			t.Errorf("leg %s left open", c.SID)
		case closed[c.SID] && (c.Recovered || c.Cause != CauseCallerHangup):
			t.Errorf("acknowledged close of %s rewritten: %+v", c.SID, c)
		case c.Recovered && (c.Cause != CauseNodeCrash || c.Ended.UnixMilli() !=
			max(beat, c.Created.UnixMilli())):
			t.Errorf("recovered leg %s: cause %s, ended %d, heartbeat %d", c.SID, c.Cause,
				c.Ended.UnixMilli(), beat)
		case c.Recovered && c.Status != StatusCompleted && !c.Answered.IsZero():
			t.Errorf("recovered answered leg %s has status %s", c.SID, c.Status)
		}
	}
	for sid := range opened {
		if !seen[sid] {
			t.Errorf("acknowledged leg %s lost", sid)
		}
	}
}

// checkCountedOnce checks that usage, spend and CDR prices agree.
func checkCountedOnce(t *testing.T, l *Ledger, legs int) {
	t.Helper()
	var count, usagePrice, cdrPrice, spend int64
	q := `SELECT
		(SELECT coalesce(sum(count), 0) FROM accounting_usage WHERE category = 'calls-inbound'),
		(SELECT coalesce(sum(price_micro), 0) FROM accounting_usage),
		(SELECT coalesce(sum(price_micro), 0) FROM accounting_cdrs),
		(SELECT coalesce(sum(price_micro), 0) FROM accounting_spend)`
	if err := l.db.QueryRow(q).Scan(&count, &usagePrice, &cdrPrice, &spend); err != nil {
		t.Fatal(err)
	}
	if count != int64(legs) || usagePrice != cdrPrice || spend != cdrPrice {
		t.Fatalf("legs %d counted %d; prices cdr %d usage %d spend %d", legs, count, cdrPrice,
			usagePrice, spend)
	}
}
