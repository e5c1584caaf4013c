"""The exceptions market-tagger raises for problems a user can fix.

Each message is one line that says what is wrong and how to fix it; the CLI prints it as is.
"""


class TaggerError(Exception):
    """A problem the user can fix; the message says how."""


class InputError(TaggerError):
    """A bad input file or record (the message names file, line and field)."""


class StoreError(TaggerError):
    """The database cannot be opened or written."""


class PriceError(TaggerError):
    """Prices could not be fetched or imported."""


class NetworkError(TaggerError):
    """A remote service could not be reached."""
