"""Sphinx configuration for the skdeep documentation.

Build with ``make docs`` or ``tox -e docs`` (both run
``sphinx-build -E -W --keep-going -b html docs docs/_build/html``: warnings are errors;
-E rereads every page, since an incremental build can miss warnings).
The API stubs in ``api/generated/`` are written by autosummary on every build (the folder
is git-ignored). No extension here needs the network.
"""

import os
import re
import sys

# The project's thread policy (user_guide/threads): what the project runs itself, here the
# plot directive's code, trains in one torch thread. Set before torch is first imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")

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
# e.g. skdeep.nn.MLP.forward would otherwise show torch.nn.Module.forward's docstring.
autodoc_inherit_docstrings = False
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


# --- build hooks ---------------------------------------------------------------------------
# Members the estimators inherit from scikit-learn whose docstrings link into
#    scikit-learn's own documentation (:ref:`metadata_routing`, :ref:`accuracy_score`,
#    :term:`meta-estimator`), which cannot resolve here. The metadata-routing plumbing
#    (set_*_request, get_metadata_routing) and ``set_output`` (explained in the VAE user
#    guide) are left out; ``score`` is described in the estimator template instead.
_SKLEARN_PLUMBING = re.compile(r"set_\w+_request|get_metadata_routing|set_output")


def _skip_sklearn_plumbing(app, what, name, obj, skip, options):
    if _SKLEARN_PLUMBING.fullmatch(name):
        return True
    if name == "score" and getattr(obj, "__module__", "").startswith("sklearn."):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_plumbing)
