package sip

// deviation is a torture outcome that breaks the index's expectation and
// is known: who owns the behaviour, why it happens, and the outcome it
// produces today (see tortureOutcome.summary). TestTorture fails when the
// outcome changes to another wrong one, and logs when it becomes right.
type deviation struct {
	got   string
	owner string // "sipgo" (parser, transport, transaction layer) or "patchbay"
	why   string
}

// sipgoUnparsed explains the messages sipgo's parser refuses.
const sipgoUnparsed = "sipgo's parser refuses the message and sipgo drops the datagram " +
	"or closes the TCP connection without answering: the transport layer has no partial " +
	"parse to build a 400 from (RFC 3261 16.3 and RFC 4475 expect 400)"

// knownDeviations holds the known deviations by "transport/file" or
// "*/file" for both transports.
var knownDeviations = map[string]deviation{
	"*/rfc4475/badinv01.sip":   {"none", "sipgo", sipgoUnparsed},
	"tcp/rfc4475/badinv01.sip": {"closed", "sipgo", sipgoUnparsed},
	"udp/rfc4475/clerr.sip":    {"none", "sipgo", sipgoUnparsed},
	"udp/rfc4475/ncl.sip":      {"none", "sipgo", sipgoUnparsed},
	"udp/rfc4475/scalar02.sip": {"none", "sipgo", sipgoUnparsed},
	"tcp/rfc4475/scalar02.sip": {"closed", "sipgo", sipgoUnparsed},
	"udp/rfc4475/quotbal.sip":  {"none", "sipgo", sipgoUnparsed},
	"tcp/rfc4475/quotbal.sip":  {"closed", "sipgo", sipgoUnparsed},
	"udp/rfc4475/ltgtruri.sip": {"none", "sipgo", sipgoUnparsed},
	"tcp/rfc4475/ltgtruri.sip": {"closed", "sipgo", sipgoUnparsed},
	"udp/rfc4475/lwsruri.sip":  {"none", "sipgo", sipgoUnparsed},
	"tcp/rfc4475/lwsruri.sip":  {"closed", "sipgo", sipgoUnparsed},
	"udp/rfc4475/lwsstart.sip": {"none", "sipgo", sipgoUnparsed},
	"tcp/rfc4475/lwsstart.sip": {"closed", "sipgo", sipgoUnparsed},
	"udp/rfc4475/novelsc.sip":  {"none", "sipgo", sipgoUnparsed},
	"tcp/rfc4475/novelsc.sip":  {"closed", "sipgo", sipgoUnparsed},
	"udp/rfc5118/ipv6-bad.sip": {"none", "sipgo", sipgoUnparsed},
	"tcp/rfc5118/ipv6-bad.sip": {"closed", "sipgo", sipgoUnparsed},
}

// knownDeviation returns the deviation recorded for name over transport.
func knownDeviation(transport, name string) (deviation, bool) {
	if d, ok := knownDeviations[transport+"/"+name]; ok {
		return d, true
	}
	d, ok := knownDeviations["*/"+name]

	return d, ok
}
