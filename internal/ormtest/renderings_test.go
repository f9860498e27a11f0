package ormtest

import (
	"context"
	"database/sql"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/querytrace/querytrace"
	"github.com/querytrace/querytrace/debugpage"
)

// TestORMFixShown: the fix in GORM's words of a real GORM N+1 is in every
// rendering of the report: its text, its JSON (read back whole), and the
// debug page's request page.
func TestORMFixShown(t *testing.T) {
	each(t, func(t *testing.T, b backend, db *sql.DB) {
		g := openGORM(t, b, db)
		r := trace("GET /users", func(ctx context.Context) {
			g := g.WithContext(ctx)
			var users []User
			g.Find(&users)
			for _, u := range users {
				var posts []Post
				g.Where("user_id = ?", u.ID).Find(&posts)
			}
		})
		const way = `GORM: Preload("Posts") on the query of users`
		if len(r.NPlusOne) != 1 || !strings.HasPrefix(r.NPlusOne[0].ORMFix, way) {
			t.Fatalf("want one N+1 whose fix in GORM's words starts %s:\n%s", way, r)
		}
		if text := r.String(); !strings.Contains(text, "\n  "+way) {
			t.Errorf("the text report lacks the line %q:\n%s", way, text)
		}

		data, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back querytrace.Report
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), `"orm_fix":`) || back.NPlusOne[0].ORMFix != r.NPlusOne[0].ORMFix {
			t.Errorf("orm_fix did not go through JSON: %q", back.NPlusOne[0].ORMFix)
		}

		rec := &debugpage.Recorder{}
		rec.Observe(nil, r)
		srv := httptest.NewServer(&debugpage.Handler{Recorder: rec})
		defer srv.Close()
		resp, err := http.Get(srv.URL + "/debug/querytrace/requests/1")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), html.EscapeString(r.NPlusOne[0].ORMFix)) {
			t.Errorf("the request page (%s) does not show %q:\n%s", resp.Status, r.NPlusOne[0].ORMFix, page)
		}
	}, "postgres", "mariadb")
}
