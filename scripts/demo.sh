#!/usr/bin/env bash
# The demo: a central server and two remote sites on loopback syncing real data. Everything lives in a
# temporary folder that is removed at the end, and the server is stopped whatever happens.
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DIR=$(mktemp -d "${TMPDIR:-/tmp}/msupply-demo.XXXXXX")
SERVER_PID=
cleanup() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; fi
	rm -rf "$DIR"
}
trap cleanup EXIT
cd "$DIR"
export MSUPPLY_AUTH_CODE=demo-auth-code
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
central() { "$BIN" --datafile central.db "$@"; }
north() { MSUPPLY_HARDWARE_ID=demo-north-pc "$BIN" --datafile north.db "$@"; }
south() { MSUPPLY_HARDWARE_ID=demo-south-tablet "$BIN" --datafile south.db "$@"; }
# store_field DATAFILE CODE FIELD: one field of one store, from store list's JSON.
store_field() { "$BIN" --datafile "$1" store list --output json | tr -d ' \n' | sed 's/},{/}\n{/g' | grep "\"code\":\"$2\"" | sed "s/.*\"$3\":\"\([^\"]*\)\".*/\1/"; }
store_id() { store_field "$1" "$2" id; }
# json_field FIELD: FIELD of the record that record get prints on standard input ("null" when it is null).
json_field() { grep -m1 "^ *\"$1\":" | sed 's/^[^:]*: *//; s/,$//; s/^"//; s/"$//'; }

say "central server: create the datafile and provision sites and stores from sites.toml"
central init --central --site-name "Ministry Central" --site-code HQ
cat > sites.toml <<'TOML'
[[store]]
code = "HQ1"
name = "Central Medical Warehouse"
[[store]]
code = "N1"
name = "North District Hospital"
[[store]]
code = "S1"
name = "South Health Centre"

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
central provision sites.toml
central provision sites.toml

say "central server: master data (200 items, suppliers and customers) and a delivery into the warehouse"
for i in $(seq 1 200); do printf '{"id":"item-%03d","code":"ITM%03d","name":"Essential medicine %d","unit":"tab"}\n' "$i" "$i" "$i"; done |
	central record put item - | wc -l | xargs printf 'items written: %s\n'
central record put name '[{"id":"nms","code":"NMS","name":"National Medical Stores","is_supplier":true},
 {"id":"clinic-a","code":"CLA","name":"Clinic A","is_customer":true}]' >/dev/null
HQ1=$(store_id central.db HQ1)
central record put invoice "{\"id\":\"hq-grn-1\",\"store_id\":\"$HQ1\",\"name_id\":\"nms\",\"type\":\"supplier_invoice\",\"their_ref\":\"PO-1001\"}" >/dev/null
for i in 1 2 3; do printf '{"invoice_id":"hq-grn-1","item_id":"item-%03d","batch":"B%d","expiry":"2027-06-30","quantity":%d}\n' "$i" "$i" $((i * 1000)); done |
	central record put invoice_line - >/dev/null

say "central server: serve the sync API on loopback"
"$BIN" --datafile central.db serve --central --listen 127.0.0.1:0 --addr-file server.url 2>server.log &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s server.url ] && break; sleep 0.1; done
URL=$(cat server.url)
echo "serving at $URL"

say "remote sites: create North and South and initialise them from the central server"
printf '%s\n' "$NORTH_PASSWORD" | north init --remote --server-url "$URL" --site-name North --password-stdin
printf '%s\n' "$SOUTH_PASSWORD" | south init --remote --server-url "$URL" --site-name South --password-stdin
north check-connection
north run --remote --once
south run --remote --once

say "remote sites: each dispenses stock from its own store"
N1=$(store_id north.db N1)
S1=$(store_id south.db S1)
north record put invoice "{\"id\":\"north-ci-1\",\"store_id\":\"$N1\",\"name_id\":\"clinic-a\",\"type\":\"customer_invoice\"}" >/dev/null
for i in 4 5; do printf '{"invoice_id":"north-ci-1","item_id":"item-%03d","batch":"N%d","quantity":%d}\n' "$i" "$i" $((i * 10)); done | north record put invoice_line - >/dev/null
south record put stock_line "{\"id\":\"south-stock-1\",\"store_id\":\"$S1\",\"item_id\":\"item-007\",\"batch\":\"S7\",\"expiry\":\"2027-01-31\",\"quantity\":250}" >/dev/null
echo "a store's data can be entered only where the store is active:"
north record put stock_line "{\"store_id\":\"$S1\",\"item_id\":\"item-001\",\"quantity\":1}" || true

say "sync both remotes"
north run --remote --once
south run --remote --once

