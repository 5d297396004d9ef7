package plantable

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/duban/duban/config"
)

// AddDepartments returns config.yaml's text with names added to its departments: mapping,
// each as "  名称: { chat: 0 }" (not bound yet: an admin binds it with /invite). The lines are
// inserted as text after the last line of the departments block, so that every comment and
// the file's layout stay exactly as they were; the result is then parsed as config.yaml to
// prove it still is one, and every name must be known to it. A file with no departments key
// gets one at its end; one whose departments are written in flow style ({…}) is refused, as
// text cannot be inserted there without rewriting it. env expands ${VAR} as config does.
func AddDepartments(file string, data []byte, names []string, env func(string) (string, bool)) ([]byte, error) {
	if len(names) == 0 {
		return data, nil
	}
	text := string(data)
	nl := "\n"
	if strings.Contains(text, "\r\n") {
		nl = "\r\n"
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	start := -1
	for i, l := range lines {
		m := departmentsKeyRe.FindStringSubmatch(strings.TrimRight(l, "\r\n"))
		if m == nil {
			continue
		}
		if m[1] != "" {
			return nil, fmt.Errorf("%s:%d: departments is written in flow style ({…}): add %s by hand, one per line, or write the mapping as a block", file, i+1, strings.Join(names, "、"))
		}
		start = i
		break
	}
	indent := "  "
	var added []string
	for _, n := range names {
		added = append(added, "%s"+scalar(n, true)+": { chat: 0 }"+nl)
	}
	var out strings.Builder
	if start < 0 {
		out.WriteString(text)
		if text != "" && !strings.HasSuffix(text, "\n") {
			out.WriteString(nl)
		}
		out.WriteString(nl + "departments:" + nl)
		for _, a := range added {
			fmt.Fprintf(&out, a, indent)
		}
	} else {
		last := start // the block's last line: indented, not blank
		for i := start + 1; i < len(lines); i++ {
			l := strings.TrimRight(lines[i], "\r\n")
			if strings.TrimSpace(l) == "" {
				continue
			}
			if l[0] != ' ' && l[0] != '\t' {
				break
			}
			if last == start && !strings.HasPrefix(strings.TrimSpace(l), "#") {
				indent = l[:len(l)-len(strings.TrimLeft(l, " \t"))]
			}
			last = i
		}
		for _, l := range lines[:last+1] {
			out.WriteString(l)
		}
		if !strings.HasSuffix(lines[last], "\n") {
			out.WriteString(nl)
		}
		for _, a := range added {
			fmt.Fprintf(&out, a, indent)
		}
		for _, l := range lines[last+1:] {
			out.WriteString(l)
		}
	}
	result := []byte(out.String())
	c, err := config.ParseConfig(file, result, env)
	if err != nil {
		return nil, fmt.Errorf("%s would not be valid with %s added: %w", file, strings.Join(names, "、"), err)
	}
	var missing []string
	for _, n := range names {
		if !c.Known(n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, errors.New(file + ": could not add " + strings.Join(missing, "、") + " to its departments")
	}
	return result, nil
}

// departmentsKeyRe is the top-level departments: key; group 1 is a flow mapping after it.
var departmentsKeyRe = regexp.MustCompile(`^departments:[ \t]*(\{.*)?(?:#.*)?$`)
