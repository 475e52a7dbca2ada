# SPDX-License-Identifier: Apache-2.0
# Shell helpers for a throwaway local ZooKeeper (Debian's `zookeeper` package), sourced by
# ./run (demo), tests/deployment/install_packages.sh and tests/soak/soak.sh. The C++ tests
# start theirs with tests/common (the same settings).

# free_port: a loopback TCP port nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_zookeeper <data dir> <port>: a standalone ZooKeeper on 127.0.0.1:<port> keeping its
# data, zoo.cfg and zk.log in <data dir>; sets zk_pid, and returns once it answers `ruok`
# with `imok` (non-zero, with its log, if it does not within 20 s).
start_zookeeper() {
    local dir=$1 port=$2
    mkdir -p "$dir/data"
    printf 'tickTime=500\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=ruok\n' \
        "$dir/data" "$port" >"$dir/zoo.cfg"
    java -cp /etc/zookeeper/conf_example:/usr/share/java/zookeeper.jar \
        org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg" >"$dir/zk.log" 2>&1 &
    zk_pid=$!
    for _ in $(seq 200); do
        # timeout: a ZooKeeper that accepts but does not answer yet must not hang the loop
        [ "$(timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && printf ruok >&3 && cat <&3" 2>/dev/null)" = imok ] \
            && return 0
        sleep 0.1
    done
    echo "ZooKeeper did not answer on 127.0.0.1:$port within 20 s:" >&2
    cat "$dir/zk.log" >&2
    return 1
}
