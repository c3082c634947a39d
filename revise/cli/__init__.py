"""The `revise` command: `main` (the parser and error handling), `args` (argument types), one
module per group of subcommands. Nothing here imports torch until a subcommand runs."""
