# Sourced by bench/dataplane/run.sh and held.sh (so by every script that works on a held run): small helpers they share.

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A process and its children (an nginx master and its workers).
children() { echo "$1 $(pgrep -P "$1" | tr '\n' ' ')"; }

# wait_ok NAME URL HOST [CURL_OPTION...]: waits (at most 10 s) until URL answers 200 with that Host; exits otherwise.
wait_ok() {
  for _ in $(seq 1 100); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $3" "${@:4}" "$2" 2>/dev/null)" = 200 ]; then return 0; fi
    sleep 0.1
  done
  echo "bench: $1 ($2, Host $3) never answered 200:" >&2
  curl -s -i -H "Host: $3" "${@:4}" "$2" >&2 || true
  exit 1
}
