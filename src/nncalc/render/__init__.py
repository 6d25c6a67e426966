"""Machine formats and figures: JSON, JSON Lines and CSV (``data``, ``csv_stream``), network
diagrams (``diagram``), and the one number formatter every notation uses (``numbers``).

Pages a person reads are built by :mod:`nncalc.worked` and written by :mod:`nncalc.notation`.
Nothing here imports Rich, so that machine formats load nothing they do not need.
"""
