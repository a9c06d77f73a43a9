"""The HTTP/2 callers' peers for h2.sh: WORK FRONT NGINX_A NGINX_B HAPROXY_A HAPROXY_B.

Written from the held run's nginx-x and haproxy-x configurations, so the certificates, names, verification and pooling
are theirs; the ports are the arguments (A a chain's front's, B its gateway's).

WORK/nginx-h2/nginx.conf: nginx-x's front with an h2c listener on FRONT, its upstream the held run's nginx-x gateway in
  HTTP/1.1 (nginx's proxy_pass: which gRPC cannot cross).
The chains with HTTP/2 on every leg, as FedMesh keeps an HTTP/2 caller's protocol (which gRPC needs):
WORK/nginx-{h2a,h2b}/nginx.conf, from nginx-a's and nginx-b's:
  h2a: nginx-x's front with an h2c listener on NGINX_A, passing requests on with grpc_pass (nginx's HTTP/2 upstream, the
       way nginx carries gRPC) over the same mTLS to h2b;
  h2b: nginx-x's gateway with an HTTP/2 TLS listener on NGINX_B, passing requests on with grpc_pass over the same mTLS to
       the origin's TLS listener (which speaks HTTP/2).
WORK/haproxy-{h2a,h2b}/haproxy.cfg, from haproxy-a's and haproxy-b's:
  h2a: haproxy-x's front with an h2c listener on HAPROXY_A, its server h2b over the same mTLS with ALPN h2;
  h2b: haproxy-x's gateway listening on HAPROXY_B, its server the origin's TLS listener with ALPN h2.
"""
import re
import sys

from held_conf import nginx_front, read, sub, write

if len(sys.argv) != 7:
    sys.exit("usage: h2_chains.py WORK FRONT NGINX_A NGINX_B HAPROXY_A HAPROXY_B (WORK: a held run of bench/dataplane/run.sh)")
work, front, port_a, port_b, ha_a, ha_b = sys.argv[1:]


def to_grpc(text, upstream, name):
    """proxy_pass https://UPSTREAM and its HTTP/1.1 settings become grpc_pass grpcs://UPSTREAM; proxy_ssl_* grpc_ssl_*."""
    text = sub(rf'proxy_pass https://{upstream}; proxy_http_version 1\.1; proxy_set_header Connection ""; proxy_buffering on;',
               f"grpc_pass grpcs://{upstream};", text, name)
    return sub(r"\bproxy_ssl_", "grpc_ssl_", text, name, everywhere=True, least=5)


write(work, "nginx-h2", "nginx.conf", nginx_front(work, "nginx-h2", f"127.0.0.1:{front} http2"))

a_file, b_file = f"{work}/nginx-a/nginx.conf", f"{work}/nginx-b/nginx.conf"
write(work, "nginx-h2a", "nginx.conf", to_grpc(nginx_front(work, "nginx-h2a", f"127.0.0.1:{port_a} http2", port_b), "hop_b", a_file))
b = read(work, "nginx-b/nginx.conf", "nginx-x").replace(f"{work}/nginx-b", f"{work}/nginx-h2b")
b = sub(r"listen 127\.0\.0\.1:\d+ ssl;", f"listen 127.0.0.1:{port_b} ssl http2;", b, b_file)
write(work, "nginx-h2b", "nginx.conf", to_grpc(b, "origin_tls", b_file))

# HAProxy: the global and defaults sections, then haproxy-x's frontend and backend (the front's "cross" and "hop_b";
# the gateway's whole file), with h2c in, h2 on the server legs.
ha_a_file, ha_b_file = f"{work}/haproxy-a/haproxy.cfg", f"{work}/haproxy-b/haproxy.cfg"
sections = re.split(r"\n(?=frontend |backend )", read(work, "haproxy-a/haproxy.cfg", "haproxy-x"))
kept = [s for s in sections if s.startswith(("frontend cross", "backend hop_b"))]
if len(kept) != 2:
    sys.exit(f"h2_chains.py: no frontend cross and backend hop_b in {ha_a_file}")
ha = sections[0] + "\n" + "\n".join(kept)
ha = sub(r"(frontend cross\n  bind 127\.0\.0\.1:)\d+", rf"\g<1>{ha_a} proto h2", ha, ha_a_file)
ha = sub(r"(server b 127\.0\.0\.1:)\d+(.*?)alpn http/1\.1", rf"\g<1>{ha_b}\g<2>alpn h2", ha, ha_a_file)
write(work, "haproxy-h2a", "haproxy.cfg", ha.rstrip() + "\n")
hb = read(work, "haproxy-b/haproxy.cfg", "haproxy-x")
hb = sub(r"(frontend gateway\n  bind 127\.0\.0\.1:)\d+", rf"\g<1>{ha_b}", hb, ha_b_file)
hb = sub(r"(server o 127\.0\.0\.1:\d+.*?)alpn http/1\.1", r"\g<1>alpn h2", hb, ha_b_file)
write(work, "haproxy-h2b", "haproxy.cfg", hb)
