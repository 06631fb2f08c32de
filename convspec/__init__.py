"""convspec: executable specifications of convolution (see README.md and docs/).

The engine is this package; the built-in claims are :mod:`convspec.specs` (the folder ``specs/`` of a
checkout).  Folders by stage: ``model``, ``drawing``, ``backends``, ``isolation``, ``truth``, ``search``,
``reporting``; the front doors (``cli``, ``plugin``, ``gate``, ``audit``, ``fuzz``, ``vectors``,
``options``, ``claims``) stand at the top.
"""

__version__ = "0.1.0"
