"""``optout-bot content watch``: fetch every pack's sources, keep a snapshot of each main text, report changes.

``fetch`` reads pages politely, ``extract`` keeps the main text, ``watch`` compares with the stored
snapshots (the ``SourceSnapshots`` port) and words the report, ``daily`` runs it in ``optout-bot run``.
"""
