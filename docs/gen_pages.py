"""mkdocs-gen-files script: every page pipeline-docs generates from ./pipeline-docs.yml, and the
facts the guides quote (written into the cache, where pymdownx.snippets reads them)."""

from generator.site import write_with_gen_files

write_with_gen_files()
