package chart

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"

	"github.com/duban/duban/config"
	"github.com/duban/duban/i18n"
	"github.com/duban/duban/scheduler"
	"github.com/duban/duban/store"
)

// The PNGs go to t.ArtifactDir(): `go test -artifacts -outputdir DIR ./chart/` keeps them
// under DIR to be looked at; without -artifacts they are removed after the test.

var digestDay = time.Date(2026, 12, 1, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

// shippedData is the shipped plan on 2026-12-01 with an empty store: nothing reported, every
// deadline past, nobody bound. Every department is listed, marked unbound, as a scheduler
// that ranks the departments without a chat too would fill it.
func shippedData(t testing.TB) (Data, *config.Plan) {
	t.Helper()
	t.Setenv("TELEGRAM_BOT_TOKEN", "123:test")
	c, plan, err := config.Load("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, s := scheduler.NewState(nil, nil, nil), scheduler.SettingsFrom(c)
	d := Data{Date: digestDay}
	index := map[string]int{}
	overdue := map[string]int{}
	var order []string
	open := map[string]bool{}
	for _, task := range plan.Tasks {
		i, ok := index[task.Area]
		if !ok {
			i = len(d.Areas)
			index[task.Area] = i
			d.Areas = append(d.Areas, Area{Name: task.Area})
		}
		// The digest's rule: done when every department is, blocked when any is.
		var done, blocked, started int
		for _, dept := range task.Responsible {
			a := scheduler.Assess(task, dept, st, s, digestDay)
			open[dept] = open[dept] || !a.Done
			switch {
			case a.Done:
				done++
			case a.Status == store.StatusBlocked:
				blocked++
			case a.Status == store.StatusInProgress:
				started++
			}
			switch a.Color {
			case scheduler.Red:
				if overdue[dept] == 0 {
					order = append(order, dept)
				}
				overdue[dept]++
				d.Red++
			case scheduler.Yellow:
				d.Yellow++
			case scheduler.Blue:
				d.Blue++
			}
		}
		switch {
		case done == len(task.Responsible):
			d.Areas[i].Done++
		case blocked > 0:
			d.Areas[i].Blocked++
		case started > 0 || done > 0:
			d.Areas[i].InProgress++
		default:
			d.Areas[i].NotStarted++
		}
	}
	for _, dept := range order {
		d.Overdue = append(d.Overdue, Department{Name: dept, Overdue: overdue[dept], Unbound: true})
	}
	d.Unbound, d.UnboundOverdue = len(open), d.Red
	return d, plan
}

// mixedData has every status and both kinds of department, so every colour must show.
func mixedData() Data {
	return Data{
		Date: digestDay,
		Areas: []Area{
			{Name: "健全完善现代职业教育体系", Done: 6, InProgress: 5, Blocked: 1, NotStarted: 3},
			{Name: "深化产教融合校企合作协同育人", Done: 2, InProgress: 7, Blocked: 2, NotStarted: 3},
			{Name: "提高技术技能人才培养质量", Done: 8},
			{Name: "构建多元办学格局", NotStarted: 3},
			{Name: "健全改革发展保障机制", Done: 1, InProgress: 1, Blocked: 4, NotStarted: 4},
		},
		Overdue: []Department{
			{Name: "市教育局", Overdue: 12}, {Name: "市人社局", Overdue: 7}, {Name: "市财政局", Overdue: 7},
			{Name: "九江经济技术开发区管委会", Overdue: 5, Unbound: true}, {Name: "湖口县人民政府", Overdue: 3},
			{Name: "德安县人民政府", Overdue: 3}, {Name: "市发展改革委", Overdue: 2}, {Name: "市工信局", Overdue: 2},
			{Name: "市自然资源局", Overdue: 1}, {Name: "市住建局", Overdue: 1}, {Name: "市卫健委", Overdue: 1},
			{Name: "市国资委", Overdue: 0},
		},
		Red: 44, Yellow: 6, Blue: 3,
	}
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}

func save(t *testing.T, name string, b []byte) {
	t.Helper()
	p := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("chart saved to %s (%d bytes)", p, len(b))
}

// count counts the pixels of exactly colour c inside r.
func count(img image.Image, r image.Rectangle, c color.RGBA) int {
	n := 0
	r = r.Intersect(img.Bounds())
	if m, ok := img.(*image.RGBA); ok { // what png.Decode returns for the chart; At is slow under -race
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				i := m.PixOffset(x, y)
				if m.Pix[i] == c.R && m.Pix[i+1] == c.G && m.Pix[i+2] == c.B && m.Pix[i+3] == c.A {
					n++
				}
			}
		}
		return n
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) == c {
				n++
			}
		}
	}
	return n
}

