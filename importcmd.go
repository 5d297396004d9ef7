package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/duban/duban/config"
	"github.com/duban/duban/plantable"
)

// cmdImport is `duban import FILE`: a plan's table (xlsx, docx, CSV or the flattened text)
// to tasks.yaml, or, over an existing tasks.yaml, its next revision with every task's id kept
// (see plantable/revise.go). Nothing is written unless every row reads; with -config, the
// departments the table names and config.yaml does not know are added to it, unbound.
func cmdImport(_ context.Context, env *cliEnv, args []string) error {
	flags, path := newFlags(env, "import", " FILE")
	sheet := flags.String("sheet", "", "the xlsx sheet or docx table (表2) to read (default: the first with a header)")
	out := flags.String("o", "", "the tasks.yaml to write, or to revise if it exists (default: config.yaml's tasks, else tasks.yaml)")
	dryRun := flags.Bool("dry-run", false, "print the summary, the changes and the tasks.yaml that would be written; write nothing")
	standing := flags.String("standing-review", "", "give tasks with no fixed date (长期坚持, 持续推进) a review every this long, such as 90d:\n"+
		"the deadline is the next review (default: such tasks are refused)")
	file, err := parseImportFlags(flags, args)
	if err != nil {
		return err
	}
	explicitConfig := false
	flags.Visit(func(f *flag.Flag) { explicitConfig = explicitConfig || f.Name == "config" })

	var review time.Duration
	if *standing != "" {
		d, err := config.ParseDuration(*standing)
		if err != nil {
			return usageError{fmt.Errorf("import: -standing-review: %w", err)}
		}
		review = time.Duration(d)
	}

	// The config gives the names the plan may use, the time zone and where tasks.yaml is; the
	// import works without one (every name is then new) unless -config names it.
	c, cerr := config.LoadConfig(*path)
	if cerr != nil {
		if explicitConfig || !errors.Is(cerr, fs.ErrNotExist) {
			return cerr
		}
		c = nil
	}
	loc := time.Local
	opt := plantable.Options{StandingReview: review, StandingReviewText: *standing}
	if c != nil {
		loc, opt.Known = c.Location, c.Known
	} else if l, err := time.LoadLocation(config.Default().Timezone); err == nil {
		loc = l
	}
	now := time.Now().In(loc)
	opt.Today = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)

	tasksPath := *out
	if tasksPath == "" {
		tasksPath = "tasks.yaml"
		if c != nil {
			tasksPath = c.TasksPath()
		}
	}

	tables, err := plantable.Open(file, plantable.ReadOptions{Sheet: *sheet})
	if err != nil {
		return importProblems(env.stderr, file, err)
	}
	var existing *plantable.Existing
	switch ex, err := plantable.ReadExisting(tasksPath); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("import: read %s: %w", tasksPath, err)
	default:
		existing = ex
	}
	o, err := plantable.Import(tables, opt, existing)
	if err != nil {
		return importProblems(env.stderr, file, err)
	}
	merged, diff, revising := o.Tasks, o.Diff, o.Revising
	plan := bytes.NewBuffer(o.Plan)

	// New names go into config.yaml only when -config names it; the result must still be a
	// config, and the plan must pass it, before anything is written.
	newNames := o.Summary.New
	var cfgData []byte
	if c != nil && explicitConfig && len(newNames) > 0 {
		old, err := os.ReadFile(c.File)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if cfgData, err = plantable.AddDepartments(c.File, old, newNames, os.LookupEnv); err != nil {
			return usageError{fmt.Errorf("import: %w", err)}
		}
		if c, err = config.ParseConfig(c.File, cfgData, os.LookupEnv); err != nil {
			return err
		}
	}
	if c != nil && (len(newNames) == 0 || cfgData != nil) {
		if _, err := config.ParsePlan(tasksPath, plan.Bytes(), c); err != nil {
			return fmt.Errorf("import: the tasks.yaml written from %s does not load (a bug in duban import): %w", file, err)
		}
	}

	w := env.stdout
	against := ""
	if c != nil {
		against = c.File
	}
	o.WriteSummary(w, against)
	if len(o.Summary.New) > 0 && c != nil && !explicitConfig {
		fmt.Fprintf(w, "  (pass -config %s to add them to its departments, without chats)\n", c.File)
	}
	fmt.Fprintln(w)
	if revising {
		fmt.Fprintf(w, "changes to %s:\n", tasksPath)
		if err := diff.Write(indentWriter{w}); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if *dryRun {
		if revising && diff.Empty() {
			fmt.Fprintf(w, "dry run: nothing written. %s would stay as it is (%d tasks)\n", tasksPath, len(merged))
		} else {
			fmt.Fprintf(w, "dry run: nothing written. %s would be:\n\n", tasksPath)
			w.Write(plan.Bytes())
		}
		if cfgData != nil {
			fmt.Fprintf(w, "\n%s would get %d department(s): %s\n", c.File, len(newNames), strings.Join(newNames, "、"))
		}
		return nil
	}
	if cfgData != nil {
		if err := plantable.WriteFileAtomic(c.File, cfgData); err != nil {
			return fmt.Errorf("import: write %s: %w", c.File, err)
		}
		fmt.Fprintf(w, "wrote %s: added %d department(s) without a chat: %s\n", c.File, len(newNames), strings.Join(newNames, "、"))
	}
	if revising && diff.Empty() {
		fmt.Fprintf(w, "%s: unchanged (%d tasks)\n", tasksPath, len(merged))
		return nil
	}
	if err := plantable.WriteFileAtomic(tasksPath, plan.Bytes()); err != nil {
		return fmt.Errorf("import: write %s: %w", tasksPath, err)
	}
	fmt.Fprintf(w, "wrote %s: %d tasks from %s\n", tasksPath, len(merged), o.Summary.Source)
	if len(newNames) > 0 && cfgData == nil {
		fmt.Fprintf(w, "next: add %s to config.yaml's departments (or run again with -config config.yaml), then duban check\n", strings.Join(newNames, "、"))
	}
	return nil
}

// parseImportFlags parses flags before and after FILE, so `duban import plan.xlsx -dry-run`
// works as people type it.
func parseImportFlags(flags *flag.FlagSet, args []string) (string, error) {
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", usageError{err}
	}
	if flags.NArg() == 0 {
		return "", usageError{errors.New("import: name the plan's file: duban import [flags] plan.xlsx (or .docx, .csv, .txt)")}
	}
	file := flags.Arg(0)
	if err := parseFlags(flags, flags.Args()[1:]); err != nil {
		return "", err
	}
	return file, nil
}

// importProblems prints every problem of the file, one per line with its place, and returns
// the usage error that exits 2: nothing has been written.
func importProblems(stderr io.Writer, file string, err error) error {
	var ps plantable.Problems
	if !errors.As(err, &ps) {
		return usageError{fmt.Errorf("import: %s: %w; nothing was written", filepath.Base(file), err)}
	}
	for _, p := range ps {
		fmt.Fprintln(stderr, p.String())
	}
	return usageError{fmt.Errorf("import: %d problem(s) in %s; nothing was written", len(ps), filepath.Base(file))}
}

// indentWriter indents every line it is given by two spaces, for a block under a heading.
type indentWriter struct{ w io.Writer }

func (iw indentWriter) Write(p []byte) (int, error) {
	var b bytes.Buffer
	for line := range strings.Lines(string(p)) {
		b.WriteString("  " + line)
	}
	if _, err := iw.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
