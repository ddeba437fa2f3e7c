package sip

import (
	"context"
	"sync"
	"sync/atomic"
)

// handlerPool runs request handlers on long-lived goroutines. sipgo starts
// a goroutine per message, with the runtime's smallest stack; a handler
// that goes deeper (digest hashing, the location store, building the
// answer, starting client transactions) makes the runtime copy that stack
// each time it doubles, which under load was about a tenth of the edge's
// CPU time. A pooled goroutine keeps the stack it has grown, so the
// requests after it run without copying.
//
// run hands a handler to an idle goroutine and waits for it to finish, so
// that the caller (sipgo, which ends the transaction when its handler
// returns) sees the same order of events as without the pool. When none is
// idle a new one starts, up to max; beyond that the handler runs on the
// caller's goroutine. Pooled goroutines end when ctx is cancelled.
type handlerPool struct {
	ctx     context.Context
	max     int32
	started atomic.Int32
	idle    chan *handlerJob
	jobs    sync.Pool // *handlerJob
}

// handlerJob is one handler to run and the signal that it has returned.
type handlerJob struct {
	fn   func()
	done chan struct{}
}

// defaultHandlerGoroutines bounds the pool: enough for the requests in
// progress at once under load (an INVITE holds its goroutine until the
// callee answers), small enough that idle stacks cost little memory.
const defaultHandlerGoroutines = 512

func newHandlerPool(ctx context.Context, max int) *handlerPool {
	p := &handlerPool{ctx: ctx, max: int32(max), idle: make(chan *handlerJob)}
	p.jobs.New = func() any { return &handlerJob{done: make(chan struct{})} }

	return p
}

// run runs fn on a pooled goroutine, or on this one when the pool is
// exhausted, and returns when fn has returned.
func (p *handlerPool) run(fn func()) {
	j := p.jobs.Get().(*handlerJob)
	j.fn = fn
	select {
	case p.idle <- j:
	default:
		if p.started.Add(1) > p.max {
			p.started.Add(-1)
			j.fn = nil
			p.jobs.Put(j)
			fn()

			return
		}
		go p.work(j)
	}
	<-j.done
	j.fn = nil
	p.jobs.Put(j)
}

// work runs j, then the jobs handed to it, until the pool's context ends.
func (p *handlerPool) work(j *handlerJob) {
	defer p.started.Add(-1)
	for {
		j.fn()
		j.done <- struct{}{}
		select {
		case j = <-p.idle:
		case <-p.ctx.Done():
			return
		}
	}
}