// inked counts the pixels that are not background.
func inked(img image.Image) int {
	return img.Bounds().Dx()*img.Bounds().Dy() - count(img, img.Bounds(), colorBG)
}

func checkChart(t *testing.T, img image.Image, want ...color.RGBA) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() != Width || b.Dy() < 400 || b.Dy() > 2000 {
		t.Fatalf("size %dx%d, want %d wide and 400 to 2000 high", b.Dx(), b.Dy(), Width)
	}
	if n := inked(img); n < b.Dx()*b.Dy()/20 {
		t.Fatalf("only %d of %d pixels drawn: blank?", n, b.Dx()*b.Dy())
	}
	// The bars lie right of the labels and below the legend.
	bars := image.Rect(Width/4, 170, Width, b.Dy())
	for _, c := range want {
		if n := count(img, bars, c); n < 200 {
			t.Errorf("colour %v: %d pixels in the bar area, want a bar's worth", c, n)
		}
	}
}

func TestShippedPlan(t *testing.T) {
	d, _ := shippedData(t)
	t.Logf("shipped plan: %d areas, %d overdue items in %d departments", len(d.Areas), d.Red, len(d.Overdue))
	if len(d.Areas) != 5 || d.Red == 0 || len(d.Overdue) < TopDepartments {
		t.Fatalf("unexpected plan numbers: %+v", d)
	}
	for _, lang := range []string{"zh", "en"} {
		b, err := Digest(d, lang)
		if err != nil {
			t.Fatal(err)
		}
		save(t, "shipped-"+lang+".png", b)
		img := decode(t, b)
		// Nothing has started: every task is grey, every department unbound red.
		checkChart(t, img, ColorNotStarted, ColorUnbound)
		for _, c := range []color.RGBA{ColorDone, ColorInProgress, ColorBlocked} {
			if n := count(img, image.Rect(Width/4, 170, Width, img.Bounds().Dy()), c); n > 0 {
				t.Errorf("colour %v drawn %d times with nothing reported", c, n)
			}
		}
	}
	ts, _ := newTypesetter()
	defer ts.close()
	for _, a := range d.Areas {
		ts.clean(a.Name)
	}
	for _, o := range d.Overdue {
		ts.clean(o.Name)
	}
	if ts.missing != 0 {
		t.Errorf("%d characters of the shipped plan's areas and departments are missing from the font", ts.missing)
	}
}

func TestEveryColour(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		b, err := Digest(mixedData(), lang)
		if err != nil {
			t.Fatal(err)
		}
		save(t, "mixed-"+lang+".png", b)
		checkChart(t, decode(t, b), ColorDone, ColorInProgress, ColorBlocked, ColorNotStarted, ColorOverdue, ColorUnbound)
	}
}

func TestNothingOverdue(t *testing.T) {
	d := Data{Date: digestDay, Areas: []Area{{Name: "构建多元办学格局", Done: 3}}}
	b, err := Digest(d, "zh")
	if err != nil {
		t.Fatal(err)
	}
	save(t, "clear.png", b)
	img := decode(t, b)
	if n := count(img, image.Rect(0, 170, Width, img.Bounds().Dy()), ColorOverdue); n != 0 {
		t.Errorf("red drawn (%d pixels) with nothing overdue", n)
	}
	if n := count(img, img.Bounds(), ColorDone); n < 200 {
		t.Errorf("done bar missing: %d pixels", n)
	}
}

// The status colours must stay apart when printed in black and white.
func TestGreyscale(t *testing.T) {
	luma := func(c color.RGBA) float64 { return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B) }
	cs := []color.RGBA{ColorDone, ColorBlocked, ColorInProgress, ColorNotStarted}
	for i := 1; i < len(cs); i++ {
		if d := luma(cs[i]) - luma(cs[i-1]); d < 50 {
			t.Errorf("colours %v and %v are %.0f apart in greyscale, want 50", cs[i-1], cs[i], d)
		}
	}
}

// glyph draws s with the raw face, no placeholder, as a tight image of its ink.
func glyph(ts *typesetter, s string) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, 40*len([]rune(s))+10, 40))
	d := font.Drawer{Dst: img, Src: image.White, Face: ts.face(sizeText), Dot: fixed.P(4, 30)}
	d.DrawString(s)
	return img
}

func sameGray(a, b *image.Gray) bool {
	return a.Bounds() == b.Bounds() && bytes.Equal(a.Pix, b.Pix)
}

