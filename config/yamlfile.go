package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

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
	var file yaml.Node
	if err := yaml.Unmarshal(data, &file); err != nil {
		line, msg := splitLine(err.Error())
		errs.add(line, "", "%s", strings.TrimPrefix(msg, "yaml: "))
		return nil
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

func yamlFields(t reflect.Type) map[string]reflect.Type {
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
