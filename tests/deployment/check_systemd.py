#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Checks packaging/systemd: the template unit passes `systemd-analyze verify` without a
# warning (a control with an unknown key shows that warnings are seen), it is a Type=notify
# service that stops later than it drains and carries the hardening of docs/DEPLOYMENT.md,
# and the example instance file holds only real configuration keys: the sample server,
# started with exactly its variables, accepts them (and refuses a misspelled one).
#   check_systemd.py SOURCE_DIR SAMPLE_SERVER
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

source, server = sys.argv[1], os.path.abspath(sys.argv[2])
unit_path = os.path.join(source, "packaging/systemd/tomato-sample-server@.service")
env_path = os.path.join(source, "packaging/systemd/demo.env")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def verify(unit_text, directory):
    """systemd-analyze verify of an instance of the template; returns (rc, diagnostics)."""
    path = os.path.join(directory, "tomato-sample-server@.service")
    with open(path, "w") as f:
        f.write(unit_text)
    r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                        os.path.join(directory, "tomato-sample-server@check.service")],
                       cwd=directory, capture_output=True, text=True, timeout=60)
    return r.returncode, (r.stdout + r.stderr).strip()


def settings(text):
    """key -> list of values of the [Service] and other sections, in order."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


unit = open(unit_path).read()
# verify needs ExecStart to exist: point it at the built program for the check.
local = unit.replace("ExecStart=/usr/bin/tomato-sample-server", "ExecStart=" + server)
check(local != unit, "the unit starts /usr/bin/tomato-sample-server (what tomato-samples installs)")
with tempfile.TemporaryDirectory() as d:
    rc, said = verify(local, d)
    check(rc == 0 and said == "", "systemd-analyze verify: clean" + ("" if not said else ":\n" + said))
    rc, said = verify(local.replace("Type=notify", "Type=notify\nNotAKey=1"), d)
    check("Unknown key 'NotAKey'" in said, "control: verify reports an unknown key")

s = settings(unit)
one = {k: v[-1] for k, v in s.items()}
check(one.get("Type") == "notify", "Type=notify (readiness after listening and registering)")
check(one.get("NotifyAccess") == "main", "NotifyAccess=main")
check("ExecReload" not in s, "no ExecReload: the server has no reload")
check(one.get("EnvironmentFile") == "/etc/tomato/tomato-sample-server/%i.env",
      "one environment file per instance")
for key, value in [("DynamicUser", "yes"), ("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"),
                   ("ProtectHome", "yes"), ("PrivateTmp", "yes"), ("PrivateDevices", "yes"),
                   ("CapabilityBoundingSet", ""), ("RestrictSUIDSGID", "yes")]:
    check(one.get(key) == value, f"hardening: {key}={value}")

env = {}
for line in open(env_path):
    line = line.strip()
    if line and not line.startswith("#"):
        k, _, v = line.partition("=")
        env[k] = v
stop = one.get("TimeoutStopSec", "")
check(stop.isdigit(), "TimeoutStopSec is a number of seconds")
drain_ms = int(env.get("TOMATO_RPC_DRAIN_TIMEOUT_MS", "10000"))
check(stop.isdigit() and int(stop) * 1000 >= drain_ms + 5000,
      f"TimeoutStopSec={stop} s leaves 5 s beyond the drain ({drain_ms} ms)")
check(all(k.startswith("TOMATO_RPC_") for k in env), "the instance file sets only TOMATO_RPC_* keys")


def start_with(variables):
    """Runs the sample server with exactly `variables` (no registry, a free port); returns
    (accepted, output)."""
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("TOMATO_RPC_")}
    run_env.update(variables)
    run_env["TOMATO_RPC_NAME_SERVICE_URI"] = ""  # no ZooKeeper here
    run_env["TOMATO_RPC_HOST"] = "127.0.0.1"
    run_env["TOMATO_RPC_PORT"] = "0"
    p = subprocess.Popen([server], env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = ""
    for line in p.stdout:  # log lines, then READY (or the refusal, then EOF)
        seen += line
        if line.startswith("READY "):
            p.send_signal(signal.SIGTERM)
            break
    out, _ = p.communicate(timeout=30)
    return "READY " in seen and p.returncode == 0, seen + out


accepted, out = start_with(env)
check(accepted, "the sample server accepts every variable of demo.env" + ("" if accepted else ":\n" + out))
accepted, out = start_with(dict(env, TOMATO_RPC_DRAIN_TIMEOUT=env.get("TOMATO_RPC_DRAIN_TIMEOUT_MS", "1")))
check(not accepted and "drain-timeout" in out, "control: a misspelled variable is refused")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("systemd: all checks passed")
