#!/usr/bin/env bash
# Builds a fully static, stripped docker-agent for one target and copies it
# to OUT: `scripts/static-build.sh TARGET OUT` (what `make release` runs).
#
# TARGET is x86_64-unknown-linux-musl (this host), aarch64-unknown-linux-musl
# or armv7-unknown-linux-musleabihf. The musl target is used when rustup has
# it (it is added when missing) and its C compiler is here: ring's C and
# assembly are built with musl-gcc (Debian's musl-tools) on x86_64, and with
# Debian's glibc cross compilers (gcc-aarch64-linux-gnu,
# gcc-arm-linux-gnueabihf) for ARM, which also link: ring's C needs no libc
# headers beyond the compiler's own, and Rust's musl targets bring their own
# static musl. Without the musl target the glibc target of the same
# architecture is built with crt-static instead, still fully static.
set -euo pipefail

target=${1:?usage: static-build.sh TARGET OUT}
out=${2:?usage: static-build.sh TARGET OUT}
case $target in
  x86_64-unknown-linux-musl)
    cc=musl-gcc gnu=x86_64-unknown-linux-gnu gnu_cc=cc arch=x86-64 package=musl-tools ;;
  aarch64-unknown-linux-musl)
    cc=aarch64-linux-gnu-gcc gnu=aarch64-unknown-linux-gnu gnu_cc=$cc arch=aarch64 package=gcc-aarch64-linux-gnu ;;
  armv7-unknown-linux-musleabihf)
    cc=arm-linux-gnueabihf-gcc gnu=armv7-unknown-linux-gnueabihf gnu_cc=$cc arch="ARM, EABI5" package=gcc-arm-linux-gnueabihf ;;
  *)
    echo "release: unknown TARGET $target; one of x86_64-unknown-linux-musl, aarch64-unknown-linux-musl, armv7-unknown-linux-musleabihf" >&2
    exit 2 ;;
esac

# Cargo's and the cc crate's per-target variables: CC_<target>, and for a
# cross compiler AR_<target> and CARGO_TARGET_<TARGET>_LINKER too.
build() {
  local triple=$1 compiler=$2 rustflags=$3
  local under=${triple//-/_}
  local vars=("CC_$under=$compiler")
  if [[ $compiler == *-linux-*-gcc ]]; then
    vars+=("AR_$under=${compiler%gcc}ar" "CARGO_TARGET_${under^^}_LINKER=$compiler")
  fi
  env "${vars[@]}" RUSTFLAGS="$rustflags" "${CARGO:-cargo}" build --release --target "$triple"
  mkdir -p "$(dirname "$out")"
  # A rename, so a copy of the old binary that is running is never cut short.
  cp "target/$triple/release/docker-agent" "$out.new" && mv -f "$out.new" "$out"
}

# Linked by the toolchain's own lld when it is here, folding identical
# functions (36 KB smaller on x86_64; docs/development.md, Dependencies).
lld_dir="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/gcc-ld"
link=""
if [[ -x $lld_dir/ld.lld ]]; then
  link=" -C link-arg=-B$lld_dir -C link-arg=-fuse-ld=lld -C link-arg=-Wl,--icf=all"
fi

has_target() {
  rustup target add "$1" >/dev/null 2>&1 || true
  rustup target list --installed 2>/dev/null | grep -qx "$1"
}

if has_target "$target" && command -v "$cc" >/dev/null; then
  build "$target" "$cc" "-C relocation-model=static$link"
else
  if ! command -v "$gnu_cc" >/dev/null; then
    echo "release: $cc is missing: apt-get install $package" >&2
    exit 1
  fi
  echo "release: the $target target or $cc is missing; building $gnu with crt-static"
  has_target "$gnu" || { echo "release: rustup cannot add $target or $gnu" >&2; exit 1; }
  build "$gnu" "$gnu_cc" "-C target-feature=+crt-static -C relocation-model=static$link"
fi

kind=$(file -b "$out")
if [[ $kind != *"statically linked"* || $kind != *"$arch"* ]]; then
  echo "release: $out is not a static $arch executable: $kind" >&2
  exit 1
fi
ls -l "$out"
