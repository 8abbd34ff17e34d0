#!/bin/sh
# kg-fetch.sh: fetch one knowngood bundle from the host's VM endpoint, verify it, and put its
# files in place atomically. POSIX sh; needs curl, tar, openssl (3.0+ for -rawin), sha256sum or
# "openssl dgst", awk, sed. Nothing here trusts the host: the archive must be signed by the
# baked-in publisher key, every file must match the signed manifest, and the version may never go
# backwards (the last accepted version is remembered next to the target).
#
# Usage: kg-fetch.sh -n NAME -d TARGET_DIR [-u URL] [-k PUBKEY_FILE] [-r RETRIES] [-t SECONDS]
#   -u URL   host VM endpoint, default $KG_URL or http://169.254.169.254:8780 (set it at image build)
#   -k FILE  publisher public key (PEM); default: the key baked into this script (KG_BAKED_PUBKEY)
#   -r N     attempts when the host cannot be reached (default 5), with exponential backoff + jitter
#   -t S     connect timeout per attempt in seconds (default 3)
#
# Exit codes (distinct, for boot scripts):
#   0  installed a new version, or the held one is still current
#   1  refused: bad signature, file hash/size mismatch, wrong name, rollback, malformed archive
#      (the target is untouched)
#   2  usage error
#   3  local error: cannot write the target or temp files
#   4  host unreachable after all attempts: the previous copy is kept as it is
#   6  the host answered with an error (5xx or unexpected)
#   7  the host holds no such bundle, or it was retired (the previous copy is kept)
#
# Environment: KG_URL, KG_RETRY_BASE (first backoff in seconds, default 1; 0 in tests).

set -u

# The publisher public key, baked in when the VM image is built (replace this block, e.g. with
# `kgctl keys generate` output, or pass -k). An empty key means -k is required.
KG_BAKED_PUBKEY='
'

EXIT_REFUSED=1
EXIT_USAGE=2
EXIT_LOCAL=3
EXIT_UNREACHABLE=4
EXIT_HOST_ERROR=6
EXIT_NOT_FOUND=7

say() { printf 'kg-fetch: %s\n' "$*" >&2; }
die() { code=$1; shift; say "$*"; exit "$code"; }

name=""; target=""; url="${KG_URL:-http://169.254.169.254:8780}"; keyfile=""; retries=5; ctimeout=3
while getopts n:d:u:k:r:t:h opt; do
  case "$opt" in
    n) name=$OPTARG ;;
    d) target=$OPTARG ;;
    u) url=$OPTARG ;;
    k) keyfile=$OPTARG ;;
    r) retries=$OPTARG ;;
    t) ctimeout=$OPTARG ;;
    h) sed -n '2,30p' "$0"; exit 0 ;;
    *) die $EXIT_USAGE "usage: kg-fetch.sh -n NAME -d TARGET_DIR [-u URL] [-k PUBKEY] [-r RETRIES] [-t SECONDS]" ;;
  esac
done
[ -n "$name" ] && [ -n "$target" ] || die $EXIT_USAGE "usage: kg-fetch.sh -n NAME -d TARGET_DIR [-u URL] [-k PUBKEY] [-r RETRIES] [-t SECONDS]"
printf '%s' "$name" | grep -Eq '^[a-z0-9][a-z0-9._-]{0,127}$' || die $EXIT_USAGE "not a bundle name: $name"
case "$retries" in ''|*[!0-9]*) die $EXIT_USAGE "-r needs a number" ;; esac
case "$ctimeout" in ''|*[!0-9]*) die $EXIT_USAGE "-t needs a number" ;; esac
for tool in curl tar openssl awk sed; do
  command -v "$tool" >/dev/null 2>&1 || die $EXIT_LOCAL "$tool is not installed"
done

target=${target%/}
parent=$(dirname "$target")
base=$(basename "$target")
state="$parent/.$base.kg-state"       # "version etag" of the copy in place
mkdir -p "$parent" 2>/dev/null || die $EXIT_LOCAL "cannot create $parent"
work=$(mktemp -d "$parent/.$base.kg-XXXXXX") || die $EXIT_LOCAL "cannot create a temp dir in $parent"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM   # the EXIT trap still cleans up

if [ -n "$keyfile" ]; then
  cp "$keyfile" "$work/publisher.pub" 2>/dev/null || die $EXIT_LOCAL "cannot read key $keyfile"
