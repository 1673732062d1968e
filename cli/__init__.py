"""The ``mlops`` command line: the same commands against the local cloud and against AWS."""
