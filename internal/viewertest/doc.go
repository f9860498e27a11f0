// Package viewertest holds what the tests of the viewer of saved reports
// share (debugpage's LoadDir, the querytrace command, the page in a
// browser): report files that no trace would write, with more groups,
// events, transactions, findings and frames than a trace keeps and texts
// as long as a file may hold; and the querytrace command, built and run
// as a user runs it.
package viewertest
