#!/bin/sh
# kg-fetch.sh: fetch one knowngood bundle from the host's VM endpoint, verify it, and put its
# files in place atomically; optionally run a health command and report its result to the host.
# POSIX sh; needs curl, tar, openssl (3.0+ for -rawin), sha256sum or "openssl dgst", awk, sed.
# Nothing here trusts the host: the archive must be signed by the baked-in publisher key, every
# file must match the signed manifest, and the version never goes backwards (the last accepted
# version is remembered next to the target) except in one case: when the node marks its answer
# "X-Knowngood-State: fallback" (the version this guest holds was reverted, or is not for this
# host), a lower version that passes every check is installed and becomes the version held. A
# hostile host can therefore at most make a guest fall back to an older validly signed version of
# the same bundle, never install anything unsigned, altered or of another name.
#
# Usage: kg-fetch.sh -n NAME -d TARGET_DIR [-u URL] [-k PUBKEY_FILE] [-r RETRIES] [-t SECONDS] [-c CMD]
#                    [-i IDENTITY] [-w [-W SECONDS]]
#   -u URL   host VM endpoint, default $KG_URL or http://169.254.169.254:8780 (set it at image build)
#   -k FILE  publisher public key (PEM); default: the key baked into this script (KG_BAKED_PUBKEY)
#   -r N     attempts when the host cannot be reached (default 5, at least 1), with exponential backoff + jitter
#   -t S     connect timeout per attempt in seconds (default 3, at least 1)
#   -c CMD   health command, run with sh -c once the version in place is settled (installed now, or
#            current), with KG_NAME, KG_VERSION, KG_DIR set; exit status 0 means ok. Its result and
#            the last non-empty line of its output (stdout and stderr, first 200 characters) are
#            posted to URL/v1/reports; that post is best effort and never changes the exit code.
#   -i FILE  (--identity FILE) age identity: after every check passes, each file the signed manifest
#            marks "encrypted":"age" is decrypted with `age -d -i FILE` and installed as plaintext
#            (mode 0600; no ciphertext is left under its name). Needs the age tool. Without -i such
#            files are installed as they are (ciphertext) and named in a warning.
#   -w       (--watch) keep running: after the first fetch, long-poll the node
#            (GET URL/v1/bundles/NAME?wait=S&after=V) and install each new version as it comes,
#            running -c and reporting each time. Errors never end it: an unreachable host, a 404
#            (no such bundle, not for this VM's pools, or retired), a refused or undecryptable
#            version are logged and retried with capped exponential backoff plus jitter, the copy
#            in place kept; -r is not used. SIGTERM or SIGINT ends it with exit 0.
#   -W S     (--wait S) long-poll wait in seconds with -w (default 300; the node may cap it)
#
# Exit codes (distinct, for boot scripts):
#   0  installed a new version (or fell back, see above), or the held one is still current;
#      with -c: and the health command succeeded
#   1  refused: bad signature, file hash/size mismatch, wrong name, rollback, malformed archive
#      (the target is untouched)
#   2  usage error
#   3  local error: cannot write the target or temp files; with -i: age missing, or a file
#      cannot be decrypted with the identity (the target is untouched)
#   4  host unreachable after all attempts: the previous copy is kept as it is
#   6  the host answered with an error (5xx or unexpected)
#   7  the host holds no such bundle, or it was retired (the previous copy is kept)
#   8  installed (or current), but the health command failed; the failure was reported
#   With -w: 0 once stopped by SIGTERM or SIGINT; 2 or 3 only for a usage or setup error at start.
#
# An expired version (the node says X-Knowngood-Expired: true) is still installed or kept: it is
# the last known good. kg-fetch warns on stderr and exits as usual.
#
# Environment: KG_URL, KG_RETRY_BASE (first backoff in seconds, default 1; 0 in tests), KG_RETRY_MAX
# (longest backoff in watch mode, default 60).
# Needs beyond a busybox userland: curl, openssl (and age for -i).

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
EXIT_UNHEALTHY=8

