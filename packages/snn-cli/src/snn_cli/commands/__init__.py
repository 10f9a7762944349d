"""The ``snn`` subcommands, one module per group."""
