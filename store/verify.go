package store

import (
	"context"
	"fmt"
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

// Problem is one thing Verify found wrong.
type Problem struct {
	Task int `json:"task"`
	// Seq is the record the problem was found at; for ProblemHeadMismatch
	// it is the seq the head says the chain ends at.
	Seq    int64       `json:"seq"`
	Kind   ProblemKind `json:"kind"`
	Detail string      `json:"detail"`
}

func (p Problem) String() string {
	return fmt.Sprintf("task %d seq %d: %s: %s", p.Task, p.Seq, p.Kind, p.Detail)
}

// Verify walks every chain of r and reports what does not add up: records
// whose content does not match their hash, gaps and broken links between
// records, and chains that do not end at the recorded head. A clean store
// yields no problems. Each record is linked to the previous record's stored
// hash, so one altered record is reported once, not at every later record.
//
// Verify cannot notice a tail removed together with a matching rewrite of
// the head; comparing heads with an earlier export catches that.
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
		ups, err := r.Updates(ctx, task)
		if err != nil {
			return nil, fmt.Errorf("verify task %d: %w", task, err)
		}
		headHash, headCount, err := r.Head(ctx, task)
		if err != nil {
			return nil, fmt.Errorf("verify task %d: %w", task, err)
		}
		problems = append(problems, verifyChain(task, ups, headHash, headCount)...)
	}
	return problems, nil
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
