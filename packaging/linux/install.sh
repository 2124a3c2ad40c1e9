#!/usr/bin/env sh
# Install Botdesk for this user (default) or system-wide, with its menu entry, icon and the
# .botdesk file type, so that double-clicking a workspace opens it in Botdesk.
#
# Run it from the unpacked folder (botdesk/install.sh), or from a checkout with --from:
#   ./install.sh [--prefix DIR] [--from FOLDER] [--uninstall]
#   --prefix DIR   where to install (default: ~/.local; /usr/local for everyone, as root)
#   --from FOLDER  the built folder (default: the folder this script is in)
#   --uninstall    remove what an install put there
set -eu

PREFIX="${HOME}/.local"
SOURCE="$(cd "$(dirname "$0")" && pwd)"
UNINSTALL=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX="$2"; shift 2 ;;
        --from) SOURCE="$(cd "$2" && pwd)"; shift 2 ;;
        --uninstall) UNINSTALL=1; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

APP_DIR="$PREFIX/lib/botdesk"
BIN="$PREFIX/bin/botdesk"
SHARE="$PREFIX/share"
DESKTOP="$SHARE/applications/botdesk.desktop"
ICON="$SHARE/icons/hicolor/scalable/apps/botdesk.svg"
MIME_ICON="$SHARE/icons/hicolor/scalable/mimetypes/application-x-botdesk.svg"
MIME_XML="$SHARE/mime/packages/botdesk.xml"

# Caches are refreshed where the tools exist; without them the files still take effect at
# the desktop's next scan.
refresh_caches() {
    if command -v update-mime-database >/dev/null; then update-mime-database "$SHARE/mime"; fi
    if command -v update-desktop-database >/dev/null; then
        update-desktop-database -q "$SHARE/applications" || true
    fi
    if command -v gtk-update-icon-cache >/dev/null && [ -f "$SHARE/icons/hicolor/index.theme" ]; then
        gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" || true
    fi
}

if [ "$UNINSTALL" = 1 ]; then
    rm -rf "$APP_DIR"
    rm -f "$BIN" "$DESKTOP" "$ICON" "$MIME_ICON" "$MIME_XML"
    refresh_caches
    echo "Botdesk removed from $PREFIX"
    exit 0
fi

if [ ! -x "$SOURCE/botdesk" ] || [ ! -d "$SOURCE/share" ]; then
    echo "install.sh: $SOURCE is not a built Botdesk folder (no botdesk executable or share/);" \
        "build one with packaging/build-linux.sh and pass --from dist/botdesk" >&2
    exit 1
fi

mkdir -p "$PREFIX/lib" "$PREFIX/bin" "$SHARE/applications" "$SHARE/mime/packages" \
    "$(dirname "$ICON")" "$(dirname "$MIME_ICON")"
# A fresh copy: files of an older version must not linger beside the new ones.
rm -rf "$APP_DIR.new"
cp -a "$SOURCE" "$APP_DIR.new"
rm -rf "$APP_DIR"
mv "$APP_DIR.new" "$APP_DIR"
ln -sf "$APP_DIR/botdesk" "$BIN"

# The menu entry runs the installed binary by its full path: ~/.local/bin is not on every
# desktop session's PATH.
sed -e "s|^Exec=botdesk |Exec=\"$APP_DIR/botdesk\" |" -e "s|^TryExec=botdesk\$|TryExec=$APP_DIR/botdesk|" \
    "$SOURCE/share/botdesk.desktop" > "$DESKTOP"
chmod 644 "$DESKTOP"
cp "$SOURCE/share/botdesk.svg" "$ICON"
cp "$SOURCE/share/botdesk.svg" "$MIME_ICON"
cp "$SOURCE/share/botdesk-mime.xml" "$MIME_XML"
refresh_caches
# A per-user install also makes Botdesk the user's default for .botdesk files.
if [ "$PREFIX" = "$HOME/.local" ] && command -v xdg-mime >/dev/null; then
    xdg-mime default botdesk.desktop application/x-botdesk 2>/dev/null || true
fi

echo "Botdesk installed in $APP_DIR"
echo "  command:    $BIN (is $PREFIX/bin on your PATH?)"
echo "  menu entry: $DESKTOP; .botdesk files open in Botdesk"
