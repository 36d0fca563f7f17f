#!/bin/sh
# orchestrator/redis: a real Redis server. Arguments pass through to redis-server (a leading option or a config
# file); a command (an executable name) runs as given. Protected mode is off so pods on the pod network may connect,
# as in the upstream k8s.gcr.io/redis:e2e image.
case "$1" in
  -v|--version|--help) exec /usr/bin/redis-server "$@" ;;
  ""|-*|*.conf) exec /usr/bin/redis-server --protected-mode no "$@" ;;
  redis-server) shift; exec /usr/bin/redis-server --protected-mode no "$@" ;;
  *) exec "$@" ;;
esac
