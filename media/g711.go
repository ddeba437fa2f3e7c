package media

// G.711 companding (ITU-T G.711), computed rather than tabled so the
// package holds no mutable state.

const (
	muBias = 0x84
	muClip = 32635
)

// linearToMulaw encodes one 16-bit sample as μ-law.
func linearToMulaw(s int16) byte {
	v := int(s)
	sign := 0
	if v < 0 {
		v, sign = -v, 0x80
	}
	if v > muClip {
		v = muClip
	}
	v += muBias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0f

	return ^byte(sign | exp<<4 | mant)
}

// mulawToLinear decodes one μ-law byte.
func mulawToLinear(u byte) int16 {
	u = ^u
	exp := int(u>>4) & 0x07
	v := ((int(u&0x0f) << 3) + muBias) << exp
	v -= muBias
	if u&0x80 != 0 {
		return int16(-v)
	}

	return int16(v)
}

// linearToAlaw encodes one 16-bit sample as A-law.
func linearToAlaw(s int16) byte {
	v := int(s) >> 3
	sign := 0x80
	if v < 0 {
		v, sign = -v-1, 0
	}
	if v > 0xfff {
		v = 0xfff
	}
	var out int
	if v < 32 {
		out = v >> 1
	} else {
		exp := 1
		for t := v >> 5; t > 1; t >>= 1 {
			exp++
		}
		out = exp<<4 | (v>>exp)&0x0f
	}

	return byte(out|sign) ^ 0x55
}

// alawToLinear decodes one A-law byte.
func alawToLinear(a byte) int16 {
	a ^= 0x55
	exp := int(a>>4) & 0x07
	mant := int(a & 0x0f)
	var v int
	if exp == 0 {
		v = mant<<4 + 8
	} else {
		v = (mant<<4 + 0x108) << (exp - 1)
	}
	if a&0x80 == 0 {
		return int16(-v)
	}

	return int16(v)
}

// decodeG711 appends the samples of payload, PCMU (pt 0) or PCMA (pt 8).
func decodeG711(dst []int16, pt uint8, payload []byte) []int16 {
	for _, b := range payload {
		if pt == 8 {
			dst = append(dst, alawToLinear(b))
		} else {
			dst = append(dst, mulawToLinear(b))
		}
	}

	return dst
}

func encodeG711(dst []byte, pt uint8, samples []int16) []byte {
	for _, s := range samples {
		if pt == 8 {
			dst = append(dst, linearToAlaw(s))
		} else {
			dst = append(dst, linearToMulaw(s))
		}
	}

	return dst
}
