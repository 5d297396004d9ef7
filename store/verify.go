package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ChainReader is the read side of a store that Verify needs.
type ChainReader interface {
	// Chains returns the ids of the tasks that have a chain.
	Chains(ctx context.Context) ([]int, error)
	// Updates returns the stored updates of task in seq order.
	Updates(ctx context.Context, task int) ([]Update, error)
	// Head returns the hash of the task's last update and how many updates
	// the store has appended to the chain, as the store recorded them.
	Head(ctx context.Context, task int) (hash string, count int64, err error)
}

// ProblemKind says what Verify found wrong with a record.
type ProblemKind string

// What Verify can find.
const (
	// ProblemAltered: the record does not match its own hash; its content
	// (or its hash) was changed after it was written.
	ProblemAltered ProblemKind = "altered"
	// ProblemSeqGap: the record's seq is not the one after the previous
	// record's: records were removed before it (or inserted).
	ProblemSeqGap ProblemKind = "seq_gap"
	// ProblemLinkBroken: seq is in order but prev_hash does not match the
	// previous record's hash: a record before it was replaced, re-hashed, or
	// inserted.
	ProblemLinkBroken ProblemKind = "link_broken"
	// ProblemHeadMismatch: the chain does not end where the store's recorded
	// head says: records were removed from the tail (or appended or replaced
	// behind the store's back).
	ProblemHeadMismatch ProblemKind = "head_mismatch"
)

// What VerifyLatest can find: the derived latest state, which export, the digest, the
// scheduler and /status read instead of the updates, does not say what the updates say.
const (
	// ProblemLatestDiffers: the stored state of a department on a task is not the one its
	// updates derive (Detail names each field that differs).
	ProblemLatestDiffers ProblemKind = "latest_differs"
	// ProblemLatestMissing: the department has updates on the task but no stored state.
	ProblemLatestMissing ProblemKind = "latest_missing"
	// ProblemLatestOrphan: a stored state with no update of the department on the task behind it.
	ProblemLatestOrphan ProblemKind = "latest_orphan"
)

// Problem is one thing Verify or VerifyLatest found wrong.
type Problem struct {
	Task int `json:"task"`
	// Department is set for the problems of VerifyLatest, which are about one department's
	// state on the task rather than one record.
	Department string `json:"department,omitempty"`
	// Copy is, for the problems of VerifyLatest, the copy of the stored states it is in
	// ("latest"; see LatestReader).
	Copy string `json:"copy,omitempty"`
	// Seq is the record the problem was found at; for ProblemHeadMismatch
	// it is the seq the head says the chain ends at; for VerifyLatest's, the
	// department's last update (the stored one for ProblemLatestOrphan).
	Seq    int64       `json:"seq"`
	Kind   ProblemKind `json:"kind"`
	Detail string      `json:"detail"`
}

func (p Problem) String() string {
	if p.Department != "" {
		return fmt.Sprintf("task %d %s: %s: %s", p.Task, p.Department, p.Kind, p.Detail)
	}
	return fmt.Sprintf("task %d seq %d: %s: %s", p.Task, p.Seq, p.Kind, p.Detail)
}

// StoredState is one latest state as a backend keeps it, read without the joins and checks
// Latest makes, so that VerifyLatest sees what is really there.
type StoredState struct {
	// Task and Department are the key the state is stored under.
	Task       int
	Department string
	// State is what is stored under the key, its Task and Department included.
	State State
	// LastCopied says State.Last is a copy the backend keeps of the last update (Redis);
	// otherwise the backend keeps only its seq, State.Last.Seq, and reads the update itself.
	LastCopied bool
}

// LatestReader is the read side of a store that VerifyLatest needs.
type LatestReader interface {
	ChainReader
	// StoredLatest returns every stored latest state, by the name of the copy it is in
	// ("latest"; a backend that keeps a second copy per department names it too). Every copy
	// the backend keeps is in the map, empty or not. departments are the departments the
	// caller knows from the updates, for a backend that keeps a copy per department.
	StoredLatest(ctx context.Context, departments []string) (map[string][]StoredState, error)
}

