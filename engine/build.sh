#!/bin/sh
# engine/build.sh — build the Pulumi CLI + Python language host for org-logging from Go modules.
#
# Output (ORG_LOGGING_ENGINE_DIR, default ${XDG_CACHE_HOME:-$HOME/.cache}/org-logging/engine-v$VERSION):
#   bin/pulumi                          github.com/pulumi/pulumi/pkg/v3/cmd/pulumi @ v$VERSION
#   bin/pulumi-language-python          local minimal language host (engine/pulumi-language-python/main.go; the upstream
#                                       module .../sdk/python/cmd/pulumi-language-python/v3 is not served
#                                       by the module proxy) built against github.com/pulumi/pulumi/sdk/v3
#   bin/pulumi-language-python-exec     the SDK's program runner shim (from the sdk/v3 module)
#   bin/pulumi-resource-pulumi-python   the SDK's dynamic-provider shim (from the sdk/v3 module)
#   bin/pulumi-analyzer-policy-python   legacy policy-pack shim (only used by the engine when no python
#                                       language plugin is found; kept for completeness)
#   src/go.mod, src/go.sum              wrapper module (lives in the cache dir, never in a repo)
#
# Idempotent: a finished build is recognised by .stamp (version + checksum of this script) and a
# working `bin/pulumi version`; then the script exits at once without touching the network.
#
# Env: PULUMI_ENGINE_VERSION (default 3.274.0: the served pkg/v3 release closest to the pinned Python
#      SDK 3.272.0; pkg/v3 v3.268.0..v3.273.0 are not served), ORG_LOGGING_ENGINE_DIR, FORCE_REBUILD=1,
#      GOTOOLCHAIN (e.g. go1.27.3 if a future go.mod needs a newer Go than the local one).
set -eu

