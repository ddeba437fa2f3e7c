package media

import (
	"github.com/prometheus/client_golang/prometheus"
)

// collector exposes engine metrics computed at scrape time from the
// per-leg atomic counters, so the packet path never touches Prometheus.
// Counters sum ended sessions and live ones; a session ending during a
// scrape may be counted in neither or both for that one scrape.
type collector struct {
	e        *Engine
	active   *prometheus.Desc
	sessions *prometheus.Desc
	timeouts *prometheus.Desc
	ports    *prometheus.Desc
	packets  *prometheus.Desc
	bytes    *prometheus.Desc
	lost     *prometheus.Desc
	dropped  *prometheus.Desc
}

func newCollector(e *Engine) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("patchbay_media_"+name, help, labels, nil)
	}

	return &collector{
		e:        e,
		active:   d("sessions_active", "Media sessions open now.", "mode"),
		sessions: d("sessions_total", "Media sessions ended.", "mode"),
		timeouts: d("timeouts_total", "Media sessions ended by the media timeout."),
		ports:    d("port_pairs", "Port pairs by state.", "state"),
		packets: d("packets_total", "RTP packets relayed per leg and direction.",
			"leg", "direction"),
		bytes:   d("bytes_total", "RTP bytes per leg and direction.", "leg", "direction"),
		lost:    d("packets_lost_total", "RTP packets lost from the endpoint, per leg.", "leg"),
		dropped: d("dropped_total", "Packets dropped per leg and reason.", "leg", "reason"),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.active, c.sessions, c.timeouts, c.ports,
		c.packets, c.bytes, c.lost, c.dropped} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	e := c.e
	e.mu.Lock()
	totals := e.totals
	live := make([]*Session, 0, len(e.sessions))
	for s := range e.sessions {
		live = append(live, s)
	}
	e.mu.Unlock()
	var activeByMode [2]int
	legs := totals.legs
	for _, s := range live {
		st := s.Stats()
		activeByMode[st.Mode]++
		for i := range legs {
			addLegStats(&legs[i], st.Legs[i])
		}
	}
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	for m, mode := range []Mode{ModeRelay, ModePeerToPeer} {
		ch <- prometheus.MustNewConstMetric(c.active, gauge, float64(activeByMode[m]),
			mode.String())
		ch <- prometheus.MustNewConstMetric(c.sessions, counter, float64(totals.modeCount[m]),
			mode.String())
	}
	ch <- prometheus.MustNewConstMetric(c.timeouts, counter, float64(totals.timeouts))
	inUse, free := e.pool.counts()
	ch <- prometheus.MustNewConstMetric(c.ports, gauge, float64(inUse), "in_use")
	ch <- prometheus.MustNewConstMetric(c.ports, gauge, float64(free), "free_or_quarantined")
	for i, l := range legs {
		leg := Leg(i).String()
		ch <- prometheus.MustNewConstMetric(c.packets, counter, float64(l.PacketsIn), leg, "in")
		ch <- prometheus.MustNewConstMetric(c.packets, counter, float64(l.PacketsOut), leg, "out")
		ch <- prometheus.MustNewConstMetric(c.bytes, counter, float64(l.BytesIn), leg, "in")
		ch <- prometheus.MustNewConstMetric(c.bytes, counter, float64(l.BytesOut), leg, "out")
		ch <- prometheus.MustNewConstMetric(c.lost, counter, float64(l.PacketsLost), leg)
		for reason, v := range map[string]uint64{"source": l.DroppedSource,
			"srtp_auth": l.DroppedAuth, "srtp_replay": l.DroppedReplay, "other": l.DroppedOther} {
			ch <- prometheus.MustNewConstMetric(c.dropped, counter, float64(v), leg, reason)
		}
	}
}

var _ prometheus.Collector = (*collector)(nil)
