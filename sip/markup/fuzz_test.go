package markup

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input panics or hangs the parser and that every
// failure is a typed *Error with a code.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(testdataDir, "*.xml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, file := range files {
		doc, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		resp, err := Parse(doc, Limits{})
		if err != nil {
			var me *Error
			if !errors.As(err, &me) || me.Code == 0 || resp != nil {
				t.Fatalf("untyped or code-less error %v (resp %v)", err, resp)
			}

			return
		}
		for _, v := range resp.Verbs {
			if v == nil || v.VerbName() == "" {
				t.Fatalf("nil or nameless verb in %+v", resp)
			}
		}
	})
}
