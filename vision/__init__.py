"""Garment photos in, numbers out: a plain library (no Django, no database).

images, detect and quality need only PIL and numpy, so the web process can use them; registry,
embed and analyze need torch and run in workers. Importing this package imports neither.
"""
