"""`pipeline-docs init`: what a pipeline's folders hold, guessed, and a project written for it.

walk.py        the folders given (or git URLs, cloned into the cache), walked with bounds
schemas.py     which folder holds the pipeline's JSON Schemas (never a test suite's cases)
templates.py   GitLab components, GitHub actions and reusable workflows: the folders to name
envrepos.py    env repos and their environments: environment.yml, Flux clusters, root overlays
promotion.py   the promotion order guessed from the environments' names
plan.py        all of it guessed together: unique environment names, families, the order
project.py     the files written (templates/*.j2): pipeline-docs.yml, mkdocs.yml, owners.yml,
               a starter guide; the checks run once, and the rules lowered to warning
"""
