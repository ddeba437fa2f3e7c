package digest

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"io"
	"time"

	"github.com/patchbay/patchbay/sip/internal/keyedmac"
)

// A nonce is base64url (unpadded) of 32 bytes:
//
//	issue time (8 bytes, Unix nanoseconds, big-endian)
//	random     (8 bytes)
//	tag        (16 bytes, HMAC-SHA-256(secret, time|random|realm) truncated)
//
// The tag binds the nonce to its realm, so a nonce issued for one realm is
// refused in another.
const (
	nonceIDSize  = 16
	nonceTagSize = 16
	nonceRawSize = nonceIDSize + nonceTagSize
)

// nonceLen is the length of an encoded nonce.
var nonceLen = base64.RawURLEncoding.EncodedLen(nonceRawSize)

// nonceID identifies a nonce in the nonce-count table: its time and random
// parts.
type nonceID [nonceIDSize]byte

// issued returns the issue time stored in id.
func (id nonceID) issued() int64 {
	return int64(binary.BigEndian.Uint64(id[:8]))
}

// nonceKey mints and opens nonces under one secret. It is safe for
// concurrent use.
type nonceKey struct {
	mac *keyedmac.Key
}

func newNonceKey(secret []byte) *nonceKey {
	return &nonceKey{mac: keyedmac.New(secret)}
}

// mint returns a new nonce for realm issued at now, with random bytes rnd.
func (k *nonceKey) mint(realm string, now time.Time, rnd [8]byte) string {
	var raw [nonceRawSize]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(now.UnixNano()))
	copy(raw[8:16], rnd[:])
	tag := k.tag(raw[:nonceIDSize], realm)
	copy(raw[nonceIDSize:], tag[:nonceTagSize])

	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// open decodes nonce and checks its tag for realm in constant time. It
// reports false for anything not minted under this key for realm.
func (k *nonceKey) open(realm, nonce string) (nonceID, bool) {
	var id nonceID
	if len(nonce) != nonceLen {
		return id, false
	}
	var raw [nonceRawSize]byte
	n, err := base64.RawURLEncoding.Decode(raw[:], []byte(nonce))
	if err != nil || n != nonceRawSize {
		return id, false
	}
	tag := k.tag(raw[:nonceIDSize], realm)
	if !hmac.Equal(tag[:nonceTagSize], raw[nonceIDSize:]) {
		return id, false
	}
	copy(id[:], raw[:nonceIDSize])

	return id, true
}

// tag is HMAC-SHA-256(secret, id | realm).
func (k *nonceKey) tag(id []byte, realm string) [keyedmac.Size]byte {
	m := k.mac.Get()
	m.Write(id)
	io.WriteString(m, realm)
	var out [keyedmac.Size]byte
	m.Sum(out[:0])
	k.mac.Put(m)

	return out
}
