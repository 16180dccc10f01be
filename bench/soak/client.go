package main

// The load: request-sending clients, the broadcaster, churn, and per-connection broadcast
// tracking.

import (
	"fmt"
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// ---------------------------------------------------------------- counters

// stats are the run's counters, updated atomically from every goroutine.
var stats struct {
	sent      int64 // requests written (crash: not included)
	answered  int64 // requests answered with exactly the expected reply
	lost      int64 // requests without a reply within the timeout (or whose connection dropped)
	errors    int64 // wrong replies, unexpected closes, failed dials and writes
	wrong     int64 // ... of which wrong replies
	sessReads int64 // session read-backs answered correctly

	connections       int64 // connections opened (all clients, broadcaster and crash client)
	churned           int64 // reconnections ordered by churn
	timeoutReconnects int64 // reconnections after a lost request (the socket's state is unknown)
	dialErrors        int64
	drops             int64 // connections the server closed or broke

	bcastSent       int64 // `all:bcast:` messages written
	bcastDeliveries int64 // broadcasts received, over every connection
	bcastGaps       int64 // broadcasts a connection should have seen and did not (counted at its close)
	bcastDuplicates int64 // broadcasts a connection saw twice
	bcastReordered  int64 // broadcasts that came after a later one (not lost, but late)
	bcastSilent     int64 // connections open long enough that saw no broadcast at all
}

// errorSamples keeps the first few unexpected things verbatim for the summary.
var errorSamples struct {
	sync.Mutex
	list []string
}

const maxErrorSamples = 12

func noteError(format string, args ...interface{}) {
	atomic.AddInt64(&stats.errors, 1)
	sample(format, args...)
}

func sample(format string, args ...interface{}) {
	errorSamples.Lock()
	defer errorSamples.Unlock()
	if len(errorSamples.list) < maxErrorSamples {
		errorSamples.list = append(errorSamples.list, fmtElapsed(elapsed())+" "+fmt.Sprintf(format, args...))
	}
}

var dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 4096}

// ---------------------------------------------------------------- broadcast log

// bcastLog remembers when each broadcast was sent, so that a connection can tell which ones it
// must have seen: every one sent after it opened (plus a second) and at least the request
// timeout before it closed.
var bcastLog struct {
	sync.Mutex
	sentAt []time.Time // sentAt[seq-1]
}

// bcastRange returns the first seq sent at or after from and the last sent at or before to
// (lo > hi when there is none).
func bcastRange(from, to time.Time) (lo, hi int64) {
	bcastLog.Lock()
	defer bcastLog.Unlock()
	s := bcastLog.sentAt
	i := sort.Search(len(s), func(i int) bool { return !s[i].Before(from) })
	j := sort.Search(len(s), func(i int) bool { return s[i].After(to) }) // first after `to`
	return int64(i) + 1, int64(j)
}

// ---------------------------------------------------------------- one connection

// tracker follows the broadcast sequence numbers one connection sees.
type tracker struct {
	first, max int64              // 0 until the first broadcast
	missing    map[int64]struct{} // skipped numbers that may still come (late)
}

func (t *tracker) see(seq int64) {
	atomic.AddInt64(&stats.bcastDeliveries, 1)
	switch {
	case t.first == 0:
		t.first, t.max = seq, seq
	case seq == t.max+1:
		t.max = seq
	case seq > t.max:
		if seq-t.max > 1_000_000 { // nonsense: do not fill a map with it
			atomic.AddInt64(&stats.bcastGaps, seq-t.max-1)
		} else {
			for s := t.max + 1; s < seq; s++ {
				t.missing[s] = struct{}{}
			}
		}
		t.max = seq
	default:
		if _, ok := t.missing[seq]; ok {
			delete(t.missing, seq)
			atomic.AddInt64(&stats.bcastReordered, 1)
		} else {
			atomic.AddInt64(&stats.bcastDuplicates, 1)
		}
	}
}

// conn is one websocket connection: its reader goroutine sorts broadcasts (into the tracker)
// from replies (into `replies`, for the goroutine that owns the connection).
type conn struct {
	name    string
	ws      *websocket.Conn
	replies chan string
	done    chan struct{} // closed when the reader has stopped
	closing int32         // set before we close it ourselves
	opened  time.Time
	t       tracker
}

func dial(url, name string) (*conn, error) {
	ws, _, err := dialer.Dial(url, nil)
	if err != nil {
		atomic.AddInt64(&stats.dialErrors, 1)
		noteError("%s: dial: %v", name, err)
		return nil, err
	}
	atomic.AddInt64(&stats.connections, 1)
	c := &conn{name: name, ws: ws, replies: make(chan string, 16), done: make(chan struct{}),
		opened: time.Now(), t: tracker{missing: map[int64]struct{}{}}}
	go c.read()
	return c, nil
}

