"""wijkkompas: neighbourhood monitoring for Dutch municipalities (first: Almelo, GM0141)."""

__version__ = "0.1.0"
