package pgxtrace_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/internal/faketb"
	"github.com/querytrace/querytrace/querytracetest"
)

// These tests put querytracetest's helpers in front of a net/http handler
// that reads through a pgxpool.Pool with the tracer installed: the budget
// test an application writes for a page served with pgx. The handler comes
// in an N+1 version and two fixed ones; the helpers must pass the fixed
// ones and fail the N+1 one, naming the loop's line in this file.

// item is what the handlers list.
type item struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// itemStore reads the items of one table (made by newTable) through a
// traced pool.
type itemStore struct {
	pool  *pgxpool.Pool
	table string
}

// A lister is one version of the code behind GET /items.
type lister func(s *itemStore, ctx context.Context) ([]item, error)

// ids returns the ids of the items in order: the list the N+1 version
// loops over.
func (s *itemStore) ids(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, "SELECT id FROM "+s.table+" ORDER BY id")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// listNPlusOne reads the ids, then each item's name with a query of its
// own: 1 + n statements for n items.
func (s *itemStore) listNPlusOne(ctx context.Context) ([]item, error) {
	ids, err := s.ids(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]item, 0, len(ids))
	for _, id := range ids {
		it := item{ID: id}
		err := s.pool.QueryRow(ctx, "SELECT name FROM "+s.table+" WHERE id = $1", id).Scan(&it.Name) // marker: the N+1
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// listAny reads the ids, then all the names in one query with the ids as
// an array, the fix the report suggests for PostgreSQL: 2 statements.
func (s *itemStore) listAny(ctx context.Context) ([]item, error) {
	ids, err := s.ids(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, "SELECT id, name FROM "+s.table+" WHERE id = ANY($1) ORDER BY id", ids)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[item])
}

// listOneQuery reads the items in one query: 1 statement.
func (s *itemStore) listOneQuery(ctx context.Context) ([]item, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, name FROM "+s.table+" ORDER BY id")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[item])
}

// seed makes the table hold items 1..n, named as newTable names them. It
// runs with no trace on its context: setup, not measured.
func (s *itemStore) seed(tb testing.TB, n int) {
	tb.Helper()
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, "DELETE FROM "+s.table); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "INSERT INTO "+s.table+" (id, name, owner) SELECT g, 'item ' || g, g % 3 FROM generate_series(1, $1::bigint) g", n); err != nil {
		tb.Fatal(err)
	}
}

// app is the application's HTTP stack: GET /items served by list on s,
// behind querytrace's middleware, which starts a trace of its own per
// request (nested in the test's) and sets the Server-Timing header.
func app(s *itemStore, list lister) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		items, err := list(s, r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(items)
	})
	// The middleware logs each N+1 it sees as a warning: not in the
	// test's output.
	return &querytrace.Handler{Next: mux, Logger: slog.New(slog.DiscardHandler)}
}

// get serves GET /items through h with ctx as the request's context and
// returns the items and the Server-Timing header, failing tb unless the
// response is a 200 with JSON.
func get(tb testing.TB, h http.Handler, ctx context.Context) ([]item, string) {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/items", nil))
	if rec.Code != http.StatusOK {
		tb.Fatalf("GET /items: %d %s", rec.Code, rec.Body)
	}
	var items []item
	if err := json.Unmarshal(rec.Body.Bytes(), &items); err != nil {
		tb.Fatalf("GET /items: %v in %q", err, rec.Body)
	}
	return items, rec.Header().Get("Server-Timing")
}

// wantItems returns items 1..n as seeded.
func wantItems(n int) []item {
	items := make([]item, n)
	for i := range items {
		items[i] = item{ID: int64(i + 1), Name: fmt.Sprint("item ", i+1)}
	}
	return items
}

// listers are the versions of the handler; fixed says whether
// querytracetest should pass it.
var listers = []struct {
	name  string
	list  lister
	fixed bool
	count func(n int) int // statements per request for n items
}{
	{"oneQuery", (*itemStore).listOneQuery, true, func(int) int { return 1 }},
	{"anyArray", (*itemStore).listAny, true, func(int) int { return 2 }},
	{"nPlusOne", (*itemStore).listNPlusOne, false, func(n int) int { return 1 + n }},
}

