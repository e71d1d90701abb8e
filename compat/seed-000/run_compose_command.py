"""Runs one service's `command` from a seed's compose file the way docker compose runs it in the
container, here on the client host (no Docker engine): `$$` becomes `$` (compose's escape; the file
uses no other interpolation), a string command is split with shell-like quoting but no shell
(docker-compose 1.x used shlex.split), the service's `environment` list is added to the
environment, and the argv is executed directly. Prints one JSON line: exit code (or "timeout"),
stdout, stderr. A command still running after TIMEOUT seconds (a sidecar that sleeps forever)
is killed and reported with what it printed so far.

usage: run_compose_command.py FILE SERVICE TIMEOUT"""
import json
import os
import shlex
import subprocess
import sys

import yaml

path, name, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(path) as source:
    service = yaml.safe_load(source)["services"][name]


def interpolate(text):
    if "$" in text.replace("$$", ""):
        raise SystemExit(f"{path}: {name} uses compose interpolation other than $$, which this runner does not do")
    return text.replace("$$", "$")


command = service["command"]
argv = shlex.split(interpolate(command)) if isinstance(command, str) else [interpolate(str(part)) for part in command]
env = dict(os.environ)
for entry in service.get("environment", []):
    key, _, value = entry.partition("=")
    env[key] = value
process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
try:
    stdout, stderr = process.communicate(timeout=timeout)
    code = process.returncode
except subprocess.TimeoutExpired:
    os.killpg(process.pid, 9)
    stdout, stderr = process.communicate()
    code = "timeout"
print(json.dumps({"argv": argv, "exit": code, "stdout": stdout, "stderr": stderr}), flush=True)
