// Package fnv1a holds the constants of the 64-bit FNV-1a hash. querytrace
// computes its hashes inline (shape fingerprints, call sites, argument
// sets), where hash/fnv's interface would cost a call per byte; they all
// start from the same offset basis and multiply by the same prime.
package fnv1a

const (
	// Offset is the value a hash starts from: FNV-1a's offset basis.
	Offset = 14695981039346656037

	// Prime is what each step multiplies by.
	Prime = 1099511628211
)
