package sqlfix

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/querytrace/querytrace/internal/sqlnorm"
)

// A Library is an ORM or a code generator that issued a loop's
// statements, in whose own API Fix.ORM tells the fix.
type Library uint8

// The libraries a fix can be told in.
const (
	NoLibrary Library = iota
	GORM              // gorm.io/gorm
	Bun               // github.com/uptrace/bun
	Ent               // entgo.io/ent and the client it generates
	SQLX              // github.com/jmoiron/sqlx
	SQLC              // the queries sqlc generates
)

var libraryNames = [...]string{"", "GORM", "bun", "ent", "sqlx", "sqlc"}

// String returns the library's name as its documentation writes it.
func (l Library) String() string {
	if int(l) < len(libraryNames) {
		return libraryNames[l]
	}
	return ""
}

// An ORM's own ways rest on its conventions: an association, a relation
// or an edge is named by the shapes only where the loop looks a row up by
// the key that the convention gives it (the loop's table's id, for a row
// that each source row points to; the source table's singular and "_id",
// for the rows that point to each source row), and its name is then the
// Go name the convention gives the field (User, Posts). Elsewhere the
// wording keeps to what holds whatever the names: a condition on the
// loop's key column taking every key, the library's way to run the fix's
// statement, its batch forms of writes.

// use is what the wording of a library's fix needs of a loop and its fix.
type use struct {
	dialect sqlnorm.Dialect
	verb    string
	table   string // the loop's table as Go code names it: unquoted, no schema
	col     string // its key column as a condition names it ("p.user_id"), or ""
	short   string // the key column's own name ("user_id")
	keys    string // a Go name for the list of every key ("user_ids")

	// stmt is the fix's statement with "?" placeholders and its list of
	// keys as "in (?)", or "" where the fix is prose or takes rows
	// ("(?, ?), ..."); list tells whether it has that list, args how many
	// other placeholders it has.
	stmt string
	list bool
	args int
	sql  bool // the fix is a statement, with a list or not

	lookup    bool   // the fix is the loop's own query, over every key
	aggregate string // the loop's aggregate per key: "count(*)", "aggregate" for another, or ""
	source    string // the table of the query whose rows the loop went over, when another
	assoc     string // the association the loop loads, by convention, or ""
	belongs   bool   // ... which each source row points to

	sameSet bool     // an UPDATE whose SET was the same in every execution
	sets    []string // an UPDATE's columns, each set to a value ("col = ?"), where its key is its one condition; or nil
	values  bool     // an INSERT of one row of VALUES
	cols    []string // ... whose columns each take a "?", or nil
	insert  string   // ... the INSERT, and its row of values as written, "(?, ?)"
	row     string
}

// orm returns the fix of l in the API of its library, or "" where the
// library has no way of its own that the shapes tell. p is l's shape
// parsed, or nil; f is the fix, its statement not yet numbered.
func orm(l Loop, p *parsed, f Fix) string {
	if l.Library == NoLibrary || p == nil {
		return ""
	}
	if _, ok := p.arrays(); ok {
		return "" // already a statement over arrays: nothing to batch
	}
	u := useOf(l, p, f)
	var s string
	switch l.Library {
	case GORM:
		s = u.gorm()
	case Bun:
		s = u.bun()
	case Ent:
		s = u.ent()
	case SQLX:
		s = u.sqlx()
	case SQLC:
		s = u.sqlc()
	}
	if s == "" {
		return ""
	}
	return l.Library.String() + ": " + s
}

