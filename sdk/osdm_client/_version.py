"""The SDK's own version, independent of the platform's: bump it on every release of `osdm-client`."""

__version__ = "0.1.0"
