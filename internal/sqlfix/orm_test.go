package sqlfix

import (
	"testing"

	"github.com/querytrace/querytrace/internal/sqlnorm"
)

// TestORM checks the fix in each library's words: an association named
// where the shapes tell it by the ORM's convention, the library's way
// with a list of keys elsewhere, its batch forms of writes, and no line
// where the library has no way of its own.
func TestORM(t *testing.T) {
	const (
		gormFirst = "select * from `users` where `users`.`id` = ? order by `users`.`id` limit ?"
		gormFind  = `select * from "posts" where user_id = ?`
		bunAuthor = `select "u"."id", "u"."name" from "users" as "u" where (u.id = ?)`
		bunPosts  = `select "p"."id", "p"."user_id" from "posts" as "p" where (p.user_id = ?)`
		count     = "select count(*) from `posts` where user_id = ?"
		byID      = "select id, name from users where id = ?"
		entPets   = "select pets.id, pets.name, pets.user_pets from pets where pets.user_pets = ?"
		update    = `update "posts" set "score" = ? where "id" = ?`
	)
	cases := []struct {
		lib    Library
		shape  string
		source string
		d      sqlnorm.Dialect
		vals   string
		want   string
	}{
		// Associations, by the loop's key and the source's table.
		{GORM, gormFirst, "select * from `posts` order by id", lite, "K C",
			`GORM: Preload("User") on the query of posts, one query more for all their users, or Joins("User") to read them in that same query (User: the association to users, by GORM's naming)`},
		{GORM, gormFind, `select * from "users" order by id`, pg, "K",
			`GORM: Preload("Posts") on the query of users, one query more for all their posts (Posts: the association to posts, by GORM's naming)`},
		{Bun, bunAuthor, `select "p"."id", "p"."user_id" from "posts" as "p"`, pg, "K",
			`bun: Relation("User") on the query of posts, which joins users into that query (User: the relation to users, by bun's naming)`},
		{Bun, bunPosts, `select "u"."id", "u"."name" from "users" as "u"`, lite, "K",
			`bun: Relation("Posts") on the query of users, one query more for all their posts (Posts: the relation to posts, by bun's naming)`},
		{Ent, entPets, "select users.id, users.name from users", lite, "K",
			"ent: WithPets() on the query of users, one query more for all their pets (Pets: the edge to pets, by ent's naming)"},
		// A source whose columns lack the key tells no association; nor
		// does a key that follows no convention, nor no source.
		{Bun, bunAuthor, `select "p"."id", "p"."title" from "posts" as "p"`, pg, "K",
			`bun: the loop's query once, with Where("u.id IN (?)", bun.In(ids)) in place of its u.id = ?`},
		{GORM, "select * from posts where author_id = ?", "select * from users", lite, "K",
			`GORM: one Find(&rows) with Where("author_id IN ?", author_ids) in place of the loop's author_id = ?`},
		{GORM, byID, "", mysql, "K", `GORM: one Find(&rows) with Where("id IN ?", ids) in place of the loop's id = ?`},
		{Ent, "select tags.id, tags.name from tags where tags.id = ? limit ?", "", lite, "K C",
			"ent: one client.Tag.Query().Where(tag.IDIn(ids...)).All(ctx) in place of the loop's query on tags.id"},
		{SQLX, byID, "", pg, "K",
			"sqlx: query, args, err := sqlx.In(`select id, name from users where id in (?)`, ids), then db.Select(&rows, db.Rebind(query), args...)"},
		{SQLX, gormFirst, "", mysql, "K S",
			"sqlx: query, args, err := sqlx.In(\"select * from `users` where `users`.`id` in (?) order by `users`.`id`\", ids), then db.Select(&rows, db.Rebind(query), args...)"},
		{SQLC, "select id, name from authors where id = ? limit ?", "", lite, "K C",
			`sqlc: a query "-- name: ListAuthorsByIDs :many" of select id, name from authors where id in (sqlc.slice('ids'))`},
		{SQLC, byID, "", pg, "K", `sqlc: a query "-- name: ListUsersByIDs :many" of select id, name from users where id = any(@ids::bigint[])`},
		{SQLC, "select * from tags where slug = ?", "", pg, "K", `sqlc: a query "-- name: ListTagsBySlugs :many" of select * from tags where slug = any(@slugs::text[]) (text[]: write the type of slug)`},
		// Aggregates and the other rewrites: the library's way to run the
		// statement with a list.
		{GORM, count, "", mysql, "K", "GORM: Raw(the statement written with IN ? for its list, user_ids).Scan(&rows)"},
		{Bun, count, "", lite, "K", "bun: NewRaw(the statement written with IN (?) for its list, bun.In(user_ids)).Scan(ctx, &rows)"},
		{Ent, count, "", mysql, "K",
			"ent: client.Post.Query().Where(post.UserIDIn(user_ids...)).GroupBy(post.FieldUserID).Aggregate(ent.Count()).Scan(ctx, &rows)"},
		{SQLX, "select * from posts where user_id = ? order by created_at desc, id limit ?", "", pg, "K S",
			"sqlx: query, args, err := sqlx.In(`select q.* from (select distinct user_id from posts where user_id in (?)) as k cross join lateral (select * from posts where user_id = k.user_id order by created_at desc, id limit ?) as q`, the loop's values with user_ids in place of its key), then db.Select(&rows, db.Rebind(query), args...)"},
		{Ent, "select * from posts where user_id = ? order by created_at desc, id limit ?", "", pg, "K S",
			"ent: the statement through client.QueryContext (ent's sql/execquery feature)"},
		// Writes.
		{GORM, "insert into `tags`(`slug`) values (?) returning `id`", "", lite, "K",
			"GORM: Create(&rows) with a slice of every row: one INSERT (CreateInBatches(&rows, n) for chunks of n)"},
		{Bun, `insert into "tags" ("slug") values (?) returning "id"`, "", pg, "K", "bun: NewInsert().Model(&rows) with a slice of every row: one INSERT"},
		{Ent, "insert into `tags` (`name`) values (?)", "", lite, "K", "ent: client.Tag.CreateBulk(builders...).Save(ctx): one INSERT of every row"},
		{SQLX, "insert into `tags`(`slug`) values (?) returning `id`", "", mysql, "K",
			"sqlx: NamedQuery(\"insert into `tags`(`slug`) values (:slug) returning `id`\", rows) with a slice of every row: one INSERT"},
		{SQLX, `insert into tags (slug, n) values (?, ?)`, "", pg, "K K",
			"sqlx: NamedExec(`insert into tags (slug, n) values (:slug, :n)`, rows) with a slice of every row: one INSERT"},
		{SQLX, `insert into tags (slug, n) values (?, ? + 1)`, "", pg, "K K", ""},
		{SQLC, "insert into `tags`(`slug`) values (?)", "", lite, "K", ""},
		{GORM, update, "", pg, "K K",
			`GORM: one upsert of every row, Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoUpdates: clause.AssignmentColumns([]string{"score"})}).Create(&rows), each row existing and read whole, so that only score changes`},
		{Bun, update, "", pg, "K K", `bun: NewUpdate().Model(&rows).Column("score").Bulk(): one UPDATE of every row, from their values`},
		{Bun, `update "posts" as "p" set "score" = ? where ("p"."id" = ?)`, "", lite, "K K",
			`bun: NewUpdate().Model(&rows).Column("score").Bulk(): one UPDATE of every row, from their values`},
		{Bun, "update `posts` set `score` = ? where `id` = ?", "", mysql, "K K", ""}, // no UPDATE ... FROM
		{GORM, "update posts set score = ? where id = ? and deleted_at is null", "", pg, "K K", "GORM: Exec(the statement, its values): GORM has no batch form of it"},
		{Ent, update, "", pg, "K K", "ent: the statement through client.ExecContext (ent's sql/execquery feature)"},
		{SQLX, update, "", pg, "K K", ""},
		{GORM, "update `posts` set `score` = score - ? where id = ?", "", mysql, "K K", "GORM: Exec(the statement, its values): GORM has no batch form of it"},
		{GORM, "update posts set archived = ? where id = ?", "", lite, "S K", `GORM: Model(&Post{}).Where("id IN ?", ids).Updates(...) with the loop's values, once`},
		{Ent, "update posts set archived = ? where id = ?", "", lite, "S K", "ent: client.Post.Update().Where(post.IDIn(ids...)) with the loop's Set calls, once"},
		{SQLC, "update posts set archived = ? where id = ?", "", pg, "S K",
			`sqlc: a query "-- name: UpdatePostsByIDs :exec" of update posts set archived = $1 where id = any($2::bigint[])`},
		{GORM, "delete from `posts` where `posts`.`id` = ?", "", mysql, "K", `GORM: Where("posts.id IN ?", ids).Delete(&Post{}), once`},
		{Bun, "delete from posts where id = ?", "", pg, "K", `bun: the loop's delete once, with Where("id IN (?)", bun.In(ids)) in place of its id = ?`},
		{Ent, "delete from categories where id = ?", "", pg, "K", "ent: client.Category.Delete().Where(category.IDIn(ids...)).Exec(ctx)"},
		// A query the shape tells no statement of, over a source of another
		// table: the association's eager loading, unnamed.
		{Ent, "select distinct `users`.`id`, `users`.`name` from `users` join (select `user_pets` from `pets` where `id` = ?) as `t1` on `users`.`id` = `t1`.`user_pets` limit ?",
			"select `pets`.`id`, `pets`.`name`, `pets`.`user_pets` from `pets`", lite, "K C",
			"ent: With…() of the edge to users on the query of pets, one query more for all their users"},
		{GORM, "select * from users where id = ? or name = ?", "select * from posts", pg, "K K",
			"GORM: Preload(…) of the association to users on the query of posts, one query more for all their users"},
		{Bun, "select * from users where id = ? or name = ?", "select * from posts", pg, "K K",
			"bun: Relation(…) of the relation to users on the query of posts"},
		{GORM, "select * from users where id = ? or name = ?", "select * from users", pg, "K K", ""},
		// No library, and a statement that already takes arrays.
		{NoLibrary, byID, "", pg, "K", ""},
		{GORM, "select * from users where id = any(?)", "", pg, "K", ""},
	}
	for _, c := range cases {
		f := For(Loop{Shape: c.shape, Dialect: c.d, Values: values(c.vals), Library: c.lib, Source: c.source})
		if f.ORM != c.want {
			t.Errorf("%s %s over %q:\n got %s\nwant %s", c.lib, c.shape, c.source, f.ORM, c.want)
		}
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct{ in, singular, plural, camel string }{
		{"users", "user", "", "Users"},
		{"categories", "category", "", "Categories"},
		{"addresses", "address", "", "Addresses"},
		{"status", "status", "statuses", "Status"},
		{"user_id", "user_id", "user_ids", "UserID"},
		{"box", "box", "boxes", "Box"},
		{"company", "company", "companies", "Company"},
		{"user_pets", "user_pet", "keys", "UserPets"},
	} {
		if got := singular(c.in); got != c.singular {
			t.Errorf("singular(%q) = %q, want %q", c.in, got, c.singular)
		}
		if got := plural(c.in); c.plural != "" && got != c.plural {
			t.Errorf("plural(%q) = %q, want %q", c.in, got, c.plural)
		}
		if got := camel(c.in); got != c.camel {
			t.Errorf("camel(%q) = %q, want %q", c.in, got, c.camel)
		}
	}
}
