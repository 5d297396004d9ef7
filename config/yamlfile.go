package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// document is one parsed YAML file. The node tree is kept beside the decoded value because
// validation needs the line of every setting it complains about.
type document struct {
	root  *yaml.Node     // the top-level mapping
	paths map[int]string // line → the setting written on it, to place decoder errors
	name  func(parent string, i int, n *yaml.Node) string
}

// decodeStrict parses data into v: a syntax error, an unknown key anywhere or a value of the
// wrong type is added to errs, all of them rather than the first. It returns nil when the
// file could not be parsed at all.
func decodeStrict(data []byte, v any, errs *errorList, name func(string, int, *yaml.Node) string) *document {
	return decodeLines(data, nil, v, errs, name)
}

// decodeLines is decodeStrict on text whose lines are not the file's: lines[i] is the line of
// the file that line i+1 of data came from (see expandEnvLines); nil when they are the same.
// Every line it reports, and every line the document holds, is the file's.
func decodeLines(data []byte, lines []int, v any, errs *errorList, name func(string, int, *yaml.Node) string) *document {
	fileLine := func(line int) int {
		if line > 0 && line <= len(lines) {
			return lines[line-1]
		}
		return line
	}
	var file yaml.Node
	if err := yaml.Unmarshal(data, &file); err != nil {
		_, msg := splitLine(err.Error())
		errs.add(fileLine(syntaxErrorLine(data, msg)), "", "%s", strings.TrimPrefix(msg, "yaml: "))
		return nil
	}
	if lines != nil {
		relines(&file, fileLine, map[*yaml.Node]bool{})
	}
	if len(file.Content) == 0 {
		errs.add(0, "", "the file is empty")
		return nil
	}
	root := file.Content[0]
	if root.Kind != yaml.MappingNode {
		errs.add(root.Line, "", "want a mapping of settings at the top level")
		return nil
	}
	doc := &document{root: root, paths: map[int]string{}, name: name}
	doc.checkKnown(root, reflect.TypeOf(v).Elem(), "", errs)
	if err := root.Decode(v); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			errs.add(0, "", "%v", err)
			return doc
		}
		for _, msg := range te.Errors {
			line, text := splitLine(msg)
			errs.add(line, doc.paths[line], "%s", friendlyTypeError(text))
		}
	}
	return doc
}

// syntaxErrorLine returns the line of the syntax error msg (yaml.v3's, "line N: " cut off) in
// data. yaml.v3's own line is not it: for a parser error it is the 0-based line of the list or
// mapping being read (an unclosed [ on line 13 comes out as 12, a mis-indented key on line 11 as
// the line before its mapping began), and some errors have none. The error is on the first line
// from which no prefix of the file reads as YAML, and, among those, the first whose prefix
// fails as the whole file does: an unclosed [ is placed on its own line, a bad token inside a
// list that spans lines on the token's line.
func syntaxErrorLine(data []byte, msg string) int {
	ends := []int{} // ends[k] is the length of the file's first k+1 lines
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	parse := func(k int) (string, bool) {
		var n yaml.Node
		err := yaml.Unmarshal(data[:ends[k-1]], &n)
		if err == nil {
			return "", true
		}
		_, m := splitLine(err.Error())
		return m, false
	}
	last := len(ends)
	good := 0 // the longest prefix that reads as YAML
	for k := last - 1; k > 0; k-- {
		if _, ok := parse(k); ok {
			good = k
			break
		}
	}
	for k := good + 1; k < last; k++ {
		if m, _ := parse(k); m == msg {
			return k
		}
	}
	return last
}

// relines moves every node of the tree to the line of the file it was written on.
func relines(n *yaml.Node, fileLine func(int) int, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	n.Line = fileLine(n.Line)
	for _, c := range n.Content {
		relines(c, fileLine, seen)
	}
}

// expandEnvLines is expandEnv that also says, for each line of the expanded text, the line of
// data it came from: a value of several lines (or a default of several lines replaced by one)
// must not move every later error. The extra lines of a value belong to the line of its ${VAR}.
func expandEnvLines(data []byte, env func(string) (string, bool)) ([]byte, []int) {
	var out []byte
	lines := []int{1}
	line, last := 1, 0
	literal := func(b []byte) {
		for _, c := range b {
			if c == '\n' {
				line++
				lines = append(lines, line)
			}
		}
		out = append(out, b...)
	}
	for _, m := range envRe.FindAllIndex(data, -1) {
		literal(data[last:m[0]])
		// Each match alone expands as it does in the whole text, so the text is expandEnv's.
		value := expandEnv(data[m[0]:m[1]], env)
		for range bytes.Count(value, []byte("\n")) {
			lines = append(lines, line)
		}
		out = append(out, value...)
		line += bytes.Count(data[m[0]:m[1]], []byte("\n"))
		last = m[1]
	}
	literal(data[last:])
	return out, lines
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// checkKnown walks the node tree beside the Go type it decodes into and reports keys that the
// type has no field for: a misspelt setting must fail loudly, not be ignored.
func (d *document) checkKnown(n *yaml.Node, t reflect.Type, path string, errs *errorList) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		d.setPath(n.Line, path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.setPath(n.Line, path)
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			child := joinPath(path, key.Value)
			ft, ok := fields[key.Value]
			if !ok {
				errs.add(key.Line, child, "unknown field%s", suggest(key.Value, fields))
				continue
			}
			d.checkKnown(val, ft, child, errs)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.setPath(n.Line, path)
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			d.checkKnown(n.Content[i+1], t.Elem(), joinPath(path, n.Content[i].Value), errs)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.setPath(n.Line, path)
			return
		}
		for i, c := range n.Content {
			d.checkKnown(c, t.Elem(), d.elementName(path, i, c), errs)
		}
	default:
		d.setPath(n.Line, path)
	}
}

