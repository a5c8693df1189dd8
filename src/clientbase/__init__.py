"""clientbase: a self-hosted customer knowledge and loyalty platform."""

__version__ = "0.1.0"
