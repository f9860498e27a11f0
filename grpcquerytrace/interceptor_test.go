package grpcquerytrace_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/grpcquerytrace"
)

// logRecorder is a slog.Handler that keeps the messages logged at Warn.
type logRecorder struct {
	mu    sync.Mutex
	warns []string
}

func (l *logRecorder) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelWarn }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.warns = append(l.warns, r.Message)
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) warnings() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.warns...)
}

// sinks returns a Handler that logs to logs and passes each report, with
// the request OnFinish saw, on the channel.
func sinks(logs *logRecorder) (*querytrace.Handler, chan finished) {
	ch := make(chan finished, 16)
	var mu sync.Mutex
	var last finished
	return &querytrace.Handler{
		Logger: slog.New(logs),
		OnFinish: func(r *http.Request, rep *querytrace.Report) {
			mu.Lock()
			last = finished{r: r, traced: querytrace.FromContext(r.Context()) != nil}
			mu.Unlock()
		},
		// After the log, so that the warnings are there.
		OnReport: func(_ *http.Request, rep *querytrace.Report) {
			mu.Lock()
			f := last
			mu.Unlock()
			f.rep = rep
			ch <- f
		},
	}, ch
}

// finished is what the sinks saw of one call.
type finished struct {
	r      *http.Request // OnFinish's
	traced bool          // whether OnFinish's r carried the trace
	rep    *querytrace.Report
}

func wait(t *testing.T, ch chan finished) finished {
	t.Helper()
	select {
	case f := <-ch:
		return f
	case <-time.After(10 * time.Second):
		t.Fatal("no report within 10s")
		return finished{}
	}
}

// at returns "file:line" of f, or "" for nil.
func at(f *querytrace.Frame) string {
	if f == nil {
		return ""
	}
	return fmt.Sprintf("%s:%d", filepath.Base(f.File), f.Line)
}

var timing = regexp.MustCompile(`^db;dur=\d+\.\d;desc="(.*)"$`)

// TestUnaryCall calls each unary method over a loopback connection, with
// and without asking for the totals, and checks the report the sinks get,
// the N+1 with the loop's line, the warning, and the trailer.
func TestUnaryCall(t *testing.T) {
	const n = 10
	loop := lineOf(t, "service_test.go", "// the unary loop")
	for dialect, db := range databases(t, n) {
		logs := &logRecorder{}
		h, ch := sinks(logs)
		conn := serve(t, db, interceptors(h)...)

		cases := []struct {
			method string
			ask    bool
			code   codes.Code
			desc   string // the trailer's, and the report's totals
			nplus1 bool
		}{
			{"/inventory.Inventory/Free", true, codes.OK, "11 statements, 1 N+1", true},
			{"/inventory.Inventory/Free", false, codes.OK, "11 statements, 1 N+1", true},
			{"/inventory.Inventory/FreeFast", true, codes.OK, "1 statement", false},
			{"/inventory.Inventory/Missing", true, codes.NotFound, "1 statement", false},
		}
		for _, c := range cases {
			ctx := metadata.AppendToOutgoingContext(t.Context(), "x-tenant", "acme")
			if c.ask {
				ctx = metadata.AppendToOutgoingContext(ctx, grpcquerytrace.TimingKey, "1")
			}
			var trailer metadata.MD
			out := new(structpb.Struct)
			err := conn.Invoke(ctx, c.method, new(emptypb.Empty), out, grpc.Trailer(&trailer))
			if status.Code(err) != c.code {
				t.Fatalf("%s %s: %v, want code %v", dialect, c.method, err, c.code)
			}
			if c.code == codes.OK && len(out.Fields) != n {
				t.Errorf("%s %s: %d entries, want %d", dialect, c.method, len(out.Fields), n)
			}

			f := wait(t, ch)
			rep := f.rep
			if rep.Name != c.method || rep.ServerTiming() == "" || !strings.Contains(rep.ServerTiming(), `desc="`+c.desc+`"`) {
				t.Errorf("%s %s: report %q: %s, want %q", dialect, c.method, rep.Name, rep.ServerTiming(), c.desc)
			}
			if got := len(rep.NPlusOne) == 1; got != c.nplus1 {
				t.Errorf("%s %s: %d N+1, want one: %v", dialect, c.method, len(rep.NPlusOne), c.nplus1)
			} else if got {
				if fd := rep.NPlusOne[0]; fd.Count != n || at(fd.Loop) != loop {
					t.Errorf("%s %s: N+1 %s, want %d× in the loop at %s", dialect, c.method, fd, n, loop)
				}
			}

			st := trailer.Get(grpcquerytrace.ServerTimingKey)
			switch {
			case !c.ask && len(st) != 0:
				t.Errorf("%s %s: trailer %v unasked", dialect, c.method, st)
			case c.ask && (len(st) != 1 || st[0] != rep.ServerTiming() || !timing.MatchString(st[0])):
				t.Errorf("%s %s: trailer %v, want [%s]", dialect, c.method, st, rep.ServerTiming())
			}

			// The sinks get the call as the request it is on the wire.
			r := f.r
			if r == nil || r.Method != "POST" || r.URL.Path != c.method || r.Header.Get("X-Tenant") != "acme" ||
				!strings.HasPrefix(r.RemoteAddr, "127.0.0.1:") || !f.traced {
				t.Errorf("%s %s: OnFinish got %+v (traced: %v), want POST %s from 127.0.0.1 with x-tenant and the trace", dialect, c.method, r, f.traced, c.method)
			}
		}

		// One N+1 warning for the loop, held back on the second call.
		var nplus1 []string
		for _, w := range logs.warnings() {
			if strings.Contains(w, "N+1") {
				nplus1 = append(nplus1, w)
			}
		}
		if len(nplus1) != 1 || !strings.Contains(nplus1[0], filepath.Base(lineOf(t, "service_test.go", "s.db.QueryRowContext(ctx, `SELECT count(*) FROM items"))) {
			t.Errorf("%s: N+1 warnings %q, want one naming the statement's line", dialect, nplus1)
		}
	}
}

