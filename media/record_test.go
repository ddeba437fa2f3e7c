package media

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRecorderSpoolsLongRecordings feeds 6 s per direction straight into
// a recorder (no sockets): audio passes through the spool file, lands
// at the right offsets, and the spool is removed after Stop, which also
// works after the session closed.
func TestRecorderSpoolsLongRecordings(t *testing.T) {
	dir := t.TempDir()
	e := testEngine(t, Config{RecordDir: dir})
	s := testSession(t, e, SessionOptions{})
	rec, err := s.StartRecording(0)
	if err != nil {
		t.Fatal(err)
	}
	start := rec.r.start
	const packets = 300 // 6 s
	for i := range packets {
		now := start + int64(i)*int64(frame)
		a := bytes.Repeat([]byte{linearToMulaw(1000)}, frameSamples)
		rec.r.tap(true, rtpHeader{pt: 0, ssrc: 1, ts: uint32(i * frameSamples)}, a, now)
		if i%2 == 0 { // the other direction only every other frame
			b := bytes.Repeat([]byte{linearToAlaw(-2000)}, frameSamples)
			rec.r.tap(false, rtpHeader{pt: 8, ssrc: 2, ts: uint32(i * frameSamples)}, b, now)
		}
	}
	if spooled, _ := filepath.Glob(filepath.Join(dir, "patchbay-rec-*")); len(spooled) != 1 {
		t.Fatalf("spool files: %v", spooled)
	}
	if held := len(rec.r.ch[0].samples); held > 4*audioRate {
		t.Fatalf("%d samples held in memory", held)
	}
	_ = s.Close()
	var buf bytes.Buffer
	dur, err := rec.Stop(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if dur != 6*time.Second {
		t.Fatalf("duration %v", dur)
	}
	b := buf.Bytes()
	if got := binary.LittleEndian.Uint32(b[40:]); int(got) != len(b)-44 || len(b)-44 != 6*8000*4 {
		t.Fatalf("data chunk %d bytes, file %d", got, len(b))
	}
	sample := func(frameIdx, ch int) int16 {
		return int16(binary.LittleEndian.Uint16(b[44+frameIdx*4+ch*2:]))
	}
	for _, tc := range []struct {
		frame   int
		left    int16
		rightOK func(int16) bool
	}{
		{10, mulawToLinear(linearToMulaw(1000)), func(v int16) bool { return v < -1500 }},
		{5*8000 + 10, mulawToLinear(linearToMulaw(1000)), func(v int16) bool { return v < -1500 }},
		{5*8000 + 170, mulawToLinear(linearToMulaw(1000)), func(v int16) bool { return v == 0 }},
	} {
		if l, r := sample(tc.frame, 0), sample(tc.frame, 1); l != tc.left || !tc.rightOK(r) {
			t.Fatalf("frame %d: left %d right %d", tc.frame, l, r)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "patchbay-rec-*")); len(left) != 0 {
		t.Fatalf("spool not removed: %v", left)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}
