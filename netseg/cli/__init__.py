"""The command line: argument parsing and exit codes only. Every command is a thin shell
over the library; see :mod:`netseg.cli.main`."""