// useOf reads what the wordings need from l, its parsed shape and fix.
func useOf(l Loop, p *parsed, f Fix) *use {
	u := &use{dialect: l.Dialect, verb: p.toks[0].t, lookup: f.Join != ""}
	if u.verb == "replace" {
		u.verb = "insert"
	}
	if tables := sqlnorm.Tables(l.Shape); len(tables) > 0 {
		u.table = lastPart(tables[0])
	}
	if k, ok := p.keyColumn(); ok {
		u.col = unquoted(p.text(k.col))
		u.short = bare(shortName(p.text(k.col)))
		u.keys = plural(u.short)
	}
	u.stmt, u.list, u.args = listed(f.SQL, l.Dialect)
	u.sql = f.SQL != ""
	switch u.verb {
	case "select":
		if tables := sqlnorm.Tables(l.Source); len(tables) > 0 && lastPart(tables[0]) != u.table {
			u.source = lastPart(tables[0])
		}
		if first, _, from, ok := p.selectList(); ok && p.aggregate(span{first, from}) {
			u.aggregate = "aggregate"
			if strings.Contains(p.text(span{first, from}), "count(*)") {
				u.aggregate = "count(*)"
			}
		}
		if u.lookup && u.col != "" && u.source != "" {
			u.relation(l, p)
		}
	case "update":
		u.updateSet(p)
	case "insert":
		u.insertRow(p)
	}
	return u
}

// keyColumn returns the WHERE conjunct on the loop's key: the one key
// finds, or else, where other values varied too (an UPDATE's SET), the
// first "col = ?" whose value varied.
func (p *parsed) keyColumn() (keyPred, bool) {
	if k, ok := p.key(); ok {
		return k, true
	}
	conj, ok := p.where()
	if !ok {
		return keyPred{}, false
	}
	for _, c := range conj {
		if k, ok := p.keyOf(c); ok && p.value(k.val) == Varied {
			return k, true
		}
	}
	return keyPred{}, false
}

// relation names the association a lookup loads, where the source's table
// and the key column tell it by the convention, and the source's explicit
// columns, when it names them, hold the key it needs.
func (u *use) relation(l Loop, p *parsed) {
	_, _, from, _ := p.selectList()
	if !p.oneTable(from) {
		return
	}
	one := singular(u.source)
	var need string
	switch {
	case u.short == "id":
		// Each source row points to one row of the loop's table.
		u.assoc, u.belongs, need = camel(singular(u.table)), true, singular(u.table)+"_id"
	case u.short == one+"_id":
		u.assoc, need = camel(u.table), "id"
	case l.Library == Ent && strings.HasPrefix(u.short, one+"_"):
		// ent's own foreign key of an edge without a field: the owner's
		// singular and the edge's name ("user_pets").
		u.assoc, need = camel(strings.TrimPrefix(u.short, one+"_")), "id"
	default:
		return
	}
	if sp := parse(Loop{Shape: l.Source, Dialect: l.Dialect}); sp != nil {
		if _, items, _, ok := sp.selectList(); ok && !sp.hasColumn(items, need) {
			u.assoc, u.belongs = "", false
		}
	}
}

// updateSet reads an UPDATE's SET: the same in every execution, or
// columns each set to a value of its own.
func (u *use) updateSet(p *parsed) {
	where, at := p.find("where", 0), p.find("set", 0)
	if where < 0 || at < 2 || at > 4 || at > 2 && !isName(p.toks[at-1].t) {
		return // "update t set", "update t a set" and "update t as a set" (bun's) only
	}
	set := span{at + 1, where}
	u.sameSet = !p.mayVary(set)
	if conj, ok := p.where(); !ok || len(conj) != 1 {
		return // a row the key finds may not be one the loop updated
	}
	var cols []string
	for _, it := range p.split(set, ",") {
		if it.to-it.from != 3 || !isName(p.toks[it.from].t) || p.toks[it.from+1].t != "=" || p.toks[it.from+2].t != "?" {
			return
		}
		cols = append(cols, unquoted(p.toks[it.from].t))
	}
	u.sets = cols
}

