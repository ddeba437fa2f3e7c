package conf

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParse measures loading a settings file, validation included.
func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"empty", "minimal", "full"} {
		data, err := os.ReadFile(filepath.Join("testdata", name+".yaml"))
		if err != nil {
			b.Fatal(err)
		}
		env := envOf(map[string]string{"PATCHBAY_API_LISTEN": "127.0.0.1:0"})
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Parse(data, env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
