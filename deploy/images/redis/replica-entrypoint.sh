#!/bin/sh
# orchestrator/redis-replica (stand-in for gcr.io/google_samples/gb-redisslave:v1): Redis that replicates from
# $REDIS_MASTER_SERVICE_HOST when GET_HOSTS_FROM=env, else from the DNS name redis-master. Redis keeps retrying
# the master, so the replica may start before the master's pod or Service exists.
if [ "$GET_HOSTS_FROM" = "env" ] && [ -n "$REDIS_MASTER_SERVICE_HOST" ]; then
  master="$REDIS_MASTER_SERVICE_HOST"
else
  master="redis-master"
fi
exec /usr/bin/redis-server --protected-mode no --replicaof "$master" "${REDIS_MASTER_SERVICE_PORT:-6379}" "$@"
