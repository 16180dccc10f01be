package main

// rss.png: RSS in MB over time, one line per series, drawn with the standard library only.

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"strings"
	"time"
)

const (
	plotW, plotH = 1000, 500
	marginL      = 84
	marginR      = 24
	marginT      = 70
	marginB      = 58
	textScale    = 2
)

var (
	white     = color.RGBA{255, 255, 255, 255}
	black     = color.RGBA{0, 0, 0, 255}
	gridGrey  = color.RGBA{225, 225, 225, 255}
	tickGrey  = color.RGBA{150, 150, 150, 255}
	crashRed  = color.RGBA{214, 39, 40, 255}
	palette   = []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {148, 103, 189, 255}, {227, 119, 194, 255}, {188, 189, 34, 255}}
	colourTag = []string{"blue", "orange", "green", "purple", "pink", "olive"}
)

// seriesColour gives master, register, the gateways and the workers fixed colours.
func seriesColour(name string) (color.RGBA, string) {
	switch {
	case name == "master":
		return palette[0], colourTag[0]
	case strings.HasPrefix(name, "register"):
		return palette[1], colourTag[1]
	case strings.HasPrefix(name, "gateway"):
		var i int
		fmt.Sscanf(name, "gateway %d", &i)
		k := 2 + i%4
		return palette[k], colourTag[k]
	}
	return color.RGBA{40, 40, 40, 255}, "black"
}

// legendText describes the colours in words, for the printed summary.
var legendText = func() string { return "(no plot)" }

// niceStep picks a tick step of 1, 2, 2.5 or 5 times a power of ten giving about `ticks` ticks.
func niceStep(span float64, ticks int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(ticks)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func fmtTick(v, step float64) string {
	if step >= 1 && math.Abs(v-math.Round(v)) < 1e-9 {
		return fmt.Sprintf("%.0f", v)
	}
	if step >= 0.1 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func fillRect(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	draw.Draw(img, image.Rect(x0, y0, x1, y1), &image.Uniform{c}, image.Point{}, draw.Src)
}

// line draws a line `thick` pixels wide (Bresenham, a square brush); dash > 0 draws dashes
// of that many pixels with gaps as long.
func line(img *image.RGBA, x0, y0, x1, y1, thick, dash int, c color.Color) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for n := 0; ; n++ {
		if dash == 0 || (n/dash)%2 == 0 {
			for a := 0; a < thick; a++ {
				for b := 0; b < thick; b++ {
					img.Set(x0+a-thick/2, y0+b-thick/2, c)
				}
			}
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func plotRSS(path string, smp *sampler, ctl *controller, duration time.Duration) error {
	samples := smp.snapshot()
	names := smp.series()
	ctl.mu.Lock()
	crashes := append([]float64(nil), ctl.crashTimes...)
	var reloads []float64
	for _, r := range ctl.reloads {
		reloads = append(reloads, r.At)
	}
	ctl.mu.Unlock()

	img := image.NewRGBA(image.Rect(0, 0, plotW, plotH))
	fillRect(img, 0, 0, plotW, plotH, white)
	px0, py0, px1, py1 := marginL, marginT, plotW-marginR, plotH-marginB

	// Ranges: minutes on x, MB from 0 on y.
	xMax := duration.Minutes()
	for _, s := range samples {
		xMax = math.Max(xMax, s.T/60)
	}
	yMaxData := 1.0
	for _, s := range samples {
		for _, v := range s.Values {
			yMaxData = math.Max(yMaxData, float64(v)/1e6)
		}
	}
	yStep := niceStep(yMaxData*1.1, 6)
	yMax := math.Ceil(yMaxData*1.1/yStep) * yStep
	xStep := niceStep(xMax, 10)
	toX := func(min float64) int { return px0 + int(math.Round(min/xMax*float64(px1-px0))) }
	toY := func(mb float64) int { return py1 - int(math.Round(mb/yMax*float64(py1-py0))) }
	charH := glyphH * textScale

	// Grid, ticks and their labels.
	for v := 0.0; v <= yMax+yStep/1000; v += yStep {
		y := toY(v)
		line(img, px0, y, px1, y, 1, 0, gridGrey)
		line(img, px0-6, y, px0, y, 1, 0, black)
		label := fmtTick(v, yStep)
		drawText(img, px0-10-textWidth(label, textScale), y-charH/2, label, textScale, black)
	}
	for v := 0.0; v <= xMax+xStep/1000; v += xStep {
		x := toX(v)
		line(img, x, py0, x, py1, 1, 0, gridGrey)
		line(img, x, py1, x, py1+6, 1, 0, black)
		label := fmtTick(v, xStep)
		drawText(img, x-textWidth(label, textScale)/2, py1+10, label, textScale, black)
	}
	xTitle := "elapsed minutes"
	drawText(img, (px0+px1)/2-textWidth(xTitle, textScale)/2, py1+10+charH+8, xTitle, textScale, black)
	drawTextUp(img, 12, (py0+py1)/2+textWidth("RSS MB", textScale)/2, "RSS MB", textScale, black)

	// Events: reloads as short grey ticks along the top, crashes as red dashed lines.
	for _, t := range reloads {
		x := toX(t / 60)
		line(img, x, py0, x, py0+10, 2, 0, tickGrey)
	}
	for _, t := range crashes {
		x := toX(t / 60)
		line(img, x, py0, x, py1, 2, 6, crashRed)
	}

	// The series.
	var words []string
	for _, name := range names {
		c, word := seriesColour(name)
		words = append(words, name+" "+word)
		havePrev := false
		var lx, ly int
		for _, s := range samples {
			v, ok := s.Values[name]
			if !ok {
				havePrev = false
				continue
			}
			x, y := toX(s.T/60), toY(float64(v)/1e6)
			if havePrev {
				line(img, lx, ly, x, y, 2, 0, c)
			} else {
				line(img, x, y, x, y, 3, 0, c)
			}
			lx, ly, havePrev = x, y, true
		}
	}

	// Axes on top of the grid.
	line(img, px0, py0, px0, py1, 2, 0, black)
	line(img, px0, py1, px1, py1, 2, 0, black)

	// Title and legend.
	title := fmt.Sprintf("gatewayd soak: RSS per process, %g min", duration.Minutes())
	drawText(img, 14, 10, title, textScale, black)
	lx, ly := 14, 10+charH+12
	legendItem := func(label string, swatch func(x, y int)) {
		if lx+26+textWidth(label, textScale) > plotW-8 { // wrap (more than two gateways)
			lx, ly = 14, ly+charH+8
		}
		swatch(lx, ly+charH/2)
		lx += 26
		drawText(img, lx, ly, label, textScale, black)
		lx += textWidth(label, textScale) + 16
	}
	for _, name := range names {
		c, _ := seriesColour(name)
		legendItem(name, func(x, y int) { line(img, x, y, x+20, y, 4, 0, c) })
	}
	legendItem("crash", func(x, y int) { line(img, x+10, y-8, x+10, y+8, 2, 4, crashRed) })
	legendItem("reload", func(x, y int) { line(img, x+10, y-6, x+10, y+4, 2, 0, tickGrey) })
	legendText = func() string {
		return strings.Join(words, ", ") + "; red dashed lines = crashes, grey ticks along the top = reloads"
	}

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
