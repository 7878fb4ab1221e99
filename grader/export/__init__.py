"""Reports in other tools' formats (one module per tool)."""
