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

// GORM ran "select * from posts where user_id = ?" once per user that
// "select * from users" returned: the fix in GORM's words names the
// association that its conventions give the key.
func ExampleFor_orm() {
	fix := sqlfix.For(sqlfix.Loop{
		Shape:   "select * from posts where user_id = ?",
		Dialect: sqlnorm.SQLite,
		Values:  []sqlfix.Value{sqlfix.Varied},
		Library: sqlfix.GORM,
		Source:  "select * from users",
	})
	fmt.Println(fix)
	fmt.Println(fix.ORM)
	// Output:
	// one query for all rows: select * from posts where user_id in (...)
	// GORM: Preload("Posts") on the query of users, one query more for all their posts (Posts: the association to posts, by GORM's naming)
}
