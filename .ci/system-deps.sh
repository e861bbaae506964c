#!/bin/sh
# Installs the system programs netseg and its tests use, only where missing:
# Graphviz `dot` (diagrams), tshark (capture cross-checks), Chromium (report browser test),
# Go with govmomi's vCenter simulator (vcenter importer tests), virsh (libvirt importer tests),
# ovsdb-server/ovs-vsctl (OVS importer tests).
set -e
missing=""
command -v dot >/dev/null 2>&1 || missing="$missing graphviz"
command -v tshark >/dev/null 2>&1 || missing="$missing tshark"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v go >/dev/null 2>&1 || missing="$missing golang-go"
[ -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ] || missing="$missing golang-github-vmware-govmomi-dev"
command -v virsh >/dev/null 2>&1 || missing="$missing libvirt-clients"
command -v ovsdb-server >/dev/null 2>&1 || missing="$missing openvswitch-switch"
command -v nft >/dev/null 2>&1 || missing="$missing nftables"
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if command -v apt-get >/dev/null 2>&1; then
    echo "installing:$missing"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
elif command -v brew >/dev/null 2>&1; then
    brew install graphviz wireshark chromium go libvirt openvswitch || true
else
    echo "please install with your package manager:$missing" >&2
fi