say "a shipment between two sites: North's hospital ships to South's health centre, through central"
N1_NAME=$(store_field central.db N1 name_id)
S1_NAME=$(store_field central.db S1 name_id)
echo "on central, once: N1 may deal with S1 (its customer), and S1 with N1 (its supplier); without the first,"
echo "North's shipment is refused, and without the second South cannot receive it"
central record put name_store_join "[{\"name_id\":\"$S1_NAME\",\"store_id\":\"$N1\",\"is_customer\":true},
 {\"name_id\":\"$N1_NAME\",\"store_id\":\"$S1\",\"is_supplier\":true}]" >/dev/null
north run --remote --once >/dev/null
north record put invoice "{\"id\":\"north-to-south-1\",\"store_id\":\"$N1\",\"name_id\":\"$S1_NAME\",\"type\":\"customer_invoice\"}" >/dev/null
for i in 8 9; do printf '{"invoice_id":"north-to-south-1","item_id":"item-%03d","batch":"T%d","expiry":"2027-03-31","quantity":%d,"sell_price":0.5}\n' "$i" "$i" $((i * 5)); done |
	north record put invoice_line - >/dev/null
north record put invoice '{"id":"north-to-south-1","status":"confirmed"}' >/dev/null
echo "North picks the shipment (confirmed) and syncs; it waits for South's site:"
north run --remote --once >/dev/null
north transfer list
echo "South syncs: it takes the shipment in, read-only there, and makes S1's receipt:"
south run --remote --once >/dev/null
south transfer list
echo "North's invoice is read-only on South:"
south record put invoice '{"id":"north-to-south-1","status":"finalised"}' || true
SI=$(south record list invoice --where type=supplier_invoice --where linked_invoice_id=north-to-south-1 --output json | grep -o '"id": "[^"]*"' | cut -d'"' -f4 || true)
[ "$(printf '%s' "$SI" | grep -c .)" = 1 ] || { echo "South should hold exactly one receipt of north-to-south-1, it holds: ${SI:-none}"; exit 1; }
echo "South receives the goods (confirms the receipt); North links its invoice to the receipt as it takes it in,"
echo "and sends the link back at its next sync:"
south record put invoice "{\"id\":\"$SI\",\"status\":\"confirmed\"}" >/dev/null
south run --remote --once >/dev/null
north run --remote --once >/dev/null
north run --remote --once >/dev/null
south run --remote --once >/dev/null
[ "$(north record get invoice north-to-south-1 | json_field linked_invoice_id)" = "$SI" ] ||
	{ echo "North's invoice north-to-south-1 is not linked to South's receipt $SI"; exit 1; }
echo "North's invoice north-to-south-1: linked to $SI, received at $(north record get invoice north-to-south-1 | json_field received_at)"
[ "$(north transfer list --output json)" = "$(south transfer list --output json)" ] ||
	{ echo "North and South list the transfer differently"; exit 1; }
echo "North and South list the same transfer:"
north transfer list

say "central server: master data changes reach every remote"
central record put item '{"id":"item-001","name":"Essential medicine 1 (new pack)"}' >/dev/null
north run --remote --once >/dev/null
south run --remote --once >/dev/null
echo "North sees: $(north record get item item-001 | grep '"name"')"
echo "South sees: $(south record get item item-001 | grep '"name"')"

say "what moved where: invoices and stock lines on each datafile"
for df in central north south; do
	printf '%-8s invoices: %s\n' "$df" "$($df record list invoice --output json | grep -o '"id": "[^"]*"' | cut -d'"' -f4 | xargs)"
	printf '%-8s stock lines: %s\n' "$df" "$($df record list stock_line --output json | grep -o '"id": "[^"]*"' | cut -d'"' -f4 | xargs)"
done

say "checksums: each remote agrees with the central server on what it holds"
for site in north:N1 south:S1; do
	df=${site%%:*} store=${site##*:}
	a=$(central record checksum --store "$store" --output json)
	b=$($df record checksum --store "$store" --output json)
	[ "$a" = "$b" ] && echo "$df: store $store data agrees with central" || { echo "$df: store $store data DIFFERS"; exit 1; }
	a=$(central record checksum --output json | tr -d ' \n' | grep -o '"item":{[^}]*}')
	b=$($df record checksum --output json | tr -d ' \n' | grep -o '"item":{[^}]*}')
	[ "$a" = "$b" ] && echo "$df: master data (items) agrees with central" || { echo "$df: items DIFFER"; exit 1; }
done

say "central server: sync status of the sites"
central sync status

say "stop the server cleanly"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
SERVER_PID=
tail -n 1 server.log
echo "demo finished"
