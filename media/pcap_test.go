package media

import (
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/media")

const tonePCAP = "pcmu_tone_1s.pcap"

// buildTonePCAP returns a libpcap capture (Ethernet, IPv4, UDP) of one
// second of a 440 Hz tone as PCMU RTP, 50 packets of 20 ms, for sipp's
// play_pcap_audio. Addresses are placeholders sipp rewrites.
func buildTonePCAP() []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	for _, v := range []any{uint32(0xa1b2c3d4), uint16(2), uint16(4), int32(0), uint32(0),
		uint32(65535), uint32(1)} {
		_ = binary.Write(&b, le, v)
	}
	audio := tone(audioRate, 440)
	for n := range 50 {
		payload := encodeG711(nil, 0, audio.Samples[n*frameSamples:(n+1)*frameSamples])
		rtp := rtpPacket(0, uint16(n+1), uint32(n*frameSamples), 0x50415443, payload)
		if n == 0 {
			rtp[1] |= 0x80
		}
		frame := ethIPv4UDP(rtp)
		usec := uint32(n * 20000)
		for _, v := range []any{uint32(1_700_000_000 + usec/1_000_000), usec % 1_000_000,
			uint32(len(frame)), uint32(len(frame))} {
			_ = binary.Write(&b, le, v)
		}
		b.Write(frame)
	}

	return b.Bytes()
}

func ethIPv4UDP(payload []byte) []byte {
	be := binary.BigEndian
	f := make([]byte, 14+20+8+len(payload))
	copy(f[0:6], []byte{0, 0, 0, 0, 0, 2})
	copy(f[6:12], []byte{0, 0, 0, 0, 0, 1})
	be.PutUint16(f[12:], 0x0800)
	ip := f[14:34]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	be.PutUint16(ip[2:], uint16(20+8+len(payload)))
	copy(ip[12:16], []byte{10, 0, 0, 1})
	copy(ip[16:20], []byte{10, 0, 0, 2})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(be.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	be.PutUint16(ip[10:], ^uint16(sum))
	udp := f[34:42]
	be.PutUint16(udp[0:], 6000)
	be.PutUint16(udp[2:], 6002)
	be.PutUint16(udp[4:], uint16(8+len(payload)))
	copy(f[42:], payload)

	return f
}

func TestTonePCAPFixture(t *testing.T) {
	path := filepath.Join("..", "testdata", "media", tonePCAP)
	want := buildTonePCAP()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./media -run TestTonePCAPFixture -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale; rerun with -update", path)
	}
	// Walk the records: 50 RTP packets, contiguous sequence numbers.
	rest, n := got[24:], 0
	for len(rest) >= 16 {
		caplen := int(binary.LittleEndian.Uint32(rest[8:]))
		rec := rest[16 : 16+caplen]
		h, err := parseRTP(rec[42:])
		if err != nil || h.seq != uint16(n+1) || h.end-h.payload != frameSamples {
			t.Fatalf("record %d: %+v %v", n, h, err)
		}
		rest, n = rest[16+caplen:], n+1
	}
	if n != 50 {
		t.Fatalf("%d records", n)
	}
}
