package sip

import (
	"bytes"
	"errors"
	"fmt"
	"net"

	sipmsg "github.com/emiago/sipgo/sip"
)

// Sizes of the SIP messages the edge sends over UDP.
const (
	// udpResponseLimit is the largest response sent in one UDP datagram.
	// RFC 3261 18.1.1 bounds requests only; a response to a request that
	// came over UDP goes back over UDP (18.2.2) whatever its size, and IP
	// fragments it. 65,000 bytes stays below a datagram's payload limit
	// (65,507 bytes over IPv4, 65,527 over IPv6).
	udpResponseLimit = 65000

	// udpRequestLimit is the largest request the edge sends over UDP: RFC
	// 3261 18.1.1 requires a request larger than 1300 bytes to go over a
	// congestion-controlled transport when the path MTU is unknown, as it
	// always is here. A larger request is refused with
	// errUDPRequestTooLarge rather than sent; the edge does not switch it
	// to TCP itself.
	udpRequestLimit = 1300
)

// errUDPRequestTooLarge refuses a request over udpRequestLimit bytes on UDP.
var errUDPRequestTooLarge = errors.New("sip: request too large for UDP (RFC 3261 18.1.1)")

// init raises sipgo's process-wide UDPMTUSize. sipgo refuses to write any
// UDP message, request or response, larger than UDPMTUSize less 200 bytes
// (1,300 by default), and has no setting per transport or per message
// kind; so importing this package raises it once, before any goroutine
// could read it, to udpResponseLimit plus those 200 bytes, and udpGate
// keeps requests at udpRequestLimit. Every user of sipgo in the process
// sees the new limit.
func init() {
	sipmsg.UDPMTUSize = udpResponseLimit + 200
}

// udpGate is the UDP listening socket as sipgo sees it: it refuses to send
// a request larger than udpRequestLimit (RFC 3261 18.1.1) and passes
// responses up to the limit sipgo enforces. Requests sipgo sends from a
// socket of its own (only when no listening socket matches) do not pass
// through it.
type udpGate struct {
	net.PacketConn
}

// WriteTo sends b to addr unless b is a request over udpRequestLimit.
func (g *udpGate) WriteTo(b []byte, addr net.Addr) (int, error) {
	if len(b) > udpRequestLimit && !bytes.HasPrefix(b, []byte("SIP/")) {
		return 0, fmt.Errorf("%w: %d bytes to %v, limit %d", errUDPRequestTooLarge, len(b),
			addr, udpRequestLimit)
	}

	return g.PacketConn.WriteTo(b, addr)
}
