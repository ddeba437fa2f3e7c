// Package accounting is Patchbay's ledger: it keeps one call detail record
// (CDR) per call leg, meters every other service into per-account, per-day
// usage records, rates both with the account's price plan, keeps a running
// spend total per account and month, and builds billing statements.
//
// It knows nothing of SIP or media. Call control hands it plain snapshots
// (LegStart, LegEnd, Quality) and the other services call Meter. Every write
// goes through one writer goroutine that commits groups of writes in a
// single SQLite transaction (group commit) and returns to each caller only
// after its write is durable, so that throughput does not cost durability.
//
// A Ledger records a heartbeat for its node. When it opens, it closes every
// leg left open on its node by a crash at the node's last heartbeat and
// marks it as recovered, so that no leg is lost, left open or counted twice.
//
// All money is integer micro-units (one millionth of the price unit) in
// int64; ParseMicro and FormatMicro convert it to and from exact decimal
// strings.
package accounting
