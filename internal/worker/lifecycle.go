package worker

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"wsgid/internal/errorlog"
	"wsgid/internal/protocol"
	"wsgid/internal/worker/state"
)

// Restart back-off after a process dies: 100ms doubling to 10s, reset
// once a process stayed up 10s.
const minBackoff, maxBackoff = 100 * time.Millisecond, 10 * time.Second

// lifetime returns a new process's maximum-requests count and
// restart-interval deadline, each stretched by up to 10% at random so
// that the processes of a group, started together, are not all
// recycled together.
func (c *GroupConfig) lifetime(since time.Time) (limit uint64, restartAt time.Time) {
	if n := c.MaximumRequests; n > 0 {
		limit = uint64(n)
		if n >= 10 {
			limit += uint64(rand.IntN(n/10 + 1))
		}
	}
	if d := c.RestartInterval; d > 0 {
		restartAt = since.Add(d + time.Duration(rand.Int64N(int64(d/10)+1)))
	}
	return limit, restartAt
}

// supervise keeps slot p running until the group closes: it restarts a
// process that exits (with back-off) and replaces one that is recycled.
func (g *Group) supervise(p *proc, r *run) {
	defer g.wg.Done()
	backoff := minBackoff
	for {
		if r != nil {
			if g.await(p, r) {
				// Recycled: start the successor now, and retire the old
				// process once the successor is ready.
				next, err := g.startProc(p)
				if err != nil {
					g.log.Log(errorlog.Error, "wsgi", "", "starting a successor in group '%s': %v", g.cfg.Name, err)
					g.noteFailure(err)
					next = nil
				}
				g.wg.Add(1)
				go g.retire(r, next)
				if r = next; r != nil {
					g.mu.Lock()
					p.restarts++
					g.mu.Unlock()
					continue
				}
			} else if time.Since(r.start) >= maxBackoff {
				backoff = minBackoff
			}
		}
		select {
		case <-g.done:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
		g.mu.Lock()
		p.restarts++
		g.mu.Unlock()
		var err error
		if r, err = g.startProc(p); err != nil {
			g.log.Log(errorlog.Error, "wsgi", "", "restarting process of group '%s': %v", g.cfg.Name, err)
			g.noteFailure(err)
			r = nil
		}
	}
}

// await waits until the current process of slot p ends, and accounts
// for it; or until it is recycled, and then returns true at once.
func (g *Group) await(p *proc, r *run) (recycled bool) {
	c := r.conn
	for {
		select {
		case <-c.readDone:
		case <-r.waitDone:
		case x := <-p.recycle:
			if x != c {
				continue
			}
			return true
		}
		break
	}
	cause, protoErr := g.reap(r)

	g.mu.Lock()
	wasDraining := c.st == state.Draining
	neverReady := c.st == state.Starting
	g.setStateLocked(c, state.Exit)
	c.accepting = false
	g.removeLiveLocked(c)
	if p.first {
		p.first = false
		close(p.readyCh)
	}
	g.mu.Unlock()

	if neverReady {
		g.noteFailure(fmt.Errorf("process %d of group '%s' exited (%s) before it was ready; see the lines above for the Python error", c.pid, g.cfg.Name, cause))
	}
	n := g.failAll(c, cause, protoErr)
	if wasDraining && !protoErr && r.cmd.ProcessState != nil && r.cmd.ProcessState.Success() {
		g.log.Log(errorlog.Info, "wsgi", "", "wsgid (pid=%d): process '%s' exited", c.pid, g.cfg.Name)
		return false
	}
	g.log.Log(errorlog.Error, "wsgi", "", "wsgid (pid=%d): process '%s' died (%s) with %d requests in flight; restarting it", c.pid, g.cfg.Name, cause, n)
	return false
}

// reap waits until the process of r has exited and its connection is
// fully read (killing it if it broke the protocol or lingers), and
// releases the connection. It returns the exit status for the log and
// whether the protocol was broken.
func (g *Group) reap(r *run) (cause string, protoErr bool) {
	c := r.conn
	select {
	case <-c.readDone:
		// Only a malformed frame is the process's fault; EOF, a reset
		// (the process died with frames unread) or a closed socket
		// mean it is gone or going.
		if errors.Is(c.readErr, protocol.ErrFrame) {
			protoErr = true
			g.log.Log(errorlog.Error, "wsgi", "", "wsgid (pid=%d): process '%s' broke the protocol, killing it: %v", c.pid, g.cfg.Name, c.readErr)
			c.kill()
			<-r.waitDone
		} else {
			select {
			case <-r.waitDone:
			case <-time.After(2 * time.Second):
				c.kill()
				<-r.waitDone
			}
		}
	case <-r.waitDone:
		select {
		case <-c.readDone:
		case <-time.After(time.Second):
			// A grandchild holds the socket open; we are done reading.
			c.uc.Close()
			<-c.readDone
		}
	}
	c.uc.Close()
	c.mr.fds.closeAll()
	cause = "unknown"
	if ps := r.cmd.ProcessState; ps != nil {
		cause = ps.String()
	}
	return cause, protoErr
}

// failAll fails the streams still in flight on c's dead process: 502,
// which the gateway may replay elsewhere (see OpenIsolated).
func (g *Group) failAll(c *conn, cause string, protoErr bool) int {
	sentinel := ErrWorkerDied
	if protoErr {
		sentinel = ErrProtocol
	}
	return c.fail(&Error{Status: 502, Group: g.cfg.Name, Pid: c.pid, Cause: cause, Err: sentinel})
}

// recycleLocked asks for c's process to be replaced gracefully, for
// reason (logged and counted). With stop, c takes no new request from
// now on; otherwise it keeps serving until its successor is ready, so
// the group loses no capacity. The successor starts at once; c finishes
// what it has in flight (bounded by GracefulTimeout) and exits.
func (g *Group) recycleLocked(c *conn, reason string, stop bool) {
	if c.retiring || c.p.conn != c || g.closing {
		return
	}
	c.retiring = true
	if g.recycled == nil {
		g.recycled = map[string]int{}
	}
	g.recycled[reason]++
	if stop {
		c.accepting = false
		g.removeLiveLocked(c)
	}
	g.retiring = append(g.retiring, c)
	g.log.Log(errorlog.Info, "wsgi", "", "wsgid (pid=%d): %s reached, replacing process '%s' gracefully", c.pid, reason, g.cfg.Name)
	select {
	case c.p.recycle <- c:
	default:
		// A stale request for an earlier process of the slot (one that
		// died before supervise saw it) must not hide this one. The
		// senders hold g.mu, so after the drain the send cannot block.
		select {
		case <-c.p.recycle:
		default:
		}
		c.p.recycle <- c
	}
}

// recycleAll replaces every process of the group, each taking no new
// request from now on (WSGIScriptReloading in a named group: the old
// code must not answer again).
func (g *Group) recycleAll(reason string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.procs {
		if c := p.conn; c != nil && c.st.Accepts() {
			g.recycleLocked(c, reason, true)
		}
	}
}

// retire ends a recycled process: once its successor next is ready (or
// has failed), it stops taking requests, is asked to finish what it has
// in flight and exit, and is killed if that takes longer than
// GracefulTimeout.
func (g *Group) retire(r *run, next *run) {
	defer g.wg.Done()
	c := r.conn
	if next != nil {
		wait := time.NewTimer(g.cfg.StartupTimeout)
		select {
		case <-next.conn.up:
		case <-next.waitDone:
		case <-r.waitDone:
		case <-wait.C:
		case <-g.done:
		}
		wait.Stop()
	}
	g.mu.Lock()
	c.accepting = false
	g.removeLiveLocked(c)
	g.setStateLocked(c, state.Drain)
	g.mu.Unlock()
	c.draining.Store(true)
	c.sendShutdown()
	grace := time.NewTimer(g.cfg.GracefulTimeout)
	select {
	case <-r.waitDone:
	case <-grace.C:
		g.log.Log(errorlog.Warn, "wsgi", "", "wsgid (pid=%d): process '%s' did not finish its requests within graceful-timeout (%v); killing it", c.pid, g.cfg.Name, g.cfg.GracefulTimeout)
		c.kill()
	}
	grace.Stop()
	cause, protoErr := g.reap(r)
	g.mu.Lock()
	g.setStateLocked(c, state.Exit)
	for i, x := range g.retiring {
		if x == c {
			g.retiring = append(g.retiring[:i], g.retiring[i+1:]...)
			break
		}
	}
	g.mu.Unlock()
	if n := g.failAll(c, cause, protoErr); n > 0 {
		g.log.Log(errorlog.Error, "wsgi", "", "wsgid (pid=%d): retired process '%s' ended (%s) with %d requests in flight", c.pid, g.cfg.Name, cause, n)
		return
	}
	g.log.Log(errorlog.Info, "wsgi", "", "wsgid (pid=%d): retired process '%s' exited", c.pid, g.cfg.Name)
}

// monitor enforces the time- and resource-based limits of the group's
// processes: request-timeout, inactivity-timeout, restart-interval,
// memory-limit and cpu-time-limit. It runs only when one is set.
func (g *Group) monitor() {
	defer g.wg.Done()
	tick := time.Second
	if t := g.cfg.RequestTimeout; t > 0 {
		tick = min(tick, max(t/4, 10*time.Millisecond))
	}
	for _, t := range []time.Duration{g.cfg.InactivityTimeout, g.cfg.DeadlockTimeout} {
		if t > 0 {
			tick = min(tick, max(t/4, 10*time.Millisecond))
		}
	}
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for {
		select {
		case <-g.done:
			return
		case <-tk.C:
		}
		g.check(time.Now())
	}
}

// check runs the monitor's tests once.
func (g *Group) check(now time.Time) {
	cfg := &g.cfg
	var current []*conn
	type expired struct {
		c *conn
		s *Stream
	}
	var timedOut []expired
	g.mu.Lock()
	if cfg.RequestTimeout > 0 {
		// A retiring process's requests keep their limit too (its
		// graceful-timeout may be longer): past it they get their 504,
		// without a second replacement.
		for _, c := range g.retiring {
			for i := range c.slots {
				if s := c.slots[i].Load(); s != nil && !s.timedOut && !s.start.IsZero() && now.Sub(s.start) > cfg.RequestTimeout {
					s.timedOut = true
					g.timeouts++
					c.draining.Store(true)
					g.log.Log(errorlog.Error, "wsgi", s.client, "wsgid (pid=%d): request ran longer than request-timeout (%v) in retiring process '%s'; answering 504", c.pid, cfg.RequestTimeout, cfg.Name)
					timedOut = append(timedOut, expired{c, s})
				}
			}
		}
	}
	for _, p := range g.procs {
		c := p.conn
		if c == nil || c.retiring || !c.st.Accepts() {
			continue
		}
		current = append(current, c)
		if cfg.RequestTimeout > 0 {
			for i := range c.slots {
				if s := c.slots[i].Load(); s != nil && !s.timedOut && !s.start.IsZero() && now.Sub(s.start) > cfg.RequestTimeout {
					g.timeoutLocked(c, s)
					timedOut = append(timedOut, expired{c, s})
				}
			}
			if c.retiring {
				continue
			}
		}
		switch {
		case cfg.InactivityTimeout > 0 && c.served > 0 && c.inflight == 0 && now.Sub(c.idleSince) >= cfg.InactivityTimeout:
			// As mod_wsgi, only a process that served something: a
			// fresh one holds nothing worth releasing.
			g.recycleLocked(c, "inactivity-timeout", false)
		case !c.restartAt.IsZero() && !now.Before(c.restartAt):
			g.recycleLocked(c, "restart-interval", false)
		}
	}
	g.mu.Unlock()
	if cfg.DeadlockTimeout > 0 {
		g.probe(current, now)
	}
	for _, x := range timedOut {
		x.c.failStream(x.s, &Error{Status: 504, Group: cfg.Name, Pid: x.c.pid, Err: ErrRequestTimeout})
	}
	if cfg.MemoryLimit <= 0 && cfg.CPUTimeLimit <= 0 {
		return
	}
	for _, c := range current {
		u, ok := usageOf(c.pid)
		if !ok {
			continue
		}
		reason := ""
		switch {
		case cfg.MemoryLimit > 0 && u.rss > cfg.MemoryLimit:
			reason = "memory-limit"
			g.log.Log(errorlog.Notice, "wsgi", "", "wsgid (pid=%d): process '%s' uses %d MiB, over its memory-limit of %d MiB", c.pid, cfg.Name, u.rss>>20, cfg.MemoryLimit>>20)
		case cfg.CPUTimeLimit > 0 && u.cpu > cfg.CPUTimeLimit:
			reason = "cpu-time-limit"
		}
		if reason != "" {
			g.mu.Lock()
			g.recycleLocked(c, reason, false)
			g.mu.Unlock()
		}
	}
}

// probe sends each process a deadlock-timeout probe, and kills one that
// left the previous probe unanswered for DeadlockTimeout: nothing in it
// can run Python any more, so its requests will never finish (they are
// failed, and replayed where that is safe) and it cannot exit by itself.
func (g *Group) probe(conns []*conn, now time.Time) {
	for _, c := range conns {
		sent := c.pingSent.Load()
		switch {
		case sent == 0:
			c.sendPing(now)
		case now.Sub(time.Unix(0, sent)) > g.cfg.DeadlockTimeout:
			g.log.Log(errorlog.Error, "wsgi", "", "wsgid (pid=%d): daemon process deadlock timer expired (%v without an answer), killing process '%s'", c.pid, g.cfg.DeadlockTimeout, g.cfg.Name)
			g.mu.Lock()
			g.deadlocks++
			g.mu.Unlock()
			c.kill()
		}
	}
}

// timeoutLocked handles stream s, which has run past request-timeout:
// the stack of every thread of the process goes to the error log and the
// process — one of whose threads is stuck — is replaced; its other
// requests may finish meanwhile. The caller then fails s with 504, after
// releasing g.mu.
func (g *Group) timeoutLocked(c *conn, s *Stream) {
	s.timedOut = true
	g.timeouts++
	g.log.Log(errorlog.Error, "wsgi", s.client, "wsgid (pid=%d): request ran longer than request-timeout (%v) in process '%s'; answering 504, logging the stacks of its threads and replacing it", c.pid, g.cfg.RequestTimeout, g.cfg.Name)
	c.draining.Store(true)
	c.sendDump()
	g.recycleLocked(c, "request-timeout", true)
}
