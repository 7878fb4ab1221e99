#!/bin/sh
# The system packages the test suite needs, installed when missing: a headless browser (chromium) for the
# feedback-page tests and bubblewrap (bwrap) to isolate kernels. Debian/Ubuntu with apt-get, as root or via sudo.
# Run by the README's test command and by .ci/run; a no-op when both are present.
set -eu
missing=""
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing="$missing chromium"
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-system: install$missing with your system's package manager (no apt-get here); the feedback-page tests need chromium" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    echo "setup-system: run as root (or install sudo) to apt-get install$missing" >&2
    exit 1
fi
echo "setup-system: apt-get install$missing" >&2
$as_root apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq $missing >/dev/null
