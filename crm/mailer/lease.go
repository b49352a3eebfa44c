package mailer

import (
	"context"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/crm"
)

// leaseKeeper holds the lease of a claimed batch while the worker sends it: every Lease/3 it renews the lease
// of the messages not yet finished, so a slow message or a long batch is never claimed by another worker
// meanwhile, however short the lease. A worker that dies stops renewing, and its messages are free one Lease
// after the last renewal. When the lease cannot be renewed (the database is failing) its context ends a
// quarter of a lease before the lease would, cutting off the message being sent and stopping the batch: past
// that point another worker may claim it.
type leaseKeeper struct {
	w *Worker
	// ctx ends when the lease can no longer be vouched for; every send runs under it.
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	held  map[int64]bool // claimed, not yet finished, not lost
	until time.Time      // the lease end stored for the held messages
	watch *time.Timer

	stop chan struct{}
	done chan struct{}
}

// keepLease starts renewing the lease of msgs, claimed until until. base is the context of the worker's
// outcomes (it outlives a shutdown, which must not cut off the message being sent). Call close when the batch
// is done.
func (w *Worker) keepLease(base context.Context, msgs []crm.OutboxMessage, until time.Time) *leaseKeeper {
	ctx, cancel := context.WithCancel(base)
	k := &leaseKeeper{w: w, ctx: ctx, cancel: cancel, held: make(map[int64]bool, len(msgs)), until: until,
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, m := range msgs {
		k.held[m.ID] = true
	}
	k.watch = time.AfterFunc(k.margin(until), k.expire)
	go k.renew(base)
	return k
}

// margin is how long from now the lease may still be relied on: until less a quarter of a lease.
func (k *leaseKeeper) margin(until time.Time) time.Duration {
	return until.Sub(k.w.cfg.Now()) - k.w.cfg.Lease/4
}

func (k *leaseKeeper) expire() {
	k.w.log.Error("mail worker: the lease of the batch could not be renewed; stopping it, its mail is sent later")
	k.cancel()
}

// renew renews the lease every Lease/3 until close.
func (k *leaseKeeper) renew(ctx context.Context) {
	defer close(k.done)
	tick := time.NewTicker(k.w.cfg.Lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-tick.C:
		}
		k.mu.Lock()
		ids := make([]int64, 0, len(k.held))
		for id := range k.held {
			ids = append(ids, id)
		}
		held := k.until
		k.mu.Unlock()
		if len(ids) == 0 || k.ctx.Err() != nil {
			continue
		}
		until := k.w.cfg.Now().Add(k.w.cfg.Lease)
		renewed, err := k.w.store.RenewLease(ctx, ids, held, until)
		if err != nil {
			k.w.log.Warn("mail worker: renew lease", "error", err)
			continue // the watch timer ends the batch if this goes on
		}
		ok := make(map[int64]bool, len(renewed))
		for _, id := range renewed {
			ok[id] = true
		}
		k.mu.Lock()
		lost := 0
		for _, id := range ids {
			if !ok[id] && k.held[id] {
				// Not finished by this worker, yet no longer under its lease: another worker has it.
				delete(k.held, id)
				lost++
			}
		}
		k.until = until
		if k.ctx.Err() == nil {
			k.watch.Reset(k.margin(until))
		}
		k.mu.Unlock()
		if lost > 0 {
			k.w.log.Error("mail worker: lost the lease of messages it was sending; stopping the batch", "count", lost)
			k.cancel()
		}
	}
}

// take marks message id finished, so its lease is no longer renewed, and reports whether the worker still held
// it: when it did not, another worker has the message and this one must not record an outcome for it. Call it
// before recording the outcome.
func (k *leaseKeeper) take(id int64) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	ok := k.held[id]
	delete(k.held, id)
	return ok
}

// close stops renewing.
func (k *leaseKeeper) close() {
	close(k.stop)
	<-k.done
	k.watch.Stop()
	k.cancel()
}
