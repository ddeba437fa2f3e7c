package accounting

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// ExportFormat names a CDR export format.
type ExportFormat string

// The export formats.
const (
	// FormatCSV is one header line and one line per CDR (CSVColumns).
	FormatCSV ExportFormat = "csv"
	// FormatJSON is a JSON array of call resources, one per line.
	FormatJSON ExportFormat = "json"
)

// CSVColumns are the columns of a CSV export, in order. Times are RFC 3339
// UTC with milliseconds, empty when the event did not happen; durations are
// seconds with milliseconds; price is positive micro-units formatted as a
// decimal.
func CSVColumns() []string { return append([]string(nil), csvColumns...) }

var csvColumns = []string{"sid", "parent_call_sid", "account_sid", "direction", "from", "to",
	"forwarded_from", "caller_name", "sip_call_id", "application_sid", "trunk_sid",
	"media_mode", "node", "status", "end_cause", "sip_response_code", "sip_reason",
	"created", "ringing", "answered", "ended", "ring_seconds", "talk_seconds",
	"billable_seconds", "codec", "srtp", "packets_sent", "packets_received", "bytes_sent",
	"bytes_received", "packets_lost", "jitter_ms", "rtt_ms", "recording_seconds", "price",
	"price_unit", "recovered"}

// ExportCDRs streams the CDRs the filter selects, newest first, to w in
// format, without holding them in memory. An error after the first bytes
// leaves w with a partial export.
func (l *Ledger) ExportCDRs(ctx context.Context, w io.Writer, f CDRFilter,
	format ExportFormat) error {
	return ExportCDRs(ctx, l.db, w, f, format)
}

// ExportCDRs is Ledger.ExportCDRs over a database the caller opened (with
// tenancy.OpenDB), for "patchbay cdrs export": it only reads, so it is safe
// while a server runs on the same file.
func ExportCDRs(ctx context.Context, db *sql.DB, w io.Writer, f CDRFilter,
	format ExportFormat) error {
	x := exporter{db: db}
	switch format {
	case FormatCSV:
		return x.exportCSV(ctx, w, f)
	case FormatJSON:
		return x.exportJSON(ctx, w, f)
	}

	return fmt.Errorf("%w: export format %q, want csv or json", ErrInvalid, format)
}

// exporter reads CDRs from db for an export.
type exporter struct{ db *sql.DB }

func (l exporter) exportCSV(ctx context.Context, w io.Writer, f CDRFilter) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvColumns); err != nil {
		return fmt.Errorf("accounting: export: %w", err)
	}
	err := EachCDR(ctx, l.db, f, func(c *CDR) error {
		return cw.Write(csvRecord(c))
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err != nil {
		return fmt.Errorf("accounting: export: %w", err)
	}

	return nil
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}

	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func csvSeconds(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Milliseconds())/1000, 'f', -1, 64)
}

func csvRecord(c *CDR) []string {
	q := c.Quality
	i := strconv.FormatInt
	code := ""
	if c.SIPCode != 0 {
		code = strconv.Itoa(c.SIPCode)
	}

	return []string{c.SID, c.ParentSID, c.AccountSID, string(c.Direction), c.From, c.To,
		c.ForwardedFrom, c.CallerName, c.CallID, c.ApplicationSID, c.TrunkSID, c.MediaMode,
		c.Node, string(c.Status), string(c.Cause), code, c.SIPReason, csvTime(c.Created),
		csvTime(c.Ringing), csvTime(c.Answered), csvTime(c.Ended), csvSeconds(c.RingTime),
		csvSeconds(c.TalkTime), csvSeconds(c.Billable), q.Codec, strconv.FormatBool(q.SRTP),
		i(q.PacketsSent, 10), i(q.PacketsReceived, 10), i(q.BytesSent, 10),
		i(q.BytesReceived, 10), i(q.PacketsLost, 10), millis(q.Jitter), millis(q.RTT),
		csvSeconds(c.Recording), FormatMicro(c.PriceMicro), c.PriceUnit,
		strconv.FormatBool(c.Recovered)}
}

func (l exporter) exportJSON(ctx context.Context, w io.Writer, f CDRFilter) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	sep := "[\n"
	err := EachCDR(ctx, l.db, f, func(c *CDR) error {
		if _, err := bw.WriteString(sep); err != nil {
			return err
		}
		sep = ","

		return enc.Encode(viewCall(c))
	})
	if err == nil {
		if sep == "[\n" {
			_, err = bw.WriteString("[\n]\n")
		} else {
			_, err = bw.WriteString("]\n")
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("accounting: export: %w", err)
	}

	return nil
}
