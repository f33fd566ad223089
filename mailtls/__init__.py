"""mailtls: why an iPhone says "Cannot Verify Server Identity" for a mail server, and the fix.

Layers point one way (a test enforces it):

    model, errors          vocabulary: pure values, no I/O
    probe/, analysis/, dns engines: probe talks to servers; analysis judges data only
    service, report/, remedy/, lab/   use cases
    cli, commands/, tui/   front ends (only tui/ imports textual)
"""

__version__ = "0.1.0"
