#!/usr/bin/env bash
# Brings up a local Lanyard trust domain on the embedded default (SQLite):
# one server, one agent attested with a fresh join token, and an entry that gives the invoking
# user's uid the identity spiffe://example.org/local/<user>. Prints the Workload API socket and
# the command to fetch the SVID. Ctrl-C stops everything.
#
# State lives in ./.lanyard-local (deleted and recreated on each run), or in $LANYARD_LOCAL_DIR.
# $LANYARD_BIN_DIR, if set, holds prebuilt lanyard-server and lanyard-agent (no build).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${LANYARD_BIN_DIR:-}" ]; then
  # Prebuilt binaries (the end-to-end test passes the ones the test build produced).
  bin="$LANYARD_BIN_DIR"
else
  echo "== building lanyard-server and lanyard-agent"
  cargo build -q -p lanyard-server -p lanyard-agent --bins
  bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug"
fi

dir="${LANYARD_LOCAL_DIR:-$PWD/.lanyard-local}"
rm -rf "$dir"
mkdir -p "$dir"
chmod 700 "$dir"
admin="$dir/server/private/api.sock"
socket="$dir/agent/public/api.sock"

cat > "$dir/server.toml" <<TOML
trust_domain = "example.org"
data_dir = "$dir/server/data"
bind_address = "127.0.0.1:0"
socket_path = "$admin"
[health]
bind_address = "127.0.0.1:0"
TOML

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "== stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

# Wait for a process's stdout file to contain a line starting with $2; print that line.
wait_line() {
  local file=$1 prefix=$2 pid=$3
  for _ in $(seq 1 300); do
    if line=$(grep -m1 "^$prefix" "$file" 2>/dev/null); then echo "$line"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "process $pid exited; its log:" >&2; cat "${file%.out}.log" >&2; return 1; }
    sleep 0.1
  done
  echo "timed out waiting for '$prefix' in $file" >&2
  return 1
}

echo "== starting lanyard-server (SQLite in $dir/server/data)"
"$bin/lanyard-server" run --config "$dir/server.toml" >"$dir/server.out" 2>"$dir/server.log" &
pids+=($!)
ready=$(wait_line "$dir/server.out" "lanyard-server ready" "${pids[0]}")
agent_api=$(sed -n 's/.*agent_api=\([^ ]*\).*/\1/p' <<<"$ready")

"$bin/lanyard-server" bundle show --socket-path "$admin" --format pem >"$dir/bundle.pem"
token_json=$("$bin/lanyard-server" token generate --socket-path "$admin" --output json)
token=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' <<<"$token_json")
agent_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["agent_spiffe_id"])' <<<"$token_json")

user=$(id -un)
uid=$(id -u)
workload_id="spiffe://example.org/local/$(printf '%s' "$user" | tr -c 'a-zA-Z0-9._-' '_')"
"$bin/lanyard-server" entry create --socket-path "$admin" \
  --parent-id "$agent_id" --spiffe-id "$workload_id" --selector "unix:uid:$uid" >/dev/null
echo "== entry: $workload_id for unix:uid:$uid under $agent_id"

cat > "$dir/agent.toml" <<TOML
trust_domain = "example.org"
server_address = "$agent_api"
data_dir = "$dir/agent/data"
socket_path = "$socket"
trust_bundle_path = "$dir/bundle.pem"
[admin]
socket_path = "$dir/agent/admin/api.sock"
[health]
bind_address = "127.0.0.1:0"
TOML

echo "== starting lanyard-agent (attesting with a fresh join token)"
"$bin/lanyard-agent" run --config "$dir/agent.toml" --join-token "$token" >"$dir/agent.out" 2>"$dir/agent.log" &
pids+=($!)
wait_line "$dir/agent.out" "lanyard-agent listening" "${pids[1]}" >/dev/null

# Wait until the agent serves our SVID (it attests, syncs and signs first).
for _ in $(seq 1 100); do
  if "$bin/lanyard-agent" api fetch x509 --socket-path "unix://$socket" >/dev/null 2>&1; then break; fi
  sleep 0.1
done

cat <<TXT

Lanyard is running: server $agent_api, agent socket $socket
Logs: $dir/server.log, $dir/agent.log

Fetch your X.509-SVID ($workload_id):
  SPIFFE_ENDPOINT_SOCKET=unix://$socket $bin/lanyard-agent api fetch x509
Write it to files (svid.0.pem, svid.0.key, bundle.0.pem):
  SPIFFE_ENDPOINT_SOCKET=unix://$socket $bin/lanyard-agent api fetch x509 --write /tmp/svid
A JWT-SVID for an audience, and validating one:
  SPIFFE_ENDPOINT_SOCKET=unix://$socket $bin/lanyard-agent api fetch jwt --audience my-service
  SPIFFE_ENDPOINT_SOCKET=unix://$socket $bin/lanyard-agent api validate jwt --audience my-service --svid <TOKEN>
Any SPIFFE client library works with the same SPIFFE_ENDPOINT_SOCKET.

Press Ctrl-C to stop.
TXT
wait "${pids[@]}"
