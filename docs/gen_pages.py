"""mkdocs-gen-files script: every page pipeline-docs generates, from ./pipeline-docs.yml."""

from generator.site import write_with_gen_files

write_with_gen_files()
