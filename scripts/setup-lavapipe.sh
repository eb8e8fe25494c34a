#!/usr/bin/env bash
# Software Vulkan for testing clarus's WebGPU paths without a GPU (issue 19): Mesa 25 lavapipe from
# bookworm-backports, extracted into a private folder (Debian bookworm's own Mesa 22.3 lavapipe is
# rejected by Dawn). Nothing is installed system-wide but the Vulkan loader (libvulkan1).
# Prints the environment to use: eval "$(bash scripts/setup-lavapipe.sh)".
# Idempotent: a second run reuses the folder.
set -euo pipefail
DIR="${CLARUS_LAVAPIPE_DIR:-$HOME/.cache/clarus-lavapipe}"
ICD="$DIR/lvp_icd.json"
if [ ! -f "$ICD" ]; then
  mkdir -p "$DIR/debs"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
    $SUDO apt-get update -qq >&2
    $SUDO apt-get install -y -qq libvulkan1 >&2
  fi
  LIST=/etc/apt/sources.list.d/clarus-backports.list
  echo 'deb http://deb.debian.org/debian bookworm-backports main' | $SUDO tee "$LIST" >/dev/null
  trap '$SUDO rm -f "$LIST"; $SUDO apt-get update -qq >&2 || true' EXIT
  $SUDO apt-get update -qq >&2
  (cd "$DIR/debs" && apt-get download -qq -t bookworm-backports mesa-vulkan-drivers libdrm2 libdrm-amdgpu1 >&2)
  for f in "$DIR"/debs/*.deb; do dpkg -x "$f" "$DIR/root"; done
  LIB="$DIR/root/usr/lib/x86_64-linux-gnu"
  SRC="$(ls "$DIR"/root/usr/share/vulkan/icd.d/lvp_icd*.json | head -1)"
  sed "s#\"library_path\": *\"[^\"]*\"#\"library_path\": \"$LIB/libvulkan_lvp.so\"#" "$SRC" > "$ICD"
fi
echo "export VK_ICD_FILENAMES=$ICD"
echo "export LD_LIBRARY_PATH=$DIR/root/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
