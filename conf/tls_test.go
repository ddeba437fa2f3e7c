package conf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeKeyPair writes a self-signed certificate and its key as PEM files
// in dir and returns their paths.
func writeKeyPair(t *testing.T, dir, name string) (cert, key string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "patchbay.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cert = filepath.Join(dir, name+".crt")
	key = filepath.Join(dir, name+".key")
	writePEM(t, cert, "CERTIFICATE", der)
	writePEM(t, key, "PRIVATE KEY", keyDER)

	return cert, key
}

func writePEM(t *testing.T, file, kind string, der []byte) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTLSFiles(t *testing.T) {
	dir := t.TempDir()
	certA, keyA := writeKeyPair(t, dir, "a")
	_, keyB := writeKeyPair(t, dir, "b")

	tests := []struct {
		name, cert, key string
		wantErr         string
	}{
		{name: "pair", cert: certA, key: keyA},
		{name: "mismatched key", cert: certA, key: keyB, wantErr: "do not load as a pair"},
		{name: "key is a folder", cert: certA, key: dir, wantErr: "sip.tls_key_file"},
		{name: "cert missing", cert: filepath.Join(dir, "none.crt"), key: keyA,
			wantErr: "sip.tls_cert_file"},
		{name: "key not pem", cert: certA, key: certA, wantErr: "do not load as a pair"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := envOf(map[string]string{
				"PATCHBAY_SIP_TLS_LISTEN":    "127.0.0.1:0",
				"PATCHBAY_SIP_TLS_CERT_FILE": tt.cert,
				"PATCHBAY_SIP_TLS_KEY_FILE":  tt.key,
			})
			c, err := Parse(nil, env)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				eq(t, c.SIP.TLSCertFile, tt.cert)

				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse error %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("error quotes key material: %v", err)
			}
		})
	}
}
