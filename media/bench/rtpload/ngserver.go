package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"

	"github.com/patchbay/patchbay/media"
)

// ngServer answers the subset of rtpengine's ng control protocol the
// load test uses (ping, offer, answer, delete) with a media.Engine, so
// one client drives Patchbay and rtpengine the same way.
type ngServer struct {
	e *media.Engine

	// mu guards calls.
	mu    sync.Mutex
	calls map[string]*media.Session
}

func serveNG(ctx context.Context, listen string, lo, hi int) error {
	e, err := media.NewEngine(media.Config{PortMin: lo, PortMax: hi,
		Quarantine: 1, MediaTimeout: -1,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{
			Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	defer e.Close()
	conn, err := net.ListenPacket("udp", listen)
	if err != nil {
		return fmt.Errorf("rtpload: listen ng: %w", err)
	}
	go func() {
		<-ctx.Done()
		_ = conn.Close()
	}()
	s := &ngServer{e: e, calls: map[string]*media.Session{}}
	buf := make([]byte, 65536)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return nil
		}
		cookie, body, ok := bytes.Cut(buf[:n], []byte(" "))
		if !ok {
			continue
		}
		reply := s.handle(body)
		out := append(append(append([]byte{}, cookie...), ' '), encodeBencode(nil, reply)...)
		_, _ = conn.WriteTo(out, from)
	}
}

func (s *ngServer) handle(body []byte) map[string]any {
	v, _, err := decodeBencode(body)
	req, ok := v.(map[string]any)
	if err != nil || !ok {
		return map[string]any{"result": "error", "error-reason": "bad bencode"}
	}
	cmd, _ := req["command"].(string)
	callID, _ := req["call-id"].(string)
	sdp, _ := req["sdp"].(string)
	var out []byte
	switch cmd {
	case "ping":
		return map[string]any{"result": "pong"}
	case "offer":
		var sess *media.Session
		if sess, err = s.session(callID, req); err == nil {
			out, err = sess.Offer(media.LegA, []byte(sdp))
		}
	case "answer":
		if sess := s.lookup(callID); sess != nil {
			out, err = sess.Answer(media.LegB, []byte(sdp))
		} else {
			err = fmt.Errorf("unknown call-id")
		}
	case "delete":
		s.mu.Lock()
		sess := s.calls[callID]
		delete(s.calls, callID)
		s.mu.Unlock()
		if sess != nil {
			_ = sess.Close()
		}

		return map[string]any{"result": "ok"}
	default:
		err = fmt.Errorf("unsupported command %q", cmd)
	}
	if err != nil {
		return map[string]any{"result": "error", "error-reason": err.Error()}
	}

	return map[string]any{"result": "ok", "sdp": string(out)}
}

// session returns the call's session, creating it with leg B secure
// when the offer asks for transport-protocol RTP/SAVP.
func (s *ngServer) session(callID string, req map[string]any) (*media.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess, ok := s.calls[callID]; ok {
		return sess, nil
	}
	opts := media.SessionOptions{CallID: callID}
	if tp, _ := req["transport-protocol"].(string); tp == "RTP/SAVP" {
		opts.SRTP[media.LegB] = media.SRTPRequire
	}
	sess, err := s.e.NewSession(opts)
	if err != nil {
		return nil, err
	}
	s.calls[callID] = sess

	return sess, nil
}

func (s *ngServer) lookup(callID string) *media.Session {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.calls[callID]
}
