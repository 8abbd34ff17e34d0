<#
.SYNOPSIS
  Fetches one knowngood bundle from the host's VM endpoint, checks every file against its
  manifest, and installs the files by renaming a fully checked tree into place.

.DESCRIPTION
  Windows PowerShell 5.1+ (and PowerShell 7). Needs tar.exe (Windows 10 1803+ / Server 2019+).

  SIGNATURE: this script does NOT check the Ed25519 signature: Windows PowerShell 5.1 (.NET
  Framework) has no Ed25519. The host's node verified the signature (against its trusted
  publisher keys) before storing and serving the bundle, and the VM endpoint is on the host-only
  network; this script checks that the files are exactly those the manifest lists (size and
  SHA-256), that the name matches, and that the version never goes backwards. Where a guest must
  check the signature itself, use kg-fetch.sh (openssl) or verify on the host with
  'kgctl bundle verify'.

  Exit codes (the same as kg-fetch.sh):
    0  installed a new version, or the held one is still current
    1  refused: file size/hash mismatch, wrong name, rollback, malformed archive (target untouched)
    2  usage error
    3  local error: cannot write the target or temp files
    4  host unreachable after all attempts: the previous copy is kept as it is
    6  the host answered with an error (5xx or unexpected)
    7  the host holds no such bundle, or it was retired (the previous copy is kept)

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File kg-fetch.ps1 -Name desktop-base -Target C:\ProgramData\kg\desktop-base -Url http://169.254.169.254:8780
#>
param(
    [Parameter(Mandatory = $true)][string]$Name,
    [Parameter(Mandatory = $true)][string]$Target,
    [string]$Url = $(if ($env:KG_URL) { $env:KG_URL } else { 'http://169.254.169.254:8780' }),
    [int]$Retries = 5,
    [int]$TimeoutSeconds = 30
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0

$EXIT_REFUSED = 1; $EXIT_USAGE = 2; $EXIT_LOCAL = 3; $EXIT_UNREACHABLE = 4; $EXIT_HOST_ERROR = 6; $EXIT_NOT_FOUND = 7

function Stop-With([int]$Code, [string]$Message) {
    [Console]::Error.WriteLine("kg-fetch: $Message")
    exit $Code
}

function Get-Sha256([string]$Path) {
    return (Get-FileHash -Algorithm SHA256 -LiteralPath $Path).Hash.ToLowerInvariant()
}

if ($Name -cnotmatch '^[a-z0-9][a-z0-9._-]{0,127}$') { Stop-With $EXIT_USAGE "not a bundle name: $Name" }
if ($Retries -lt 1) { Stop-With $EXIT_USAGE "-Retries must be at least 1" }
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
    $heldVersion = [long]0; $heldEtag = ''
    if ((Test-Path -LiteralPath $state) -and (Test-Path -LiteralPath $Target)) {
        $parts = (Get-Content -LiteralPath $state -TotalCount 1) -split ' '
        if ($parts.Count -ge 1 -and $parts[0] -match '^[0-9]+$') { $heldVersion = [long]$parts[0] }
        if ($parts.Count -ge 2) { $heldEtag = $parts[1] }
    }

    # ---- fetch, retrying with exponential backoff and jitter while the host is unreachable ----
    $archive = Join-Path $work 'bundle.tar'
    $status = 0; $etag = ''; $delay = 1; $random = New-Object System.Random
    for ($attempt = 1; ; $attempt++) {
        $headers = @{ 'Accept' = 'application/x-tar' }
        if ($heldEtag) { $headers['If-None-Match'] = '"' + $heldEtag + '"' }
        $why = $null
        try {
            $r = Invoke-WebRequest -UseBasicParsing -Uri "$Url/v1/bundles/$Name" -Headers $headers `
                -TimeoutSec $TimeoutSeconds -OutFile $archive -PassThru
            $status = [int]$r.StatusCode
            if ($r.Headers['ETag']) { $etag = ([string]$r.Headers['ETag']).Trim('"') }
            break
        } catch [System.Net.WebException] {
            $resp = $_.Exception.Response
            if ($resp -ne $null) {
                $status = [int]$resp.StatusCode
                if ($status -lt 500) { break }
                $why = "HTTP $status"
            } else { $why = $_.Exception.Message }
        } catch {
            # PowerShell 7 raises HttpResponseException / HttpRequestException instead
            $resp = $null
            if ($_.Exception.PSObject.Properties['Response']) { $resp = $_.Exception.Response }
            if ($resp -ne $null) {
                $status = [int]$resp.StatusCode
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

    if ($status -eq 304) { [Console]::Error.WriteLine("kg-fetch: $Name version $heldVersion is current"); exit 0 }
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
    $manifest = [System.IO.File]::ReadAllText($manifestPath, [System.Text.Encoding]::UTF8) | ConvertFrom-Json
    if ($manifest.schema -ne 1) { Stop-With $EXIT_REFUSED "refused: unknown_schema: $($manifest.schema)" }
    if ($manifest.name -cne $Name) { Stop-With $EXIT_REFUSED "refused: name_mismatch: asked for $Name, bundle is $($manifest.name)" }
    $version = [long]$manifest.version
    if ($heldVersion -gt 0 -and $version -le $heldVersion) {
        if ($version -eq $heldVersion) { [Console]::Error.WriteLine("kg-fetch: $Name version $heldVersion is current"); exit 0 }
        Stop-With $EXIT_REFUSED "refused: rollback: offered version $version, version $heldVersion is already in place"
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
        Set-Content -LiteralPath "$state.tmp" -Value "$version $etag" -Encoding ASCII
        Move-Item -LiteralPath "$state.tmp" -Destination $state -Force
    } catch { Stop-With $EXIT_LOCAL "cannot install into ${Target}: $($_.Exception.Message)" }
    [Console]::Error.WriteLine("kg-fetch: installed $Name version $version into $Target (files checked; signature checked by the host)")
    exit 0
} finally {
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}
