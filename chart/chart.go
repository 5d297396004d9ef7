// Package chart draws the supervisors' weekly digest as one PNG: progress by 重点工作 as
// stacked bars in the status colours, and the departments with the most overdue items. The
// scheduler sends it with sendPhoto, with Caption as its caption, before the digest's text.
//
// It draws with an embedded CJK font (font/, see font/subset.sh), so Chinese renders the same
// on any machine; a character the font lacks is drawn as Placeholder, never as a box.
package chart

import (
	"bytes"
	"cmp"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"slices"
	"time"

	"github.com/duban/duban/i18n"
	"github.com/duban/duban/store"
)

// Data is what the chart shows: the numbers the digest already computes (see FromDigest).
type Data struct {
	Date  time.Time // the digest's day, in the plan's zone
	Areas []Area    // in the plan's order
	// Overdue are departments with their overdue items (task × department, 三色 red). The
	// chart sorts them, most first, and shows the first TopDepartments.
	Overdue []Department
	// The 三色 counts of open items, for the caption.
	Red, Yellow, Blue int
	// Unbound departments (no chat yet, holding open tasks) and their overdue items, which the
	// digest leaves out of Overdue; the chart says so under the departments.
	Unbound, UnboundOverdue int
}

// Area is one 重点工作: its tasks by status, counted as the digest counts them.
type Area struct {
	Name                                  string
	Done, InProgress, Blocked, NotStarted int
}

// Total is the area's number of tasks.
func (a Area) Total() int { return a.Done + a.InProgress + a.Blocked + a.NotStarted }

// Department is one department's overdue items. Unbound marks one without a chat yet, for a
// caller that wants them ranked too; it is drawn in a lighter red and labelled.
type Department struct {
	Name    string
	Overdue int
	Unbound bool
}

// total adds up the areas.
func (d Data) total() Area {
	var t Area
	for _, a := range d.Areas {
		t.Done += a.Done
		t.InProgress += a.InProgress
		t.Blocked += a.Blocked
		t.NotStarted += a.NotStarted
	}
	return t
}

// TopDepartments is how many departments the second panel shows.
const TopDepartments = 10

// FromDigest takes the chart's numbers from the supervisors' digest, as the scheduler builds
// it, so the chart and the text never disagree.
func FromDigest(d i18n.Digest) Data {
	out := Data{Date: d.Date, Red: len(d.Red), Yellow: len(d.Yellow), Blue: len(d.Blue),
		Unbound: len(d.Unbound), UnboundOverdue: d.UnboundOverdue}
	for _, a := range d.Areas {
		out.Areas = append(out.Areas, Area{Name: a.Area, Done: a.Done, InProgress: a.InProgress, Blocked: a.Blocked, NotStarted: a.NotStarted})
	}
	for _, o := range d.Overdue {
		out.Overdue = append(out.Overdue, Department{Name: o.Department, Overdue: len(o.Tasks)})
	}
	return out
}

// Status colours: blocked is the 三色 red (overdue), as both need the supervisors; in
// progress the 三色 blue; done a dark green; not started a light grey. Their greyscale
// lightness (about 52 done, 108 blocked, 164 in progress, 221 not started, of 255) is evenly
// spaced, so a black-and-white printout still tells them apart.
var (
	ColorDone       = color.RGBA{0x12, 0x4A, 0x1C, 0xFF}
	ColorInProgress = color.RGBA{0x64, 0xB5, 0xF6, 0xFF}
	ColorBlocked    = color.RGBA{0xE5, 0x39, 0x35, 0xFF}
	ColorNotStarted = color.RGBA{0xDD, 0xDD, 0xDD, 0xFF}
	ColorOverdue    = ColorBlocked                       // the 三色 red
	ColorUnbound    = color.RGBA{0xEF, 0x9A, 0x9A, 0xFF} // a lighter red: overdue, but not yet reachable

	colorBG      = color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}
	colorText    = color.RGBA{0x21, 0x21, 0x21, 0xFF}
	colorMuted   = color.RGBA{0x75, 0x75, 0x75, 0xFF}
	colorRule    = color.RGBA{0xE0, 0xE0, 0xE0, 0xFF}
	colorOutline = color.RGBA{0xBD, 0xBD, 0xBD, 0xFF}
)

// Width is the PNG's width in pixels: wide enough for Telegram to show the labels sharp on a
// phone, which scales a photo to the screen, without being resampled on the way.
const Width = 1200

