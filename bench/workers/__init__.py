"""Worker entry points run under the peers' own interpreters."""
