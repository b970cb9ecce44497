# shellcheck shell=bash
# Sourced by up.sh and destroy.sh: which stack, which passphrase, and the Pulumi CLI.

# The stack to work on; Pulumi.<stack>.yaml holds its settings.
export WATCHTOWER_STACK="${WATCHTOWER_STACK:-dev}"

# The passphrase encrypts the stack's secrets (Grafana and SMTP passwords) in Pulumi.<stack>.yaml and in the
# state under .pulumi/. This default is published, which is fine for a local demo stack with generated
# passwords. To protect real credentials, export your own PULUMI_CONFIG_PASSPHRASE (or
# PULUMI_CONFIG_PASSPHRASE_FILE) before the first `npm run up`, and keep exporting it.
readonly watchtower_default_passphrase="watchtower-local-dev"
if [[ -z "${PULUMI_CONFIG_PASSPHRASE+set}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
  export PULUMI_CONFIG_PASSPHRASE="$watchtower_default_passphrase"
fi

if ! command -v pulumi >/dev/null 2>&1; then
  echo "pulumi not found: run \`npm install\` (the pulumi package downloads the Pulumi CLI on first use)," \
    "or install the CLI from https://www.pulumi.com/docs/install/" >&2
  exit 1
fi

# Pulumi.yaml keeps the state in ./.pulumi relative to where pulumi runs: always the project root.
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
