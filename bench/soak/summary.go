package main

// The verdicts: summary.json and the printed summary.

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"
)

// growthLimitPct is the largest RSS growth after warm-up that passes.
const growthLimitPct = 5.0

// minutesForGrowthVerdict: shorter runs print the growth figures but give no verdict.
const minutesForGrowthVerdict = 10

type seriesGrowth struct {
	Series    string  `json:"series"`
	WarmMB    float64 `json:"warm_mb"`
	EndMB     float64 `json:"end_mb"`
	MaxMB     float64 `json:"max_mb"`
	GrowthPct float64 `json:"growth_pct"`
	Result    string  `json:"result"` // PASS, FAIL or SKIP
}

type criterion struct {
	Name   string `json:"name"`
	Result string `json:"result"` // PASS, FAIL or SKIP (not judged)
	Detail string `json:"detail"`
}

type summary struct {
	DurationS float64 `json:"duration_s"`
	Clients   int     `json:"clients"`
	RatePerS  float64 `json:"rate_per_client"`
	Seed      int64   `json:"seed"`

	Requests struct {
		Sent             int64 `json:"sent"`
		Answered         int64 `json:"answered"`
		Lost             int64 `json:"lost"`
		Wrong            int64 `json:"wrong_replies"`
		Errors           int64 `json:"errors"` // wrong replies, drops, dial and write errors
		SessionReadBacks int64 `json:"session_read_backs_ok"`
	} `json:"requests"`
	Connections struct {
		Opened            int64 `json:"opened"`
		Churned           int64 `json:"churned"`
		TimeoutReconnects int64 `json:"reconnects_after_lost"`
		DialErrors        int64 `json:"dial_errors"`
		Drops             int64 `json:"dropped_by_server"`
	} `json:"connections"`
	Broadcast struct {
		Sent       int64 `json:"sent"`
		Deliveries int64 `json:"deliveries"`
		Gaps       int64 `json:"gaps"`
		Duplicates int64 `json:"duplicates"`
		Reordered  int64 `json:"reordered"`
		Silent     int64 `json:"silent_connections"`
	} `json:"broadcast"`
	Reloads struct {
		OK      int            `json:"ok"`
		Failed  int            `json:"failed"`
		Killed  int            `json:"workers_killed_at_drain_timeout"`
		MedianS float64        `json:"median_s"`
		MaxS    float64        `json:"max_s"`
		List    []reloadResult `json:"list"`
	} `json:"reloads"`
	Crashes struct {
		Sent           int            `json:"sent"`
		At             []float64      `json:"at_s"`
		EventsLost     int64          `json:"events_lost"`
		EventsResent   int64          `json:"events_resent"`
		ChecksOK       int            `json:"echo_after_crash_ok"`
		ChecksFailed   int            `json:"echo_after_crash_failed"`
		WorkerRestarts int            `json:"worker_restarts"`
		Exits          map[string]int `json:"exits"`
	} `json:"crashes"`
	RSS struct {
		WarmFromS      float64        `json:"warm_from_s"`
		WarmToS        float64        `json:"warm_to_s"`
		EndFromS       float64        `json:"end_from_s"`
		EndToS         float64        `json:"end_to_s"`
		Judged         bool           `json:"judged"`
		Samples        int            `json:"samples"`
		StatusFailures int            `json:"status_failures"`
		Series         []seriesGrowth `json:"series"`
	} `json:"rss"`
	GatewayDetails map[string]int64 `json:"gateway_incidents"` // every numeric gateway detail, summed
	Criteria       []criterion      `json:"criteria"`
	ErrorSamples   []string         `json:"error_samples"`
	Pass           bool             `json:"pass"`
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func summarize(cfg config, ctl *controller, smp *sampler, final *status) *summary {
	s := &summary{DurationS: cfg.duration.Seconds(), Clients: cfg.clients, RatePerS: cfg.rate, Seed: cfg.seed}

	r := &s.Requests
	r.Sent, r.Answered, r.Lost = atomic.LoadInt64(&stats.sent), atomic.LoadInt64(&stats.answered), atomic.LoadInt64(&stats.lost)
	r.Wrong, r.Errors, r.SessionReadBacks = atomic.LoadInt64(&stats.wrong), atomic.LoadInt64(&stats.errors), atomic.LoadInt64(&stats.sessReads)
	c := &s.Connections
	c.Opened, c.Churned, c.TimeoutReconnects = atomic.LoadInt64(&stats.connections), atomic.LoadInt64(&stats.churned), atomic.LoadInt64(&stats.timeoutReconnects)
	c.DialErrors, c.Drops = atomic.LoadInt64(&stats.dialErrors), atomic.LoadInt64(&stats.drops)
	b := &s.Broadcast
	b.Sent, b.Deliveries, b.Gaps = atomic.LoadInt64(&stats.bcastSent), atomic.LoadInt64(&stats.bcastDeliveries), atomic.LoadInt64(&stats.bcastGaps)
	b.Duplicates, b.Reordered, b.Silent = atomic.LoadInt64(&stats.bcastDuplicates), atomic.LoadInt64(&stats.bcastReordered), atomic.LoadInt64(&stats.bcastSilent)

	ctl.mu.Lock()
	rl := &s.Reloads
	rl.OK, rl.Failed, rl.List = ctl.reloadsOK, ctl.reloadsFailed, append([]reloadResult(nil), ctl.reloads...)
	var durations []float64
	for _, x := range rl.List {
		rl.Killed += x.Killed
		if x.OK {
			durations = append(durations, x.Seconds)
			if x.Seconds > rl.MaxS {
				rl.MaxS = x.Seconds
			}
		}
	}
	rl.MedianS = median(durations)
	cr := &s.Crashes
	cr.Sent, cr.At, cr.ChecksOK, cr.ChecksFailed = ctl.crashes, append([]float64(nil), ctl.crashTimes...), ctl.crashChecks, ctl.crashCheckBad
	ctl.mu.Unlock()

	s.GatewayDetails = map[string]int64{}
	if final != nil {
		cr.EventsLost = final.sumDetail("gateway", "events_lost")
		cr.EventsResent = final.sumDetail("gateway", "events_resent")
		cr.Exits = final.Exits
		keys := map[string]bool{}
		for _, p := range final.Processes {
			if p.Role == "worker" {
				cr.WorkerRestarts += p.Restarts
			}
			if p.Role == "gateway" {
				for k, v := range p.Details {
					if str, ok := v.(string); ok && str != "" && strings.Trim(str, "0123456789") == "" {
						keys[k] = true // a counter (generation and workers are not incidents)
					}
				}
			}
		}
		for k := range keys {
			if v := final.sumDetail("gateway", k); v != 0 && k != "generation" && k != "workers" {
				s.GatewayDetails[k] = v
			}
		}
	}

	// RSS growth per series: the median over the warm-up window against the last minutes.
	g := &s.RSS
	d := cfg.duration.Seconds()
	g.Judged = cfg.duration.Minutes() >= minutesForGrowthVerdict
	if g.Judged {
		g.WarmFromS, g.WarmToS, g.EndFromS, g.EndToS = 180, 360, d-180, d+60 // the last sample lands just after d
	} else {
		g.WarmFromS, g.WarmToS, g.EndFromS, g.EndToS = d/3, 2*d/3, 2*d/3, d+60
	}
	samples := smp.snapshot()
	g.Samples = len(samples)
	smp.mu.Lock()
	g.StatusFailures = smp.failures
	smp.mu.Unlock()
	for _, name := range smp.series() {
		var warm, end []float64
		var max float64
		for _, x := range samples {
			v, ok := x.Values[name]
			if !ok {
				continue
			}
			mb := float64(v) / 1e6
			if mb > max {
				max = mb
			}
			if x.T >= g.WarmFromS && x.T < g.WarmToS {
				warm = append(warm, mb)
			}
			if x.T >= g.EndFromS && x.T <= g.EndToS {
				end = append(end, mb)
			}
		}
		sg := seriesGrowth{Series: name, WarmMB: median(warm), EndMB: median(end), MaxMB: max, Result: "SKIP"}
		if sg.WarmMB > 0 {
			sg.GrowthPct = (sg.EndMB - sg.WarmMB) / sg.WarmMB * 100
		}
		if g.Judged && len(warm) > 0 && len(end) > 0 {
			sg.Result = "PASS"
			if sg.GrowthPct > growthLimitPct {
				sg.Result = "FAIL"
			}
		}
		g.Series = append(g.Series, sg)
	}

	// The criteria.
	add := func(name string, pass bool, detail string) {
		res := "PASS"
		if !pass {
			res = "FAIL"
		}
		s.Criteria = append(s.Criteria, criterion{name, res, detail})
	}
	add("requests: every reply exactly as expected, none lost", r.Lost == 0 && r.Errors == 0 && r.Answered > 0,
		fmt.Sprintf("%d sent, %d answered, %d lost, %d errors (%d wrong replies, %d dropped connections, %d dial errors)",
			r.Sent, r.Answered, r.Lost, r.Errors, r.Wrong, c.Drops, c.DialErrors))
	add("broadcasts: no gap, no duplicate on any connection", b.Gaps == 0 && b.Duplicates == 0 && b.Deliveries > 0,
		fmt.Sprintf("%d sent, %d deliveries, %d gaps, %d duplicates (%d late but not lost)", b.Sent, b.Deliveries, b.Gaps, b.Duplicates, b.Reordered))
	expectedReloads := 0
	if cfg.reloadEvery > 0 {
		expectedReloads = int((cfg.duration - 1) / cfg.reloadEvery)
	}
	add("reloads: every one completed", rl.Failed == 0 && rl.Killed == 0 && rl.OK == expectedReloads,
		fmt.Sprintf("%d of %d ok, %d failed, %d workers killed at the drain timeout; median %.3f s, max %.3f s",
			rl.OK, expectedReloads, rl.Failed, rl.Killed, rl.MedianS, rl.MaxS))
	crashDetail := fmt.Sprintf("%d crashes, events_lost %d, events_resent %d, echo after crash %d ok %d failed",
		cr.Sent, cr.EventsLost, cr.EventsResent, cr.ChecksOK, cr.ChecksFailed)
	if cr.Sent == 0 {
		s.Criteria = append(s.Criteria, criterion{"crashes: events_lost equals the crashes", "SKIP", "no crash in a run this short"})
	} else {
		add("crashes: events_lost equals the crashes", final != nil && cr.EventsLost == int64(cr.Sent) && cr.ChecksFailed == 0, crashDetail)
	}
	var growthParts []string
	growthPass := true
	for _, sg := range g.Series {
		growthParts = append(growthParts, fmt.Sprintf("%s %+.1f %%", sg.Series, sg.GrowthPct))
		if sg.Result == "FAIL" {
			growthPass = false
		}
	}
	growthName := fmt.Sprintf("RSS: no growth beyond %.0f %% after warm-up", growthLimitPct)
	if g.Judged {
		add(growthName, growthPass && len(g.Series) > 0, strings.Join(growthParts, ", "))
	} else {
		s.Criteria = append(s.Criteria, criterion{growthName, "SKIP",
			fmt.Sprintf("run shorter than %d min: not judged (figures for information: %s)", minutesForGrowthVerdict, strings.Join(growthParts, ", "))})
	}

	s.Pass = true
	for _, x := range s.Criteria {
		if x.Result == "FAIL" {
			s.Pass = false
		}
	}
	errorSamples.Lock()
	s.ErrorSamples = append([]string(nil), errorSamples.list...)
	errorSamples.Unlock()
	return s
}

func writeJSON(path string, v interface{}) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func printSummary(cfg config, s *summary) {
	p := fmt.Printf
	p("\n==== soak summary: %g min, %d clients at %.0f req/s each ====\n", s.DurationS/60, s.Clients, s.RatePerS)
	r := s.Requests
	p("requests     %d sent, %d answered as expected, %d lost, %d errors (%d wrong replies); %d session read-backs checked\n",
		r.Sent, r.Answered, r.Lost, r.Errors, r.Wrong, r.SessionReadBacks)
	c := s.Connections
	p("connections  %d opened, %d churned, %d reconnects after a lost request, %d dial errors, %d dropped by the server\n",
		c.Opened, c.Churned, c.TimeoutReconnects, c.DialErrors, c.Drops)
	b := s.Broadcast
	p("broadcasts   %d sent, %d deliveries, %d gaps, %d duplicates, %d late (reordered), %d silent connections\n",
		b.Sent, b.Deliveries, b.Gaps, b.Duplicates, b.Reordered, b.Silent)
	rl := s.Reloads
	p("reloads      %d ok, %d failed, %d workers killed at the drain timeout; duration median %.3f s, max %.3f s\n",
		rl.OK, rl.Failed, rl.Killed, rl.MedianS, rl.MaxS)
	for _, x := range rl.List {
		if !x.OK {
			p("             failed at %.0f s: %s\n", x.At, x.Output)
		}
	}
	cr := s.Crashes
	p("crashes      %d sent, gateways' events_lost %d, events_resent %d; echo after crash %d ok, %d failed; worker restarts %d, exits %v\n",
		cr.Sent, cr.EventsLost, cr.EventsResent, cr.ChecksOK, cr.ChecksFailed, cr.WorkerRestarts, cr.Exits)
	if len(s.GatewayDetails) > 0 {
		keys := make([]string, 0, len(s.GatewayDetails))
		for k := range s.GatewayDetails {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.GatewayDetails[k]))
		}
		p("gateway incidents (summed over gateways): %s\n", strings.Join(parts, ", "))
	}
	g := s.RSS
	p("RSS          %d samples (%d status failures); median MB over %.0f-%.0f s vs %.0f-%.0f s:\n",
		g.Samples, g.StatusFailures, g.WarmFromS, g.WarmToS, g.EndFromS, s.DurationS)
	for _, sg := range g.Series {
		p("             %-12s %7.1f -> %7.1f MB  %+6.1f %%  (max %.1f)  %s\n", sg.Series, sg.WarmMB, sg.EndMB, sg.GrowthPct, sg.MaxMB, sg.Result)
	}
	if !g.Judged {
		p("             (run shorter than %d minutes: growth not judged)\n", minutesForGrowthVerdict)
	}
	if len(s.ErrorSamples) > 0 {
		p("first unexpected events:\n")
		for _, e := range s.ErrorSamples {
			p("  %s\n", e)
		}
	}
	p("verdicts:\n")
	for _, x := range s.Criteria {
		p("  %-4s %s — %s\n", x.Result, x.Name, x.Detail)
	}
	verdict := "PASS"
	if !s.Pass {
		verdict = "FAIL"
	}
	p("overall: %s  (summary.json, rss.csv, rss.png in %s)\n", verdict, cfg.out)
	p("rss.png colours: %s\n", legendText())
}
