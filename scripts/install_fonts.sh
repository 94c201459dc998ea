#!/usr/bin/env bash
# Install Debian's brush and handwriting fonts that the reader renders its synthetic glyphs from
# (and that the Read page draws candidates in).  Safe to run again: only missing packages are installed.
# Without apt-get it says what is missing and exits 0 — the app runs without them (text-only candidates).
#   bash scripts/install_fonts.sh [--with-tesseract]   (Tesseract + jpn_vert: the peer in bench/bench_reader.py)
set -uo pipefail
PACKAGES=(fonts-kouzan-mouhitsu fonts-aoyagi-kouzan-t fonts-aoyagi-soseki fonts-kiloji fonts-seto
          fonts-oradano-mincho-gsrr fonts-ipamj-mincho fonts-noto-cjk)
[ "${1:-}" = "--with-tesseract" ] && PACKAGES+=(tesseract-ocr tesseract-ocr-jpn tesseract-ocr-jpn-vert)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: no apt-get here; missing fonts: ${missing[*]} (synthetic glyphs and brush candidates need them)" >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq || true
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; then
  echo "note: could not install ${missing[*]}; the app runs without them" >&2
fi
exit 0
