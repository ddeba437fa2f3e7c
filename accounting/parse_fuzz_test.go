package accounting

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func querySeeds(f *testing.F) {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "accounting", "call_queries.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f.Add(line)
	}
}

// FuzzParseCallFilter checks that no query string panics the Calls filter
// parser, that a rejection names a parameter, and that an accepted filter
// renders to SQL with one argument per placeholder.
func FuzzParseCallFilter(f *testing.F) {
	querySeeds(f)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		filter, param, err := ParseCallFilter(q)
		if err != nil {
			if param == "" {
				t.Fatalf("%q: error %v names no parameter", raw, err)
			}

			return
		}
		tail, args := filter.where()
		if strings.Count(tail, "?") != len(args) {
			t.Fatalf("%q: %d placeholders, %d args", raw, strings.Count(tail, "?"), len(args))
		}
	})
}

// FuzzUsageAndStatementParams checks the usage and statement parameter
// parsers: no panic, errors name a parameter, accepted ranges are ordered
// days.
func FuzzUsageAndStatementParams(f *testing.F) {
	querySeeds(f)
	now := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		acct := testAccount(now)
		uq, param, err := parseUsageQuery(q, acct, now, GranularityAll)
		if err == nil && (!validDay(uq.Start) || !validDay(uq.End) || uq.End < uq.Start) {
			t.Fatalf("%q: accepted range %s..%s", raw, uq.Start, uq.End)
		}
		if err != nil && param == "" {
			t.Fatalf("%q: usage error %v names no parameter", raw, err)
		}
		start, end, param, err := statementPeriod(q, now)
		if err == nil && (!validDay(start) || !validDay(end) || end < start) {
			t.Fatalf("%q: accepted period %s..%s", raw, start, end)
		}
		if err != nil && param == "" {
			t.Fatalf("%q: statement error %v names no parameter", raw, err)
		}
	})
}
