"""Building blocks of `python -m model_lab.eval`: pair lists, labelled photos, metrics, cached embeddings."""
