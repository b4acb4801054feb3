"""archfeed: a command-line feed aggregator.

Owns: the version string. Never imports anything, so that `archfeed --version` stays fast.
"""

__version__ = "0.1.0"
