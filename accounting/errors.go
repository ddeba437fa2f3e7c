package accounting

import "errors"

// Errors returned by the Ledger. They are wrapped with context; test them
// with errors.Is.
var (
	// ErrClosed is returned by writes after Close.
	ErrClosed = errors.New("accounting: ledger closed")
	// ErrDuplicateLeg is returned by OpenLeg for a SID that already has a CDR.
	ErrDuplicateLeg = errors.New("accounting: leg already recorded")
	// ErrUnknownLeg is returned for events about a SID that has no CDR.
	ErrUnknownLeg = errors.New("accounting: unknown leg")
	// ErrLegClosed is returned for events about a leg whose CDR is closed.
	ErrLegClosed = errors.New("accounting: leg already closed")
	// ErrInvalid is returned for a snapshot, plan or query with a bad field;
	// the message names the field.
	ErrInvalid = errors.New("accounting: invalid")
	// ErrSpendCapReached is returned by CheckSpend when the account's spend
	// this month has reached its cap.
	ErrSpendCapReached = errors.New("accounting: monthly spend cap reached")
	// ErrNotFound is returned when a price plan, CDR or statement does not
	// exist or is not visible to the account.
	ErrNotFound = errors.New("accounting: not found")
	// ErrUnavailable is returned by Ready while the ledger cannot commit:
	// the database is locked by another writer, full or failing.
	ErrUnavailable = errors.New("accounting: ledger cannot write")
)

// Money parsing errors.
var (
	// ErrMoneySyntax is returned by ParseMicro for text that is not a decimal.
	ErrMoneySyntax = errors.New("accounting: malformed amount")
	// ErrMoneyPrecision is returned by ParseMicro for more than six decimals.
	ErrMoneyPrecision = errors.New("accounting: amount finer than a micro-unit")
	// ErrMoneyRange is returned by ParseMicro for amounts beyond int64.
	ErrMoneyRange = errors.New("accounting: amount out of range")
)
