package media

import (
	"encoding/binary"
	"time"
)

// localRTCPInterval is how often Patchbay, as leg A's far end, sends an
// RTCP sender report (RFC 3550 section 6.2 minimum of 5 s).
const localRTCPInterval = 5 * time.Second

// ntpEpochOffset is the seconds between 1900 (NTP) and 1970 (Unix).
const ntpEpochOffset = 2208988800

// rtcpLoop sends sender reports to leg A while Patchbay is its far end,
// so the endpoint gets RTCP and leg A's RTT can be measured from its
// receiver reports. It stops when the session ends or is bridged (leg
// B's own RTCP is relayed from then on).
func (s *Session) rtcpLoop(le *localEnd, every time.Duration) {
	defer s.wg.Done()
	defer s.e.recoverLoop("media_local_rtcp")
	t := time.NewTicker(every)
	defer t.Stop()
	buf := make([]byte, 28)
	out := make([]byte, 28+srtpRoom)
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		if s.local.Load() != le {
			return
		}
		s.sendSenderReport(le, buf, out)
	}
}

// sendSenderReport builds an SR without report blocks (RFC 3550 section
// 6.4.1) and notes its NTP middle bits for RTT.
func (s *Session) sendSenderReport(le *localEnd, buf, out []byte) {
	now := time.Now()
	secs := uint64(now.Unix()) + ntpEpochOffset
	frac := uint64(now.Nanosecond()) << 32 / uint64(time.Second)
	le.mu.Lock()
	l, ssrc, ts := le.leg, le.ssrc, le.tsNow()
	le.mu.Unlock()
	pkts := l.cnt.pktsOut.Load()
	octets := l.cnt.bytesOut.Load() - pkts*rtpFixedLen
	buf[0], buf[1] = 0x80, rtcpSR
	binary.BigEndian.PutUint16(buf[2:], 6)
	binary.BigEndian.PutUint32(buf[4:], ssrc)
	binary.BigEndian.PutUint32(buf[8:], uint32(secs))
	binary.BigEndian.PutUint32(buf[12:], uint32(frac))
	binary.BigEndian.PutUint32(buf[16:], ts)
	binary.BigEndian.PutUint32(buf[20:], uint32(pkts))
	binary.BigEndian.PutUint32(buf[24:], uint32(octets))
	l.rtt.note(uint32(secs)<<16|uint32(frac>>16), s.e.nanotime())
	l.sendRTCP(buf, out)
}
