package media

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// streamDesc is what the relay reads from one m= section.
type streamDesc struct {
	media     string
	proto     string
	addr      netip.Addr
	port      int
	rtcpPort  int
	mux       bool
	crypto    []string
	hold      bool
	relayable bool
	codec     string
	clock     uint32
	tevPT     int
	formats   []string
}

// parseSDP parses an SDP body (RFC 4566), wrapping failures in ErrBadSDP.
func parseSDP(b []byte) (*sdp.SessionDescription, error) {
	sd, _, err := parseSDPForeign(b)

	return sd, err
}

// foreignLines maps the index of an m= line the SDP library cannot
// represent (m=image, udptl, ...) to its original media, proto and
// formats; such sections are parsed as a placeholder and always
// declined.
type foreignLines map[int][3]string

// knownMedia and knownProto are what the SDP library accepts.
var (
	knownMedia = map[string]bool{"audio": true, "video": true, "text": true,
		"application": true, "message": true}
	knownProto = map[string]bool{"UDP": true, "RTP": true, "AVP": true, "SAVP": true,
		"SAVPF": true, "TLS": true, "DTLS": true, "SCTP": true, "AVPF": true, "TCP": true,
		"MSRP": true, "BFCP": true, "UDT": true, "IX": true, "MRCPv2": true, "FEC": true}
)

// parseSDPForeign parses b after replacing m= lines of unknown media or
// transport by placeholders, returned in foreignLines.
func parseSDPForeign(b []byte) (*sdp.SessionDescription, foreignLines, error) {
	lines := strings.Split(string(b), "\n")
	foreign := foreignLines{}
	idx := -1
	for i, line := range lines {
		if !strings.HasPrefix(line, "m=") {
			continue
		}
		idx++
		f := strings.Fields(strings.TrimSpace(line[2:]))
		if len(f) < 3 || isKnownMedia(f[0], f[2]) {
			continue
		}
		foreign[idx] = [3]string{f[0], f[2], strings.Join(f[3:], " ")}
		lines[i] = "m=application " + f[1] + " UDP " + strings.Join(f[3:], " ") + "\r"
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal([]byte(strings.Join(lines, "\n"))); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	if len(sd.MediaDescriptions) == 0 {
		return nil, nil, fmt.Errorf("%w: no m= line", ErrBadSDP)
	}
	for i := range foreign {
		sd.MediaDescriptions[i].MediaName.Port = sdp.RangedPort{Value: 0}
	}

	return &sd, foreign, nil
}

func isKnownMedia(media, proto string) bool {
	if !knownMedia[media] {
		return false
	}
	for _, p := range strings.Split(proto, "/") {
		if !knownProto[p] {
			return false
		}
	}

	return true
}

// marshalSDP writes sd, putting foreign m= lines back, declined.
func marshalSDP(sd *sdp.SessionDescription, foreign foreignLines) ([]byte, error) {
	out, err := sd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("%w: marshal: %w", ErrBadSDP, err)
	}
	if len(foreign) == 0 {
		return out, nil
	}
	lines := strings.Split(string(out), "\r\n")
	idx := -1
	for i, line := range lines {
		if !strings.HasPrefix(line, "m=") {
			continue
		}
		idx++
		if f, ok := foreign[idx]; ok {
			lines[i] = strings.TrimSpace("m=" + f[0] + " 0 " + f[1] + " " + f[2])
		}
	}

	return []byte(strings.Join(lines, "\r\n")), nil
}

// mLine returns media, proto and formats of section i as written.
func (f foreignLines) mLine(i int, md *sdp.MediaDescription) (string, string, string) {
	if l, ok := f[i]; ok {
		return l[0], l[1], l[2]
	}

	return md.MediaName.Media, strings.Join(md.MediaName.Protos, "/"),
		strings.Join(md.MediaName.Formats, " ")
}

func connAddr(ci *sdp.ConnectionInformation) (netip.Addr, bool) {
	if ci == nil || ci.Address == nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(ci.Address.Address)
	if err != nil {
		return netip.Addr{}, false
	}

	return a.Unmap(), true
}

// describe extracts the relay's view of media section md. bindV6 says
// whether the engine's sockets can reach IPv6 peers.
func describe(sd *sdp.SessionDescription, md *sdp.MediaDescription, bindV6 bool) streamDesc {
	d := streamDesc{
		media:   md.MediaName.Media,
		proto:   strings.Join(md.MediaName.Protos, "/"),
		port:    md.MediaName.Port.Value,
		clock:   8000,
		tevPT:   -1,
		formats: md.MediaName.Formats,
	}
	addr, ok := connAddr(md.ConnectionInformation)
	if !ok {
		addr, ok = connAddr(sd.ConnectionInformation)
	}
	d.addr = addr
	d.rtcpPort = d.port + 1
	d.hold = direction(sd, md) != "sendrecv" || (ok && addr.IsUnspecified())
	for _, a := range md.Attributes {
		switch a.Key {
		case "rtcp-mux":
			d.mux = true
		case "crypto":
			d.crypto = append(d.crypto, a.Value)
		case "rtcp":
			if p, err := strconv.Atoi(strings.Fields(a.Value + " x")[0]); err == nil {
				d.rtcpPort = p
			}
		}
	}
	d.codec, d.clock = codecOf(md)
	d.tevPT = telephoneEventPT(md)
	d.relayable = ok && d.port > 0 && d.port < 65536 && isRTPProto(d.proto) &&
		(d.media == "audio" || d.media == "video") && (bindV6 || !addr.Is6())

	return d
}

