"""The replay benchmark's topology is the leading part of the reference topology."""

from __future__ import annotations

from bench import capture_gen, gen_topology


def test_leading_hosts_are_those_of_the_large_topology() -> None:
    large = gen_topology.generate_topology(250, 5000, 60, 8, 4, seed=3)
    small = gen_topology.leading_hosts(20, 250, 5000, 60, 8, 4, seed=3)
    assert small["hosts"] == large["hosts"][:20]
    assert small["guests"] == large["guests"][: len(small["guests"])]
    assert len(small["guests"]) == 400
    assert small["policy"] == large["policy"]
    assert small["endpoints"] == large["endpoints"]
    for a, b in zip(small["routers"][1:], large["routers"][1:], strict=True):
        assert a == b  # the routers of the guest VLANs
    # Every endpoint of a capture made from the small topology is a guest of the large one.
    eps = capture_gen.topology_endpoints(small, every=True)
    large_eps = set(capture_gen.topology_endpoints(large, every=True))
    assert eps and set(eps) <= large_eps
