"""Names of an index folder's files, and where the commands look for the folder.

Kept apart (no imports) so the CLI's option parsing, the error messages and the stores can all
name the same files without loading the package behind them.
"""

INDEX_ENV = "QA_INDEX"
DEFAULT_INDEX = "index"
DB_FILE = "index.sqlite"
CONFIG_FILE = "config.json"
