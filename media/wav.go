package media

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// Audio is 8 kHz mono 16-bit PCM, the form Play sends. It is immutable
// once built and may be played by many sessions at once.
type Audio struct {
	Samples []int16
}

// Duration is the playing time of a.
func (a *Audio) Duration() time.Duration {
	return time.Duration(len(a.Samples)) * time.Second / audioRate
}

const (
	audioRate    = 8000
	maxWAVBytes  = 64 << 20
	wavPCM       = 1
	wavALaw      = 6
	wavMuLaw     = 7
	wavExtensive = 0xfffe
)

// ReadWAV reads a RIFF/WAVE file: PCM 16-bit at any rate, μ-law or
// A-law (8 bit), mono or multi-channel. Channels are averaged and the
// rate converted to 8 kHz by linear interpolation. Files over 64 MiB
// and other encodings fail with ErrBadWAV.
func ReadWAV(r io.Reader) (*Audio, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxWAVBytes+1))
	if err != nil {
		return nil, fmt.Errorf("media: read wav: %w", err)
	}
	if len(b) > maxWAVBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadWAV, maxWAVBytes)
	}

	return ParseWAV(b)
}

type wavFormat struct {
	format   uint16
	channels int
	rate     int
	bits     int
}

// ParseWAV decodes a WAV file held in memory; see ReadWAV.
func ParseWAV(b []byte) (*Audio, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: not a RIFF/WAVE file", ErrBadWAV)
	}
	var f wavFormat
	var data []byte
	for rest := b[12:]; len(rest) >= 8; {
		id, size := string(rest[:4]), int(binary.LittleEndian.Uint32(rest[4:]))
		rest = rest[8:]
		if size < 0 || size > len(rest) {
			size = len(rest)
		}
		switch id {
		case "fmt ":
			var err error
			if f, err = parseFmt(rest[:size]); err != nil {
				return nil, err
			}
		case "data":
			data = rest[:size]
		}
		rest = rest[min(len(rest), size+size%2):]
	}
	if f.channels == 0 {
		return nil, fmt.Errorf("%w: no fmt chunk", ErrBadWAV)
	}
	if data == nil {
		return nil, fmt.Errorf("%w: no data chunk", ErrBadWAV)
	}
	mono := decodeWAVData(f, data)

	return &Audio{Samples: resample(mono, f.rate, audioRate)}, nil
}

func parseFmt(b []byte) (wavFormat, error) {
	if len(b) < 16 {
		return wavFormat{}, fmt.Errorf("%w: fmt chunk %d bytes", ErrBadWAV, len(b))
	}
	f := wavFormat{
		format:   binary.LittleEndian.Uint16(b[0:]),
		channels: int(binary.LittleEndian.Uint16(b[2:])),
		rate:     int(binary.LittleEndian.Uint32(b[4:])),
		bits:     int(binary.LittleEndian.Uint16(b[14:])),
	}
	if f.format == wavExtensive && len(b) >= 26 {
		f.format = binary.LittleEndian.Uint16(b[24:])
	}
	switch {
	case f.channels < 1 || f.channels > 8:
		return wavFormat{}, fmt.Errorf("%w: %d channels", ErrBadWAV, f.channels)
	case f.rate < 4000 || f.rate > 192000:
		return wavFormat{}, fmt.Errorf("%w: sample rate %d", ErrBadWAV, f.rate)
	case f.format == wavPCM && f.bits == 16:
	case (f.format == wavALaw || f.format == wavMuLaw) && f.bits == 8:
	default:
		return wavFormat{}, fmt.Errorf("%w: format %d with %d bits", ErrBadWAV, f.format, f.bits)
	}

	return f, nil
}

// decodeWAVData returns mono samples, averaging channels.
func decodeWAVData(f wavFormat, data []byte) []int16 {
	width := f.bits / 8 * f.channels
	frames := len(data) / width
	out := make([]int16, frames)
	for i := range frames {
		sum := 0
		for c := range f.channels {
			off := i*width + c*f.bits/8
			switch f.format {
			case wavPCM:
				sum += int(int16(binary.LittleEndian.Uint16(data[off:])))
			case wavALaw:
				sum += int(alawToLinear(data[off]))
			default:
				sum += int(mulawToLinear(data[off]))
			}
		}
		out[i] = int16(sum / f.channels)
	}

	return out
}

// resample converts between rates by linear interpolation. It is meant
// for prompts, not music: there is no anti-aliasing filter.
func resample(in []int16, from, to int) []int16 {
	if from == to || len(in) == 0 {
		return in
	}
	n := int(int64(len(in)) * int64(to) / int64(from))
	out := make([]int16, n)
	for i := range out {
		pos := int64(i) * int64(from)
		j, frac := int(pos/int64(to)), pos%int64(to)
		a, b := int64(in[j]), int64(in[min(j+1, len(in)-1)])
		out[i] = int16(a + (b-a)*frac/int64(to))
	}

	return out
}

// writeWAVHeader writes the 44-byte header of a 16-bit 8 kHz PCM WAV
// file holding frames sample frames of channels channels.
func writeWAVHeader(w io.Writer, channels, frames int) error {
	dataLen := frames * 2 * channels
	hdr := make([]byte, 44)
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(36+dataLen))
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], wavPCM)
	binary.LittleEndian.PutUint16(hdr[22:], uint16(channels))
	binary.LittleEndian.PutUint32(hdr[24:], audioRate)
	binary.LittleEndian.PutUint32(hdr[28:], uint32(audioRate*2*channels))
	binary.LittleEndian.PutUint16(hdr[32:], uint16(2*channels))
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], uint32(dataLen))
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("media: write wav: %w", err)
	}

	return nil
}

// writeWAV writes interleaved 16-bit PCM at 8 kHz with channels
// channels.
func writeWAV(w io.Writer, channels int, interleaved []int16) error {
	if err := writeWAVHeader(w, channels, len(interleaved)/channels); err != nil {
		return err
	}
	data := make([]byte, 0, 2*len(interleaved))
	for _, s := range interleaved {
		data = binary.LittleEndian.AppendUint16(data, uint16(s))
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("media: write wav: %w", err)
	}

	return nil
}

// EncodeWAV writes a as a mono 16-bit 8 kHz WAV file.
func (a *Audio) EncodeWAV(w io.Writer) error { return writeWAV(w, 1, a.Samples) }
