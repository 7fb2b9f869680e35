// Stand-in for Traefik's nested module github.com/traefik/traefik/dynamic/ext, which its
// go.mod replaces with ./pkg/config/dynamic/ext: a directory the module proxy's zip of
// github.com/traefik/traefik/v3 leaves out (it is a module of its own) and that the proxy
// does not serve (403). dev/cluster/build.sh replaces the path with this directory.
module github.com/traefik/traefik/dynamic/ext

go 1.26