say() { printf 'kg-fetch: %s\n' "$*" >&2; }
die() { code=$1; shift; say "$*"; exit "$code"; }

# Long options become their short forms (an option's own argument is passed through as it is).
takes_arg=no
for arg do
  shift
  if [ "$takes_arg" = yes ]; then takes_arg=no; set -- "$@" "$arg"; continue; fi
  case "$arg" in
    --watch) set -- "$@" -w ;;
    --identity) set -- "$@" -i ;;
    --identity=*) set -- "$@" -i "${arg#--identity=}" ;;
    --wait) set -- "$@" -W ;;
    --wait=*) set -- "$@" -W "${arg#--wait=}" ;;
    --help) set -- "$@" -h ;;
    -[ndukrtciW]) takes_arg=yes; set -- "$@" "$arg" ;;
    *) set -- "$@" "$arg" ;;
  esac
done

usage="usage: kg-fetch.sh -n NAME -d TARGET_DIR [-u URL] [-k PUBKEY] [-r RETRIES] [-t SECONDS] [-c CMD] [-i IDENTITY] [-w [-W SECONDS]]"
name=""; target=""; url="${KG_URL:-http://169.254.169.254:8780}"; keyfile=""; retries=5; ctimeout=3; health_cmd=""
identity=""; watch=no; lp_wait=300
while getopts n:d:u:k:r:t:c:i:wW:h opt; do
  case "$opt" in
    n) name=$OPTARG ;;
    d) target=$OPTARG ;;
    u) url=$OPTARG ;;
    k) keyfile=$OPTARG ;;
    r) retries=$OPTARG ;;
    t) ctimeout=$OPTARG ;;
    c) health_cmd=$OPTARG; [ -n "$health_cmd" ] || die $EXIT_USAGE "-c needs a command" ;;
    i) identity=$OPTARG; [ -n "$identity" ] || die $EXIT_USAGE "-i needs an age identity file" ;;
    w) watch=yes ;;
    W) lp_wait=$OPTARG ;;
    h) sed -n '2,54p' "$0"; exit 0 ;;
    *) die $EXIT_USAGE "$usage" ;;
  esac
done
{ [ -n "$name" ] && [ -n "$target" ]; } || die $EXIT_USAGE "$usage"
printf '%s' "$name" | grep -Eq '^[a-z0-9][a-z0-9._-]{0,127}$' || die $EXIT_USAGE "not a bundle name: $name"
case "$retries" in ''|*[!0-9]*) die $EXIT_USAGE "-r needs a number" ;; esac
[ "$retries" -ge 1 ] || die $EXIT_USAGE "-r must be at least 1 (the number of attempts)"
case "$ctimeout" in ''|*[!0-9]*) die $EXIT_USAGE "-t needs a number" ;; esac
# curl reads --connect-timeout 0 as "no timeout of its own" (minutes): a boot would hang on a dead host
[ "$ctimeout" -ge 1 ] || die $EXIT_USAGE "-t must be at least 1 second"
case "$lp_wait" in ''|*[!0-9]*) die $EXIT_USAGE "-W needs a number of seconds" ;; esac
retry_base=${KG_RETRY_BASE:-1}; retry_max=${KG_RETRY_MAX:-60}
case "$retry_base$retry_max" in *[!0-9]*) die $EXIT_USAGE "KG_RETRY_BASE and KG_RETRY_MAX must be numbers" ;; esac
for tool in curl tar openssl awk sed; do
  command -v "$tool" >/dev/null 2>&1 || die $EXIT_LOCAL "$tool is not installed"
done
if [ -n "$identity" ]; then
  [ -r "$identity" ] || die $EXIT_USAGE "cannot read the age identity $identity"
  command -v age >/dev/null 2>&1 || die $EXIT_LOCAL "age is not installed: -i needs it to decrypt; nothing was changed"
fi

