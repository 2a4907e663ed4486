"""Wire-protocol codecs: each maps one protocol to and from `modelrouter.ir`."""
