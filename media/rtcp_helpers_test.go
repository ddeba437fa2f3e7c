package media

import (
	"encoding/binary"
	"strconv"
)

func itoa(i int) string { return strconv.Itoa(i) }

// senderReport builds an RTCP SR without report blocks whose NTP
// timestamp has middle 32 bits mid.
func senderReport(ssrc, mid uint32) []byte {
	b := make([]byte, 28)
	b[0], b[1] = 0x80, rtcpSR
	binary.BigEndian.PutUint16(b[2:], 6)
	binary.BigEndian.PutUint32(b[4:], ssrc)
	binary.BigEndian.PutUint32(b[8:], mid>>16)
	binary.BigEndian.PutUint32(b[12:], mid<<16)

	return b
}

// receiverReport builds an RTCP RR with one block about source.
func receiverReport(ssrc, source, lsr, dlsr uint32) []byte {
	b := make([]byte, 32)
	b[0], b[1] = 0x81, rtcpRR
	binary.BigEndian.PutUint16(b[2:], 7)
	binary.BigEndian.PutUint32(b[4:], ssrc)
	binary.BigEndian.PutUint32(b[8:], source)
	binary.BigEndian.PutUint32(b[24:], lsr)
	binary.BigEndian.PutUint32(b[28:], dlsr)

	return b
}