// TestBudgetHandler runs each version of GET /items under a Budget of 2
// statements (in all, and SELECTs on the table) and NoNPlusOne, in a fake
// test: both fixed versions pass; the N+1 version fails both helpers, and
// their messages give the count, mark the N+1 and name the loop's line in
// this file and the function it is in. It also checks that the
// middleware's own trace, nested in the helpers', counted the same
// statements (its Server-Timing header) and that every version lists the
// same items.
func TestBudgetHandler(t *testing.T) {
	pool, _ := newPool(t)
	const n = 5
	s := &itemStore{pool: pool, table: newTable(t, pool, n)}
	loop := markedSite(t, "// marker: the N+1")
	for _, c := range listers {
		t.Run(c.name, func(t *testing.T) {
			h := app(s, c.list)
			var items []item
			var timing string
			f := faketb.Run(t, "TestItems", func(ft testing.TB) {
				ctx := querytracetest.Budget(ft, ft.Context(),
					querytracetest.AtMost(2),
					querytracetest.AtMost(2).Selects().Table(s.table))
				ctx = querytracetest.NoNPlusOne(ft, ctx)
				items, timing = get(ft, h, ctx)
			})
			if !slices.Equal(items, wantItems(n)) {
				t.Errorf("items: %v, want %v", items, wantItems(n))
			}
			want := fmt.Sprintf(`desc="%d statement`, c.count(n))
			if c.count(n) != 1 {
				want += "s"
			}
			if !c.fixed {
				want += ", 1 N+1"
			}
			want += `"`
			if !strings.Contains(timing, want) {
				t.Errorf("the middleware's Server-Timing %q; want %s", timing, want)
			}
			if c.fixed {
				f.Passes(t)
				return
			}
			// The checks run at cleanup in reverse order: NoNPlusOne's
			// first, then the budget's.
			if len(f.Errors) != 2 {
				t.Fatalf("%d errors; want NoNPlusOne's and the budget's:\n%s", len(f.Errors), f.Text())
			}
			nplus, budget := f.Errors[0], f.Errors[1]
			t.Logf("NoNPlusOne failure:\n%s", nplus)
			t.Logf("Budget failure:\n%s", budget)
			shape := "select name from " + s.table + " where id = ?"
			faketb.Contains(t, nplus,
				fmt.Sprintf("querytrace: 1 N+1 pattern in %d statements (db time ", c.count(n)),
				shape+"  N+1",
				"at "+loop+" pgxtrace_test.(*itemStore).listNPlusOne",
				fmt.Sprintf("N+1: %s ran %d times (", shape, n), ") from "+loop+" ",
				"looping over: select id from "+s.table+" order by id at ", fmt.Sprintf("(%d rows, 1 per row)", n),
				"fix: ",
			)
			faketb.Contains(t, budget,
				fmt.Sprintf("querytrace: %d statements, budget at most 2 (db time ", c.count(n)),
				fmt.Sprintf("\nquerytrace: %d select statements on table %s, budget at most 2\n", c.count(n), s.table),
				fmt.Sprintf("  %6d ", n), shape+"  N+1",
				"at "+loop+" pgxtrace_test.(*itemStore).listNPlusOne",
				"N+1: "+shape, ") from "+loop+" ",
			)
		})
	}
}

// TestBudgetExactly pins each version's count of SELECTs with Exactly, in
// a fake test: a budget of the version's own count (1, 2, 1+n) passes, and
// one of a statement fewer fails with both counts in its headline, so an
// Exactly budget catches a change of the count either way.
func TestBudgetExactly(t *testing.T) {
	pool, _ := newPool(t)
	const n = 4
	s := &itemStore{pool: pool, table: newTable(t, pool, n)}
	for _, c := range listers {
		t.Run(c.name, func(t *testing.T) {
			h := app(s, c.list)
			for _, k := range []int{c.count(n), c.count(n) - 1} {
				f := faketb.Run(t, "TestItems", func(ft testing.TB) {
					get(ft, h, querytracetest.Budget(ft, ft.Context(), querytracetest.Exactly(k).Selects()))
				})
				if k == c.count(n) {
					f.Passes(t)
					continue
				}
				faketb.Contains(t, f.Fails(t), fmt.Sprintf("querytrace: %d select statements, budget exactly %d (db time ", c.count(n), k))
			}
		})
	}
}

