"""The MkDocs hook (mkdocs.yml `hooks:`): the generated pages join the site's files, built
from the project as it is at build time; nothing is written into docs/."""

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from scripts.docsite.benchmarks import benchmarks_page
from scripts.docsite.reference import recipes_page
from scripts.project.layout import Project

RECIPES_PAGE = "reference/recipes.md"
BENCHMARKS_PAGE = "benchmarks.md"


def on_files(files: Files, config: MkDocsConfig) -> Files:
    project = Project.of_tooling()
    for page, content in (
        (RECIPES_PAGE, recipes_page(project.root)),
        (BENCHMARKS_PAGE, benchmarks_page(project)),
    ):
        files.append(File.generated(config, page, content=content))
    return files
