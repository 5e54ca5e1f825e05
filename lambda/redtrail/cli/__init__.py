"""The ``redtrail`` command line (``redtrail.cli.main``); boto3 is imported only by commands that call AWS."""
