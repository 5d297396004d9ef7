package config

import (
	"regexp"
)

var envRe = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`)

// expandEnv replaces ${VAR} and ${VAR:-default} in the file's text before it is parsed, as
// Loki and Promtail do; $$ is a literal $. Only the braced form is expanded, so a $ inside a
// value is safe. The substituted text is not quoted: quote a value that may hold YAML syntax.
func expandEnv(data []byte, env func(string) (string, bool)) []byte {
	return envRe.ReplaceAllFunc(data, func(m []byte) []byte {
		if string(m) == "$$" {
			return []byte("$")
		}
		sub := envRe.FindSubmatch(m)
		if v, ok := env(string(sub[1])); ok && v != "" {
			return []byte(v)
		}
		return sub[2]
	})
}
