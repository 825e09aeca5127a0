"""Recommendation library: plain numpy and Annoy, no Django, no database.

index (build, load, search Annoy indexes; manifest; centring), suggest (complete the look from the
stylists' library), evaluate (offline metrics). Callers pass embeddings and database keys in and get
keys and small frozen dataclasses back; only the outfits app knows about rows.
"""
