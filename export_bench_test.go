package main

import (
	"context"
	"io"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/duban/duban/record"
	"github.com/duban/duban/store"
)

// heapPeak samples the heap's in-use bytes (runtime/metrics, which does not stop the world)
// every half millisecond while it runs, so a benchmark can report the high-water mark of
// what an export held above what was there before it started.
type heapPeak struct {
	stop chan struct{}
	done sync.WaitGroup
	base uint64
	peak uint64 // the most seen, heap objects and garbage not yet swept alike
	live uint64 // the most the GC found live after a cycle
}

var heapSamples = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}

func startHeapPeak() *heapPeak {
	runtime.GC()
	h := &heapPeak{stop: make(chan struct{})}
	s := make([]metrics.Sample, len(heapSamples))
	copy(s, heapSamples)
	metrics.Read(s)
	h.base = s[0].Value.Uint64()
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		tick := time.NewTicker(500 * time.Microsecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			h.peak, h.live = max(h.peak, s[0].Value.Uint64()), max(h.live, s[1].Value.Uint64())
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

// report stops the sampling and reports the peaks above the heap at the start, in MB.
func (h *heapPeak) report(b *testing.B) {
	close(h.stop)
	h.done.Wait()
	above := func(v uint64) float64 {
		if v < h.base {
			return 0
		}
		return float64(v-h.base) / 1e6
	}
	b.ReportMetric(above(h.peak), "peak-heap-MB")
	b.ReportMetric(above(h.live), "peak-live-MB")
}

// countingWriter counts the bytes written and keeps none, as a pipe to a script would.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// rawRead is the baseline: every chain read through the store, nothing else done with it.
func rawRead(b *testing.B, s store.ChainReader) int {
	ctx := context.Background()
	tasks, err := s.Chains(ctx)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, t := range tasks {
		ups, err := s.Updates(ctx, t)
		if err != nil {
			b.Fatal(err)
		}
		n += len(ups)
	}
	return n
}

// BenchmarkExportAll: `duban export -all` in json and csv from an open store (the embedded one,
// and Redis when REDIS_URL is set) to a writer that keeps nothing, against the raw read of
// every chain (raw) and against the record collected whole and then written (collected-*,
// what the export did before it streamed). The generated plan is tasks × 3 departments with
// the updates spread over its pairs: at 1,000 tasks, the updates ×10 with the plan the same
// show whether memory grows with the updates; 10,000 tasks at 100,000 updates is the load
// tool's shape. peak-heap-MB is the high-water mark of the heap in use above the heap before
// the run; peak-live-MB the most a GC found live. "ratio" runs the export and the raw read
// one after the other in each round, so the ratio holds on a shared machine.
//
//	go test -run '^$' -bench ExportAll -benchmem -cpu 1 -count 3 .
func BenchmarkExportAll(b *testing.B) {
	for _, st := range storesUnderTest(b) {
		for _, size := range []struct {
			name           string
			tasks, updates int
		}{
			{"tasks=1000/updates=10000", 1000, 10_000},
			{"tasks=1000/updates=100000", 1000, 100_000},
			{"tasks=10000/updates=100000", 10_000, 100_000},
		} {
			b.Run(st.name+"/"+size.name, func(b *testing.B) {
				_, c, p, s := benchWebRecord(b, st.name, st.url, size.tasks, size.updates)
				if n := rawRead(b, s); n != size.updates {
					b.Fatalf("the store holds %d updates, want %d", n, size.updates)
				}
				ctx := context.Background()
				export := func(format string) func(b *testing.B, w io.Writer) {
					return func(b *testing.B, w io.Writer) {
						if err := exportText(ctx, w, s, c, p, format, true, time.Now()); err != nil {
							b.Fatal(err)
						}
					}
				}
				collected := func(format string) func(b *testing.B, w io.Writer) {
					return func(b *testing.B, w io.Writer) {
						snap, err := record.Collect(ctx, s, c, p, true, time.Now())
						if err == nil && format == "csv" {
							err = record.WriteCSV(w, snap.Rows, c, true)
						} else if err == nil {
							err = record.WriteJSON(w, snap.Tasks, c)
						}
						if err != nil {
							b.Fatal(err)
						}
					}
				}
				runs := []struct {
					name string
					run  func(b *testing.B, w io.Writer)
				}{
					{"raw", func(b *testing.B, _ io.Writer) { rawRead(b, s) }},
					{"json", export("json")},
					{"collected-json", collected("json")},
					{"csv", export("csv")},
					{"collected-csv", collected("csv")},
				}
				for _, r := range runs {
					b.Run(r.name, func(b *testing.B) {
						var w countingWriter
						h := startHeapPeak()
						for b.Loop() {
							w.n = 0
							r.run(b, &w)
						}
						h.report(b)
						b.ReportMetric(float64(w.n)/1e6, "MB-out")
					})
				}
				b.Run("ratio", func(b *testing.B) {
					var raw, json, csv time.Duration
					var w countingWriter
					for b.Loop() {
						start := time.Now()
						rawRead(b, s)
						t1 := time.Now()
						runs[1].run(b, &w)
						t2 := time.Now()
						runs[3].run(b, &w)
						raw, json, csv = raw+t1.Sub(start), json+t2.Sub(t1), csv+time.Since(t2)
					}
					b.ReportMetric(float64(json)/float64(raw), "json/raw")
					b.ReportMetric(float64(csv)/float64(raw), "csv/raw")
					b.ReportMetric(0, "ns/op")
				})
			})
		}
	}
}
