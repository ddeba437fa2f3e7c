package sip

// decodeG711 expands 8-bit G.711 samples with dec.
func decodeG711(b []byte, dec func(byte) int16) []int16 {
	out := make([]int16, len(b))
	for i, v := range b {
		out[i] = dec(v)
	}

	return out
}

// ulawSample expands one mu-law byte (ITU-T G.711 section 3).
func ulawSample(u byte) int16 {
	u = ^u
	exp := (u >> 4) & 0x07
	mant := int(u & 0x0f)
	mag := ((mant << 3) + 0x84) << exp
	mag -= 0x84
	if u&0x80 != 0 {
		return int16(-mag)
	}

	return int16(mag)
}

// alawSample expands one A-law byte (ITU-T G.711 section 2).
func alawSample(a byte) int16 {
	a ^= 0x55
	exp := (a >> 4) & 0x07
	mant := int(a & 0x0f)
	var mag int
	if exp == 0 {
		mag = (mant << 4) + 8
	} else {
		mag = ((mant << 4) + 0x108) << (exp - 1)
	}
	if a&0x80 == 0 {
		return int16(-mag)
	}

	return int16(mag)
}