// TestStreamCall reads a server stream whose handler queries once per row
// it sends, and checks its report and trailer.
func TestStreamCall(t *testing.T) {
	const n = 7
	loop := lineOf(t, "service_test.go", "// the streaming loop")
	for dialect, db := range databases(t, n) {
		h, ch := sinks(&logRecorder{})
		conn := serve(t, db, interceptors(h)...)
		for _, ask := range []bool{true, false} {
			ctx := t.Context()
			if ask {
				ctx = metadata.AppendToOutgoingContext(ctx, grpcquerytrace.TimingKey, "yes")
			}
			var trailer metadata.MD
			cs, err := conn.NewStream(ctx, &inventoryDesc.Streams[0], "/inventory.Inventory/Entries", grpc.Trailer(&trailer))
			if err != nil {
				t.Fatal(err)
			}
			if err := cs.SendMsg(new(emptypb.Empty)); err != nil {
				t.Fatal(err)
			}
			cs.CloseSend()
			got := 0
			for {
				err := cs.RecvMsg(new(wrapperspb.StringValue))
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", dialect, err)
				}
				got++
			}
			if got != n {
				t.Errorf("%s: %d messages, want %d", dialect, got, n)
			}

			rep := wait(t, ch).rep
			if rep.Name != "/inventory.Inventory/Entries" || rep.Statements != n+1 || len(rep.NPlusOne) != 1 {
				t.Fatalf("%s: report %q: %d statements, %d N+1; want /inventory.Inventory/Entries, %d, 1", dialect, rep.Name, rep.Statements, len(rep.NPlusOne), n+1)
			}
			if fd := rep.NPlusOne[0]; fd.Count != n || at(fd.Loop) != loop {
				t.Errorf("%s: N+1 %s, want %d× in the loop at %s", dialect, fd, n, loop)
			}
			st := trailer.Get(grpcquerytrace.ServerTimingKey)
			if want := map[bool]int{true: 1, false: 0}[ask]; len(st) != want || ask && st[0] != rep.ServerTiming() {
				t.Errorf("%s (asked: %v): trailer %v, want %d like %s", dialect, ask, st, want, rep.ServerTiming())
			}
		}
	}
}
