"""Ask a folder of news articles questions and get cited sentences back."""

__version__ = "0.1.0"
