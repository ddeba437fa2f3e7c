package media

import (
	"encoding/binary"
	"fmt"
)

// rtpHeader holds the RTP fixed header fields the relay needs (RFC 3550
// section 5.1). payload is the offset of the payload and end the offset
// just past it (padding excluded).
type rtpHeader struct {
	marker  bool
	pt      uint8
	seq     uint16
	ts      uint32
	ssrc    uint32
	payload int
	end     int
}

const rtpFixedLen = 12

// parseRTP parses the RTP header of b without allocating. It checks
// version 2, the CSRC count, the extension length and the padding
// length against len(b).
func parseRTP(b []byte) (rtpHeader, error) {
	if len(b) < rtpFixedLen {
		return rtpHeader{}, fmt.Errorf("%w: %d bytes", errShortPacket, len(b))
	}
	if b[0]>>6 != 2 {
		return rtpHeader{}, errNotRTP
	}
	h := rtpHeader{
		marker: b[1]&0x80 != 0,
		pt:     b[1] & 0x7f,
		seq:    binary.BigEndian.Uint16(b[2:]),
		ts:     binary.BigEndian.Uint32(b[4:]),
		ssrc:   binary.BigEndian.Uint32(b[8:]),
		end:    len(b),
	}
	off := rtpFixedLen + int(b[0]&0x0f)*4
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return rtpHeader{}, fmt.Errorf("%w: extension header", errShortPacket)
		}
		off += 4 + int(binary.BigEndian.Uint16(b[off+2:]))*4
	}
	if off > len(b) {
		return rtpHeader{}, fmt.Errorf("%w: header %d > %d", errShortPacket, off, len(b))
	}
	h.payload = off
	if b[0]&0x20 != 0 {
		pad := int(b[len(b)-1])
		if pad == 0 || off+pad > len(b) {
			return rtpHeader{}, fmt.Errorf("%w: padding %d", errShortPacket, pad)
		}
		h.end = len(b) - pad
	}

	return h, nil
}

// putRTPHeader writes a 12-byte RTP header without CSRCs or extension
// into b, which must hold at least rtpFixedLen bytes.
func putRTPHeader(b []byte, marker bool, pt uint8, seq uint16, ts, ssrc uint32) {
	b[0] = 0x80
	b[1] = pt & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
}

// isRTCP tells RTCP from RTP on a multiplexed port (RFC 5761 section
// 4): the second octet of RTCP is a packet type in 192-223.
func isRTCP(b []byte) bool {
	return len(b) >= 8 && b[1] >= 192 && b[1] <= 223
}

// RTCP packet types (RFC 3550 section 12.1).
const (
	rtcpSR = 200
	rtcpRR = 201
)

// reportBlock is the part of an RTCP reception report the relay uses
// for round-trip time (RFC 3550 section 6.4.1).
type reportBlock struct {
	lsr  uint32
	dlsr uint32
}

// rtcpInfo is what walkRTCP extracts from a compound packet: the middle
// 32 bits of the NTP timestamp of a sender report (zero when none) and
// up to four report blocks.
type rtcpInfo struct {
	srNTP   uint32
	blocks  [4]reportBlock
	nblocks int
}

// walkRTCP parses a compound RTCP packet without allocating. It stops at
// the first malformed sub-packet and returns an error, keeping what it
// found before.
func walkRTCP(b []byte) (rtcpInfo, error) {
	var info rtcpInfo
	for len(b) > 0 {
		if len(b) < 4 || b[0]>>6 != 2 {
			return info, fmt.Errorf("%w: rtcp header", errShortPacket)
		}
		n := (int(binary.BigEndian.Uint16(b[2:])) + 1) * 4
		if n > len(b) {
			return info, fmt.Errorf("%w: rtcp length %d > %d", errShortPacket, n, len(b))
		}
		pkt, count := b[:n], int(b[0]&0x1f)
		switch b[1] {
		case rtcpSR:
			if len(pkt) >= 28 {
				info.srNTP = binary.BigEndian.Uint32(pkt[10:])
				info.addBlocks(pkt[28:], count)
			}
		case rtcpRR:
			if len(pkt) >= 8 {
				info.addBlocks(pkt[8:], count)
			}
		}
		b = b[n:]
	}

	return info, nil
}

func (r *rtcpInfo) addBlocks(b []byte, count int) {
	for i := 0; i < count && len(b) >= 24 && r.nblocks < len(r.blocks); i++ {
		r.blocks[r.nblocks] = reportBlock{
			lsr:  binary.BigEndian.Uint32(b[16:]),
			dlsr: binary.BigEndian.Uint32(b[20:]),
		}
		r.nblocks++
		b = b[24:]
	}
}