func isRTPProto(p string) bool {
	switch p {
	case "RTP/AVP", "RTP/SAVP", "RTP/AVPF", "RTP/SAVPF":
		return true
	}

	return false
}

// secureProto and plainProto switch between the AVP and SAVP variants.
func secureProto(p string) string {
	if strings.Contains(p, "SAVP") {
		return p
	}

	return strings.Replace(p, "AVP", "SAVP", 1)
}

func plainProto(p string) string {
	return strings.Replace(p, "SAVP", "AVP", 1)
}

// direction returns the media direction (RFC 3264 section 5.1), media
// level first, then session level, default sendrecv.
func direction(sd *sdp.SessionDescription, md *sdp.MediaDescription) string {
	for _, attrs := range [][]sdp.Attribute{md.Attributes, sd.Attributes} {
		for _, a := range attrs {
			switch a.Key {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				return a.Key
			}
		}
	}

	return "sendrecv"
}

// staticCodecs names the static payload types of RFC 3551 section 6.
var staticCodecs = map[string]string{
	"0": "PCMU/8000", "3": "GSM/8000", "4": "G723/8000", "8": "PCMA/8000",
	"9": "G722/8000", "13": "CN/8000", "18": "G729/8000",
}

// rtpmap returns the encoding of payload type pt from a=rtpmap or the
// static table.
func rtpmap(md *sdp.MediaDescription, pt string) string {
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		num, enc, ok := strings.Cut(a.Value, " ")
		if ok && num == pt {
			return enc
		}
	}

	return staticCodecs[pt]
}

func codecOf(md *sdp.MediaDescription) (string, uint32) {
	if len(md.MediaName.Formats) == 0 {
		return "", 8000
	}
	enc := rtpmap(md, md.MediaName.Formats[0])
	clock := uint32(8000)
	if parts := strings.Split(enc, "/"); len(parts) >= 2 {
		if c, err := strconv.ParseUint(parts[1], 10, 32); err == nil && c > 0 {
			clock = uint32(c)
		}
	}

	return enc, clock
}

func telephoneEventPT(md *sdp.MediaDescription) int {
	for _, f := range md.MediaName.Formats {
		if strings.HasPrefix(strings.ToLower(rtpmap(md, f)), "telephone-event/8000") {
			if pt, err := strconv.Atoi(f); err == nil && pt >= 0 && pt < 128 {
				return pt
			}
		}
	}

	return -1
}

// droppedAttrs are removed from relayed media sections: the relay
// terminates ICE, SDES and DTLS, and sets its own RTCP port.
var droppedAttrs = map[string]bool{
	"crypto": true, "rtcp": true, "candidate": true, "remote-candidates": true,
	"ice-ufrag": true, "ice-pwd": true, "ice-options": true, "ice-lite": true,
	"end-of-candidates": true, "fingerprint": true, "setup": true, "rtcp-mux": true,
}

func connInfo(a netip.Addr) *sdp.ConnectionInformation {
	return &sdp.ConnectionInformation{
		NetworkType: "IN", AddressType: addrType(a),
		Address: &sdp.Address{Address: a.String()},
	}
}

func addrType(a netip.Addr) string {
	if a.Is4() {
		return "IP4"
	}

	return "IP6"
}

// rewriteSession sets the origin and session-level connection address
// to public and drops session-level ICE and DTLS attributes.
func rewriteSession(sd *sdp.SessionDescription, public netip.Addr) {
	sd.Origin.NetworkType, sd.Origin.AddressType = "IN", addrType(public)
	sd.Origin.UnicastAddress = public.String()
	if sd.ConnectionInformation != nil {
		sd.ConnectionInformation = connInfo(public)
	}
	sd.Attributes = keepAttrs(sd.Attributes)
}

func keepAttrs(in []sdp.Attribute) []sdp.Attribute {
	out := in[:0:0]
	for _, a := range in {
		if !droppedAttrs[a.Key] {
			out = append(out, a)
		}
	}

	return out
}

// mediaRewrite says how one relayed section leaves Patchbay.
type mediaRewrite struct {
	port   int
	proto  string
	mux    bool
	crypto []cryptoAttr
}

// rewriteMedia points md at Patchbay: our port, c= line, RTCP port,
// rtcp-mux when wanted, and our a=crypto lines; everything else is kept
// in order (codecs, ptime, direction, fmtp).
func rewriteMedia(sd *sdp.SessionDescription, md *sdp.MediaDescription,
	public netip.Addr, rw mediaRewrite) {
	md.MediaName.Port = sdp.RangedPort{Value: rw.port}
	md.MediaName.Protos = strings.Split(rw.proto, "/")
	if md.ConnectionInformation != nil || sd.ConnectionInformation == nil {
		md.ConnectionInformation = connInfo(public)
	}
	md.Attributes = keepAttrs(md.Attributes)
	if rw.mux {
		md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute("rtcp-mux"))
	} else {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtcp",
			strconv.Itoa(rw.port+1)))
	}
	for _, c := range rw.crypto {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("crypto", c.String()))
	}
}

// declineMedia rejects a section with port 0 (RFC 3264 section 6).
func declineMedia(md *sdp.MediaDescription) {
	md.MediaName.Port = sdp.RangedPort{Value: 0}
	md.Attributes = keepAttrs(md.Attributes)
}