target=${target%/}
parent=$(dirname "$target")
base=$(basename "$target")
state="$parent/.$base.kg-state"       # "version etag expires" of the copy in place (expires: RFC 3339 or -)
mkdir -p "$parent" 2>/dev/null || die $EXIT_LOCAL "cannot create $parent"
top=$(mktemp -d "$parent/.$base.kg-XXXXXX") || die $EXIT_LOCAL "cannot create a temp dir in $parent"
work="$top/round"                     # one fetch's files; made anew for every round
child=""                              # the process being waited for (curl, sleep), killed on a signal
round_pid=""                          # watch mode: the round running in the background
stop_child() {
  [ -n "$child" ] && kill "$child" 2>/dev/null
  [ -n "$round_pid" ] && { kill "$round_pid" 2>/dev/null; wait "$round_pid" 2>/dev/null; }
  child=""; round_pid=""
}
trap 'rm -rf "$top"' EXIT
on_signal() {   # the EXIT trap still cleans up
  stop_child
  if [ "$watch" = yes ]; then say "stopped watching $name"; exit 0; fi
  exit 130
}
trap on_signal INT TERM

if [ -n "$keyfile" ]; then
  cp "$keyfile" "$top/publisher.pub" 2>/dev/null || die $EXIT_LOCAL "cannot read key $keyfile"
else
  printf '%s' "$KG_BAKED_PUBKEY" | grep -q 'BEGIN PUBLIC KEY' || die $EXIT_USAGE "no publisher key baked in: pass -k FILE"
  printf '%s\n' "$KG_BAKED_PUBKEY" > "$top/publisher.pub"
fi

# Runs "$@" in the background and waits for it, so that a signal is acted on at once, not only
# once a long-poll or a backoff sleep has ended (a shell runs its traps between commands).
waited() {
  "$@" & child=$!
  wait "$child"; wrc=$?
  child=""
  return $wrc
}

# A random whole number from 0 to $1: from /dev/urandom, so VMs booted in the same second spread
# out; else from awk's time seed mixed with the process id.
random_upto() {
  r=$(od -An -N4 -tu4 /dev/urandom 2>/dev/null | tr -d ' \n')
  case "$r" in ''|*[!0-9]*) r=$(awk -v p=$$ 'BEGIN { srand(); srand(srand() + p); print int(rand() * 2147483647) }') ;; esac
  echo $((r % ($1 + 1)))
}

# One response header's value (first occurrence, name case-insensitive), trimmed.
header() {
  awk -v want="$1" 'BEGIN { want = tolower(want) }
    { line = $0; sub(/\r$/, "", line); i = index(line, ":")
      if (i > 1 && tolower(substr(line, 1, i - 1)) == want) { v = substr(line, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); print v; exit } }' \
    "$work/headers" 2>/dev/null
}
# The last non-empty line of file $1, blanks trimmed, cut to 200 characters, as the inside of a JSON
# string: quotes, backslashes and control bytes escaped; UTF-8 sequences kept whole, any byte that
# is not part of a valid one replaced by U+FFFD (so the body is valid JSON whatever the command printed).
json_last_line() {
  tr -d '\000' < "$1" | LC_ALL=C awk -v max=200 '
    BEGIN { for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i }
    { sub(/\r$/, ""); if ($0 ~ /[^ \t]/) last = $0 }
    END {
      s = last; sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s)
      n = length(s); out = ""; chars = 0; i = 1
      while (i <= n && chars < max) {
        c = substr(s, i, 1); b = ord[c]; step = 1
        if (b == 34) out = out "\\\""
        else if (b == 92) out = out "\\\\"
        else if (b < 32 || b == 127) out = out sprintf("\\u%04x", b)
        else if (b < 128) out = out c
        else {
          len = (b >= 194 && b <= 223) ? 2 : (b >= 224 && b <= 239) ? 3 : (b >= 240 && b <= 244) ? 4 : 0
          ok = len > 0 && i + len - 1 <= n
          for (k = 1; ok && k < len; k++) { cb = ord[substr(s, i + k, 1)]; if (cb < 128 || cb > 191) ok = 0 }
          if (ok && len > 2) {   # no overlong forms, no surrogates, nothing above U+10FFFF
            b2 = ord[substr(s, i + 1, 1)]
            if ((b == 224 && b2 < 160) || (b == 237 && b2 > 159) || (b == 240 && b2 < 144) || (b == 244 && b2 > 143)) ok = 0
          }
          if (ok) { out = out substr(s, i, len); step = len } else out = out "\\ufffd"
        }
        i += step; chars++
      }
      print out
    }'
}


sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | awk '{print $1}'
  else openssl dgst -sha256 -r "$1" | awk '{print $1}'; fi
}

# The version in place is settled: warn if it expired, run the health command and report, exit.
settled() {  # $1 = version in place, $2 = its manifest's expires (or empty)
  if [ "$node_expired" = true ]; then
    if [ -n "$2" ]; then when="expired at $2"; else when="expired (at a time not known here)"; fi
    say "$name version $1 $when; still the last known good"
  fi
  [ -n "$health_cmd" ] || exit 0
  out="$work/health.out"
  ( KG_NAME=$name; KG_VERSION=$1; KG_DIR=$target; export KG_NAME KG_VERSION KG_DIR
    exec sh -c "$health_cmd" ) < /dev/null > "$out" 2>&1
  hrc=$?
  cat "$out" >&2
  detail=$(json_last_line "$out")
  if [ $hrc -eq 0 ]; then result=ok; else result=failed; fi
  printf '{"name":"%s","version":%s,"result":"%s","detail":"%s"}' "$name" "$1" "$result" "$detail" > "$work/report.json" \
    || die $EXIT_LOCAL "cannot write $work/report.json"
  code=$(curl -sS -o "$work/report.out" -w '%{http_code}' --connect-timeout "$ctimeout" --max-time 10 \
    -H 'Content-Type: application/json' --data-binary @"$work/report.json" "$url/v1/reports" 2>"$work/report.err")
  crc=$?
  reported="the report was not accepted"
  if [ $crc -eq 0 ] && [ "$code" = 202 ]; then
    reported="reported failed"
    say "reported $result for $name version $1"
  elif [ $crc -eq 0 ]; then
    say "could not report $result for $name version $1: HTTP $code $(tr -d '\n' < "$work/report.out" | cut -c1-200) (best effort; exit code unchanged)"
  else
    say "could not report $result for $name version $1: $(head -n 1 "$work/report.err") (best effort; exit code unchanged)"
  fi
  [ $hrc -eq 0 ] && exit 0
  die $EXIT_UNHEALTHY "$name version $1 is in place, but the health command failed (exit $hrc); $reported"
}

EXIT_NOTHING_NEW=10   # watch mode only: a long-poll ended with no newer version (never the script's exit code)

# One fetch: ask the node, verify what it sends, install it, settle. Ends by exit (with the codes
# above): the script's own exit in one-shot mode, a background subshell's in watch mode.
# $1 = plain (one GET, If-None-Match; a 304 means current) or poll (a long-poll after the held version).
round() {
{ rm -rf "$work" && mkdir "$work"; } || die $EXIT_LOCAL "cannot create a temp dir in $top"

held_version=0; held_etag=""; held_expires=""
if [ -f "$state" ] && [ -d "$target" ]; then
  read -r held_version held_etag held_expires < "$state" || true
  case "$held_version" in ''|*[!0-9]*) held_version=0; held_etag=""; held_expires="" ;; esac
  [ "$held_etag" = - ] && held_etag=""
  [ "$held_expires" = - ] && held_expires=""
fi

