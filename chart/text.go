package chart

import (
	_ "embed"
	"fmt"
	"image"
	"image/color"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// fontData is Noto Sans CJK SC Regular cut down to GB2312, ASCII, CJK punctuation and the
// shipped plan's characters by font/subset.sh (SIL OFL 1.1, font/OFL.txt). It is embedded so
// the daemon needs no fonts on the machine, as government servers often have none for Chinese.
//
//go:embed font/cjk-subset.otf
var fontData []byte

// Placeholder is drawn for a character the font lacks. 〓 (U+3013, the geta mark) is what
// Chinese and Japanese typesetting has long used for a missing character; unlike the font's
// .notdef box it reads as "a character is missing here", and the rest of the label stays
// legible around it.
const Placeholder = '〓'

var parsedFont = sync.OnceValues(func() (*sfnt.Font, error) {
	f, err := opentype.Parse(fontData)
	if err != nil {
		return nil, fmt.Errorf("chart: parse embedded font: %w", err)
	}
	return f, nil
})

// typesetter draws text for one render. opentype faces keep scratch buffers, so each render
// makes its own and renders can run at once.
type typesetter struct {
	f       *sfnt.Font
	buf     sfnt.Buffer
	faces   map[float64]font.Face
	missing int // characters replaced by Placeholder
}

// sizes are the text sizes the chart uses; their faces are made once per render.
var sizes = []float64{sizeTitle, sizeHeading, sizeText, sizeSmall}

func newTypesetter() (*typesetter, error) {
	f, err := parsedFont()
	if err != nil {
		return nil, err
	}
	ts := &typesetter{f: f, faces: map[float64]font.Face{}}
	for _, size := range sizes {
		fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
		if err != nil {
			ts.close()
			return nil, fmt.Errorf("chart: font face at %vpx: %w", size, err)
		}
		ts.faces[size] = fc
	}
	return ts, nil
}

// face is the face for one of sizes; another size is a bug in this package.
func (ts *typesetter) face(size float64) font.Face {
	fc, ok := ts.faces[size]
	if !ok {
		panic(fmt.Sprintf("chart: no face at %vpx", size))
	}
	return fc
}

func (ts *typesetter) close() {
	for _, fc := range ts.faces {
		fc.Close()
	}
}

// clean returns s as the font can draw it: line breaks and other controls become spaces, and
// a character without a glyph becomes Placeholder, so nothing is drawn as a .notdef box.
func (ts *typesetter) clean(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsControl(r) || unicode.IsSpace(r):
			r = ' '
		case !ts.has(r):
			r = Placeholder
			ts.missing++
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (ts *typesetter) has(r rune) bool {
	i, err := ts.f.GlyphIndex(&ts.buf, r)
	return err == nil && i != 0
}

// width is how wide s is drawn at size, in pixels; s must be clean.
func (ts *typesetter) width(s string, size float64) int {
	return font.MeasureString(ts.face(size), s).Ceil()
}

// fit cuts s (clean) with an ellipsis so that it is at most w pixels wide.
func (ts *typesetter) fit(s string, size float64, w int) string {
	if ts.width(s, size) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 {
		r = r[:len(r)-1]
		if t := string(r) + "…"; ts.width(t, size) <= w {
			return t
		}
	}
	return ""
}

type align int

const (
	left align = iota
	right
	center
)

// draw writes s on dst with its baseline at y; x is its left edge, right edge or centre by a.
// It returns the text's width. s is cleaned here.
func (ts *typesetter) draw(dst *image.RGBA, s string, size float64, x, y int, a align, c color.Color) int {
	s = ts.clean(s)
	w := ts.width(s, size)
	switch a {
	case right:
		x -= w
	case center:
		x -= w / 2
	}
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: ts.face(size), Dot: fixed.P(x, y)}
	d.DrawString(s)
	return w
}

// baseline puts text of size in the middle of a row from top, h high: CJK glyphs sit about
// 0.88 em above the baseline and 0.12 below, so their middle is 0.38 em up.
func baseline(top, h int, size float64) int {
	return top + h/2 + int(size*0.38+0.5)
}
