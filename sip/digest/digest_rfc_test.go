package digest

import "testing"

// TestRFCVectors computes the example responses of RFC 7616 section 3.9.1
// (MD5 and SHA-256; RFC 8760 brings SHA-256 to SIP with the same formula)
// and RFC 2617 section 3.5.
func TestRFCVectors(t *testing.T) {
	rfc7616 := Credentials{
		Username: "Mufasa",
		Realm:    "http-auth@example.org",
		URI:      "/dir/index.html",
		Nonce:    "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
		CNonce:   "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
		NC:       "00000001",
		QOP:      "auth",
	}
	rfc2617 := Credentials{
		Username: "Mufasa",
		Realm:    "testrealm@host.com",
		URI:      "/dir/index.html",
		Nonce:    "dcd98b7102dd2f0e8b11d0f600bfb0c093",
		CNonce:   "0a4f113b",
		NC:       "00000001",
		QOP:      "auth",
	}
	tests := []struct {
		name     string
		alg      Algorithm
		c        Credentials
		password string
		want     string
	}{
		{"rfc7616 MD5", MD5, rfc7616, "Circle of Life", "8ca523f5e9506fed4657c9700eebdbec"},
		{"rfc7616 SHA-256", SHA256, rfc7616, "Circle of Life",
			"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
		{"rfc2617 MD5", MD5, rfc2617, "Circle Of Life", "6629fae49393a05397450978507c4ef1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ha1, err := HA1(tt.alg, tt.c.Username, tt.c.Realm, tt.password)
			if err != nil {
				t.Fatal(err)
			}
			if got := expectedResponse(tt.alg, ha1, "GET", &tt.c); got != tt.want {
				t.Errorf("response = %s, want %s", got, tt.want)
			}
		})
	}
}