// insertRow reads a one-row INSERT ... VALUES and, where its columns are
// named and each given a "?" of its own, its columns.
func (u *use) insertRow(p *parsed) {
	v := p.find("values", 0)
	if v < 0 || v+1 >= len(p.toks) || p.toks[v+1].t != "(" {
		return
	}
	c := p.closing(v + 1)
	u.values = c > 0 && (c+1 == len(p.toks) || p.toks[c+1].t != ",")
	if v < 3 || p.toks[v-1].t != ")" {
		return
	}
	o := v - 1
	for o > 0 && !(p.toks[o].t == "(" && p.toks[o].depth == p.toks[v-1].depth) {
		o--
	}
	if c < 0 || o <= 0 {
		return
	}
	cols := p.split(span{o + 1, v - 1}, ",")
	vals := p.split(span{v + 2, c}, ",")
	if len(cols) != len(vals) {
		return
	}
	names := make([]string, len(cols))
	for i, it := range vals {
		if it.to-it.from != 1 || p.toks[it.from].t != "?" || cols[i].to-cols[i].from != 1 {
			return
		}
		names[i] = unquoted(p.toks[cols[i].from].t)
	}
	u.cols, u.insert, u.row = names, p.s, p.text(span{v + 1, c + 1})
}

// listed returns the fix's statement sql with its list of keys written
// "in (?)", whether it has one, and how many other placeholders it has.
func listed(sql string, d sqlnorm.Dialect) (string, bool, int) {
	from := " in (...)"
	if d == sqlnorm.Postgres {
		from = " = any(?)"
	}
	n := strings.Count(sql, from)
	s := strings.Replace(sql, from, " in (?)", 1)
	if sql == "" || n > 1 || strings.Contains(s, "...") {
		return "", false, 0 // prose, two lists, or rows "(?, ?), ...": no one list
	}
	return s, n == 1, strings.Count(s, "?") - n
}

// gorm tells the fix in GORM's API.
func (u *use) gorm() string {
	in := "Where(" + strconv.Quote(u.col+" IN ?") + ", " + u.keys + ")"
	model := "&" + camel(singular(u.table)) + "{}"
	switch {
	case u.verb == "select" && u.assoc != "" && u.belongs:
		return "Preload(" + strconv.Quote(u.assoc) + ") on the query of " + u.source + ", one query more for all their " + u.table +
			", or Joins(" + strconv.Quote(u.assoc) + ") to read them in that same query (" + u.assoc + ": the association to " +
			u.table + ", by GORM's naming)"
	case u.verb == "select" && u.assoc != "":
		return "Preload(" + strconv.Quote(u.assoc) + ") on the query of " + u.source + ", one query more for all their " + u.table +
			" (" + u.assoc + ": the association to " + u.table + ", by GORM's naming)"
	case u.verb == "select" && !u.sql && u.source != "":
		return "Preload(…) of the association to " + u.table + " on the query of " + u.source + ", one query more for all their " + u.table
	case u.verb == "select" && u.lookup:
		return "one Find(&rows) with " + in + " in place of the loop's " + u.col + " = ?"
	case u.verb == "select" && u.list:
		return "Raw(the statement written with IN ? for its list, " + u.rawArgs(u.keys) + ").Scan(&rows)"
	case u.verb == "insert" && u.values:
		return "Create(&rows) with a slice of every row: one INSERT (CreateInBatches(&rows, n) for chunks of n)"
	case u.verb == "update" && u.sameSet && u.list:
		return "Model(" + model + ")." + in + ".Updates(...) with the loop's values, once"
	case u.verb == "update" && u.sets != nil && u.short == "id":
		return "one upsert of every row, Clauses(clause.OnConflict{Columns: []clause.Column{{Name: \"id\"}}, DoUpdates: clause.AssignmentColumns(" +
			goStrings(u.sets) + ")}).Create(&rows), each row existing and read whole, so that only " + strings.Join(u.sets, ", ") + " changes"
	case u.verb == "delete" && u.list:
		return in + ".Delete(" + model + "), once"
	case u.sql && u.verb != "select":
		return "Exec(the statement, its values): GORM has no batch form of it"
	}
	return ""
}

