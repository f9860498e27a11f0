package querytrace_test

import (
	"fmt"

	"github.com/querytrace/querytrace"
)

func ExampleNormalize() {
	fmt.Println(querytrace.Normalize(`SELECT "posts".* FROM "posts" WHERE "posts"."id" IN (1, 2, 3) AND title = 'N+1' /*controller:posts*/`))
	fmt.Println(querytrace.Normalize("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, NULL)"))
	fmt.Println(querytrace.Normalize("select count(*) from items where entry_id = 17 and user_id is null"))
	// Output:
	// select "posts".* from "posts" where "posts"."id" in (?) and title = ?
	// insert into t(a, b) values (?, ?)
	// select count(*) from items where entry_id = ? and user_id is null
}
