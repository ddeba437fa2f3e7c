package media

import (
	"testing"
	"time"
)

func TestRecvStateLossAndJitter(t *testing.T) {
	tests := []struct {
		name       string
		seqs       []uint16
		spacing    time.Duration // arrival spacing; timestamps advance 160 per packet
		wantLost   uint64
		wantJitter time.Duration // upper bound
		minJitter  time.Duration
	}{
		{"in order", []uint16{1, 2, 3, 4, 5}, 20 * time.Millisecond, 0, time.Millisecond, 0},
		{"two lost", []uint16{1, 2, 5, 6}, 20 * time.Millisecond, 2, 20 * time.Millisecond, 0},
		{"wrap", []uint16{65534, 65535, 0, 1}, 20 * time.Millisecond, 0, time.Millisecond, 0},
		{"late arrivals", []uint16{1, 2, 3, 4, 5, 6, 7, 8}, 30 * time.Millisecond, 0,
			20 * time.Millisecond, 2 * time.Millisecond},
	}
	t.Run("loss survives a new ssrc", func(t *testing.T) {
		var rs recvState
		var c legCounters
		for i, seq := range []uint16{1, 2, 5} {
			rs.update(rtpHeader{seq: seq, ts: uint32(seq) * 160, ssrc: 1},
				int64(i)*int64(20*time.Millisecond), 8000, &c)
		}
		for i, seq := range []uint16{100, 101, 103} {
			rs.update(rtpHeader{seq: seq, ts: uint32(seq) * 160, ssrc: 2},
				int64(i+3)*int64(20*time.Millisecond), 8000, &c)
		}
		if got := c.lost.Load(); got != 3 {
			t.Fatalf("lost = %d, want 2 + 1", got)
		}
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rs recvState
			var c legCounters
			// A start far into the engine's life exercises the overflow guard.
			now := int64(400 * 24 * time.Hour)
			first := tc.seqs[0]
			for i, seq := range tc.seqs {
				ts := uint32(seq-first) * 160
				rs.update(rtpHeader{seq: seq, ts: ts + 0xfffff000, ssrc: 9},
					now+int64(i)*int64(tc.spacing), 8000, &c)
			}
			if got := c.lost.Load(); got != tc.wantLost {
				t.Fatalf("lost = %d, want %d", got, tc.wantLost)
			}
			j := time.Duration(c.jitterNs.Load())
			if j > tc.wantJitter || j < tc.minJitter {
				t.Fatalf("jitter = %v, want %v..%v", j, tc.minJitter, tc.wantJitter)
			}
		})
	}
}
