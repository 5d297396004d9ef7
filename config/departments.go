package config

import (
	"net/url"
	"slices"
)

// Known reports whether name is a department, a group or an alias.
func (c *Config) Known(name string) bool {
	name = c.canonical(name)
	_, isDept := c.Departments[name]
	_, isGroup := c.Groups[name]
	return isDept || isGroup
}

// IsGroup reports whether name (or the name an alias stands for) is a group.
func (c *Config) IsGroup(name string) bool {
	_, ok := c.Groups[c.canonical(name)]
	return ok
}

// canonical resolves an alias to the name it stands for.
func (c *Config) canonical(name string) string {
	if target, ok := c.Aliases[name]; ok {
		return target
	}
	return name
}

// Members returns the departments that name stands for: itself for a department, every
// member for a group (groups inside groups expand too), in the order written and each once.
// An unknown name or a cycle yields what could be resolved; Validate reports both.
func (c *Config) Members(name string) []string {
	var out []string
	c.expand(c.canonical(name), map[string]bool{}, &out)
	return out
}

func (c *Config) expand(name string, visiting map[string]bool, out *[]string) {
	if members, ok := c.Groups[name]; ok {
		if visiting[name] {
			return
		}
		visiting[name] = true
		for _, m := range members {
			c.expand(c.canonical(m), visiting, out)
		}
		return
	}
	if _, ok := c.Departments[name]; ok && !slices.Contains(*out, name) {
		*out = append(*out, name)
	}
}

// Chat returns the chat a department is bound to in config.yaml, 0 if none.
func (c *Config) Chat(department string) int64 { return c.Departments[c.canonical(department)].Chat }

// orderedKeys returns m's keys in the order the file wrote them, then (for a Config built in
// code, with no file) any others in sorted order.
func orderedKeys[V any](d *document, key string, m map[string]V) []string {
	out := make([]string, 0, len(m))
	for _, k := range d.keys(key) {
		if _, ok := m[k]; ok && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	var rest []string
	for k := range m {
		if !slices.Contains(out, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// redactURL drops a password from a store URL before it is shown to anyone.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
