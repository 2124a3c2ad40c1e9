#!/usr/bin/env bash
# Build, sign and notarise Botdesk.app on a Mac (not run by CI: it needs macOS and an
# Apple Developer ID). Steps and prerequisites: packaging/README.md, "macOS".
#
# Usage: packaging/macos/build-macos.sh            # unsigned build: dist/Botdesk.app
#        SIGN_IDENTITY="Developer ID Application: Name (TEAMID)" NOTARY_PROFILE=botdesk \
#        packaging/macos/build-macos.sh            # signed, notarised, stapled, in a .dmg
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VERSION="$(python -c 'from desktop import __version__; print(__version__)')"
ARCH="$(uname -m)"

python -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller \
    packaging/botdesk.spec
APP="dist/Botdesk.app"

if [ -z "${SIGN_IDENTITY:-}" ]; then
    echo "Built $APP (unsigned: Gatekeeper will refuse it on other Macs; see packaging/README.md)"
    exit 0
fi

# Sign every binary inside first, then the bundle, with the hardened runtime and a
# secure timestamp: notarisation refuses anything else.
find "$APP/Contents" -type f \( -name "*.so" -o -name "*.dylib" -o -perm -u+x \) -print0 |
    xargs -0 codesign --force --timestamp --options runtime \
        --entitlements packaging/macos/entitlements.plist --sign "$SIGN_IDENTITY"
codesign --force --timestamp --options runtime \
    --entitlements packaging/macos/entitlements.plist --sign "$SIGN_IDENTITY" "$APP"
codesign --verify --deep --strict --verbose=2 "$APP"

DMG="dist/botdesk-$VERSION-macos-$ARCH.dmg"
rm -f "$DMG"
hdiutil create -volname Botdesk -srcfolder "$APP" -ov -format UDZO "$DMG"
codesign --force --timestamp --sign "$SIGN_IDENTITY" "$DMG"

# NOTARY_PROFILE: stored once with
#   xcrun notarytool store-credentials botdesk --apple-id ID --team-id TEAMID
xcrun notarytool submit "$DMG" --keychain-profile "${NOTARY_PROFILE:?set NOTARY_PROFILE}" --wait
xcrun stapler staple "$DMG"
spctl --assess --type open --context context:primary-signature --verbose "$DMG"
echo "Built, signed and notarised $DMG"
