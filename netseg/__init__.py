"""netseg: virtual-network segmentation analyser for type 1 hypervisors."""

__version__ = "1.0.0"
