package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"
)

// runFlood sends SIP requests from one UDP socket (one source address and
// port) at a fixed rate, as a scanner or a broken device would, and counts
// the answers that come back.
func runFlood(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("flood", flag.ContinueOnError)
	target := fs.String("target", "127.0.0.1:5060", "server address (host:port, UDP)")
	rate := fs.Int("rate", 50000, "requests per second")
	duration := fs.Duration("duration", 30*time.Second, "how long to send")
	method := fs.String("method", "OPTIONS", "request method: OPTIONS, REGISTER or INVITE")
	domain := fs.String("domain", "flood.invalid", "domain in the Request-URI")
	source := fs.String("source", "", "local IP to send from, e.g. 127.0.0.2, so that on "+
		"loopback the flood and honest traffic are different sources (default: the system's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rate <= 0 || *duration <= 0 {
		return fmt.Errorf("flood: -rate and -duration must be positive")
	}

	var dialer net.Dialer
	if *source != "" {
		ip := net.ParseIP(*source)
		if ip == nil {
			return fmt.Errorf("flood: -source %q: not an IP address", *source)
		}
		dialer.LocalAddr = &net.UDPAddr{IP: ip}
	}
	conn, err := dialer.DialContext(ctx, "udp", *target)
	if err != nil {
		return fmt.Errorf("flood: %w", err)
	}
	defer conn.Close()

	var answers atomic.Uint64
	go countAnswers(conn, &answers)

	sent, err := sendAtRate(ctx, conn, *rate, *duration, floodMessage(*method, *domain, conn))
	fmt.Printf("flood: sent %d %s in %s (%.0f/s), answers %d\n",
		sent, *method, *duration, float64(sent)/duration.Seconds(), answers.Load())

	return err
}

func countAnswers(conn net.Conn, answers *atomic.Uint64) {
	buf := make([]byte, 65535)
	for {
		if _, err := conn.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}

			return
		}
		answers.Add(1)
	}
}

// sendAtRate writes messages built by next, paced in 1 ms slots, until the
// duration ends or ctx is cancelled. It returns how many were sent.
func sendAtRate(ctx context.Context, conn net.Conn, rate int, d time.Duration,
	next func(i int) []byte) (int, error) {
	const slot = time.Millisecond
	start := time.Now()
	ticker := time.NewTicker(slot)
	defer ticker.Stop()

	sent := 0
	for time.Since(start) < d {
		select {
		case <-ctx.Done():
			return sent, nil
		case <-ticker.C:
		}
		due := int(time.Since(start).Seconds() * float64(rate))
		for ; sent < due; sent++ {
			if _, err := conn.Write(next(sent)); err != nil {
				return sent, fmt.Errorf("flood: write: %w", err)
			}
		}
	}

	return sent, nil
}

// floodMessage returns a builder of distinct requests: each has its own
// branch and Call-ID, so that no transaction layer can absorb them as
// retransmissions.
func floodMessage(method, domain string, conn net.Conn) func(int) []byte {
	local := conn.LocalAddr().String()
	buf := make([]byte, 0, 512)

	return func(i int) []byte {
		n := strconv.Itoa(i)
		buf = buf[:0]
		buf = fmt.Appendf(buf, "%s sip:%s SIP/2.0\r\n", method, domain)
		buf = fmt.Appendf(buf, "Via: SIP/2.0/UDP %s;branch=z9hG4bKflood%s;rport\r\n", local, n)
		buf = fmt.Appendf(buf, "Max-Forwards: 70\r\n")
		buf = fmt.Appendf(buf, "From: <sip:scanner@%s>;tag=f%s\r\n", domain, n)
		buf = fmt.Appendf(buf, "To: <sip:%s>\r\n", domain)
		buf = fmt.Appendf(buf, "Call-ID: flood-%s@%s\r\n", n, local)
		buf = fmt.Appendf(buf, "CSeq: 1 %s\r\n", method)
		buf = fmt.Appendf(buf, "Contact: <sip:scanner@%s>\r\n", local)
		buf = fmt.Appendf(buf, "Content-Length: 0\r\n\r\n")

		return buf
	}
}
