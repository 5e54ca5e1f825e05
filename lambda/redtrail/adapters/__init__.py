"""Adapters: one module per AWS service, with typed clients; ``ClientError`` becomes a redtrail error here."""
