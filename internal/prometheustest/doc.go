// Package prometheustest checks the debug page's Prometheus text
// exposition with Prometheus's own parser. It is a module of its own so
// that querytrace does not depend on prometheus/common.
package prometheustest
