package tenancy

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestApplicationWebhookTimeouts: an application's webhook timeouts are
// stored in milliseconds, shown, cleared with 0, and carried by the voice
// route of a number that uses the application.
func TestApplicationWebhookTimeouts(t *testing.T) {
	h := newHarness(t, APIOptions{})
	a := h.account(operator, "timeouts")
	apps := "/2010-04-01/Accounts/" + a.user + "/Applications"
	app := h.must(http.StatusCreated, a, "POST", apps+".json", vals("VoiceUrl",
		"https://app.test/voice", "WebhookConnectTimeout", "250", "WebhookTimeout", "2500"))
	sid := app["sid"].(string)
	got := h.must(http.StatusOK, a, "GET", apps+"/"+sid+".json", nil)
	if fmt.Sprint(got["webhook_connect_timeout"], " ", got["webhook_timeout"]) != "250 2500" {
		t.Fatalf("timeouts %v and %v, want 250 and 2500", got["webhook_connect_timeout"],
			got["webhook_timeout"])
	}
	h.must(http.StatusCreated, a, "POST", "/2010-04-01/Accounts/"+a.user+
		"/IncomingPhoneNumbers.json", vals("PhoneNumber", "+14155550177", "VoiceApplicationSid", sid))
	n, err := h.store.NumberByPhone(t.Context(), "+14155550177")
	if err != nil {
		t.Fatal(err)
	}
	route, err := h.store.VoiceRouteForNumber(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	if route.WebhookConnectTimeout != 250*time.Millisecond ||
		route.WebhookTimeout != 2500*time.Millisecond {
		t.Errorf("route timeouts %v and %v, want 250ms and 2.5s", route.WebhookConnectTimeout,
			route.WebhookTimeout)
	}
	cleared := h.must(http.StatusOK, a, "POST", apps+"/"+sid+".json", vals("WebhookTimeout", "0"))
	if cleared["webhook_timeout"] != 0.0 || cleared["webhook_connect_timeout"] != 250.0 {
		t.Errorf("after clearing: %v and %v, want 250 and 0", cleared["webhook_connect_timeout"],
			cleared["webhook_timeout"])
	}
}
