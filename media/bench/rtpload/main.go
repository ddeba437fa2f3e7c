// Command rtpload compares Patchbay's media relay with rtpengine: it
// sets up N calls through a relay over rtpengine's ng control protocol,
// sends 50 RTP packets per second each way on every call, and reports
// loss, latency percentiles and the relay's CPU time. "serve-ng" runs
// Patchbay's media engine behind the same ng subset (ping, offer,
// answer, delete) so both relays are driven identically. "load -direct"
// sends the same traffic from A to B with no relay in between: its
// latency is the generator's and the kernel's own, the baseline a
// relay's added latency is read against. Every run stops by itself
// after -duration.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rtpload serve-ng|load [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve-ng":
		err = runServe(os.Args[2:])
	case "load":
		err = runLoad(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtpload:", err)
		os.Exit(1)
	}
}

func runServe(args []string) error {
	fs := flag.NewFlagSet("serve-ng", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:2224", "ng control address")
	ports := fs.String("ports", "30000-39999", "media port range")
	life := fs.Duration("max-life", 30*time.Minute, "exit after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	lo, hi, ok := strings.Cut(*ports, "-")
	if !ok {
		return fmt.Errorf("-ports: want MIN-MAX")
	}
	min, err1 := strconv.Atoi(lo)
	max, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("-ports: want MIN-MAX")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *life)
	defer cancel()

	return serveNG(ctx, *listen, min, max)
}

// loadavg returns the one-minute load average, a hint of how much other
// work shared the machine during the run.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}

	return strings.Fields(string(b))[0]
}

func runLoad(args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	ngAddr := fs.String("ng", "127.0.0.1:2224", "relay ng control address")
	name := fs.String("name", "relay", "label for the report")
	calls := fs.Int("calls", 100, "concurrent calls")
	dur := fs.Duration("duration", 10*time.Second, "send duration")
	secure := fs.Bool("srtp", false, "leg B uses SRTP (RTP to SRTP interworking)")
	pid := fs.Int("pid", 0, "relay process id, for CPU accounting")
	sockets := fs.Int("sockets", 2, "endpoint sockets per side shared by all calls")
	direct := fs.Bool("direct", false, "no relay: A and B send to each other, the baseline "+
		"that a relay's added latency is measured against")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *direct && *secure {
		return fmt.Errorf("-direct measures plain RTP only; drop -srtp")
	}
	es, err := newEndpointSockets(*sockets)
	if err != nil {
		return err
	}
	defer es.close()
	cs := make([]*call, 0, *calls)
	if *direct {
		for i := range *calls {
			a, b := es.a[i%len(es.a)], es.b[i%len(es.b)]
			cs = append(cs, &call{a: a, b: b, toA: b.LocalAddr().(*net.UDPAddr).AddrPort(),
				toB: a.LocalAddr().(*net.UDPAddr).AddrPort()})
		}
	} else {
		ng, err := dialNG(*ngAddr)
		if err != nil {
			return err
		}
		if _, err := ng.do(map[string]any{"command": "ping"}); err != nil {
			return err
		}
		defer func() {
			for _, c := range cs {
				_, _ = ng.do(map[string]any{"command": "delete", "call-id": c.id,
					"from-tag": "a"})
			}
		}()
		prefix := strconv.FormatInt(time.Now().UnixNano(), 36)
		for i := range *calls {
			k := i % len(es.a)
			c, err := setupCall(ng, fmt.Sprintf("%s-%d", prefix, i), es.a[k], es.b[k], *secure)
			if err != nil {
				return fmt.Errorf("call %d: %w", i, err)
			}
			cs = append(cs, c)
		}
	}
	cpu0, self0, wall0 := cpuTicks(*pid), cpuTicks(os.Getpid()), time.Now()
	res := blast(cs, es, *dur)
	selfCPU := float64(cpuTicks(os.Getpid())-self0) / 100 / time.Since(wall0).Seconds() * 100
	cpuSec := float64(cpuTicks(*pid)-cpu0) / 100
	cpu := cpuSec / time.Since(wall0).Seconds() * 100
	perPkt := time.Duration(cpuSec / float64(max(res.recv, 1)) * float64(time.Second))
	mode := "rtp-rtp"
	if *secure {
		mode = "rtp-srtp"
	}
	loss := 100 * (1 - float64(res.recv)/float64(max(res.sent, 1)))
	fmt.Printf("%-9s %-8s calls=%-5d pps=%-7d sent=%-8d recv_a=%-8d recv_b=%-8d loss=%.3f%% "+
		"p50=%v p99=%v p99.9=%v relay_cpu=%.0f%% relay_cpu_per_pkt=%v load_cpu=%.0f%% "+
		"load=%s\n", *name, mode,
		*calls, int(float64(res.sent)/dur.Seconds()), res.sent, res.recvDir[0], res.recvDir[1],
		loss, res.hist.quantile(0.5), res.hist.quantile(0.99), res.hist.quantile(0.999), cpu,
		perPkt, selfCPU, loadavg())

	return nil
}
