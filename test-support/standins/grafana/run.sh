#!/bin/sh
# The Grafana stand-in's /run.sh: what grafana/grafana's packaging/docker/run.sh does that the stack relies on.
# Each GF_*__FILE variable becomes the variable it names, read from the file; unlike the original, a file this
# user cannot read stops the container, naming it. Then `grafana server` starts with the image's paths.
set -eu

for var_file in $(env | sed -n 's/^\(GF_[^=]*__FILE\)=.*/\1/p'); do
  var=${var_file%__FILE}
  eval "file=\$$var_file"
  eval "value=\${$var:-}"
  if [ -n "$value" ]; then
    echo "ERROR: Both $var and $var_file are set (but are exclusive)" >&2
    exit 1
  fi
  if [ ! -r "$file" ]; then
    echo "grafana stand-in: $var_file is $file, which uid $(id -u) cannot read" >&2
    exit 1
  fi
  echo "Getting secret $var from $file"
  export "$var=$(cat "$file")"
  unset "$var_file"
done

export HOME="$GF_PATHS_HOME"

exec grafana server \
  --homepath="$GF_PATHS_HOME" \
  --config="$GF_PATHS_CONFIG" \
  --packaging=docker \
  "$@" \
  cfg:default.log.mode="console" \
  cfg:default.paths.data="$GF_PATHS_DATA" \
  cfg:default.paths.logs="$GF_PATHS_LOGS" \
  cfg:default.paths.plugins="$GF_PATHS_PLUGINS" \
  cfg:default.paths.provisioning="$GF_PATHS_PROVISIONING"
