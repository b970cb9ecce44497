#!/bin/sh
# As the official image's entrypoint behaves: arguments that start with "-", or that name no command (or a
# file that is not executable), are run by node; anything else runs as it is.
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1")" ] || { [ -f "$1" ] && ! [ -x "$1" ]; }; then
  set -- node "$@"
fi
exec "$@"
