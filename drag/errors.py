"""The one exception type the pack raises for bad user input."""


class DragInputError(ValueError):
    """A user input is unusable. The message names the input, the offending value and the fix.

    ComfyUI shows the message of an exception raised by a node in its error dialog, so the text is
    written for a person wiring a workflow, not for a programmer.
    """


# ComfyUI shows an error as "<module>.<class>: message", and it imports a node pack under a module
# named after the pack's folder path, which would put a path of the user's disk in front of every
# message. Give the type one short, stable name instead.
DragInputError.__module__ = "drag_editing"


def shown(value: object, limit: int = 80) -> str:
    """``value`` as a message quotes it: its text, cut to ``limit`` characters with the full length said
    (a pasted 5 MB string must not come back in every error response)."""
    text = str(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text):,} characters)"
