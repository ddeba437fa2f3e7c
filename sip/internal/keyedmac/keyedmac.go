// Package keyedmac computes HMAC-SHA-256 under one fixed key from a pool of
// hash states, so that a path run for every SIP message (nonces, flow
// tokens) signs without building a new HMAC each time.
package keyedmac

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// Size is the length of a full tag.
const Size = sha256.Size

// Key holds the pool of HMAC states of one secret. It is safe for
// concurrent use.
type Key struct {
	states sync.Pool // of hash.Hash keyed with the secret
}

// New returns a Key for secret. The secret is not copied: the caller must
// not change it afterwards.
func New(secret []byte) *Key {
	k := &Key{}
	k.states.New = func() any { return hmac.New(sha256.New, secret) }

	return k
}

// Get returns a reset HMAC state. Write the message to it, take its Sum,
// then hand it back with Put.
func (k *Key) Get() hash.Hash {
	h := k.states.Get().(hash.Hash)
	h.Reset()

	return h
}

// Put returns h to the pool; h must not be used after.
func (k *Key) Put(h hash.Hash) { k.states.Put(h) }

// Sum returns the tag of msg.
func (k *Key) Sum(msg []byte) [Size]byte {
	h := k.Get()
	h.Write(msg)
	var out [Size]byte
	h.Sum(out[:0])
	k.Put(h)

	return out
}
