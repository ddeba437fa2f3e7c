package location

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// FuzzDecodeBinding feeds the decoder of stored Redis values with the seeds
// in testdata/stored and their mutations: it never panics, and what it
// accepts encodes back to a value that decodes to the same binding.
func FuzzDecodeBinding(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "stored", "*.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/stored: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, v string) {
		b, err := decodeBinding(v)
		if err != nil {
			return
		}
		p, err := encodePayload(&b)
		if err != nil {
			t.Fatalf("encode %+v: %v", b, err)
		}
		again, err := decodeBinding(strconv.FormatUint(uint64(b.CSeq), 10) + "\n" +
			b.CallID + "\n" + string(p))
		if err != nil {
			t.Fatalf("decode of the re-encoded %+v: %v", b, err)
		}
		if again != b {
			t.Fatalf("round trip changed %+v into %+v", b, again)
		}
	})
}

func TestDecodeBindingSeeds(t *testing.T) {
	tests := []struct {
		file    string
		wantErr bool
	}{
		{"full.txt", false}, {"minimal.txt", false}, {"ipv6.txt", false},
		{"corrupt.txt", true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			v, err := os.ReadFile(filepath.Join("testdata", "stored", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			b, err := decodeBinding(string(v))
			if (err != nil) != tt.wantErr {
				t.Fatalf("decode: %+v, %v; want error %v", b, err, tt.wantErr)
			}
			if tt.file == "full.txt" && (b.Received.Port() != 5062 || b.Transport != "tcp" ||
				b.CallID != "abc@host" || b.CSeq != 1 || b.Node != "node-a") {
				t.Errorf("decoded %+v", b)
			}
		})
	}
}
