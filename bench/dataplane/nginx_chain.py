"""nginx's cross-cluster chain with a third hop, for inbound.sh: WORK DIRECT PORT_A PORT_B PORT_C.

Writes WORK/nginx-{a3,b3,c}/nginx.conf from the held run's nginx-a and nginx-b configurations:
  a3: nginx-x's front (plain HTTP in, mTLS out), its upstream now b3 on PORT_B, listening on PORT_A;
  b3: nginx-x's gateway (mTLS in and out), its upstream now c on PORT_C, listening on PORT_B;
  c:  the sidecar's place: mTLS in with the backend's certificate (the name b3 checks), plain HTTP/1.1 to the
      origin's plain listener DIRECT with keepalive, listening on PORT_C.
Exits with a message naming the file and the pattern it expected when a configuration does not look as run.sh writes it.
"""
import sys

from held_conf import nginx_front, read, sub, write

if len(sys.argv) != 6:
    sys.exit("usage: nginx_chain.py WORK DIRECT PORT_A PORT_B PORT_C (WORK: a held run of bench/dataplane/run.sh)")
work, direct, port_a, port_b, port_c = sys.argv[1:]

b_file = f"{work}/nginx-b/nginx.conf"
b = read(work, "nginx-b/nginx.conf", "nginx-x")

# a3: nginx-x's front alone.
write(work, "nginx-a3", "nginx.conf", nginx_front(work, "nginx-a3", f"127.0.0.1:{port_a}", port_b))

b3 = b.replace(f"{work}/nginx-b", f"{work}/nginx-b3")
b3 = sub(r"upstream origin_tls \{ server 127\.0\.0\.1:\d+;", f"upstream origin_tls {{ server 127.0.0.1:{port_c};", b3, b_file)
b3 = sub(r"listen 127\.0\.0\.1:\d+ ssl;", f"listen 127.0.0.1:{port_b} ssl;", b3, b_file)
write(work, "nginx-b3", "nginx.conf", b3)

c = b.replace(f"{work}/nginx-b", f"{work}/nginx-c")
c = sub(r"upstream origin_tls \{ server 127\.0\.0\.1:\d+;", f"upstream origin {{ server {direct};", c, b_file)
c = sub(r"listen 127\.0\.0\.1:\d+ ssl;", f"listen 127.0.0.1:{port_c} ssl;", c, b_file)
c = sub(r"ssl_certificate \S+; ssl_certificate_key \S+;",
        f"ssl_certificate {work}/certs/backend-west.chain.crt; ssl_certificate_key {work}/certs/backend-west.key;", c, b_file)
c = sub(r"location / \{ proxy_pass https://origin_tls;.*?\} \}",
        'location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering on; } }',
        c, b_file)
write(work, "nginx-c", "nginx.conf", c)