# ---- fetch, retrying with exponential backoff and jitter while the host is unreachable ----
attempt=1; delay=$retry_base; attempts=$retries
[ "$watch" = yes ] && attempts=1      # the watch loop does the retrying
while :; do
  if [ "$1" = poll ]; then
    set -- poll -sS -o "$work/bundle.tar" -D "$work/headers" -w '%{http_code}' \
           --connect-timeout "$ctimeout" --max-time $((lp_wait + 60)) -H 'Accept: application/x-tar' \
           "$url/v1/bundles/$name?wait=$lp_wait&after=$held_version"
  else
    set -- plain -sS -o "$work/bundle.tar" -D "$work/headers" -w '%{http_code}' \
           --connect-timeout "$ctimeout" --max-time 120 -H 'Accept: application/x-tar'
    [ -n "$held_etag" ] && set -- "$@" -H "If-None-Match: \"$held_etag\""
    set -- "$@" "$url/v1/bundles/$name"
  fi
  round_mode=$1; shift
  waited curl "$@" > "$work/status" 2> "$work/curl.err"
  rc=$?
  set -- "$round_mode"
  status=$(cat "$work/status" 2>/dev/null)
  case "$status" in [0-9][0-9][0-9]) ;; *) status=000 ;; esac
  if [ $rc -eq 0 ] && [ "$status" -lt 500 ]; then break; fi
  if [ $rc -eq 0 ]; then why="HTTP $status"; else why=$(head -n 1 "$work/curl.err"); fi
  if [ "$attempt" -ge "$attempts" ]; then
    if [ $rc -eq 0 ]; then die $EXIT_HOST_ERROR "$url answered $why$([ "$attempt" -gt 1 ] && printf ' after %s attempts' "$attempt"); keeping the previous copy"; fi
    die $EXIT_UNREACHABLE "$url unreachable$([ "$attempt" -gt 1 ] && printf ' after %s attempts' "$attempt") ($why); keeping the previous copy$([ "$held_version" -gt 0 ] && printf ' (version %s)' "$held_version")"
  fi
  pause=$((delay + $(random_upto "$delay")))
  say "attempt $attempt: $why; retrying in $pause s"
  waited sleep "$pause"
  attempt=$((attempt + 1))
  delay=$((delay * 2)); [ "$delay" -gt 30 ] && delay=30
done

# What the node says about the version it serves (absent from nodes older than issue 14).
node_state=$(header x-knowngood-state)
case "$node_state" in good|rolling|fallback) ;; *) node_state="" ;; esac
node_latest=$(header x-knowngood-latest)
case "$node_latest" in ''|*[!0-9]*) node_latest="" ;; esac
node_expired=$(header x-knowngood-expired)
state_note=""
if [ -n "$node_state" ]; then
  state_note=" (node state: $node_state"
  [ "$node_state" = fallback ] && [ -n "$node_latest" ] && state_note="$state_note; latest held there: $node_latest"
  state_note="$state_note)"
fi

case "$status" in
  304) [ "$1" = poll ] && exit $EXIT_NOTHING_NEW
       say "$name version $held_version is current$state_note"; settled "$held_version" "$held_expires" ;;
  200) ;;
  404) die $EXIT_NOT_FOUND "$url has no $name for this VM (no such bundle, not for this VM's pools, or retired): $(tr -d '\n' < "$work/bundle.tar" | cut -c1-200); keeping the previous copy" ;;
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
  if openssl pkeyutl -verify -pubin -inkey "$top/publisher.pub" -rawin -in "$manifest" -sigfile "$work/sig.bin" >/dev/null 2>&1; then
    verified=yes; break
  fi
done
[ "$verified" = yes ] || die $EXIT_REFUSED "refused: bad_signature: no signature by the baked-in publisher key verifies manifest.json"

# manifest.json is canonical JSON (sorted keys, no whitespace): created, expires, files, labels, name,
# pools, retired, rollout, schema, version. The top-level name is the last "name" followed by one of
# the keys that may come after it (labels come before it; a label called "name" inside the rollout
# waves would have to be followed by such a key too, and would then be refused as a mismatch).
m_name=$(awk '{ s = $0; v = ""
  while (match(s, /"name":"[^"]*","(pools|retired|rollout|schema)":/)) { v = substr(s, RSTART + 8); sub(/".*/, "", v); s = substr(s, RSTART + RLENGTH) }
  print v }' "$manifest")
