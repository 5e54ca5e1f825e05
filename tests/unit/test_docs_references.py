"""The docs name the tests that prove their claims: each named test exists."""

import re

from tests.support import TESTS

REPO = TESTS.parent
REFERENCE = re.compile(r"(tests/[\w/]+\.py)::(\w+)")


def test_every_test_the_docs_name_exists() -> None:
    # Given every `tests/…py::test_name` reference in the README and docs/
    documents = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    references = {(doc.name, path, name) for doc in documents for path, name in REFERENCE.findall(doc.read_text())}
    # Then each names a file that defines that test
    missing = [
        f"{doc}: {path}::{name}"
        for doc, path, name in sorted(references)
        if not (REPO / path).is_file() or not re.search(rf"^def {name}\(", (REPO / path).read_text(), re.MULTILINE)
    ]
    assert len(references) > 50
    assert missing == []