VERSION=${PULUMI_ENGINE_VERSION:-3.274.0}
VERSION=${VERSION#v}
ENGINE_DIR=${ORG_LOGGING_ENGINE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/org-logging/engine-v$VERSION}
SELF=$0
ENGINE_SRC_DIR=$(cd "$(dirname "$0")" && pwd)
# A change to this script or to the language host source rebuilds.
STAMP_KEY="v$VERSION $(cat "$SELF" "$ENGINE_SRC_DIR/pulumi-language-python/main.go" | cksum | awk '{print $1 "-" $2}')"

log() { printf '[build-engine] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_built() {
	[ -f "$ENGINE_DIR/.stamp" ] || return 1
	[ "$(cat "$ENGINE_DIR/.stamp")" = "$STAMP_KEY" ] || return 1
	for f in pulumi pulumi-language-python pulumi-language-python-exec \
		pulumi-resource-pulumi-python pulumi-analyzer-policy-python; do
		[ -x "$ENGINE_DIR/bin/$f" ] || return 1
	done
	[ "$(PULUMI_SKIP_UPDATE_CHECK=1 "$ENGINE_DIR/bin/pulumi" version 2>/dev/null)" = "v$VERSION" ]
}

if [ "${FORCE_REBUILD:-0}" != 1 ] && is_built; then
	log "engine v$VERSION already built in $ENGINE_DIR"
	printf '%s\n' "$ENGINE_DIR/bin"
	exit 0
fi

command -v go >/dev/null 2>&1 || die "go is not on PATH"
mkdir -p "$ENGINE_DIR"

# Simple lock so two concurrent runs do not build into the same directory.
LOCK="$ENGINE_DIR/.lock"
if ! mkdir "$LOCK" 2>/dev/null; then
	holder=$(cat "$LOCK/pid" 2>/dev/null || true)
	if [ -n "$holder" ] && kill -0 "$holder" 2>/dev/null; then
		die "another build (pid $holder) is running in $ENGINE_DIR"
	fi
	log "removing stale lock $LOCK"
	rm -rf "$LOCK"
	mkdir "$LOCK" || die "cannot take lock $LOCK"
fi
echo $$ > "$LOCK/pid"
trap 'rm -rf "$LOCK" "$ENGINE_DIR/bin.tmp"' EXIT
trap 'exit 130' INT TERM

SRC="$ENGINE_DIR/src"
rm -rf "$SRC" "$ENGINE_DIR/bin.tmp"
mkdir -p "$SRC/cmd/pulumi-language-python" "$ENGINE_DIR/bin.tmp"
BUILD_LOG="$ENGINE_DIR/build.log"
: > "$BUILD_LOG"

# Wrapper module. pkg/v3's own go.mod has `replace sdk/v3 => ../sdk` (that is the in-repo sdk, i.e. the
# same release, so we require sdk/v3 at the same version) and the clipboard fork; sdk/v3's go.mod pins
# golang.org/x/text. `go install mod@version` refuses modules with replace directives, hence this module.
cat > "$SRC/go.mod" <<EOF
module org-logging.local/engine

go 1.26.6

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e

replace golang.org/x/text => golang.org/x/text v0.41.0

require (
	github.com/pulumi/pulumi/pkg/v3 v$VERSION
	github.com/pulumi/pulumi/sdk/v3 v$VERSION
)
EOF

cp "$ENGINE_SRC_DIR/pulumi-language-python/main.go" "$SRC/cmd/pulumi-language-python/main.go"

cd "$SRC"
log "resolving modules for pulumi v$VERSION (log: $BUILD_LOG)"
go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$VERSION" \
	"github.com/pulumi/pulumi/sdk/v3@v$VERSION" >>"$BUILD_LOG" 2>&1 \
	|| { tail -20 "$BUILD_LOG" >&2; die "go get failed (is pkg/v3@v$VERSION served by the module proxy?)"; }

LDFLAGS="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$VERSION"
log "building pulumi-language-python"
go build -mod=mod -trimpath -ldflags "$LDFLAGS" -o "$ENGINE_DIR/bin.tmp/pulumi-language-python" \
	./cmd/pulumi-language-python >>"$BUILD_LOG" 2>&1 || { tail -30 "$BUILD_LOG" >&2; die "language host build failed"; }
log "building pulumi (takes ~10 minutes on 2 cores when the Go build cache is cold)"
go build -mod=mod -trimpath -ldflags "$LDFLAGS" -o "$ENGINE_DIR/bin.tmp/pulumi" \
	github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >>"$BUILD_LOG" 2>&1 || { tail -30 "$BUILD_LOG" >&2; die "pulumi build failed"; }

SDK_DIR=$(go list -mod=mod -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
[ -n "$SDK_DIR" ] && [ -d "$SDK_DIR/python" ] || die "cannot locate sdk/v3 module directory"
cp "$SDK_DIR/python/cmd/pulumi-language-python-exec" "$ENGINE_DIR/bin.tmp/"
cp "$SDK_DIR/python/dist/pulumi-resource-pulumi-python" "$ENGINE_DIR/bin.tmp/"

# Legacy policy analyzer shim. The engine runs `pulumi-analyzer-policy-python <engine> . [-virtualenv=DIR]...`
# in the policy pack directory only when it finds no `python` language plugin; pulumi_policy.PolicyPack
# then serves the Analyzer and prints its port on stdout.
cat > "$ENGINE_DIR/bin.tmp/pulumi-analyzer-policy-python" <<'SHIM'
#!/bin/sh
dir=${2:-.}
venv=
for arg in "$@"; do
	case $arg in -virtualenv=*) venv=${arg#-virtualenv=} ;; esac
done
if [ -z "$venv" ] && [ -x "$dir/venv/bin/python" ]; then venv=$dir/venv; fi
if [ -n "$venv" ]; then
	case $venv in /*) ;; *) venv=$PWD/$venv ;; esac
	venv=${venv%/}
	if [ ! -x "$venv/bin/python" ]; then
		echo "policy pack virtualenv \"$venv\" does not exist; create it with: python3 -m venv \"$venv\" && \"$venv/bin/pip\" install -r requirements.txt" >&2
		exit 1
	fi
	PATH=$venv/bin:$PATH VIRTUAL_ENV=$venv
	export PATH VIRTUAL_ENV
	unset PYTHONHOME
	exec "$venv/bin/python" -u "$dir"
fi
exec "${PULUMI_PYTHON_CMD:-python3}" -u "$dir"
SHIM

chmod 755 "$ENGINE_DIR/bin.tmp/"*
got=$(PULUMI_SKIP_UPDATE_CHECK=1 "$ENGINE_DIR/bin.tmp/pulumi" version) || die "built pulumi does not run"
[ "$got" = "v$VERSION" ] || die "built pulumi reports $got, expected v$VERSION"

rm -rf "$ENGINE_DIR/bin"
mv "$ENGINE_DIR/bin.tmp" "$ENGINE_DIR/bin"
printf '%s\n' "$STAMP_KEY" > "$ENGINE_DIR/.stamp"
log "done: $ENGINE_DIR/bin (pulumi $got)"
printf '%s\n' "$ENGINE_DIR/bin"