else
  printf '%s' "$KG_BAKED_PUBKEY" | grep -q 'BEGIN PUBLIC KEY' || die $EXIT_USAGE "no publisher key baked in: pass -k FILE"
  printf '%s\n' "$KG_BAKED_PUBKEY" > "$work/publisher.pub"
fi

held_version=0; held_etag=""
if [ -f "$state" ] && [ -d "$target" ]; then
  read -r held_version held_etag < "$state" || true
  case "$held_version" in ''|*[!0-9]*) held_version=0; held_etag="" ;; esac
fi

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | awk '{print $1}'
  else openssl dgst -sha256 -r "$1" | awk '{print $1}'; fi
}

# ---- fetch, retrying with exponential backoff and jitter while the host is unreachable ----
attempt=1; delay=${KG_RETRY_BASE:-1}
while :; do
  set -- -sS -o "$work/bundle.tar" -D "$work/headers" -w '%{http_code}' \
         --connect-timeout "$ctimeout" --max-time 120 -H 'Accept: application/x-tar'
  [ -n "$held_etag" ] && set -- "$@" -H "If-None-Match: \"$held_etag\""
  status=$(curl "$@" "$url/v1/bundles/$name" 2>"$work/curl.err")
  rc=$?
  if [ $rc -eq 0 ] && [ "${status:-000}" -lt 500 ]; then break; fi
  if [ $rc -eq 0 ]; then why="HTTP $status"; else why=$(head -n 1 "$work/curl.err"); fi
  if [ "$attempt" -ge "$retries" ]; then
    if [ $rc -eq 0 ]; then die $EXIT_HOST_ERROR "$url answered $why after $attempt attempts; keeping the previous copy"; fi
    die $EXIT_UNREACHABLE "$url unreachable after $attempt attempts ($why); keeping the previous copy$([ "$held_version" -gt 0 ] && printf ' (version %s)' "$held_version")"
  fi
  jitter=$(awk -v d="$delay" 'BEGIN { srand(); print int(rand() * (d + 1)) }')
  say "attempt $attempt: $why; retrying in $((delay + jitter)) s"
  sleep $((delay + jitter))
  attempt=$((attempt + 1))
  delay=$((delay * 2)); [ "$delay" -gt 30 ] && delay=30
done

case "$status" in
  304) say "$name version $held_version is current"; exit 0 ;;
  200) ;;
  404) die $EXIT_NOT_FOUND "$url holds no $name (or it was retired): $(tr -d '\n' < "$work/bundle.tar" | cut -c1-200); keeping the previous copy" ;;
  *)   die $EXIT_HOST_ERROR "$url answered HTTP $status; keeping the previous copy" ;;
esac

# ---- verify: layout, signature over the exact manifest bytes, name, version, every file ----
listing=$(tar -tvf "$work/bundle.tar" 2>/dev/null) || die $EXIT_REFUSED "refused: not a readable tar archive"
printf '%s\n' "$listing" | awk '{ print substr($1, 1, 1) }' | grep -qv '^-$' \
  && die $EXIT_REFUSED "refused: the archive holds something other than regular files"
names=$(tar -tf "$work/bundle.tar")
first_two=$(printf '%s\n' "$names" | head -n 2 | tr '\n' ' ')
[ "$first_two" = "manifest.json signatures.json " ] || die $EXIT_REFUSED "refused: archive does not start with manifest.json, signatures.json"
printf '%s\n' "$names" | tail -n +3 | grep -v '^files/' | grep -q . && die $EXIT_REFUSED "refused: unexpected entry outside files/"
printf '%s\n' "$names" | grep -Eq '(^|/)\.\.?(/|$)|^/' && die $EXIT_REFUSED "refused: bad path in archive"

mkdir "$work/meta" "$work/x" || die $EXIT_LOCAL "cannot write in $work"
tar -xf "$work/bundle.tar" -C "$work/meta" manifest.json signatures.json || die $EXIT_REFUSED "refused: cannot read manifest.json"
manifest="$work/meta/manifest.json"

verified=no
sigs=$(awk '{ s = $0; while (match(s, /"sig":"[A-Za-z0-9+\/=]*"/)) { print substr(s, RSTART + 7, RLENGTH - 8); s = substr(s, RSTART + RLENGTH) } }' \
  "$work/meta/signatures.json")
for sig in $sigs; do
  printf '%s' "$sig" | openssl base64 -d -A > "$work/sig.bin" 2>/dev/null || continue
  if openssl pkeyutl -verify -pubin -inkey "$work/publisher.pub" -rawin -in "$manifest" -sigfile "$work/sig.bin" >/dev/null 2>&1; then
    verified=yes; break
  fi
