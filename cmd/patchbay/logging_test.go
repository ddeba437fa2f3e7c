package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/patchbay/patchbay/conf"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		name      string
		log       conf.Log
		wantDebug bool
		wantInfo  bool
		json      bool
	}{
		{"info text", conf.Log{Level: "info", Format: "text"}, false, true, false},
		{"debug json", conf.Log{Level: "debug", Format: "json"}, true, true, true},
		{"warn hides info", conf.Log{Level: "warn", Format: "text"}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := newLogger(tt.log, &buf)
			log.Debug("debug line", "k", "v")
			log.Info("info line", "k", "v")
			log.Warn("warn line", "k", "v")
			out := buf.String()
			eq(t, strings.Contains(out, "debug line"), tt.wantDebug)
			eq(t, strings.Contains(out, "info line"), tt.wantInfo)
			if !strings.Contains(out, "warn line") {
				t.Errorf("warn line missing:\n%s", out)
			}
			for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
				var v map[string]any
				isJSON := json.Unmarshal([]byte(line), &v) == nil
				if isJSON != tt.json {
					t.Errorf("line %q: JSON %v, want %v", line, isJSON, tt.json)
				}
			}
		})
	}
}
