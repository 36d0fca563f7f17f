#!/usr/bin/env bash
# A private PostgreSQL cluster for the store (--datastore-endpoint), for tests and labs:
#   deploy/lib/postgres.sh start DIR [PORT] [DATABASE]   installs Debian's postgresql if missing, starts (making it at
#                                                       first use) the cluster in DIR on a loopback port and prints its
#                                                       endpoint, postgres://orchestrator:…@127.0.0.1:PORT/DATABASE
#   deploy/lib/postgres.sh stop DIR                     stops it (the data stays in DIR)
# Exit status 3: PostgreSQL is not installed and cannot be installed here (not root, or apt-get failed).
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

case "${1:-}" in
  start)
    [ $# -ge 2 ] || die "usage: $0 start DIR [PORT] [DATABASE]"
    # installing is the one step whose failure means "no PostgreSQL here" rather than a broken one
    ( ensure_postgres ) >&2 || exit 3
    postgres_start "$2" "${3:-}" "${4:-kubernetes}" ;;
  stop)
    [ $# -eq 2 ] || die "usage: $0 stop DIR"
    postgres_stop "$2" ;;
  *) die "usage: $0 start DIR [PORT] [DATABASE] | stop DIR" ;;
esac
