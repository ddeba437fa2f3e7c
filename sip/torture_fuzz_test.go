package sip

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	sipmsg "github.com/emiago/sipgo/sip"
)

// FuzzSIPParser feeds sipgo's parser, configured as the server configures
// it, with the torture messages and their mutations. The parser must
// neither panic nor hang; what it accepts must print and parse again
// without panicking, and keep its method or status code.
func FuzzSIPParser(f *testing.F) {
	seeds := 0
	err := filepath.WalkDir(tortureDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sip") {
			return err
		}
		f.Add(readFile(f, path))
		seeds++

		return nil
	})
	if err != nil || seeds < 60 {
		f.Fatalf("torture seeds: %d files, %v", seeds, err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := sipmsg.NewParser()
		p.MaxMessageLength = DefaultMaxMessageBytes
		msg, err := p.ParseSIP(data)
		if err != nil {
			return
		}
		again, err := sipmsg.NewParser().ParseSIP([]byte(msg.String()))
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *sipmsg.Request:
			if r, ok := again.(*sipmsg.Request); !ok || r.Method != m.Method {
				t.Fatalf("request %s printed and parsed again as %v", m.Method, firstLine(again))
			}
		case *sipmsg.Response:
			if r, ok := again.(*sipmsg.Response); !ok || r.StatusCode != m.StatusCode {
				t.Fatalf("response %d printed and parsed again as %v", m.StatusCode,
					firstLine(again))
			}
		}
	})
}

// firstLine is the start line of m as printed.
func firstLine(m sipmsg.Message) string {
	line, _, _ := strings.Cut(m.String(), "\r\n")

	return line
}
