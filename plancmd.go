package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/scheduler"
	"github.com/duban/duban/store"
)

func cmdPlan(ctx context.Context, env *cliEnv, args []string) error {
	fs, path := newFlags(env, "plan", "")
	fromFlag := fs.String("from", "", "first day, YYYY-MM-DD (default today)")
	toFlag := fs.String("to", "", "last day, YYYY-MM-DD (default 30 days after -from)")
	deptFlag := fs.String("department", "", "show only this department (a name or an alias)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, p, err := config.Load(*path)
	if err != nil {
		return err
	}
	from := time.Now().In(c.Location)
	from = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, c.Location)
	if *fromFlag != "" {
		if from, err = time.ParseInLocation(time.DateOnly, *fromFlag, c.Location); err != nil {
			return usageError{fmt.Errorf("plan: -from: want YYYY-MM-DD, got %q", *fromFlag)}
		}
	}
	to := from.AddDate(0, 0, 30)
	if *toFlag != "" {
		if to, err = time.ParseInLocation(time.DateOnly, *toFlag, c.Location); err != nil {
			return usageError{fmt.Errorf("plan: -to: want YYYY-MM-DD, got %q", *toFlag)}
		}
	}
	to = to.AddDate(0, 0, 1).Add(-time.Nanosecond) // the whole last day
	if to.Before(from) {
		return usageError{fmt.Errorf("plan: -to %s is before -from %s", *toFlag, from.Format(time.DateOnly))}
	}
	dept := ""
	if *deptFlag != "" {
		members := c.Members(*deptFlag)
		if len(members) != 1 || c.IsGroup(*deptFlag) {
			return usageError{fmt.Errorf("plan: -department: %q is not a department in %s", *deptFlag, c.File)}
		}
		dept = members[0]
	}

	// What is already done or sent stays quiet: the simulation starts from the store.
	s, err := openStore(ctx, c, true)
	if err != nil {
		return err
	}
	defer s.Close()
	latest, err := s.Latest(ctx)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	ledger, err := s.Ledger(ctx)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	snoozes, err := s.Snoozes(ctx)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	bindings, err := s.Bindings(ctx)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	return printPlan(env.stdout, c, p, scheduler.NewState(latest, ledger, snoozes), from, to, dept, unboundCount(c, bindings))
}

// unboundCount is how many of the config's departments have no working chat in the store.
func unboundCount(c *config.Config, bindings []store.Binding) int {
	bound := map[string]bool{}
	for _, b := range bindings {
		if b.Broken == "" && b.ChatID != 0 {
			bound[b.Department] = true
		}
	}
	n := 0
	for _, d := range c.DepartmentNames {
		if !bound[d] {
			n++
		}
	}
	return n
}

// printPlan writes the schedule a person checks before trusting the daemon with it: per tick,
// per department, which items at which stage, what the supervisors hear, and digest days.
// unbound is how many departments have no chat in the store: the plan assumes they all have
// one (the daemon holds a department back until it is bound), and says so.
func printPlan(w io.Writer, c *config.Config, p *config.Plan, st *scheduler.State, from, to time.Time, dept string, unbound int) error {
	fmt.Fprintf(w, "duban plan %s to %s, %s (nudge %q, digest %q; calendar: %s)\n",
		from.Format(time.DateOnly), to.Format(time.DateOnly), c.Timezone, c.Schedule.Nudge, c.Schedule.Digest, calendarNote(c))
	fmt.Fprintln(w, "Assumes every department has a chat; what is done or already sent in the store stays quiet.")
	if unbound > 0 {
		fmt.Fprintf(w, "The store has %d of %d departments without a chat: until one is bound, the daemon sends it nothing and\n"+
			"escalates none of its items, and tells the supervisors in one line how many departments and overdue items wait.\n",
			unbound, len(c.DepartmentNames))
	}
	var ticks, messages, items, escalations, digests int
	err := scheduler.Simulate(c, p, st, from.Add(-time.Nanosecond), to, func(ev scheduler.Event) {
		when := ev.At.In(c.Location).Format("2006-01-02 Mon 15:04")
		if ev.Digest {
			digests++
			if dept == "" {
				fmt.Fprintf(w, "\n%s  weekly digest (supervisors and every department with open tasks)\n", when)
			}
			return
		}
		var lines []string
		for _, d := range c.DepartmentNames {
			due := ev.Nudges[d]
			if len(due) == 0 || (dept != "" && d != dept) {
				continue
			}
			slices.SortStableFunc(due, scheduler.Urgency)
			parts := make([]string, len(due))
			for i, n := range due {
				parts[i] = fmt.Sprintf("#%d %s", n.Task.ID, stageName(n))
			}
			lines = append(lines, fmt.Sprintf("  %s (%d): %s", d, len(due), strings.Join(parts, ", ")))
			messages++
			items += len(due)
		}
		var esc []string
		for _, e := range ev.Escalations {
			if dept != "" && e.Department != dept {
				continue
			}
			esc = append(esc, fmt.Sprintf("#%d %s %s", e.Task.ID, e.Department, e.Kind))
		}
		if len(esc) > 0 {
			lines = append(lines, fmt.Sprintf("  supervisors (%d): %s", len(esc), strings.Join(esc, ", ")))
			escalations += len(esc)
		}
		if u := ev.Unbound; u.Key != "" && dept == "" { // only when the state knows who is bound
			lines = append(lines, fmt.Sprintf("  supervisors: %d departments without a chat hold %d overdue items", u.Departments, u.Overdue))
		}
		if len(lines) == 0 {
			return
		}
		ticks++
		fmt.Fprintf(w, "\n%s\n%s\n", when, strings.Join(lines, "\n"))
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d ticks with something to send: %d department messages with %d items, %d escalations; %d digests\n",
		ticks, messages, items, escalations, digests)
	return nil
}

func stageName(n scheduler.Due) string {
	mark := map[scheduler.Color]string{scheduler.Red: "red", scheduler.Yellow: "yellow", scheduler.Blue: "blue"}[n.Color]
	name := string(n.Stage) + " " + n.Label
	switch n.Stage {
	case scheduler.StageOverdue:
		name = "overdue, reminder " + n.Label
	case scheduler.StageStale:
		name = "update asked"
	}
	if mark != "" {
		name += " (" + mark + ")"
	}
	return name
}

func calendarNote(c *config.Config) string {
	if c.Calendar.Empty() {
		return "none, the cron alone decides"
	}
	return fmt.Sprintf("%d holidays, %d make-up working days", len(c.Calendar.Holidays), len(c.Calendar.Workdays))
}
