package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/duban/duban/store"
)

// StoredLatest returns the states of {P}:latest (copy "latest") and of {P}:latest-for:<dept>
// (copy "latest-for") as they are, each under the key it is stored at, for
// store.VerifyLatest. The per-department hashes cannot be listed without SCAN, so it reads
// those of departments and of every department {P}:latest names.
func (s *Store) StoredLatest(ctx context.Context, departments []string) (map[string][]store.StoredState, error) {
	all, err := s.client.HGetAll(ctx, s.latestKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("stored latest: %w", err)
	}
	out := map[string][]store.StoredState{"latest": {}, "latest-for": {}}
	depts := slices.Clone(departments)
	for field, text := range all {
		taskText, department, ok := strings.Cut(field, "|")
		task, err := strconv.Atoi(taskText)
		if !ok || err != nil {
			return nil, fmt.Errorf("stored latest: field %q: want <task>|<department>", field)
		}
		row, err := storedState(task, department, text)
		if err != nil {
			return nil, fmt.Errorf("stored latest: field %q: %w", field, err)
		}
		out["latest"] = append(out["latest"], row)
		depts = append(depts, department)
	}
	slices.Sort(depts)
	depts = slices.Compact(depts)
	cmds := make([]*goredis.MapStringStringCmd, len(depts))
	_, err = s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, d := range depts {
			cmds[i] = p.HGetAll(ctx, s.latestForKey(d))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stored latest for: %w", err)
	}
	for i, d := range depts {
		for field, text := range cmds[i].Val() {
			task, err := strconv.Atoi(field)
			if err != nil {
				return nil, fmt.Errorf("stored latest for %s: field %q: want a task id", d, field)
			}
			row, err := storedState(task, d, text)
			if err != nil {
				return nil, fmt.Errorf("stored latest for %s: field %q: %w", d, field, err)
			}
			out["latest-for"] = append(out["latest-for"], row)
		}
	}
	return out, nil
}

func storedState(task int, department, text string) (store.StoredState, error) {
	var st store.State
	if err := json.Unmarshal([]byte(text), &st); err != nil {
		return store.StoredState{}, err
	}
	return store.StoredState{Task: task, Department: department, State: st, LastCopied: true}, nil
}
