package media

import (
	"encoding/binary"
	"fmt"
	"time"
)

// DTMFEvent is one detected key press.
type DTMFEvent struct {
	// Digit is one of 0-9, *, #, A-D.
	Digit rune
	// Duration is the tone length reported by the sender (zero for SIP
	// INFO without a Duration).
	Duration time.Duration
	// Leg is the leg the digit came from.
	Leg Leg
	// Source is "rfc4733" for telephone-event packets, or whatever
	// InjectDTMF was given (call control uses "info").
	Source string
}

// dtmfDigits maps RFC 4733 event codes 0-15 (section 3.2) to digits.
const dtmfDigits = "0123456789*#ABCD"

func digitEvent(d rune) (byte, error) {
	for i, c := range dtmfDigits {
		if c == d || (d >= 'a' && d <= 'd' && c == d-'a'+'A') {
			return byte(i), nil
		}
	}

	return 0, fmt.Errorf("%w: %q", ErrBadDTMF, d)
}

// telephoneEvent is the payload of an RFC 4733 named event packet
// (section 2.3).
type telephoneEvent struct {
	event    uint8
	end      bool
	volume   uint8
	duration uint16
}

func parseTelephoneEvent(b []byte) (telephoneEvent, error) {
	if len(b) < 4 {
		return telephoneEvent{}, fmt.Errorf("%w: telephone-event %d bytes", errShortPacket, len(b))
	}

	return telephoneEvent{
		event:    b[0],
		end:      b[1]&0x80 != 0,
		volume:   b[1] & 0x3f,
		duration: binary.BigEndian.Uint16(b[2:]),
	}, nil
}

func (t telephoneEvent) put(b []byte) {
	b[0] = t.event
	b[1] = t.volume & 0x3f
	if t.end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], t.duration)
}

// dtmfState turns a stream of telephone-event packets into one event
// per key press: reported at the first end packet of an event (the end
// packet is sent three times, RFC 4733 section 2.5.1.4), or when a new
// event starts before an end was seen. It is owned by one goroutine.
type dtmfState struct {
	active   bool
	reported bool
	ts       uint32
	last     telephoneEvent
}

func (d *dtmfState) observe(h rtpHeader, payload []byte) (DTMFEvent, bool) {
	ev, err := parseTelephoneEvent(payload)
	if err != nil || int(ev.event) >= len(dtmfDigits) {
		return DTMFEvent{}, false
	}
	var out DTMFEvent
	var ok bool
	if d.active && h.ts != d.ts {
		if !d.reported {
			out, ok = d.last.toDTMF(), true
		}
		d.active = false
	}
	if !d.active {
		d.active, d.reported, d.ts = true, false, h.ts
	}
	d.last = ev
	if ev.end && !d.reported && !ok {
		d.reported = true
		out, ok = ev.toDTMF(), true
	}

	return out, ok
}

// toDTMF converts at the 8 kHz clock of telephone-event.
func (t telephoneEvent) toDTMF() DTMFEvent {
	return DTMFEvent{
		Digit:    rune(dtmfDigits[t.event]),
		Duration: time.Duration(t.duration) * time.Second / 8000,
	}
}
