// Package browsertest opens querytrace's debug page in headless Chromium,
// as a person would: the demo's slow page, its request view and the
// statistics. It is a module of its own so that querytrace does not
// depend on the browser driver (chromedp).
//
//	cd internal/browsertest && go test ./...
//
// It needs Debian's chromium (apt-get install chromium) and skips without
// it. With -shots DIR it writes its screenshots into DIR, which is how
// docs/screenshots.sh makes the README's.
package browsertest
