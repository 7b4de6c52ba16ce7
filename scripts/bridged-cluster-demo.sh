#!/usr/bin/env bash
# The README's "More than one broker", run for real on loopback (mosquitto, curl): two mosquittos bridged to each other
# (127.0.50.1 and 127.0.50.2, mosquitto's own bridge), node .11 on the first, nodes .21 and .22 on the second, each
# listing both brokers. Shows membership and placement across the bridge, a kill -9 seen across it, and the nodes of
# the second broker going on through the first when the second dies. Prints what happens; stops everything at the end.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
motey=$root/host/bin/Release/net10.0/motey
[ -x "$motey" ] || dotnet build "$root/host" -c Release -nologo -clp:ErrorsOnly
D=/tmp/motey-bridge-demo
B1=127.0.50.1; B2=127.0.50.2
cleanup() {
  for n in 11 21 22; do [ -f $D/$n/config.ini ] && $motey stop --config $D/$n/config.ini >/dev/null 2>&1; done
  for b in 1 2; do [ -f $D/mosquitto-$b.pid ] && kill "$(cat $D/mosquitto-$b.pid)" 2>/dev/null; done
  sleep 0.5
}
cleanup; rm -rf $D; mkdir -p $D; cd $D

printf 'listener 1883 %s\nallow_anonymous true\npersistence false\n' $B1 > mosquitto-1.conf
printf 'listener 1883 %s\nallow_anonymous true\npersistence false\nconnection to-first\naddress %s:1883\ntopic motey/# both 0\ncleansession true\nrestart_timeout 1\n' $B2 $B1 > mosquitto-2.conf
echo "### two mosquittos; the second bridges motey/# both ways to the first"
sed -n '4,8p' mosquitto-2.conf
for b in 1 2; do mosquitto -c mosquitto-$b.conf > mosquitto-$b.log 2>&1 & echo $! > mosquitto-$b.pid; done
sleep 1

node() { # last octet, brokers
  mkdir -p $D/$1
  printf '[WEBSERVER]\nip = 127.0.50.%s\n[MQTT]\nbroker = external\nip = %s\nbrokers = %s\nkeepalive = 5\nreconnect_max = 1\n[ZEROMQ]\ncapability_engine_ipc_path = tcp://127.0.50.%s:5090\nrequest_timeout = 2\n[PROCESS]\nallowed_executables = /bin/sleep, /usr/bin/sleep\n' \
    $1 "${2%%:*}" "$2" $1 > $D/$1/config.ini
  $motey start --config $D/$1/config.ini | tail -n 1 | tee $D/$1/started
}
echo; echo "### node .11 on the first broker, .21 and .22 on the second (each lists the other broker second)"
node 11 "$B1:1883, $B2:1883"
node 21 "$B2:1883, $B1:1883"
node 22 "$B2:1883, $B1:1883"
sleep 3
for n in 11 21 22; do echo "127.0.50.$n lists: $(curl -s http://127.0.50.$n:5023/v1/nodes | grep -o '"ip":"[^"]*"' | cut -d'"' -f4 | tr '\n' ' ')"; done

echo; echo "### only .22 (second broker) has 'lab'; a service posted to .11 (first broker) runs there"
$motey capability add lab --type hardware --config $D/22/config.ini
sleep 1
printf 'service_name: across\nimages:\n- name: sleep\n  engine: process\n  parameters: {args: [300]}\n  capabilities: [lab]\n' |
  curl -s -X POST -H 'Content-Type: application/x-yaml' --data-binary @- http://127.0.50.11:5023/v1/service > service.json
id=$(grep -o '"id":"[^"]*"' service.json | head -n 1 | cut -d'"' -f4)
for i in $(seq 1 50); do curl -s http://127.0.50.11:5023/v1/service/$id | grep -q '"state":"RUNNING"' && break; sleep 0.2; done
curl -s http://127.0.50.11:5023/v1/service/$id | grep -o '"node":"[^"]*"\|"state":"[^"]*"' | tr '\n' ' '; echo
pid=$(curl -s http://127.0.50.11:5023/v1/service/$id | grep -o '"id":"[0-9]*-[^"]*"' | head -n 1 | cut -d'"' -f4 | cut -d- -f1)
echo "ps: $(ps -o pid=,args= -p "$pid") (cwd $(readlink /proc/$pid/cwd))"
curl -s -o /dev/null -w "DELETE -> %{http_code}\n" -X DELETE http://127.0.50.11:5023/v1/service/$id
for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
kill -0 "$pid" 2>/dev/null && echo "process $pid still runs" || echo "process $pid is gone"

echo; echo "### the second broker dies: .21 and .22 go on through the first"
kill "$(cat $D/mosquitto-2.pid)"
for i in $(seq 1 50); do grep -q "Joined the cluster through the MQTT broker at $B1" $D/22/logs/motey.log 2>/dev/null && break; sleep 0.2; done
grep -h "Joined the cluster through\|Lost the MQTT broker" $D/21/logs/*.log $D/22/logs/*.log 2>/dev/null | cut -c1-200
sleep 2
for n in 11 21 22; do echo "127.0.50.$n lists: $(curl -s http://127.0.50.$n:5023/v1/nodes | grep -o '"ip":"[^"]*"' | cut -d'"' -f4 | tr '\n' ' ')"; done

echo; echo "### kill -9 of .21: the others drop it (its last will)"
kill -9 "$(grep -o 'pid [0-9]*' $D/21/started | tr -dc 0-9)"
sleep 3
for n in 11 22; do echo "127.0.50.$n lists: $(curl -s http://127.0.50.$n:5023/v1/nodes | grep -o '"ip":"[^"]*"' | cut -d'"' -f4 | tr '\n' ' ')"; done
cleanup
