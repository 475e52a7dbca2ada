#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# with_private_hosts.sh <program> [arguments]: runs the program in a mount namespace of its
# own whose /etc/hosts is a writable copy of the real one, named by TOMATO_TEST_HOSTS_FILE, so
# a test can make a host name resolve while it runs without touching the machine's file.
# Root, or unprivileged user namespaces, needed (util-linux's unshare).
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp /etc/hosts "$dir/hosts"
as_root=""
[ "$(id -u)" -eq 0 ] || as_root=--map-root-user
TOMATO_TEST_HOSTS_FILE=$dir/hosts unshare $as_root --mount --propagation private \
    sh -c 'mount --bind "$TOMATO_TEST_HOSTS_FILE" /etc/hosts && exec "$@"' sh "$@"
