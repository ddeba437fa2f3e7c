package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in      string
		want    PortRange
		wantErr string
		check   string // reason from check, "" for a usable range
		pairs   int
	}{
		{in: "10000-20000", want: PortRange{10000, 20000}, pairs: 5000},
		{in: " 1024 - 1026 ", want: PortRange{1024, 1026}, pairs: 1},
		{in: "20000-10000", want: PortRange{20000, 10000}, check: "start must be below end"},
		{in: "10000-10000", want: PortRange{10000, 10000}, check: "start must be below end"},
		{in: "10001-10009", want: PortRange{10001, 10009}, check: "must be even", pairs: 4},
		{in: "0-2000", want: PortRange{0, 2000}, check: "within 1024-65534", pairs: 1000},
		{in: "60000-65535", want: PortRange{60000, 65535}, check: "within 1024-65534", pairs: 2768},
		{in: "10000", wantErr: "not a range"},
		{in: "-", wantErr: "start: not a port number"},
		{in: "a-2", wantErr: "start: not a port number"},
		{in: "2-+4", wantErr: "end: not a port number"},
		{in: "2--4", wantErr: "end: not a port number"},
		{in: "1-70000", wantErr: "end: above 65535"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePortRange(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePortRange(%q) = %v, %v; want error %q",
						tt.in, got, err, tt.wantErr)
				}

				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParsePortRange(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			reason := got.check()
			if !strings.Contains(reason, tt.check) || (tt.check == "") != (reason == "") {
				t.Errorf("check() = %q, want %q", reason, tt.check)
			}
			eq(t, got.Pairs(), tt.pairs)

			var back PortRange
			text, _ := got.MarshalText()
			if err := back.UnmarshalText(text); err != nil || back != got {
				t.Errorf("round trip through %q gave %v, %v", text, back, err)
			}
		})
	}
}

// FuzzParsePortRange checks that the range parser never panics and that an
// accepted range prints back to text that parses to the same range.
func FuzzParsePortRange(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "port_ranges.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParsePortRange(s)
		if err != nil {
			return
		}
		if r.Min < 0 || r.Max < 0 || r.Min > 65535 || r.Max > 65535 {
			t.Fatalf("ParsePortRange(%q) = %v: out of port space", s, r)
		}
		back, err := ParsePortRange(r.String())
		if err != nil || back != r {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, r, r.String(), back, err)
		}
	})
}
