"""charrnn: character-level RNN, LSTM and GRU language models written directly in NumPy.

The package is a library first; `charrnn.cli` is a thin command line over it. Importing
`charrnn` loads only NumPy and the standard library.
"""

__version__ = "0.1.0"
