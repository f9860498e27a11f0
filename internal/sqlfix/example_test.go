package sqlfix_test

import (
	"fmt"

	"github.com/querytrace/querytrace/internal/sqlfix"
	"github.com/querytrace/querytrace/internal/sqlnorm"
)

// A loop ran "select title from posts where user_id = $1 and status =
// 'published'" once per user: the user varied, the status was a literal
// of the statement's text.
func ExampleFor() {
	loop := sqlnorm.Shape("select title from posts where user_id = $1 and status = 'published'", sqlnorm.Postgres)
	fix := sqlfix.For(sqlfix.Loop{
		Shape:   loop.Shape,
		Dialect: sqlnorm.Postgres,
		Values:  []sqlfix.Value{sqlfix.Varied, sqlfix.Constant},
	})
	fmt.Println(fix.SQL)
	fmt.Println(fix)
	// Output:
	// select user_id, title from posts where user_id = any($1) and status = …
	// one query for all rows: select user_id, title from posts where user_id = any($1) and status = …
}
