"""What the export command lines share."""

from __future__ import annotations

import argparse

from keras_drn.cli.quiet import HelpFormatter
from keras_drn.cli.quiet import import_tensorflow


def export_parser(doc: str) -> argparse.ArgumentParser:
    """The parser of an export command: its description (the first paragraph of
    `doc`), each default shown once, and the model arguments (`--arch`, `--classes`,
    `--weights`, ...; `keras_drn.export.arguments`). TensorFlow, which
    `keras_drn.export` imports, is imported quietly first.

    Args:
        doc: the command module's docstring.

    Returns:
        The `argparse.ArgumentParser`, for the command to add its own arguments to.
    """
    import_tensorflow()
    from keras_drn.export import arguments

    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                     formatter_class=HelpFormatter)
    arguments.add_model_arguments(parser)
    return parser
