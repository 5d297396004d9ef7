package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/duban/duban/i18n"
)

// The charts are SVG drawn here, on the server: no script, no external asset, and the CSP
// allows them (presentation attributes, not style attributes). Every text in them goes
// through html.EscapeString.

// Status and warning colours, shared with style.css.
const (
	fillDone       = "#2e7d32"
	fillInProgress = "#1e88e5"
	fillBlocked    = "#e53935"
	fillNotStarted = "#bdbdbd"
	fillRed        = "#d32f2f"
	fillYellow     = "#f9a825"
	fillBlue       = "#1565c0"
)

const svgFont = `font-family="Noto Sans CJK SC, WenQuanYi Zen Hei, Microsoft YaHei, PingFang SC, sans-serif"`

func areaTotal(a i18n.AreaCount) int { return a.Done + a.InProgress + a.Blocked + a.NotStarted }

// areaBars draws one stacked bar per 重点工作: done, in progress, blocked, not started.
func areaBars(areas []i18n.AreaCount, w *words) template.HTML {
	const labelW, barW, rowH, top = 300, 520, 30, 34
	height := top + rowH*len(areas) + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" %s font-size="13">`,
		labelW+barW+60, height, labelW+barW+60, height, esc(w.ByArea), svgFont)
	legend := []struct{ fill, name string }{
		{fillDone, w.texts.StatusName("done")}, {fillInProgress, w.texts.StatusName("in_progress")},
		{fillBlocked, w.texts.StatusName("blocked")}, {fillNotStarted, w.texts.StatusName("not_started")},
	}
	x := labelW
	for _, l := range legend {
		fmt.Fprintf(&b, `<rect x="%d" y="6" width="14" height="14" fill="%s"/><text x="%d" y="18">%s</text>`, x, l.fill, x+18, esc(l.name))
		x += 110
	}
	max := 1
	for _, a := range areas {
		max = maxInt(max, areaTotal(a))
	}
	for i, a := range areas {
		y := top + i*rowH
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-8, y+17, esc(truncate(a.Area, 22)))
		x := float64(labelW)
		for _, seg := range []struct {
			n    int
			fill string
		}{{a.Done, fillDone}, {a.InProgress, fillInProgress}, {a.Blocked, fillBlocked}, {a.NotStarted, fillNotStarted}} {
			if seg.n == 0 {
				continue
			}
			wd := float64(barW) * float64(seg.n) / float64(max)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="22" fill="%s"><title>%d</title></rect>`, x, y, wd, seg.fill, seg.n)
			if wd >= 18 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#fff">%d</text>`, x+wd/2, y+16, seg.n)
			}
			x += wd
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%d</text>`, x+6, y+16, areaTotal(a))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// curveChart draws done items over time against the 序时进度 line.
func curveChart(points []curvePoint, items int, w *words, loc *time.Location) template.HTML {
	if len(points) < 2 || items == 0 {
		return ""
	}
	const width, height, left, right, top, bottom = 860, 360, 50, 20, 30, 40
	pw, ph := float64(width-left-right), float64(height-top-bottom)
	t0, t1 := points[0].Day, points[len(points)-1].Day
	span := float64(t1.Sub(t0))
	xOf := func(t time.Time) float64 { return left + pw*float64(t.Sub(t0))/span }
	yOf := func(v float64) float64 { return top + ph - ph*v/float64(items) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" %s font-size="12">`,
		width, height, width, height, esc(w.Progress), svgFont)
	// Axes and grid: quarters of the items, and each year.
	for i := 0; i <= 4; i++ {
		v := float64(items) * float64(i) / 4
		y := yOf(v)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e0e0e0"/><text x="%d" y="%.1f" text-anchor="end">%.0f</text>`,
			left, y, width-right, y, left-6, y+4, v)
	}
	for y := t0.In(loc).Year() + 1; ; y++ {
		at := time.Date(y, 1, 1, 0, 0, 0, 0, loc)
		if at.After(t1) {
			break
		}
		x := xOf(at)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e0e0e0"/><text x="%.1f" y="%d" text-anchor="middle">%d</text>`,
			x, top, x, height-bottom, x, height-bottom+16, y)
	}
	var exp, done strings.Builder
	for _, p := range points {
		fmt.Fprintf(&exp, "%.1f,%.1f ", xOf(p.Day), yOf(p.Expected))
		if p.Known {
			fmt.Fprintf(&done, "%.1f,%.1f ", xOf(p.Day), yOf(float64(p.Done)))
		}
	}
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="6 4"/>`, strings.TrimSpace(exp.String()), fillYellow)
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="3"/>`, strings.TrimSpace(done.String()), fillDone)
	fmt.Fprintf(&b, `<line x1="%d" y1="12" x2="%d" y2="12" stroke="%s" stroke-width="3"/><text x="%d" y="16">%s</text>`, left, left+24, fillDone, left+30, esc(w.DoneItems))
	fmt.Fprintf(&b, `<line x1="%d" y1="12" x2="%d" y2="12" stroke="%s" stroke-width="2" stroke-dasharray="6 4"/><text x="%d" y="16">%s</text>`, left+200, left+224, fillYellow, left+230, esc(w.Expected))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// countBar is a small horizontal bar for a count out of max, for the tables.
func countBar(n, max int, fill string) template.HTML {
	if max <= 0 {
		max = 1
	}
	wd := 120 * float64(n) / float64(max)
	return template.HTML(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="124" height="12" class="bar"><rect x="0" y="1" width="%.1f" height="10" fill="%s"/></svg>`, wd, esc(fill)))
}

func esc(s string) string { return html.EscapeString(s) }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
