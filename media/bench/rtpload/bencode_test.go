package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestBencodeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"string", "offer", "5:offer"},
		{"int", -42, "i-42e"},
		{"list", []any{"a", 1}, "l1:ai1ee"},
		{"dict sorted", map[string]any{"sdp": "x", "call-id": "c"}, "d7:call-id1:c3:sdp1:xe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(encodeBencode(nil, tc.in))
			if got != tc.want {
				t.Fatalf("encode = %q, want %q", got, tc.want)
			}
			back, rest, err := decodeBencode([]byte(got))
			if err != nil || len(rest) != 0 || !reflect.DeepEqual(back, tc.in) {
				t.Fatalf("decode = %#v, %q, %v", back, rest, err)
			}
		})
	}
}

func TestBencodeErrors(t *testing.T) {
	for _, in := range []string{"", "i12", "5:abc", "l1:a", "d1:a", "di1e1:ae", "x", "-1:a",
		"99999999999999999999:a"} {
		t.Run(in, func(t *testing.T) {
			if _, _, err := decodeBencode([]byte(in)); !errors.Is(err, errBencode) {
				t.Fatalf("decode(%q) err = %v", in, err)
			}
		})
	}
}

func FuzzDecodeBencode(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "media", "ng_offer.bencode"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("d6:result4:ponge"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, rest, err := decodeBencode(b)
		if err != nil {
			return
		}
		if len(rest) > len(b) {
			t.Fatal("rest longer than input")
		}
		again, _, err := decodeBencode(encodeBencode(nil, v))
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("re-encode of %#v: %v", v, err)
		}
	})
}
