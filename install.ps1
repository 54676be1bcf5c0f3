# Phantom installer for Windows (PowerShell 5+):
#   irm <release folder>/install.ps1 -OutFile install.ps1; .\install.ps1 [-Relay] [-NoVerify]
# Downloads phantom-windows-x64.zip, SHA256SUMS and SHA256SUMS.minisig from $env:PHANTOM_RELEASE_URL
# (default: the placeholder below, set by the maintainer), checks the signature with minisign.exe when it is
# on PATH (else refuses unless -NoVerify: install minisign with `winget install jedisct1.minisign` or
# `scoop install minisign`), ALWAYS checks the archive's SHA-256 with Get-FileHash, and installs to
# %LOCALAPPDATA%\Phantom (added to the user PATH). Nothing downloaded is run.
param([switch]$Relay, [switch]$NoVerify)
$ErrorActionPreference = 'Stop'

# The key line of release/phantom-release.pub (tests/install.test.ts checks install.sh's; keep both equal).
$PubKey = 'RWS/NM3eTmAl7DDXeHfBF4B8K3jzLmNxJ8idaHhijcQaIn5Mkduj/o2Z'
# Placeholder: the maintainer sets the project's real release folder here when publishing.
$DefaultUrl = 'https://phantom.invalid/releases/latest'

function Fail($msg) { Write-Error "install.ps1: error: $msg"; exit 1 }

$url = if ($env:PHANTOM_RELEASE_URL) { $env:PHANTOM_RELEASE_URL.TrimEnd('/') } else { $DefaultUrl }
if (-not $url.StartsWith('https://')) { Fail "PHANTOM_RELEASE_URL must be an https:// URL, got '$url'" }
if ($env:PROCESSOR_ARCHITECTURE -ne 'AMD64') { Fail "no Phantom release for Windows on $($env:PROCESSOR_ARCHITECTURE) (windows-x64 only)" }
$dest = Join-Path $env:LOCALAPPDATA 'Phantom'
$tmp = Join-Path ([IO.Path]::GetTempPath()) ("phantom-install-" + [Guid]::NewGuid())
New-Item -ItemType Directory -Path $tmp | Out-Null
try {
  [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
  foreach ($f in 'SHA256SUMS', 'SHA256SUMS.minisig') { Invoke-WebRequest -UseBasicParsing "$url/$f" -OutFile (Join-Path $tmp $f) }
  $sums = Join-Path $tmp 'SHA256SUMS'
  $minisign = Get-Command minisign.exe -ErrorAction SilentlyContinue
  if ($minisign) {
    & $minisign.Source -V -H -q -P $PubKey -x "$sums.minisig" -m $sums | Out-Null
    if ($LASTEXITCODE -ne 0) { Fail 'the signature of SHA256SUMS does not verify with the Phantom release key: refusing to install' }
    Write-Host 'install.ps1: signature of SHA256SUMS verified with minisign'
  } elseif ($NoVerify) {
    Write-Host 'install.ps1: warning: minisign.exe not found: the signature of SHA256SUMS is NOT checked (-NoVerify)'
  } else {
    Fail 'cannot check the release signature: install minisign.exe (winget install jedisct1.minisign), or rerun with -NoVerify'
  }
  $programs = @('phantom'); if ($Relay) { $programs += 'phantom-relay' }
  New-Item -ItemType Directory -Force -Path $dest | Out-Null
  foreach ($p in $programs) {
    $name = "$p-windows-x64.zip"
    $line = Get-Content $sums | Where-Object { ($_ -split '\s+')[1] -eq $name } | Select-Object -First 1
    if (-not $line) { Fail "SHA256SUMS lists no $name" }
    $want = ($line -split '\s+')[0].ToLower()
    $zip = Join-Path $tmp $name
    Invoke-WebRequest -UseBasicParsing "$url/$name" -OutFile $zip
    $got = (Get-FileHash -Algorithm SHA256 $zip).Hash.ToLower()
    if ($got -ne $want) { Fail "$name does not match SHA256SUMS (got $got): refusing to install" }
    $out = Join-Path $tmp $p
    Expand-Archive -Path $zip -DestinationPath $out
    Copy-Item -Force (Join-Path $out "$p.exe") (Join-Path $dest "$p.exe")
    Write-Host "install.ps1: installed $dest\$p.exe"
  }
} finally {
  Remove-Item -Recurse -Force $tmp -ErrorAction SilentlyContinue
}
$userPath = [Environment]::GetEnvironmentVariable('Path', 'User')
if (-not ($userPath -split ';' | Where-Object { $_ -eq $dest })) {
  [Environment]::SetEnvironmentVariable('Path', "$userPath;$dest", 'User')
  Write-Host "install.ps1: added $dest to your PATH (open a new terminal)"
}
Write-Host "install.ps1: next: run 'phantom init'"
