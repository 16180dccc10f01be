// soak — a long mixed-load run against a live gatewayd (issue 15, item 4). Not for CI.
//
// What it measures, against a gatewayd already running with the C conformance plugin
// (plugins/conformance-c; bench/soak/run.sh starts one and calls this program):
//
//   - mixed load: -clients connections, each paced at -rate requests a second with one request
//     outstanding at a time: echo (most), join/leave a room among -rooms, a session update
//     followed by a read-back of a key set earlier on the same connection (the session lives on
//     the gateway, so this checks state across reloads and crashes). Every reply must be exactly
//     the one expected; no reply within -timeout counts as lost, any other reply as an error;
//   - broadcasts: one more connection sends `all:bcast:<seq>` every 100 ms; every connection must
//     see the sequence numbers without a gap (lost delivery) or a repeat (duplicate) while it
//     stays open;
//   - churn: every second -churn-pct % of the clients (at least one) close and reconnect;
//   - `gatewayd reload` every -reload-every (each must exit 0 and kill no worker at the drain
//     timeout), and a worker crash (`crash:`) every -crash-every, the first at half that;
//     at the end the gateways' `events_lost` must equal the number of crashes;
//   - the RSS of every process (`gatewayd status --json`) every -sample-every, written to
//     rss.csv and plotted to rss.png; per role series (master, register, each gateway, the
//     largest live worker) the median of minutes 3-6 is compared with the median of the last
//     3 minutes: growth must stay within 5 % (no verdict on runs shorter than 10 minutes).
//
// It writes summary.json, rss.csv and rss.png to -out, prints a summary with PASS/FAIL per
// criterion and exits 1 when one fails.
//
// Build (offline, GOPATH mode, Debian's gorilla/websocket) and run: see run.sh, or
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=/tmp/soak-gocache go build -o /tmp/soak .
//	/tmp/soak -url ws://127.0.0.1:PORT/ -run-dir RUN -gatewayd .build-release/release/gatewayd \
//	    -duration 30m -clients 200 -out bench/results/soak-DATE
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// config holds the command-line settings.
type config struct {
	url         string
	runDir      string
	gatewayd    string
	out         string
	duration    time.Duration
	clients     int
	rate        float64 // requests per second per client
	rooms       int
	churnPct    float64
	timeout     time.Duration
	reloadEvery time.Duration
	crashEvery  time.Duration
	sampleEvery time.Duration
	seed        int64
}

func parseFlags() config {
	var c config
	flag.StringVar(&c.url, "url", "ws://127.0.0.1:7272/", "gatewayd websocket URL")
	flag.StringVar(&c.runDir, "run-dir", "", "gatewayd run directory (for reload and status)")
	flag.StringVar(&c.gatewayd, "gatewayd", "gatewayd", "path of the gatewayd binary")
	flag.StringVar(&c.out, "out", "soak-out", "directory for summary.json, rss.csv and rss.png")
	flag.DurationVar(&c.duration, "duration", 30*time.Minute, "length of the run")
	flag.IntVar(&c.clients, "clients", 200, "request-sending client connections")
	flag.Float64Var(&c.rate, "rate", 20, "requests per second per client")
	flag.IntVar(&c.rooms, "rooms", 10, "rooms the clients join and leave")
	flag.Float64Var(&c.churnPct, "churn-pct", 1, "percent of the clients that reconnect every second (at least one)")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Second, "a request without its reply after this long is lost")
	flag.DurationVar(&c.reloadEvery, "reload-every", 30*time.Second, "interval between `gatewayd reload`s (0 = none)")
	flag.DurationVar(&c.crashEvery, "crash-every", 5*time.Minute, "interval between worker crashes, the first at half of it (0 = none)")
	flag.DurationVar(&c.sampleEvery, "sample-every", 10*time.Second, "interval between RSS samples")
	flag.Int64Var(&c.seed, "seed", time.Now().UnixNano(), "random seed")
	flag.Parse()
	if c.runDir == "" {
		fmt.Fprintln(os.Stderr, "soak: -run-dir is required")
		os.Exit(2)
	}
	if c.clients < 1 || c.rate <= 0 {
		fmt.Fprintln(os.Stderr, "soak: -clients and -rate must be positive")
		os.Exit(2)
	}
	return c
}

