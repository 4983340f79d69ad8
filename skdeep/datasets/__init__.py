"""Small real datasets bundled with skdeep (no download at run time).

Each file's source, citation and license sit beside it in ``skdeep/datasets/data/``.
"""

from skdeep.datasets._adult import load_adult
from skdeep.datasets._sms_spam import load_sms_spam
from skdeep.datasets._tiny_shakespeare import load_tiny_shakespeare

__all__ = ["load_adult", "load_sms_spam", "load_tiny_shakespeare"]
