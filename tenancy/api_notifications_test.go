package tenancy

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestNotifications: the platform records notifications; the account
// lists, fetches and deletes its own, its parent sees them, nobody else
// does, and nobody can create one through the API.
func TestNotifications(t *testing.T) {
	h := newHarness(t, APIOptions{})
	ts := newTenants(h)
	ctx := context.Background()
	long := strings.Repeat("é", maxNotificationText) // 2 bytes each: cut on a rune boundary
	n, err := h.store.AddNotification(ctx, Notification{AccountSID: ts.s1.user,
		CallSID: "CA" + strings.Repeat("0", 32), ErrorCode: 11200, Level: LevelError,
		Message: long, RequestURL: "https://app.example/voice"})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Message) > maxNotificationText || !strings.HasPrefix(long, n.Message) {
		t.Fatalf("message not cut to %d bytes on a rune boundary: %d", maxNotificationText,
			len(n.Message))
	}
	if _, err := h.store.AddNotification(ctx, Notification{AccountSID: ts.b.user,
		ErrorCode: 20429, Level: LevelWarning, Message: "other tenant"}); err != nil {
		t.Fatal(err)
	}

	coll := "/2010-04-01/Accounts/" + ts.s1.user + "/Notifications"
	list := h.must(http.StatusOK, ts.s1, "GET", coll+".json", nil)
	items, _ := list["notifications"].([]any)
	if len(items) != 1 {
		t.Fatalf("listed %d notifications, want 1: %v", len(items), list)
	}
	got := items[0].(map[string]any)
	if got["error_code"] != "11200" || got["log"] != "0" || got["call_sid"] == nil ||
		got["request_url"] != "https://app.example/voice" || got["sid"] != n.SID {
		t.Fatalf("notification = %v", got)
	}

	item := coll + "/" + n.SID + ".json"
	h.must(http.StatusOK, ts.a, "GET", item, nil) // the parent sees it
	for _, outsider := range []creds{ts.b, ts.s2} {
		h.must(http.StatusNotFound, outsider, "GET", item, nil)
		h.must(http.StatusNotFound, outsider, "DELETE", item, nil)
	}
	if code, _ := h.do(ts.s1, "POST", coll+".json", vals("ErrorCode", "1")); code < 400 {
		t.Fatalf("creating a notification through the API answered %d", code)
	}

	h.must(http.StatusNoContent, ts.s1, "DELETE", item, nil)
	h.must(http.StatusNotFound, ts.s1, "GET", item, nil)
}