m_version=$(sed -n 's/.*"version":\([0-9][0-9]*\)}$/\1/p' "$manifest")
m_expires=$(sed -n 's/^{"created":"[^"]*","expires":"\([0-9A-Za-z:.+-]*\)".*/\1/p' "$manifest")
[ "$m_name" = "$name" ] || die $EXIT_REFUSED "refused: name_mismatch: asked for $name, bundle is $m_name"
[ -n "$m_version" ] || die $EXIT_REFUSED "refused: invalid_manifest: no version"
fallback_from=""
if [ "$m_version" -le "$held_version" ] && [ "$held_version" -gt 0 ]; then
  if [ "$m_version" -eq "$held_version" ]; then
    [ "$1" = poll ] && exit $EXIT_NOTHING_NEW
    say "$name version $held_version is current$state_note"
    settled "$held_version" "$m_expires"
  fi
  # Lower than the version in place: only the node's fallback answer allows it, and only for an
  # archive that passes every check below. Anything else is a rollback attempt.
  [ "$node_state" = fallback ] \
    || die $EXIT_REFUSED "refused: rollback: offered version $m_version, version $held_version is already in place"
  fallback_from=$held_version
fi
grep -q '"retired":true' "$manifest" && die $EXIT_NOT_FOUND "$name was retired at version $m_version; keeping the previous copy"

