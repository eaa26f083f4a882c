"""Roundtable's whole non-UI layer: schema, database, commands, queries and formats.

Nothing here imports streamlit: pages and the `roundtable` CLI are thin shells over it.
"""
