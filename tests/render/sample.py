"""One small design with findings of several severities, one waived, one overridden."""

from __future__ import annotations

import netseg
from netseg.analysis import Analysis, analyse

SAMPLE = """\
netseg: 1
name: sample
zones:
  web: {}
policy:
  severity:
    native-vlan-1: info
  waivers:
    - {rule: guest-vlan-trunking, subject: "portgroup:esx01/vSwitch1/sniffer", why: "IDS sensor, ticket SEC-1234"}
switches:
  - name: tor1
    ports:
      - {name: Eth1/1, mode: trunk, allowed: "10-99"}
hosts:
  - name: esx01
    hypervisor: esxi
    iommu: false
    nics:
      - {name: vmnic0, switch: tor1, port: Eth1/1}
    vswitches:
      - name: vSwitch1
        type: standard
        uplinks: [vmnic0]
        security: {promiscuous: false, mac_changes: false, forged_transmits: false}
        portgroups:
          - {name: prod, vlan: 10}
          - {name: sniffer, vlan: 4095}
guests:
  - name: web01
    host: esx01
    zone: web
    passthrough: ["0000:03:00.0"]
    nics:
      - {portgroup: prod, address: 198.51.100.21/24}
      - {portgroup: sniffer}
"""


def sample(file: str = "topologies/sample.yaml") -> Analysis:
    return analyse(netseg.loads(SAMPLE, file=file))
