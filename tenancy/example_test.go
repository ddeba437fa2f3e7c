package tenancy_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/patchbay/patchbay/tenancy"
)

// The operator creates a tenant over the REST API; the tenant then reads
// its own account with its SID and auth token.
func ExampleNewAPI() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "tenancy-example")
	defer os.RemoveAll(dir)
	db, _ := tenancy.OpenDB(ctx, filepath.Join(dir, "patchbay.db"))
	defer db.Close()
	store, _ := tenancy.NewStore(ctx, db)
	defer store.Close()
	srv := httptest.NewServer(tenancy.NewAPI(store, tenancy.APIOptions{AdminToken: "s3cret"}))
	defer srv.Close()

	body := url.Values{"FriendlyName": {"Acme"}}.Encode()
	req, _ := http.NewRequest("POST", srv.URL+"/2010-04-01/Accounts.json",
		strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("admin", "s3cret")
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	fmt.Println(resp.Status)

	accts, _, _ := store.ListAccounts(ctx, "", tenancy.Page{Size: 10})
	acct := accts[0]
	req, _ = http.NewRequest("GET", srv.URL+"/2010-04-01/Accounts/"+acct.SID+".json", nil)
	req.SetBasicAuth(acct.SID, acct.AuthToken)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	fmt.Println(resp.Status, acct.FriendlyName, acct.Active())
	// Output:
	// 201 Created
	// 200 OK Acme true
}
