// Package location keeps the bindings of the SIP registrar (RFC 3261
// section 10): for each address-of-record, the contacts registered for it
// with their expiry, and the flow each REGISTER came on.
//
// Store is the contract; Memory is the default, in-process implementation
// and Redis shares bindings between nodes. Both apply an Update atomically:
// the Call-ID/CSeq ordering check of RFC 3261 section 10.3 step 7, the
// per-account binding limit and the change itself happen as one step, so
// concurrent REGISTERs of one account never overshoot its limit.
//
// Expiry: a binding is live while its Expires lies in the future. Lookup,
// Apply and CountAccount never count or return an expired binding, however
// late the cleanup runs. Memory reads its clock (injected, for tests) and
// removes expired bindings on every write and once a second; Redis takes
// "now" from the server's TIME inside its scripts and lets keys expire by
// PEXPIREAT (see Redis).
package location