func ink(g *image.Gray) int {
	n := 0
	for _, p := range g.Pix {
		if p > 0 {
			n++
		}
	}
	return n
}

// Every character of every label the chart draws for the shipped plan has a glyph of its
// own: it leaves ink, and not the font's .notdef box.
func TestChineseLabelsRender(t *testing.T) {
	ts, err := newTypesetter()
	if err != nil {
		t.Fatal(err)
	}
	defer ts.close()
	const absent = '\U0010FFFD' // a private-use character no font maps
	if ts.has(absent) {
		t.Fatal("the font maps U+10FFFD")
	}
	// The subset's .notdef is empty (pyftsubset drops its outline), so a missing glyph would
	// draw nothing rather than a box; either way it is what a label must not look like.
	notdef := glyph(ts, string(absent))
	d, _ := shippedData(t)
	var labels []string
	for _, a := range d.Areas {
		labels = append(labels, a.Name)
	}
	for _, o := range d.Overdue {
		labels = append(labels, o.Name)
	}
	for _, lang := range []string{"zh", "en"} {
		w := wordsFor(lang)
		labels = append(labels, w.Title, w.Summary, w.AreasTitle, w.AreasNote, w.OverdueTitle, w.OverdueNone, w.Unbound, w.UnboundNote, w.Placeholder)
		for _, s := range []store.Status{store.StatusDone, store.StatusInProgress, store.StatusBlocked, store.StatusNotStarted} {
			labels = append(labels, i18n.For(lang).StatusNames[s])
		}
	}
	checked := map[rune]bool{}
	for _, l := range labels {
		for _, r := range l {
			if checked[r] || r == ' ' || r == '%' {
				continue
			}
			checked[r] = true
			if !ts.has(r) {
				t.Errorf("%q in %q is not in the font", r, l)
			}
			g := glyph(ts, string(r))
			if ink(g) == 0 {
				t.Errorf("%q in %q draws no ink", r, l)
			}
			if sameGray(g, notdef) {
				t.Errorf("%q in %q draws the .notdef box", r, l)
			}
		}
	}
	t.Logf("%d distinct characters checked", len(checked))
	// And in the chart itself the labels leave ink where they are drawn: the left column.
	b, err := Digest(d, "zh")
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, b)
	if n := count(img, image.Rect(0, 200, Width/4, img.Bounds().Dy()), colorText); n < 500 {
		t.Errorf("the label column has %d text pixels", n)
	}
}

// A character the subset lacks is drawn as the placeholder, never as a box, the rest of the
// label stays, and the chart says what the placeholder means.
func TestMissingCharacter(t *testing.T) {
	ts, err := newTypesetter()
	if err != nil {
		t.Fatal(err)
	}
	defer ts.close()
	// Characters in GBK but not GB2312, nor in the plan: names a later plan might bring.
	rare := rune(0)
	for _, r := range "堃玥喆𠮷" {
		if !ts.has(r) {
			rare = r
			break
		}
	}
	if rare == 0 {
		t.Fatal("the subset has every candidate; add one it lacks")
	}
	if got := ts.clean("市" + string(rare) + "局"); got != "市〓局" {
		t.Errorf("clean = %q, want 市〓局", got)
	}
	img := func(s string) *image.RGBA {
		m := image.NewRGBA(image.Rect(0, 0, 120, 40))
		ts.draw(m, s, sizeText, 4, 30, left, color.Black)
		return m
	}
	got, want := img("市"+string(rare)+"局"), img("市〓局")
	if !bytes.Equal(got.Pix, want.Pix) {
		t.Error("a missing character is not drawn as the placeholder")
	}
	if sameGray(glyph(ts, string(Placeholder)), glyph(ts, string(rune(0x10FFFD)))) {
		t.Error("the placeholder looks like .notdef")
	}

	d := mixedData()
	plain, err := Digest(d, "zh")
	if err != nil {
		t.Fatal(err)
	}
	d.Overdue[0].Name = "市" + string(rare) + "局"
	withRare, err := Digest(d, "zh")
	if err != nil {
		t.Fatal(err)
	}
	save(t, "placeholder.png", withRare)
	// The note explaining 〓 adds a line at the foot.
	if h0, h1 := decode(t, plain).Bounds().Dy(), decode(t, withRare).Bounds().Dy(); h1 <= h0 {
		t.Errorf("heights %d and %d: no placeholder note", h0, h1)
	}
}