// Verify walks every chain of r and reports what does not add up: records
// whose content does not match their hash, gaps and broken links between
// records, and chains that do not end at the recorded head. A clean store
// yields no problems. Each record is linked to the previous record's stored
// hash, so one altered record is reported once, not at every later record.
//
// Each chain is read between two readings of its head and read again if
// the head moved, so Verify runs beside a daemon recording replies.
//
// Verify cannot notice a tail removed together with a matching rewrite of
// the head; comparing heads with an earlier export catches that. Nor does it
// look at the latest states; VerifyLatest does.
func Verify(ctx context.Context, r ChainReader) ([]Problem, error) {
	tasks, err := r.Chains(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	var problems []Problem
	for _, task := range tasks {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		ups, head, err := readChain(ctx, r, task)
		if err != nil {
			return nil, err
		}
		problems = append(problems, verifyChain(task, ups, head.Hash, head.Seq)...)
	}
	return problems, nil
}

// readChain reads a task's updates between two readings of its head, until the head did not
// move meanwhile: beside the daemon, a reply recorded between the reads would otherwise look
// like a record appended or a tail removed. Every Record moves the head of each task it
// touches.
func readChain(ctx context.Context, r ChainReader, task int) ([]Update, ChainHead, error) {
	for range stableReads {
		before, err := readHead(ctx, r, task)
		if err != nil {
			return nil, ChainHead{}, err
		}
		ups, err := r.Updates(ctx, task)
		if err != nil {
			return nil, ChainHead{}, fmt.Errorf("verify task %d: %w", task, err)
		}
		after, err := readHead(ctx, r, task)
		if err != nil {
			return nil, ChainHead{}, err
		}
		if before == after {
			return ups, after, nil
		}
	}
	return nil, ChainHead{}, fmt.Errorf("verify task %d: %w", task, errKeptChanging)
}

func readHead(ctx context.Context, r ChainReader, task int) (ChainHead, error) {
	hash, seq, err := r.Head(ctx, task)
	if err != nil {
		return ChainHead{}, fmt.Errorf("verify task %d: %w", task, err)
	}
	return ChainHead{Seq: seq, Hash: hash}, nil
}

func verifyChain(task int, ups []Update, headHash string, headCount int64) []Problem {
	var problems []Problem
	report := func(seq int64, kind ProblemKind, format string, args ...any) {
		problems = append(problems, Problem{Task: task, Seq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}
	var prevSeq int64
	var prevHash string
	for _, u := range ups {
		if got := Hash(u); got != u.Hash {
			report(u.Seq, ProblemAltered, "content hashes to %s, record says %s", short(got), short(u.Hash))
		}
		switch {
		case u.Task != task:
			report(u.Seq, ProblemLinkBroken, "record of task %d found in the chain of task %d", u.Task, task)
		case u.Seq != prevSeq+1:
			report(u.Seq, ProblemSeqGap, "expected seq %d, found %d: records removed or inserted", prevSeq+1, u.Seq)
		case u.PrevHash != prevHash:
			report(u.Seq, ProblemLinkBroken, "prev_hash %s does not match the previous record's hash %s", short(u.PrevHash), short(prevHash))
		}
		prevSeq, prevHash = u.Seq, u.Hash
	}
	switch {
	case headCount > prevSeq:
		report(headCount, ProblemHeadMismatch, "head says %d records, chain ends at seq %d: tail removed", headCount, prevSeq)
	case headCount < prevSeq:
		report(headCount, ProblemHeadMismatch, "head says %d records, chain runs to seq %d: records appended outside the store", headCount, prevSeq)
	case headHash != prevHash:
		report(headCount, ProblemHeadMismatch, "head hash %s does not match the last record's hash %s: last record replaced", short(headHash), short(prevHash))
	}
	return problems
}

// short abbreviates a hash for messages; the full value is in the record.
func short(hash string) string {
	if hash == "" {
		return `""`
	}
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}

// stableReads is how many times Verify and VerifyLatest read a task before giving up on a
// store that is written to during every read.
const stableReads = 5

// errKeptChanging is returned when a task changed during every read.
var errKeptChanging = errors.New("the store was written to during each read: run verify again")

func readHeads(ctx context.Context, r ChainReader) (map[int]ChainHead, error) {
	tasks, err := r.Chains(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify latest: %w", err)
	}
	heads := make(map[int]ChainHead, len(tasks))
	for _, task := range tasks {
		if heads[task], err = readHead(ctx, r, task); err != nil {
			return nil, err
		}
	}
	return heads, nil
}

// VerifyLatest recomputes the latest state of every (task, department) from the updates with
// Derive and reports each stored state that is not it: one that differs (naming every field),
// one that is missing, one with no updates behind it, in every copy the store keeps. It is
// the check Verify cannot make: export, the digest, the scheduler and /status read the
// stored states, so a state set to done behind the store's back silences a task whose
// updates say 遇到困难. Problems come by task, department and copy.
func VerifyLatest(ctx context.Context, r LatestReader) ([]Problem, error) {
	var problems []Problem
	var pending map[int]bool // the tasks still to check; nil: every task
	for range stableReads {
		before, err := readHeads(ctx, r)
		if err != nil {
			return nil, err
		}
		found, checked, err := verifyLatest(ctx, r, pending)
		if err != nil {
			return nil, err
		}
		after, err := readHeads(ctx, r)
		if err != nil {
			return nil, err
		}
		// The reads are not one snapshot: a reply recorded meanwhile would look like a state
		// that disagrees. A task whose head did not move was read whole (every Record moves
		// the head of each task it touches); the others are read again.
		moved := map[int]bool{}
		for task := range checked {
			if before[task] != after[task] {
				moved[task] = true
			}
		}
		for _, p := range found {
			if !moved[p.Task] {
				problems = append(problems, p)
			}
		}
		if len(moved) == 0 {
			// Stable: within one key, the copies stay in name order.
			sort.SliceStable(problems, func(i, j int) bool {
				if problems[i].Task != problems[j].Task {
					return problems[i].Task < problems[j].Task
				}
				return problems[i].Department < problems[j].Department
			})
			return problems, nil
		}
		pending = moved
	}
	return nil, fmt.Errorf("verify latest: %w", errKeptChanging)
}

// verifyLatest compares the stored states of the tasks in only (every task if nil) with the
// states their updates derive, and returns the problems and the tasks it checked.
func verifyLatest(ctx context.Context, r LatestReader, only map[int]bool) ([]Problem, map[int]bool, error) {
	tasks, err := r.Chains(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("verify latest: %w", err)
	}
	derived := map[StateKey]State{}
	checked := map[int]bool{}
	derive := func(task int) error {
		checked[task] = true
		ups, err := r.Updates(ctx, task)
		if err != nil {
			return fmt.Errorf("verify latest: task %d: %w", task, err)
		}
		for _, u := range ups {
			// Keyed by the chain, as Record keys it; a record in the wrong chain is Verify's.
			k := StateKey{task, u.Department}
			derived[k] = Derive(derived[k], u)
		}
		return nil
	}
	for _, task := range tasks {
		if only == nil || only[task] {
			if err := derive(task); err != nil {
				return nil, nil, err
			}
		}
	}
	departments := map[string]bool{}
	for k := range derived {
		departments[k.Department] = true
	}
	copies, err := r.StoredLatest(ctx, slices.Sorted(maps.Keys(departments)))
	if err != nil {
		return nil, nil, fmt.Errorf("verify latest: %w", err)
	}
	// A state of a task without a chain is checked against the task's updates all the same.
	for _, rows := range copies {
		for _, row := range rows {
			if !checked[row.Task] && (only == nil || only[row.Task]) {
				if err := derive(row.Task); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	var problems []Problem
	for _, name := range slices.Sorted(maps.Keys(copies)) {
		stored := map[StateKey]StoredState{}
		for _, row := range copies[name] {
			if checked[row.Task] {
				stored[StateKey{row.Task, row.Department}] = row
			}
		}
		keys := slices.Collect(maps.Keys(derived))
		for k := range stored {
			if _, ok := derived[k]; !ok {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			want, fromUpdates := derived[k]
			row, isStored := stored[k]
			p := Problem{Task: k.Task, Department: k.Department, Copy: name, Seq: want.Last.Seq}
			switch {
			case !isStored:
				p.Kind = ProblemLatestMissing
				p.Detail = fmt.Sprintf("no state in %s; the updates say %s", name, describeState(k.Task, want))
			case !fromUpdates:
				p.Kind, p.Seq = ProblemLatestOrphan, row.State.Last.Seq
				p.Detail = fmt.Sprintf("%s says %s, but the department has no updates on the task", name, describeState(k.Task, row.State))
			default:
				diffs := diffState(name, row, want)
				if len(diffs) == 0 {
					continue
				}
				p.Kind, p.Detail = ProblemLatestDiffers, strings.Join(diffs, "; ")
			}
			problems = append(problems, p)
		}
	}
	return problems, checked, nil
}

// diffState describes every way the stored row differs from the derived state want.
func diffState(copyName string, row StoredState, want State) []string {
	got := row.State
	var diffs []string
	differs := func(field, got, want string) {
		diffs = append(diffs, fmt.Sprintf("%s: %s says %s, the updates say %s", field, copyName, got, want))
	}
	if got.Task != row.Task || got.Department != row.Department {
		differs("key", fmt.Sprintf("task %d %s under the key of task %d %s", got.Task, got.Department, row.Task, row.Department),
			fmt.Sprintf("task %d %s", row.Task, row.Department))
	}
	if got.Status != want.Status {
		differs("status", string(got.Status), string(want.Status))
	}
	if !got.StatusAt.Equal(want.StatusAt) {
		differs("status_at", formatStateTime(got.StatusAt), formatStateTime(want.StatusAt))
	}
	if g, w := formatIntp(got.Percent), formatIntp(want.Percent); g != w {
		differs("percent", g, w)
	}
	if g, w := formatFloatp(got.Value), formatFloatp(want.Value); g != w {
		differs("value", g, w)
	}
	if got.Updates != want.Updates {
		differs("updates", strconv.Itoa(got.Updates), strconv.Itoa(want.Updates))
	}
	switch {
	case got.Last.Seq != want.Last.Seq:
		differs("last", FormatID(row.Task, got.Last.Seq), FormatID(row.Task, want.Last.Seq))
	case row.LastCopied && (Hash(got.Last) != Hash(want.Last) || got.Last.Hash != want.Last.Hash):
		// The hash covers every field of the update but Hash itself.
		diffs = append(diffs, fmt.Sprintf("last: %s's copy of update %s is not the record", copyName, want.Last.ID))
	}
	return diffs
}

// describeState sums up a state of task for a message: "in_progress 60%, 3 update(s), last 16-3".
func describeState(task int, st State) string {
	s := string(st.Status)
	if st.Percent != nil {
		s += " " + strconv.Itoa(*st.Percent) + "%"
	}
	if st.Value != nil {
		s += " value " + strconv.FormatFloat(*st.Value, 'f', -1, 64)
	}
	return fmt.Sprintf("%s, %d update(s), last %s", s, st.Updates, FormatID(task, st.Last.Seq))
}

func formatStateTime(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return FormatTime(t)
}

func formatIntp(p *int) string {
	if p == nil {
		return "none"
	}
	return strconv.Itoa(*p)
}

func formatFloatp(p *float64) string {
	if p == nil {
		return "none"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}
