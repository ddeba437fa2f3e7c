// Package media carries the audio of Patchbay's calls: an RTP/RTCP
// relay with a port pool, SDP offer/answer rewriting (RFC 3264), NAT
// latching, SDES-SRTP termination per leg (RFC 4568, RFC 3711), a
// local media endpoint (play, RFC 4733 DTMF, record) and quality
// statistics. It knows a tenant only as an opaque ID used in logs.
//
// # Engine
//
// NewEngine(Config) builds the Engine that owns the UDP port pool
// (PortMin..PortMax, even RTP port plus odd RTCP port per stream side),
// binds to BindAddr, writes PublicAddr into SDP, ends sessions whose
// media stopped for MediaTimeout, and keeps released ports out of use
// for Quarantine after draining them. Engine.Close ends every session
// and waits for every goroutine.
//
// A stream side that negotiated rtcp-mux (RFC 5761) holds one socket,
// its RTP port, instead of two: its RTCP socket is never bound when its
// own offer settled mux, and is closed when an answer accepts mux. The
// pool still reserves and quarantines port+1 with it, and an offer or
// answer that drops rtcp-mux binds port+1 again; should another process
// have taken that port meanwhile, the offer or answer fails with
// ErrNoPorts and the leg keeps its previous negotiation.
//
// # Session
//
// Engine.NewSession(SessionOptions) starts one call's media; the
// options choose ModeRelay or ModePeerToPeer and an SRTPPolicy per leg.
// Call control then drives it with SDP bodies:
//
//   - Relay: Offer(LegA, offer) returns the offer for B; Answer(LegB,
//     answer) returns the answer for A. Re-offers go either way
//     (Offer(LegB, ...) then Answer(LegA, ...)) for hold, resume or a
//     codec change; only then are endpoints re-latched. Answer may be
//     repeated for one offer (183 then 200, forks): the latest wins. The
//     offering leg may resend its outstanding offer (serial forking).
//   - Endpoint: AnswerLocal(offer) answers A with Patchbay as the far
//     end (PCMU or PCMA, telephone-event). Play, SendDTMF, DTMF and
//     StartRecording then work on leg A. OfferLocal() returns an offer
//     for a B leg with A's codec; Answer(LegB, answer) bridges A to B.
//     DetachB() ends the B leg and makes Patchbay A's far end again (the
//     verbs after a Dial), also for calls relayed from the start.
//   - Peer to peer: Offer and Answer return their input unchanged (after
//     checking SRTPRequire legs) and no port is used.
//
// Errors map to SIP responses: ErrSRTPRequired, ErrNoCryptoSuite,
// ErrBadCrypto, ErrBadSDP, ErrNoMedia and ErrNoCodec mean 488,
// ErrOfferPending 491, ErrNoPorts 503.
//
// Stats returns a plain Stats snapshot per leg (packets, bytes, loss,
// jitter, RTT, codec, SRTP, drops by cause). Done is closed when the
// session ends; Err is ErrMediaTimeout for a media timeout (hold does
// not count) or ErrSessionClosed after Close. Close drains and releases
// every port, is idempotent and waits for the session's goroutines.
//
// # Packet path
//
// Each socket has one reading goroutine with reused buffers. A packet
// from the latched source is decrypted if its leg is SRTP, accounted
// (atomics only), and sent from the peer leg's socket to the peer's
// address, encrypted if that leg is SRTP; nothing allocates per packet
// and nothing is logged per packet. Keys and a=crypto lines are never
// logged.
package media