// TestBudgetThroughServer is the budget test as an application writes it,
// with the real *testing.T, through a real HTTP server: the server's
// request context is its own, so a wrapper hands the handler the traced
// one, and the statements run on the server's goroutine. The fixed
// handler keeps to one statement and no N+1.
func TestBudgetThroughServer(t *testing.T) {
	pool, _ := newPool(t)
	s := &itemStore{pool: pool, table: newTable(t, pool, 5)}
	ctx := querytracetest.Budget(t, t.Context(), querytracetest.Exactly(1).Selects().Table(s.table))
	ctx = querytracetest.NoNPlusOne(t, ctx)
	h := app(s, (*itemStore).listOneQuery)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(ctx))
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/items")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var items []item
	if err := json.NewDecoder(resp.Body).Decode(&items); err != nil || !slices.Equal(items, wantItems(5)) {
		t.Errorf("items: %v, %v", items, err)
	}
}

// TestScaleHandler runs each version of GET /items under Scale at 2, 3
// and 5 items, reseeding one table between the sizes, in a fake test: the
// fixed versions run the same statements at every size; the N+1 version's
// count grows by one per item and the failure names the group that grew
// and the loop's line in this file.
//
// The table is the same at every size on purpose: Scale matches groups
// across sizes by shape, and the shape holds the table's name.
func TestScaleHandler(t *testing.T) {
	pool, _ := newPool(t)
	s := &itemStore{pool: pool, table: newTable(t, pool, 0)}
	loop := markedSite(t, "// marker: the N+1")
	for _, c := range listers {
		t.Run(c.name, func(t *testing.T) {
			h := app(s, c.list)
			var sizes []int
			f := faketb.Run(t, "TestItemsScale", func(ft testing.TB) {
				n := 0
				querytracetest.Scale(ft, querytracetest.ScaleTest{
					Sizes: []int{2, 3, 5},
					Setup: func(ft testing.TB, size int) { s.seed(ft, size); n = size },
					Act: func(ft testing.TB, ctx context.Context) {
						sizes = append(sizes, n)
						if items, _ := get(ft, h, ctx); !slices.Equal(items, wantItems(n)) {
							ft.Fatalf("items: %v, want %v", items, wantItems(n))
						}
					},
				})
			})
			if !slices.Equal(sizes, []int{2, 3, 5}) {
				t.Errorf("Act ran at sizes %v, want [2 3 5]", sizes)
			}
			if c.fixed {
				f.Passes(t)
				return
			}
			msg := f.Fails(t)
			t.Logf("Scale failure:\n%s", msg)
			faketb.Contains(t, msg,
				fmt.Sprintf("querytrace: statements grow with the data: %d at size 2, %d at size 3, %d at size 5 (+1 per item); want the same count at every size (db time ",
					c.count(2), c.count(3), c.count(5)),
				"  groups whose count changed:\n",
				"    +1 per item  select name from "+s.table+" where id = ?  N+1\n",
				"                 2 at size 2, 3 at size 3, 5 at size 5\n",
				"                 at "+loop+" pgxtrace_test.(*itemStore).listNPlusOne <- ",
				"N+1: ", "fix: ",
			)
			if strings.Contains(msg, "per item  select id from") {
				t.Errorf("the query the loop iterates is listed as a group that grew:\n%s", msg)
			}
		})
	}
}

// markedSite returns the call site, as querytrace prints it, of the line of
// this file that ends with marker: "pgxtrace/budget_test.go:66".
func markedSite(t *testing.T, marker string) string {
	t.Helper()
	src, err := os.ReadFile("budget_test.go") // go test runs in the package's directory
	if err != nil {
		t.Fatal(err)
	}
	var found []int
	for i, l := range strings.Split(string(src), "\n") {
		if strings.HasSuffix(l, marker) {
			found = append(found, i+1)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d lines end with %q; want 1", len(found), marker)
	}
	return fmt.Sprintf("pgxtrace/budget_test.go:%d", found[0])
}
