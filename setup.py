"""Build glue that pyproject.toml cannot express; everything else lives there.

The page scripts stay in the top-level ``pages/`` folder beside ``viewer/`` (the design's
layout), but a wheel must carry them: they are installed as the mapped package
``viewer._pages`` (a folder of scripts that nothing imports; viewer/nav.py finds it by
path). Not ``viewer/pages``: a ``pages/`` folder beside the entry script would switch
Streamlit into its older pages-directory mode. Packages are found like pyproject's
default ``find`` (namespace packages included) so new sub-packages ship without edits.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=find_namespace_packages(include=["engine*", "viewer*"]) + ["viewer._pages"],
    package_dir={"viewer._pages": "pages"},
)
