"""picsift: search and explore the images of social-media research corpora."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("picsift")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
