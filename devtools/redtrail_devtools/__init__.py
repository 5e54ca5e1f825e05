"""redtrail's dev tools: ``redtrail local`` (the real stack on an embedded local AWS) and ``make demo``.

Not part of the function or of a plain ``pip install redtrail``: they need moto and a checkout of the
repository (the CDK app, its CLI in ``node_modules``, the sample trail files).
"""
