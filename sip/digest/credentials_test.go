package digest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		file    string
		want    *Credentials
		wantErr string
	}{
		{file: "md5.txt", want: &Credentials{
			Username: "alice", Realm: "acme.example",
			Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", URI: "sip:acme.example",
			Response: "6629fae49393a05397450978507c4ef1", Algorithm: "MD5",
			CNonce: "0a4f113b", QOP: "auth", NC: "00000001",
			Opaque: "5ccc069c403ebaf9f0171e9517f40e41",
		}},
		{file: "sha256.txt", want: &Credentials{
			Username: "Mufasa", Realm: "http-auth@example.org",
			Nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", URI: "/dir/index.html",
			Response:  "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
			Algorithm: "SHA-256", CNonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
			QOP: "auth", NC: "00000001", Opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
		}},
		{file: "lws_escapes.txt", want: &Credentials{
			Username: "bob", Realm: `a"b\c`, Nonce: "n", URI: "sip:x", Response: "r",
		}},
		{file: "lowercase_scheme.txt", want: &Credentials{
			Username: "bob", Realm: "r", Nonce: "n", URI: "sip:x", Response: "r",
		}},
		{file: "utf8.txt", want: &Credentials{
			Username: "élève", Realm: "r", Nonce: "n", URI: "sip:x", Response: "r",
			NC: "00000001",
		}},
		{file: "repeated.txt", wantErr: `parameter "username" repeated`},
		{file: "unterminated.txt", wantErr: "unterminated quoted value"},
		{file: "basic.txt", wantErr: "not the Digest scheme"},
		{file: "missing_comma.txt", wantErr: "expected ','"},
		{file: "no_username.txt", wantErr: "missing username"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseCredentials(readSeed(t, tt.file))
			if tt.file == "basic.txt" && !errors.Is(err, ErrScheme) {
				t.Errorf("Basic credentials: %v, want ErrScheme", err)
			}
			if tt.wantErr != "" {
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want ErrMalformed containing %q", err, tt.wantErr)
				}

				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != *tt.want {
				t.Errorf("got  %+v\nwant %+v", *got, *tt.want)
			}
		})
	}
}

func TestParseCredentialsEdges(t *testing.T) {
	tests := []struct {
		name, header, wantErr string
	}{
		{"empty", "", "not the Digest scheme"},
		{"scheme only", "Digest", "not the Digest scheme"},
		{"scheme glued", "Digestusername=a", "not the Digest scheme"},
		{"no value", "Digest username", "has no value"},
		{"empty token", "Digest username=,realm=r", "empty value"},
		{"bad name", "Digest =x", "expected a parameter name"},
		{"control char", "Digest username=\"a\x01\"", "control character"},
		{"trailing backslash", `Digest username="a\`, "unterminated"},
		{"escaped line feed", "Digest username=\"a\\\nb\"", "escaped line break"},
		{"too long", "Digest username=\"" + strings.Repeat("a", maxHeaderLen) + "\"",
			"longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCredentials(tt.header)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want ErrMalformed containing %q", err, tt.wantErr)
			}
		})
	}
}

func readSeed(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "authorization", name))
	if err != nil {
		t.Fatal(err)
	}

	return string(b)
}

// format writes c back as a header value, every parameter quoted.
func format(c *Credentials) string {
	var b strings.Builder
	b.WriteString("Digest ")
	vals := [...]string{c.Username, c.Realm, c.Nonce, c.URI, c.Response,
		c.Algorithm, c.CNonce, c.QOP, c.NC, c.Opaque}
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(paramNames[i])
		b.WriteString(`="`)
		writeQuoted(&b, v)
		b.WriteString(`"`)
	}

	return b.String()
}

// FuzzParseCredentials checks that ParseCredentials never panics, that
// every error wraps ErrMalformed, and that what it accepts survives a
// round trip through format.
func FuzzParseCredentials(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "authorization", "*.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/authorization: %v", err)
	}
	for _, file := range files {
		f.Add(readSeed(f, filepath.Base(file)))
	}
	f.Fuzz(func(t *testing.T, header string) {
		c, err := ParseCredentials(header)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}

			return
		}
		again, err := ParseCredentials(format(c))
		if len(format(c)) > maxHeaderLen {
			return
		}
		if err != nil {
			t.Fatalf("reparse of %q: %v", format(c), err)
		}
		if *again != *c {
			t.Fatalf("round trip changed %+v into %+v", *c, *again)
		}
	})
}
