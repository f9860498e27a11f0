package grpcquerytrace_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
)

// TestDebugPage feeds the debug page's Recorder from the interceptors, as
// it is fed from an HTTP Handler, and reads the page over HTTP: the list
// of recent requests names the calls by method, and a call's page shows
// its N+1 with the loop's line.
func TestDebugPage(t *testing.T) {
	rec := &debugpage.Recorder{}
	h := &querytrace.Handler{Logger: slog.New(slog.DiscardHandler), OnFinish: rec.Observe}
	conn := serve(t, sqlite(t, 4), interceptors(h)...)
	if err := conn.Invoke(t.Context(), "/inventory.Inventory/Free", new(emptypb.Empty), new(structpb.Struct)); err != nil {
		t.Fatal(err)
	}
	cs, err := conn.NewStream(t.Context(), &inventoryDesc.Streams[0], "/inventory.Inventory/Entries")
	if err != nil {
		t.Fatal(err)
	}
	cs.SendMsg(new(emptypb.Empty))
	cs.CloseSend()
	for cs.RecvMsg(new(wrapperspb.StringValue)) == nil {
	}

	page := httptest.NewServer(&debugpage.Handler{Recorder: rec})
	defer page.Close()
	index := get(t, page.URL+"/debug/querytrace/?class=n%2B1")
	link := regexp.MustCompile(`<a href="(/debug/querytrace/requests/\d+)">([^<]*)</a>`)
	calls := map[string]string{} // method: its page
	for _, m := range link.FindAllStringSubmatch(index, -1) {
		calls[m[2]] = m[1]
	}
	for _, c := range []struct{ method, loop string }{
		{"/inventory.Inventory/Free", lineOf(t, "service_test.go", "// the unary loop")},
		{"/inventory.Inventory/Entries", lineOf(t, "service_test.go", "// the streaming loop")},
	} {
		path, ok := calls[c.method]
		if !ok {
			t.Errorf("the page's N+1 list %v does not name %s", calls, c.method)
			continue
		}
		body := get(t, page.URL+path)
		findings := body[strings.Index(body, `<section id="findings">`):strings.Index(body, `<section id="waterfall">`)]
		if !strings.Contains(body, `<h1 class="route">`+c.method+`</h1>`) || !strings.Contains(findings, `class="finding nplus1"`) || !strings.Contains(findings, c.loop) {
			t.Errorf("%s's page does not show the N+1 in the loop at %s:\n%s", c.method, c.loop, findings)
		}
	}
}

// get returns the body of a GET of url, which must answer 200.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v\n%s", url, resp.Status, err, body)
	}
	return string(body)
}
