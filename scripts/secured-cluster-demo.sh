#!/usr/bin/env bash
# The README's secured cluster, run for real (root, iproute2, openssl, curl, mosquitto_passwd): three nodes in
# network namespaces of their own (10.201.0.11-13, joined by a bridge in a fourth), plus a node without the broker's
# password (.15) and one with another cluster key (.14). Prints what happens; removes every namespace at the end.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
motey=$root/host/bin/Release/net10.0/motey
[ -x "$motey" ] || dotnet build "$root/host" -c Release -nologo -clp:ErrorsOnly
D=/tmp/motey-demo; rm -rf $D; mkdir -p $D; cd $D
cleanup() { for n in 11 12 13 14 15; do ip netns exec d$n $motey stop --config $D/$n/config.ini >/dev/null 2>&1; ip netns del d$n 2>/dev/null; done; ip netns del dhub 2>/dev/null; }
cleanup
ip netns add dhub; ip -n dhub link add br0 type bridge; ip -n dhub link set br0 up
for n in 11 12 13 14 15; do
  ip netns add d$n; ip -n d$n link set lo up
  ip link add eth0 netns d$n type veth peer name p$n netns dhub
  ip -n d$n addr add 10.201.0.$n/24 dev eth0; ip -n d$n link set eth0 up
  ip -n dhub link set p$n master br0; ip -n dhub link set p$n up
done
echo "### secrets, as the README makes them"
$motey keys generate --out cluster.key
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 -subj /CN=fog-ca -keyout ca.key -out ca.pem 2>/dev/null
for ip in 10.201.0.11 10.201.0.12 10.201.0.13 10.201.0.14 10.201.0.15; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=$ip -keyout $ip.key -out $ip.csr 2>/dev/null
  openssl x509 -req -in $ip.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 -extfile <(printf 'subjectAltName=IP:%s' $ip) -out $ip.pem 2>/dev/null
done
broker_password=$(openssl rand -hex 16)
mosquitto_passwd -b -c passwd fog "$broker_password"
ADMIN=$(openssl rand -hex 24); READ=$(openssl rand -hex 24)
printf 'admin %s\nread %s\n' "$ADMIN" "$READ" > tokens
chmod 600 cluster.key tokens passwd *.key
conf() { # node, key file, password, extra
  mkdir -p $D/$1
  cat > $D/$1/config.ini <<INI
[WEBSERVER]
ip = 10.201.0.$1
tokens = $D/tokens
tls_certificate = $D/10.201.0.$1.pem
tls_key = $D/10.201.0.$1.key
[MQTT]
broker = external
ip = 10.201.0.11
port = 8883
keepalive = 5
tls = true
ca_file = $D/ca.pem
username = fog
password = $3
[ZEROMQ]
cluster_key = $2
[PROCESS]
allowed_executables = /usr/bin/sleep
$4
INI
  chmod 600 $D/$1/config.ini
}
conf 11 $D/cluster.key "$broker_password" ""
sed -i "s/^broker = external/broker = embedded\ntls_certificate = ${D//\//\\/}\/10.201.0.11.pem\ntls_key = ${D//\//\\/}\/10.201.0.11.key\npassword_file = ${D//\//\\/}\/passwd/" $D/11/config.ini
conf 12 $D/cluster.key "$broker_password" ""
conf 13 $D/cluster.key "$broker_password" ""
echo "### start"
for n in 11 12 13; do ip netns exec d$n $motey start --config $D/$n/config.ini; done
c() { local from=$1; shift; ip netns exec d$from curl -s --cacert $D/ca.pem "$@"; }
echo "### curl without a token"; c 12 -i https://10.201.0.11:5023/v1/nodes | sed -n '1p;/^{/p'
echo; echo "### with the admin token"; c 12 -H "Authorization: Bearer $ADMIN" https://10.201.0.11:5023/v1/nodes; echo
echo "### only .13 has lab"; c 13 -X PUT -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' -d '[{"capability":"lab","capability_type":"hardware"}]' -o /dev/null -w '%{http_code}\n' https://10.201.0.13:5023/v1/capabilities
echo "### post to .11 with the read token"; printf 'service_name: remote\nimages:\n- name: sleep\n  engine: process\n  parameters: {args: [86401]}\n  capabilities: [lab]\n' > bp.yaml
c 12 -X POST -H "Authorization: Bearer $READ" -H 'Content-Type: application/x-yaml' --data-binary @bp.yaml -o /dev/null -w '%{http_code}\n' https://10.201.0.11:5023/v1/service
echo "### post with the admin token"; c 12 -X POST -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/x-yaml' --data-binary @bp.yaml https://10.201.0.11:5023/v1/service; echo
sleep 4; c 12 -H "Authorization: Bearer $ADMIN" https://10.201.0.11:5023/v1/service; echo
for pid in $(pgrep -f '^/usr/bin/sleep 86401$'); do echo "process table: pid $pid '$(tr '\0' ' ' < /proc/$pid/cmdline)' in netns $(ip netns identify $pid), uid $(awk '/^Uid/{print $2}' /proc/$pid/status)"; done
echo "### a node without the broker's password (.15)"
conf 15 $D/cluster.key "wrong-password" ""
ip netns exec d15 $motey start --config $D/15/config.ini; echo "exit $?"
echo "### a node with the login but another cluster key (.14)"
$motey keys generate --out $D/other.key >/dev/null
conf 14 $D/other.key "$broker_password" ""
ip netns exec d14 $motey start --config $D/14/config.ini
sleep 2
printf 'service_name: impostor\nimages:\n- name: sleep\n  engine: process\n  parameters: {args: [86402]}\n  capabilities: [lab]\n' > bp2.yaml
c 14 -X POST -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/x-yaml' --data-binary @bp2.yaml -o /dev/null -w '%{http_code}\n' https://10.201.0.14:5023/v1/service
sleep 10
c 14 -H "Authorization: Bearer $ADMIN" https://10.201.0.14:5023/v1/service; echo
echo "sleep 86402 processes: $(pgrep -fc '^/usr/bin/sleep 86402$')"
grep -h "CURVE\|handshake" $D/1[123]/logs/motey.log | head -3
echo "### status of .13"; ip netns exec d13 $motey status --config $D/13/config.ini
echo "### delete the service: its instance on .13 ends (process instances outlive their agent, so stop it first)"
id=$(c 12 -H "Authorization: Bearer $ADMIN" https://10.201.0.11:5023/v1/service | grep -o '"id":"[0-9a-f]\{32\}"' | head -1 | cut -d'"' -f4)
c 12 -X DELETE -H "Authorization: Bearer $ADMIN" -o /dev/null -w '%{http_code}\n' https://10.201.0.11:5023/v1/service/$id
for _ in $(seq 50); do pgrep -f '^/usr/bin/sleep 86401$' >/dev/null || break; sleep 0.2; done
echo "sleep 86401 processes: $(pgrep -fc '^/usr/bin/sleep 86401$')"
cleanup
