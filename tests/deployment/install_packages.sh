#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian packages, used as a user would: installs build/packages/*.deb on this machine
# with apt (which fetches what dpkg-shlibdeps says they need), checks what they carry, builds
# the out-of-tree projects of tests/cmake and docs/QUICKSTART.md against /usr alone and runs
# them against servers, runs the installed programs against a real ZooKeeper, verifies the
# installed systemd unit, then purges the packages and checks that nothing is left.
# Run by `./run test` after `./run package`; needs root (or sudo). docs/DEPLOYMENT.md.
#   install_packages.sh [package dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pkgdir=$(cd "${1:-$root/build/packages}" && pwd)
work=$(mktemp -d)
sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo
pids=()
names=()
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }
quiet() { # runs a step, showing its output only when it fails
    local out
    out=$("$@" 2>&1) || fail "$*:
$out"
}
purge() { [ ${#names[@]} -eq 0 ] || $sudo apt-get purge -y -qq "${names[@]}" >/dev/null 2>&1 || true; }
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    purge
    rm -rf "$work"
}
trap cleanup EXIT
. "$root/tests/scripts/zookeeper.sh" # free_port, start_zookeeper
wait_for() { # wait_for <file> <pattern>: up to 20 s
    for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    fail "no '$2' in $1: $(cat "$1")"
}

debs=("$pkgdir"/*.deb)
[ -e "${debs[0]}" ] || fail "no packages in $pkgdir (run ./run package)"
version=$(sed -n 's/^project(TomatoRpc VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
soversion=${version%.*}
[ "${version%%.*}" = 0 ] || soversion=${version%%.*}
for d in "${debs[@]}"; do names+=("$(dpkg-deb -f "$d" Package)"); done
expected=$(printf '%s\n' "libtomato-rpc$soversion" libtomato-rpc-dev tomato-dashboard tomato-samples tomato-tools | LC_ALL=C sort | xargs)
[ "$(printf '%s\n' "${names[@]}" | LC_ALL=C sort | xargs)" = "$expected" ] || fail "packages: ${names[*]}, not $expected"
ok "packages: ${names[*]}"

# ---- install -------------------------------------------------------------------------------
purge # a previous run that was killed may have left them
quiet $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debs[@]}"
for n in "${names[@]}"; do
    [ "$(dpkg-query -W -f='${Status} ${Version}' "$n")" = "install ok installed $version-1" ] \
        || fail "$n is not installed at $version-1"
done
verified=$(dpkg --verify "${names[@]}" 2>&1) || true
[ -z "$verified" ] || fail "dpkg --verify: $verified"
ok "installed with apt, version $version-1; dpkg --verify: every file as packaged"

lib=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
soname=$(objdump -p "$lib/libtomato-rpc.so" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = "libtomato-rpc.so.$soversion" ] || fail "SONAME $soname"
[ "$(dpkg -S "$lib/libtomato-rpc.so.$soversion" | cut -d: -f1)" = "libtomato-rpc$soversion" ] || fail "who owns the library"
[ "$(dpkg -S "$lib/libtomato-rpc.so" | cut -d: -f1)" = libtomato-rpc-dev ] || fail "who owns the link name"
ok "SONAME libtomato-rpc.so.$soversion in libtomato-rpc$soversion, the link name in -dev"

programs=(tomato tomato-bench tomato-stubgen tomato-dashboard tomato-sample-server tomato-sample-client)
for p in "${programs[@]}"; do
    out=$(QT_QPA_PLATFORM=offscreen "/usr/bin/$p" --version 2>/dev/null)
    [[ $out == "$p $version"* ]] || fail "/usr/bin/$p --version: $out"
    ! ldd "/usr/bin/$p" | grep -q "not found" || fail "$p: $(ldd "/usr/bin/$p" | grep 'not found')"
    ! readelf -d "/usr/bin/$p" | grep -qE 'RPATH|RUNPATH' || fail "$p has a run path"
    [ -f "/usr/share/man/man1/$p.1.gz" ] || fail "no manual page for $p"
done
ok "every program: --version says $version, its libraries resolve, no run path, a manual page"

# ---- build against /usr alone --------------------------------------------------------------
configure() { # configure <source> <build>: against /usr, not /usr/local nor any build tree
    quiet env -u CMAKE_PREFIX_PATH cmake -S "$1" -B "$2" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_IGNORE_PREFIX_PATH=/usr/local "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror"
    local found
    found=$(sed -n 's/^TomatoRpc_DIR:PATH=//p' "$2/CMakeCache.txt")
    [ "$found" = "$lib/cmake/TomatoRpc" ] || fail "$1 found TomatoRpc in '$found'"
    quiet cmake --build "$2" -j2
}
configure "$root/tests/cmake/consumer" "$work/consumer"
[ "$("$work/consumer/consumer")" = "hello, consumer" ] || fail "consumer"
ok "tests/cmake/consumer: built against $lib/cmake/TomatoRpc, its call answered"

configure "$root/examples/quickstart" "$work/quickstart"
"$work/quickstart/echo-server" --tomato-rpc.port=0 >"$work/echo-server.log" 2>&1 &
pids+=($!)
wait_for "$work/echo-server.log" "listening on"
port=$(sed -n 's|.*listening on tcp://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$work/echo-server.log")
out=$(timeout 20 "$work/quickstart/echo-client" --server "127.0.0.1:$port" "from the packages")
[ "$out" = $'from the packages\nFROM THE PACKAGES' ] || fail "echo-client: $out"
ok "examples/quickstart: built against /usr, its client called its server"

# ---- the installed programs on a real ZooKeeper ---------------------------------------------
zk_port=$(free_port)
start_zookeeper "$work/zk" "$zk_port" || { pids+=("$zk_pid"); fail "ZooKeeper did not start"; }
pids+=("$zk_pid")
zk=127.0.0.1:$zk_port
# The environment the packaged unit gives it (demo.env), with this test's ZooKeeper and port.
(set -a; . /etc/tomato/tomato-sample-server/demo.env; set +a
 TOMATO_RPC_NAME_SERVICE_URI=zookeeper://$zk TOMATO_RPC_HOST=127.0.0.1 TOMATO_RPC_PORT=0 \
     exec /usr/bin/tomato-sample-server) >"$work/server.log" 2>&1 &
pids+=($!)
wait_for "$work/server.log" "^READY"
port=$(sed -n 's/^READY 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$work/server.log")
quiet timeout 60 /usr/bin/tomato-sample-client --tomato-rpc.name-service-uri="$zk" --tomato-rpc.stage=dev --tomato-rpc.group=main
listed=$(timeout 30 /usr/bin/tomato --name-service-uri "$zk" --json list)
says_version() { # says_version <json>: a "version" member of the project's version, compact or indented
    python3 -c 'import json, sys
def walk(v):
    if isinstance(v, dict):
        return v.get("version") == sys.argv[1] or any(walk(x) for x in v.values())
    return isinstance(v, list) and any(walk(x) for x in v)
sys.exit(0 if walk(json.loads(sys.stdin.read())) else 1)' "$version" <<<"$1"
}
says_version "$listed" || fail "tomato list does not show version $version: $listed"
node=$(curl -sf "http://127.0.0.1:$port/tomato/status/node")
says_version "$node" || fail "the node page does not show version $version: $node"
ok "sample server (demo.env) registered; sample client called it through ZooKeeper; tomato list and the node page say $version"

QT_QPA_PLATFORM=offscreen quiet timeout 120 /usr/bin/tomato-dashboard --name-service-uri "zookeeper://$zk" \
    --view service:demo-rpc-service --screenshot "$work/dashboard.png"
[ "$(head -c 8 "$work/dashboard.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "no PNG"
ok "tomato-dashboard rendered the cluster with the QML modules its package depends on"

unit=/lib/systemd/system/tomato-sample-server@.service
[ -f "$unit" ] || fail "no $unit"
said=$(cd "$work" && systemd-analyze verify --man=no tomato-sample-server@check.service 2>&1) || fail "verify: $said"
[ -z "$said" ] || fail "systemd-analyze verify: $said"
ok "systemd-analyze verify of the installed unit: clean"

# ---- remove --------------------------------------------------------------------------------
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()
quiet $sudo env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${names[@]}"
names_left=$(dpkg-query -W -f='${Package} ${Status}\n' "${names[@]}" 2>/dev/null | grep -c " installed$" || true)
[ "$names_left" = 0 ] || fail "packages left installed"
for path in /usr/bin/tomato /usr/include/tomato "$lib/cmake/TomatoRpc" "$lib/libtomato-rpc.so.$soversion" \
            /etc/tomato/tomato-sample-server "$unit" /usr/share/doc/tomato-tools; do
    [ ! -e "$path" ] || fail "$path is left after purge"
done
names=()
ok "purged: nothing of them is left"
echo "packages: ok"
