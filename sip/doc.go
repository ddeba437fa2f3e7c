// Package sip is Patchbay's SIP edge: the UDP, TCP, TLS and WebSocket
// transports, who-is-calling resolution of every request to one account,
// account admission, the registrar (RFC 3261 section 10) with digest
// authentication, a record-routing forking proxy between registered devices
// of one account, and outbound calls to carrier trunks with failover.
//
// The package is built on github.com/emiago/sipgo, whose message package is
// imported everywhere in Patchbay under the alias sipmsg. A Server owns one
// sipgo user agent; call control (the B2BUA) receives the out-of-dialog
// INVITEs that need an account's application through CallHandler and uses
// the exported Client, SendToBinding and DialTrunk helpers to originate
// legs.
package sip
