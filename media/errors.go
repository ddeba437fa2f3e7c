package media

import "errors"

// Errors returned by the media package. Call control maps them to SIP
// responses with errors.Is; every one of them that comes out of Offer or
// Answer means the SDP cannot be accepted (488 Not Acceptable Here) unless
// stated otherwise.
var (
	// ErrEngineClosed is returned by NewSession after Engine.Close.
	ErrEngineClosed = errors.New("media: engine closed")

	// ErrSessionClosed is returned by Session methods after Close; Err
	// returns it once the session was closed by its owner.
	ErrSessionClosed = errors.New("media: session closed")

	// ErrMediaTimeout is the cause reported by Session.Err when no RTP
	// arrived from either leg for Config.MediaTimeout outside hold.
	ErrMediaTimeout = errors.New("media: media timeout")

	// ErrNoPorts means the port pool has no free pair outside quarantine,
	// the process may open no more sockets (EMFILE or ENFILE wrapped
	// with it), or a muxed leg's port+1 was taken when rtcp-mux was
	// dropped (503 Service Unavailable for call control).
	ErrNoPorts = errors.New("media: no free media ports")

	// ErrBadSDP wraps SDP that does not parse or lacks a required line.
	ErrBadSDP = errors.New("media: malformed sdp")

	// ErrNoMedia means no media section could be relayed or answered.
	ErrNoMedia = errors.New("media: no usable media stream")

	// ErrSRTPRequired means a leg marked SRTPRequire offered or answered
	// without SRTP.
	ErrSRTPRequired = errors.New("media: srtp required")

	// ErrNoCryptoSuite means SRTP was offered but no a=crypto line named
	// a suite this package supports, or the answer picked a tag that was
	// never offered.
	ErrNoCryptoSuite = errors.New("media: no supported srtp crypto suite")

	// ErrBadCrypto wraps an a=crypto line that does not parse (bad tag,
	// suite, key length or base64). The key itself never appears in the
	// error text.
	ErrBadCrypto = errors.New("media: malformed a=crypto")

	// ErrNoCodec means Patchbay acting as far end found neither PCMU nor
	// PCMA in the offer, or the B leg answered a different codec.
	ErrNoCodec = errors.New("media: no supported codec")

	// ErrNoOffer is returned by Answer when no offer is outstanding, or
	// by an answer from the same leg that sent the offer.
	ErrNoOffer = errors.New("media: answer without outstanding offer")

	// ErrOfferPending is returned by Offer while another offer awaits
	// its answer (call control answers 491 Request Pending).
	ErrOfferPending = errors.New("media: offer already pending")

	// ErrWrongMode is returned by endpoint calls (Play, SendDTMF,
	// AnswerLocal, ...) on a peer-to-peer session, or by Offer/Answer on
	// a session in a state that does not allow it.
	ErrWrongMode = errors.New("media: operation not valid in this session mode")

	// ErrBridged is returned by Play and SendDTMF once the session relays
	// A to a B leg.
	ErrBridged = errors.New("media: session is bridged")

	// ErrNotNegotiated is returned by Play, SendDTMF and OfferLocal before
	// AnswerLocal has negotiated leg A.
	ErrNotNegotiated = errors.New("media: media not negotiated")

	// ErrBadDTMF means a digit outside 0-9, *, #, A-D.
	ErrBadDTMF = errors.New("media: invalid dtmf digit")

	// ErrBadWAV wraps a WAV file this package cannot play.
	ErrBadWAV = errors.New("media: unsupported wav")

	// ErrRecording is returned by StartRecording while a recording runs.
	ErrRecording = errors.New("media: recording already running")

	// ErrBadConfig wraps an invalid Config; the text names the field.
	ErrBadConfig = errors.New("media: invalid config")
)

// Unexported sentinels for packet parsing; they never leave the package.
var (
	errShortPacket = errors.New("media: packet too short")
	errNotRTP      = errors.New("media: not an rtp version 2 packet")
)
