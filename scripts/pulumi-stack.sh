# shellcheck shell=bash
# Sourced by up.sh and destroy.sh: which stack, which passphrase, and the Pulumi CLI.

# The stack to work on; Pulumi.<stack>.yaml holds its settings.
export WATCHTOWER_STACK="${WATCHTOWER_STACK:-dev}"

if ! command -v pulumi >/dev/null 2>&1; then
  echo "pulumi not found: run \`npm install\` (the pulumi package downloads the Pulumi CLI on first use)," \
    "or install the CLI from https://www.pulumi.com/docs/install/" >&2
  exit 1
fi

# The passphrase encrypts the stack's secrets (Grafana and SMTP passwords) in Pulumi.<stack>.yaml and in the
# state under .pulumi/. A default written here would be published with the code and protect nothing, so the
# first run makes a random one for this checkout, readable only by its owner, and every later run reuses it.
# To choose your own, export PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE before the first run.
watchtower_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export WATCHTOWER_PASSPHRASE_FILE="${WATCHTOWER_PASSPHRASE_FILE:-$watchtower_root/.pulumi/passphrase}"
if [[ -z "${PULUMI_CONFIG_PASSPHRASE+set}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
  if [[ ! -s "$WATCHTOWER_PASSPHRASE_FILE" ]]; then
    mkdir -p "$(dirname "$WATCHTOWER_PASSPHRASE_FILE")"
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n' >"$WATCHTOWER_PASSPHRASE_FILE")
    echo "Made a passphrase for this stack's secrets in $WATCHTOWER_PASSPHRASE_FILE: keep it, it decrypts them." >&2
  fi
  export PULUMI_CONFIG_PASSPHRASE_FILE="$WATCHTOWER_PASSPHRASE_FILE"
fi

# Pulumi.yaml keeps the state in ./.pulumi relative to where pulumi runs: always the project root.
cd "$watchtower_root" || exit 1