func TestLongNamesAreCut(t *testing.T) {
	d := mixedData()
	d.Areas[0].Name = strings.Repeat("很长的重点工作名称", 12)
	b, err := Digest(d, "zh")
	if err != nil {
		t.Fatal(err)
	}
	save(t, "long.png", b)
	img := decode(t, b)
	// Bars still start right of a label column capped at two fifths of the width.
	if n := count(img, image.Rect(Width*2/5+margin+17, 200, Width, 260), ColorDone); n < 200 {
		t.Errorf("the first bar is squeezed out by its label: %d pixels", n)
	}
}

func TestCaption(t *testing.T) {
	d, _ := shippedData(t)
	zh := Caption(d, "zh")
	for _, want := range []string{"2026-12-01", "50 项任务", "未开始 50", "逾期 " + strconv.Itoa(d.Red) + " 项", strconv.Itoa(d.Unbound) + " 个单位未绑定群聊"} {
		if !strings.Contains(zh, want) {
			t.Errorf("caption %q lacks %q", zh, want)
		}
	}
	en := Caption(mixedData(), "en")
	for _, want := range []string{"50 tasks", "17 done", "overdue 44", "behind or unanswered 6", "due soon 3"} {
		if !strings.Contains(en, want) {
			t.Errorf("caption %q lacks %q", en, want)
		}
	}
	if strings.Contains(en, "no chat") {
		t.Errorf("caption %q speaks of unbound departments when there are none", en)
	}
	if n := len([]rune(zh)); n > 1024 {
		t.Errorf("caption is %d characters, over Telegram's 1024", n)
	}
	t.Log(zh)
}

func TestFromDigest(t *testing.T) {
	item := i18n.DigestItem{Task: 1}
	d := FromDigest(i18n.Digest{
		Date:    digestDay,
		Areas:   []i18n.AreaCount{{Area: "甲", Done: 1, InProgress: 2, Blocked: 3, NotStarted: 4}},
		Overdue: []i18n.DepartmentItems{{Department: "市教育局", Tasks: []int{3, 16}}, {Department: "市人社局", Tasks: []int{5}}},
		Red:     []i18n.DigestItem{item, item, item, item}, Yellow: []i18n.DigestItem{item}, Blue: []i18n.DigestItem{item, item},
		Unbound: []string{"湖口县人民政府"}, UnboundOverdue: 1,
	})
	want := Data{Date: digestDay, Areas: []Area{{Name: "甲", Done: 1, InProgress: 2, Blocked: 3, NotStarted: 4}},
		Overdue: []Department{{Name: "市教育局", Overdue: 2}, {Name: "市人社局", Overdue: 1}},
		Red:     4, Yellow: 1, Blue: 2, Unbound: 1, UnboundOverdue: 1}
	if got := d; !equalData(got, want) {
		t.Errorf("FromDigest = %+v, want %+v", got, want)
	}
	if _, err := Digest(d, "zh"); err != nil {
		t.Fatal(err)
	}
}

func equalData(a, b Data) bool {
	if !a.Date.Equal(b.Date) || len(a.Areas) != len(b.Areas) || len(a.Overdue) != len(b.Overdue) {
		return false
	}
	for i := range a.Areas {
		if a.Areas[i] != b.Areas[i] {
			return false
		}
	}
	for i := range a.Overdue {
		if a.Overdue[i] != b.Overdue[i] {
			return false
		}
	}
	return a.Red == b.Red && a.Yellow == b.Yellow && a.Blue == b.Blue && a.Unbound == b.Unbound && a.UnboundOverdue == b.UnboundOverdue
}

func TestTopDepartments(t *testing.T) {
	got := topDepartments(mixedData().Overdue)
	if len(got) != TopDepartments {
		t.Fatalf("%d departments, want %d", len(got), TopDepartments)
	}
	// Most first; ties by name, so the order is the same every week.
	if got[0].Name != "市教育局" || got[1].Name != "市人社局" || got[2].Name != "市财政局" {
		t.Errorf("order %v", got[:3])
	}
	for _, g := range got {
		if g.Overdue == 0 {
			t.Errorf("%s with nothing overdue is ranked", g.Name)
		}
	}
}

// Renders may run at once (the scheduler's digest and /digest): each has its own faces.
func TestConcurrentRenders(t *testing.T) {
	d := mixedData()
	want, err := Digest(d, "zh")
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			got, err := Digest(d, "zh")
			if err == nil && !bytes.Equal(got, want) {
				err = errors.New("a concurrent render differs")
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkDigest(b *testing.B) {
	d, _ := shippedData(b)
	for b.Loop() {
		if _, err := Digest(d, "zh"); err != nil {
			b.Fatal(err)
		}
	}
}
