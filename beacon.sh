#!/usr/bin/env bash
# Beacon's two entry points on a fresh Debian/Ubuntu machine with Node.js 20+:
#   ./beacon.sh start   install what is missing, build, start NATS + the six apps (in one Node process;
#                       BEACON_MODE=split: one each) + the nginx gateway on http://localhost:8097
#   ./beacon.sh test    install what is missing, build, lint, run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1mbeacon:\033[0m %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $* (no sudo here); run it as root, then try again"
  fi
}

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "cannot install $* automatically (no apt-get): install it with your package manager, then try again"
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  say "installing $* (apt-get)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${APT_FLAGS:-} "$@" >/dev/null
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

require_node() {
  have node || die "Node.js 20.19+ is required: https://nodejs.org/ (or: apt-get install nodejs from NodeSource)"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || die "Node.js $(node -v) is too old: Beacon needs 20.19 or newer"
}

require_pnpm() {
  if ! have pnpm; then
    say "installing pnpm 10 (npm install -g pnpm@10)"
    # corepack cannot verify pnpm's signatures on every machine; npm can install it directly.
    npm install -g pnpm@10 >/dev/null 2>&1 || as_root npm install -g pnpm@10 >/dev/null
  fi
}

require_nats() {
  if [ -z "${NATS_URL:-}" ] && ! have nats-server; then apt_install nats-server; fi
}

# The gateway (one base URL for REST, WebSocket, SSE and the dashboard). Optional: without
# it registry-api serves port 8097 itself; BEACON_NGINX=0 skips installing and using it.
require_nginx() {
  case "${BEACON_NGINX:-auto}" in 0|off|false) return ;; esac
  have nginx || apt_install nginx
}

# Packages the test suite drives for real; each later suite adds its own here.
require_test_tools() {
  have nats-server || apt_install nats-server
  have jq || apt_install jq # the README's examples use it, and a test runs them
  have chromium || apt_install chromium # the dashboard's browser test drives Debian's Chromium
  # mDNS is checked against an independent implementation, with Debian's python3.
  /usr/bin/python3 -c 'import zeroconf' 2>/dev/null || apt_install python3-zeroconf
  # Seed 000's and 004's Python clients run as printed (compat/), on aiohttp and httpx.
  /usr/bin/python3 -c 'import aiohttp' 2>/dev/null || apt_install python3-aiohttp
  /usr/bin/python3 -c 'import httpx' 2>/dev/null || apt_install python3-httpx
  /usr/bin/python3 -c 'import yaml' 2>/dev/null || apt_install python3-yaml # reads seed 000's compose files
  have ip || apt_install iproute2 # network namespaces for the LAN tests
  have nginx || apt_install nginx # the end-to-end test goes through the real gateway (deploy/nginx)
  have promtool || apt_install prometheus # promtool checks deploy/prometheus and every app's /metrics
  # Without recommends: they are a whole Docker engine, which `docker-compose config` does not need.
  have tini || apt_install tini # the container test runs an app as the image does: tini, then node
  have docker-compose || APT_FLAGS=--no-install-recommends apt_install docker-compose # checks docker-compose.yml
  have systemd-analyze || APT_FLAGS=--no-install-recommends apt_install systemd # verifies deploy/systemd/beacon.service
  have tmux || apt_install tmux # the CLI is tested as a person uses it: in a terminal, its screen read back
}

install_and_build() {
  pnpm install --frozen-lockfile
  pnpm build
}

case "${1:-}" in
  start)
    require_node; require_pnpm; require_nats; require_nginx
    install_and_build
    # The launcher itself (pnpm would report Ctrl-C as a failed command).
    exec node scripts/start.mjs
    ;;
  test)
    require_node; require_pnpm; require_test_tools
    install_and_build
    pnpm lint # typecheck, ESLint and Prettier: a lint failure fails the test command
    exec pnpm test
    ;;
  *)
    echo "usage: ./beacon.sh start | test" >&2
    exit 2
    ;;
esac
