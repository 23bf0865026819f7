"""Building blocks of `python -m edge_models.eval`: pair lists, labelled photos, metrics, cached embeddings."""
