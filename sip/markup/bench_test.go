package markup

import (
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"dial_sip", "dial_parallel", "gather_play"} {
		doc, err := os.ReadFile(filepath.Join(testdataDir, name+".xml"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if _, err := Parse(doc, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
