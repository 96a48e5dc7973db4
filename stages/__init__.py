"""One typer command per DVC stage (`ailab COMMAND`), each a thin wrapper around the ailab library."""
