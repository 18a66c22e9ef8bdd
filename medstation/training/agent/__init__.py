"""The training agent: a machine (e.g. one with a GPU) that claims queued training runs from the clinic database.

:mod:`.claims` holds the database side (claim with ``FOR UPDATE SKIP LOCKED``, heartbeat,
requeue of runs whose agent went quiet); :mod:`.agent` runs a claimed run in the ordinary
training worker (``medstation train-worker``), heartbeats while it trains, then copies the
candidate into the shared data root and registers it there.
"""
