// Package digest implements server-side HTTP Digest authentication for SIP
// (RFC 3261 section 22, RFC 7616, RFC 8760) with qop=auth and the MD5 and
// SHA-256 algorithms.
//
// Nonces are stateless: each one carries its issue time, a random part and
// an HMAC-SHA-256 tag over both and the realm, so any node that shares the
// secret can check it. Replay protection needs state: a Server remembers,
// for a bounded number of nonces, the highest nonce-count seen, and refuses
// a nonce-count that does not increase.
//
// Not supported: qop=auth-int, the "-sess" algorithms, SHA-512-256,
// userhash=true and the username* parameter (RFC 7616 section 3.4.4), and
// RFC 2069 responses without qop. Verify does not compare the uri parameter
// with the Request-URI; the caller does.
package digest
