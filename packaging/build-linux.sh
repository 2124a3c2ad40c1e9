#!/usr/bin/env bash
# Build Botdesk's Linux artefact from a checkout: a one-folder PyInstaller build
# (DIST/botdesk/, with install.sh and the desktop integration files) and its tarball
# (DIST/botdesk-VERSION-linux-ARCH.tar.gz). Needs the app's dependencies and PyInstaller in
# the current Python (`pip install -e '.[test]'` has both) and objdump (Debian: binutils).
#
# Usage: packaging/build-linux.sh [--dist DIR] [--work DIR]
#   --dist DIR  where the folder and the tarball go (default: dist/ in the checkout)
#   --work DIR  PyInstaller's scratch folder (default: build/pyinstaller/ in the checkout)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIST="$ROOT/dist"
WORK="$ROOT/build/pyinstaller"
PYTHON="${PYTHON:-python}"
while [ $# -gt 0 ]; do
    case "$1" in
        --dist) DIST="$2"; shift 2 ;;
        --work) WORK="$2"; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "build-linux.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$DIST" "$WORK"
DIST="$(cd "$DIST" && pwd)"
WORK="$(cd "$WORK" && pwd)"

if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    echo "build-linux.sh: PyInstaller is not installed: pip install -e '.[test]'" >&2
    exit 1
fi
if ! command -v objdump >/dev/null; then
    echo "build-linux.sh: PyInstaller needs objdump on Linux: apt-get install binutils" >&2
    exit 1
fi

VERSION="$(cd "$ROOT" && "$PYTHON" -c 'from desktop import __version__; print(__version__)')"
ARCH="$(uname -m)"
started=$(date +%s)

cd "$ROOT"
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" packaging/botdesk.spec

APP="$DIST/botdesk"
# The desktop integration travels with the folder: unpack, then ./install.sh.
install -m 755 packaging/linux/install.sh "$APP/install.sh"
mkdir -p "$APP/share"
install -m 644 packaging/linux/botdesk.desktop "$APP/share/botdesk.desktop"
install -m 644 packaging/linux/botdesk-mime.xml "$APP/share/botdesk-mime.xml"
install -m 644 resources/icons/botdesk.svg "$APP/share/botdesk.svg"

TARBALL="$DIST/botdesk-$VERSION-linux-$ARCH.tar.gz"
tar -C "$DIST" -czf "$TARBALL" botdesk

elapsed=$(( $(date +%s) - started ))
echo "built $APP ($(du -sh "$APP" | cut -f1)) and $TARBALL ($(du -h "$TARBALL" | cut -f1)) in ${elapsed} s"
