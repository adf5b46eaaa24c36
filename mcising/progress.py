"""Progress bars on stderr for long work, quiet for short work.

Library code asks :func:`progress_bar` for a bar and updates it; whether one is shown
follows the ``progress`` argument that every long-running function accepts: ``True``
always, ``False`` never, ``None`` (default) only when the work is expected to take
longer than :data:`AUTO_SECONDS`.
"""

import sys

from tqdm.auto import tqdm

__all__ = ["AUTO_SECONDS", "progress_bar"]

# Work predicted to take longer than this gets a bar when progress=None.
AUTO_SECONDS = 1.0


def progress_bar(total, desc, *, progress=None, expected_seconds=0.0, unit="it"):
    """Return a tqdm bar, disabled unless ``progress`` (or the expected time) asks for it.

    Parameters
    ----------
    total : int or float
        Units of work.
    desc : str
        Label shown before the bar.
    progress : bool or None
        ``True`` shows the bar, ``False`` hides it, ``None`` decides from
        ``expected_seconds``.
    expected_seconds : float
        Predicted duration of the work.
    unit : str
        Name of one unit of work.
    """
    show = expected_seconds > AUTO_SECONDS if progress is None else bool(progress)
    if not show:
        return _QuietBar(total)
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=sys.stderr,
                leave=False, dynamic_ncols=True)


class _QuietBar:
    """A bar that shows nothing: the part of tqdm's interface mcising uses, for free.

    A disabled tqdm bar still costs tens of microseconds to create, which matters for
    the many short calls of a sweep over small networks.
    """

    def __init__(self, total):
        self.total = total
        self.n = 0

    def update(self, n=1):
        """Count ``n`` more units of work."""
        self.n += n

    def set_postfix(self, *args, **kwargs):
        """Accept and ignore the status fields."""

    def close(self):
        """Do nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
