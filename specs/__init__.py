"""convspec: executable specifications of convolution claims (see README.md)."""

__version__ = "0.1.0"
