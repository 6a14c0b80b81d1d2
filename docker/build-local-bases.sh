#!/usr/bin/env bash
# Builds splitnet's local base images from this host's own files with `docker import`, for machines that reach no container registry.
#
# splitnet/node-base:local  stands in for node:20-bookworm-slim: the host's node (with the libraries ldd lists
#                           and the ELF interpreter), npm from the host's global npm folder, /bin/sh, /usr/bin/env,
#                           an /etc/passwd with uid 1000 `node`, and the host's CA bundle, at the official image's paths.
# splitnet/nats-base:local  stands in for nats: Debian's /usr/sbin/nats-server (dynamically linked, so with its
#                           libraries and loader) as /nats-server, the entrypoint.
# splitnet/prometheus-base:local  stands in for prom/prometheus: Debian's /usr/bin/prometheus (with its libraries
#                           and loader), run as nobody with /prometheus writable for its data; the entrypoint.
#
# Idempotent: each image carries a fingerprint of the host files and of this script; an image whose fingerprint
# still matches is kept as it is. --force rebuilds anyway. A replaced image is removed unless something uses it.
#
# Usage: docker/build-local-bases.sh [--force]
# Environment: DOCKER (the docker CLI; default /usr/bin/docker when present), NODE_BASE_TAG, NATS_BASE_TAG,
# PROMETHEUS_BASE_TAG.
set -euo pipefail

NODE_BASE_TAG=${NODE_BASE_TAG:-splitnet/node-base:local}
NATS_BASE_TAG=${NATS_BASE_TAG:-splitnet/nats-base:local}
PROMETHEUS_BASE_TAG=${PROMETHEUS_BASE_TAG:-splitnet/prometheus-base:local}
FINGERPRINT_LABEL=splitnet.base.fingerprint
force=0

die() { echo "build-local-bases: $*" >&2; exit 1; }

for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (usage: $0 [--force])" ;;
  esac
done

# /usr/local/bin/docker may be a newer CLI without buildx; Debian's docker.io CLI matches its engine.
if [ -z "${DOCKER:-}" ]; then
  if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=$(command -v docker || true); fi
fi
[ -n "$DOCKER" ] && [ -x "$DOCKER" ] || die "no docker CLI found (install it: apt-get install -y docker.io)"
"$DOCKER" info >/dev/null 2>&1 || die "the Docker engine is not running (start it: dockerd >/var/log/dockerd.log 2>&1 & then wait until 'docker info' succeeds)"

for tool in tar ldd sha256sum readlink; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is needed but not installed"
done

need_file() { [ -e "$1" ] || die "$1 is missing on this host ($2)"; }

# Every path here is an absolute path on the host; the rootfs gets it at its canonical place, so a host with
# or without merged /usr works, and the rootfs itself is merged-/usr like Debian 12 (bin, lib, lib64 -> usr/...).
new_rootfs() {
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/splitnet-base.XXXXXX")
  mkdir -p "$dir/usr/bin" "$dir/usr/sbin" "$dir/usr/lib" "$dir/usr/lib64" "$dir/etc" "$dir/tmp"
  chmod 1777 "$dir/tmp"
  ln -s usr/bin "$dir/bin"
  ln -s usr/sbin "$dir/sbin"
  ln -s usr/lib "$dir/lib"
  ln -s usr/lib64 "$dir/lib64"
  echo "$dir"
}

# Copies a host file (following symlinks) to the same path in the rootfs.
put() {
  local root=$1 src=$2 dir
  dir=$(readlink -f "$(dirname "$src")")
  mkdir -p "$root$dir"
  cp -L --preserve=mode "$src" "$root$dir/$(basename "$src")"
}

# The shared libraries an executable needs, and its ELF interpreter, as ldd reports them.
libs_of() {
  ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}

put_with_libs() {
  local root=$1 exe=$2 lib
  put "$root" "$exe"
  for lib in $(libs_of "$exe"); do put "$root" "$lib"; done
}

# A fingerprint of what goes into an image: the host files' contents and this script.
fingerprint() {
  local f
  {
    sha256sum <"$0"  # by content only: the same script run by another path is the same script
    for f in "$@"; do
      if [ -d "$f" ]; then find "$f" -type f -print0 | sort -z | xargs -0 sha256sum; else sha256sum "$(readlink -f "$f")"; fi
    done
  } | sha256sum | cut -c1-32
}

# True (saying so) when TAG's image has fingerprint FP and --force was not given: nothing to build.
up_to_date() {
  [ "$force" = 0 ] && [ "$(current_fingerprint "$1")" = "$2" ] && echo "up to date: $1"
}

current_fingerprint() {
  "$DOCKER" image inspect --format "{{ index .Config.Labels \"$FINGERPRINT_LABEL\" }}" "$1" 2>/dev/null || true
}