func (c *conn) read() {
	defer close(c.done)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			if atomic.LoadInt32(&c.closing) == 0 {
				atomic.AddInt64(&stats.drops, 1)
				noteError("%s: connection closed by the server or broken: %v", c.name, err)
			}
			return
		}
		msg := string(data)
		if strings.HasPrefix(msg, "bcast:") {
			seq, err := strconv.ParseInt(msg[len("bcast:"):], 10, 64)
			if err != nil || seq <= 0 {
				noteError("%s: bad broadcast %q", c.name, msg)
				continue
			}
			c.t.see(seq)
			continue
		}
		select {
		case c.replies <- msg:
		default:
			noteError("%s: unsolicited message %q", c.name, msg)
		}
	}
}

// close closes the connection (a close frame, then the socket) and settles its broadcast
// accounts: every broadcast sent between a second after it opened and the request timeout
// before now must have arrived.
func (c *conn) close(timeout time.Duration) {
	atomic.StoreInt32(&c.closing, 1)
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
		time.Now().Add(time.Second))
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
	}
	c.ws.Close()
	<-c.done
	closed := time.Now()

	t := &c.t
	gaps := int64(len(t.missing))
	lo, hi := bcastRange(c.opened.Add(time.Second), closed.Add(-timeout))
	if lo <= hi {
		switch {
		case t.first == 0:
			gaps += hi - lo + 1
			atomic.AddInt64(&stats.bcastSilent, 1)
			sample("%s: saw no broadcast in %.0f s (expected %d..%d)", c.name, closed.Sub(c.opened).Seconds(), lo, hi)
		default:
			if t.first > lo {
				gaps += t.first - lo
			}
			if t.max < hi {
				gaps += hi - t.max
			}
		}
	}
	if gaps > 0 && t.first != 0 {
		sample("%s: %d broadcast(s) missing (saw %d..%d, expected at least %d..%d)", c.name, gaps, t.first, t.max, lo, hi)
	}
	atomic.AddInt64(&stats.bcastGaps, gaps)
}

// request sends msg and waits for exactly `want`. alive is false when the connection must be
// replaced (no reply in time, or the connection went away); right when the reply was `want`.
func (c *conn) request(msg, want string, timeout time.Duration, timer *time.Timer) (alive, right bool) {
	atomic.AddInt64(&stats.sent, 1)
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		atomic.AddInt64(&stats.lost, 1)
		noteError("%s: write %q: %v", c.name, msg, err)
		return false, false
	}
	timer.Reset(timeout)
	defer func() {
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}()
	select {
	case got := <-c.replies:
		if got == want {
			atomic.AddInt64(&stats.answered, 1)
			return true, true
		}
		atomic.AddInt64(&stats.wrong, 1)
		noteError("%s: sent %q, expected %q, got %q", c.name, msg, want, got)
		return true, false
	case <-c.done:
		atomic.AddInt64(&stats.lost, 1)
		sample("%s: no reply to %q: connection gone", c.name, msg)
		return false, false
	case <-timer.C:
		atomic.AddInt64(&stats.lost, 1)
		sample("%s: no reply to %q within %v", c.name, msg, timeout)
		return false, false
	}
}

// ---------------------------------------------------------------- request clients

// client is one paced request-sending connection; its expectations (rooms joined, session
// values) belong to the current connection and start empty on every new one.
type client struct {
	cfg    config
	id     int
	rng    *rand.Rand
	churn  int32 // set by churn(): reconnect before the next request
	c      *conn
	seq    int
	rooms  map[int]bool
	sess   map[string]string
	timer  *time.Timer
	next   time.Time // when the next request may go
	period time.Duration
}

func newClient(cfg config, id int) *client {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &client{cfg: cfg, id: id, rng: rand.New(rand.NewSource(cfg.seed + int64(id) + 1)), timer: t,
		period: time.Duration(float64(time.Second) / cfg.rate)}
}

