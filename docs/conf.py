"""Sphinx configuration for the skdeep documentation.

Build with ``make docs`` or ``tox -e docs`` (both run
``sphinx-build -W --keep-going -b html docs docs/_build/html``: warnings are errors).
The API stubs in ``api/generated/`` are written by autosummary on every build (the folder
is git-ignored). No extension here needs the network.
"""

import os
import sys

# Import skdeep from this checkout even when it is not installed.
sys.path.insert(0, os.path.abspath(".."))

import skdeep

project = "skdeep"
author = "the skdeep developers"
copyright = "the skdeep developers"
version = skdeep.__version__
release = skdeep.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
nitpicky = False

# --- autodoc / autosummary / numpydoc -----------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"
autodoc_member_order = "bysource"
# numpydoc would add its own member tables; the autosummary templates list the methods.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# --- matplotlib plot directive -----------------------------------------------------------
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]

# --- HTML ---------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"skdeep {release}"
html_theme_options = {
    "description": "Deep-learning estimators that behave like scikit-learn's",
    "fixed_sidebar": True,
}
