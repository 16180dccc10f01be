package main

// gatewayd from the outside: `status --json` (RSS samples, the final event counters),
// `reload` every -reload-every, and `crash:` every -crash-every.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// ---------------------------------------------------------------- status --json

// status is the part of `gatewayd status --json` the soak reads. Details values are strings
// (e.g. "events_lost": "1" on a gateway, present once non-zero).
type status struct {
	Processes []struct {
		Role     string                 `json:"role"`
		Index    int                    `json:"index"`
		Pid      int                    `json:"pid"`
		State    string                 `json:"state"`
		RSS      int64                  `json:"rss_bytes"`
		Restarts int                    `json:"restarts"`
		Details  map[string]interface{} `json:"details"`
	} `json:"processes"`
	Exits map[string]int `json:"exits"`
}

// sumDetail adds up a numeric detail (a string or a number) over the processes of one role.
func (s *status) sumDetail(role, key string) int64 {
	var n int64
	for _, p := range s.Processes {
		if p.Role != role {
			continue
		}
		switch v := p.Details[key].(type) {
		case string:
			i, _ := strconv.ParseInt(v, 10, 64)
			n += i
		case float64:
			n += int64(v)
		}
	}
	return n
}

func runGatewayd(cfg config, timeout time.Duration, args ...string) (stdout, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cfg.gatewayd, append(args, "--run-dir", cfg.runDir)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.Bytes(), errOut.Bytes(), err
}

func readStatus(cfg config) (*status, error) {
	out, errOut, err := runGatewayd(cfg, 30*time.Second, "status", "--json")
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(string(errOut)))
	}
	var s status
	if err := json.Unmarshal(out, &s); err != nil {
		return nil, fmt.Errorf("status --json: %v", err)
	}
	return &s, nil
}

// ---------------------------------------------------------------- RSS sampler

// rssSample is one status reading: RSS in bytes per series.
type rssSample struct {
	T      float64          // seconds since the start
	Values map[string]int64 // series name -> bytes
}

// seriesName maps a process to its plotted series: master, register, gateway <i>, and one
// series for the workers (the largest live one, since every reload replaces them).
func seriesName(role string, index int) string {
	switch role {
	case "worker":
		return "workers max"
	case "gateway":
		return fmt.Sprintf("gateway %d", index)
	default:
		if index == 0 {
			return role
		}
		return fmt.Sprintf("%s %d", role, index)
	}
}

// seriesRank orders the series: master, register, gateways, workers.
func seriesRank(name string) string {
	switch {
	case strings.HasPrefix(name, "master"):
		return "0" + name
	case strings.HasPrefix(name, "register"):
		return "1" + name
	case strings.HasPrefix(name, "gateway"):
		return fmt.Sprintf("2%08s", name) // gateway 10 after gateway 9
	case strings.HasPrefix(name, "workers"):
		return "3" + name
	}
	return "4" + name
}

type sampler struct {
	cfg      config
	csv      *os.File
	mu       sync.Mutex
	samples  []rssSample
	failures int
}

func newSampler(cfg config) (*sampler, error) {
	f, err := os.Create(filepath.Join(cfg.out, "rss.csv"))
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(f, "elapsed_s,role,index,pid,rss_bytes")
	return &sampler{cfg: cfg, csv: f}, nil
}

// run samples at once, then every -sample-every, and a last time once stop is closed.
func (s *sampler) run(stop <-chan struct{}) {
	defer s.csv.Close()
	tick := time.NewTicker(s.cfg.sampleEvery)
	defer tick.Stop()
	s.sample()
	for {
		select {
		case <-stop:
			s.sample()
			return
		case <-tick.C:
			s.sample()
		}
	}
}

func (s *sampler) sample() {
	t := elapsed().Seconds()
	st, err := readStatus(s.cfg)
	if err != nil {
		s.mu.Lock()
		s.failures++
		s.mu.Unlock()
		sample("status: %v", err)
		return
	}
	values := map[string]int64{}
	for _, p := range st.Processes {
		fmt.Fprintf(s.csv, "%.1f,%s,%d,%d,%d\n", t, p.Role, p.Index, p.Pid, p.RSS)
		name := seriesName(p.Role, p.Index)
		if p.RSS > values[name] {
			values[name] = p.RSS
		}
	}
	s.mu.Lock()
	s.samples = append(s.samples, rssSample{T: t, Values: values})
	s.mu.Unlock()
}

func (s *sampler) snapshot() []rssSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]rssSample(nil), s.samples...)
}