const (
	margin      = 40
	sizeTitle   = 30.0
	sizeHeading = 20.0
	sizeText    = 18.0
	sizeSmall   = 15.0
	areaRow     = 44
	areaBar     = 30
	deptRow     = 34
	deptBar     = 22
)

type segment struct {
	n  int
	bg color.RGBA
	fg color.Color
}

// Digest renders the chart as a PNG, with words in lang ("zh" or "en", as i18n.For).
func Digest(d Data, lang string) ([]byte, error) {
	img, err := render(d, lang)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("chart: encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// topDepartments sorts a copy of the departments, most overdue first (then by name, so the
// chart is the same every week for the same numbers), and keeps the first TopDepartments.
func topDepartments(ds []Department) []Department {
	out := slices.Clone(ds)
	out = slices.DeleteFunc(out, func(d Department) bool { return d.Overdue <= 0 })
	slices.SortStableFunc(out, func(a, b Department) int {
		if c := cmp.Compare(b.Overdue, a.Overdue); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	if len(out) > TopDepartments {
		out = out[:TopDepartments]
	}
	return out
}

func render(d Data, lang string) (*image.RGBA, error) {
	ts, err := newTypesetter()
	if err != nil {
		return nil, err
	}
	defer ts.close()
	w := wordsFor(lang)
	names := i18n.For(lang).StatusNames
	depts := topDepartments(d.Overdue)
	// Said even when they are ranked above: the ten shown are not all of them.
	unboundNote := d.UnboundOverdue > 0

	// The height follows the rows, so a plan with many areas is not squeezed.
	deptRows := max(len(depts), 1)
	height := 150 + 60 + len(d.Areas)*areaRow + 30 + 50 + deptRows*deptRow + 30
	if unboundNote {
		height += 30
	}
	height += 40 // the placeholder note's room, cut again below if unused
	img := image.NewRGBA(image.Rect(0, 0, Width, height))
	draw.Draw(img, img.Bounds(), image.NewUniform(colorBG), image.Point{}, draw.Src)

	// Title and the totals.
	tot := d.total()
	title := fmt.Sprintf(w.Title, d.Date.Format("2006-01-02"))
	// A second pass one pixel over is the bold the regular-only subset lacks.
	ts.draw(img, title, sizeTitle, margin, 56, left, colorText)
	ts.draw(img, title, sizeTitle, margin+1, 56, left, colorText)
	ts.draw(img, fmt.Sprintf(w.Summary, tot.Total(), tot.Done, tot.InProgress, tot.Blocked, tot.NotStarted), sizeText, margin, 92, left, colorMuted)

	// Legend, in the order the segments are stacked.
	segs := func(a Area) []segment {
		return []segment{
			{a.Done, ColorDone, colorBG},
			{a.InProgress, ColorInProgress, colorText},
			{a.Blocked, ColorBlocked, colorBG},
			{a.NotStarted, ColorNotStarted, colorText},
		}
	}
	x := margin
	for i, st := range []store.Status{store.StatusDone, store.StatusInProgress, store.StatusBlocked, store.StatusNotStarted} {
		sw := image.Rect(x, 116, x+20, 136)
		fill(img, sw, segs(Area{})[i].bg)
		outline(img, sw, colorOutline)
		x += 28
		x += ts.draw(img, names[st], sizeText, x, baseline(116, 20, sizeText), left, colorText) + 28
	}

	// Panel 1: areas.
	y := 178
	rule(img, y-14)
	tw := ts.draw(img, w.AreasTitle, sizeHeading, margin, y+12, left, colorText)
	ts.draw(img, w.AreasTitle, sizeHeading, margin+1, y+12, left, colorText)
	ts.draw(img, w.AreasNote, sizeSmall, margin+tw+4, y+12, left, colorMuted)
	y += 32
	labelW := 0
	for _, a := range d.Areas {
		labelW = max(labelW, ts.width(ts.clean(a.Name), sizeText))
	}
	for _, dp := range depts {
		labelW = max(labelW, ts.width(ts.clean(dp.Name+w.Unbound), sizeText))
	}
	labelW = min(labelW, Width*2/5)
	x0 := margin + labelW + 16
	x1 := Width - margin - 64 // room for the total after the bar
	maxTotal := 1
	for _, a := range d.Areas {
		maxTotal = max(maxTotal, a.Total())
	}
	for _, a := range d.Areas {
		top := y + (areaRow-areaBar)/2
		ts.draw(img, ts.fit(ts.clean(a.Name), sizeText, labelW), sizeText, x0-12, baseline(top, areaBar, sizeText), right, colorText)
		// Cumulative rounding, so the segments meet without gaps and the bar's length is exact.
		cum := 0
		for _, s := range segs(a) {
			if s.n == 0 {
				continue
			}
			l := x0 + cum*(x1-x0)/maxTotal
			cum += s.n
			r := x0 + cum*(x1-x0)/maxTotal
			box := image.Rect(l, top, r, top+areaBar)
			fill(img, box, s.bg)
			if s.bg == ColorNotStarted {
				outline(img, box, colorOutline)
			}
			if n := fmt.Sprint(s.n); ts.width(n, sizeText)+6 <= r-l {
				ts.draw(img, n, sizeText, (l+r)/2, baseline(top, areaBar, sizeText), center, s.fg)
			}
			// A thin white seam keeps neighbouring segments apart in greyscale too.
			if l > x0 {
				fill(img, image.Rect(l, top, l+1, top+areaBar), colorBG)
			}
		}
		end := x0 + cum*(x1-x0)/maxTotal
		ts.draw(img, fmt.Sprintf(w.Total, a.Total()), sizeText, end+8, baseline(top, areaBar, sizeText), left, colorMuted)
		y += areaRow
	}

	// Panel 2: the departments with the most overdue items.
	y += 30
	rule(img, y-14)
	ts.draw(img, fmt.Sprintf(w.OverdueTitle, TopDepartments), sizeHeading, margin, y+12, left, colorText)
	ts.draw(img, fmt.Sprintf(w.OverdueTitle, TopDepartments), sizeHeading, margin+1, y+12, left, colorText)
	y += 32
	if len(depts) == 0 {
		ts.draw(img, w.OverdueNone, sizeText, x0, baseline(y, deptRow, sizeText), left, colorMuted)
		y += deptRow
	}
	maxOver := 1
	for _, dp := range depts {
		maxOver = max(maxOver, dp.Overdue)
	}
	for _, dp := range depts {
		top := y + (deptRow-deptBar)/2
		name, bg := dp.Name, ColorOverdue
		if dp.Unbound {
			name, bg = dp.Name+w.Unbound, ColorUnbound
		}
		ts.draw(img, ts.fit(ts.clean(name), sizeText, labelW), sizeText, x0-12, baseline(top, deptBar, sizeText), right, colorText)
		r := x0 + max(dp.Overdue*(x1-x0)/maxOver, 2)
		fill(img, image.Rect(x0, top, r, top+deptBar), bg)
		ts.draw(img, fmt.Sprintf(w.Items, dp.Overdue), sizeText, r+8, baseline(top, deptBar, sizeText), left, colorMuted)
		y += deptRow
	}
	if unboundNote {
		y += 6
		ts.draw(img, fmt.Sprintf(w.UnboundNote, d.Unbound, d.UnboundOverdue), sizeSmall, x0, baseline(y, 24, sizeSmall), left, colorMuted)
		y += 24
	}
	y += 16
	// Said only when it happened, so a person seeing 〓 knows it is not the department's name.
	if ts.missing > 0 {
		ts.draw(img, w.Placeholder, sizeSmall, margin, baseline(y, 24, sizeSmall), left, colorMuted)
		y += 30
	}
	return img.SubImage(image.Rect(0, 0, Width, min(y+4, height))).(*image.RGBA), nil
}

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

func outline(img *image.RGBA, r image.Rectangle, c color.Color) {
	fill(img, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), c)
	fill(img, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), c)
	fill(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), c)
	fill(img, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), c)
}

func rule(img *image.RGBA, y int) {
	fill(img, image.Rect(margin, y, Width-margin, y+1), colorRule)
}

// Caption is the photo's caption: the headline numbers, plain text without markup (the
// date and numbers need no escaping, so it reads the same with or without parse_mode HTML),
// well under Telegram's 1,024 characters.
func Caption(d Data, lang string) string {
	w := wordsFor(lang)
	tot := d.total()
	s := fmt.Sprintf(w.Caption, d.Date.Format("2006-01-02")) +
		fmt.Sprintf(w.CaptionTasks, tot.Total(), tot.Done, tot.InProgress, tot.Blocked, tot.NotStarted) +
		fmt.Sprintf(w.CaptionColors, d.Red, d.Yellow, d.Blue)
	if d.Unbound > 0 {
		s += fmt.Sprintf(w.CaptionUnbound, d.Unbound, d.UnboundOverdue)
	}
	return s
}
