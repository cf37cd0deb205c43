"""recscope engine: everything that runs without a browser.

Imports point one way: pages -> viewer -> engine. Nothing here imports Streamlit.
"""

__version__ = "0.1.0"
