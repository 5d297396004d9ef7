package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkLoad is config.Load of a provincial plan (10,000 tasks × 3 of 37 departments, the
// load tool's export shape) and of the shipped size (50 tasks): what the daemon's start, a
// reload and every command that reads the plan pay.
//
//	go test -run '^$' -bench Load -benchmem -count 6 ./config/
func BenchmarkLoad(b *testing.B) {
	for _, tasks := range []int{50, 10_000} {
		b.Run(fmt.Sprintf("tasks=%d", tasks), func(b *testing.B) {
			path := writePlan(b, 37, tasks)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Load(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// writePlan writes config.yaml and tasks.yaml for depts departments and tasks tasks of three
// departments each into a temporary directory, and returns config.yaml's path.
func writePlan(tb testing.TB, depts, tasks int) string {
	tb.Helper()
	dir := tb.TempDir()
	var c strings.Builder
	c.WriteString("timezone: Asia/Shanghai\nlanguage: zh\ntasks: tasks.yaml\ntelegram:\n  token: \"123:abc\"\nsupervisors: { chat: -100 }\ndepartments:\n")
	for i := range depts {
		fmt.Fprintf(&c, "  部门%d: { chat: 0 }\n", i)
	}
	var t strings.Builder
	t.WriteString("tasks:\n")
	for i := range tasks {
		fmt.Fprintf(&t, "  - id: %d\n    area: 负载测试\n    goal: \"任务%d\"\n    metric: \"完成率达到%d%%\"\n    departments: [部门%d, 部门%d, 部门%d]\n    deadline: 2027-06-30\n",
			i+1, i+1, i%100, i%depts, (i+1)%depts, (i+2)%depts)
	}
	for name, text := range map[string]string{"config.yaml": c.String(), "tasks.yaml": t.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return filepath.Join(dir, "config.yaml")
}
