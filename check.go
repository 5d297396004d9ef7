package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/duban/duban/config"
)

func cmdCheck(_ context.Context, env *cliEnv, args []string) error {
	fs, path := newFlags(env, "check", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, p, err := config.Load(*path)
	if err != nil {
		return err
	}
	printSummary(env.stdout, c, p)
	return nil
}

// printSummary is what a person checks before starting the daemon: that every department
// holds the tasks it should, and which still need a chat.
func printSummary(w io.Writer, c *config.Config, p *config.Plan) {
	fmt.Fprintf(w, "%s: ok (time zone %s, language %s, store: %s, telegram: %s)\n",
		c.File, c.Timezone, c.Language, c.StoreDescription(), c.Telegram.Mode)

	areas := map[string]bool{}
	var first, last time.Time
	for _, t := range p.Tasks {
		areas[t.Area] = true
		if first.IsZero() || t.Deadline.Before(first) {
			first = t.Deadline
		}
		if t.Deadline.After(last) {
			last = t.Deadline
		}
	}
	fmt.Fprintf(w, "%s: ok (%d tasks in %d areas, deadlines %s to %s)\n",
		c.TasksPath(), len(p.Tasks), len(areas), first.In(c.Location).Format(time.DateOnly), last.In(c.Location).Format(time.DateOnly))

	var unbound []string
	for _, d := range c.DepartmentNames {
		if c.Departments[d].Chat == 0 {
			unbound = append(unbound, d)
		}
	}
	fmt.Fprintf(w, "departments: %d (%d with a chat in config.yaml), groups: %d, aliases: %d\n",
		len(c.DepartmentNames), len(c.DepartmentNames)-len(unbound), len(c.Groups), len(c.Aliases))
	if c.Supervisors.Chat == 0 {
		fmt.Fprintln(w, "supervisors chat: not set (escalations and the overall digest have nowhere to go)")
	} else {
		fmt.Fprintf(w, "supervisors chat: %d\n", c.Supervisors.Chat)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "tasks per department (groups expanded):")
	fmt.Fprintln(w, "  tasks  leads  department")
	for _, d := range c.DepartmentNames {
		tasks := p.TasksFor(d)
		leads := 0
		for _, t := range tasks {
			if t.IsLead(d) {
				leads++
			}
		}
		fmt.Fprintf(w, "  %5d  %5d  %s\n", len(tasks), leads, d)
	}

	if len(unbound) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintf(w, "departments without a chat yet (%d; bind them with /invite, see README):\n", len(unbound))
		fmt.Fprintf(w, "  %s\n", strings.Join(wrapNames(unbound, 8), "\n  "))
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "warnings:")
		for _, warn := range p.Warnings {
			fmt.Fprintf(w, "  %s\n", warn)
		}
	}
}

// wrapNames puts n names on a line, so a long list stays readable in a terminal.
func wrapNames(names []string, n int) []string {
	var lines []string
	for chunk := range slices.Chunk(names, n) {
		lines = append(lines, strings.Join(chunk, "、"))
	}
	return lines
}