done
[ "$verified" = yes ] || die $EXIT_REFUSED "refused: bad_signature: no signature by the baked-in publisher key verifies manifest.json"

# manifest.json is canonical JSON (sorted keys, no whitespace); sorted keys put the top-level name and
# version after any label of the same name, so the last match is the real one.
m_name=$(sed -n 's/.*"name":"\([^"]*\)".*/\1/p' "$manifest")
m_version=$(sed -n 's/.*"version":\([0-9][0-9]*\)}$/\1/p' "$manifest")
[ "$m_name" = "$name" ] || die $EXIT_REFUSED "refused: name_mismatch: asked for $name, bundle is $m_name"
[ -n "$m_version" ] || die $EXIT_REFUSED "refused: invalid_manifest: no version"
if [ "$m_version" -le "$held_version" ] && [ "$held_version" -gt 0 ]; then
  [ "$m_version" -eq "$held_version" ] && { say "$name version $held_version is current"; exit 0; }
  die $EXIT_REFUSED "refused: rollback: offered version $m_version, version $held_version is already in place"
fi
grep -q '"retired":true' "$manifest" && die $EXIT_NOT_FOUND "$name was retired at version $m_version; keeping the previous copy"

# "sha256 size path" per file; entries the pattern cannot read (e.g. paths with quotes) are refused
awk '{
  s = $0; i = index(s, "\"files\":["); if (i == 0) exit 1; s = substr(s, i + 9)
  while (match(s, /^\{"path":"[^"\\]*","sha256":"[0-9a-f]+","size":[0-9]+\}/)) {
    e = substr(s, 1, RLENGTH); s = substr(s, RLENGTH + 1)
    p = e; sub(/^\{"path":"/, "", p); sub(/",".*/, "", p)
    h = e; sub(/.*"sha256":"/, "", h); sub(/".*/, "", h)
    z = e; sub(/.*"size":/, "", z); sub(/\}$/, "", z)
    print h " " z " " p
    if (substr(s, 1, 1) == ",") s = substr(s, 2)
  }
  if (substr(s, 1, 1) != "]") exit 1
}' "$manifest" > "$work/files.txt" || die $EXIT_REFUSED "refused: manifest file list not readable by kg-fetch.sh"

expected=$(wc -l < "$work/files.txt" | tr -d ' ')
present=$(printf '%s\n' "$names" | tail -n +3 | grep -c '^files/')
[ "$expected" -eq "$present" ] || die $EXIT_REFUSED "refused: manifest lists $expected files, archive holds $present"

tar -xf "$work/bundle.tar" -C "$work/x" --no-same-owner --no-same-permissions 2>/dev/null \
  || tar -xf "$work/bundle.tar" -C "$work/x" || die $EXIT_LOCAL "cannot extract into $work"
while read -r hash size path; do
  f="$work/x/files/$path"
  [ -f "$f" ] && [ ! -L "$f" ] || die $EXIT_REFUSED "refused: missing_entry: files/$path"
  actual_size=$(wc -c < "$f" | tr -d ' ')
  [ "$actual_size" = "$size" ] || die $EXIT_REFUSED "refused: size_mismatch: $path has $actual_size bytes, manifest says $size"
  [ "$(sha256_of "$f")" = "$hash" ] || die $EXIT_REFUSED "refused: hash_mismatch: $path does not match the signed manifest"
done < "$work/files.txt"

# ---- install: the new tree replaces the old one by two renames in the same directory ----
mkdir -p "$work/x/files" || die $EXIT_LOCAL "cannot write in $work"
etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *"\{0,1\}\([0-9a-f]*\)"\{0,1\}.*$/\1/p' "$work/headers" | head -n 1)
mv "$work/x/files" "$work/new" || die $EXIT_LOCAL "cannot stage the new tree"
if [ -e "$target" ]; then
  mv "$target" "$work/old" || die $EXIT_LOCAL "cannot move $target aside"
fi
if ! mv "$work/new" "$target"; then
  [ -e "$work/old" ] && mv "$work/old" "$target"
  die $EXIT_LOCAL "cannot move the new tree to $target; previous copy restored"
fi
printf '%s %s\n' "$m_version" "$etag" > "$state.tmp" && mv "$state.tmp" "$state" || die $EXIT_LOCAL "cannot write $state"
say "installed $name version $m_version into $target"
exit 0