// start is the zero of every elapsed time the program reports.
var start time.Time

func elapsed() time.Duration { return time.Since(start) }

func main() {
	cfg := parseFlags()
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		fatalf("%v", err)
	}
	if _, err := readStatus(cfg); err != nil {
		fatalf("gatewayd status: %v", err)
	}
	fmt.Printf("soak: %v, %d clients at %.0f req/s, churn %.1f %%/s, reload every %v, crash every %v (first at %v), RSS every %v\n",
		cfg.duration, cfg.clients, cfg.rate, cfg.churnPct, cfg.reloadEvery, cfg.crashEvery, cfg.crashEvery/2, cfg.sampleEvery)
	fmt.Printf("soak: url %s, run-dir %s, out %s, seed %d\n", cfg.url, cfg.runDir, cfg.out, cfg.seed)

	start = time.Now()
	sampler, err := newSampler(cfg)
	if err != nil {
		fatalf("%v", err)
	}
	stop := make(chan struct{}) // closed when the load phase ends

	// The RSS sampler runs until the very end (it takes one last sample after the load).
	var samplerWG sync.WaitGroup
	samplerWG.Add(1)
	go func() { defer samplerWG.Done(); sampler.run(stop) }()

	// Load: the broadcaster first, so the clients' broadcast tracking has something to see.
	var loadWG sync.WaitGroup
	bc := newBroadcaster(cfg)
	loadWG.Add(1)
	go func() { defer loadWG.Done(); bc.run(stop) }()

	clients := make([]*client, cfg.clients)
	for i := range clients {
		clients[i] = newClient(cfg, i)
		loadWG.Add(1)
		go func(c *client) { defer loadWG.Done(); c.run(stop) }(clients[i])
	}
	loadWG.Add(1)
	go func() { defer loadWG.Done(); churn(cfg, clients, stop) }()

	// Reloads and crashes, one at a time, in time order.
	ctl := newController(cfg)
	loadWG.Add(1)
	go func() { defer loadWG.Done(); ctl.run(stop) }()

	// Progress once a minute until the end.
	deadline := time.NewTimer(cfg.duration)
	progress := time.NewTicker(time.Minute)
wait:
	for {
		select {
		case <-deadline.C:
			break wait
		case <-progress.C:
			printProgress(ctl, sampler)
		}
	}
	progress.Stop()
	fmt.Printf("soak: %s: load done, waiting for the last replies\n", fmtElapsed(elapsed()))
	close(stop)
	loadWG.Wait()
	samplerWG.Wait() // its last sample comes after the load stopped

	final, err := readStatus(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "soak: final status: %v\n", err)
	}
	sum := summarize(cfg, ctl, sampler, final)
	if err := writeJSON(filepath.Join(cfg.out, "summary.json"), sum); err != nil {
		fmt.Fprintf(os.Stderr, "soak: %v\n", err)
	}
	if err := plotRSS(filepath.Join(cfg.out, "rss.png"), sampler, ctl, cfg.duration); err != nil {
		fmt.Fprintf(os.Stderr, "soak: plot: %v\n", err)
	}
	printSummary(cfg, sum)
	if !sum.Pass {
		os.Exit(1)
	}
}

func printProgress(ctl *controller, s *sampler) {
	ctl.mu.Lock()
	reloadsOK, reloadsFailed, crashes := ctl.reloadsOK, ctl.reloadsFailed, ctl.crashes
	ctl.mu.Unlock()
	fmt.Printf("soak: %s: sent %d ok %d lost %d errors %d | broadcast deliveries %d gaps %d (closed connections) dup %d | churned %d | reloads %d ok %d failed | crashes %d | %s\n",
		fmtElapsed(elapsed()), atomic.LoadInt64(&stats.sent), atomic.LoadInt64(&stats.answered),
		atomic.LoadInt64(&stats.lost), atomic.LoadInt64(&stats.errors),
		atomic.LoadInt64(&stats.bcastDeliveries), atomic.LoadInt64(&stats.bcastGaps), atomic.LoadInt64(&stats.bcastDuplicates),
		atomic.LoadInt64(&stats.churned), reloadsOK, reloadsFailed, crashes, s.lastLine())
}

func fmtElapsed(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%2d:%02d", s/60, s%60)
}

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "soak: "+format+"\n", args...)
	os.Exit(2)
}