// bun tells the fix in bun's API.
func (u *use) bun() string {
	in := "Where(" + strconv.Quote(u.col+" IN (?)") + ", bun.In(" + u.keys + "))"
	switch {
	case u.verb == "select" && u.assoc != "" && u.belongs:
		return "Relation(" + strconv.Quote(u.assoc) + ") on the query of " + u.source + ", which joins " + u.table +
			" into that query (" + u.assoc + ": the relation to " + u.table + ", by bun's naming)"
	case u.verb == "select" && u.assoc != "":
		return "Relation(" + strconv.Quote(u.assoc) + ") on the query of " + u.source + ", one query more for all their " + u.table +
			" (" + u.assoc + ": the relation to " + u.table + ", by bun's naming)"
	case u.verb == "select" && !u.sql && u.source != "":
		return "Relation(…) of the relation to " + u.table + " on the query of " + u.source
	case u.verb == "select" && u.lookup:
		return "the loop's query once, with " + in + " in place of its " + u.col + " = ?"
	case u.verb == "select" && u.list:
		return "NewRaw(the statement written with IN (?) for its list, " + u.rawArgs("bun.In("+u.keys+")") + ").Scan(ctx, &rows)"
	case u.verb == "insert" && u.values:
		return "NewInsert().Model(&rows) with a slice of every row: one INSERT"
	case (u.verb == "update" && u.sameSet || u.verb == "delete") && u.list:
		return "the loop's " + u.verb + " once, with " + in + " in place of its " + u.col + " = ?"
	case u.verb == "update" && u.sets != nil && u.short == "id" && u.dialect != sqlnorm.MySQL:
		return "NewUpdate().Model(&rows).Column(" + quoted(u.sets) + ").Bulk(): one UPDATE of every row, from their values"
	}
	return ""
}

// rawArgs returns the arguments of the fix's statement: list, the list of
// every key, where the list goes, and the loop's other values.
func (u *use) rawArgs(list string) string {
	if u.args == 0 {
		return list
	}
	return "the loop's values with " + list + " in place of its key"
}

// ent tells the fix in the API of ent's generated client.
func (u *use) ent() string {
	pkg := strings.ReplaceAll(singular(u.table), "_", "")
	client := "client." + camel(singular(u.table))
	in := pkg + "." + camel(u.short) + "In(" + u.keys + "...)"
	switch {
	case u.verb == "select" && u.assoc != "":
		return "With" + u.assoc + "() on the query of " + u.source + ", one query more for all their " + u.table +
			" (" + u.assoc + ": the edge to " + u.table + ", by ent's naming)"
	case u.verb == "select" && !u.sql && u.source != "":
		return "With…() of the edge to " + u.table + " on the query of " + u.source + ", one query more for all their " + u.table
	case u.verb == "select" && u.lookup:
		return "one " + client + ".Query().Where(" + in + ").All(ctx) in place of the loop's query on " + u.col
	case u.verb == "select" && u.aggregate != "" && u.col != "":
		agg := "ent.Count()"
		if u.aggregate != "count(*)" {
			agg = "the loop's aggregate"
		}
		return client + ".Query().Where(" + in + ").GroupBy(" + pkg + ".Field" + camel(u.short) + ").Aggregate(" + agg + ").Scan(ctx, &rows)"
	case u.verb == "insert" && u.values:
		return client + ".CreateBulk(builders...).Save(ctx): one INSERT of every row"
	case u.verb == "update" && u.sameSet && u.list:
		return client + ".Update().Where(" + in + ") with the loop's Set calls, once"
	case u.verb == "delete" && u.list:
		return client + ".Delete().Where(" + in + ").Exec(ctx)"
	case u.sql && u.verb == "select":
		return "the statement through client.QueryContext (ent's sql/execquery feature)"
	case u.sql:
		return "the statement through client.ExecContext (ent's sql/execquery feature)"
	}
	return ""
}

// sqlx tells the fix with sqlx.In, where the statement takes a list: sqlx
// runs SQL as written, which the fix is already.
func (u *use) sqlx() string {
	if !u.list {
		if u.verb == "insert" && u.cols != nil {
			named := make([]string, len(u.cols))
			for i, c := range u.cols {
				named[i] = ":" + c
			}
			stmt := strings.Replace(u.insert, u.row, "("+strings.Join(named, ", ")+")", 1)
			run := "NamedExec"
			if strings.Contains(stmt, " returning ") {
				run = "NamedQuery"
			}
			return run + "(" + goString(stmt) + ", rows) with a slice of every row: one INSERT"
		}
		return ""
	}
	run := "db.Select(&rows, db.Rebind(query), args...)"
	if u.verb != "select" {
		run = "db.Exec(db.Rebind(query), args...)"
	}
	return "query, args, err := sqlx.In(" + goString(u.stmt) + ", " + u.rawArgs(u.keys) + "), then " + run
}