# Imports ROOT as TAG unless an image with the same fingerprint is already there; then drops the image it replaced.
import_rootfs() {
  local tag=$1 fp=$2 root=$3; shift 3
  local old new
  old=$("$DOCKER" image inspect --format '{{ .Id }}' "$tag" 2>/dev/null || true)
  # uid/gid 0 for everything, except the node user's home, appended with its own owner (no root needed here).
  tar --numeric-owner --owner=0 --group=0 -C "$root" --exclude=./home -cf "$root.tar" .
  if [ -d "$root/home/node" ]; then
    tar --numeric-owner --owner=1000 --group=1000 -C "$root" -rf "$root.tar" ./home
  fi
  local changes=() c
  for c in "$@"; do changes+=(--change "$c"); done
  new=$("$DOCKER" import "${changes[@]}" --change "LABEL $FINGERPRINT_LABEL=$fp" \
    --message "splitnet local base built from host files by docker/build-local-bases.sh" "$root.tar" "$tag")
  rm -f "$root.tar"
  if [ -n "$old" ] && [ "$old" != "$new" ]; then
    "$DOCKER" rmi "$old" >/dev/null 2>&1 || echo "build-local-bases: kept the replaced image $old (still in use)"
  fi
  echo "built $tag ($("$DOCKER" image inspect --format '{{ .Id }} {{ .Size }}' "$tag" | awk '{ printf "%s, %.0f MB", substr($1, 8, 12), $2 / 1e6 }'))"
}

cleanup_dirs=()
cleanup() { local d; for d in "${cleanup_dirs[@]}"; do rm -rf "$d" "$d.tar"; done; }
trap cleanup EXIT

# ---- splitnet/node-base:local ----
build_node_base() {
  local node npm_dir ca=/etc/ssl/certs/ca-certificates.crt
  node=$(command -v node || true)
  [ -n "$node" ] || die "node is not installed on this host (it is copied into the base image)"
  node=$(readlink -f "$node")
  # npm lives in the global node_modules folder: from the npm on PATH (.../node_modules/npm/bin/npm-cli.js).
  npm_dir=$(command -v npm >/dev/null 2>&1 && dirname "$(dirname "$(readlink -f "$(command -v npm)")")" || true)
  [ -n "$npm_dir" ] && [ -f "$npm_dir/package.json" ] || npm_dir=$(npm root -g 2>/dev/null)/npm
  need_file "$npm_dir/bin/npm-cli.js" "npm's global folder"
  need_file /bin/sh "the shell RUN lines use"
  need_file /usr/bin/env "npm's #!/usr/bin/env node"
  need_file "$ca" "the CA bundle npm needs to reach the registry through this host's proxy"

  local fp
  fp=$(fingerprint "$node" "$npm_dir" /bin/sh /usr/bin/env "$ca")
  up_to_date "$NODE_BASE_TAG" "$fp" && return

  local root
  root=$(new_rootfs)
  cleanup_dirs+=("$root")
  # node and npm at the official node image's paths.
  mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules"
  cp -L --preserve=mode "$node" "$root/usr/local/bin/node"
  for lib in $(libs_of "$node"); do put "$root" "$lib"; done
  cp -R -L "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # /bin/sh is a symlink on Debian (to dash): copy the shell itself as /bin/sh.
  cp -L --preserve=mode /bin/sh "$root/usr/bin/sh"
  for lib in $(libs_of /bin/sh); do put "$root" "$lib"; done
  put_with_libs "$root" /usr/bin/env
  mkdir -p "$root/etc/ssl/certs"
  cp -L "$ca" "$root/etc/ssl/certs/ca-certificates.crt"
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'node:x:1000:1000::/home/node:/bin/sh' \
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'node:x:1000:' 'nogroup:x:65534:' >"$root/etc/group"
  printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$root/etc/nsswitch.conf"
  mkdir -p "$root/root" "$root/home/node"
  chmod 700 "$root/root"

  import_rootfs "$NODE_BASE_TAG" "$fp" "$root" \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "ENV NODE_VERSION=$("$node" -p 'process.versions.node')" \
    'CMD ["node"]'
}

# ---- splitnet/nats-base:local ----
build_nats_base() {
  local nats=/usr/sbin/nats-server
  need_file "$nats" "install it: apt-get install -y nats-server"
  local fp
  fp=$(fingerprint "$nats")
  up_to_date "$NATS_BASE_TAG" "$fp" && return
  local root
  root=$(new_rootfs)
  cleanup_dirs+=("$root")
  cp -L --preserve=mode "$nats" "$root/nats-server"
  for lib in $(libs_of "$nats"); do put "$root" "$lib"; done
  import_rootfs "$NATS_BASE_TAG" "$fp" "$root" \
    'EXPOSE 4222 6222 8222' \
    'ENTRYPOINT ["/nats-server"]'
}

# ---- splitnet/prometheus-base:local ----
build_prometheus_base() {
  local prometheus=/usr/bin/prometheus
  need_file "$prometheus" "install it: apt-get install -y --no-install-recommends prometheus"
  local fp
  fp=$(fingerprint "$prometheus")
  up_to_date "$PROMETHEUS_BASE_TAG" "$fp" && return
  local root
  root=$(new_rootfs)
  cleanup_dirs+=("$root")
  put_with_libs "$root" "$prometheus"
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"
  printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$root/etc/nsswitch.conf"
  # Its data directory, writable by the user it runs as (the tarball's files are root's: sticky and open to all).
  mkdir -p "$root/prometheus"
  chmod 1777 "$root/prometheus"
  import_rootfs "$PROMETHEUS_BASE_TAG" "$fp" "$root" \
    'USER 65534' \
    'WORKDIR /prometheus' \
    'EXPOSE 9090' \
    'ENTRYPOINT ["/usr/bin/prometheus"]'
}

build_node_base
build_nats_base
build_prometheus_base