// connect dials until it succeeds or the run stops, and resets the connection's expectations.
func (cl *client) connect(stop <-chan struct{}) bool {
	for {
		c, err := dial(cl.cfg.url, "client "+strconv.Itoa(cl.id))
		if err == nil {
			cl.c = c
			cl.rooms = map[int]bool{}
			cl.sess = map[string]string{}
			return true
		}
		select {
		case <-stop:
			return false
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (cl *client) reconnect(stop <-chan struct{}) bool {
	cl.c.close(cl.cfg.timeout)
	return cl.connect(stop)
}

func (cl *client) run(stop <-chan struct{}) {
	// Spread the first requests over one period so that the clients do not move in step.
	time.Sleep(time.Duration(cl.rng.Int63n(int64(cl.period))))
	if !cl.connect(stop) {
		return
	}
	cl.next = time.Now()
	for {
		select {
		case <-stop:
			cl.c.close(cl.cfg.timeout)
			return
		default:
		}
		if atomic.CompareAndSwapInt32(&cl.churn, 1, 0) {
			atomic.AddInt64(&stats.churned, 1)
			if !cl.reconnect(stop) {
				return
			}
		}
		if !cl.step() {
			atomic.AddInt64(&stats.timeoutReconnects, 1)
			if !cl.reconnect(stop) {
				return
			}
		}
	}
}

// pace sleeps until the next request slot (never bursting to catch up).
func (cl *client) pace() {
	now := time.Now()
	if d := cl.next.Sub(now); d > 0 {
		time.Sleep(d)
	} else if -d > cl.period {
		cl.next = now
	}
	cl.next = cl.next.Add(cl.period)
}

func (cl *client) ask(msg, want string) (alive, right bool) {
	cl.pace()
	return cl.c.request(msg, want, cl.cfg.timeout, cl.timer)
}

// step sends one weighted random request (two for a session update) and checks the replies.
func (cl *client) step() bool {
	cl.seq++
	r := cl.rng.Intn(100)
	switch {
	case r < 70: // echo
		m := fmt.Sprintf("echo:c%d-%d", cl.id, cl.seq)
		alive, _ := cl.ask(m, m)
		return alive
	case r < 85: // join a room, or leave one (more likely the more rooms it is in)
		room := cl.rng.Intn(cl.cfg.rooms)
		g := fmt.Sprintf("room%d", room)
		if cl.rooms[room] {
			alive, _ := cl.ask("leave:"+g, "left:"+g)
			delete(cl.rooms, room)
			return alive
		}
		alive, _ := cl.ask("join:"+g, "joined:"+g)
		cl.rooms[room] = true
		return alive
	default: // session: set one of five keys, then read back one set on this connection
		k := fmt.Sprintf("k%d", cl.rng.Intn(5))
		v := fmt.Sprintf("v%d", cl.seq)
		if alive, _ := cl.ask("sess:"+k+"="+v, "sess:ok"); !alive {
			return false
		}
		cl.sess[k] = v
		keys := make([]string, 0, len(cl.sess))
		for key := range cl.sess {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		rk := keys[cl.rng.Intn(len(keys))]
		alive, right := cl.ask("getsess:"+rk, "sess:"+rk+"="+cl.sess[rk])
		if right {
			atomic.AddInt64(&stats.sessReads, 1)
		}
		return alive
	}
}

// churn tells churnPct % of the clients (at least one), picked at random, to reconnect, once a
// second.
func churn(cfg config, clients []*client, stop <-chan struct{}) {
	n := int(float64(len(clients))*cfg.churnPct/100 + 0.5)
	if n < 1 {
		n = 1
	}
	rng := rand.New(rand.NewSource(cfg.seed))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			for _, i := range rng.Perm(len(clients))[:n] {
				atomic.StoreInt32(&clients[i].churn, 1)
			}
		}
	}
}

// ---------------------------------------------------------------- broadcaster

type broadcaster struct {
	cfg config
}

func newBroadcaster(cfg config) *broadcaster { return &broadcaster{cfg: cfg} }

// run sends `all:bcast:<seq>` every 100 ms; the plugin sends `bcast:<seq>` to every client.
func (b *broadcaster) run(stop <-chan struct{}) {
	var c *conn
	connect := func() bool {
		for {
			var err error
			if c, err = dial(b.cfg.url, "broadcaster"); err == nil {
				return true
			}
			select {
			case <-stop:
				return false
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	if !connect() {
		return
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var seq int64
	for {
		select {
		case <-stop:
			c.close(b.cfg.timeout)
			return
		case <-tick.C:
		}
		seq++
		bcastLog.Lock()
		bcastLog.sentAt = append(bcastLog.sentAt, time.Now())
		bcastLog.Unlock()
		if err := c.ws.WriteMessage(websocket.TextMessage, []byte("all:bcast:"+strconv.FormatInt(seq, 10))); err != nil {
			// The seq counts as sent: the connections will report it missing.
			noteError("broadcaster: write: %v", err)
			c.close(b.cfg.timeout)
			if !connect() {
				return
			}
			continue
		}
		atomic.AddInt64(&stats.bcastSent, 1)
		select {
		case m := <-c.replies:
			noteError("broadcaster: unexpected reply %q", m)
		default:
		}
	}
}
