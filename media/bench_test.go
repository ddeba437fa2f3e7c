package media

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/pion/srtp/v3"
)

// benchLeg sets up a relayed call whose leg A is plain or SRTP and leg
// B plain or SRTP, and returns leg A's conn plus a packet as A would
// send it (encrypted when A is SRTP) and A's source address.
func benchLeg(b *testing.B, aSRTP, bSRTP bool, payload int) (*legConn, []byte, netip.AddrPort) {
	b.Helper()
	e := testEngine(b, Config{})
	policy := [2]SRTPPolicy{SRTPMirror, SRTPOff}
	if bSRTP {
		policy[LegB] = SRTPRequire
	}
	s := testSession(b, e, SessionOptions{SRTP: policy})
	a, peerB := newPeer(b), newPeer(b)
	o := sdpOpts{port: a.port()}
	if aSRTP {
		o.proto, o.crypto = "RTP/SAVP", []string{testCryptoA}
	}
	offer, err := s.Offer(LegA, offerSDP(o))
	if err != nil {
		b.Fatal(err)
	}
	ans := sdpOpts{port: peerB.port()}
	if lines := cryptoLines(b, offer); len(lines) > 0 {
		tag := strings.Fields(lines[0])[0]
		ans.proto = "RTP/SAVP"
		ans.crypto = []string{tag + " AES_CM_128_HMAC_SHA1_80 inline:" + testKeyB}
	}
	if _, err := s.Answer(LegB, offerSDP(ans)); err != nil {
		b.Fatal(err)
	}
	l := s.streams[0].legs[LegA]
	pkt := rtpPacket(0, 1, 160, 0xabc, make([]byte, payload))
	if aSRTP {
		enc, err := pionCtx(b, testCryptoA, false).EncryptRTP(nil, pkt, nil)
		if err != nil {
			b.Fatal(err)
		}
		pkt = enc
		// The same packet is decrypted again and again: give leg A a
		// context without the replay window for the benchmark only.
		sec := l.sec.Load()
		noReplay, err := srtp.CreateContext(sec.remote.key[:16], sec.remote.key[16:],
			sec.remote.suite.profile)
		if err != nil {
			b.Fatal(err)
		}
		sec.inRTP = noReplay
	}
	from := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(a.port()))

	return l, pkt, from
}

// BenchmarkRelayPacket measures the whole per-packet path of one leg:
// latch check, SRTP unprotect, accounting, SRTP protect and the UDP
// send to the other endpoint (a real socket on 127.0.0.1).
func BenchmarkRelayPacket(b *testing.B) {
	cases := []struct {
		name         string
		aSRTP, bSRTP bool
	}{
		{"rtp-rtp", false, false},
		{"rtp-srtp", false, true},
		{"srtp-rtp", true, false},
		{"srtp-srtp", true, true},
	}
	for _, tc := range cases {
		for _, size := range []int{160, 1000} {
			b.Run(fmt.Sprintf("%s/%d", tc.name, size), func(b *testing.B) {
				l, pkt, from := benchLeg(b, tc.aSRTP, tc.bSRTP, size)
				plain := make([]byte, maxPacket+srtpRoom)
				out := make([]byte, maxPacket+srtpRoom)
				var rs recvState
				var ds dtmfState
				buf := make([]byte, len(pkt))
				b.SetBytes(int64(len(pkt)))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					copy(buf, pkt)
					l.handleRTP(buf, from, plain, out, &rs, &ds)
				}
				b.StopTimer()
				if got := l.cnt.pktsIn.Load(); got < uint64(b.N) {
					b.Fatalf("only %d of %d packets accepted", got, b.N)
				}
			})
		}
	}
}

// BenchmarkSRTPProtect measures pion's SRTP protect as the relay calls
// it, per suite.
func BenchmarkSRTPProtect(b *testing.B) {
	for _, suite := range []string{SuiteAES128SHA1_80, SuiteAES128SHA1_32, SuiteAEADAES128GCM} {
		b.Run(suite, func(b *testing.B) {
			info, _ := lookupSuite(suite)
			c, err := newLocalCrypto(1, info)
			if err != nil {
				b.Fatal(err)
			}
			ls, err := newLegSecurity(c, c, nil)
			if err != nil {
				b.Fatal(err)
			}
			pkt := rtpPacket(0, 1, 0, 7, make([]byte, 160))
			out := make([]byte, maxPacket+srtpRoom)
			b.SetBytes(int64(len(pkt)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				pkt[3] = byte(i)
				if _, err := ls.outRTP.EncryptRTP(out, pkt, &ls.outHdr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseRTP(b *testing.B) {
	pkt := rtpPacket(0, 1, 0, 7, make([]byte, 160))
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := parseRTP(pkt); err != nil {
			b.Fatal(err)
		}
	}
}