# "sha256 size encryption path" per file (encryption: age, or - for a file in the clear); entries
# the pattern cannot read (e.g. paths with quotes, an encryption other than age) are refused.
# Canonical key order makes an entry {"encrypted":"age","path":..,"sha256":..,"size":..}.
awk '{
  s = $0; i = index(s, "\"files\":["); if (i == 0) exit 1; s = substr(s, i + 9)
  while (match(s, /^\{("encrypted":"age",)?"path":"[^"\\]*","sha256":"[0-9a-f]+","size":[0-9]+\}/)) {
    e = substr(s, 1, RLENGTH); s = substr(s, RLENGTH + 1)
    enc = "-"; if (substr(e, 1, 19) == "{\"encrypted\":\"age\",") { enc = "age"; e = "{" substr(e, 20) }
    p = e; sub(/^\{"path":"/, "", p); sub(/",".*/, "", p)
    h = e; sub(/.*"sha256":"/, "", h); sub(/".*/, "", h)
    z = e; sub(/.*"size":/, "", z); sub(/\}$/, "", z)
    print h " " z " " enc " " p
    if (substr(s, 1, 1) == ",") s = substr(s, 2)
  }
  if (substr(s, 1, 1) != "]") exit 1
}' "$manifest" > "$work/files.txt" || die $EXIT_REFUSED "refused: manifest file list not readable by kg-fetch.sh"

expected=$(wc -l < "$work/files.txt" | tr -d ' ')
present=$(printf '%s\n' "$names" | tail -n +3 | grep -c '^files/')
[ "$expected" -eq "$present" ] || die $EXIT_REFUSED "refused: manifest lists $expected files, archive holds $present"

tar -xf "$work/bundle.tar" -C "$work/x" --no-same-owner --no-same-permissions 2>/dev/null \
  || tar -xf "$work/bundle.tar" -C "$work/x" || die $EXIT_LOCAL "cannot extract into $work"
while read -r hash size enc path; do
  f="$work/x/files/$path"
  { [ -f "$f" ] && [ ! -L "$f" ]; } || die $EXIT_REFUSED "refused: missing_entry: files/$path"
  actual_size=$(wc -c < "$f" | tr -d ' ')
  [ "$actual_size" = "$size" ] || die $EXIT_REFUSED "refused: size_mismatch: $path has $actual_size bytes, manifest says $size"
  [ "$(sha256_of "$f")" = "$hash" ] || die $EXIT_REFUSED "refused: hash_mismatch: $path does not match the signed manifest"
done < "$work/files.txt"

# ---- secrets: decrypt the files marked "encrypted":"age" (their ciphertext was checked above) ----
still_sealed=""
while read -r hash size enc path; do
  [ "$enc" = age ] || continue
  if [ -z "$identity" ]; then still_sealed="$still_sealed${still_sealed:+, }$path"; continue; fi
  rm -f "$work/plain"
  ( umask 077; age -d -i "$identity" -o "$work/plain" "$work/x/files/$path" ) 2> "$work/age.err" \
    || die $EXIT_LOCAL "cannot decrypt $path with $identity: $(head -n 1 "$work/age.err"); keeping the previous copy"
  { chmod 600 "$work/plain" && mv -f "$work/plain" "$work/x/files/$path"; } || die $EXIT_LOCAL "cannot write the plaintext of $path in $work"
done < "$work/files.txt"
[ -n "$still_sealed" ] && say "warning: $name version $m_version: installed still encrypted (age), since no -i IDENTITY was given: $still_sealed"

# ---- install: the new tree replaces the old one by two renames in the same directory ----
mkdir -p "$work/x/files" || die $EXIT_LOCAL "cannot write in $work"
etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *"\{0,1\}\([0-9a-f]*\)"\{0,1\}.*$/\1/p' "$work/headers" | head -n 1)
mv "$work/x/files" "$work/new" || die $EXIT_LOCAL "cannot stage the new tree"
# A signal between the two renames must not leave the target missing (the old tree sits in the temp
# dir, which the exit removes): it is acted on once the new tree and the state file are in place.
stop_requested=no
trap 'stop_requested=yes' INT TERM
if [ -e "$target" ]; then
  mv "$target" "$work/old" || die $EXIT_LOCAL "cannot move $target aside"
fi
if ! mv "$work/new" "$target"; then
  [ -e "$work/old" ] && mv "$work/old" "$target"
  die $EXIT_LOCAL "cannot move the new tree to $target; previous copy restored"
fi
{ printf '%s %s %s\n' "$m_version" "${etag:--}" "${m_expires:--}" > "$state.tmp" && mv "$state.tmp" "$state"; } || die $EXIT_LOCAL "cannot write $state"
trap on_signal INT TERM
[ "$stop_requested" = yes ] && on_signal
[ -n "$fallback_from" ] && say "$name: falling back from version $fallback_from to $m_version (the node reverted $fallback_from, or holds it back from this host)"
say "installed $name version $m_version into $target$state_note"
settled "$m_version" "$m_expires"
}

if [ "$watch" = no ]; then
  round plain
fi

# ---- watch: each round in a background subshell (its exit ends only it), then long-poll again ----
say "watching $name at $url (long-poll ${lp_wait} s)"
mode=plain                            # the first answer settles the copy in place (health, report)
delay=$retry_base
while :; do
  started=$(date +%s 2>/dev/null || echo 0)
  ( trap - EXIT; round_pid=""; on_signal() { stop_child; exit 143; }; trap on_signal INT TERM; round "$mode" ) &
  round_pid=$!
  wait "$round_pid"; rc=$?
  round_pid=""
  case "$rc" in
    0|"$EXIT_UNHEALTHY"|"$EXIT_NOTHING_NEW")
      mode=poll; delay=$retry_base
      # A node that answers a long-poll at once (wait capped to 0, or not understood) must not
      # make this a busy loop.
      if [ "$rc" -eq $EXIT_NOTHING_NEW ] && [ "$(date +%s 2>/dev/null || echo 0)" -le "$started" ]; then waited sleep 1; fi
      continue ;;
  esac
  pause=$((delay + $(random_upto "$delay")))
  say "still watching $name; trying again in $pause s"
  waited sleep "$pause"
  delay=$((delay * 2)); [ "$delay" -gt "$retry_max" ] && delay=$retry_max
  [ "$delay" -eq 0 ] && delay=1
done
