package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/duban/duban/store"
)

// BenchRecord measures Record of one update, spread over 50 tasks so that
// chains grow the way they do in production.
func BenchRecord(b *testing.B, backend Backend) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u := reply(i%50+1, "市教育局", fmt.Sprintf("进展 %d", i))
		if _, _, err := backend.Record(ctx, int64(i+1), []store.Update{u}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchLatest measures Latest over 50 tasks × 3 departments.
func BenchLatest(b *testing.B, backend Backend) {
	ctx := context.Background()
	var ups []store.Update
	for task := 1; task <= 50; task++ {
		for _, department := range []string{"市教育局", "市财政局", "市卫健委"} {
			ups = append(ups, withProgress(reply(task, department, "已完成第一阶段工作"), store.StatusInProgress, intp(task), nil))
		}
	}
	if _, _, err := backend.Record(ctx, 0, ups); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		states, err := backend.Latest(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(states) != 150 {
			b.Fatalf("latest: got %d states, want 150", len(states))
		}
	}
}

// BenchLedger measures Ledger over keys confirmed ledger keys, written as the scheduler
// writes them (Confirm, one message of a department's keys at a time): a steady tick of a
// 100,000-task plan reads about 450,000.
func BenchLedger(b *testing.B, backend Backend, keys int) {
	ctx := context.Background()
	const perMessage = 5000
	at := t0
	for first := 0; first < keys; first += perMessage {
		sent := store.Sent{Department: "市人社局", Stage: "before:30d", ChatID: -100, MessageIDs: []int{first + 1}, At: at}
		for i := first; i < min(first+perMessage, keys); i++ {
			sent.Keys = append(sent.Keys, fmt.Sprintf("n|%d|市人社局|2027-06-30|before:30d", i+1))
		}
		if err := backend.Confirm(ctx, sent); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ledger, err := backend.Ledger(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(ledger) != keys {
			b.Fatalf("ledger: got %d keys, want %d", len(ledger), keys)
		}
	}
}
