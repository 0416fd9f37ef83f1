"""The corpus: reading text into ids (corpus.py) and cutting ids into BPTT windows (batching.py)."""
