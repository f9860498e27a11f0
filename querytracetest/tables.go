package querytracetest

import "github.com/querytrace/querytrace"

// hasTable reports whether shape names table, alone or schema-qualified.
func hasTable(shape, table string) bool { return querytrace.MentionsTable(shape, table) }