// sqlc tells the fix as a query for sqlc to generate.
func (u *use) sqlc() string {
	if !u.list {
		return ""
	}
	name := "List"
	kind := ":many"
	if u.verb != "select" {
		name, kind = camel(u.verb), ":exec"
	}
	name += camel(u.table) + "By" + camel(u.keys)
	var stmt string
	if u.dialect == sqlnorm.Postgres {
		typ := "bigint"
		if u.short != "id" && !strings.HasSuffix(u.short, "_id") {
			typ = "text"
		}
		arr := "@" + u.keys + "::" + typ + "[]"
		if u.args > 0 {
			arr = "?::" + typ + "[]" // numbered below with the others
		}
		stmt = numbered(strings.Replace(u.stmt, " in (?)", " = any("+arr+")", 1))
		if typ == "text" {
			stmt += " (text[]: write the type of " + u.short + ")"
		}
	} else {
		stmt = strings.Replace(u.stmt, " in (?)", " in (sqlc.slice('"+u.keys+"'))", 1)
	}
	return "a query \"-- name: " + name + " " + kind + "\" of " + stmt
}

// quoted returns each of ss as a Go string literal, separated by commas.
func quoted(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// goStrings returns ss as a Go []string literal.
func goStrings(ss []string) string { return "[]string{" + quoted(ss) + "}" }

// goString returns s as a Go string literal: raw where it holds no
// backquote, as SQL with its double-quoted names reads best.
func goString(s string) string {
	if strings.ContainsRune(s, '`') {
		return strconv.Quote(s)
	}
	return "`" + s + "`"
}

// unquoted returns a name, qualified or not, without its quotes: the
// name as a condition written in Go code gives it.
func unquoted(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		if len(p) >= 2 && (p[0] == '"' || p[0] == '`') {
			parts[i] = p[1 : len(p)-1]
		}
	}
	return strings.Join(parts, ".")
}

// lastPart returns a table's name without its schema.
func lastPart(table string) string { return table[strings.LastIndexByte(table, '.')+1:] }

// singular returns the singular of a table's plural name by English's
// regular rules, which ORMs follow: users, categories, addresses.
func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies") && len(s) > 3:
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "xes"), strings.HasSuffix(s, "ches"), strings.HasSuffix(s, "shes"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "ss"), strings.HasSuffix(s, "us"), strings.HasSuffix(s, "is"):
		return s
	case strings.HasSuffix(s, "s") && len(s) > 1:
		return s[:len(s)-1]
	}
	return s
}

// plural returns the plural of a column's name, for a list of its
// values: ids, user_ids, slugs, statuses.
func plural(s string) string {
	switch {
	case strings.HasSuffix(s, "ss"), strings.HasSuffix(s, "us"), strings.HasSuffix(s, "x"), strings.HasSuffix(s, "ch"), strings.HasSuffix(s, "sh"):
		return s + "es"
	case strings.HasSuffix(s, "s"):
		return "keys" // a plural already (ent's user_pets)
	case strings.HasSuffix(s, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(s[len(s)-2])):
		return s[:len(s)-1] + "ies"
	}
	return s + "s"
}

// camel returns a snake_case name as Go writes it: user_ids is UserIDs.
func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		switch {
		case part == "":
		case part == "id" || part == "ids":
			b.WriteString(strings.ToUpper(part[:2]) + part[2:])
		default:
			r, n := utf8.DecodeRuneInString(part)
			b.WriteRune(unicode.ToUpper(r))
			b.WriteString(part[n:])
		}
	}
	return b.String()
}
