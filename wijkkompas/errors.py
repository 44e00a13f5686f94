"""The one exception type the command line turns into a clear message."""


class WijkkompasError(Exception):
    """A problem the user can act on; the message is Dutch and names the file or table."""
