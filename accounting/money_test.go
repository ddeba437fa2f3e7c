package accounting

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMicro(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  error
	}{
		{"0", 0, nil},
		{"12", 12_000_000, nil},
		{"-0.0075", -7500, nil},
		{"+3.5", 3_500_000, nil},
		{".5", 500_000, nil},
		{"5.", 5_000_000, nil},
		{"0.000001", 1, nil},
		{"1.2300000", 1_230_000, nil},
		{"9223372036854.775807", 1<<63 - 1, nil},
		{"-9223372036854.775808", -1 << 63, nil},
		{"9223372036854.775808", 0, ErrMoneyRange},
		{"99999999999999999999", 0, ErrMoneyRange},
		{"0.0000001", 0, ErrMoneyPrecision},
		{"", 0, ErrMoneySyntax},
		{"-", 0, ErrMoneySyntax},
		{".", 0, ErrMoneySyntax},
		{"1e3", 0, ErrMoneySyntax},
		{"1,000", 0, ErrMoneySyntax},
		{" 1", 0, ErrMoneySyntax},
		{"1.2.3", 0, ErrMoneySyntax},
		{"--1", 0, ErrMoneySyntax},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseMicro(c.in)
			if !errors.Is(err, c.err) {
				t.Fatalf("ParseMicro(%q) error = %v, want %v", c.in, err, c.err)
			}
			if err == nil && got != c.want {
				t.Fatalf("ParseMicro(%q) = %d, want %d", c.in, got, c.want)
			}
		})
	}
}

func TestFormatMicro(t *testing.T) {
	cases := map[int64]string{
		0:              "0.00",
		1500:           "0.0015",
		-7500:          "-0.0075",
		-2_000_000:     "-2.00",
		1_230_000:      "1.23",
		1:              "0.000001",
		1<<63 - 1:      "9223372036854.775807",
		-1 << 63:       "-9223372036854.775808",
		12_345_678_900: "12345.6789",
	}
	for in, want := range cases {
		t.Run(want, func(t *testing.T) {
			if got := FormatMicro(in); got != want {
				t.Fatalf("FormatMicro(%d) = %q, want %q", in, got, want)
			}
		})
	}
}

// FuzzParseMicro checks that ParseMicro never panics and that every amount
// it accepts formats back to the same value.
func FuzzParseMicro(f *testing.F) {
	seeds, err := os.ReadFile(filepath.Join("..", "testdata", "accounting", "amounts.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(seeds), "\n") {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseMicro(s)
		if err != nil {
			return
		}
		back, err := ParseMicro(FormatMicro(v))
		if err != nil || back != v {
			t.Fatalf("round trip of %q: %d -> %q -> %d, %v", s, v, FormatMicro(v), back, err)
		}
	})
}
