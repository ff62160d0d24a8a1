#!/usr/bin/env bash
# The demo: a central datafile with realistic master data, sites and stores provisioned from TOML,
# and stock entered on the central store.
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DIR=$(mktemp -d "${TMPDIR:-/tmp}/msupply-demo.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"
export MSUPPLY_DATAFILE="$DIR/central.db" MSUPPLY_AUTH_CODE=demo-auth-code
say() { printf '\n== %s\n' "$*"; }

say "create the central datafile"
"$BIN" init --central --site-name "Ministry Central" --site-code HQ
say "provision two sites and their stores from sites.toml"
cat > sites.toml <<'TOML'
[[store]]
code = "HQ1"
name = "Central Warehouse"
[[store]]
code = "N1"
name = "North Hospital"
[[store]]
code = "S1"
name = "South Clinic"

[[site]]
name = "Ministry Central"
code = "HQ"
stores = ["HQ1"]

[[site]]
name = "North"
code = "NTH"
password_env = "NORTH_PASSWORD"
stores = ["N1"]

[[site]]
name = "South"
code = "STH"
type = "mobile"
password_env = "SOUTH_PASSWORD"
stores = ["S1"]
TOML
export NORTH_PASSWORD=north-demo-password SOUTH_PASSWORD=south-demo-password
"$BIN" provision sites.toml
say "provisioning again changes nothing"
"$BIN" provision sites.toml
"$BIN" site list
say "master data: items and names"
for i in $(seq 1 50); do printf '{"id":"item-%03d","code":"ITM%03d","name":"Demo item %d","unit":"tab"}\n' "$i" "$i" "$i"; done |
	"$BIN" record put item - | wc -l | xargs echo "items written:"
"$BIN" record put name '{"id":"supplier-1","code":"SUP1","name":"National Medical Stores","is_supplier":true}'
HQ1=$("$BIN" store list --site 1 --output json | sed -n 's/.*"id": "\(.*\)",/\1/p' | head -1)
say "a supplier invoice received at the central warehouse"
"$BIN" record put invoice "{\"id\":\"inv-1\",\"store_id\":\"$HQ1\",\"name_id\":\"supplier-1\",\"type\":\"supplier_invoice\",\"their_ref\":\"PO-1001\"}"
for i in 1 2 3; do printf '{"invoice_id":"inv-1","item_id":"item-%03d","batch":"B%d","expiry":"2027-06-30","quantity":%d}\n' "$i" "$i" $((i * 100)); done |
	"$BIN" record put invoice_line - >/dev/null
"$BIN" record list invoice_line
say "checksums of the central datafile"
"$BIN" record checksum
