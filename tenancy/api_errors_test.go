package tenancy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAPIFailMapsEveryError pins the one table that turns store and input
// errors into HTTP answers.
func TestAPIFailMapsEveryError(t *testing.T) {
	var logged bytes.Buffer
	a := &API{log: slog.New(slog.NewTextHandler(&logged, nil))}
	cases := []struct {
		name         string
		err          error
		status, code int
		message      string
		logs         bool
	}{
		{"invalid field", invalid("VoiceUrl", "bad"), 400, CodeInvalidParameter, "VoiceUrl: bad", false},
		{"conflict", conflict("DomainName", "taken"), 400, CodeInvalidParameter, "DomainName: taken", false},
		{"wrapped field", fmt.Errorf("x: %w", invalid("Page", "bad")), 400, CodeInvalidParameter,
			"Page: bad", false},
		{"body too big", &http.MaxBytesError{Limit: 10}, 400, CodeInvalidParameter,
			"body: larger than 10 bytes", false},
		{"not found", fmt.Errorf("%w: domain SDx", ErrNotFound), 404, CodeNotFound,
			"the requested resource was not found", false},
		{"forbidden", fmt.Errorf("%w: only a parent", ErrForbidden), 403, CodeForbidden,
			"forbidden: only a parent", false},
		{"internal", errors.New("tenancy: disk on fire"), 500, CodeInternal, "internal error", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logged.Reset()
			w := httptest.NewRecorder()
			a.fail(w, httptest.NewRequest("GET", "/x", nil), c.err)
			var body apiError
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if w.Code != c.status || body.Status != c.status || body.Code != c.code ||
				body.Message != c.message || body.MoreInfo == "" {
				t.Errorf("answer %d %+v, want %d %d %q", w.Code, body, c.status, c.code, c.message)
			}
			if got := strings.Contains(logged.String(), "disk on fire"); got != c.logs {
				t.Errorf("logged = %v, want %v", got, c.logs)
			}
		})
	}
}
