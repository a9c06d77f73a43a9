"""Helpers for the scripts that write new proxies' configurations from a held run's (nginx_chain.py, h2_chains.py).

Each exits with a message naming the script, the file and what it expected when a configuration does not look as
run.sh writes it.
"""
import os
import re
import sys

SCRIPT = os.path.basename(sys.argv[0])


def sub(pattern, replacement, text, name, everywhere=False, least=1):
    """
    re.sub of the first match (dot matching newlines), or of every match when `everywhere`; fewer than `least` matches
    and the script exits.
    """
    if len(re.findall(pattern, text, flags=re.S)) < least:
        sys.exit(f"{SCRIPT}: {least} match(es) of {pattern!r} expected in {name}: is it from a held run of bench/dataplane/run.sh?")
    return re.sub(pattern, replacement, text, count=0 if everywhere else 1, flags=re.S)


def read(work, file, row):
    """The text of WORK/FILE, which the held run's ROW wrote."""
    path = f"{work}/{file}"
    if not os.path.isfile(path):
        sys.exit(f"{SCRIPT}: {path} is missing: is {work} a held run of bench/dataplane/run.sh with the {row} row?")
    return open(path).read()


def write(work, directory, file, text):
    """Writes WORK/DIRECTORY/FILE (and DIRECTORY/tmp, for nginx's temporary files)."""
    os.makedirs(f"{work}/{directory}/tmp", exist_ok=True)
    with open(f"{work}/{directory}/{file}", "w") as f:
        f.write(text)


def nginx_front(work, directory, listen, gateway_port=None):
    """
    nginx-x's front alone, for an nginx in WORK/DIRECTORY: everything of nginx-a's configuration before its first server
    block (paths moved to DIRECTORY), then nginx-x's server block listening on LISTEN (e.g. "127.0.0.1:8080 http2"),
    its upstream hop_b on GATEWAY_PORT when given. The server block's closing brace and the http block's come last.
    """
    name = f"{work}/nginx-a/nginx.conf"
    head, *servers = read(work, "nginx-a/nginx.conf", "nginx-x").replace(f"{work}/nginx-a", f"{work}/{directory}").split("\n  server {")
    front = [s for s in servers if "proxy_pass https://hop_b" in s]
    if len(front) != 1:
        sys.exit(f"{SCRIPT}: no single server proxying to hop_b in {name}")
    if gateway_port is not None:
        head = sub(r"upstream hop_b \{ server 127\.0\.0\.1:\d+;", f"upstream hop_b {{ server 127.0.0.1:{gateway_port};", head, name)
    front = sub(r"listen 127\.0\.0\.1:\d+;", f"listen {listen};", front[0], name).rstrip()
    if front.endswith("}"):  # the http block's closing brace came with the last server block
        front = front[:-1].rstrip()
    return head + "\n  server {" + front + "\n}\n"
