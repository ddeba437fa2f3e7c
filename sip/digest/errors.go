package digest

import "errors"

var (
	// ErrMalformed means an Authorization header could not be parsed or
	// lacks a parameter that qop=auth requires. The wrapping error names
	// the problem. Answer 400 or challenge again.
	ErrMalformed = errors.New("digest: malformed credentials")

	// ErrScheme means the header uses another scheme than Digest (Basic,
	// say). It comes wrapped together with ErrMalformed; a registrar
	// should answer it with a Digest challenge (RFC 4475 section 3.3.7),
	// not 400.
	ErrScheme = errors.New("digest: not the Digest scheme")

	// ErrUnsupported means the credentials use an algorithm or qop that
	// this package does not implement. Challenge again.
	ErrUnsupported = errors.New("digest: unsupported algorithm or qop")

	// ErrBadNonce means the nonce was not issued by a Server sharing this
	// secret for this realm, or the opaque value does not match. Challenge
	// again without stale.
	ErrBadNonce = errors.New("digest: unknown nonce")

	// ErrStale means the nonce is authentic and the response correct, but
	// the nonce has expired or fell out of the nonce-count table. Challenge
	// again with stale=true (RFC 7616 section 3.3).
	ErrStale = errors.New("digest: stale nonce")

	// ErrReplay means the nonce-count did not increase over the highest
	// one seen for this nonce: the request is a replay.
	ErrReplay = errors.New("digest: replayed nonce-count")

	// ErrBadResponse means the response does not match the password: the
	// wrong password, user or realm.
	ErrBadResponse = errors.New("digest: wrong response")
)
