"""The proxy's one database: the usage ledger and the runtime state share it.

A SQLite file under the data directory by default, a PostgreSQL database when
``ledger.dsn`` is set (several replicas). Each store opens its own connection and
applies pending migrations at open; the migration sequence is one for the whole
database, so whichever store opens first migrates and the others find it done.

location.py    settings -> the SQLite file (one name for every store)
migrations/    numbered SQL files per backend, one sequence for ledger and state
sqlite.py      a connection on its own thread (and one for inline commits), WAL, migrate
postgres.py    connect and migrate (psycopg 3, async)
"""
