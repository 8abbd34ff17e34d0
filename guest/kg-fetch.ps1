<#
.SYNOPSIS
  Fetches one knowngood bundle from the host's VM endpoint, checks every file against its
  manifest, and installs the files by renaming a fully checked tree into place.

.DESCRIPTION
  Windows PowerShell 5.1+ (and PowerShell 7). Needs tar.exe (Windows 10 1803+ / Server 2019+).

  WHAT IT CHECKS: that the archive holds only manifest.json, signatures.json and files/...; that
  every file is exactly what the manifest lists (count, size, SHA-256); that the name matches; and
  that the version never goes below the one held (except the node's fallback, below).

  WHAT IT CANNOT CHECK: the Ed25519 signature. Windows PowerShell 5.1 runs on .NET Framework, which
  has no Ed25519 (nor does the .NET that PowerShell 7 runs on), so this script does not verify who
  signed the manifest: a host that lies can hand it any bundle it made up whose files match its
  own manifest. What it installs is exactly as trustworthy as the node it asks. The node verified
  the signature against its trusted publisher keys before storing and serving the bundle.

  WHAT A WINDOWS IMAGE SHOULD DO: ask only the node on its own host, over the host-only network
  (the default URL, an address no other machine can answer for), and keep that network closed to
  everything else. Where the image must check the signature itself, ship a verifier in it: an
  OpenSSL 3 openssl.exe running the check kg-fetch.sh runs ("openssl pkeyutl -verify -pubin
  -inkey publisher.pub -rawin -in manifest.json -sigfile sig.bin"), or 'kgctl bundle verify'
  with a Java runtime, before using the files.

  SECRETS: files the manifest marks "encrypted":"age" are installed as they are (ciphertext), and
  named in a warning; this script cannot decrypt them. Decrypt them with age.exe
  ('age -d -i pool.key'), or use kg-fetch.sh -i on Linux.

  FALLBACK: a version lower than the one held is refused as a rollback, except when the node
  answers 'X-Knowngood-State: fallback' (the version held was reverted, or is not for this host);
  then a lower version that passes every check here is installed and becomes the version held.
  kg-fetch.sh, which checks signatures, limits a hostile host to an older validly signed version;
  this script trusts the host for the signature (above), so it is bounded only by that trust.

  HEALTH: with -HealthCommand, once the version in place is settled (installed now, or current),
  the command runs in a child PowerShell (the same executable as this one) with KG_NAME,
  KG_VERSION and KG_DIR set; exit code 0 means ok. Its result and the last non-empty line of its
  output (first 200 characters) are posted to URL/v1/reports; that post is best effort and never
  changes the exit code.

  EXPIRY: when the node says 'X-Knowngood-Expired: true' the version is still installed or kept
  (it is the last known good); a warning goes to stderr.

  Exit codes (the same as kg-fetch.sh):
    0  installed a new version (or fell back, see above), or the held one is still current;
       with -HealthCommand: and the command succeeded
    1  refused: file size/hash mismatch, wrong name, rollback, malformed archive (target untouched)
    2  usage error
    3  local error: cannot write the target or temp files
    4  host unreachable after all attempts: the previous copy is kept as it is
    6  the host answered with an error (5xx or unexpected)
    7  the host holds no such bundle, or it was retired (the previous copy is kept)
    8  installed (or current), but the health command failed; the failure was reported

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File kg-fetch.ps1 -Name desktop-base -Target C:\ProgramData\kg\desktop-base -Url http://169.254.169.254:8780

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File kg-fetch.ps1 -Name desktop-base -Target C:\ProgramData\kg\desktop-base -HealthCommand 'if (-not (Test-Path (Join-Path $env:KG_DIR agent.conf))) { Write-Output "agent.conf missing"; exit 1 }'
#>
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [Parameter(Mandatory = $true)][string]$Target,
    [string]$Url = $(if ($env:KG_URL) { $env:KG_URL } else { 'http://169.254.169.254:8780' }),
    [int]$Retries = 5,
    [int]$TimeoutSeconds = 30,
    [string]$HealthCommand = ''
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0

$EXIT_REFUSED = 1; $EXIT_USAGE = 2; $EXIT_LOCAL = 3; $EXIT_UNREACHABLE = 4; $EXIT_HOST_ERROR = 6; $EXIT_NOT_FOUND = 7; $EXIT_UNHEALTHY = 8

function Stop-With([int]$Code, [string]$Message) {
    [Console]::Error.WriteLine("kg-fetch: $Message")
    exit $Code
}

function Get-Sha256([string]$Path) {
    return (Get-FileHash -Algorithm SHA256 -LiteralPath $Path).Hash.ToLowerInvariant()
}

# One response header's value, trimmed, or ''. Windows PowerShell gives a string per name; PowerShell 7
# gives string arrays, and on its exceptions an HttpResponseHeaders that only answers TryGetValues.
function Get-HeaderValue($Headers, [string]$HeaderName) {
    if ($Headers -eq $null) { return '' }
    $v = $null
    if ($Headers.PSObject.Methods['TryGetValues']) {
        $values = $null
        if ($Headers.TryGetValues($HeaderName, [ref]$values)) { $v = $values }
    } else {
        try { $v = $Headers[$HeaderName] } catch { $v = $null }
    }
    if ($v -eq $null) { return '' }
    return ([string](@($v)[0])).Trim()
}

# The last non-empty line of the health command's output, trimmed, at most 200 characters (never
# cutting a surrogate pair). ConvertTo-Json escapes it for the report.
function Get-Detail([string[]]$Lines) {
    $last = ''
    foreach ($l in $Lines) { if ($l -ne $null -and $l.Trim() -ne '') { $last = $l.Trim() } }
    if ($last.Length -gt 200) {
        $cut = 200
        if ([char]::IsHighSurrogate($last[199])) { $cut = 199 }
        $last = $last.Substring(0, $cut)
    }
    return $last
}

if ($Name -cnotmatch '^[a-z0-9][a-z0-9._-]{0,127}$') { Stop-With $EXIT_USAGE "not a bundle name: $Name" }
if ($Retries -lt 1) { Stop-With $EXIT_USAGE "-Retries must be at least 1" }
# Invoke-WebRequest reads -TimeoutSec 0 as no timeout at all: a boot would hang on a dead host
if ($TimeoutSeconds -lt 1) { Stop-With $EXIT_USAGE "-TimeoutSeconds must be at least 1" }
if (-not (Get-Command tar.exe -ErrorAction SilentlyContinue)) { Stop-With $EXIT_LOCAL "tar.exe is not available" }

$Target = $Target.TrimEnd('\', '/')
$parent = Split-Path -Parent $Target
$base = Split-Path -Leaf $Target
$state = Join-Path $parent ".$base.kg-state"
try {
    New-Item -ItemType Directory -Force -Path $parent | Out-Null
    $work = Join-Path $parent (".$base.kg-" + [Guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $work | Out-Null
} catch { Stop-With $EXIT_LOCAL "cannot create a temp dir in ${parent}: $($_.Exception.Message)" }

try {
    # the state file: "version etag expires" ('-' for an empty field)
    $heldVersion = [long]0; $heldEtag = ''; $heldExpires = ''
    if ((Test-Path -LiteralPath $state) -and (Test-Path -LiteralPath $Target)) {
        $parts = (Get-Content -LiteralPath $state -TotalCount 1) -split ' '
        if ($parts.Count -ge 1 -and $parts[0] -match '^[0-9]+$') { $heldVersion = [long]$parts[0] }
        if ($parts.Count -ge 2 -and $parts[1] -ne '-') { $heldEtag = $parts[1] }
        if ($parts.Count -ge 3 -and $parts[2] -ne '-') { $heldExpires = $parts[2] }
    }

    # ---- fetch, retrying with exponential backoff and jitter while the host is unreachable ----
    $archive = Join-Path $work 'bundle.tar'
    $status = 0; $etag = ''; $respHeaders = $null; $delay = 1; $random = New-Object System.Random
    for ($attempt = 1; ; $attempt++) {
        $headers = @{ 'Accept' = 'application/x-tar' }
        if ($heldEtag) { $headers['If-None-Match'] = '"' + $heldEtag + '"' }
        $why = $null
        try {
            $r = Invoke-WebRequest -UseBasicParsing -Uri "$Url/v1/bundles/$Name" -Headers $headers `
                -TimeoutSec $TimeoutSeconds -OutFile $archive -PassThru
            $status = [int]$r.StatusCode
            $respHeaders = $r.Headers
            if ($r.Headers['ETag']) { $etag = ([string]$r.Headers['ETag']).Trim('"') }
            break
        } catch [System.Net.WebException] {
            $resp = $_.Exception.Response
            if ($resp -ne $null) {
                $status = [int]$resp.StatusCode
                $respHeaders = $resp.Headers
                if ($status -lt 500) { break }
                $why = "HTTP $status"
            } else { $why = $_.Exception.Message }
        } catch {
            # PowerShell 7 raises HttpResponseException / HttpRequestException instead
            $resp = $null
            if ($_.Exception.PSObject.Properties['Response']) { $resp = $_.Exception.Response }
            if ($resp -ne $null) {
                $status = [int]$resp.StatusCode
                $respHeaders = $resp.Headers
                if ($status -lt 500) { break }
                $why = "HTTP $status"
            } else { $why = $_.Exception.Message }
        }
        if ($attempt -ge $Retries) {
            if ($status -ge 500) { Stop-With $EXIT_HOST_ERROR "$Url answered $why after $attempt attempts; keeping the previous copy" }
            Stop-With $EXIT_UNREACHABLE "$Url unreachable after $attempt attempts ($why); keeping the previous copy (version $heldVersion)"
        }
        $wait = $delay + $random.Next(0, $delay + 1)
        [Console]::Error.WriteLine("kg-fetch: attempt ${attempt}: $why; retrying in $wait s")
        Start-Sleep -Seconds $wait
        $delay = [Math]::Min($delay * 2, 30)
    }

    # What the node says about the version it serves (absent from nodes older than issue 14).
    $nodeState = Get-HeaderValue $respHeaders 'X-Knowngood-State'
    if ($nodeState -cnotmatch '^(good|rolling|fallback)$') { $nodeState = '' }
    $nodeLatest = Get-HeaderValue $respHeaders 'X-Knowngood-Latest'
    if ($nodeLatest -notmatch '^[0-9]+$') { $nodeLatest = '' }
    $nodeExpired = (Get-HeaderValue $respHeaders 'X-Knowngood-Expired') -ceq 'true'
    $stateNote = ''
    if ($nodeState) {
        $stateNote = " (node state: $nodeState"
        if ($nodeState -eq 'fallback' -and $nodeLatest) { $stateNote += "; latest held there: $nodeLatest" }
        $stateNote += ')'
    }

    # The version in place is settled: warn if it expired, run the health command and report, exit.
    function Complete-Settled([long]$InPlace, [string]$Expires) {
        if ($nodeExpired) {
            $when = if ($Expires) { "expired at $Expires" } else { 'expired (at a time not known here)' }
            [Console]::Error.WriteLine("kg-fetch: $Name version $InPlace $when; still the last known good")
        }
        if (-not $HealthCommand) { exit 0 }
        $env:KG_NAME = $Name; $env:KG_VERSION = "$InPlace"; $env:KG_DIR = $Target
        $shell = (Get-Process -Id $PID).Path
        if (-not $shell) { $shell = 'powershell.exe' }
        # -EncodedCommand: the command reaches the child as written (native argument quoting would eat its
        # double quotes); no progress records, which would reach stderr as CLIXML
        $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes("`$ProgressPreference = 'SilentlyContinue'`n" + $HealthCommand))
        # stderr lines of a native command are error records under 2>&1: not fatal here
        $ErrorActionPreference = 'Continue'
        $lines = @(& $shell -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1 | ForEach-Object { "$_" })
        $hrc = $LASTEXITCODE
        $ErrorActionPreference = 'Stop'
        foreach ($l in $lines) { [Console]::Error.WriteLine($l) }
        $result = if ($hrc -eq 0) { 'ok' } else { 'failed' }
        $body = [ordered]@{ name = $Name; version = $InPlace; result = $result; detail = (Get-Detail $lines) } | ConvertTo-Json -Compress
        $reported = 'the report was not accepted'
        try {
            $rr = Invoke-WebRequest -UseBasicParsing -Method Post -Uri "$Url/v1/reports" -TimeoutSec 10 `
                -ContentType 'application/json; charset=utf-8' -Body ([System.Text.Encoding]::UTF8.GetBytes($body))
            if ([int]$rr.StatusCode -eq 202) {
                $reported = 'reported failed'
                [Console]::Error.WriteLine("kg-fetch: reported $result for $Name version $InPlace")
            } else {
                [Console]::Error.WriteLine("kg-fetch: could not report $result for $Name version ${InPlace}: HTTP $([int]$rr.StatusCode) (best effort; exit code unchanged)")
            }
        } catch {
            [Console]::Error.WriteLine("kg-fetch: could not report $result for $Name version ${InPlace}: $($_.Exception.Message) (best effort; exit code unchanged)")
        }
        if ($hrc -eq 0) { exit 0 }
        Stop-With $EXIT_UNHEALTHY "$Name version $InPlace is in place, but the health command failed (exit $hrc); $reported"
    }

    if ($status -eq 304) {
        [Console]::Error.WriteLine("kg-fetch: $Name version $heldVersion is current$stateNote")
        Complete-Settled $heldVersion $heldExpires
    }
    if ($status -eq 404) { Stop-With $EXIT_NOT_FOUND "$Url holds no $Name (or it was retired); keeping the previous copy" }
    if ($status -ne 200) { Stop-With $EXIT_HOST_ERROR "$Url answered HTTP $status; keeping the previous copy" }

    # ---- check layout, manifest, every file ----
    $names = @(& tar.exe -tf $archive 2>$null)
    if ($LASTEXITCODE -ne 0 -or $names.Count -lt 2) { Stop-With $EXIT_REFUSED "refused: not a readable tar archive" }
    if ($names[0] -ne 'manifest.json' -or $names[1] -ne 'signatures.json') {
        Stop-With $EXIT_REFUSED "refused: archive does not start with manifest.json, signatures.json"
    }
    foreach ($n in ($names | Select-Object -Skip 2)) {
        if (-not $n.StartsWith('files/') -or $n -match '(^|/)\.\.?(/|$)' -or $n.Contains('\') -or $n.EndsWith('/')) {
            Stop-With $EXIT_REFUSED "refused: unexpected entry $n"
        }
    }
    $x = Join-Path $work 'x'
    New-Item -ItemType Directory -Path $x | Out-Null
    & tar.exe -xf $archive -C $x 2>$null
    if ($LASTEXITCODE -ne 0) { Stop-With $EXIT_REFUSED "refused: the archive cannot be extracted" }

    $manifestPath = Join-Path $x 'manifest.json'
    $manifestText = [System.IO.File]::ReadAllText($manifestPath, [System.Text.Encoding]::UTF8)
    $manifest = $manifestText | ConvertFrom-Json
    # read from the canonical text: PowerShell 7's ConvertFrom-Json turns the time into a local DateTime
    $expires = ''
    if ($manifestText -cmatch '^\{"created":"[^"]*","expires":"([0-9A-Za-z:.+-]*)"') { $expires = $Matches[1] }
    if ($manifest.schema -ne 1) { Stop-With $EXIT_REFUSED "refused: unknown_schema: $($manifest.schema)" }
    if ($manifest.name -cne $Name) { Stop-With $EXIT_REFUSED "refused: name_mismatch: asked for $Name, bundle is $($manifest.name)" }
    $version = [long]$manifest.version
    $fallbackFrom = [long]0
    if ($heldVersion -gt 0 -and $version -le $heldVersion) {
        if ($version -eq $heldVersion) {
            [Console]::Error.WriteLine("kg-fetch: $Name version $heldVersion is current$stateNote")
            Complete-Settled $heldVersion $expires
        }
        # Lower than the version in place: only the node's fallback answer allows it, and only for an
        # archive that passes every check below. Anything else is a rollback attempt.
        if ($nodeState -cne 'fallback') {
            Stop-With $EXIT_REFUSED "refused: rollback: offered version $version, version $heldVersion is already in place"
        }
        $fallbackFrom = $heldVersion
    }
    if ($manifest.PSObject.Properties['retired'] -and $manifest.retired -eq $true) {
        Stop-With $EXIT_NOT_FOUND "$Name was retired at version $version; keeping the previous copy"
    }
    $files = @()
    if ($manifest.PSObject.Properties['files'] -and $manifest.files -ne $null) { $files = @($manifest.files) }
    if ($files.Count -ne ($names.Count - 2)) {
        Stop-With $EXIT_REFUSED "refused: manifest lists $($files.Count) files, archive holds $($names.Count - 2)"
    }
    $filesRoot = Join-Path $x 'files'
    foreach ($f in $files) {
        $p = Join-Path $filesRoot ($f.path -replace '/', '\')
        if (-not (Test-Path -LiteralPath $p -PathType Leaf)) { Stop-With $EXIT_REFUSED "refused: missing_entry: files/$($f.path)" }
        $size = (Get-Item -LiteralPath $p).Length
        if ($size -ne [long]$f.size) { Stop-With $EXIT_REFUSED "refused: size_mismatch: $($f.path) has $size bytes, manifest says $($f.size)" }
        if ((Get-Sha256 $p) -ne $f.sha256) { Stop-With $EXIT_REFUSED "refused: hash_mismatch: $($f.path) does not match the manifest" }
    }
    if (-not (Test-Path -LiteralPath $filesRoot)) { New-Item -ItemType Directory -Path $filesRoot | Out-Null }

    # ---- install: the checked tree replaces the old one by two renames in the same directory ----
    $old = Join-Path $work 'old'
    try {
        if (Test-Path -LiteralPath $Target) { Move-Item -LiteralPath $Target -Destination $old }
        try { Move-Item -LiteralPath $filesRoot -Destination $Target }
        catch {
            if (Test-Path -LiteralPath $old) { Move-Item -LiteralPath $old -Destination $Target }
            throw
        }
        $etagField = if ($etag) { $etag } else { '-' }
        $expiresField = if ($expires) { $expires } else { '-' }
        Set-Content -LiteralPath "$state.tmp" -Value "$version $etagField $expiresField" -Encoding ASCII
        Move-Item -LiteralPath "$state.tmp" -Destination $state -Force
    } catch { Stop-With $EXIT_LOCAL "cannot install into ${Target}: $($_.Exception.Message)" }
    if ($fallbackFrom -gt 0) {
        [Console]::Error.WriteLine("kg-fetch: ${Name}: falling back from version $fallbackFrom to $version (the node reverted $fallbackFrom, or holds it back from this host)")
    }
    $sealed = @($files | Where-Object { $_.PSObject.Properties['encrypted'] -and $_.encrypted -eq 'age' } | ForEach-Object { $_.path })
    if ($sealed.Count -gt 0) {
        [Console]::Error.WriteLine("kg-fetch: warning: $Name version ${version}: installed still encrypted (age), which this script cannot decrypt: $($sealed -join ', ')")
    }
    [Console]::Error.WriteLine("kg-fetch: installed $Name version $version into $Target (files checked; signature NOT checked here, only by the host)$stateNote")
    Complete-Settled $version $expires
} finally {
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}
