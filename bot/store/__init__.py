"""The bottom layer: the database engine, the tables (SQLAlchemy models) and their
migrations. Imports nothing of ``bot`` but :mod:`bot.settings`."""
