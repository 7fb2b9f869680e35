// Package ext stands in for Traefik's extension point of its dynamic HTTP configuration
// (see go.mod). Traefik v3.7.13 embeds exactly these two types, inline, in
// pkg/config/dynamic's HTTPConfiguration and Router; empty, they add no configuration
// field. Recheck on every Traefik bump: a new use fails the build naming the symbol.
package ext

// HTTP is embedded in dynamic.HTTPConfiguration.
type HTTP struct{}

// Router is embedded in dynamic.Router.
type Router struct{}