// series lists the series names seen, in plot order.
func (s *sampler) series() []string {
	seen := map[string]bool{}
	var names []string
	for _, smp := range s.snapshot() {
		for name := range smp.Values {
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
	}
	sort.Slice(names, func(i, j int) bool { return seriesRank(names[i]) < seriesRank(names[j]) })
	return names
}

// lastLine is the latest sample as one line of MB per series.
func (s *sampler) lastLine() string {
	smps := s.snapshot()
	if len(smps) == 0 {
		return "RSS: no sample yet"
	}
	last := smps[len(smps)-1]
	var parts []string
	for _, name := range s.series() {
		if v, ok := last.Values[name]; ok {
			parts = append(parts, fmt.Sprintf("%s %.1f", name, float64(v)/1e6))
		}
	}
	return "RSS MB: " + strings.Join(parts, ", ")
}

// ---------------------------------------------------------------- reloads and crashes

type reloadResult struct {
	At       float64 `json:"at_s"`
	Seconds  float64 `json:"seconds"` // wall time of the reload command
	OK       bool    `json:"ok"`
	Replaced int     `json:"replaced"`
	Killed   int     `json:"killed"`
	Output   string  `json:"output,omitempty"` // on failure
}

type controller struct {
	cfg           config
	mu            sync.Mutex
	reloads       []reloadResult
	reloadsOK     int
	reloadsFailed int
	crashes       int
	crashTimes    []float64
	crashChecks   int // echoes right after a crash answered correctly
	crashCheckBad int
}

func newController(cfg config) *controller { return &controller{cfg: cfg} }

// run performs the reloads (at every multiple of -reload-every) and the crashes (at half of
// -crash-every, then every -crash-every) one at a time in time order; when both fall at the
// same moment the reload goes first and the crash follows as soon as it has returned.
func (ctl *controller) run(stop <-chan struct{}) {
	// The crash client: its own connection, which must survive the crash of its worker.
	var crasher *conn
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer func() {
		if crasher != nil {
			crasher.close(ctl.cfg.timeout)
		}
	}()

	never := time.Duration(1<<62 - 1)
	nextReload, nextCrash := never, never
	if ctl.cfg.reloadEvery > 0 {
		nextReload = ctl.cfg.reloadEvery
	}
	if ctl.cfg.crashEvery > 0 {
		nextCrash = ctl.cfg.crashEvery / 2
		for {
			c, err := dial(ctl.cfg.url, "crash client")
			if err == nil {
				crasher = c
				break
			}
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	for {
		next := nextReload
		if nextCrash < next {
			next = nextCrash
		}
		if next >= ctl.cfg.duration {
			<-stop
			return
		}
		select {
		case <-stop:
			return
		case <-time.After(next - elapsed()):
		}
		if next == nextReload {
			ctl.reload()
			nextReload += ctl.cfg.reloadEvery
		} else {
			if crasher != nil { // nil only once the run is stopping
				crasher = ctl.crash(crasher, timer, stop)
			}
			nextCrash += ctl.cfg.crashEvery
		}
	}
}

func (ctl *controller) reload() {
	at := elapsed().Seconds()
	t0 := time.Now()
	out, errOut, err := runGatewayd(ctl.cfg, 2*time.Minute, "reload", "--json")
	r := reloadResult{At: at, Seconds: time.Since(t0).Seconds(), OK: err == nil}
	if err == nil {
		var doc struct {
			Replaced int `json:"replaced"`
			Killed   int `json:"killed"`
		}
		if jerr := json.Unmarshal(out, &doc); jerr == nil {
			r.Replaced, r.Killed = doc.Replaced, doc.Killed
		}
	} else {
		r.Output = strings.TrimSpace(fmt.Sprintf("%v: %s %s", err, out, errOut))
		fmt.Printf("soak: %s: reload FAILED: %s\n", fmtElapsed(elapsed()), r.Output)
	}
	ctl.mu.Lock()
	ctl.reloads = append(ctl.reloads, r)
	if r.OK {
		ctl.reloadsOK++
	} else {
		ctl.reloadsFailed++
	}
	ctl.mu.Unlock()
}

// crash sends `crash:` (its worker dies; the gateway counts that one event as lost), then one
// echo a second later on the same connection, which a live worker must answer. It returns the
// connection to use next time (a new one if this one had to be replaced).
func (ctl *controller) crash(c *conn, timer *time.Timer, stop <-chan struct{}) *conn {
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte("crash:")); err != nil {
		noteError("crash client: write crash: %v", err)
		return c
	}
	ctl.mu.Lock()
	ctl.crashes++
	n := ctl.crashes
	ctl.crashTimes = append(ctl.crashTimes, elapsed().Seconds())
	ctl.mu.Unlock()
	fmt.Printf("soak: %s: crash %d sent\n", fmtElapsed(elapsed()), n)
	time.Sleep(time.Second)
	m := fmt.Sprintf("echo:after-crash-%d", n)
	alive, right := c.request(m, m, ctl.cfg.timeout, timer)
	ctl.mu.Lock()
	if right {
		ctl.crashChecks++
	} else {
		ctl.crashCheckBad++
	}
	ctl.mu.Unlock()
	if !alive {
		c.close(ctl.cfg.timeout)
		for {
			nc, err := dial(ctl.cfg.url, "crash client")
			if err == nil {
				return nc
			}
			select {
			case <-stop:
				return nil
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	return c
}
