"""The independent plan checker's checks, one module per concern (see :mod:`bioplan.results.checker`)."""
