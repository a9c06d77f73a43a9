"""nginx's and HAProxy's cross-cluster chains with HTTP/2 on every leg, for h2.sh: WORK NGINX_A NGINX_B HAPROXY_A HAPROXY_B.

What FedMesh does for an HTTP/2 caller (the caller's protocol on every hop, which gRPC needs), where the held run's
nginx-x and haproxy-x turn it into HTTP/1.1 after their front. Written from the held run's configurations of those rows,
so the certificates, names, verification and pooling are theirs; the ports are the arguments (A the front's, B the
gateway's). Exits with a message naming the file and the pattern it expected when a configuration does not look as
run.sh writes it.

WORK/nginx-{h2a,h2b}/nginx.conf, from nginx-a's and nginx-b's:
  h2a: nginx-x's front with an h2c listener on PORT_A, passing requests on with grpc_pass (nginx's HTTP/2 upstream, the
       way nginx carries gRPC) over the same mTLS to h2b;
  h2b: nginx-x's gateway with an HTTP/2 TLS listener on PORT_B, passing requests on with grpc_pass over the same mTLS to
       the origin's TLS listener (which speaks HTTP/2).
WORK/haproxy-{h2a,h2b}/haproxy.cfg, from haproxy-a's and haproxy-b's:
  h2a: haproxy-x's front with an h2c listener on HAPROXY_A, its server h2b over the same mTLS with ALPN h2;
  h2b: haproxy-x's gateway listening on HAPROXY_B, its server the origin's TLS listener with ALPN h2.
"""
import os
import re
import sys

if len(sys.argv) != 6:
    sys.exit("usage: h2_chains.py WORK NGINX_A NGINX_B HAPROXY_A HAPROXY_B (WORK: a held run of bench/dataplane/run.sh)")
work, port_a, port_b, ha_a, ha_b = sys.argv[1:]


def sub(pattern, replacement, text, name, count=1):
    result, found = re.subn(pattern, replacement, text, flags=re.S)
    if found < count:
        sys.exit(f"h2_chains: no match for {pattern!r} in {name}: is {work} a held run of bench/dataplane/run.sh?")
    return result


def to_grpc(text, upstream, name):
    """proxy_pass https://UPSTREAM and its HTTP/1.1 settings become grpc_pass grpcs://UPSTREAM; proxy_ssl_* grpc_ssl_*."""
    text = sub(rf'proxy_pass https://{upstream}; proxy_http_version 1\.1; proxy_set_header Connection ""; proxy_buffering on;',
               f"grpc_pass grpcs://{upstream};", text, name)
    return sub(r"\bproxy_ssl_", "grpc_ssl_", text, name, count=5)


def write(directory, file, text):
    os.makedirs(f"{work}/{directory}/tmp", exist_ok=True)
    with open(f"{work}/{directory}/{file}", "w") as f:
        f.write(text)


def read(file, row):
    if not os.path.isfile(file):
        sys.exit(f"h2_chains: {file} is missing: is {work} a held run of bench/dataplane/run.sh with the {row} row?")
    return open(file).read()


a_file, b_file = f"{work}/nginx-a/nginx.conf", f"{work}/nginx-b/nginx.conf"
a = read(a_file, "nginx-x").replace(f"{work}/nginx-a", f"{work}/nginx-h2a")
b = read(b_file, "nginx-x").replace(f"{work}/nginx-b", f"{work}/nginx-h2b")

# h2a: everything before the first server block, and nginx-x's server block alone.
head, *servers = a.split("\n  server {")
front = [s for s in servers if "proxy_pass https://hop_b" in s]
if len(front) != 1:
    sys.exit(f"h2_chains: no single server proxying to hop_b in {a_file}")
head = sub(r"upstream hop_b \{ server 127\.0\.0\.1:\d+;", f"upstream hop_b {{ server 127.0.0.1:{port_b};", head, a_file)
front = sub(r"listen 127\.0\.0\.1:\d+;", f"listen 127.0.0.1:{port_a} http2;", front[0], a_file).rstrip()
if front.endswith("}"):  # the http block's closing brace came with the last server block
    front = front[:-1].rstrip()
write("nginx-h2a", "nginx.conf", head + "\n  server {" + to_grpc(front, "hop_b", a_file) + "\n}\n")

b = sub(r"listen 127\.0\.0\.1:\d+ ssl;", f"listen 127.0.0.1:{port_b} ssl http2;", b, b_file)
write("nginx-h2b", "nginx.conf", to_grpc(b, "origin_tls", b_file))

# HAProxy: the global and defaults sections, then haproxy-x's frontend and backend (the front's "cross" and "hop_b";
# the gateway's whole file), with h2c in, h2 on the server legs.
ha_a_file, ha_b_file = f"{work}/haproxy-a/haproxy.cfg", f"{work}/haproxy-b/haproxy.cfg"
ha = read(ha_a_file, "haproxy-x")
sections = re.split(r"\n(?=frontend |backend )", ha)
kept = [s for s in sections if s.startswith(("frontend cross", "backend hop_b"))]
if len(kept) != 2:
    sys.exit(f"h2_chains: no frontend cross and backend hop_b in {ha_a_file}")
ha = sections[0] + "\n" + "\n".join(kept)
ha = sub(r"(frontend cross\n  bind 127\.0\.0\.1:)\d+", rf"\g<1>{ha_a} proto h2", ha, ha_a_file)
ha = sub(r"(server b 127\.0\.0\.1:)\d+(.*?)alpn http/1\.1", rf"\g<1>{ha_b}\g<2>alpn h2", ha, ha_a_file)
write("haproxy-h2a", "haproxy.cfg", ha.rstrip() + "\n")
hb = read(ha_b_file, "haproxy-x")
hb = sub(r"(frontend gateway\n  bind 127\.0\.0\.1:)\d+", rf"\g<1>{ha_b}", hb, ha_b_file)
hb = sub(r"(server o 127\.0\.0\.1:\d+.*?)alpn http/1\.1", r"\g<1>alpn h2", hb, ha_b_file)
write("haproxy-h2b", "haproxy.cfg", hb)