// setPath remembers which setting a line holds. Several values on one line (a flow list such
// as [30d, 7d]) leave the line naming the setting they share, not the last of them.
func (d *document) setPath(line int, path string) {
	prev, ok := d.paths[line]
	if !ok {
		d.paths[line] = path
		return
	}
	for !strings.HasPrefix(path, prev) {
		cut := strings.LastIndexAny(prev, ".[:")
		if cut < 0 {
			prev = ""
			break
		}
		prev = strings.TrimRight(prev[:cut], ": ")
	}
	d.paths[line] = prev
}

func (d *document) elementName(parent string, i int, n *yaml.Node) string {
	if d.name != nil {
		if s := d.name(parent, i, n); s != "" {
			return s
		}
	}
	return fmt.Sprintf("%s[%d]", parent, i)
}

// line returns the line of the value at path (mapping keys as strings, sequence indexes as
// ints), or of the deepest part of the path that exists, so an error always points somewhere.
func (d *document) line(path ...any) int {
	if d == nil {
		return 0
	}
	for k := len(path); k >= 0; k-- {
		if n := d.at(path[:k]...); n != nil {
			return n.Line
		}
	}
	return 0
}

// keyLine is like line but returns the line of the last key itself, for problems with a name
// rather than a value (a group in a cycle, a duplicate department).
func (d *document) keyLine(path ...string) int {
	if d == nil || len(path) == 0 {
		return 0
	}
	parent := make([]any, len(path)-1)
	for i, p := range path[:len(path)-1] {
		parent[i] = p
	}
	n := d.at(parent...)
	if n == nil || n.Kind != yaml.MappingNode {
		return d.line(parent...)
	}
	last := path[len(path)-1]
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == last {
			return n.Content[i].Line
		}
	}
	return n.Line
}

// keys returns the keys of the mapping at path in file order: YAML mappings decode into Go
// maps, which forget the order a person wrote them in.
func (d *document) keys(path ...any) []string {
	n := d.at(path...)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([]string, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i].Value)
	}
	return out
}

func (d *document) at(path ...any) *yaml.Node {
	if d == nil {
		return nil
	}
	n := d.root
	for _, p := range path {
		var next *yaml.Node
		switch p := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == p {
						next = n.Content[i+1]
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && p < len(n.Content) {
				next = n.Content[p]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

func joinPath(parent, child string) string {
	switch {
	case parent == "":
		return child
	case strings.HasPrefix(parent, "task ") && !strings.ContainsAny(parent, ".:["):
		return parent + ": " + child
	default:
		return parent + "." + child
	}
}

// fieldsByType holds yamlFields' answer for each struct type: checkKnown asks once per node,
// and a plan of 10,000 tasks has tens of thousands (listing the fields anew each time was a
// seventh of the bytes loading it allocates).
var fieldsByType sync.Map // reflect.Type → map[string]reflect.Type, never changed once stored

// yamlFields returns the keys a struct type decodes from, each with its field's type.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldsByType.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m, _ := fieldsByType.LoadOrStore(t, listFields(t))
	return m.(map[string]reflect.Type)
}

func listFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "-" || !f.IsExported() {
			continue
		}
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		out[tag] = f.Type
	}
	return out
}

func suggest(key string, fields map[string]reflect.Type) string {
	best, bestDist := "", 3
	for name := range fields {
		if d := editDistance(key, name); d < bestDist || (d == bestDist && best != "" && name < best) {
			best, bestDist = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

var (
	lineRe      = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unmarshalRe = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")
)

func splitLine(msg string) (int, string) {
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 0, msg
}

// friendlyTypeError turns yaml.v3's Go-flavoured message into what a person wrote wrong.
func friendlyTypeError(msg string) string {
	m := unmarshalRe.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	want := m[3]
	switch {
	case strings.HasPrefix(want, "int") || strings.HasPrefix(want, "uint"):
		want = "a whole number"
	case strings.HasPrefix(want, "float"):
		want = "a number"
	case strings.HasPrefix(want, "[]"):
		want = "a list"
	case strings.HasPrefix(want, "map["):
		want = "a mapping"
	case want == "string":
		want = "text"
	case want == "bool":
		want = "true or false"
	default:
		want = "a mapping"
	}
	got := m[2]
	switch m[1] {
	case "seq":
		got = "a list"
	case "map":
		got = "a mapping"
	default:
		got = strconv.Quote(got)
	}
	return fmt.Sprintf("want %s, got %s", want, got)
}
